"""`tune` in one process: the plan runs exactly, the test set waits for the end, coarse to fine, resuming."""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import subprocess
import time

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from gradwise.data import load
from gradwise.errors import GradwiseValueError
from gradwise.tuning import SearchSpace, final, tune
from gradwise.tuning import storage as st
from gradwise.tuning.objective import DevMonitor, dev_scores, train_config
from gradwise.tuning.study import CONFIG_ATTR, FINE, STAGE_ATTR, make_pruner, stage_of

optuna.logging.set_verbosity(optuna.logging.WARNING)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
SMALL = {"hidden_units": "4:32", "layers": "1:2"}  # small networks: these tests are about the study


def _study(tmp_path, name):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / 'study.db'}")


def test_tune_runs_the_plan_then_tests_the_best_configuration_once(tmp_path, monkeypatch):
    seen = []
    real = final.evaluate_test

    def spy(model, X_test, y_test, class_names=None):
        # the test set is looked at only once every planned trial is finished
        seen.append([t.state for t in _study(tmp_path, "s").get_trials()])
        return real(model, X_test, y_test, class_names)

    monkeypatch.setattr(final, "evaluate_test", spy)
    result = tune(dataset="moons", trials=6, fine_trials=3, epochs=4, space=SMALL, out=tmp_path,
                  study_name="s", final_seeds=2, verbose=False)
    assert len(seen) == 2
    for states in seen:
        assert len(states) == 9 and all(s in FINISHED for s in states)
    trials = _study(tmp_path, "s").get_trials()
    assert sorted(t.number for t in trials) == list(range(9))
    assert [stage_of(t) for t in sorted(trials, key=lambda t: t.number)] == [1] * 6 + [2] * 3
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = min(complete, key=lambda t: (t.value, t.number))
    assert result.best_number == best.number
    assert result.best_config == best.user_attrs[CONFIG_ATTR]
    assert math.isclose(result.best_dev["accuracy"], 1 - best.value)

    # two final models (seeds 0 and 1), each saved as a run directory and scored on the 100 test examples
    ds = load("moons", seed=0)
    assert [f["seed"] for f in result.final] == [0, 1]
    from gradwise.io import load as load_model

    for f, model in zip(result.final, result.models, strict=True):
        assert f["test"]["examples"] == len(ds.y_test)
        assert math.isclose(f["test"]["accuracy"], np.mean(model.predict(ds.X_test) == ds.y_test))
        saved = load_model(f["run_dir"])
        np.testing.assert_array_equal(saved.predict(ds.X_test), model.predict(ds.X_test))
        metrics = json.loads(open(os.path.join(f["run_dir"], "metrics.json")).read())
        assert math.isclose(metrics["test"]["accuracy"], f["test"]["accuracy"])
    assert math.isclose(result.test_mean, np.mean([f["test"]["accuracy"] for f in result.final]))
    # the two final models averaged as one ensemble, tested too (issue 14)
    import gradwise as gw

    together = gw.Ensemble(result.models).predict_proba(ds.X_test)
    assert math.isclose(result.test_ensemble["accuracy"], np.mean(together.argmax(axis=1) == ds.y_test))
    assert f"the 2 models as one ensemble {result.test_ensemble['accuracy']:.4f}" in result.summary()

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["best_trial"] == best.number
    assert math.isclose(summary["test_accuracy_mean"], result.test_mean)
    assert math.isclose(summary["test_accuracy_ensemble"], result.test_ensemble["accuracy"])
    assert summary["test_ensemble"]["examples"] == len(ds.y_test)
    with open(tmp_path / "trials.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["number"]) for r in rows] == list(range(9))
    for key in ("history", "sampled", "importance"):
        data = open(result.plots[key], "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    # fANOVA importances over coarse and fine trials alike (re-expressed in the coarse ranges)
    values = result.plots["importances"]
    assert "learning_rate" in values and "log2_batch_size" in values
    assert math.isclose(sum(values.values()), 1.0, rel_tol=1e-6) and min(values.values()) >= 0


def test_the_test_set_is_never_seen_during_tuning(tmp_path):
    # A test set full of NaN: any look at it during the study would fail (or poison the scores); the study
    # runs to the end and only the final evaluation trips over it.
    ds = load("blobs", seed=0)
    nan_test = np.full_like(ds.X_test, np.nan)
    with pytest.raises(GradwiseValueError, match="finite"):
        tune(ds.X_train, ds.y_train, X_test=nan_test, y_test=ds.y_test, trials=4, fine_trials=2, epochs=3,
             space=SMALL, out=tmp_path, plots=False, verbose=False)
    trials = _study(tmp_path, "gradwise-arrays").get_trials()
    assert len(trials) == 6 and all(t.state in FINISHED for t in trials)
    assert all(np.isfinite(t.value) for t in trials if t.state == TrialState.COMPLETE)


def test_same_seed_same_study():
    def run(seed):
        result = tune(dataset="moons", trials=4, fine_trials=2, epochs=3, space=SMALL, seed=seed,
                      final_seeds=0, plots=False, verbose=False)
        trials = sorted(result.study.get_trials(), key=lambda t: t.number)
        return [t.user_attrs[CONFIG_ATTR] for t in trials], [t.value for t in trials]

    configs, values = run(0)
    assert (configs, values) == run(0)  # same sampled configurations, same dev scores
    assert configs != run(1)[0]
    assert len({c["learning_rate"] for c in configs}) == 6


def test_fine_trials_sample_around_the_best_coarse_trials():
    result = tune(dataset="moons", trials=10, fine_trials=4, top_fraction=0.2, epochs=3, pruner="none",
                  space=SMALL, final_seeds=0, plots=False, verbose=False)
    trials = sorted(result.study.get_trials(), key=lambda t: t.number)
    coarse = [t for t in trials if stage_of(t) == 1]
    fine = [t for t in trials if stage_of(t) == FINE]
    assert len(coarse) == 10 and len(fine) == 4
    assert min(t.number for t in fine) > max(t.number for t in coarse)
    top = sorted(coarse, key=lambda t: (t.value, t.number))[:2]  # 20% of 10
    space, narrowed = result.coarse_space, result.fine_space
    assert narrowed is not None and narrowed != space
    for name in ("learning_rate", "beta1", "hidden_units", "keep_prob"):
        dim, wide = narrowed[name], space[name]
        top_values = [t.user_attrs[CONFIG_ATTR][name] for t in top]
        if dim.kind == "fixed":
            assert all(v == dim.value for v in top_values)
            continue
        assert wide.low <= dim.low and dim.high <= wide.high
        assert all(dim.low <= v <= dim.high for v in top_values), (name, dim, top_values)
        for t in fine:
            assert dim.low <= t.user_attrs[CONFIG_ATTR][name] <= dim.high
            if dim.param_name in t.distributions:
                assert t.distributions[dim.param_name] == dim.distribution()


def test_hopeless_trials_are_pruned_from_their_dev_cost():
    # About half the trials get a learning rate far too small to learn anything in 10 epochs (their dev
    # cost stays where it started); once 5 trials have finished, the median rule stops every such trial
    # at its first check (epoch 2 + 1), long before its last epoch.
    space = {**SMALL, "learning_rate": "1e-7,0.03", "epochs": 10}
    result = tune(dataset="moons", trials=16, fine_trials=0, space=space, final_seeds=0, plots=False,
                  verbose=False)
    trials = sorted(result.study.get_trials(), key=lambda t: t.number)
    hopeless = [t for t in trials[5:] if t.user_attrs[CONFIG_ATTR]["learning_rate"] == 1e-7]
    assert len(hopeless) >= 3
    for t in hopeless:
        assert t.state == TrialState.PRUNED and len(t.intermediate_values) < 10, t
    assert all(t.state == TrialState.COMPLETE for t in trials[:5])  # the pruner's startup trials
    assert result.best_config["learning_rate"] == 0.03


def test_the_median_pruner_takes_epochs_given_as_choices():
    # a choice has no low bound: the pruner's warm-up comes from the smallest choice (was int(None))
    pruner = make_pruner("median", SearchSpace.default().override({"epochs": "10,20"}))
    assert isinstance(pruner, optuna.pruners.MedianPruner)


def test_resume_runs_nothing_more_and_refuses_other_settings(tmp_path):
    args = dict(dataset="moons", trials=3, fine_trials=1, epochs=2, space=SMALL, out=tmp_path, final_seeds=0,
                plots=False, verbose=False)
    first = tune(**args)
    again = tune(**args)
    assert again.worker.ran == 0 and again.best_number == first.best_number
    with pytest.raises(GradwiseValueError, match="--trials"):
        tune(**{**args, "trials": 4})
    with pytest.raises(GradwiseValueError, match="search space"):
        tune(**{**args, "space": {**SMALL, "learning_rate": "1e-3:1e-2"}})
    with pytest.raises(GradwiseValueError, match="the data"):
        tune(**{**args, "dataset": "circles", "study_name": "gradwise-moons"})


def test_bad_arguments_name_the_value(tmp_path):
    with pytest.raises(GradwiseValueError, match="trials must be >= 1"):
        tune(dataset="moons", trials=0)
    with pytest.raises(GradwiseValueError, match="sampler"):
        tune(dataset="moons", sampler="grid")
    with pytest.raises(GradwiseValueError, match="concurrent"):
        (tmp_path / "study.db").write_bytes(b"")
        tune(dataset="moons", out=tmp_path, workers=2)
    with pytest.raises(GradwiseValueError, match="fixes every hyperparameter"):
        fixed = {d.name: d.value if d.kind == "fixed" else 1 for d in SearchSpace.default()}
        fixed.update(learning_rate=0.01, beta1=0.9, batch_size=32, keep_prob=1.0, l2=0.0, decay=0.0)
        tune(dataset="moons", space=fixed)
    with pytest.raises(GradwiseValueError, match="either arrays"):
        tune(np.zeros((4, 2)), np.zeros(4), dataset="moons")


def test_tpe_sampler_runs_both_stages():
    result = tune(dataset="moons", trials=6, fine_trials=3, epochs=2, space=SMALL, sampler="tpe",
                  final_seeds=0, plots=False, verbose=False)
    assert sum(t.state in FINISHED for t in result.study.get_trials()) == 9


# ------------------------------------------------------------------------------------ objective


def test_dev_monitor_reports_the_cost_without_the_penalty():
    ds = load("moons", seed=0)
    config = {d.name: d.value for d in SearchSpace.default() if d.kind == "fixed"}
    config.update(learning_rate=0.01, beta1=0.9, batch_size=32, hidden_units=8, layers=1, decay=0.0,
                  keep_prob=1.0, l2=5.0, epochs=3)
    model, history, monitor = train_config(config, ds.X_train, ds.y_train, task="binary", n_outputs=1, seed=0,
                                           dev=(ds.X_test, ds.y_test))
    assert isinstance(monitor, DevMonitor) and len(monitor.scores) == 3
    Xd = model.standardizer.transform(ds.X_test)
    scores = dev_scores(model, Xd, ds.y_test)
    assert scores == monitor.scores[-1]
    with_penalty = model.evaluate(ds.X_test, ds.y_test)  # the model applies its standardizer itself
    assert with_penalty["accuracy"] == scores["accuracy"]
    assert with_penalty["cost"] > scores["cost"] + 1e-6  # λ = 5 adds λ/(2m)·Σ‖W‖² on top


# ------------------------------------------------------------------------------------ dead workers


def _running_trial(study, worker: dict) -> optuna.trial.FrozenTrial:
    study.enqueue_trial({}, user_attrs={STAGE_ATTR: 1})
    waiting = study.get_trials(states=(TrialState.WAITING,))[0]
    assert study._storage.set_trial_state_values(waiting._trial_id, state=TrialState.RUNNING)
    trial = optuna.trial.Trial(study, waiting._trial_id)
    trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
    study._storage.set_trial_system_attr(waiting._trial_id, st.WORKER_ATTR, worker)
    return study._storage.get_trial(waiting._trial_id)


def test_a_trial_of_a_dead_local_worker_is_failed_and_queued_again(tmp_path):
    storage = st.open_storage(st.resolve_storage(None, tmp_path, 1), heartbeat=None)
    study = optuna.create_study(storage=storage, study_name="dead")
    done = subprocess.Popen(["true"])
    done.wait()  # its pid now names no process
    dead = _running_trial(study, {**st.worker_identity(), "pid": done.pid, "start": "0"})
    alive = _running_trial(study, st.worker_identity())
    assert st.reap(study) == [dead.number]
    trials = {t.number: t for t in study.get_trials()}
    assert trials[dead.number].state == TrialState.FAIL
    assert trials[alive.number].state == TrialState.RUNNING  # this very process: alive, left alone
    retry = [t for t in trials.values() if t.system_attrs.get("failed_trial") == dead.number]
    assert len(retry) == 1 and retry[0].state == TrialState.WAITING
    assert retry[0].params == dead.params and retry[0].user_attrs[STAGE_ATTR] == 1


def _claimed_but_unsigned(study, claimant: dict | None) -> optuna.trial.FrozenTrial:
    """A ticket taken by a worker killed before it recorded itself (the gap between two writes)."""
    study.enqueue_trial({}, user_attrs={STAGE_ATTR: 1})
    waiting = study.get_trials(states=(TrialState.WAITING,))[-1]
    if claimant is not None:
        st.sign_claim(study, waiting._trial_id, claimant)
    assert study._storage.set_trial_state_values(waiting._trial_id, state=TrialState.RUNNING)
    return study._storage.get_trial(waiting._trial_id)


def test_a_worker_killed_between_claiming_and_signing_is_found(tmp_path, monkeypatch):
    # the CI failure this guards against: such a trial stayed RUNNING forever and a resumed study waited
    storage = st.open_storage(st.resolve_storage(None, tmp_path, 1), heartbeat=60)
    study = optuna.create_study(storage=storage, study_name="gap")
    done = subprocess.Popen(["true"])
    done.wait()
    dead = _claimed_but_unsigned(study, {**st.worker_identity(), "pid": done.pid, "start": "0"})
    alive = _claimed_but_unsigned(study, st.worker_identity())
    elsewhere = _claimed_but_unsigned(study, {"host": socket.gethostname() + "-elsewhere", "pid": 1,
                                              "start": None, "boot": None})
    assert st.reap(study) == [dead.number]  # its only claimant is gone: at once
    # the live worker records itself right after claiming, as _run_trial does
    study._storage.set_trial_system_attr(alive._trial_id, st.WORKER_ATTR, st.worker_identity())
    retry = [t for t in study.get_trials() if t.system_attrs.get("failed_trial") == dead.number]
    assert len(retry) == 1 and retry[0].state == TrialState.WAITING
    assert not any(k.startswith(st.CLAIMANT_PREFIX) or k == st.WORKER_ATTR for k in retry[0].system_attrs)
    # a claimant on another machine can't be checked here: failed once seen ownerless for the grace period
    monkeypatch.setattr(st, "ORPHAN_GRACE", 2.0)  # seen ownerless since the first reap, a moment ago
    assert st.reap(study) == []
    time.sleep(2.1)
    assert st.reap(study) == [elsewhere.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states[alive.number] == TrialState.RUNNING  # claimed by this very process


@pytest.mark.timeout(90)
def test_a_resumed_study_finishes_a_trial_lost_between_claim_and_signature(tmp_path, monkeypatch):
    kwargs = dict(dataset="moons", space=SMALL, trials=2, fine_trials=0, epochs=3, out=tmp_path,
                  final_seeds=0, plots=False, verbose=False)
    first = tune(**kwargs)
    assert first.counts["COMPLETE"] + first.counts["PRUNED"] == 2
    study = _study(tmp_path, "gradwise-moons")
    done = subprocess.Popen(["true"])
    done.wait()
    # a third ticket, claimed by a process that died before signing it
    _claimed_but_unsigned(study, {**st.worker_identity(), "pid": done.pid, "start": "0"})
    study.set_user_attr("gradwise:plan", {**study.user_attrs["gradwise:plan"], "trials": 3})
    result = tune(**{**kwargs, "trials": 3})
    assert result.counts["RUNNING"] == 0 and result.counts["WAITING"] == 0
    assert result.counts["COMPLETE"] + result.counts["PRUNED"] == 3


def test_a_silent_trial_of_another_machine_is_retried_through_the_heartbeat(tmp_path):
    storage = st.open_storage(f"sqlite:///{tmp_path / 'hb.db'}", heartbeat=1)
    study = optuna.create_study(storage=storage, study_name="hb")
    other = {"host": socket.gethostname() + "-elsewhere", "pid": 1, "start": None, "boot": None}
    trial = _running_trial(study, other)
    storage.record_heartbeat(trial._trial_id)
    beat = time.monotonic()
    assert st.reap(study) == []  # beating recently
    # Grace period: 2 × 1 s without a beat. SQLite's now() has whole-second precision, so staleness shows
    # between 2 and 3 s after the beat: poll rather than guess one sleep.
    reaped: list[int] = []
    while not reaped and time.monotonic() - beat < 8.0:
        time.sleep(0.25)
        reaped = st.reap(study)
    assert reaped == [trial.number]
    assert time.monotonic() - beat >= 2.0  # not before the grace period
    retry = [t for t in study.get_trials() if t.system_attrs.get("failed_trial") == trial.number]
    assert len(retry) == 1 and retry[0].state == TrialState.WAITING


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg"),
    ("runs/x.journal", "journal:"),
    ("memory", "memory"),
    ("sqlite:///a.db", "sqlite:///a.db"),
])
def test_storage_specs(given, expected):
    assert st.resolve_storage(given, None, 1).startswith(expected)
    assert "p@" not in st.describe(st.resolve_storage(given, None, 1)) or given.startswith("sqlite")


def test_storage_spec_errors(tmp_path):
    with pytest.raises(GradwiseValueError, match="not a storage"):
        st.resolve_storage("redis://localhost", None, 1)
    with pytest.raises(GradwiseValueError, match="shared"):
        st.resolve_storage("memory", None, 2)
    with pytest.raises(GradwiseValueError, match="cannot open"):
        st.open_storage("postgresql://nobody@127.0.0.1:1/none", heartbeat=None)
    assert st.resolve_storage(None, tmp_path, 2) == f"journal:{tmp_path.resolve() / 'study.journal'}"
    assert st.resolve_storage(None, tmp_path, 1) == f"sqlite:///{tmp_path.resolve() / 'study.db'}"
    (tmp_path / "study.journal").write_bytes(b"")  # a study started with workers: stays in its journal
    assert st.resolve_storage(None, tmp_path, 1) == f"journal:{tmp_path.resolve() / 'study.journal'}"


def test_ctrl_c_requeues_the_interrupted_trial(tmp_path, monkeypatch):
    from gradwise.tuning import study as study_module

    real, calls = study_module.train_config, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(study_module, "train_config", interrupted)
    args = dict(dataset="moons", trials=4, fine_trials=0, epochs=2, space=SMALL, out=tmp_path, final_seeds=0,
                plots=False, verbose=False)
    with pytest.raises(KeyboardInterrupt):
        tune(**args)
    stopped = sorted(_study(tmp_path, "gradwise-moons").get_trials(), key=lambda t: t.number)
    assert [t.state for t in stopped[:3]] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    failed = stopped[2]
    assert [t.state for t in stopped[3:]].count(TrialState.WAITING) == 2  # ticket 4 and the requeued 3
    tune(**args)  # the same command again
    trials = _study(tmp_path, "gradwise-moons").get_trials()
    assert sum(t.state in FINISHED for t in trials) == 4
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == failed.number]
    assert len(retry) == 1 and retry[0].state in FINISHED
    assert retry[0].params.items() >= failed.params.items()
