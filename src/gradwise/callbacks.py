"""Callbacks for `fit`, Keras-style: they fire at the start/end of training and of each epoch.

A callback may set `model.stop_training = True`. Callbacks with state that matters for an exact resume
(EarlyStopping) expose `get_state()` / `set_state()`, which checkpoints store.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from ._validation import check_float, check_int
from .errors import GradwiseTypeError, GradwiseValueError


class Callback:
    """Hooks called by `fit`. `self.model` is set before `on_train_begin`."""

    model = None

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able scalars, arrays) needed to resume exactly; empty by default."""
        return {}, {}

    def set_state(self, scalars: dict, arrays: dict[str, np.ndarray]) -> None: ...


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    With `restore_best=True`, the weights of the best epoch are put back at the end of training whenever a
    best was seen, whether or not training stopped early (the seeds: pick the point where the dev cost is
    lowest).
    """

    def __init__(self, monitor: str = "val_cost", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True):
        if not isinstance(monitor, str):
            raise GradwiseTypeError(f"monitor must be a metric name, got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = check_float("min_delta", min_delta, low=0.0)
        if mode not in ("auto", "min", "max"):
            raise GradwiseValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.mode = ("max" if "accuracy" in monitor else "min") if mode == "auto" else mode
        self.restore_best = bool(restore_best)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_theta: np.ndarray | None = None
        self._best_buffer: np.ndarray | None = None

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.monitor not in logs:
            raise GradwiseValueError(
                f"EarlyStopping monitors {self.monitor!r}, which fit does not record; available: {sorted(logs)}"
                + (" (pass validation_data= or validation_split=)" if self.monitor.startswith("val_") else ""))
        value = float(logs[self.monitor])
        if not math.isfinite(value):
            return
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._best_theta = self.model.theta.copy()
                self._best_buffer = self.model.buffer.copy()
        else:
            self.wait += 1
            if self.wait > self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self.restore_best and self._best_theta is not None:
            self.model.theta[...] = self._best_theta
            self.model.buffer[...] = self._best_buffer

    def get_state(self):
        scalars = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        arrays = {}
        if self._best_theta is not None:
            arrays = {"best_theta": self._best_theta, "best_buffer": self._best_buffer}
        return scalars, arrays

    def set_state(self, scalars, arrays) -> None:
        self.best, self.best_epoch, self.wait = scalars["best"], scalars["best_epoch"], scalars["wait"]
        self._best_theta = arrays.get("best_theta")
        self._best_buffer = arrays.get("best_buffer")


class TerminateOnNaN(Callback):
    """Marker: a non-finite cost stops training and raises `TrainingDivergedError` (on by default in fit).

    The check itself runs inside the training loop, on every mini-batch, before the update is applied,
    so the model keeps the last weights that gave a finite cost.
    """


class Checkpoint(Callback):
    """Save θ, batch-norm buffers, optimizer state, RNG state, epoch and history every `every` epochs.

    Written atomically (temp file, fsync, `os.replace`): a crash leaves the previous checkpoint intact.
    `fit(..., resume_from=path)` continues from it with bit-identical results.
    """

    def __init__(self, path, every: int = 1):
        self.path = path
        self.every = check_int("every", every, minimum=1)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if (epoch + 1) % self.every == 0:
            from .checkpoint import save_checkpoint

            save_checkpoint(self.path, self.model, self.trainer_callbacks)


class ProgressLogger(Callback):
    """Keras-like progress: verbose=2 prints one line per epoch; verbose=1 a live line that is kept
    every `max(1, epochs // 20)` epochs and on the last. Written to `stream` (stderr by default)."""

    def __init__(self, verbose: int = 1, stream=None):
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stderr

    def on_train_begin(self, logs=None) -> None:
        self._start = time.perf_counter()
        self._epoch_start = self._start
        self._epochs = logs.get("epochs", 0) if logs else 0
        self._first = logs.get("initial_epoch", 0) if logs else 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        elapsed = time.perf_counter() - self._epoch_start
        metrics = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if k != "learning_rate")
        width = len(str(self._epochs))
        line = f"Epoch {epoch + 1:>{width}}/{self._epochs} - {elapsed * 1000:.0f}ms - {metrics}"
        if self.verbose == 2:
            print(line, file=self.stream, flush=True)
            return
        keep = (epoch + 1 - self._first) % max(1, (self._epochs - self._first) // 20) == 0 \
            or epoch + 1 == self._epochs
        end = "\n" if keep else ""
        print("\r" + line.ljust(100), end=end, file=self.stream, flush=True)

    def on_train_end(self, logs=None) -> None:
        if self.verbose == 1:
            print(f"\rtrained in {time.perf_counter() - self._start:.2f}s".ljust(100), file=self.stream, flush=True)
