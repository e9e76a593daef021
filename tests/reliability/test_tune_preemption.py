"""SIGTERM and Ctrl-C during `gradwise tune`, and a reaper killed between failing a trial and queueing its
retry.

Preemption: the running trial ends at its epoch's end and goes back to the queue (failed without an error,
retried with the same parameters by Optuna's retry callback), nothing of the final outputs is written, the
process exits 75, and the same command then finishes the plan with every planned trial finished exactly
once — with the scores an uninterrupted study gets. The signal is real and its timing deterministic: the
process is held at the end of its first trial's second epoch until the signal handler has run.

The reaper: a worker is SIGKILLed inside a trial; a second one, reaping that trial, is SIGKILLed right after
failing it and before queueing its retry (held there); a third run of the same command must still finish
the plan. Before the fix the failed ticket was never retried (the chaos test's unexplained failure).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gradwise.preemption import PREEMPTED_EXIT_CODE
from gradwise.tuning import storage as st

from .conftest import subprocess_env, wait_for

ARGS = ["tune", "--dataset", "moons", "--trials", "3", "--fine-trials", "0", "--epochs", "5",
        "--hidden-units", "4:8", "--layers", "1:1", "--seed", "2", "--pruner", "none", "--no-plots", "--quiet"]

HELD_IN_TRIAL = r"""
import sys, time
from pathlib import Path
from gradwise.preemption import StopTrial
from gradwise.cli import main

marker, mode = Path(sys.argv[1]), sys.argv[2]
real = StopTrial.on_epoch_end

def held(self, epoch, logs):
    if epoch == 1 and not marker.exists():  # the first trial's second epoch is trained: say so, and wait
        marker.write_text("held")
        deadline = time.monotonic() + 120
        while (mode == "forever" or not self.stop.requested) and time.monotonic() < deadline:
            time.sleep(0.01)
    real(self, epoch, logs)

StopTrial.on_epoch_end = held
sys.exit(main(sys.argv[3:]))
"""

HELD_AFTER_FAILING = r"""
import sys, time
from pathlib import Path
from gradwise.tuning import storage
from gradwise.cli import main

marker = Path(sys.argv[1])
real = storage._fail

def held(study, trial_id):
    failed = real(study, trial_id)
    if failed:  # the lost trial is FAIL, its retry not queued yet: die here
        marker.write_text("failed")
        time.sleep(600)
    return failed

storage._fail = held
sys.exit(main(sys.argv[2:]))
"""


def _popen(script: str, *argv: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *argv], env=subprocess_env(), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _gradwise(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradwise", *argv], env=subprocess_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _trials(storage: str, name: str):
    spec = st.resolve_storage(storage, None, 1)
    return optuna.load_study(study_name=name, storage=st.open_storage(spec, heartbeat=None)).get_trials()


def _finished_once(trials, planned: int) -> None:
    """Every planned ticket is a chain of failures ending in exactly one finished trial; none left over."""
    states = [t.state for t in trials]
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states, states
    tickets = [t for t in trials if "failed_trial" not in t.system_attrs]
    assert len(tickets) == planned
    retries: dict[int, list] = {}
    for t in trials:
        if st.retried_from(t) is not None:
            retries.setdefault(st.retried_from(t), []).append(t)
    for t in tickets:
        while t.state == TrialState.FAIL:
            assert len(retries.get(t.number, [])) == 1, (t.number, retries.get(t.number))
            following = retries[t.number][0]
            assert following.params == t.params  # the same trial again
            t = following
        assert t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert sum(t.state == TrialState.COMPLETE for t in trials) == planned


def _scores(trials) -> list[tuple]:
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    return sorted((sorted(t.user_attrs["config"].items()), t.value) for t in done)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> list[tuple]:
    where = tmp_path_factory.mktemp("whole")
    done = _gradwise(*ARGS, "--out", str(where / "out"), "--study", "s", cwd=where)
    assert done.returncode == 0, done.stderr
    return _scores(_trials(str(where / "out" / "study.db"), "s"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "ctrl-c"])
def test_signal_during_tune_returns_the_trial_and_the_same_command_finishes(signum, uninterrupted, tmp_path):
    out, marker = tmp_path / "out", tmp_path / "held"
    proc = _popen(HELD_IN_TRIAL, str(marker), "signal", *ARGS, "--out", str(out), "--study", "s", cwd=tmp_path)
    try:
        wait_for(marker.exists, "the trial held in its 2nd epoch", [proc], timeout=120)
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == PREEMPTED_EXIT_CODE, err
    lines = err.strip().splitlines()
    assert "received: finishing the running trial's epoch, then returning the trial to the queue" in lines[0]
    assert lines[-1] == ("gradwise tune: stopped after epoch 2 of trial 0, which is back in the queue; run the "
                         "same command again to continue")
    trials = _trials(str(out / "study.db"), "s")
    first, retry = trials[0], trials[-1]
    assert first.state == TrialState.FAIL and "error" not in first.user_attrs
    assert first.system_attrs[st.REQUEUED_ATTR].startswith("stopped after epoch 2")
    assert retry.state == TrialState.WAITING and st.retried_from(retry) == 0 and retry.params == first.params
    assert not any(t.state == TrialState.RUNNING for t in trials)
    assert {p.name for p in out.iterdir()} <= {"study.db", "study.db-wal", "study.db-shm", "study.db.reap.lock"}

    again = _gradwise(*ARGS, "--out", str(out), "--study", "s", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    trials = _trials(str(out / "study.db"), "s")
    _finished_once(trials, planned=3)
    assert _scores(trials) == uninterrupted  # the retried trial scores what it scores uninterrupted
    assert (out / "best" / "metrics.json").exists() and (out / "summary.json").exists()


def test_a_reaper_killed_between_failing_and_retrying_leaves_nothing_lost(tmp_path):
    journal = tmp_path / "study.journal"
    args = [*ARGS, "--storage", str(journal), "--study", "r", "--worker-only"]
    in_trial, after_fail = tmp_path / "in-trial", tmp_path / "after-fail"
    first = _popen(HELD_IN_TRIAL, str(in_trial), "forever", *args, cwd=tmp_path)
    try:
        wait_for(in_trial.exists, "the first worker held in its trial", [first], timeout=120)
    finally:
        first.kill()
        first.communicate()
    reaper = _popen(HELD_AFTER_FAILING, str(after_fail), *args, cwd=tmp_path)
    try:
        wait_for(after_fail.exists, "the reaper held after failing the trial", [reaper], timeout=120)
    finally:
        reaper.kill()
        reaper.communicate()
    trials = _trials(str(journal), "r")
    assert trials[0].state == TrialState.FAIL and not any(st.retried_from(t) == 0 for t in trials)

    again = _gradwise(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "trial(s) 0 lost their worker" not in again.stdout  # failed already: only its retry was missing
    _finished_once(_trials(str(journal), "r"), planned=3)


def test_sigterm_during_tune_with_workers_stops_every_worker_and_the_same_command_finishes(tmp_path):
    """`tune --workers 2`: SIGTERM to the command while it and its spawned worker each run a trial. The
    command stops its trial at the epoch's end and sends the worker SIGTERM, which does the same; both
    trials go back to the queue, nothing is left RUNNING, the command exits 75, and running it again
    finishes the plan with every planned trial finished exactly once."""
    args = [*ARGS, "--trials", "4", "--epochs", "300", "--workers", "2", "--out", str(tmp_path / "out"),  # last wins
            "--study", "w"]
    journal, marker = tmp_path / "out" / "study.journal", tmp_path / "held"
    proc = _popen(HELD_IN_TRIAL, str(marker), "signal", *args, cwd=tmp_path)
    try:
        wait_for(marker.exists, "the command's trial held in its 2nd epoch", [proc], timeout=120)
        wait_for(lambda: sum(t.state == TrialState.RUNNING for t in _trials(str(journal), "w")) == 2,
                 "the worker's trial to run beside it", [proc], timeout=120)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == PREEMPTED_EXIT_CODE, err
    assert "back in the queue" in err.strip().splitlines()[-1]
    worker_log = (tmp_path / "out" / "workers" / "worker-1.log").read_text()
    assert "back in the queue" in worker_log, worker_log  # the worker stopped its own trial too
    trials = _trials(str(journal), "w")
    assert not any(t.state == TrialState.RUNNING for t in trials)
    requeued = [t for t in trials if t.state == TrialState.FAIL]
    assert len(requeued) == 2 and all(st.REQUEUED_ATTR in t.system_attrs for t in requeued)

    again = _gradwise(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    _finished_once(_trials(str(journal), "w"), planned=4)
