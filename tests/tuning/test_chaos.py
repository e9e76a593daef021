"""The chaos test: three `gradwise tune` workers on one PostgreSQL study, two killed (SIGKILL) at random
moments, then the same command once more. Every planned trial finishes exactly once; none is left RUNNING.

The kill moments are drawn from a fresh seed, printed in every failure message so a failure can be replayed
(``GRADWISE_CHAOS_SEED=…``).

It was a non-strict xfail after one unexplained failure in the retry-chain checks. Two causes were found: a
reaper killed between failing a dead worker's trial and queueing its retry left a ticket nobody retried
(fixed in `gradwise.tuning.storage`: a lock and the "one retry per failed trial" rule; the deterministic
test is `tests/reliability/test_tune_preemption.py`), and this test walked a chain by Optuna's
``failed_trial``, which names the *first* trial of a chain, so a trial killed twice looked retried twice.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections import defaultdict

import numpy as np
import optuna
from optuna.trial import TrialState

from gradwise.tuning import storage as st
from gradwise.tuning.study import PLAN_ATTR

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
TRIALS, FINE = 8, 2


def test_three_workers_two_killed_then_the_same_command_finishes_the_plan(postgres_url, gradwise_cli):
    seed = int(os.environ.get("GRADWISE_CHAOS_SEED") or secrets.randbits(32))
    rng = np.random.default_rng(seed)
    args = ["tune", "--dataset", "moons", "--trials", str(TRIALS), "--fine-trials", str(FINE), "--epochs",
            "40", "--hidden-units", "8:32", "--layers", "1:2", "--storage", postgres_url, "--study",
            f"chaos-{seed}", "--worker-only", "--quiet", "--seed", "3"]
    workers = [gradwise_cli.popen(*args) for _ in range(3)]
    victims = rng.choice(3, size=2, replace=False)
    # the moments count from the first trial that runs (imports and the study's creation take a while
    # on a busy machine): each victim dies within the next few trials, during one or between two
    moments = np.sort(rng.uniform(0.0, 4.0, size=2))
    _wait_for_a_running_trial(postgres_url, f"chaos-{seed}", workers)
    started = time.monotonic()
    for victim, moment in zip(victims, moments, strict=True):
        time.sleep(max(0.0, started + moment - time.monotonic()))
        workers[victim].send_signal(signal.SIGKILL)
    why = f"chaos seed {seed}: killed workers {victims.tolist()} at {np.round(moments, 2).tolist()} s"
    survivor = workers[({0, 1, 2} - set(victims.tolist())).pop()]
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, f"{why}\n{err[-3000:]}"
    for victim in victims:
        workers[victim].wait()

    again = gradwise_cli.run(*args, timeout=300)
    assert again.returncode == 0, f"{why}\n{again.stderr[-3000:]}"

    study = optuna.load_study(study_name=f"chaos-{seed}", storage=st.open_storage(
        st.resolve_storage(postgres_url, None, 1), heartbeat=None))
    trials = study.get_trials(deepcopy=False)
    assert PLAN_ATTR in study.user_attrs, why
    states = [t.state for t in trials]
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states, (why, states)
    retries: dict[int, list] = defaultdict(list)
    for t in trials:  # Optuna's "failed_trial" names the first of a chain; the retry history's last, the one
        if st.retried_from(t) is not None:  # retried (a trial killed twice has a chain of three)
            retries[st.retried_from(t)].append(t)
    tickets = [t for t in trials if "failed_trial" not in t.system_attrs]
    assert len(tickets) == TRIALS + FINE, (why, len(tickets))  # the plan, no more, no less
    for ticket in tickets:  # each planned trial: a chain of failures ending in exactly one finished run
        chain, t = [ticket], ticket
        while t.state == TrialState.FAIL:
            assert len(retries[t.number]) == 1, (why, t.number, retries[t.number])
            t = retries[t.number][0]
            chain.append(t)
        assert sum(c.state in FINISHED for c in chain) == 1, (why, [(c.number, c.state) for c in chain])
    assert sum(t.state in FINISHED for t in trials) == TRIALS + FINE, why
    print(f"{why}; trials cut short and retried: {sum(t.state == TrialState.FAIL for t in trials)}")


def _wait_for_a_running_trial(url: str, name: str, workers, timeout: float = 180) -> None:
    storage = st.open_storage(st.resolve_storage(url, None, 1), heartbeat=None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(w.poll() is None for w in workers):
        try:
            trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
        except KeyError:  # not created yet
            trials = []
        if any(t.state == TrialState.RUNNING for t in trials):
            return
        time.sleep(0.05)
    raise AssertionError("no trial started: " + "; ".join(str(w.poll()) for w in workers))
