"""What the training loop does at each mini-batch besides forward, backward and update.

Step-wise learning-rate schedules (`OneCycle`: a new α every mini-batch) and the callbacks' batch hooks
(`on_batch_begin` / `on_batch_end`). Only callbacks that override a hook are called, and a fit with
neither pays two tests of one local flag per mini-batch (`StepControl.active`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .callbacks import Callback
from .errors import GradwiseValueError
from .optim.optimizers import Optimizer


def checked_rate(schedule: Callable[[int, float], float], t: int, lr0: float) -> float:
    """`schedule(t, lr0)` as a float, or an error naming the schedule when it is not finite and >= 0."""
    lr = schedule(t, lr0)
    try:
        value = float(lr)
    except (TypeError, ValueError):
        value = math.nan
    # 0 is allowed: a long exponential decay underflows to exactly 0.0, and a rate of 0 is a valid (still) step.
    if not math.isfinite(value) or value < 0.0:
        raise GradwiseValueError(f"schedule {schedule!r} gave learning rate {lr!r} at "
                                 f"{'step' if getattr(schedule, 'per_step', False) else 'epoch'} {t}; "
                                 f"a learning rate must be a finite number >= 0")
    return value


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class StepControl:
    """The learning rate of each epoch and step, and the batch hooks, of one `fit`.

    Parameters
    ----------
    schedule : Schedule, callable (t, α₀) -> α, or None
    optimizer : Optimizer
        Its `learning_rate` is α₀, read at every epoch (ReduceLROnPlateau lowers it).
    callbacks : list of Callback
    steps_per_epoch : int
        Mini-batches per epoch (⌈m / batch_size⌉).
    """

    def __init__(self, schedule: Callable[[int, float], float] | None, optimizer: Optimizer,
                 callbacks: Sequence[Callback], steps_per_epoch: int):
        self.schedule = schedule
        self.optimizer = optimizer
        self.per_step = bool(getattr(schedule, "per_step", False))
        self.steps_per_epoch = steps_per_epoch
        self.batch_callbacks = [cb for cb in callbacks
                                if _overrides(cb, "on_batch_begin") or _overrides(cb, "on_batch_end")]
        self.active = self.per_step or bool(self.batch_callbacks)
        self.halters = [cb for cb in callbacks if cb.halts_mid_epoch]  # read after each step (preemption)

    def halted(self, batch: int) -> bool:
        """True if a callback asked to stop after this step and it is not the epoch's last one."""
        return batch + 1 < self.steps_per_epoch and any(cb.halt for cb in self.halters)

    def rate(self, epoch: int, batch: int = 0) -> float:
        """α of mini-batch `batch` of `epoch` (the epoch's first step for `fit`'s records)."""
        lr0 = self.optimizer.learning_rate
        if self.schedule is None:
            return lr0
        t = epoch * self.steps_per_epoch + batch if self.per_step else epoch
        return checked_rate(self.schedule, t, lr0)

    def begin(self, epoch: int, batch: int, lr: float) -> float:
        """The rate of this step; `on_batch_begin(batch, {"epoch", "learning_rate"})` of the callbacks."""
        if self.per_step:
            lr = self.rate(epoch, batch)
        for cb in self.batch_callbacks:
            cb.on_batch_begin(batch, {"epoch": epoch, "learning_rate": lr})
        return lr

    def end(self, epoch: int, batch: int, cost: float, size: int, lr: float) -> None:
        """`on_batch_end(batch, {"epoch", "cost", "size", "learning_rate"})`: J of this mini-batch."""
        logs = {"epoch": epoch, "cost": cost, "size": size, "learning_rate": lr}
        for cb in self.batch_callbacks:
            cb.on_batch_end(batch, logs)
