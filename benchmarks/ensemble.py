"""An ensemble of the course's networks: gradwise's `Ensemble.fit` against PyTorch's idiomatic ensemble.

    python benchmarks/ensemble.py                 # 32 members, 2,000 iterations, 3 interleaved repetitions
    python benchmarks/ensemble.py --reps 5 --write   # … and replace its section of RESULTS.md

The workload (issue 14): 32 networks 2-20-3-1 (ReLU, sigmoid output, binary cross-entropy), He
initialization, 300 examples (the circles of case (d)), full-batch gradient descent α = 0.1, 2,000
iterations, float64. Every member starts from the same weights in every framework: member k is
`gw.mlp([2, 20, 3, 1], init="he", seed=k)`'s initialization, copied into PyTorch.

- `gradwise`: `Ensemble(members).fit(X, y, workers=T)` — the members in T forked processes (T = --threads);
- `gradwise-sequential`: the same with `workers=1`, the 32 fits one after another in one process;
- `torch` / `torch@1`: PyTorch's model-ensembling recipe, `torch.func.stack_module_state` over the 32
  `nn.Sequential` and one `vmap(grad_and_value(loss))` call per iteration — every member's gradient in one
  batched pass — then θ ← θ − α·dθ on the stacked parameters; with --threads threads and with one.

Each measurement runs in a fresh process (imports and thread pools warmed up outside the timed region);
repetitions are interleaved and medians reported, as in `benchmarks/run.py`. Both frameworks record the cost of
every iteration. The final costs of gradwise and PyTorch are compared member by member (same start, same
arithmetic up to float64 rounding).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SIZES = [2, 20, 3, 1]
LEARNING_RATE = 0.1
FRAMEWORKS = ("gradwise", "gradwise-sequential", "torch", "torch@1")
GOAL_VS_TORCH = 0.4  # gradwise time / PyTorch's (the better of its thread settings)
SECTION = "## Ensemble of 32 course networks (`benchmarks/ensemble.py`)"


def data() -> tuple[np.ndarray, np.ndarray]:
    """The 300 circles of case (d) (scikit-learn's make_circles, noise 0.05, RandomState(1))."""
    from sklearn.datasets import make_circles

    X, y = make_circles(300, noise=0.05, random_state=np.random.RandomState(1))
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def members(k: int):
    import gradwise as gw

    return [gw.mlp(SIZES, hidden="relu", output="sigmoid", init="he", seed=s) for s in range(k)]


# ================================================================================== worker side
def _gradwise(k: int, iterations: int, workers: int):
    import gradwise as gw

    X, y = data()
    ensemble = gw.Ensemble(members(k))
    gw.Ensemble(members(2)).fit(X, y, epochs=2, learning_rate=LEARNING_RATE, workers=min(2, workers))  # warm-up

    def run() -> list[float]:
        histories = ensemble.fit(X, y, epochs=iterations, learning_rate=LEARNING_RATE, workers=workers)
        return [h["cost"][-1] for h in histories]

    return run


def _torch(k: int, iterations: int):
    import torch
    from torch.func import functional_call, grad_and_value, stack_module_state, vmap

    X, y = data()
    nets = []
    for model in members(k):
        model.build(SIZES[0])
        params = model.parameters()
        net = torch.nn.Sequential(torch.nn.Linear(2, 20), torch.nn.ReLU(), torch.nn.Linear(20, 3), torch.nn.ReLU(),
                                  torch.nn.Linear(3, 1)).double()
        with torch.no_grad():
            for i, lin in enumerate(m for m in net if isinstance(m, torch.nn.Linear)):
                lin.weight.copy_(torch.from_numpy(params[f"W{i + 1}"]))
                lin.bias.copy_(torch.from_numpy(params[f"b{i + 1}"]))
        nets.append(net)
    stacked, buffers = stack_module_state(nets)
    stacked = {name: p.detach().clone() for name, p in stacked.items()}
    base = nets[0].to("meta")
    Xt, target = torch.from_numpy(X), torch.from_numpy(y).double().reshape(-1, 1)

    def loss(params, buffers, x, t):
        return torch.nn.functional.binary_cross_entropy_with_logits(functional_call(base, (params, buffers), (x,)), t)

    step = vmap(grad_and_value(loss), in_dims=(0, 0, None, None))
    for _ in range(5):  # warm-up: vmap's first calls trace and cache
        step(stacked, buffers, Xt, target)
    start = {name: p.clone() for name, p in stacked.items()}

    def run() -> list[float]:
        for name, p in start.items():
            stacked[name].copy_(p)
        costs = []
        with torch.no_grad():
            for _ in range(iterations):
                grads, cost = step(stacked, buffers, Xt, target)
                costs.append(cost)
                for name, p in stacked.items():
                    p.sub_(grads[name], alpha=LEARNING_RATE)
        return costs[-1].tolist()

    return run


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the ensemble's worker processes)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def worker(framework: str, k: int, iterations: int, threads: int) -> None:
    if framework.startswith("torch"):
        import torch

        torch.set_num_threads(1 if framework.endswith("@1") else threads)
        run = _torch(k, iterations)
    else:
        run = _gradwise(k, iterations, threads if framework == "gradwise" else 1)
    c0, t0 = _cpu(), time.perf_counter()
    final = run()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"time": elapsed, "cpu": _cpu() - c0, "final_costs": final,
                      "load": os.getloadavg()[0]}))


# ================================================================================== driver side
def _spawn(framework: str, k: int, iterations: int, threads: int) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(1 if framework.endswith("@1") else threads)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", framework, "--members", str(k),
           "--iterations", str(iterations), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{framework} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def measure(k: int, iterations: int, reps: int, threads: int, frameworks: tuple[str, ...] = FRAMEWORKS) -> dict:
    """Every framework `reps` times, interleaved (the order rotates each repetition)."""
    runs: dict[str, list[dict]] = {f: [] for f in frameworks}
    for rep in range(reps):
        order = frameworks[rep % len(frameworks):] + frameworks[:rep % len(frameworks)]
        for framework in order:
            out = _spawn(framework, k, iterations, threads)
            runs[framework].append(out)
            print(f"rep {rep + 1} {framework:<20} {out['time']:7.3f} s  (load {out['load']:.1f})", flush=True)
    return runs


def summarize(runs: dict, k: int, iterations: int, threads: int) -> list[str]:
    """The section of RESULTS.md: times, ratios, goals, and the agreement of the final costs."""
    med = {f: statistics.median(r["time"] for r in rs) for f, rs in runs.items()}
    torch_best = min((f for f in ("torch", "torch@1") if f in med), key=lambda f: med[f])
    vs_torch = med["gradwise"] / med[torch_best]
    vs_sequential = med["gradwise"] / med["gradwise-sequential"]
    ours = np.asarray(runs["gradwise"][0]["final_costs"])
    theirs = np.asarray(runs[torch_best][0]["final_costs"])
    given = "" if tuple(runs) == FRAMEWORKS else f" --frameworks {','.join(runs)}"
    reps = len(runs["gradwise"])
    lines = [SECTION, "", f"Written by `python benchmarks/ensemble.py --reps {reps}{given} --write` on "
             f"{time.strftime('%Y-%m-%d %H:%M')} ({threads} threads; load average "
             f"{runs['gradwise'][0]['load']:.1f} at the first gradwise run). {k} networks {'-'.join(map(str, SIZES))} "
             f"(ReLU, sigmoid), 300 examples, full-batch GD α = {LEARNING_RATE}, {iterations:,} iterations, float64; "
             "the same initial weights in both frameworks. Each number: median over interleaved repetitions, "
             "each in a fresh process.", "",
             "| framework | median s | range s | cpu s |", "|---|---|---|---|"]
    for f, rs in runs.items():
        times = [r["time"] for r in rs]
        lines.append(f"| {f} | {med[f]:.2f} | {min(times):.2f}–{max(times):.2f} | "
                     f"{statistics.median(r['cpu'] for r in rs):.2f} |")
    lines += ["", f"- gradwise (`Ensemble.fit(workers={threads})`) / PyTorch (`{torch_best}`, its faster setting): "
              f"**{vs_torch:.2f}×** — goal ≤ {GOAL_VS_TORCH}×: {'met' if vs_torch <= GOAL_VS_TORCH else 'NOT met'}",
              f"- gradwise in {threads} worker processes / the {k} fits one after another: **{vs_sequential:.2f}×** — "
              f"goal ≤ 1×: {'met' if vs_sequential <= 1 else 'NOT met'}",
              f"- final costs, gradwise vs PyTorch, largest difference over the {k} members: "
              f"{np.max(np.abs(ours - theirs)):.1e} (mean final cost {ours.mean():.4f})", "",
              "`cpu s` includes the worker processes of `Ensemble.fit(workers=…)`. The worker pool is what "
              "makes gradwise's ensemble fast here; stacking the members into (K, m, n) arrays would need "
              "the layers' forward and backward passes to take a leading stack axis (see the report of "
              "issue 14)."]
    return lines


def write_section(path: Path, lines: list[str]) -> None:
    """Replace this benchmark's section of RESULTS.md (from its heading to the next `## ` or the end)."""
    text = path.read_text() if path.exists() else ""
    start = text.find(SECTION)
    block = "\n".join(lines) + "\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + block + (text[end + 1:] if end >= 0 else "")
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help=f"comma-separated subset of {','.join(FRAMEWORKS)} (gradwise, gradwise-sequential and "
                             "one of the torch ones are needed for the ratios)")
    parser.add_argument("--write", action="store_true", help="replace the section in benchmarks/RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.members, args.iterations, args.threads)
        return 0
    frameworks = tuple(f.strip() for f in args.frameworks.split(",") if f.strip())
    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    needed = {"gradwise", "gradwise-sequential"} <= set(frameworks) and {"torch", "torch@1"} & set(frameworks)
    if unknown or not needed:
        parser.error(f"--frameworks: choose among {','.join(FRAMEWORKS)} (gradwise, gradwise-sequential and a torch "
                     f"one at least), got {args.frameworks!r}")
    runs = measure(args.members, args.iterations, args.reps, args.threads, frameworks)
    lines = summarize(runs, args.members, args.iterations, args.threads)
    print("\n".join(lines))
    if args.write:
        write_section(HERE / "RESULTS.md", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
