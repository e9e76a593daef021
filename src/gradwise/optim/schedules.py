"""Learning-rate schedules: functions of the epoch number t = 0, 1, 2, … (or, for the step-wise ones, of the
mini-batch step number) and the initial rate α₀."""

from __future__ import annotations

import math

from .._validation import check_float, check_int
from ..errors import GradwiseTypeError, GradwiseValueError


class Schedule:
    """`schedule(epoch, lr0) -> lr`. Subclasses implement one formula of the seeds."""

    name = "schedule"
    per_step = False  # True: called with the global mini-batch step instead of the epoch

    def __call__(self, epoch: int, lr0: float) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _decay_steps_done(epoch: int, decay_steps: int, staircase: bool) -> float:
    """t/decay_steps, floored with `staircase` (the exponent of the inverse-time and exponential decays)."""
    p = epoch / decay_steps
    return math.floor(p) if staircase else p


class InverseTimeDecay(Schedule):
    """α = α₀ / (1 + decay_rate · t/decay_steps); with `staircase`, t/decay_steps is floored.

    The course's fixed-interval scheduling, `α₀ / (1 + decay_rate · ⌊epoch / time_interval⌋)`, is
    `InverseTimeDecay(decay_rate, decay_steps=time_interval, staircase=True)`.
    """

    name = "inverse_time"

    def __init__(self, decay_rate: float = 1.0, decay_steps: int = 1, staircase: bool = False):
        self.decay_rate = check_float("decay_rate", decay_rate, low=0.0)
        self.decay_steps = check_int("decay_steps", decay_steps, minimum=1)
        self.staircase = bool(staircase)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 / (1.0 + self.decay_rate * _decay_steps_done(epoch, self.decay_steps, self.staircase))


class ExponentialDecay(Schedule):
    """α = decay_rate^(t/decay_steps) · α₀ (the seeds' 0.95^epoch · α₀); `staircase` floors the exponent."""

    name = "exponential"

    def __init__(self, decay_rate: float = 0.95, decay_steps: int = 1, staircase: bool = False):
        self.decay_rate = check_float("decay_rate", decay_rate, low=0.0, high=1.0, low_open=True)
        self.decay_steps = check_int("decay_steps", decay_steps, minimum=1)
        self.staircase = bool(staircase)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.decay_rate ** _decay_steps_done(epoch, self.decay_steps, self.staircase)


class StepDecay(Schedule):
    """α = α₀ · factor^⌊t/step_size⌋ (drop by `factor` every `step_size` epochs)."""

    name = "step"

    def __init__(self, factor: float = 0.5, step_size: int = 10):
        self.factor = check_float("factor", factor, low=0.0, high=1.0, low_open=True)
        self.step_size = check_int("step_size", step_size, minimum=1)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.factor ** (epoch // self.step_size)


class CosineDecay(Schedule):
    """Cosine annealing from α₀ to `min_lr` over `decay_epochs` epochs, after an optional linear warm-up.

    With w = `warmup_epochs` and T = `decay_epochs` − w (the warm-up is part of the schedule):

        t < w:       α = α₀ · (t + 1)/(w + 1)                      (linear warm-up, reaching α₀ at t = w)
        w ≤ t < w+T: α = min_lr + (α₀ − min_lr) · (1 + cos(π (t − w)/T)) / 2
        t ≥ w + T:   α = min_lr

    After the warm-up these are PyTorch's `CosineAnnealingLR(T_max=T, eta_min=min_lr)` rates; past the end
    the rate stays at `min_lr` (as Keras' CosineDecay) instead of rising again.
    """

    name = "cosine"

    def __init__(self, decay_epochs: int, min_lr: float = 0.0, warmup_epochs: int = 0):
        self.decay_epochs = check_int("decay_epochs", decay_epochs, minimum=1)
        self.min_lr = check_float("min_lr", min_lr, low=0.0)
        self.warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
        if self.warmup_epochs >= self.decay_epochs:
            raise GradwiseValueError(
                f"warmup_epochs={warmup_epochs} must be shorter than the schedule, decay_epochs={decay_epochs} "
                f"(the warm-up is part of it)")

    def __call__(self, epoch: int, lr0: float) -> float:
        w, T = self.warmup_epochs, self.decay_epochs - self.warmup_epochs
        if epoch < w:
            return lr0 * (epoch + 1) / (w + 1)
        if epoch - w >= T:
            return self.min_lr
        return self.min_lr + (lr0 - self.min_lr) * (1.0 + math.cos(math.pi * (epoch - w) / T)) / 2.0


class OneCycle(Schedule):
    """The one-cycle policy, per mini-batch step s = 0 … S−1 with S = epochs · steps_per_epoch.

    PyTorch's `OneCycleLR` (cosine annealing, two phases): from α_start = max_lr/div_factor up to max_lr
    over the first pct_start · S − 1 steps, then down to α_start/final_div_factor at step S − 1; each phase
    α = α_end + (α_begin − α_end) · (1 + cos(π · p))/2, p the fraction of the phase done. α₀ is not used
    (max_lr sets the peak); PyTorch's momentum cycling is not part of it.
    """

    name = "onecycle"
    per_step = True

    def __init__(self, max_lr: float, epochs: int, steps_per_epoch: int, pct_start: float = 0.3,
                 div_factor: float = 25.0, final_div_factor: float = 1e4):
        self.max_lr = check_float("max_lr", max_lr, low=0.0, low_open=True)
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        self.pct_start = check_float("pct_start", pct_start, low=0.0, high=1.0, low_open=True, high_open=True)
        self.div_factor = check_float("div_factor", div_factor, low=0.0, low_open=True)
        self.final_div_factor = check_float("final_div_factor", final_div_factor, low=0.0, low_open=True)
        total = self.total_steps
        self._warmup_end = float(self.pct_start * total) - 1.0  # PyTorch's end of the first phase
        if not 0.0 < self._warmup_end < total - 1:
            raise GradwiseValueError(
                f"pct_start={pct_start} gives a warm-up of {self._warmup_end + 1:g} steps out of {total}; "
                f"both phases need at least one step (more epochs or steps_per_epoch, or another pct_start)")

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def get_config(self) -> dict:
        return {"name": self.name, "max_lr": self.max_lr, "epochs": self.epochs,
                "steps_per_epoch": self.steps_per_epoch, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor}

    def check_steps(self, steps_per_epoch: int, epochs: int) -> None:
        """Fit trains `epochs` epochs of `steps_per_epoch` steps: they must be the cycle's."""
        if steps_per_epoch != self.steps_per_epoch or epochs > self.epochs:
            raise GradwiseValueError(
                f"OneCycle(epochs={self.epochs}, steps_per_epoch={self.steps_per_epoch}) does not match this "
                f"fit: {epochs} epochs of {steps_per_epoch} mini-batches")

    def __call__(self, step: int, lr0: float) -> float:
        start = self.max_lr / self.div_factor
        if step <= self._warmup_end:
            begin, end, pct = start, self.max_lr, step / self._warmup_end
        else:
            last = self.total_steps - 1
            pct = (step - self._warmup_end) / (last - self._warmup_end)
            begin, end = self.max_lr, start / self.final_div_factor
        return end + (begin - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


SCHEDULES: dict[str, type[Schedule]] = {
    c.name: c for c in (InverseTimeDecay, ExponentialDecay, StepDecay, CosineDecay, OneCycle)}


def get(schedule) -> Schedule | None:
    """A schedule from an instance, a config dict (`get_config()`'s output) or any callable f(epoch, α₀)."""
    if schedule is None or isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, dict):
        config = dict(schedule)
        name = config.pop("name", None)
        if name not in SCHEDULES:
            raise GradwiseValueError(f"schedule name must be one of {list(SCHEDULES)}, got {name!r}")
        try:
            return SCHEDULES[name](**config)
        except TypeError as exc:
            raise GradwiseValueError(f"bad settings for schedule {name!r}: {exc}") from exc
    if callable(schedule) and not isinstance(schedule, type):
        return schedule  # any f(epoch, lr0) -> lr works; fit checks every value it returns
    raise GradwiseTypeError(f"schedule must be a Schedule or a callable f(epoch, lr0), got {schedule!r}")
