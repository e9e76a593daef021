"""Instructions per training step, counted by valgrind: a measure of per-step overhead that, unlike time,
does not move when other processes share the CPU.

    python benchmarks/instructions.py                         # this tree vs the engine before the speed work
    python benchmarks/instructions.py --commits 4e49ba7,3cf3df9,HEAD --cases a,d

For the tiny networks (cases a and d) a step is ~50 NumPy calls on small arrays, so its cost is call
overhead, which instruction counts capture well. Each count is the difference between two runs (E epochs
and 0 epochs, same imports and warm-up), divided by the number of steps. Needs `valgrind` on PATH; takes
about a minute per (commit, case).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases as cases_mod  # noqa: E402

EPOCHS = {"a": 20, "d": 300}  # steps: a has 5 per epoch (300 examples, batch 64), d one (full batch)


def probe(key: str, framework: str, epochs: int, data: str) -> None:
    """Worker (run under valgrind): train `epochs` epochs after a one-epoch warm-up."""
    from dataclasses import replace

    import numpy as np
    import peers

    arrays = np.load(data)
    X, y = arrays["X"], arrays["y"]
    case = cases_mod.CASES[key]
    peers.prepare(framework, replace(case, epochs=1), X, y)()
    if epochs:
        peers.prepare(framework, replace(case, epochs=epochs), X, y)()


def _count(key: str, framework: str, epochs: int, data: str, pythonpath: str | None) -> int:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, str(Path(__file__).resolve()), "--probe", key, framework, str(epochs), data]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in out.stderr.splitlines():
        if "I   refs:" in line or "I refs:" in line:
            return int(line.split(":")[1].strip().replace(",", ""))
    raise RuntimeError(f"valgrind failed for {key} {framework}:\n{out.stderr[-2000:]}")


def per_step(key: str, framework: str, data: str, pythonpath: str | None = None) -> float:
    epochs = EPOCHS[key]
    case = cases_mod.CASES[key]
    steps = epochs * (1 if case.batch is None else -(-case.m // case.batch))
    with ThreadPoolExecutor(2) as pool:
        full = pool.submit(_count, key, framework, epochs, data, pythonpath)
        base = pool.submit(_count, key, framework, 0, data, pythonpath)
        return (full.result() - base.result()) / steps


def _export(commit: str, target: Path) -> None:
    repo = HERE.parent
    archive = subprocess.run(["git", "archive", commit, "src/gradwise"], cwd=repo, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", default="4e49ba7,WORKTREE",
                        help="engine versions, oldest first; WORKTREE is the checked-out tree")
    parser.add_argument("--cases", default="a,d")
    parser.add_argument("--numpy", action="store_true", help="also count the reference NumPy loop (case a)")
    parser.add_argument("--append", type=Path, default=None,
                        help="append the table as a section to this markdown file (e.g. benchmarks/RESULTS.md)")
    parser.add_argument("--probe", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        key, framework, epochs, data = args.probe
        probe(key, framework, int(epochs), data)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="gradwise-instr-"))
    try:
        rows = []
        for key in args.cases.split(","):
            case = cases_mod.CASES[key]
            data = str(tmp / f"{key}.npz")
            X, y = cases_mod.make_data(case)
            np.savez(data, X=X, y=y)
            previous = None
            for commit in args.commits.split(","):
                path = None
                if commit != "WORKTREE":
                    target = tmp / commit
                    if not target.exists():
                        target.mkdir()
                        _export(commit, target)
                    path = str(target / "src")
                n = per_step(key, "gradwise", data, path)
                change = "" if previous is None else f"{100 * (n / previous - 1):+.0f}%"
                rows.append((f"({key})", f"gradwise {commit}", f"{n:,.0f}", change))
                print(f"({key}) gradwise {commit}: {n:,.0f} instructions per step {change}", flush=True)
                previous = n
            if args.numpy and case.kind == "adam":
                n = per_step(key, "numpy", data)
                rows.append((f"({key})", "reference NumPy loop", f"{n:,.0f}", ""))
                print(f"({key}) numpy loop: {n:,.0f} instructions per step", flush=True)
        table = ["| case | engine | instructions per step | change |", "|---|---|---|---|"]
        table += ["| " + " | ".join(row) + " |" for row in rows]
        print("\n" + "\n".join(table))
        if args.append is not None:
            command = " ".join(["python benchmarks/instructions.py", *(argv if argv is not None else sys.argv[1:])])
            section = ["", "## Instructions per training step (valgrind, independent of machine load)", "",
                       f"`{command}`: the difference between a run of E epochs and one of 0, divided by the "
                       "steps; one thread. Each engine is a commit of this repository (WORKTREE: the "
                       "checked-out tree).", "", *table, ""]
            with open(args.append, "a") as f:
                f.write("\n".join(section))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
