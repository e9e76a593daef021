"""Tracking a run while it trains: `CSVLogger` (one flushed row per epoch) and `TensorBoard` (event files).

A killed run keeps every finished epoch on disk; resuming from a checkpoint continues the same CSV file
without repeating rows (rows after the checkpoint's epoch are dropped first, they will be trained again).
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import os
import secrets
import time
from collections.abc import Callable
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


def _default_bins() -> list[float]:
    """TensorBoard's default histogram bucket edges (±1e-12 … ±1e20 growing by 10%, and 0), computed as
    tensorboardX's SummaryWriter computes them."""
    v, buckets = 1e-12, []
    while v < 1e20:
        buckets.append(v)
        v *= 1.1
    return [-b for b in reversed(buckets)] + [0.0] + buckets


_BINS = _default_bins()


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
        self._file: Path | None = None  # this fit's event file, and its size after the last whole epoch
        self._written = 0

    def on_train_begin(self, logs=None) -> None:
        from tensorboardX.event_file_writer import EventsWriter  # optional and heavy (protobuf)

        self.log_dir.mkdir(parents=True, exist_ok=True)
        before = set(self.log_dir.iterdir())
        # tensorboardX's own EventsWriter, written synchronously: its SummaryWriter writes from a thread and
        # flushes again at exit, so a full disk gave an error without the path plus two tracebacks
        try:
            # a suffix of our own: the file is named by the second and the host, so two fits within one
            # second opened the same file and the second truncated the first's events
            self._writer = self._writing(lambda: EventsWriter(str(self.log_dir / "events"),
                                                              f".{os.getpid()}.{secrets.token_hex(4)}"))
        except OSError:
            for new in set(self.log_dir.iterdir()) - before:  # the event file it could not write
                with contextlib.suppress(OSError):
                    new.unlink()
            raise
        self._file, self._written = Path(self._writer._file_name), 0  # its first event is still buffered

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self._writer is None:
            return
        from tensorboardX.summary import histogram, scalar

        step = epoch + 1
        summaries = [scalar(key, float(value)) for key, value in logs.items()]
        if self.histogram_freq and step % self.histogram_freq == 0:
            summaries += [histogram(f"weights/{name}", values.astype(float), _BINS)
                          for name, values in self.model.parameters().items()]
            summaries += [histogram(f"gradients/{name}", values.astype(float), _BINS)
                          for name, values in self.model.gradients().items()]
        self._writing(lambda: self._write(summaries, step))

    def _write(self, summaries: list, step: int) -> None:
        from tensorboardX.proto import event_pb2

        assert self._writer is not None and self._file is not None  # set in on_train_begin
        now = time.time()
        for summary in summaries:
            self._writer.write_event(event_pb2.Event(wall_time=now, step=step, summary=summary))
        self._writer.flush()  # fsynced: a killed run keeps its finished epochs
        self._written = self._file.stat().st_size

    def _writing(self, write: Callable[[], Any]) -> Any:
        """`write()`; an OSError (a full or read-only disk) closes the file and names the directory."""
        try:
            return write()
        except OSError as exc:
            self.on_train_end()
            if self._file is not None:  # cut a half-written epoch: the file ends with its last whole one
                with contextlib.suppress(OSError):
                    if self._written:
                        os.truncate(self._file, self._written)
                    else:  # nothing whole in it: no file
                        self._file.unlink()
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.log_dir)) from None

    def on_train_end(self, logs=None) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(OSError):  # already failing: the first error is the one reported
                writer.close()

    def __repr__(self) -> str:
        return f"TensorBoard({os.fspath(self.log_dir)!r}, histogram_freq={self.histogram_freq})"
