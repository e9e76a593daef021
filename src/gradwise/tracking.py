"""Tracking a run while it trains: `CSVLogger` (one flushed row per epoch) and `TensorBoard` (event files).

A killed run keeps every finished epoch on disk; resuming from a checkpoint continues the same CSV file
without repeating rows (rows after the checkpoint's epoch are dropped first, they will be trained again).
"""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path
from typing import IO, Any

from ._atomic import write_text
from ._validation import check_int
from .callbacks import Callback
from .errors import GradwiseTypeError, GradwiseValueError


def _check_path(name: str, path: Any) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise GradwiseTypeError(f"{name} must be a file path, got {path!r}")
    return Path(path)


class CSVLogger(Callback):
    """Append one row per epoch to `path`, flushed as soon as the epoch ends.

    Columns: `epoch` (1-based, global) and the metrics `fit` records (`cost`, `accuracy`, `val_*`,
    `learning_rate`), floats written exactly (`repr`), the format of a run's `history.csv`. A fit that
    starts at epoch 0 starts the file afresh; one that continues (a later `fit` call, or `resume_from`) keeps
    the rows up to its first epoch and appends after them.

    Parameters
    ----------
    path : str or path-like
        The CSV file; its directory must exist.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = _check_path("path", path)
        self._columns: list[str] = []
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def on_train_begin(self, logs=None) -> None:
        logs = logs or {}
        self._columns = ["epoch", *logs.get("metrics", [])]
        first = int(logs.get("initial_epoch", 0))
        kept = self._rows_before(first) if first > 0 else []
        lines = [self._columns, *kept]
        # atomically: a crash here leaves the old file, never a truncated one
        write_text(self.path, "".join(",".join(row) + "\n" for row in lines))
        self._handle = open(self.path, "a", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")

    def _rows_before(self, first: int) -> list[list[str]]:
        """The file's rows of epochs 1..first (1-based), checked against this fit's columns."""
        if not self.path.exists():
            return []
        with open(self.path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            return []
        if rows[0] != self._columns:
            raise GradwiseValueError(
                f"{str(self.path)!r} has the columns {rows[0]}, but this fit records {self._columns}: "
                f"pass another path to CSVLogger")
        # a row cut short by a kill has fewer fields: dropped with the epochs after the checkpoint
        width = len(self._columns)
        return [r for r in rows[1:] if len(r) == width and r[0].isdigit() and int(r[0]) <= first]

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self._handle is None:
            return
        self._writer.writerow([epoch + 1, *(repr(float(logs[k])) if k in logs else "" for k in self._columns[1:])])
        # flushed to the OS: a killed process keeps the finished epoch. No fsync per row: it cost ~5 ms an
        # epoch (8x a small network's epoch); the checkpoint, which resume relies on, is fsynced.
        self._handle.flush()

    def on_train_end(self, logs=None) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __repr__(self) -> str:
        return f"CSVLogger({os.fspath(self.path)!r})"


class TensorBoard(Callback):
    """Write TensorBoard event files: per-epoch scalars and per-layer histograms of weights and gradients.

    Scalars: every metric `fit` records (`cost`, `accuracy`, `val_cost`, `val_accuracy`, `learning_rate`),
    one point per epoch at step = epoch (1-based). Histograms, every `histogram_freq` epochs (0: never):
    `weights/<name>` and `gradients/<name>` for every parameter (`W1`, `b1`, `gamma1`, …); the gradients
    are those of the epoch's last mini-batch — the vanishing/exploding-gradient view, layer by layer.
    Needs the `tensorboard` extra (`pip install gradwise[tensorboard]`, tensorboardX).

    Parameters
    ----------
    log_dir : str or path-like
        Directory of the event files (created); point `tensorboard --logdir` at it or at its parent.
    histogram_freq : int, default 1
    """

    def __init__(self, log_dir: str | os.PathLike, histogram_freq: int = 1):
        self.log_dir = _check_path("log_dir", log_dir)
        self.histogram_freq = check_int("histogram_freq", histogram_freq, minimum=0)
        if importlib.util.find_spec("tensorboardX") is None:  # fail before training, not after a first epoch
            raise GradwiseValueError("TensorBoard needs tensorboardX: pip install 'gradwise[tensorboard]'")
        self._writer: Any = None

    def on_train_begin(self, logs=None) -> None:
        from tensorboardX import SummaryWriter  # optional and heavy (protobuf)

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = SummaryWriter(logdir=str(self.log_dir))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self._writer is None:
            return
        step = epoch + 1
        for key, value in logs.items():
            self._writer.add_scalar(key, float(value), step)
        if self.histogram_freq and step % self.histogram_freq == 0:
            for name, values in self.model.parameters().items():
                self._writer.add_histogram(f"weights/{name}", values.astype(float), step)
            for name, values in self.model.gradients().items():
                self._writer.add_histogram(f"gradients/{name}", values.astype(float), step)
        self._writer.flush()

    def on_train_end(self, logs=None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __repr__(self) -> str:
        return f"TensorBoard({os.fspath(self.log_dir)!r}, histogram_freq={self.histogram_freq})"
