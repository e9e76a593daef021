"""gradwise against PyTorch (CPU) and scikit-learn on the same networks, side by side.

    python benchmarks/run.py                    # every case, 5 interleaved repetitions, writes RESULTS.md
    python benchmarks/run.py --cases a,b --reps 3
    python benchmarks/run.py --quick            # smaller workloads, 2 repetitions (a smoke run)

Every measurement runs in a fresh subprocess (one framework, one case), so imports, caches and allocator
state never leak from one framework into another, and the peak memory is honest: the worker builds the
data and the network, warms the framework up on a tiny network, resets the kernel's RSS high-water mark
(/proc/self/clear_refs), then trains; peak memory is VmHWM minus the RSS just before training.
Repetitions are interleaved (rep 1: gradwise, torch, sklearn; rep 2: torch, sklearn, gradwise; …) and
medians are reported, so load from other processes hits every framework alike. Threads: BLAS, OpenMP
and PyTorch all get `--threads` (default: every core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases as cases_mod  # noqa: E402

GOALS = {"a": 1 / 6, "b": 0.8, "c": 0.77}  # gradwise time / PyTorch time
PEAK_FRACTION_GOAL = {"c": 0.75}  # of the measured float32 GEMM peak


# ================================================================================== worker side
def _proc_status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])  # kB
    return out


def _reset_peak() -> bool:
    """Reset the RSS high-water mark (Linux ≥ 4.0); False if this kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _warm_up(framework: str, case: cases_mod.Case) -> None:
    """Train a tiny network with the same framework so that one-time initialisation (thread pools,
    dispatch tables, lazy imports) is not timed; tiny, so it leaves no memory behind to hide a peak."""
    import numpy as np
    import peers

    if case.kind == "gradcheck":
        tiny = replace(case, sizes=(3, 4, 1), m=5)
    else:
        tiny = replace(case, sizes=(4, 8, 2) if case.kind == "adam" else (4, 3, 1), m=32,
                       batch=None if case.batch is None else 16, epochs=2)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((tiny.m, tiny.sizes[0])).astype(case.dtype)
    y = (X[:, 0] > 0).astype(np.int64)
    peers.prepare(framework, tiny, X, y)()


def worker(case_key: str, framework: str, quick: bool, threads: int, profile: bool = False) -> None:
    import gc

    import numpy as np  # noqa: F401  (imported before timing, like every framework's own imports)
    import peers

    if framework.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
        framework = framework.removesuffix("@1")  # "torch@1": the same code on one thread
    source = None
    if framework.startswith("gradwise"):
        import gradwise

        source = str(Path(gradwise.__file__).resolve().parent)
        framework = framework.split("@")[0]  # "gradwise@<commit>": the same code, another engine tree
    case = cases_mod.CASES[case_key]
    if quick:
        case = cases_mod.quick(case)
    X, y = cases_mod.make_data(case)
    if framework == "gemm-bound":
        run = _gemm_bound(case, X)
    else:
        run = peers.prepare(framework, case, X, y)
        _warm_up(framework, case)
    gc.collect()
    exact = _reset_peak()
    base = _proc_status()["VmRSS"]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    c0, t0 = time.process_time(), time.perf_counter()
    result = run()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if profiler is not None:
        profiler.disable()
        result["profile"] = _top_functions(profiler, elapsed)
    status = _proc_status()
    if not exact:
        import resource

        status["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"time": elapsed, "cpu": cpu, "peak_mb": max(0, status["VmHWM"] - base) / 1024.0,
                      "peak_exact": exact, "load": os.getloadavg()[0], "source": source, "result": result}))


def _top_functions(profiler, elapsed: float, n: int = 14) -> list[list]:
    """[share of the run, seconds, calls, function] of the functions with the most time of their own."""
    import pstats

    stats = pstats.Stats(profiler).stats
    rows = []
    for (filename, line, name), (_, ncalls, tottime, _, _) in stats.items():
        where = Path(filename).name if filename != "~" else ""
        label = f"{where}:{line} {name}" if where else name
        rows.append([tottime / elapsed, tottime, ncalls, label])
    rows.sort(key=lambda r: -r[1])
    return rows[:n]


def _gemm_bound(case: cases_mod.Case, X):
    """Only the matrix products of one training run (forward, dW, dX; same shapes, same count), into
    preallocated outputs: the time the GEMMs alone take at this batch size — what BLAS allows."""
    import numpy as np

    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((n, p)).astype(X.dtype) for p, n in zip(case.sizes[:-1], case.sizes[1:],
                                                                      strict=False)]
    B, m = case.batch, X.shape[0]

    def run() -> dict:
        full = {}
        for _ in range(case.epochs):
            for start in range(0, m, B):
                xb = X[start:start + B]
                nb = xb.shape[0]
                if nb not in full:
                    full[nb] = ([np.empty((nb, W.shape[0]), X.dtype) for W in Ws],
                                [np.empty_like(W) for W in Ws],
                                [np.empty((nb, W.shape[1]), X.dtype) for W in Ws])
                Z, dW, dX = full[nb]
                a = xb
                for W, z in zip(Ws, Z, strict=True):
                    np.matmul(a, W.T, out=z)
                    a = z
                for i in reversed(range(len(Ws))):
                    np.matmul(Z[i].T, xb if i == 0 else Z[i - 1], out=dW[i])
                    if i:  # no gradient with respect to the data (counted in 6·weights, needed by nobody)
                        np.matmul(Z[i], Ws[i], out=dX[i])
        return {}

    return run


def gemm_worker(threads: int) -> None:
    """Best float32 GEMM throughput on large square matrices (the roofline's ceiling)."""
    import numpy as np

    rng = np.random.default_rng(0)
    best = {}
    for n in (2048, 3072, 4096):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty_like(a)
        np.matmul(a, b, out=c)
        times = []
        for _ in range(4):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append(time.perf_counter() - t0)
        best[n] = 2.0 * n ** 3 / min(times) / 1e9
    print(json.dumps({"gflops": max(best.values()), "by_size": best}))


def shapes_worker(case_key: str, framework: str, threads: int) -> None:
    """GFLOP/s of each matrix product of one training step of an Adam case, at its batch size, alone.

    The products gradwise's fast path makes (forward Z = A·Wᵀ, dW = dZᵀ·A, dX = dZ·W; no dX for the first
    layer), in the same memory layouts, timed one by one: best and median of repeated calls. With
    `framework` "torch" the same products go through torch.matmul (oneDNN/MKL) instead of NumPy (OpenBLAS).
    """
    import numpy as np

    case = cases_mod.CASES[case_key]
    rng = np.random.default_rng(0)
    B = case.batch
    rows = []
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    for i, (p, n) in enumerate(zip(case.sizes[:-1], case.sizes[1:], strict=False)):
        W = rng.standard_normal((n, p), dtype=np.float32)
        A = rng.standard_normal((B, p), dtype=np.float32)
        dZ = rng.standard_normal((B, n), dtype=np.float32)
        products = [(f"Z{i + 1} = A{i}·W{i + 1}ᵀ", A, W.T), (f"dW{i + 1} = dZ{i + 1}ᵀ·A{i}", dZ.T, A)]
        if i:
            products.append((f"dA{i} = dZ{i + 1}·W{i + 1}", dZ, W))
        for name, left, right in products:
            shape = f"({left.shape[0]}×{left.shape[1]})·({right.shape[0]}×{right.shape[1]})"
            flops = 2.0 * left.shape[0] * left.shape[1] * right.shape[1]
            if framework == "torch":
                tl, tr = torch.from_numpy(left), torch.from_numpy(right)  # views: the same strides
                out = torch.empty(left.shape[0], right.shape[1])

                def call(tl=tl, tr=tr, out=out):
                    torch.matmul(tl, tr, out=out)
            else:
                out = np.empty((left.shape[0], right.shape[1]), np.float32)

                def call(left=left, right=right, out=out):
                    np.dot(left, right, out=out)
            for _ in range(3):
                call()
            reps = max(5, min(60, int(2e10 / flops)))
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
            rows.append({"product": name, "shape": shape, "flops": flops,
                         "best": flops / min(times) / 1e9, "median": flops / _median(times) / 1e9})
    print(json.dumps({"framework": framework, "rows": rows}))


# ================================================================================== driver side
def _env(threads: int) -> dict:
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(threads)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _spawn(args: list[str], threads: int, timeout: float = 1800, pythonpath: str | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--threads", str(threads)]
    env = _env(threads)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def machine_description(threads: int) -> dict:
    import numpy as np
    import sklearn
    import threadpoolctl

    info: dict = {"python": platform.python_version(), "platform": platform.platform(),
                  "numpy": np.__version__, "scikit-learn": sklearn.__version__, "threads": threads,
                  "logical cpus": os.cpu_count()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
        flags = next((ln for ln in cpuinfo.splitlines() if ln.startswith("flags")), "")
        info["simd"] = " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_vnni") if f" {f}" in flags)
        cores = {ln.split(":")[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("core id")}
        info["physical cores"] = len(cores) or None
        mem = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
        info["memory"] = f"{int(mem.split()[1]) / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    blas = [f"{p['internal_api']} {p['version']} ({p.get('architecture')}, {p['threading_layer']}, "
            f"{p['num_threads']} threads)"
            for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    info["numpy BLAS"] = "; ".join(blas)
    probe = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__); "
         "print([l.strip() for l in torch.__config__.parallel_info().splitlines() if 'MKL' in l or 'backend' "
         "in l])"], capture_output=True, text=True, env=_env(threads))
    out = probe.stdout.splitlines()
    info["torch"] = out[0] if out else "unavailable"
    if len(out) > 1:
        info["torch backends"] = out[1]
    return info


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run_all(args) -> dict:
    keys = [k.strip() for k in args.cases.split(",") if k.strip()]
    for k in keys:
        if k not in cases_mod.CASES:
            raise SystemExit(f"unknown case {k!r}; choose from {','.join(cases_mod.CASES)}")
    started = time.time()
    load_start = os.getloadavg()
    baseline = _export_baseline(args.baseline) if args.baseline else None
    print("measuring the float32 GEMM peak ...", flush=True)
    gemm = [_spawn(["--gemm-worker"], args.threads)]
    results: dict = {}
    for key in keys:
        case = cases_mod.CASES[key]
        if args.quick:
            case = cases_mod.quick(case)
        frameworks = [f for f in case.frameworks if not args.frameworks or f in args.frameworks]
        if baseline and case.kind != "gradcheck":
            frameworks.append(baseline[0])
        if case.kind == "adam" and not args.no_bound:
            frameworks.append("gemm-bound")
        runs: dict[str, list[dict]] = {f: [] for f in frameworks}
        print(f"case ({key}) {case.title}: sizes {'-'.join(map(str, case.sizes))}, m={case.m}, "
              f"batch={case.batch or 'full'}, epochs={case.epochs}, {case.dtype}", flush=True)
        # gradient checks are deterministic work and PyTorch's full check is slow: at most 3 repetitions
        reps = min(args.reps, 3) if case.kind == "gradcheck" else args.reps
        for rep in range(reps):
            order = frameworks[rep % len(frameworks):] + frameworks[:rep % len(frameworks)]
            for fw in order:
                threads = 1 if fw.endswith("@1") else args.threads
                out = _spawn(["--worker", key, fw] + (["--quick"] if args.quick else []), threads,
                             pythonpath=baseline[1] if baseline and fw == baseline[0] else None)
                if baseline and fw == baseline[0] and not out["source"].startswith(baseline[1]):
                    raise RuntimeError(f"the baseline worker imported gradwise from {out['source']}")
                runs[fw].append(out)
                print(f"  rep {rep + 1}/{reps} {fw:<18} {out['time']:8.3f} s (cpu {out['cpu']:7.3f}, "
                      f"load {out['load']:4.1f})  peak +{out['peak_mb']:7.1f} MB  {_short(out['result'])}",
                      flush=True)
        entry = {"case": case, "runs": runs}
        if key in args.profile_cases:
            print(f"  profiling gradwise on ({key}) (cProfile, one more run) ...", flush=True)
            entry["profile"] = _spawn(["--worker", key, "gradwise", "--profile"]
                                      + (["--quick"] if args.quick else []), args.threads)
        if key in args.profile_cases and case.kind == "adam" and not args.quick:
            print(f"  timing the matrix products of ({key}) one by one, NumPy and PyTorch ...", flush=True)
            entry["shapes"] = {fw: _spawn(["--shapes-worker", key, fw], args.threads) for fw in ("numpy", "torch")}
        results[key] = entry
    gemm.append(_spawn(["--gemm-worker"], args.threads))
    return {"results": results, "gemm": max(g["gflops"] for g in gemm), "gemm_runs": gemm,
            "seconds": time.time() - started, "load": (load_start, os.getloadavg()), "args": vars(args)}


def _export_baseline(commit: str) -> tuple[str, str]:
    """`git archive` the engine of another commit into a temporary directory: ("gradwise@<commit>", path)."""
    import shutil
    import tempfile

    repo = HERE.parent
    short = subprocess.run(["git", "rev-parse", "--short", commit], cwd=repo, capture_output=True, text=True,
                           check=True).stdout.strip()
    target = Path(tempfile.mkdtemp(prefix=f"gradwise-{short}-"))
    archive = subprocess.run(["git", "archive", commit, "src/gradwise"], cwd=repo, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    import atexit

    atexit.register(shutil.rmtree, target, ignore_errors=True)
    return f"gradwise@{short}", str(target / "src")


def _short(result: dict) -> str:
    parts = []
    for k, v in result.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts)


def _best(med: dict[str, float], family: str) -> str | None:
    """The fastest configuration of a peer ("torch" with all threads or "torch@1"): the peer at its best."""
    options = [fw for fw in med if fw.split("@")[0] == family and not fw.startswith("gradwise@")]
    return min(options, key=med.get) if options else None


def summarize(data: dict) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """Rows of the main table, rows of the ratio table, and the goal verdicts."""
    peak = data["gemm"]
    rows, ratio_rows, verdicts = [], [], []
    for key, entry in data["results"].items():
        case, runs = entry["case"], entry["runs"]
        med = {fw: _median([r["time"] for r in rs]) for fw, rs in runs.items()}
        cpu = {fw: _median([r.get("cpu", float("nan")) for r in rs]) for fw, rs in runs.items()}
        mem = {fw: _median([r["peak_mb"] for r in rs]) for fw, rs in runs.items()}
        for fw, rs in runs.items():
            times = [r["time"] for r in rs]
            gflops = case.flops / med[fw] / 1e9 if case.kind != "gradcheck" else None
            pct = f"{100 * gflops / peak:.0f}%" if gflops and case.dtype == "float32" else "–"
            rows.append([f"({key})", fw, f"{med[fw]:.3f}", f"{min(times):.3f}–{max(times):.3f}", f"{cpu[fw]:.3f}",
                         f"{gflops:.1f}" if gflops else "–", pct, f"{mem[fw]:.1f}", _short(rs[0]["result"])])
        mine = tuple(fw for fw in (("gradwise", "gradwise-sampled") if case.kind == "gradcheck" else ("gradwise",))
                     if fw in med)  # --frameworks may leave one out
        for peer in runs:
            if peer in mine:
                continue
            for me in mine:
                if peer == "gemm-bound":
                    ratio_rows.append([f"({key})", "gemm-bound / gradwise (fraction of the BLAS limit)",
                                       f"{med[peer] / med[me]:.3f}"])
                else:
                    ratio_rows.append([f"({key})", f"{me} / {peer}", f"{med[me] / med[peer]:.3f}"])
        if case.kind == "gradcheck":
            continue
        torch = _best(med, "torch")
        if key in GOALS and torch:
            r = med["gradwise"] / med[torch]
            verdicts.append(f"({key}) gradwise/PyTorch = {r:.3f} against `{torch}`, PyTorch's faster setting "
                            f"(goal ≤ {GOALS[key]:.3g}): {'met' if r <= GOALS[key] else 'MISSED'}")
        if key in PEAK_FRACTION_GOAL:
            frac = case.flops / med["gradwise"] / 1e9 / peak
            verdicts.append(f"({key}) gradwise at {100 * frac:.0f}% of the GEMM peak "
                            f"(goal ≥ {100 * PEAK_FRACTION_GOAL[key]:.0f}%): "
                            f"{'met' if frac >= PEAK_FRACTION_GOAL[key] else 'MISSED'}")
            if "gemm-bound" in med:
                bound = med["gemm-bound"]
                verdicts.append(f"({key}) the matrix products alone at this batch size take {bound:.3f} s "
                                f"({100 * case.flops / bound / 1e9 / peak:.0f}% of the peak, nominal FLOPs); "
                                f"gradwise runs at {bound / med['gradwise'] * 100:.0f}% of that bound")
        if "sklearn" in med:
            r = med["gradwise"] / med["sklearn"]
            verdicts.append(f"({key}) gradwise/scikit-learn = {r:.3f} (goal ≤ 1): "
                            f"{'met' if r <= 1 else 'MISSED'}")
        if key == "b" and torch:
            verdicts.append(f"(b) peak memory gradwise {mem['gradwise']:.1f} MB vs PyTorch ({torch}) "
                            f"{mem[torch]:.1f} MB (goal ≤): "
                            f"{'met' if mem['gradwise'] <= mem[torch] else 'MISSED'}")
    return rows, ratio_rows, verdicts


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r) for r in [header, *rows])


HEADER = ["case", "framework", "median s", "range s", "cpu s", "GFLOP/s", "of peak", "peak MB", "result (rep 1)"]


#: the hand-written section of RESULTS.md that a rewrite carries over (it holds no numbers of this run)
NOTES_HEADING = "## Engine notes (moved from code comments)"


def _kept_notes(path: Path) -> list[str]:
    """The hand-written notes section of the file being replaced, from its heading to the end."""
    old = path.read_text() if path.exists() else ""
    start = old.find(NOTES_HEADING)
    return [] if start < 0 else ["", old[start:].rstrip("\n"), ""]


def write_markdown(path: Path, data: dict, machine: dict) -> None:
    rows, ratio_rows, verdicts = summarize(data)
    a = data["args"]
    lines = [
        "# gradwise benchmark results",
        "",
        f"Written by `python benchmarks/run.py --cases {a['cases']} --reps {a['reps']}"
        f"{' --quick' if a['quick'] else ''}` on {time.strftime('%Y-%m-%d %H:%M')} "
        f"({data['seconds'] / 60:.1f} min; load average {data['load'][0][0]:.1f} at the start, "
        f"{data['load'][1][0]:.1f} at the end).",
        "",
        "## Machine",
        "",
        *[f"- **{k}**: {v}" for k, v in machine.items()],
        f"- **float32 GEMM peak (NumPy, best of square 2048–4096)**: {data['gemm']:.1f} GFLOP/s",
        "",
        "## Cases",
        "",
    ]
    for key, entry in data["results"].items():
        c = entry["case"]
        lines.append(f"- ({key}) {c.title}: {'-'.join(map(str, c.sizes))}, {c.m} examples, batch "
                     f"{c.batch or 'full'}, {c.epochs} epoch(s), {'Adam' if c.kind == 'adam' else 'GD'} "
                     f"lr {c.lr}, {c.dtype}, {c.n_parameters:,} parameters; nominal "
                     f"{c.flops / 1e9:.2f} GFLOP (6 · weights · examples · epochs)."
                     + "".join(f" {n}." for n in c.notes))
    lines += [
        "",
        "## Results (medians over interleaved repetitions, each in a fresh process)",
        "",
        _table(HEADER, rows),
        "",
        "`peak MB`: the process's RSS high-water mark during training minus its RSS just before (data and "
        "network already built). `gemm-bound`: only the matrix products of the same training run, into "
        "preallocated outputs — the BLAS limit at that batch size.",
        "",
        "## Ratios (gradwise time / peer time, medians of the same run)",
        "",
        _table(["case", "ratio", "value"], ratio_rows),
        "",
        "## Goals",
        "",
        *[f"- {v}" for v in verdicts],
        "",
    ]
    for key, entry in data["results"].items():
        prof = entry.get("profile")
        if not prof:
            continue
        res = prof["result"]
        lines += [f"## Where gradwise spends case ({key}) (cProfile, one extra run: {prof['time']:.3f} s)", "",
                  "| share | seconds | calls | function (own time) |", "|---|---|---|---|"]
        lines += [f"| {100 * share:.1f}% | {sec:.3f} | {calls} | `{name}` |" for share, sec, calls, name in
                  res["profile"]]
        lines.append("")
        lines += _gap_analysis(key, entry, data)
    lines += _kept_notes(path)
    path.write_text("\n".join(lines))


def _gap_analysis(key: str, entry: dict, data: dict) -> list[str]:
    """The products one by one (NumPy vs PyTorch) and what the measured numbers say would close the gap."""
    shapes = entry.get("shapes")
    runs = entry["runs"]
    med = {f: _median([r["time"] for r in rs]) for f, rs in runs.items() if rs}
    torch = _best(med, "torch")  # PyTorch's faster setting, as in the goal verdicts
    if not shapes or torch is None or not all(f in med for f in ("gradwise", "gemm-bound")):
        return []
    peak = data["gemm"]
    lines = [f"## The matrix products of case ({key}), one at a time", "",
             f"Each product of one training step at batch {entry['case'].batch}, alone, in gradwise's memory "
             "layouts (`--shapes-worker`); GFLOP/s best / median of repeated calls, and the best as a share of "
             f"the square-GEMM peak ({peak:.0f} GFLOP/s).", "",
             "| product | shape | NumPy (OpenBLAS) | of peak | PyTorch (oneDNN/MKL) | of peak |",
             "|---|---|---|---|---|---|"]
    torch_rows = {r["product"]: r for r in shapes["torch"]["rows"]}
    total = {"numpy": 0.0, "torch": 0.0}
    for r in shapes["numpy"]["rows"]:
        t = torch_rows[r["product"]]
        total["numpy"] += r["flops"] / (r["median"] * 1e9)
        total["torch"] += t["flops"] / (t["median"] * 1e9)
        lines.append(f"| {r['product']} | {r['shape']} | {r['best']:.0f} / {r['median']:.0f} | "
                     f"{100 * r['best'] / peak:.0f}% | {t['best']:.0f} / {t['median']:.0f} | "
                     f"{100 * t['best'] / peak:.0f}% |")
    g, torch_time, bound = med["gradwise"], med[torch], med["gemm-bound"]
    case = entry["case"]
    steps = case.epochs * -(-case.m // case.batch)
    torch_products = steps * total["torch"]
    goal = GOALS[key] * torch_time
    profile = entry.get("profile", {}).get("result", {}).get("profile", [])
    adam = sum(row[0] for row in profile if row[3].startswith("optimizers.py") and row[3].endswith(" update"))
    lines += ["", "### What the numbers say", "",
              f"- gradwise {g:.3f} s = matrix products {bound:.3f} s (the `gemm-bound` run: the same products "
              f"in a loop) + everything else {g - bound:.3f} s"
              + (f" (the optimizer step alone is {100 * adam:.0f}% of the profiled run)" if adam else "") + ".",
              f"- PyTorch {torch_time:.3f} s; its products, timed one at a time above, add up to about "
              f"{torch_products:.3f} s for the {steps} steps, which leaves it about "
              f"{max(torch_time - torch_products, 0.0):.3f} s for everything else.",
              f"- The goal is {goal:.3f} s ({GOALS[key]} × PyTorch). The products alone take {bound:.3f} s in "
              f"gradwise's loop = {bound / torch_time:.2f}× PyTorch and {100 * case.flops / bound / 1e9 / peak:.0f}% "
              "of the square-GEMM peak"
              + (": the goal is below what this BLAS does at this batch size, so no work outside the products "
                 "can meet it" if bound > goal else f": the goal leaves {goal - bound:.3f} s for everything else")
              + ("; nor can gradwise reach 75% of the peak while its products alone stay below it."
                 if key == "c" and case.flops / bound / 1e9 < 0.75 * peak else "."),
              f"- The goal is met: gradwise is {goal - g:.3f} s under it." if g <= goal else
              "- What would close it: " + (
                  "faster products first — with nothing else at all, gradwise would still miss the goal"
                  if goal <= bound else
                  f"everything outside the products from {g - bound:.3f} s down to {goal - bound:.3f} s "
                  f"({100 * (goal - bound) / (g - bound):.0f}% of today's), or faster products")
              + (f". In this run PyTorch's library did one step's products {total['numpy'] / total['torch']:.1f}× "
                 "as fast as this OpenBLAS build (the table above): a better-tuned BLAS for these shapes, or "
                 "larger batches (which move every product toward the square peak), would close much of it."
                 if total["numpy"] > 1.1 * total["torch"] else
                 f". In this run PyTorch's products were not faster ({total['torch'] / total['numpy']:.2f}× "
                 "NumPy's time per step): larger batches would move every product toward the square peak.")
              + " Outside the "
              "products the largest piece is the optimizer step: one pass over memory in a compiled kernel "
              "instead of ~13 NumPy passes per block (and its second thread rarely pays right after a GEMM, "
              "while OpenBLAS's own threads still spin). Both need compiled code that gradwise does not ship "
              "today. The per-shape numbers vary by ±20% or more from run to run on this machine.",
              ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(cases_mod.CASES), help="comma-separated, e.g. a,b")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions per framework (default 5, quick 2)")
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None,
                        help="markdown report (default benchmarks/RESULTS.md for a full run, none otherwise)")
    parser.add_argument("--no-bound", action="store_true", help="skip the GEMM-only bound runs")
    parser.add_argument("--frameworks", type=lambda s: s.split(","), default=None,
                        help="only these, e.g. gradwise,torch (default: every framework of each case)")
    parser.add_argument("--baseline", metavar="COMMIT", default=None,
                        help="also time the gradwise engine of this git commit (what the changes since gained)")
    parser.add_argument("--json", type=Path, default=None, help="also dump the raw measurements here")
    parser.add_argument("--profile-cases", type=lambda s: [k for k in s.split(",") if k], default=["c"],
                        help="cases on which to profile gradwise once more with cProfile (default c; '' none)")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "FRAMEWORK"), help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--gemm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shapes-worker", nargs=2, metavar=("CASE", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.shapes_worker:
        shapes_worker(args.shapes_worker[0], args.shapes_worker[1], args.threads)
        return 0
    if args.worker:
        worker(args.worker[0], args.worker[1], args.quick, args.threads, args.profile)
        return 0
    if args.gemm_worker:
        gemm_worker(args.threads)
        return 0
    if args.reps is None:
        args.reps = 2 if args.quick else 5
    machine = machine_description(args.threads)
    data = run_all(args)
    rows, ratio_rows, verdicts = summarize(data)
    print()
    print(f"float32 GEMM peak: {data['gemm']:.1f} GFLOP/s ({args.threads} threads)")
    print(_text_table(HEADER, rows))
    print()
    print(_text_table(["case", "ratio", "value"], ratio_rows))
    print()
    print("\n".join(verdicts))
    for key, entry in data["results"].items():
        if entry.get("profile"):
            print(f"\ngradwise on ({key}), cProfile (own time):")
            for share, sec, calls, name in entry["profile"]["result"]["profile"]:
                print(f"  {100 * share:5.1f}%  {sec:7.3f} s  {calls:>7}  {name}")
    full = not args.quick and args.cases == ",".join(cases_mod.CASES)
    out = args.out or (HERE / "RESULTS.md" if full else None)
    if out is not None:
        write_markdown(out, data, machine)
        print(f"\nwrote {out}")
    if args.json is not None:
        serial = {**data, "results": {k: {"runs": v["runs"]} for k, v in data["results"].items()}}
        args.json.write_text(json.dumps(serial, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
