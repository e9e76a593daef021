"""What a tuning worker does around each trial besides training: TensorBoard event files per trial, and
Optuna study callbacks (``callback(study, frozen_trial)``, as ``study.optimize(callbacks=…)`` calls them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..callbacks import Callback
from ..errors import GradwiseTypeError
from ..preemption import StopRequest, StopTrial
from ..tracking import TensorBoard


@dataclass
class TrialTracking:
    """Per-trial tracking of one worker process.

    tensorboard_dir : each trial writes its scalars and histograms under ``tensorboard_dir/trial-N``
        (N the trial's number), so TensorBoard shows the trials side by side; None: no event files.
    study_callbacks : called after each trial this process runs has been told to the study — Optuna's own
        semantics with several processes: each process's callbacks see the trials it ran.
    on_trial : called after each trial too (the progress bar's count).
    stop : set by SIGTERM/Ctrl-C (``gradwise tune``): the trial stops at its epoch's end and goes back to
        the queue, and the worker takes no further trial.
    """

    tensorboard_dir: Path | None = None
    study_callbacks: list[Callable[[Any, Any], None]] = field(default_factory=list)
    on_trial: Callable[[], None] | None = None  # the progress bar's count, when one is shown
    stop: StopRequest | None = None

    @classmethod
    def checked(cls, tensorboard_dir: Path | None, study_callbacks: Sequence[Any] | None) -> TrialTracking:
        callbacks = list(study_callbacks or [])
        for i, cb in enumerate(callbacks):
            if not callable(cb):
                raise GradwiseTypeError(f"callbacks[{i}] must be callable as callback(study, trial), got {cb!r}")
        return cls(tensorboard_dir, callbacks)

    def fit_callbacks(self, number: int) -> list[Callback]:
        """The `fit` callbacks of trial `number`."""
        callbacks: list[Callback] = [StopTrial(self.stop)] if self.stop is not None else []
        if self.tensorboard_dir is not None:
            callbacks.append(TensorBoard(self.tensorboard_dir / f"trial-{number}", histogram_freq=1))
        return callbacks

    def after_trial(self, study: Any, trial_id: int) -> None:
        if self.on_trial is not None:
            self.on_trial()
        if self.study_callbacks:
            frozen = study._storage.get_trial(trial_id)  # the finished trial, as Optuna hands it over
            for cb in self.study_callbacks:
                cb(study, frozen)
