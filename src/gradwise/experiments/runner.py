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
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from .._atomic import write_json
from .._validation import check_int
from .._version import __version__
from ..errors import GradwiseValueError
from ..progress import UnitProgress
from . import (
    augmentation,
    batchnorm,
    batchnorm_regularization,
    early_stopping,
    ensembles,
    gradient_checking,
    hyperparameter_importance,
    initialization,
    l1_sparsity,
    l2_linear_regime,
    minibatch,
    normalization,
    optimization,
    regularization,
    report,
    vanishing,
)
from ._common import Job, Section, Settings, run_job

#: the experiments, in the order of the seeds and of the report
EXPERIMENTS = (initialization, regularization, gradient_checking, optimization, batchnorm, vanishing,
               normalization, minibatch, ensembles, l1_sparsity, early_stopping, l2_linear_regime,
               augmentation, batchnorm_regularization, hyperparameter_importance)
NAMES = tuple(module.KEY for module in EXPERIMENTS)


def _counting(bar: UnitProgress, say: Callable[[str], None]) -> Callable[[str], None]:
    """`say` for the runners: lines above the bar; a finished run's line ("  name: 1.2 s …") advances it."""
    above = bar.say(say)

    def counted(line: str) -> None:
        above(line)
        if line.startswith("  "):
            bar.advance()
    return counted


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
    if out.exists() and not out.is_dir():
        raise GradwiseValueError(f"out={str(out)!r} is a file, not a directory: give a directory for the report")
    out.mkdir(parents=True, exist_ok=True)
    plot_dir = out / "plots"
    plot_dir.mkdir(exist_ok=True)

    plan = {m.KEY: m.jobs(settings) for m in modules}
    n_jobs = sum(len(j) for j in plan.values())
    say(f"gradwise reproduce: {len(modules)} experiments, {n_jobs} runs, {seeds} fresh seed(s)"
        f"{', QUICK (reduced iterations)' if quick else ''}, {workers} worker process(es) -> {out}")
    start = time.perf_counter()
    bar = UnitProgress(n_jobs, "reproduce", "run", enabled=log is not None)  # a bar when someone watches
    try:
        counted = _counting(bar, say)
        if workers > 1:
            sections = _run_parallel(modules, plan, settings, plot_dir, workers, counted, start)
        else:
            sections = _run_here(modules, plan, settings, plot_dir, counted, start)
    finally:
        bar.close()
    elapsed = time.perf_counter() - start


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


#: an experiment whose jobs add up to less than this cost (see `Job.cost`, ~µs) is light: under ~30 s
LIGHT = 30e6


def _schedule(plan: dict[str, list[Job]]) -> list[Job]:
    """Light experiments' jobs first, so their plots are drawn while the long runs train; then the long jobs,
    longest first, so the pool stays busy to the end."""
    light = [j for js in plan.values() if sum(j.cost for j in js) < LIGHT for j in js]
    heavy = [j for js in plan.values() if sum(j.cost for j in js) >= LIGHT for j in js]
    return light + sorted(heavy, key=lambda j: -j.cost)


def finish_section(key: str, settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Tables, plots and checks of one experiment (module-level: a worker process may run it)."""
    from threadpoolctl import threadpool_limits

    module = next(m for m in EXPERIMENTS if m.KEY == key)
    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        section = module.finish(settings, outputs, plot_dir)
    section.seconds = time.perf_counter() - t0
    return section


def _announce(say, index: int, total: int, section: Section, start: float) -> None:
    verdicts = [c.passed for c in section.checks if c.passed is not None]
    title = next(m.TITLE for m in EXPERIMENTS if m.KEY == section.key)
    say(f"[{index}/{total}] {title}: {sum(verdicts)}/{len(verdicts)} checks agree with the seeds "
        f"(tables and plots {section.seconds:.1f} s; {time.perf_counter() - start:.1f} s elapsed)")


def _run_here(modules, plan, settings, plot_dir, say, start) -> list[Section]:
    """Everything in this process, experiment after experiment."""
    sections = []
    for module in modules:
        outputs = {}
        for job in plan[module.KEY]:
            outputs[job.name], seconds, cpu = run_job(job)
            say(f"  {job.name}: {seconds:.1f} s (CPU {cpu:.1f} s)")
        sections.append(finish_section(module.KEY, settings, outputs, plot_dir))
        _announce(say, len(sections), len(modules), sections[-1], start)
    return sections


def _run_parallel(modules, plan, settings, plot_dir, workers, say, start) -> list[Section]:
    """Jobs and plotting in `workers` processes. At most `workers` tasks are in flight, so an experiment whose
    runs are all done gets its plots drawn at the next free slot (a pool's FIFO queue would leave all the
    plotting to the end), while the long runs keep the other slots busy."""
    context = _context()
    if context.get_start_method() == "fork":
        plots._mpl()  # import matplotlib once here: forked workers inherit it instead of each importing it
    queue = _schedule(plan)
    owner = {job.name: key for key, jobs in plan.items() for job in jobs}
    outputs: dict[str, dict[str, dict]] = {key: {} for key in plan}
    ready: list[str] = []  # experiments whose runs are all done, waiting for a slot to draw their plots
    sections: dict[str, Section] = {}
    running: dict[Future, tuple[str, str]] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        try:
            while queue or ready or running:
                while len(running) < workers and (ready or queue):
                    if ready:
                        key = ready.pop(0)
                        running[executor.submit(finish_section, key, settings, outputs[key], plot_dir)] = (
                            "finish", key)
                    else:
                        job = queue.pop(0)
                        running[executor.submit(run_job, job)] = ("job", job.name)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    kind, name = running.pop(future)
                    if kind == "job":
                        output, seconds, cpu = future.result()
                        say(f"  {name}: {seconds:.1f} s (CPU {cpu:.1f} s)")
                        key = owner[name]
                        outputs[key][name] = output
                        if len(outputs[key]) == len(plan[key]):
                            ready.append(key)
                    else:
                        sections[name] = future.result()
                        _announce(say, len(sections), len(modules), sections[name], start)
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
    return [sections[m.KEY] for m in modules]


def _results(sections: list[Section], settings: Settings, elapsed: float) -> dict[str, Any]:
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
