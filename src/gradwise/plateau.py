"""ReduceLROnPlateau: lower the learning rate when a monitored value stops improving (Keras' semantics)."""

from __future__ import annotations

import math

from ._validation import check_float, check_int
from .callbacks import MetricWatcher


class ReduceLROnPlateau(MetricWatcher):
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
        self._watch(monitor, min_delta, mode)
        self.factor = check_float("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
        self.patience = check_int("patience", patience, minimum=0)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_float("min_lr", min_lr, low=0.0)
        self.restore_best = bool(restore_best)
        self.best = self._worst()
        self.wait = 0
        self.cooldown_counter = 0
        self.reductions: list[tuple[int, float]] = []

    def on_train_begin(self, logs=None) -> None:
        self.best = self._worst()
        self.wait, self.cooldown_counter, self.reductions = 0, 0, []
        self._has_best = False
        metrics = (logs or {}).get("metrics")
        if metrics is not None:
            self._require(metrics)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        value = float(logs[self.monitor])
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if math.isfinite(value) and self._improved(value):
            self.best, self.wait = value, 0
            if self.restore_best:
                self._snapshot()
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
            if self.restore_best:
                self._restore_best()

    def get_state(self):
        scalars = {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter,
                   "reductions": [list(r) for r in self.reductions]}
        return scalars, self._best_arrays()

    def set_state(self, scalars, arrays) -> None:
        self.best, self.wait = float(scalars["best"]), int(scalars["wait"])
        self.cooldown_counter = int(scalars["cooldown_counter"])
        self.reductions = [(int(e), float(lr)) for e, lr in scalars.get("reductions", [])]
        self._load_best(arrays)

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor}, patience={self.patience}, "
                f"min_delta={self.min_delta}, cooldown={self.cooldown}, min_lr={self.min_lr}, "
                f"mode={self.mode!r}, restore_best={self.restore_best})")


__all__ = ["ReduceLROnPlateau"]
