"""The training-control flags of `gradwise train`: the learning-rate schedule and gradient clipping."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import GradwiseValueError
from ..optim import CosineDecay, ExponentialDecay, InverseTimeDecay, OneCycle, Schedule, StepDecay
from . import _common as common

SCHEDULE_NAMES = ("cosine", "onecycle", "inverse-time", "exponential", "step")

#: the settings these flags add to a run's config.json (None: the schedule's own default); runs written
#: before they existed lack them, which means exactly these values
DEFAULTS: dict[str, Any] = {"schedule": None, "decay_factor": None, "step_size": None, "warmup_epochs": None,
                            "min_lr": None, "max_lr": None, "clip_norm": None}


def add_flags(p: argparse.ArgumentParser) -> None:
    """--schedule and its settings, --clip-norm (the parser's defaults are None: a resume tells what was given)."""
    p.add_argument("--schedule", choices=SCHEDULE_NAMES,
                   help="learning-rate schedule: cosine (annealing over the epochs, --warmup-epochs, "
                        "--min-lr), onecycle (per mini-batch, peak --max-lr), inverse-time (--decay R), "
                        "exponential (α0·F^epoch, --decay-factor F) or step (×F every --step-size N epochs); "
                        "default none, or inverse-time when --decay is given")
    p.add_argument("--decay-factor", type=common.open_fraction, metavar="F",
                   help="exponential: the per-epoch factor (default 0.95); step: the drop (default 0.5)")
    p.add_argument("--step-size", type=common.positive_int, metavar="N", help="step: epochs per drop (default 10)")
    p.add_argument("--warmup-epochs", type=common.non_negative_int, metavar="W",
                   help="cosine: linear warm-up epochs, part of the schedule (default 0)")
    p.add_argument("--min-lr", type=common.non_negative, metavar="A", help="cosine: the final α (default 0)")
    p.add_argument("--max-lr", type=common.positive, metavar="A",
                   help="onecycle: the peak α (default the learning rate, 10× adam's default if none)")
    p.add_argument("--clip-norm", type=common.positive, metavar="C",
                   help="clip the gradient to global L2 norm C before each update (default: no clipping)")


def _only_with(settings: dict, name: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if settings.get(key) is not None and settings["schedule"] != name:
            flag = "--" + key.replace("_", "-")
            raise GradwiseValueError(f"{flag} applies to --schedule {name}, not {settings['schedule'] or 'none'}")


def schedule_of(settings: dict, steps_per_epoch: int) -> Schedule | None:
    """The schedule the settings ask for (`--decay R` alone is the inverse-time schedule, as before)."""
    name = settings.get("schedule") or ("inverse-time" if settings.get("decay") else None)
    settings = {**DEFAULTS, **settings, "schedule": name}
    _only_with(settings, "cosine", ("warmup_epochs", "min_lr"))
    _only_with(settings, "onecycle", ("max_lr",))
    _only_with(settings, "step", ("step_size",))
    if settings["decay_factor"] is not None and name not in ("exponential", "step"):
        raise GradwiseValueError(f"--decay-factor applies to --schedule exponential or step, not {name or 'none'}")
    if settings.get("decay") and name != "inverse-time":
        raise GradwiseValueError(f"--decay applies to --schedule inverse-time, not {name}")
    factor, epochs = settings["decay_factor"], settings["epochs"]
    if name is None:
        return None
    if name == "inverse-time":
        return InverseTimeDecay(settings.get("decay") or 1.0)
    if name == "exponential":
        return ExponentialDecay(0.95 if factor is None else factor)
    if name == "step":
        return StepDecay(0.5 if factor is None else factor, settings["step_size"] or 10)
    if name == "cosine":
        return CosineDecay(epochs, min_lr=settings["min_lr"] or 0.0, warmup_epochs=settings["warmup_epochs"] or 0)
    max_lr = settings["max_lr"] or settings.get("learning_rate") or 0.01
    return OneCycle(max_lr, epochs, steps_per_epoch)


def optimizer_of(settings: dict) -> str | dict:
    """The optimizer's name, or its config with `clipnorm` when --clip-norm is given."""
    if settings.get("clip_norm") is None:
        return settings["optimizer"]
    return {"name": settings["optimizer"], "clipnorm": settings["clip_norm"]}
