"""`gw.tune`: data → study (embedded or shared) → workers → best configuration retrained and tested once."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _html
from .._atomic import write_json, write_text
from .._validation import as_2d_float, check_choice, check_float, check_int
from ..data import Dataset, load, split
from ..data.columns import is_dataframe
from ..ensemble import Ensemble
from ..errors import GradwiseTypeError, GradwiseValueError
from ..metrics import confusion_lines, metric_lines
from ..progress import UnitProgress
from ..tracking import TensorBoard
from . import storage as st
from .final import evaluate_test, retrain_and_test
from .objective import TuningData, check_metric
from .plots import write_plots
from .space import SearchSpace
from .study import (
    CONFIG_ATTR,
    STAGE_NAMES,
    StudyPlan,
    WorkerReport,
    fine_space,
    open_study,
    run_worker,
    stage_of,
)
from .tables import frame_data, is_table, table_data
from .tracking import TrialTracking

__all__ = ["tune", "TuneResult", "prepare_data"]

SUMMARY = "summary.json"
TRIALS = "trials.csv"
MAX_AUTO_CLASSES = 50


@dataclass
class TuneResult:
    """What `tune` found.

    Attributes
    ----------
    study : optuna.Study
    best_number : int or None — the best trial (lowest dev error / RMSE)
    best_config : dict — its full configuration
    best_dev : dict — its dev scores (``accuracy`` and ``cost``, or ``rmse`` and ``cost``; and the
        chosen metric)
    final : list of dict — per final seed: ``seed``, ``test`` scores (with the table metrics of
        :mod:`gradwise.metrics`), ``train_seconds``, ``run_dir``
    models : list of Sequential — the retrained models, one per final seed
    test_mean, test_std : float or None — the test value of :attr:`metric` over the final seeds
    test_ensemble : dict or None — the test scores of the final models averaged as one `Ensemble` (two or
        more final seeds and a test set)
    objective : str or None — the metric the study optimized (None: dev error, or RMSE for regression)
    class_names : tuple of str or None — the labels of the classes, in the order of the model's outputs
    counts : dict — finished trials by state
    coarse_space, fine_space : SearchSpace (fine_space None without a fine stage)
    plots : dict — paths of the PNGs (and the importances)
    out : Path or None; seconds : float
    """

    study: Any
    study_name: str
    storage: str
    task: str
    best_number: int | None = None
    best_config: dict = field(default_factory=dict)
    best_dev: dict = field(default_factory=dict)
    final: list = field(default_factory=list)
    models: list = field(default_factory=list)
    test_mean: float | None = None
    test_std: float | None = None
    test_ensemble: dict | None = None
    counts: dict = field(default_factory=dict)
    coarse_space: SearchSpace | None = None
    fine_space: SearchSpace | None = None
    plots: dict = field(default_factory=dict)
    out: Path | None = None
    seconds: float = 0.0
    worker: WorkerReport | None = None
    objective: str | None = None
    class_names: tuple | None = None

    @property
    def metric(self) -> str:
        """The score reported on dev and test: the optimized metric, or accuracy (RMSE for regression)."""
        if self.objective is not None:
            return self.objective
        return "accuracy" if self.task != "regression" else "rmse"

    def to_dict(self) -> dict:
        return {
            "study": self.study_name, "storage": self.storage, "task": self.task,
            "metric": self.metric, "best_trial": self.best_number, "best_config": self.best_config,
            "best_dev": self.best_dev,
            "final": [{k: v for k, v in f.items() if k != "model"} for f in self.final],
            f"test_{self.metric}_mean": self.test_mean, f"test_{self.metric}_std": self.test_std,
            f"test_{self.metric}_ensemble": (self.test_ensemble or {}).get(self.metric),
            "test_ensemble": self.test_ensemble,
            "trials": self.counts,
            "coarse_space": self.coarse_space.to_dict() if self.coarse_space else None,
            "fine_space": self.fine_space.to_dict() if self.fine_space else None,
            "plots": {k: v for k, v in self.plots.items() if k != "importances"},
            "importances": self.plots.get("importances", {}),
            "seconds": self.seconds,
        }

    def summary(self) -> str:
        lines = [f"study {self.study_name!r} ({self.storage}): " +
                 ", ".join(f"{n} {k.lower()}" for k, n in self.counts.items() if n)]
        if self.best_number is not None:
            value = self.best_dev.get(self.metric)
            shown = "n/a" if value is None else f"{value:.4f}" if self.task != "regression" else f"{value:.4g}"
            dev = f"dev {self.metric} {shown}"
            lines.append(f"best trial {self.best_number}: {dev}")
            lines.append("  " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.best_config.items()))
        if self.final and self.final[0]["test"] is not None and self.test_mean is not None:
            values = [f["test"][self.metric] for f in self.final if f["test"].get(self.metric) is not None]
            per_seed = ", ".join(f"{v:.4f}" for v in values)
            spread = f" ± {self.test_std:.4f}" if len(values) > 1 else ""
            together = (self.test_ensemble or {}).get(self.metric)
            averaged = "" if together is None else f"; the {len(self.final)} models as one ensemble {together:.4f}"
            lines.append(f"test {self.metric} over {len(values)} seed(s): {per_seed}; "
                         f"mean {self.test_mean:.4f}{spread}{averaged}")
            lines.extend("  test " + line for line in _table_lines(self.final[0]["test"], self.class_names))
        if self.out is not None:
            wrote = [SUMMARY, TRIALS] + (["plots/"] if self.plots else []) + (["best/"] if self.final else [])
            lines.append(f"wrote {self.out}/ ({', '.join(wrote)})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary, and the best trial's configuration as a table."""
        best = _html.table(["setting", "value"], [(k, _fmt(v)) for k, v in self.best_config.items()],
                           caption=f"best trial {self.best_number}") if self.best_config else ""
        return _html.heading(f"TuneResult: study {self.study_name!r}") + _html.text(self.summary()) + best

    def __repr__(self) -> str:
        return (f"TuneResult(study={self.study_name!r}, best_trial={self.best_number}, "
                f"test_mean={self.test_mean})")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _table_lines(s: dict, class_names: Any) -> list[str]:
    """The table metrics of the first final model's test scores (the full set: best/metrics.json)."""
    lines = metric_lines(s)
    if "confusion_matrix" in s:
        lines += confusion_lines(s["confusion_matrix"], class_names)
    return lines


# ------------------------------------------------------------------------------------------- data


def _encode(y: np.ndarray, name: str, task: str | None):
    """(encoded y, task, n_classes, class labels or None) for a user's target array."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise GradwiseValueError(f"{name} must have shape (m,), got {y.shape}")
    if task is not None:
        task = check_choice("task", task, ("classification", "binary", "multiclass", "regression"))
    numeric = np.issubdtype(y.dtype, np.number) or y.dtype == bool
    if task is None:
        integral = (not numeric) or y.dtype.kind in "biu" or (
            np.all(np.isfinite(y.astype(float))) and np.all(np.mod(y.astype(float), 1) == 0))
        task = "classification" if integral and len(np.unique(y)) <= MAX_AUTO_CLASSES else "regression"
    if task == "regression":
        if not numeric:
            raise GradwiseTypeError(f"{name} must hold numbers for regression, got dtype {y.dtype}")
        return y.astype(np.float64), "regression", None, None
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise GradwiseValueError(f"{name} holds a single class ({classes[0]!r}): nothing to classify")
    same = numeric and np.array_equal(classes, np.arange(len(classes)))
    names = None if same else tuple(str(c) for c in classes)
    kind = "binary" if len(classes) == 2 else "multiclass"
    return encoded.astype(np.int64), kind, len(classes), (names, classes)


def prepare_data(X=None, y=None, *, dataset=None, X_test=None, y_test=None, target=None, task=None,
                 dev_fraction: float = 0.25, seed: int = 0):
    """The train / dev splits (as :class:`TuningData`) and the test set, kept apart.

    A data set (name, file or :class:`~gradwise.data.Dataset`) with a test set has its training part split
    into train / dev (`dev_fraction` to dev, stratified for classification); one without a test set, or
    bare arrays without `X_test`, is split by the seeds' rule (60/20/20; 98/1/1 past a million examples).
    A table (.csv/.tsv/.parquet) is split the same way (its ``split`` column marks test rows) and typed by
    a column plan fitted on the training split only (:func:`gradwise.tuning.tables.table_data`).

    Returns
    -------
    data : TuningData;  X_test, y_test : ndarray;  info : dict (class_names, feature_names, name; for a
    table also preprocessor, target, source, notes)
    """

    if dataset is not None and (X is not None or y is not None):
        raise GradwiseValueError("give either arrays (X, y) or dataset=, not both")
    if is_table(dataset):
        if X_test is not None or y_test is not None:
            raise GradwiseValueError("a table brings its own test rows; X_test/y_test go with arrays")
        return table_data(dataset, target, dev_fraction=dev_fraction, seed=seed, task=task)
    if is_dataframe(X):
        return _frame_data(X, y, X_test, y_test, task, dev_fraction, seed)
    if dataset is not None:
        if isinstance(dataset, Dataset):
            ds = dataset
        elif isinstance(dataset, str | os.PathLike):
            options = {} if target is None else {"target": target}
            ds = load(dataset, seed=seed, **options)
        else:
            raise GradwiseTypeError(f"dataset must be a name, a file path or a Dataset, got {dataset!r}")
        if X_test is not None or y_test is not None:
            raise GradwiseValueError("a dataset brings its own test set; X_test/y_test go with arrays")
        Xtr, ytr, Xte, yte = ds.X_train, ds.y_train, ds.X_test, ds.y_test
        name, kind, n_classes = ds.name, ds.task, ds.n_classes
        class_names, feature_names = ds.class_names, ds.feature_names
    else:
        if X is None or y is None:
            raise GradwiseValueError("tune needs data: tune(X, y, ...) or tune(dataset='mnist1d', ...)")

        Xtr = as_2d_float("X", X, np.dtype(np.float64))
        ytr, kind, n_classes, labels = _encode(y, "y", task)
        if len(ytr) != len(Xtr):
            raise GradwiseValueError(f"X has {len(Xtr)} rows but y has {len(ytr)}")
        class_names = labels[0] if labels else None
        feature_names = tuple(f"x{i + 1}" for i in range(Xtr.shape[1]))
        name = "arrays"
        if (X_test is None) != (y_test is None):
            raise GradwiseValueError("give both X_test and y_test, or neither")
        if X_test is not None:
            # Shapes only: the values are not looked at before the final evaluation.
            Xte = np.asarray(X_test, dtype=np.float64)
            if Xte.ndim == 1:
                Xte = Xte.reshape(-1, 1)
            if Xte.ndim != 2 or Xte.shape[1] != Xtr.shape[1]:
                raise GradwiseValueError(f"X_test must have shape (m, {Xtr.shape[1]}), got {Xte.shape}")
            yte = _encode_test(y_test, len(Xte), labels)
        else:
            Xte, yte = np.empty((0, Xtr.shape[1])), np.empty(0)
    if len(yte):
        parts = split(Xtr, ytr, ratios=(1.0 - dev_fraction, dev_fraction), seed=seed)
        X_test_out, y_test_out = Xte, yte
    else:
        parts = split(Xtr, ytr, ratios=None, seed=seed)
        X_test_out, y_test_out = parts.X_test, parts.y_test
    data = TuningData(np.ascontiguousarray(parts.X_train, dtype=np.float64), parts.y_train,
                      np.ascontiguousarray(parts.X_dev, dtype=np.float64), parts.y_dev, kind, n_classes, name)
    info = {"class_names": class_names, "feature_names": feature_names, "name": name}
    return data, X_test_out, y_test_out, info


def _encode_test(y_test: Any, m: int, labels) -> np.ndarray:
    """y_test (m,) encoded as y was: its labels mapped to y's class indices (an unknown one is an error)."""
    yte = np.asarray(y_test)
    if yte.ndim == 2 and yte.shape[1] == 1:
        yte = yte[:, 0]
    if yte.shape != (m,):
        raise GradwiseValueError(f"y_test must have shape ({m},), got {yte.shape}")
    if labels is not None:
        lookup = {v: i for i, v in enumerate(labels[1].tolist())}
        unknown = [v for v in np.unique(yte).tolist() if v not in lookup]
        if unknown:
            raise GradwiseValueError(f"y_test holds label(s) {unknown[:5]} absent from y")
        yte = np.array([lookup[v] for v in yte.tolist()], dtype=np.int64)
    return yte


def _frame_data(X: Any, y: Any, X_test: Any, y_test: Any, task: str | None, dev_fraction: float, seed: int):
    """A DataFrame X (categories, gaps): its rows split, the column plan fitted on the training rows."""
    if y is None:
        raise GradwiseValueError("tune needs y with a DataFrame X: tune(frame, y, ...)")
    ytr, kind, n_classes, labels = _encode(y, "y", task)
    if len(ytr) != len(X):
        raise GradwiseValueError(f"X has {len(X)} rows but y has {len(ytr)}")
    if (X_test is None) != (y_test is None):
        raise GradwiseValueError("give both X_test and y_test, or neither")
    if X_test is not None and not is_dataframe(X_test):
        raise GradwiseTypeError(f"X_test must be a pandas DataFrame like X, got {type(X_test).__name__}")
    yte = _encode_test(y_test, len(X_test), labels) if X_test is not None else None
    return frame_data(X, ytr, kind, n_classes, labels[0] if labels else None, frame_test=X_test, y_test=yte,
                      dev_fraction=dev_fraction, seed=seed)


def _resolve_space(space: Any, epochs: int | None) -> SearchSpace:
    if space is None:
        result = SearchSpace.default()
    elif isinstance(space, SearchSpace):
        result = space
    elif isinstance(space, Mapping):
        result = SearchSpace.default().override(space)
    elif isinstance(space, str | os.PathLike):
        result = SearchSpace.from_toml(space)
    else:
        raise GradwiseTypeError(
            f"space must be a SearchSpace, a dict of ranges or a TOML file path, got {space!r}")
    if epochs is not None:
        result = result.override({"epochs": check_int("epochs", epochs, minimum=1)})
    return result


# ------------------------------------------------------------------------------------------- tune


def tune(
    X: Any = None,
    y: Any = None,
    *,
    dataset: Any = None,
    X_test: Any = None,
    y_test: Any = None,
    target: str | int | None = None,
    task: str | None = None,
    trials: int = 20,
    fine_trials: int | None = None,
    top_fraction: float = 0.2,
    epochs: int | None = None,
    space: Any = None,
    sampler: str = "random",
    pruner: str = "median",
    storage: Any = None,
    study_name: str | None = None,
    workers: int = 1,
    out: str | os.PathLike | None = None,
    seed: int = 0,
    dev_fraction: float = 0.25,
    standardize: bool = True,
    dtype: str = "float64",
    final_seeds: int = 1,
    final_data: str = "train+dev",
    heartbeat: int | None = 60,
    worker_only: bool = False,
    plots: bool = True,
    threads: int | None = 1,
    metric: str | None = None,
    class_weight: Any = None,
    verbose: bool = True,
    log: Callable[[str], None] | None = None,
    tensorboard: bool = False,
    callbacks: Sequence[Callable[[Any, Any], None]] | None = None,
) -> TuneResult:
    """Random search (or TPE) over the seeds' hyperparameters, coarse then fine, on Optuna.

    Parameters
    ----------
    X, y : arrays of shape (m, n_x) and (m,) — X may be a pandas DataFrame —, or `dataset`: a built-in name,
        a .csv/.tsv/.parquet/.npz path or a Dataset. A table (file or DataFrame) may hold categories and
        missing values: its column plan is fitted on the training split only and saved with the final
        models, which then predict on raw rows.
    X_test, y_test : arrays, optional
        With arrays: the test set, looked at once, by the final models. Without it, (X, y) is split
        60/20/20 (the seeds' rule) and the last 20% is the test set. A data set brings its own.
    trials, fine_trials : int
        Coarse trials, then fine trials around the best `top_fraction` of them (default ``trials // 2``;
        0: no fine stage). The study runs exactly ``trials + fine_trials`` trials, however many workers.
    epochs : int, optional
        Fixes the epochs of every trial (else the space's ``epochs``, 30 by default).
    space : SearchSpace, dict of ranges (e.g. ``{"learning_rate": "1e-3:1e-1"}``) or TOML path
    sampler : "random" (the seeds' advice) or "tpe";  pruner : "median" or "none"
    storage : None, an Optuna URL (``postgresql://…``, ``sqlite:///…``), a ``.journal`` path, or a storage
        None: ``out/study.db`` (SQLite), or ``out/study.journal`` with several workers; in memory when `out`
        is None too.
    study_name : str — default ``gradwise-<data name>``; the same name resumes or joins the study
    workers : int — local worker processes sharing the study (this one included)
    out : directory for the study file, plots, summary, trials.csv and the final run directories
    seed : int — generated data sets (moons, …), the train/dev split, each trial's sampler (seeded from
        (seed, trial number)) and the networks' initialization
    dev_fraction : float — share of a data set's training part that becomes the dev split
    standardize : bool — fit a Standardizer on each training split
    dtype : "float64" or "float32"
    final_seeds : int — retrain the best configuration with seeds seed, seed+1, … and test each once
    final_data : "train+dev" (default) or "train" — what the final models are trained on
    heartbeat : int seconds or None — RDB heartbeat for finding dead workers
    worker_only : bool — run trials and return, without the final models and plots (extra machines)
    threads : int or None — BLAS threads per worker while training (None: leave as is)
    metric : str, optional — what the study optimizes on the dev split, and prunes on epoch by epoch: a
        name of :data:`gradwise.tuning.objective.TUNE_METRICS` (``accuracy``, ``balanced_accuracy``,
        ``f1_macro``, ``roc_auc``, ``log_loss``; ``rmse``, ``mae``, ``r2``; ``cost``), maximized or
        minimized as it requires. None (default): the dev error (RMSE for regression), pruned on the dev
        cost. The final models' test score reports it too.
    class_weight : None, "balanced" or {label: weight} — passed to every trial's and final model's ``fit``
    tensorboard : bool — each trial writes TensorBoard event files (per-epoch scalars, per-layer weight and
        gradient histograms) under ``out/tensorboard/trial-N``; needs `out` and the tensorboard extra
    callbacks : Optuna study callbacks, ``callback(study, frozen_trial)``, called after each trial this
        process runs (as ``study.optimize(callbacks=…)`` does); the workers it spawns do not call them

    Returns
    -------
    TuneResult
    """
    started = time.perf_counter()
    a = _Arguments.checked(trials=trials, fine_trials=fine_trials, top_fraction=top_fraction, sampler=sampler,
                           pruner=pruner, workers=workers, seed=seed, dev_fraction=dev_fraction, dtype=dtype,
                           final_seeds=final_seeds, final_data=final_data, heartbeat=heartbeat, threads=threads)
    if log is None:
        log = (lambda line: print(line, flush=True)) if verbose else (lambda line: None)
    data, X_te, y_te, info = prepare_data(X, y, dataset=dataset, X_test=X_test, y_test=y_test, target=target,
                                          task=task, dev_fraction=a.dev_fraction, seed=a.seed)
    metric = check_metric(metric, data.task)
    weights = _class_weight(class_weight, data, info)
    coarse = _resolve_space(space, epochs)
    if not coarse.searched:
        raise GradwiseValueError("the search space fixes every hyperparameter: give at least one range")
    plan = a.plan(coarse, data, bool(standardize), metric, weights)
    out_path, spec = _output(out, storage, a.workers)
    tracking = _tracking(out_path, tensorboard, callbacks)
    name = study_name or f"gradwise-{data.name}"
    with _optuna_quiet():
        raw = st.open_storage(spec, a.heartbeat)
        study = open_study(raw, name, plan, log=log)
        _announce(log, name, spec, plan, a.workers, data, len(y_te), coarse)
        with _trial_bar(study, plan, a.workers, verbose, tracking) as bar:
            report = _run_workers(study, raw, spec, name, plan, data, out_path, a, worker_only, bar.say(log),
                                  tracking)
        result = TuneResult(study=study, study_name=name, storage=st.describe(spec), task=data.task,
                            coarse_space=coarse, out=out_path, worker=report, objective=metric,
                            class_names=info["class_names"])
        _fill_best(result, study, plan)
        if worker_only:
            result.seconds = time.perf_counter() - started
            return result
        if result.best_number is None:
            raise GradwiseValueError(f"study {name!r} has no completed trial (all pruned or failed)")
        if a.final_seeds:
            _retrain_best(result, data, X_te, y_te, a, plan, info, log)
        if plots and out_path is not None:
            result.plots = write_plots(study, coarse, out_path / "plots", data.task, data.name, metric)
        result.seconds = time.perf_counter() - started
        if out_path is not None:
            _write_outputs(result, study, coarse, out_path)
        log(result.summary())
        return result


@dataclass(frozen=True)
class _Arguments:
    """`tune`'s counts, fractions and choices, checked: each error names the argument and its value."""

    trials: int
    fine_trials: int
    top_fraction: float
    sampler: str
    pruner: str
    workers: int
    seed: int
    dev_fraction: float
    dtype: str
    final_seeds: int
    final_data: str
    heartbeat: int | None
    threads: int | None

    @classmethod
    def checked(cls, *, trials: Any, fine_trials: Any, top_fraction: Any, sampler: Any, pruner: Any,
                workers: Any, seed: Any, dev_fraction: Any, dtype: Any, final_seeds: Any, final_data: Any,
                heartbeat: Any, threads: Any) -> _Arguments:
        """Check the arguments in the order `tune` takes them (the first bad one is reported)."""
        trials = check_int("trials", trials, minimum=1)
        return cls(
            trials=trials,
            fine_trials=trials // 2 if fine_trials is None else check_int("fine_trials", fine_trials, minimum=0),
            top_fraction=check_float("top_fraction", top_fraction, low=0.0, high=1.0, low_open=True),
            sampler=check_choice("sampler", sampler, ("random", "tpe")),
            pruner=check_choice("pruner", pruner, ("median", "none")),
            workers=check_int("workers", workers, minimum=1),
            seed=check_int("seed", seed, minimum=0),
            dev_fraction=check_float("dev_fraction", dev_fraction, low=0.0, high=1.0, low_open=True,
                                     high_open=True),
            dtype=check_choice("dtype", dtype, ("float64", "float32")),
            final_seeds=check_int("final_seeds", final_seeds, minimum=0),
            final_data=check_choice("final_data", final_data, ("train+dev", "train")),
            heartbeat=None if heartbeat is None else check_int("heartbeat", heartbeat, minimum=1),
            threads=None if threads is None else check_int("threads", threads, minimum=1),
        )

    def plan(self, coarse: SearchSpace, data: TuningData, standardize: bool, metric: str | None = None,
             class_weight: str | dict | None = None) -> StudyPlan:
        """The study these arguments ask for, on `data` and the coarse `space`."""
        return StudyPlan(trials=self.trials, fine_trials=self.fine_trials, top_fraction=self.top_fraction,
                         space=coarse.to_dict(), sampler=self.sampler, pruner=self.pruner, seed=self.seed,
                         standardize=standardize, dtype=self.dtype, data=data.fingerprint(), data_name=data.name,
                         task=data.task, metric=metric, class_weight=class_weight)


def _class_weight(class_weight: Any, data: TuningData, info: dict) -> str | dict | None:
    """`class_weight` for the study's plan: None, "balanced", or {class index as text: weight} from a dict
    keyed by the data's labels (their names, or the integers 0..K-1)."""
    if class_weight is None:
        return None
    if data.task == "regression":
        raise GradwiseValueError(f"class_weight applies to classification, but the data's task is regression "
                                 f"(got {class_weight!r})")
    if isinstance(class_weight, str):
        return check_choice("class_weight", class_weight, ("balanced",))
    if not isinstance(class_weight, Mapping):
        raise GradwiseTypeError(f"class_weight must be None, 'balanced' or a dict {{label: weight}}, got "
                                f"{class_weight!r}")
    names = info.get("class_names")
    labels = [str(c) for c in names] if names is not None else [str(k) for k in range(data.n_outputs)]
    table = {}
    for label, weight in class_weight.items():
        if str(label) not in labels:
            raise GradwiseValueError(f"class_weight names label {label!r}, which is not a class of the data "
                                     f"({', '.join(labels[:10])})")
        table[str(labels.index(str(label)))] = check_float(f"class_weight[{label!r}]", weight, low=0.0,
                                                           low_open=True)
    return table


def _output(out: str | os.PathLike | None, storage: Any, workers: int) -> tuple[Path | None, str]:
    """The output directory (created) and the storage's spec, both checked before anything is created."""
    out_path = Path(out) if out is not None else None
    if out_path is not None and out_path.exists() and not out_path.is_dir():
        raise GradwiseValueError(f"out {str(out_path)!r} is a file, not a directory")
    spec = st.resolve_storage(storage, out_path, workers)
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
    return out_path, spec


def _announce(log: Callable[[str], None], name: str, spec: str, plan: StudyPlan, workers: int, data: TuningData,
              n_test: int, coarse: SearchSpace) -> None:
    """Log the study, the data's splits and the search space before the first trial."""
    log(f"study {name!r} in {st.describe(spec)}: {plan.trials} coarse + {plan.fine_trials} fine trials, "
        f"{plan.sampler} sampler, {plan.pruner} pruner, {workers} worker(s)")
    log(f"data {data.name} ({data.task}): train {len(data.y_train)}, dev {len(data.y_dev)}, "
        f"test {n_test} (not seen until the final models)")
    log("search space:\n" + coarse.describe())


def _tracking(out: Path | None, tensorboard: bool, callbacks: Any) -> TrialTracking:
    """The per-trial tracking of this process, checked before any trial runs."""
    log_dir = None
    if tensorboard:
        if out is None:
            raise GradwiseValueError("tensorboard=True writes under out/tensorboard/: pass out=DIRECTORY")
        log_dir = out / "tensorboard"
        TensorBoard(log_dir)  # fails now, not after a first trial, when tensorboardX is missing
    if callbacks is not None and not isinstance(callbacks, list | tuple):
        raise GradwiseTypeError(f"callbacks must be a list of callables, got {type(callbacks).__name__}")
    return TrialTracking.checked(log_dir, callbacks)


@contextlib.contextmanager
def _trial_bar(study, plan: StudyPlan, workers: int, verbose: bool, tracking: TrialTracking):
    """A bar over the planned trials when someone watches and this process runs them all (one worker)."""
    from optuna.trial import TrialState

    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    bar = UnitProgress(plan.trials + plan.fine_trials, "tune", "trial", initial=done,
                       enabled=bool(verbose) and workers == 1)
    tracking.on_trial = bar.advance
    try:
        yield bar
    finally:
        tracking.on_trial = None
        bar.close()


def _run_workers(study, raw, spec: str, name: str, plan: StudyPlan, data: TuningData, out: Path | None,
                 a: _Arguments, worker_only: bool, log: Callable[[str], None],
                 tracking: TrialTracking) -> WorkerReport:
    """Run the study's trials here and in `workers - 1` spawned processes; return when all are done."""
    children = _spawn(a.workers - 1, spec, name, plan, data, out, a.threads, a.heartbeat,
                      tracking.tensorboard_dir) if a.workers > 1 else []
    try:
        report = run_worker(study, raw, data, plan, threads=a.threads, log=log, tracking=tracking)
        if not worker_only:
            report = _finish_queue(study, raw, data, plan, a.threads, log, report, tracking)
    except BaseException:
        _stop(children)
        raise
    _wait_children(children, log)
    return report


def _retrain_best(result: TuneResult, data: TuningData, X_test: np.ndarray, y_test: np.ndarray,
                  a: _Arguments, plan: StudyPlan, info: dict, log: Callable[[str], None]) -> None:
    """Retrain the best configuration once per final seed and test each model once (fills `result`)."""

    table = {"target": info["target"], "data": info["source"]} if "source" in info else {}
    result.final = retrain_and_test(
        result.best_config, data, X_test, y_test, seeds=[a.seed + k for k in range(a.final_seeds)],
        final_data=a.final_data, dtype=a.dtype, standardize=plan.standardize, out=result.out,
        threads=a.threads, class_names=info["class_names"], feature_names=info["feature_names"],
        study_info={"name": result.study_name, "storage": result.storage, "best_trial": result.best_number,
                    "best_dev": result.best_dev, "metric": result.metric}, log=log,
        class_weight=plan.fit_class_weight, preprocessor=info.get("preprocessor"), metadata=table,
        notes=info.get("notes", []), metric=result.metric)
    result.models = [f.pop("model") for f in result.final]
    tests = [f["test"][result.metric] for f in result.final
             if f["test"] is not None and f["test"].get(result.metric) is not None]
    if tests:
        result.test_mean = float(np.mean(tests))
        result.test_std = float(np.std(tests))
    if len(result.models) > 1 and X_test is not None and y_test is not None and len(X_test):
        # the seeds' model ensemble: the final models' probabilities (or values) averaged, tested once more
        result.test_ensemble = evaluate_test(Ensemble(result.models), X_test, y_test, info["class_names"])


def _write_outputs(result: TuneResult, study, coarse: SearchSpace, out: Path) -> None:
    """trials.csv and summary.json in the output directory."""

    _write_trials_csv(study, coarse, out / TRIALS, result.objective)
    write_json(out / SUMMARY, result.to_dict())


@contextlib.contextmanager
def _optuna_quiet():
    """Optuna logs every trial at INFO; our own one-line-per-trial log replaces it."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def _finish_queue(study, raw, data, plan, threads, log, report: WorkerReport,
                  tracking: TrialTracking) -> WorkerReport:
    """Run what is left (trials re-queued after a worker died) and wait for the other workers' trials."""
    from optuna.trial import TrialState

    said = False
    while True:
        busy = study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING))
        if not busy:
            return report
        if any(t.state == TrialState.WAITING for t in busy):
            more = run_worker(study, raw, data, plan, threads=threads, log=log, tracking=tracking)
            report.ran += more.ran
            report.complete += more.complete
            report.pruned += more.pruned
            report.reaped += more.reaped
            continue
        if not said:
            log(f"waiting for {len(busy)} trial(s) running in other workers")
            said = True
        st.reap(study)
        time.sleep(1.0)


def _fill_best(result: TuneResult, study, plan: StudyPlan) -> None:
    from optuna.trial import TrialState

    counts = {s.name: 0 for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
                                  TrialState.RUNNING, TrialState.WAITING)}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    result.counts = counts
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if CONFIG_ATTR in t.user_attrs]
    if plan.fine_trials and study.user_attrs.get("gradwise:fine_space"):
        result.fine_space = fine_space(study, plan)
    if not complete:
        return
    best = min(complete, key=lambda t: (t.value, t.number))
    result.best_number = best.number
    result.best_config = dict(best.user_attrs[CONFIG_ATTR])
    result.best_dev = {k[len("dev_"):]: v for k, v in best.user_attrs.items() if k.startswith("dev_")}


def _write_trials_csv(study, space: SearchSpace, path: Path, metric: str | None = None) -> None:
    """One row per trial: its state, the minimized value, the dev scores, its hyperparameters; with a
    chosen `metric`, a column ``dev_<metric>`` holds its dev value (with its own sign)."""
    names = space.searched
    extra = [] if metric in (None, "accuracy", "cost") else [f"dev_{metric}"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "stage", "state", "value", "dev_accuracy", "dev_cost", *extra, "seconds", *names,
                     "note"])
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        cfg = t.user_attrs.get(CONFIG_ATTR, {})
        writer.writerow([t.number, STAGE_NAMES.get(stage_of(t), stage_of(t)), t.state.name,
                         "" if t.value is None else repr(t.value),
                         t.user_attrs.get("dev_accuracy", ""), t.user_attrs.get("dev_cost", ""),
                         *(_attr(t, e) for e in extra), f"{t.user_attrs.get('seconds', float('nan')):.3f}",
                         *(cfg.get(n, "") for n in names), t.user_attrs.get("note", "")])
    write_text(path, buffer.getvalue())


def _attr(trial, key: str) -> Any:
    value = trial.user_attrs.get(key)
    return "" if value is None else value


# ---------------------------------------------------------------------------------- worker processes


def _spawn(n: int, spec: str, name: str, plan: StudyPlan, data: TuningData, out: Path | None,
           threads: int | None, heartbeat: int | None,
           tensorboard_dir: Path | None = None) -> list[tuple[subprocess.Popen, Path]]:
    """Start `n` worker processes on the study; each gets the train/dev splits only (never the test set)."""

    base = (out if out is not None else Path.cwd()) / "workers"
    base.mkdir(parents=True, exist_ok=True)
    data_path = base / f"data-{plan.data[:12]}.npz"
    if not data_path.exists():
        data.save(data_path)
    job = base / "job.json"
    write_json(job, {"storage": spec, "study": name, "plan": plan.to_dict(), "data": str(data_path),
                     "threads": threads, "heartbeat": heartbeat,
                     "tensorboard": str(tensorboard_dir) if tensorboard_dir is not None else None})
    children = []
    for k in range(n):
        log_path = base / f"worker-{k + 1}.log"
        handle = open(log_path, "ab")
        env = dict(os.environ)
        env.setdefault("OPENBLAS_NUM_THREADS", str(threads or ""))
        if not env["OPENBLAS_NUM_THREADS"]:
            del env["OPENBLAS_NUM_THREADS"]
        proc = subprocess.Popen([sys.executable, "-m", "gradwise.tuning.worker", str(job)],
                                stdout=handle, stderr=subprocess.STDOUT, env=env)
        handle.close()
        children.append((proc, log_path))
    return children


def _stop(children) -> None:
    for proc, _ in children:
        if proc.poll() is None:
            proc.terminate()
    for proc, _ in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_children(children, log) -> None:
    failed = []
    for proc, log_path in children:
        code = proc.wait()
        if code != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] if log_path.exists() else []
            failed.append(f"worker pid {proc.pid} exited with {code}" + (f": {tail[0]}" if tail else ""))
    for line in failed:
        log("warning: " + line)


def run_job(job_path: str | os.PathLike) -> int:
    """Entry point of a worker process (``python -m gradwise.tuning.worker JOB.json``)."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    plan = StudyPlan.from_dict(job["plan"])
    data = TuningData.load(job["data"])
    with _optuna_quiet():
        raw = st.open_storage(job["storage"], job.get("heartbeat"))
        study = open_study(raw, job["study"], plan, log=lambda line: print(line, flush=True))
        tensorboard = job.get("tensorboard")
        report = run_worker(study, raw, data, plan, threads=job.get("threads"),
                            log=lambda line: print(line, flush=True),
                            tracking=TrialTracking(Path(tensorboard) if tensorboard else None))
    print(f"worker {os.getpid()}: ran {report.ran} trial(s) ({report.complete} complete, "
          f"{report.pruned} pruned)", flush=True)
    return 0
