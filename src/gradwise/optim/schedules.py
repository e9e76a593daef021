"""Learning-rate decay: plain functions of the epoch number t = 0, 1, 2, … and the initial rate α₀."""

from __future__ import annotations

import math

from .._validation import check_float, check_int
from ..errors import GradwiseTypeError, GradwiseValueError


class Schedule:
    """`schedule(epoch, lr0) -> lr`. Subclasses implement one formula of the seeds."""

    name = "schedule"

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


SCHEDULES: dict[str, type[Schedule]] = {c.name: c for c in (InverseTimeDecay, ExponentialDecay, StepDecay)}


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
