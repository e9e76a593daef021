"""Run the experiments: schedule their jobs (in parallel processes if asked), build the sections, write
`results.json`, `report.md`, `report.html` and the plots into one directory.

    from gradwise.experiments import reproduce
    results = reproduce("reproduce-report", seeds=3, quick=False, workers=2)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_json
from .._validation import check_int
from ..errors import GradwiseValueError
from . import (
    batchnorm,
    gradient_checking,
    initialization,
    minibatch,
    normalization,
    optimization,
    regularization,
    vanishing,
)
from ._common import Section, Settings, run_job

#: the experiments, in the order of the seeds and of the report
EXPERIMENTS = (initialization, regularization, gradient_checking, optimization, batchnorm, vanishing,
               normalization, minibatch)
NAMES = tuple(module.KEY for module in EXPERIMENTS)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def default_workers() -> int:
    """Processes to train in: the CPUs this process may use, at most 4 (there are few long jobs)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


def _context():
    # fork starts workers instantly (no re-import of numpy, scikit-learn, gradwise); elsewhere spawn
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") and "fork" in methods
                                       else "spawn")


def reproduce(
    out: str | os.PathLike,
    seeds: int = 3,
    quick: bool = False,
    workers: int | None = None,
    only: Sequence[str] | None = None,
    log: Callable[[str], None] | None = _stderr,
) -> dict[str, Any]:
    """Run the seeds' experiments and write the report into `out`.

    Parameters
    ----------
    out : directory (created) receiving `results.json`, `report.md`, `report.html` and `plots/*.png`
    seeds : fresh seeds per statistic (mean and 95% interval); at least 2 for an interval
    quick : a smoke run at a fraction of the iterations (its numbers are not the course's)
    workers : processes training in parallel (default: the usable CPUs, at most 4; 1 = this process only)
    only : a subset of `NAMES` to run (the report then holds only those)
    log : called with one line per finished job and per experiment (default: stderr); None for silence

    Returns the results (the content of results.json).
    """
    seeds = check_int("seeds", seeds, minimum=1)
    workers = default_workers() if workers is None else check_int("workers", workers, minimum=1)
    modules = list(EXPERIMENTS)
    if only is not None:
        unknown = sorted(set(only) - set(NAMES))
        if unknown:
            raise GradwiseValueError(f"unknown experiment(s) {unknown}; choose among {list(NAMES)}")
        modules = [m for m in EXPERIMENTS if m.KEY in set(only)]
    settings = Settings(seeds=seeds, quick=bool(quick), workers=workers)
    say = log or (lambda line: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plot_dir = out / "plots"
    plot_dir.mkdir(exist_ok=True)

    plan = {m.KEY: m.jobs(settings) for m in modules}
    n_jobs = sum(len(j) for j in plan.values())
    say(f"gradwise reproduce: {len(modules)} experiments, {n_jobs} runs, {seeds} fresh seed(s)"
        f"{', QUICK (reduced iterations)' if quick else ''}, {workers} worker process(es) -> {out}")
    start = time.perf_counter()
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=_context()) if workers > 1 else None
    futures: dict[str, Future] = {}
    try:
        if executor is not None:
            # longest jobs first: the pool stays busy and the total time is close to the longest chain
            for job in sorted((j for jobs in plan.values() for j in jobs), key=lambda j: -j.cost):
                futures[job.name] = executor.submit(run_job, job)
        sections: list[Section] = []
        for index, module in enumerate(modules, start=1):
            outputs = _collect(plan[module.KEY], futures, say)
            t0 = time.perf_counter()
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1):
                section = module.finish(settings, outputs, plot_dir)
            section.seconds = time.perf_counter() - t0
            sections.append(section)
            verdicts = [c.passed for c in section.checks if c.passed is not None]
            say(f"[{index}/{len(modules)}] {module.TITLE}: {sum(verdicts)}/{len(verdicts)} checks agree with the "
                f"seeds (plots {section.seconds:.1f} s; {time.perf_counter() - start:.1f} s elapsed)")
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    elapsed = time.perf_counter() - start

    from .. import report

    results = _results(sections, settings, elapsed)
    write_json(out / "results.json", results)
    report.write_markdown(out / "report.md", sections, settings, elapsed)
    report.write_html(out / "report.html", sections, settings, elapsed, out)
    checks = [c for s in sections for c in s.checks if c.passed is not None]
    failed = [c for c in checks if not c.passed]
    say(f"done in {elapsed:.1f} s: {len(checks) - len(failed)}/{len(checks)} checks agree with the seeds"
        + (f"; mismatches: {'; '.join(c.claim for c in failed)}" if failed else "")
        + f". Report: {out / 'report.html'}")
    return results


def _collect(jobs, futures: dict[str, Future], say) -> dict[str, dict]:
    """The outputs of one experiment's jobs, logging each as it finishes."""
    outputs: dict[str, dict] = {}
    if futures:
        pending = {futures[j.name]: j for j in jobs}
        for future in as_completed(pending):
            output, seconds, cpu = future.result()
            outputs[pending[future].name] = output
            say(f"  {pending[future].name}: {seconds:.1f} s (CPU {cpu:.1f} s)")
    else:
        for job in jobs:
            output, seconds, cpu = run_job(job)
            outputs[job.name] = output
            say(f"  {job.name}: {seconds:.1f} s (CPU {cpu:.1f} s)")
    return outputs


def _results(sections: list[Section], settings: Settings, elapsed: float) -> dict[str, Any]:
    from .. import __version__

    checks = [c for s in sections for c in s.checks]
    results: dict[str, Any] = {
        "gradwise_version": __version__,
        "settings": {"seeds": settings.seeds, "fresh_seeds": settings.fresh_seeds(), "quick": settings.quick,
                     "workers": settings.workers},
        "seconds": elapsed,
        "checks": [{"experiment": s.key, "claim": c.claim, "seeds": c.seeds, "ours": c.ours, "passed": c.passed}
                   for s in sections for c in s.checks],
        "summary": {"checks": sum(c.passed is not None for c in checks),
                    "agree": sum(c.passed is True for c in checks),
                    "disagree": sum(c.passed is False for c in checks)},
    }
    for s in sections:
        results[s.key] = _jsonable({**s.results, "seconds": s.seconds})
    return results


def _jsonable(obj: Any) -> Any:
    """numpy values to plain JSON (non-finite floats to None: results.json is strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if np.isfinite(value) else None
    if obj is None or isinstance(obj, str | int):
        return obj
    return json.loads(json.dumps(obj, default=str))
