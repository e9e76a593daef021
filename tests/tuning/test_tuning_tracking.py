"""Tracking the trials of a study: TensorBoard event files per trial (this process and spawned workers), and
Optuna study callbacks passed through from `tune(callbacks=…)`."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from gradwise.errors import GradwiseTypeError, GradwiseValueError
from gradwise.tuning import tune

optuna.logging.set_verbosity(optuna.logging.WARNING)
SPACE = {"hidden_units": "4:8", "layers": "1", "keep_prob": "1.0", "learning_rate": "1e-3:1e-2"}


def _events(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_study_callbacks_see_every_finished_trial_and_tensorboard_logs_each(tmp_path):
    seen: list[tuple[int, str, float | None]] = []

    def record(study, trial):
        assert isinstance(study, optuna.Study) and isinstance(trial, FrozenTrial)
        seen.append((trial.number, trial.state.name, trial.value))

    result = tune(dataset="moons", trials=3, fine_trials=1, epochs=4, space=SPACE, pruner="none", seed=1,
                  out=tmp_path / "t", plots=False, final_seeds=0, verbose=False, tensorboard=True,
                  callbacks=[record])
    trials = {t.number: t for t in result.study.get_trials(states=(TrialState.COMPLETE,))}
    assert sorted(n for n, _, _ in seen) == [0, 1, 2, 3]
    for number, state, value in seen:  # called after the trial was told: its final state and value
        assert state == "COMPLETE" and value == trials[number].value
    for number in range(4):
        acc = _events(tmp_path / "t" / "tensorboard" / f"trial-{number}")
        assert [p.step for p in acc.Scalars("cost")] == [1, 2, 3, 4]
        assert {"weights/W1", "gradients/W2"} <= set(acc.Tags()["histograms"])


def test_spawned_workers_are_told_where_to_write(tmp_path):
    """Which process runs which trial is up to the queue; every trial has its directory, and the job file of
    the spawned workers names the same log directory."""
    result = tune(dataset="circles", trials=4, fine_trials=0, epochs=3, space=SPACE, pruner="none", seed=0,
                  workers=2, out=tmp_path / "t", plots=False, final_seeds=0, verbose=False, tensorboard=True)
    logged = sorted(p.name for p in (tmp_path / "t" / "tensorboard").iterdir())
    assert logged == [f"trial-{n}" for n in range(4)]
    assert result.counts.get("COMPLETE") == 4
    job = json.loads((tmp_path / "t" / "workers" / "job.json").read_text())
    assert job["tensorboard"] == str(tmp_path / "t" / "tensorboard")


def test_bad_tracking_arguments_name_themselves(tmp_path):
    with pytest.raises(GradwiseValueError, match="pass out=DIRECTORY"):
        tune(dataset="moons", trials=1, fine_trials=0, epochs=1, tensorboard=True, verbose=False)
    with pytest.raises(GradwiseTypeError, match=r"callbacks\[0\] must be callable"):
        tune(dataset="moons", trials=1, fine_trials=0, epochs=1, callbacks=[3], verbose=False)
