"""Run directories: what `gradwise train` leaves behind, written so that crashes and neighbours can't tear it.

A run directory holds

- ``config.json``: the settings and the data of the run (written first, so a killed run can be resumed);
- ``checkpoint.safetensors``: the last checkpoint, with ``--checkpoint-every K``;
- ``history.csv``: one row per epoch (cost, accuracy, dev cost, dev accuracy, learning rate);
- ``model.safetensors`` + ``model.json``: the trained model (see :mod:`gradwise.io`);
- ``cost.png`` (training vs dev cost by epoch) and, for 2-D classification data, ``decision_boundary.png``;
- ``metrics.json``: final cost/accuracy (or RMSE) on train, dev and test, with the table metrics of
  :mod:`gradwise.metrics` (balanced accuracy, per-class precision/recall/F1, ROC AUC, log loss, confusion
  matrix; MAE, R²) and the data's warnings — written last, it marks a finished run.

Every file is written atomically (temporary sibling, fsync, rename). Unnamed runs get a unique directory,
``runs/<date>-<time>-<pid>-<random>``, created with ``mkdir(exist_ok=False)``, so two processes writing runs
into the same parent never share one.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import plots
from ._atomic import write_json, write_text
from .errors import GradwiseValueError
from .io import save
from .tracking import CSVLogger, TensorBoard

if TYPE_CHECKING:
    from .ensemble import Ensemble
    from .model import Sequential

__all__ = [
    "CONFIG", "CHECKPOINT", "HISTORY", "METRICS", "MODEL",
    "new_run_dir", "claim_run_dir", "write_config", "read_json", "write_history", "read_history",
    "tracking_callbacks", "TENSORBOARD",
    "write_metrics", "write_model", "plot_cost_curves", "plot_decision_boundary",
]

CONFIG = "config.json"
CHECKPOINT = "checkpoint.safetensors"
HISTORY = "history.csv"
METRICS = "metrics.json"
MONITOR = "monitor.json"  # per-layer statistics through training (gw.Monitor), read by gradwise diagnose
MODEL = "model.safetensors"
COST_PLOT = "cost.png"
BOUNDARY_PLOT = "decision_boundary.png"
TENSORBOARD = "tensorboard"
#: created exclusively (O_EXCL) by the process that owns a run directory given by name
_CLAIM = ".gradwise-run"


def new_run_dir(parent: str | os.PathLike = "runs") -> Path:
    """Create and return a fresh run directory ``parent/<YYYYmmdd-HHMMSS>-<pid>-<hex>``.

    The name has the time, the process id and random bits; `mkdir(exist_ok=False)` guarantees that no
    other process got the same directory (a collision, however unlikely, just draws another name).
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        path = parent / name
        try:
            path.mkdir(exist_ok=False)
        except FileExistsError:
            continue
        _claim(path)
        return path
    raise GradwiseValueError(f"could not create a unique run directory in {str(parent)!r}")


def _claim(path: Path) -> None:
    fd = os.open(path / _CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{os.getpid()}\n")


def claim_run_dir(path: str | os.PathLike, resume: bool = False) -> Path:
    """Take `path` as this process's run directory.

    A new or empty directory is claimed (exclusively: a second process with the same `--out` is refused).
    An existing run is only accepted with `resume=True`, and then it must hold a checkpoint.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GradwiseValueError(f"--out {str(path)!r} is a file, not a directory")
    if resume:
        if not (path / CHECKPOINT).exists():
            what = "does not exist" if not path.exists() else f"has no {CHECKPOINT}"
            raise GradwiseValueError(
                f"cannot resume: {str(path)!r} {what} (a run keeps checkpoints when trained with "
                f"--checkpoint-every K)")
        if not (path / CONFIG).exists():
            raise GradwiseValueError(f"cannot resume: {str(path)!r} has no {CONFIG}")
        return path
    path.mkdir(parents=True, exist_ok=True)
    if any(p.name != _CLAIM for p in path.iterdir()) or (path / _CLAIM).exists():
        raise GradwiseValueError(
            f"run directory {str(path)!r} already exists and is not empty; choose another --out, "
            f"or add --resume to continue it")
    try:
        _claim(path)
    except FileExistsError:
        raise GradwiseValueError(f"run directory {str(path)!r} is being written by another process") from None
    return path


# ------------------------------------------------------------------------------------------ files
def write_config(run_dir: Path, config: dict) -> None:
    write_json(Path(run_dir) / CONFIG, config)


def read_json(path: str | os.PathLike, what: str) -> dict:
    """Read a JSON file of a run; a missing or corrupted one raises GradwiseValueError naming it."""
    path = Path(path)
    if not path.exists():
        raise GradwiseValueError(
            f"{str(path)!r} does not exist: is {str(path.parent)!r} a finished gradwise run?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GradwiseValueError(f"{what} {str(path)!r} is corrupted: {exc}") from None
    if not isinstance(data, dict):
        raise GradwiseValueError(f"{what} {str(path)!r} is not a JSON object")
    return data


def write_history(run_dir: Path, history: Any) -> None:
    """history.csv: `epoch` (1-based) and one column per recorded quantity, floats written exactly."""
    data = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    epochs = data.pop("epoch", [])
    keys = list(data)
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for i, epoch in enumerate(epochs):
        writer.writerow([int(epoch) + 1, *(repr(float(data[k][i])) for k in keys)])
    write_text(Path(run_dir) / HISTORY, buffer.getvalue())


def tracking_callbacks(run_dir: Path, tensorboard: bool = False) -> list:
    """history.csv written one flushed row per epoch (a running or killed run shows its progress), and
    TensorBoard event files under RUN_DIR/tensorboard/ when asked."""
    callbacks: list = [CSVLogger(Path(run_dir) / HISTORY)]
    if tensorboard:
        callbacks.append(TensorBoard(Path(run_dir) / TENSORBOARD))
    return callbacks


def read_history(path: str | os.PathLike) -> dict[str, list[float]]:
    """history.csv back as columns; `epoch` is 1-based."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    return {name: [float(r[j]) for r in body] for j, name in enumerate(header)}


def write_metrics(run_dir: Path, metrics: dict) -> None:
    write_json(Path(run_dir) / METRICS, metrics)


def write_model(run_dir: Path, model: Sequential | Ensemble, metadata: dict | None = None) -> Path:

    return save(model, Path(run_dir) / MODEL, metadata=metadata)


# ------------------------------------------------------------------------------------------ plots
# Drawn by the shared helpers of `gradwise.plots` (matplotlib on the Agg canvas, written atomically).
def plot_cost_curves(history: Any, path: str | os.PathLike, title: str = "") -> Path:
    """Training cost and dev cost by epoch (the seeds' learning curves), saved as a PNG."""

    data = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    epochs = np.asarray(data.get("epoch", []), dtype=float) + 1
    curves = {"training cost": data.get("cost", [])}
    if "val_cost" in data:
        curves["dev cost"] = data["val_cost"]
    return plots.plot_cost_curves(path, curves, x=epochs, xlabel="epoch", title=title or None)


def plot_decision_boundary(model: Sequential | Ensemble, X: np.ndarray, y: np.ndarray, path: str | os.PathLike,
                           title: str = "", class_names: Any = None) -> Path:
    """The model's predicted class over the plane of the 2-D inputs `X`, with the examples on top.

    `X` is raw, as the model takes it (a model with a Standardizer applies it to the grid itself)."""

    names = [str(c) for c in class_names] if class_names is not None else None
    return plots.plot_decision_boundary(path, model, X, y, title=title or None, class_names=names)
