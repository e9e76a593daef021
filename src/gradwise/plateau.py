"""ReduceLROnPlateau: lower the learning rate when a monitored value stops improving (Keras' semantics)."""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_float, check_int
from .callbacks import Callback
from .errors import GradwiseTypeError, GradwiseValueError


class ReduceLROnPlateau(Callback):
    """Multiply the optimizer's α₀ by `factor` after `patience` epochs without improvement.

    Keras' algorithm, each epoch with value v of `monitor`:

        if cooling down: cooldown_counter −= 1, wait = 0
        if v < best − min_delta ("min"; v > best + min_delta for "max"):  best = v, wait = 0
        elif not cooling down:  wait += 1;  if wait ≥ patience and α₀ − max(α₀ · factor, min_lr) > 10⁻⁸:
            α₀ := max(α₀ · factor, min_lr), cooldown_counter = cooldown, wait = 0

    These are PyTorch's `ReduceLROnPlateau(threshold=min_delta, threshold_mode="abs")` rates with its
    `patience = max(patience − 1, 0)` and `cooldown = max(cooldown − 1, 0)` (PyTorch reduces once the
    count of bad epochs *exceeds* its patience, and counts the last cooldown epoch as cooling). The new
    rate applies from the next epoch; with a schedule, the schedule's α₀ is lowered.

    Parameters
    ----------
    monitor : str
        A key `fit` records ("val_cost", "cost", "val_accuracy", …).
    factor : float in (0, 1)
    patience : int >= 0
    min_delta : float >= 0
        Absolute improvement that counts.
    cooldown : int >= 0
        Epochs after a reduction during which no bad epoch is counted.
    min_lr : float >= 0
    mode : "auto", "min" or "max"
        "auto": "max" for accuracies, "min" otherwise.
    restore_best : bool
        When reducing, put back the weights (and batch-norm averages) of the best epoch so far.

    Attributes
    ----------
    best : float;  wait : int;  cooldown_counter : int;  reductions : list of (epoch, new α₀)
    """

    def __init__(self, monitor: str = "val_cost", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, mode: str = "auto",
                 restore_best: bool = False):
        if not isinstance(monitor, str):
            raise GradwiseTypeError(f"monitor must be a metric name such as 'val_cost', got {monitor!r}")
        self.monitor = monitor
        self.factor = check_float("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = check_float("min_delta", min_delta, low=0.0)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_float("min_lr", min_lr, low=0.0)
        if mode not in ("auto", "min", "max"):
            raise GradwiseValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.mode = ("max" if "accuracy" in monitor else "min") if mode == "auto" else mode
        self.restore_best = bool(restore_best)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0
        self.reductions: list[tuple[int, float]] = []
        self._best_theta: np.ndarray | None = None
        self._best_buffer: np.ndarray | None = None

    def on_train_begin(self, logs=None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.cooldown_counter, self.reductions = 0, 0, []
        self._best_theta = self._best_buffer = None
        metrics = (logs or {}).get("metrics")
        if metrics is not None and self.monitor not in metrics:
            hint = " (pass validation_data= or validation_split=)" if self.monitor.startswith("val_") else ""
            raise GradwiseValueError(f"ReduceLROnPlateau monitors {self.monitor!r}, which fit does not "
                                     f"record{hint}; available: {sorted(metrics)}")

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        value = float(logs[self.monitor])
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if math.isfinite(value) and self._improved(value):
            self.best, self.wait = value, 0
            if self.restore_best:
                self._best_theta, self._best_buffer = self.model.theta.copy(), self.model.buffer.copy()
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch: int) -> None:
        opt = self.model.optimizer
        assert opt is not None  # fit sets it before the first epoch
        new_lr = max(opt.learning_rate * self.factor, self.min_lr)
        if opt.learning_rate - new_lr > 1e-8:  # PyTorch's eps: a smaller change is not worth making
            opt.learning_rate = new_lr
            self.reductions.append((epoch, new_lr))
            self.cooldown_counter, self.wait = self.cooldown, 0
            if self.restore_best and self._best_theta is not None and self._best_buffer is not None:
                self.model.theta[...] = self._best_theta
                self.model.buffer[...] = self._best_buffer

    def get_state(self):
        scalars = {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter,
                   "reductions": [list(r) for r in self.reductions]}
        arrays = {}
        if self._best_theta is not None and self._best_buffer is not None:
            arrays = {"best_theta": self._best_theta, "best_buffer": self._best_buffer}
        return scalars, arrays

    def set_state(self, scalars, arrays) -> None:
        self.best, self.wait = float(scalars["best"]), int(scalars["wait"])
        self.cooldown_counter = int(scalars["cooldown_counter"])
        self.reductions = [(int(e), float(lr)) for e, lr in scalars.get("reductions", [])]
        has_best = "best_theta" in arrays
        self._best_theta = np.array(arrays["best_theta"], copy=True) if has_best else None
        self._best_buffer = np.array(arrays["best_buffer"], copy=True) if has_best else None

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor}, patience={self.patience}, "
                f"min_delta={self.min_delta}, cooldown={self.cooldown}, min_lr={self.min_lr}, "
                f"mode={self.mode!r}, restore_best={self.restore_best})")


__all__ = ["ReduceLROnPlateau"]
