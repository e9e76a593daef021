"""Callbacks for `fit`, Keras-style: they fire at the start/end of training and of each epoch.

A callback may set `model.stop_training = True`. Callbacks with state that matters for an exact resume
(EarlyStopping) expose `get_state()` / `set_state()`, which checkpoints store.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from typing import IO, TYPE_CHECKING

import numpy as np

from ._validation import check_float, check_int
from .checkpoint import save_checkpoint
from .errors import GradwiseTypeError, GradwiseValueError, TrainingDivergedError
from .history import History

if TYPE_CHECKING:
    from .model import Sequential


class Callback:
    """Hooks called by `fit`. `self.model` is set before `on_train_begin`.

    `on_train_begin(logs)` receives `{"epochs": total epochs to reach, "initial_epoch": first epoch of
    this call, "metrics": keys fit records each epoch, "training_data": the prepared (X, y),
    "steps_per_epoch"}`; `on_epoch_end(epoch, logs)` receives that
    epoch's metrics (`cost`, `accuracy`, `val_cost`, `val_accuracy`, `learning_rate`, …).
    """

    model: Sequential  # set by fit before on_train_begin
    #: a callback whose class sets this may set `halt` (from a signal handler, say) to end `fit` right after
    #: the optimizer step in progress; `on_train_end` then gets the epoch's position (`logs["position"]`,
    #: an `EpochPosition`) unless the step was its epoch's last (the epoch then ends as usual)
    halts_mid_epoch: bool = False
    halt: bool = False

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...

    def on_batch_begin(self, batch: int, logs: dict) -> None:
        """Before mini-batch `batch` of an epoch: logs `{"epoch", "learning_rate"}` (called only when overridden)."""

    def on_batch_end(self, batch: int, logs: dict) -> None:
        """After its update: logs `{"epoch", "cost", "size", "learning_rate"}`, `cost` that mini-batch's J."""

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able scalars, arrays) needed to resume exactly; empty by default."""
        return {}, {}

    def set_state(self, scalars: dict, arrays: dict[str, np.ndarray]) -> None: ...


class MetricWatcher(Callback):
    """A callback that watches one metric `fit` records and remembers the weights where it was best
    (the shared part of EarlyStopping and ReduceLROnPlateau).

    An epoch improves when `value < best − min_delta` (mode "min") or `value > best + min_delta` ("max";
    "auto" picks "max" for accuracies).
    """

    monitor: str
    min_delta: float
    mode: str
    best: float

    def _watch(self, monitor: str, min_delta: float, mode: str) -> None:
        if not isinstance(monitor, str):
            raise GradwiseTypeError(f"monitor must be a metric name such as 'val_cost', got {monitor!r}")
        self.monitor = monitor
        self.min_delta = check_float("min_delta", min_delta, low=0.0)
        if mode not in ("auto", "min", "max"):
            raise GradwiseValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.mode = ("max" if "accuracy" in monitor else "min") if mode == "auto" else mode
        self._best_theta: np.ndarray | None = None
        self._best_buffer: np.ndarray | None = None
        self._has_best = False

    def _worst(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def _require(self, available) -> None:
        """A clear error when `fit` does not record the monitored metric."""
        if self.monitor not in available:
            hint = " (pass validation_data= or validation_split=)" if self.monitor.startswith("val_") else ""
            raise GradwiseValueError(
                f"{type(self).__name__} monitors {self.monitor!r}, which fit does not record{hint}; "
                f"available: {sorted(available)}")

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def _snapshot(self) -> None:
        """Keep the model's weights (and batch-norm averages) as the best so far."""
        theta, buffer = self.model.theta, self.model.buffer
        if self._best_theta is None or self._best_theta.shape != theta.shape \
                or self._best_theta.dtype != theta.dtype:
            self._best_theta, self._best_buffer = np.empty_like(theta), np.empty_like(buffer)
        assert self._best_buffer is not None  # allocated with _best_theta
        np.copyto(self._best_theta, theta)  # one copy into a kept buffer, no allocation per improvement
        np.copyto(self._best_buffer, buffer)
        self._has_best = True

    def _restore_best(self) -> None:
        if self._has_best:
            self.model.theta[...] = self._best_theta
            self.model.buffer[...] = self._best_buffer

    def _best_arrays(self) -> dict[str, np.ndarray]:
        """The best weights for a checkpoint, or nothing when none was kept."""
        if not self._has_best:
            return {}
        assert self._best_theta is not None and self._best_buffer is not None  # set with _has_best
        return {"best_theta": self._best_theta, "best_buffer": self._best_buffer}

    def _load_best(self, arrays: dict) -> None:
        self._has_best = "best_theta" in arrays
        if self._has_best:
            self._best_theta = np.array(arrays["best_theta"], copy=True)
            self._best_buffer = np.array(arrays["best_buffer"], copy=True)


class EarlyStopping(MetricWatcher):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    The seeds' early stopping: watch the dev-set cost and keep the parameters from where it was lowest.
    An epoch improves when `value < best − min_delta` (mode "min") or `value > best + min_delta`
    ("max"; "auto" picks "max" for accuracies); after `patience` epochs in a row without improvement
    training stops (Keras' semantics: `patience=0` stops at the first epoch that does not improve).
    With `restore_best=True` the weights (and batch-norm averages) of the best epoch are put back at the
    end of training whenever a best was seen, whether or not training stopped early.

    Attributes
    ----------
    best : float;  best_epoch : int or None (0-based, global);  stopped_epoch : int or None;  wait : int
    """

    def __init__(self, monitor: str = "val_cost", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True, restore_best_weights: bool | None = None):
        self._watch(monitor, min_delta, mode)
        self.patience = check_int("patience", patience, minimum=0)
        # restore_best_weights: Keras' name, accepted so Keras code carries over
        self.restore_best = bool(restore_best if restore_best_weights is None else restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best = self._worst()
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._has_best = False

    def on_train_begin(self, logs=None) -> None:
        self._reset()
        metrics = (logs or {}).get("metrics")
        if metrics is not None:
            self._require(metrics)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self._require(logs)
        value = float(logs[self.monitor])
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._snapshot()
            return
        self.wait += 1  # a non-finite value never counts as an improvement
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self.restore_best:
            self._restore_best()

    def get_state(self):
        scalars = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                   "stopped_epoch": self.stopped_epoch}
        return scalars, self._best_arrays()

    def set_state(self, scalars, arrays) -> None:
        self.best, self.best_epoch, self.wait = float(scalars["best"]), scalars["best_epoch"], scalars["wait"]
        self.stopped_epoch = scalars.get("stopped_epoch")
        self._load_best(arrays)

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, restore_best={self.restore_best})")


class TerminateOnNaN(Callback):
    """Stop on a non-finite cost, roll back to the last finite weights and raise `TrainingDivergedError`.

    On by default in `fit` (`terminate_on_nan=True`; passing this callback turns it on as well). `fit`
    checks the cost of every mini-batch before its update and the weights each epoch's last update left,
    and raises what `diverged` returns. θ and the batch-norm buffers are kept at the start of this epoch and of
    the previous one (two buffers swapped, one copy per epoch, none per batch); a divergence restores the
    most recent of them known to give a finite cost and resets the optimizer's moments.
    """

    def __init__(self) -> None:
        self.history: History | None = None  # the History of the running fit call (set by fit)
        self._current: tuple[np.ndarray, np.ndarray] | None = None
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._epochs_seen = 0

    def on_train_begin(self, logs=None) -> None:
        theta, buffer = self.model.theta, self.model.buffer
        self._current = (np.empty_like(theta), np.empty_like(buffer))
        self._previous = (np.empty_like(theta), np.empty_like(buffer))
        self._epochs_seen = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._previous, self._current = self._current, self._previous
        assert self._current is not None  # both snapshots are allocated in on_train_begin
        np.copyto(self._current[0], self.model.theta)
        if self.model.buffer.size:
            np.copyto(self._current[1], self.model.buffer)
        self._epochs_seen += 1

    def quiet(self) -> contextlib.AbstractContextManager:
        """NumPy's overflow warnings on the way to a blow-up are noise: the error names the epoch."""
        return np.errstate(over="ignore", invalid="ignore")

    def diverged(self, epoch: int, batch: int, what: str, lr: float, after_update: bool) -> TrainingDivergedError:
        """Roll back to the last weights known to give a finite cost; the error to raise names where it failed.

        Failing on a later batch (or on the weights the last update left), the start of this epoch gave a
        finite cost on its first batch. Failing on the first batch, this epoch's start *is* the bad point:
        go back to the previous epoch's start and drop that epoch from the records. On the first batch of
        the first epoch of this call nothing was updated yet, so the weights stay as they were.
        """
        model = self.model
        if after_update or batch > 0:
            self._restore(self._current)
        elif self._epochs_seen > 1:
            self._restore(self._previous)
            for h in (self.history, model.history):
                if h is not None:
                    h.pop()
            model.epochs_trained -= 1
        # The moments were built on the way to the blow-up; continuing with them would diverge again.
        if model.optimizer is not None:
            model.optimizer.reset()
        return TrainingDivergedError(
            f"training diverged at epoch {epoch + 1}, batch {batch + 1}: {what}. The model holds the weights "
            f"after epoch {model.epochs_trained}, the last that gave a finite cost, and the optimizer state "
            f"was reset. Try a smaller learning rate (now {lr:g}).")

    def _restore(self, snapshot: tuple[np.ndarray, np.ndarray] | None) -> None:
        assert snapshot is not None  # both snapshots are allocated in on_train_begin
        self.model.theta[...] = snapshot[0]
        self.model.buffer[...] = snapshot[1]


class Checkpoint(Callback):
    """Save θ, batch-norm buffers, optimizer state, RNG state, epoch, history and callback state.

    Written every `every` epochs, at the last epoch, and when a callback stops training, atomically
    (temp file, fsync, `os.replace`): a crash leaves the previous checkpoint intact.
    `fit(..., resume_from=path)` continues from it with bit-identical results.
    """

    def __init__(self, path: str | os.PathLike, every: int = 1):
        if not isinstance(path, str | os.PathLike):
            raise GradwiseTypeError(f"path must be a file path, got {path!r}")
        self.path = path
        self.every = check_int("every", every, minimum=1)
        self.trainer_callbacks: list[Callback] = []
        self._total: int | None = None

    def on_train_begin(self, logs=None) -> None:
        self._total = (logs or {}).get("epochs")

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        done = epoch + 1
        if done % self.every == 0 or done == self._total or self.model.stop_training:
            save_checkpoint(self.path, self.model, self.trainer_callbacks or [self])

    def __repr__(self) -> str:
        return f"Checkpoint({os.fspath(self.path)!r}, every={self.every})"


class ProgressLogger(Callback):
    """Keras-like progress on `stream` (stderr by default).

    verbose=2: one line per epoch. verbose=1: a live line rewritten in place (at most ~10 times a
    second), kept every `max(1, epochs // 20)` epochs and at the last one, then the total time.
    A line reads `Epoch 7/50 - 3ms - cost: 0.4512 - accuracy: 0.8125 - val_cost: … - val_accuracy: …`.
    """

    def __init__(self, verbose: int = 1, stream: IO[str] | None = None):
        if verbose not in (1, 2):
            raise GradwiseValueError(f"verbose must be 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self.stream = stream

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stderr  # looked up late: capture-friendly

    def on_train_begin(self, logs=None) -> None:
        logs = logs or {}
        self._start = time.perf_counter()
        self._epoch_start = self._start
        self._last_draw = -math.inf
        self._epochs = int(logs.get("epochs", 0))
        self._first = int(logs.get("initial_epoch", 0))
        self._drawn = False

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch_start = time.perf_counter()

    @staticmethod
    def _duration(seconds: float) -> str:
        return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        now = time.perf_counter()
        metrics = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if k != "learning_rate")
        width = len(str(self._epochs))
        took = self._duration(now - self._epoch_start)
        line = f"Epoch {epoch + 1:>{width}}/{self._epochs} - {took} - {metrics}"
        out = self._out()
        if self.verbose == 2:
            print(line, file=out, flush=True)
            return
        keep = (epoch + 1 - self._first) % max(1, (self._epochs - self._first) // 20) == 0 \
            or epoch + 1 == self._epochs
        if keep:
            print("\r" + line.ljust(100), file=out, flush=True)
            self._drawn = False
        elif now - self._last_draw >= 0.1:
            print("\r" + line.ljust(100), end="", file=out, flush=True)
            self._last_draw, self._drawn = now, True

    def on_train_end(self, logs=None) -> None:
        if self.verbose == 1:
            end = "\r" if self._drawn else ""
            print(f"{end}trained in {self._duration(time.perf_counter() - self._start)}".ljust(100),
                  file=self._out(), flush=True)
