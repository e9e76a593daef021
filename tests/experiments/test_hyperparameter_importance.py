"""Experiment 15's pieces: the seeded study asks the same trials in every process, the jobs cover every trial
once, a trial trains what the study asked, and the importances are Optuna's fANOVA on the told values."""

from __future__ import annotations

import numpy as np
import pytest

from gradwise.experiments import hyperparameter_importance as hp


def test_the_study_asks_the_same_trials_in_every_call_and_other_ones_for_another_seed():
    _, first = hp.study(1000, 5)
    _, again = hp.study(1000, 5)
    _, other = hp.study(1001, 5)
    assert [t.params for t in first] == [t.params for t in again]
    assert [t.params for t in first] != [t.params for t in other]
    for t in first:  # the seeds' scales: α log-uniform in [1e-4, 1], β in [0.9, 0.999], batch 32..512
        assert 1e-4 <= t.params["learning_rate"] <= 1 and 1e-3 <= t.params["one_minus_beta"] <= 0.1
        assert 5 <= t.params["log2_batch_size"] <= 9 and 1 <= t.params["layers"] <= 4


@pytest.mark.parametrize("trials, parts", [(200, 4), (16, 2), (7, 3), (2, 4)])
def test_the_jobs_cover_every_trial_once(trials, parts):
    chunks = hp._chunks(trials, parts)
    covered = [i for first, count in chunks for i in range(first, first + count)]
    assert covered == list(range(trials))


def test_a_trial_trains_the_asked_configuration_and_scores_the_dev_error():
    out = hp.train(seed=1000, first=1, count=2, trials=4, epochs=1)
    _, asked = hp.study(1000, 4)
    assert out["params"] == [asked[1].params, asked[2].params]
    assert all(0.0 <= e <= 1.0 for e in out["dev_error"] + out["train_error"])
    assert out == hp.train(seed=1000, first=1, count=2, trials=4, epochs=1)  # same seed, same numbers


def test_importances_are_fanova_on_the_told_errors_with_a_fixed_seed():
    """A dev error that depends on α alone: fANOVA gives α nearly all the variance, the same numbers twice."""
    trials = 40
    _, asked = hp.study(1000, trials)
    params = [t.params for t in asked]
    errors = [abs(np.log10(p["learning_rate"]) + 1.5) / 3 for p in params]
    runs = [{"params": params[:25], "dev_error": errors[:25]}, {"params": params[25:], "dev_error": errors[25:]}]
    found, study = hp.importances(1000, trials, runs)
    assert max(found, key=found.get) == "learning_rate" and found["learning_rate"] > 0.9
    assert found == hp.importances(1000, trials, runs)[0]
    assert [t.value for t in study.trials] == errors
    with pytest.raises(RuntimeError, match="other parameters"):
        hp.importances(1001, trials, runs)  # values told to another study's trials
