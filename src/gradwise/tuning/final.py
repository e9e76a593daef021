"""After the study: the best configuration retrained, saved as run directories and tested — once.

This module is the only place where a test set meets a model during tuning (:func:`evaluate_test`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import runs
from .._atomic import swap_in_directory
from ..errors import GradwiseValueError
from ..io import load
from ..metrics import model_scores
from .objective import TuningData, train_config
from .study import blas_threads

if TYPE_CHECKING:
    from ..ensemble import Ensemble
    from ..model import Sequential

__all__ = ["retrain_and_test", "evaluate_test"]

#: flock'ed by the process training and writing a final run in an --out directory
_LOCK = ".final.lock"


def evaluate_test(model: Sequential | Ensemble, X_test: np.ndarray, y_test: np.ndarray, class_names=None) -> dict:
    """The one look at the test set: cost, accuracy/error (or rmse) and the table metrics of the final
    model (balanced accuracy, per-class P/R/F1, ROC AUC, log loss, confusion matrix; MAE, R²).

    `X_test` (m, n_x) is raw (a table's rows already encoded by its column plan); the model applies its
    own Standardizer (fitted on its training data).
    """
    return model_scores(model, X_test, y_test, class_names)


def retrain_and_test(config: dict[str, Any], data: TuningData, X_test: np.ndarray | None,
                     y_test: np.ndarray | None, *, seeds: list[int], final_data: str, dtype: str,
                     standardize: bool, out: Path | None, threads: int | None, class_names=None,
                     feature_names=None, study_info: dict | None = None,
                     log: Callable[[str], None] = print, class_weight=None, preprocessor=None,
                     metadata: dict | None = None, notes: list[str] | None = None,
                     metric: str | None = None) -> list[dict]:
    """Train `config` once per seed on the training split (and the dev split with
    ``final_data="train+dev"``), test each model once, and save each as a run directory under `out`.

    `class_weight` goes to ``fit``; a table's fitted column plan (`preprocessor`) is attached to each
    model, so the saved model takes raw rows; `metadata` (a table's ``target`` and ``data``) is saved with
    the model; `notes` (the table's warnings) go into ``metrics.json``; `metric` is the test score logged.

    Returns one dict per seed: ``seed``, ``test`` (scores or None without a test set), ``train_seconds``,
    ``run_dir`` (or None), and the ``model`` itself.
    """

    if final_data == "train+dev":
        X = np.concatenate([data.X_train, data.X_dev])
        y = np.concatenate([data.y_train, data.y_dev])
    else:
        X, y = data.X_train, data.y_train
    results = []
    for k, seed in enumerate(seeds):
        run_dir = None if out is None else Path(out) / ("best" if k == 0 else f"best-seed{seed}")
        with _one_writer(run_dir):  # a second `gradwise tune` with this --out waits here, then reuses
            done = _finished_by_another(run_dir, config, seed, final_data, study_info)
            if done is not None:
                log(f"final seed {seed}: already trained and tested by another worker -> {run_dir}")
                results.append({"seed": seed, "run_dir": str(run_dir), **done})
                continue
            model, history, seconds = _train_final(config, data, X, y, seed, dtype, standardize, threads,
                                                   class_weight)
            if class_names is not None:
                model.classes_ = np.asarray(class_names)
            if feature_names is not None:
                model.feature_names_in_ = list(feature_names)
            model.preprocessor = preprocessor  # raw rows (DataFrames) are typed by the training split's plan
            test = (evaluate_test(model, X_test, y_test, class_names)
                    if X_test is not None and y_test is not None and len(X_test) else None)
            if run_dir is not None:
                _publish(run_dir, functools.partial(
                    _write_run, final_dir=run_dir, model=model, history=history, config=config, data=data,
                    seed=seed, final_data=final_data, test=test, seconds=seconds, study_info=study_info,
                    extra={"class_names": class_names, "metadata": metadata or {}, "notes": notes or []}))
        shown = ""
        if test is not None:
            name = metric or ("accuracy" if "accuracy" in test else "rmse")
            value = test.get(name)
            shown = f"test {name} " + ("n/a" if value is None else f"{value:.4g}")
        log(f"final seed {seed}: trained on {final_data} ({len(y)} examples) in {seconds:.1f}s  {shown}"
            + (f"  -> {run_dir}" if run_dir else ""))
        results.append({"seed": seed, "test": test, "train_seconds": seconds,
                        "run_dir": str(run_dir) if run_dir else None, "model": model})
    return results


def _train_final(config: dict, data: TuningData, X: np.ndarray, y: np.ndarray, seed: int, dtype: str,
                 standardize: bool, threads: int | None, class_weight=None):
    """(model, history, seconds) of one final training."""
    started = time.perf_counter()
    with blas_threads(threads):
        model, history, _ = train_config(config, X, y, task=data.task, n_outputs=data.n_outputs,
                                         seed=seed, dtype=dtype, standardize=standardize,
                                         class_weight=class_weight, scaled_columns=data.scaled_columns)
    return model, history, time.perf_counter() - started


@contextlib.contextmanager
def _one_writer(run_dir: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on ``OUT/.final.lock`` while one final run is trained and written.

    Two `gradwise tune` processes sharing an --out (the natural way to add a worker) both reach the final
    models; without this, one's replacement of ``best/`` removed the other's files mid-write. The lock is
    `flock`, released by the kernel when its holder dies, so a killed worker never blocks the next one.
    """
    if run_dir is None:
        yield
        return
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir.parent / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _finished_by_another(run_dir: Path | None, config: dict, seed: int, final_data: str,
                         study_info: dict | None) -> dict | None:
    """The result of this very final run when another worker has already written it, else None.

    "This very run": same settings, seed, data choice and study — training is deterministic, so retraining
    would only produce the same files again. Returns ``test``, ``train_seconds`` and the loaded ``model``.
    """
    if run_dir is None or not (run_dir / runs.METRICS).exists():
        return None
    try:
        written = json.loads((run_dir / runs.CONFIG).read_text(encoding="utf-8"))
        metrics = json.loads((run_dir / runs.METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # damaged: rewritten below
    wanted = json.loads(json.dumps({"command": "tune", "settings": config, "seed": seed,  # as on disk
                                    "final_data": final_data, "study": study_info or {}}))
    if not isinstance(written, dict) or any(written.get(k) != v for k, v in wanted.items()):
        return None
    try:
        model = load(run_dir / runs.MODEL)
    except (OSError, ValueError):
        return None
    return {"test": metrics.get("test"), "train_seconds": metrics.get("train_seconds", 0.0), "model": model}


def _publish(run_dir: Path, write: Callable[[Path], None]) -> None:
    """Write a run into a private staging directory, then swap it in place of `run_dir` by renames.

    Readers see the previous complete run or the new complete one, never a half-written directory.
    """
    if run_dir.exists() and not _written_by_tune(run_dir / runs.CONFIG):
        # a resumed study that ends again rewrites its final runs; never someone else's directory
        raise GradwiseValueError(f"{run_dir} exists and is not a run written by gradwise tune")
    tag = f"{os.getpid()}-{secrets.token_hex(3)}"
    staging = run_dir.parent / f".{run_dir.name}.staging-{tag}"
    old = run_dir.parent / f".{run_dir.name}.old-{tag}"
    try:
        write(runs.claim_run_dir(staging))
        swap_in_directory(staging, run_dir, old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _write_run(run_dir: Path, final_dir: Path, model, history, config: dict, data: TuningData, seed: int,
               final_data: str, test: dict | None, seconds: float, study_info: dict | None, extra: dict) -> None:
    """A run directory as `gradwise train` writes it (config, history, model, cost plot, metrics last),
    written into `run_dir` (the staging directory) for its place `final_dir`.

    `extra`: ``class_names`` (for the per-class metrics), ``metadata`` saved with the model (a table's
    target and file, which `gradwise predict`/`evaluate` read) and ``notes`` (the table's warnings)."""
    runs.write_config(run_dir, {
        "command": "tune", "settings": config, "seed": seed, "final_data": final_data,
        "dataset_name": data.name, "task": data.task, "study": study_info or {},
    })
    runs.write_history(run_dir, history)
    runs.write_model(run_dir, model, metadata={"task": data.task, "dataset": data.name, "tuned": True,
                                               "run": str(final_dir), "seed": seed, **extra["metadata"]})
    runs.plot_cost_curves(history, run_dir / runs.COST_PLOT,
                          title=f"{data.name}: best configuration, seed {seed}")
    names = extra["class_names"]
    both = final_data == "train+dev"
    train = model_scores(model, np.concatenate([data.X_train, data.X_dev]) if both else data.X_train,
                         np.concatenate([data.y_train, data.y_dev]) if both else data.y_train, names)
    metrics = {"train": train, "test": test, "task": data.task, "epochs_trained": model.epochs_trained,
               "n_parameters": model.n_parameters, "train_seconds": seconds, "warnings": extra["notes"]}
    if final_data == "train":
        metrics["dev"] = model_scores(model, data.X_dev, data.y_dev, names)
    runs.write_metrics(run_dir, metrics)


def _written_by_tune(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("command") == "tune"
    except (OSError, ValueError, AttributeError):
        return False
