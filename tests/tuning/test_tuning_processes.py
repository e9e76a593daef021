"""`gradwise tune` processes: two workers on one PostgreSQL study, local workers on a journal file, and a
study killed with SIGKILL and resumed."""

from __future__ import annotations

import json
import signal
import time

import optuna
import pytest
from optuna.trial import TrialState

from gradwise.tuning import SearchSpace
from gradwise.tuning import storage as st
from gradwise.tuning.study import CONFIG_ATTR, FINE_ATTR, STAGE_ATTR

optuna.logging.set_verbosity(optuna.logging.WARNING)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
SMALL = ["--hidden-units", "4:32", "--layers", "1:2"]


def _storage(url):
    return st.open_storage(st.resolve_storage(url, None, 1), heartbeat=None)


def _check(proc, timeout=240):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {err[-3000:]}"
    return out


def test_two_workers_share_one_postgres_study(postgres_url, gradwise_cli, tmp_path):
    args = ["tune", "--dataset", "moons", "--trials", "10", "--fine-trials", "4", "--epochs", "6", *SMALL,
            "--storage", postgres_url, "--study", "shared", "--worker-only", "--quiet"]
    workers = [gradwise_cli.popen(*args, "--out", tmp_path / f"worker{i}") for i in range(2)]
    for proc in workers:
        _check(proc)

    study = optuna.load_study(study_name="shared", storage=_storage(postgres_url))
    trials = sorted(study.get_trials(), key=lambda t: t.number)
    # every planned trial recorded exactly once: 14 trials, numbers 0..13, all finished, none retried
    assert [t.number for t in trials] == list(range(14))
    assert all(t.state in FINISHED for t in trials), [t.state for t in trials]
    assert not any("failed_trial" in t.system_attrs for t in trials)
    assert [t.user_attrs[STAGE_ATTR] for t in trials] == [1] * 10 + [2] * 4
    configs = [json.dumps(t.user_attrs[CONFIG_ATTR], sort_keys=True) for t in trials]
    assert len(set(configs)) == 14
    # both processes ran trials
    pids = {t.system_attrs[st.WORKER_ATTR]["pid"] for t in trials}
    assert pids == {proc.pid for proc in workers}
    # fine trials were sampled in the fine space the workers agreed on, after every coarse trial ended
    fine_space = SearchSpace.from_dict(study.user_attrs[FINE_ATTR])
    last_coarse_end = max(t.datetime_complete for t in trials[:10])
    for t in trials[10:]:
        assert t.datetime_start >= last_coarse_end
        lr = fine_space["learning_rate"]
        assert lr.low <= t.user_attrs[CONFIG_ATTR]["learning_rate"] <= lr.high

    # a third process on the same study: nothing left to run; it retrains the best configuration, tests it
    final = gradwise_cli.run("tune", "--dataset", "moons", "--trials", "10", "--fine-trials", "4", "--epochs",
                             "6", *SMALL, "--storage", postgres_url, "--study", "shared", "--out",
                             tmp_path / "final", "--no-plots")
    assert final.returncode == 0, final.stderr[-3000:]
    summary = json.loads((tmp_path / "final" / "summary.json").read_text())
    best = min((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: (t.value, t.number))
    assert summary["best_trial"] == best.number
    assert summary["trials"]["COMPLETE"] + summary["trials"]["PRUNED"] == 14
    assert (tmp_path / "final" / "best" / "model.safetensors").exists()
    assert len(optuna.load_study(study_name="shared", storage=_storage(postgres_url)).get_trials()) == 14


def test_local_workers_share_a_journal_study(gradwise_cli, tmp_path):
    result = gradwise_cli.run("tune", "--dataset", "moons", "--trials", "8", "--fine-trials", "2", "--epochs",
                              "6", *SMALL, "--workers", "2", "--out", tmp_path, "--no-plots", timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "study.journal").exists() and not (tmp_path / "study.db").exists()
    storage = st.open_storage(f"journal:{tmp_path / 'study.journal'}", heartbeat=None)
    trials = optuna.load_study(study_name="gradwise-moons", storage=storage).get_trials()
    assert sorted(t.number for t in trials) == list(range(10))
    assert all(t.state in FINISHED for t in trials)
    log = (tmp_path / "workers" / "worker-1.log").read_text()
    assert "ran" in log and "Traceback" not in log
    assert (tmp_path / "best" / "model.safetensors").exists()
    # the worker process was given the train and dev splits only
    import numpy as np

    with np.load(next((tmp_path / "workers").glob("data-*.npz"))) as stored:
        assert set(stored.files) == {"X_train", "y_train", "X_dev", "y_dev", "meta", "scaled_columns"}


def test_a_killed_study_resumes_without_losing_finished_trials(gradwise_cli, tmp_path):
    out = tmp_path / "study"
    # trials of ~1 s each (batch 32, 1200 epochs, no pruning): the kill lands while some are unfinished even
    # on an idle machine (30-epoch trials of ~0.1 s all finished between two polls)
    args = ["tune", "--dataset", "moons", "--trials", "5", "--fine-trials", "0", "--epochs", "1200",
            "--batch-size", "32", "--pruner", "none", "--hidden-units", "32:64", "--layers", "1:2", "--out", out,
            "--final-seeds", "0", "--no-plots", "--quiet"]
    proc = gradwise_cli.popen(*args)
    url = f"sqlite:///{out / 'study.db'}"
    deadline = time.monotonic() + 180
    finished = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            trials = optuna.load_study(study_name="gradwise-moons", storage=url).get_trials()
        except Exception:  # not created yet
            continue
        finished = [t for t in trials if t.state in FINISHED]
        if len(finished) >= 2:
            break
    assert proc.poll() is None, "the study ended before it could be killed: make its trials longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = optuna.load_study(study_name="gradwise-moons", storage=url).get_trials()
    done_before = {t.number: t for t in before if t.state in FINISHED}
    running = [t.number for t in before if t.state == TrialState.RUNNING]
    assert len(done_before) >= 2 and len(done_before) < 5

    resumed = gradwise_cli.run(*args, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = {t.number: t for t in optuna.load_study(study_name="gradwise-moons", storage=url).get_trials()}
    for number, t in done_before.items():  # finished trials are kept as they were
        assert after[number].state == t.state and after[number].params == t.params
        assert after[number].value == t.value
    assert sum(t.state in FINISHED for t in after.values()) == 5  # the plan, no more, no less
    assert not any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in after.values())
    for number in running:  # the trial cut short by the kill is marked failed and run again, same parameters
        assert after[number].state == TrialState.FAIL
        retries = [t for t in after.values() if t.system_attrs.get("failed_trial") == number]
        assert len(retries) == 1 and retries[0].state in FINISHED
        # the same parameters (a kill in the middle of sampling leaves the rest to the retry)
        assert retries[0].params.items() >= after[number].params.items()


@pytest.mark.parametrize("argv, words", [
    (["tune"], "one of the arguments --dataset --data is required"),
    (["tune", "--dataset", "nope"], "unknown data set"),
    (["tune", "--dataset", "moons", "--space", "/nonexistent.toml"], "not found"),
    (["tune", "--dataset", "moons", "--storage", "redis://localhost"], "not a storage"),
    (["tune", "--dataset", "moons", "--batch-size", "30:500"], "powers of two"),
    (["tune", "--dataset", "moons", "--learning-rate", "0:1"], "--learning-rate"),
    (["tune", "--dataset", "moons", "--trials", "0"], "--trials"),
    (["tune", "--dataset", "moons", "--target", "y"], "--target applies to --data"),
    (["tune", "--data", "x.txt"], "must be a .csv, .tsv, .parquet or .npz"),
])
def test_command_line_mistakes_are_one_line(argv, words, capsys, tmp_path, monkeypatch):
    from gradwise.cli import main

    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_command_line_tune_in_process(capsys, tmp_path):
    from gradwise.cli import main

    space = tmp_path / "space.toml"
    space.write_text('[space]\nhidden_units = "4:16"\nlayers = 1\nkeep_prob = 1.0\n', encoding="utf-8")
    code = main(["tune", "--dataset", "circles", "--trials", "3", "--fine-trials", "1", "--epochs", "3",
                 "--space", str(space), "--learning-rate", "1e-3:1e-2", "--out", str(tmp_path / "t"),
                 "--no-plots"])
    out = capsys.readouterr().out
    assert code == 0
    assert "trial    0 [coarse]" in out and "[fine]" in out and "test accuracy" in out
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert summary["coarse_space"]["learning_rate"]["low"] == 1e-3
    assert summary["coarse_space"]["layers"] == {"kind": "fixed", "value": 1}
    assert 1e-3 <= summary["best_config"]["learning_rate"] <= 1e-2 and summary["best_config"]["layers"] == 1
