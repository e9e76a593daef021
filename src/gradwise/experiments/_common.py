"""What every experiment shares: run settings, the unit of work (`Job`), the report's building blocks
(`Section`, `Table`, `Figure`, `Check`), seed streams and the 95% interval of a mean.

An experiment module exposes
    KEY, TITLE
    jobs(settings) -> list[Job]          the training runs, independent and picklable (run in any process)
    finish(settings, outputs, plot_dir) -> Section
                                          tables, plots and checks from the jobs' outputs (main process)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..data import load as load_dataset
from ..model import Sequential, mlp

#: first of the "fresh" seeds used for statistics (the course protocols use seeds 1, 2, 3)
FRESH_SEED_BASE = 1000


@dataclass(frozen=True)
class Settings:
    """How much to run.

    seeds : number of fresh seeds for the statistics (mean and 95% interval)
    quick : a smoke run (for tests): every experiment at a fraction of its iterations; its numbers are
        not the course's and the report says so
    workers : processes training in parallel (1: everything in this process)
    """

    seeds: int = 3
    quick: bool = False
    workers: int = 1

    def n(self, full: int, quick: int) -> int:
        """An iteration count: `full` normally, `quick` in a quick run."""
        return quick if self.quick else full

    def fresh_seeds(self) -> list[int]:
        return [FRESH_SEED_BASE + i for i in range(self.seeds)]


@dataclass
class Job:
    """One independent piece of work: `fn(**kwargs)` must be a module-level function returning a
    picklable dict (numbers, lists, arrays). `cost` is a rough duration in microseconds (iterations × the
    measured time of one), used to schedule long jobs first."""

    name: str
    fn: Callable[..., dict]
    kwargs: dict = field(default_factory=dict)
    cost: float = 1.0


def course_jobs(key: str, fn: Callable[..., dict], param: str, variants: Sequence[str], cost: float,
                **kwargs: Any) -> list[Job]:
    """One course-protocol job per variant: `fn(param=variant, **kwargs)`, named "key/variant/course"."""
    return [Job(f"{key}/{v}/course", fn, {param: v, **kwargs}, cost=cost) for v in variants]


def seed_jobs(settings: Settings, key: str, fn: Callable[..., dict], param: str, variants: Sequence[str],
              cost: float, **kwargs: Any) -> list[Job]:
    """One job per fresh seed and variant: `fn(param=variant, seed=seed, **kwargs)`, "key/variant/seedN"."""
    return [Job(f"{key}/{v}/seed{seed}", fn, {param: v, **kwargs, "seed": seed}, cost=cost)
            for seed in settings.fresh_seeds() for v in variants]


def run_job(job: Job) -> tuple[dict, float, float]:
    """Run a job; return (its output, wall seconds, CPU seconds). Module-level so worker processes can call it."""
    from threadpoolctl import threadpool_limits

    start, cpu = time.perf_counter(), time.process_time()
    # These networks multiply small matrices: a multi-threaded BLAS only adds synchronisation (and on a
    # busy machine, large slowdowns), so each job computes on one thread.
    with threadpool_limits(limits=1):
        output = job.fn(**job.kwargs)
    return output, time.perf_counter() - start, time.process_time() - cpu


@dataclass
class Table:
    """A table of already formatted cells."""

    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    """A PNG written by the experiment; `path` is relative to the output directory."""

    path: str
    caption: str


@dataclass
class Check:
    """One claim of the seeds put to the test: what the seeds say, what we got, and whether they agree."""

    claim: str
    seeds: str
    ours: str
    passed: bool | None  # None: not checked (a quick run's reduced iterations are not the course's)


@dataclass
class Section:
    """One experiment's part of the report and of results.json."""

    key: str
    title: str
    lesson: str
    protocol: list[str]
    results: dict[str, Any]
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------ statistics


def t_quantile_975(dof: int) -> float:
    """The 97.5% quantile of Student's t with `dof` degrees of freedom (scipy, which scikit-learn needs)."""
    from scipy import stats

    return float(stats.t.ppf(0.975, dof))


def mean_interval(values: Sequence[float], bounds: tuple[float, float] | None = (0.0, 1.0)) -> dict[str, Any]:
    """Mean and 95% confidence interval of the mean, mean ± t₀.₉₇₅,ₙ₋₁ · s/√n (s: sample std, ddof=1).

    The interval is clipped to `bounds` (accuracies live in [0, 1]; with few seeds t₀.₉₇₅ is large — 12.7
    for two — and the unclipped interval would leave them). With a single value it is undefined: None.
    """
    v = np.asarray(values, dtype=np.float64)
    n = int(v.size)
    if n == 0:
        return {"n": 0, "mean": None, "low": None, "high": None, "std": None, "values": []}
    mean = float(v.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "low": None, "high": None, "std": None, "values": v.tolist()}
    std = float(v.std(ddof=1))
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return {"n": n, "mean": mean, "low": low, "high": high, "std": std, "values": v.tolist()}


# ---------------------------------------------------------------------------------------- seeds


def streams(experiment: str, seed: int, n: int) -> list[np.random.SeedSequence]:
    """`n` independent seed sequences for one fresh seed of one experiment (data, weights, masks, …).

    Spawning from SeedSequence((seed, hash of the experiment name)) keeps the streams statistically
    independent: reusing the integer `seed` for both the data and the weights would replay one stream.
    """
    tag = int.from_bytes(experiment.encode()[:8].ljust(8, b"\0"), "little")
    return np.random.SeedSequence([seed, tag]).spawn(n)


def seeds_of(seq: np.random.SeedSequence, n: int = 1) -> list[int]:
    """`n` integer seeds (what `mlp(seed=)` takes) drawn from one of a fresh seed's streams."""
    return [int(s) for s in seq.generate_state(n)]


def train_on_football(experiment: str, seed: int, iterations: int, learning_rate: float, **network: Any
                      ) -> tuple[Sequential, Any, dict[str, float]]:
    """The course's football network, 2-20-3-1 with a sigmoid output and He initialization drawn from the
    fresh seed's stream (`network`: the other `mlp` arguments), trained by full-batch gradient descent.

    Returns (model, the data set, {"train_accuracy", "test_accuracy"}).
    """
    data = load_dataset("football")
    (s_init,) = streams(experiment, seed, 1)
    model = mlp([2, 20, 3, 1], output="sigmoid", init="he", seed=seeds_of(s_init)[0], **network)
    model.fit(data.X_train, data.y_train, epochs=iterations, learning_rate=learning_rate, verbose=0)
    return model, data, {"train_accuracy": model.evaluate(data.X_train, data.y_train)["accuracy"],
                         "test_accuracy": model.evaluate(data.X_test, data.y_test)["accuracy"]}


def legacy_rng(seq: np.random.SeedSequence) -> np.random.RandomState:
    """A RandomState (what scikit-learn's generators and the course's `randn` take) fed by `seq`."""
    return np.random.RandomState(np.random.MT19937(seq))


class CourseShuffle:
    """The course's mini-batch shuffling: epoch e (from 0) permutes with `np.random.seed(first + e)`.

    The course's `model` starts from `seed = 10` and increments it at the start of every epoch before
    `random_mini_batches(X, Y, mini_batch_size, seed)` calls `np.random.seed(seed)` and
    `np.random.permutation(m)`; so epoch e uses seed 11 + e. One RandomState is reseeded per epoch
    (legacy seeding, bit-identical to `np.random.seed`) instead of building one per epoch, which would
    draw OS entropy first.
    """

    def __init__(self, first: int = 11):
        self.first = int(first)
        self._rs = np.random.RandomState(0)

    def __call__(self, epoch: int, m: int) -> np.ndarray:
        self._rs.seed(self.first + epoch)
        return self._rs.permutation(m)


class SeededShuffle:
    """Fresh-seed shuffling: one Generator from a seed sequence, a new permutation every epoch."""

    def __init__(self, seq: np.random.SeedSequence):
        self._rng = np.random.default_rng(seq)

    def __call__(self, epoch: int, m: int) -> np.ndarray:
        return self._rng.permutation(m)


# ---------------------------------------------------------------------------------------- formatting


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def fmt_interval(stat: dict, digits: int = 1, percent: bool = True) -> str:
    """'93.1% [91.8, 94.4]' (mean [95% interval]) or the mean alone when n = 1."""
    if stat.get("mean") is None:
        return "—"
    scale, unit = (100.0, "%") if percent else (1.0, "")
    text = f"{scale * stat['mean']:.{digits}f}{unit}"
    if stat.get("low") is not None:
        text += f" [{scale * stat['low']:.{digits}f}, {scale * stat['high']:.{digits}f}]"
    return text


def _printed_form(printed: str) -> tuple[str, bool, int]:
    """A number as the seeds print it: (its digits without "%", whether it is a percentage, its decimals)."""
    text = printed.strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    return text, percent, len(text.split(".")[1]) if "." in text else 0


def matches_printed(ours: float, printed: str) -> bool:
    """Does `ours` equal a number the seeds print, to the digits printed?

    "0.947867298578" → ours rounded to 12 decimals; "95%" → 100·ours rounded to an integer; "91.5%" → to one
    decimal.
    """
    text, percent, decimals = _printed_form(printed)
    value = 100.0 * ours if percent else ours
    return round(value, decimals) == round(float(text), decimals)


def like_printed(ours: float, printed: str) -> str:
    """`ours` written the way the seeds print the number it is compared with, with at least 4 digits."""
    _, percent, decimals = _printed_form(printed)
    if percent:
        return f"{100 * ours:.{max(decimals, 2)}f}%"
    return f"{ours:.{max(decimals, 4)}f}"


def compare(settings: Settings, ours: float, printed: str) -> bool | None:
    """`matches_printed`, or None in a quick run (whose iteration counts are not the course's)."""
    return None if settings.quick else matches_printed(ours, printed)


def trained(settings: Settings, passed: bool) -> bool | None:
    """A claim about trained networks: not checked in a quick run (too few iterations to say anything)."""
    return None if settings.quick else passed


def mark(passed: bool | None) -> str:
    """A table cell: ✓, ✗, or – when not checked."""
    return "–" if passed is None else ("✓" if passed else "✗")


def verdict(passed: bool | None) -> str:
    if passed is None:
        return "– not checked (quick run)"
    return "✓ match" if passed else "✗ MISMATCH"


def fewer(a: float | None, b: float | None, or_equal: bool = False) -> bool:
    """Is count `a` (None: never reached) better than `b`: reached, and `b` not reached or larger."""
    if a is None:
        return False
    return b is None or (a <= b if or_equal else a < b)


def rebuild(builder: Callable[..., Sequential], theta: np.ndarray) -> Sequential:
    """A trained model rebuilt in this process: the architecture from `builder()`, the weights θ copied in."""
    model = builder()
    model.theta[...] = theta
    return model


# ----------------------------------------------------------------------- parts shared by finish()


def course_summary(course: dict, every: int) -> dict[str, Any]:
    """A course-protocol run in results.json: its accuracies, first and final cost, every `every`-th cost."""
    cost = course["cost"]
    return {"train_accuracy": course["train_accuracy"], "test_accuracy": course["test_accuracy"],
            "first_cost": float(cost[0]), "final_cost": float(cost[-1]),
            f"cost_every_{every}": [float(c) for c in cost[::every]]}


def accuracy_statistics(per_seed: Sequence[dict]) -> dict[str, dict]:
    """Mean and 95% interval of the train and test accuracies of the fresh seeds' runs."""
    return {"train_accuracy": mean_interval([o["train_accuracy"] for o in per_seed]),
            "test_accuracy": mean_interval([o["test_accuracy"] for o in per_seed])}


def course_accuracy_checks(settings: Settings, subject: str, course: dict,
                           printed: tuple[str | None, str | None]) -> tuple[list[Check], list[str]]:
    """The course-protocol run's (train, test) accuracy against the seeds' printed (train, test) numbers.

    `subject` starts each claim ("He initialization" → "He initialization, train accuracy (course
    protocol)"). Returns the checks (none where the seeds print nothing) and the table's two verdict
    cells (✓, ✗, – or — where nothing is printed).
    """
    checks, cells = [], []
    for what, text in zip(("train", "test"), printed, strict=True):
        if text is None:
            cells.append("—")
            continue
        ours = course[f"{what}_accuracy"]
        checks.append(Check(f"{subject}, {what} accuracy (course protocol)", text, like_printed(ours, text),
                            compare(settings, ours, text)))
        cells.append(mark(checks[-1].passed))
    return checks, cells


def first_reaching(cost: Sequence[float], target: float) -> int | None:
    """How many epochs (iterations) until the cost is <= target: the 1-based index, None if never."""
    return next((i + 1 for i, c in enumerate(cost) if c <= target), None)


def plot_path(plot_dir: Path, name: str) -> tuple[Path, str]:
    """(absolute path to write, path relative to the output directory for the report)."""
    return plot_dir / name, f"{plot_dir.name}/{name}"


def save_plot(fig: Any, plot_dir: Path, name: str) -> str:
    """Write `fig` as the PNG plot_dir/name; return its path relative to the output directory (for the report)."""

    abs_path, rel_path = plot_path(plot_dir, name)
    plots.save_figure(fig, abs_path)
    return rel_path


def boundaries_figure(plot_dir: Path, name: str, panels: Sequence[tuple[Any, str]], X: np.ndarray,
                      y: np.ndarray, *, suptitle: str, grid: tuple[int, int] = (1, 3),
                      figsize: tuple[float, float] = (13.5, 4.2), **options: Any) -> str:
    """Decision boundaries of trained models side by side on the same data; returns `save_plot`'s path.

    panels : (model, title) per panel, row by row; `options` go to `plots.plot_decision_boundary`.
    """

    fig, axes = plots.subplots(*grid, figsize=figsize)
    for ax, (model, title) in zip(np.ravel(axes), panels, strict=True):
        plots.plot_decision_boundary(ax, model, X, y, title=title, **options)
    fig.suptitle(suptitle)
    return save_plot(fig, plot_dir, name)
