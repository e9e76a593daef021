"""SIGTERM and Ctrl-C during `gradwise train`: the optimizer step in progress finishes, a checkpoint is
written with the position inside the epoch, exit code 75, and `--resume` ends bit-identical to an
uninterrupted run.

The signal is real (sent with `os.kill` to a `gradwise train` process) and its timing deterministic: the
process is held after a chosen optimizer step until the signal handler has run. In Python, `fit` is
preempted at many steps (drawn at random, plus the first, an epoch's last and the last but one) with Adam,
dropout and batch norm on mini-batches, and the resumed weights are compared bit for bit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_moons

import gradwise as gw
from gradwise.checkpoint import load_checkpoint
from gradwise.preemption import PREEMPTED_EXIT_CODE, Preemption

from .conftest import subprocess_env, wait_for

TRAIN = ["train", "--dataset", "moons", "--layers", "6,3", "--optimizer", "adam", "--epochs", "7",
         "--batch-size", "32", "--keep-prob", "0.9", "--seed", "5", "--quiet"]

HELD = r"""
import sys, time
from pathlib import Path
from gradwise.steps import StepControl
from gradwise.cli import main

marker, at_step = Path(sys.argv[1]), int(sys.argv[2])
real = StepControl.halted
seen = [0]

def held(self, batch):
    seen[0] += 1
    if seen[0] == at_step:  # this optimizer step is done: say so, and wait for the signal handler to run
        marker.write_text(str(batch))
        deadline = time.monotonic() + 120
        while not any(cb.halt for cb in self.halters) and time.monotonic() < deadline:
            time.sleep(0.01)
    return real(self, batch)

StepControl.halted = held
sys.exit(main(sys.argv[3:]))
"""


def _gradwise(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradwise", *argv], env=subprocess_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def _same_run(a: Path, b: Path) -> None:
    ma, mb = gw.load(a / "model.safetensors"), gw.load(b / "model.safetensors")
    assert ma.epochs_trained == mb.epochs_trained == 7
    assert np.array_equal(ma.theta, mb.theta) and np.array_equal(ma.buffer, mb.buffer)  # bit-identical
    assert (a / "history.csv").read_text() == (b / "history.csv").read_text()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("whole")
    done = _gradwise(*TRAIN, "--out", str(where / "run"), cwd=where)
    assert done.returncode == 0, done.stderr
    return where / "run"


# moons' training split has 225 rows: 8 steps of 32 per epoch. Step 26 is the 2nd of epoch 4; step 24 the
# last of epoch 3, where the epoch ends as usual and the checkpoint is an ordinary one.
@pytest.mark.parametrize(("signum", "step", "where"), [
    (signal.SIGTERM, 26, "step 2 of epoch 4"),
    (signal.SIGINT, 24, "epoch 3"),
], ids=["SIGTERM-mid-epoch", "ctrl-c-last-step-of-an-epoch"])
def test_signal_during_train_checkpoints_and_resume_is_bit_identical(signum, step, where, uninterrupted,
                                                                     tmp_path):
    run, marker = tmp_path / "run", tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HELD, str(marker), str(step), *TRAIN, "--out", str(run)],
                            env=subprocess_env(), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(marker.exists, "the training held at its step", [proc], timeout=120)
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == PREEMPTED_EXIT_CODE, err
    lines = err.strip().splitlines()
    assert "received: finishing the current step, then writing a checkpoint" in lines[0]
    assert lines[-1] == (f"gradwise train: stopped after {where}; checkpoint written to "
                         f"{run / 'checkpoint.safetensors'}; continue with: gradwise train --out {run} --resume")
    assert not (run / "metrics.json").exists()  # not a finished run
    position = load_checkpoint(run / "checkpoint.safetensors")[1]["position"]
    assert (position is None) == (where == "epoch 3")
    resumed = _gradwise("train", "--out", str(run), "--resume", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    _same_run(uninterrupted, run)


class _AskAt(gw.Callback):
    """Calls `preemption.request()` at the end of global optimizer step `step` (as a signal would)."""

    def __init__(self, preemption: Preemption, step: int):
        self.preemption, self.step, self.seen = preemption, step, 0

    def on_batch_end(self, batch, logs):
        self.seen += 1
        if self.seen == self.step:
            self.preemption.request()


def _fit(model, X, y, **kwargs):
    return model.fit(X[:150], y[:150], epochs=4, batch_size=32, optimizer="adam", learning_rate=0.01,
                     validation_data=(X[150:], y[150:]), verbose=0, **kwargs)


def _network():
    return gw.mlp([2, 16, 8, 1], keep_prob=0.8, batchnorm=True, seed=3)


STEPS = 4 * 5  # 150 rows in batches of 32: 5 steps per epoch, the last of 22 rows
POSITIONS = sorted({1, 5, 7, 10, STEPS - 1, *np.random.default_rng(17).choice(np.arange(2, STEPS), 6).tolist()})


@pytest.mark.parametrize("step", POSITIONS)
def test_preempted_fit_resumes_bit_identically_from_any_step(step, tmp_path):
    X, y = make_moons(200, noise=0.25, random_state=1)
    whole = _network()
    _fit(whole, X, y)
    path = tmp_path / "ckpt.safetensors"
    preemption = Preemption(path)
    stopped = _network()
    _fit(stopped, X, y, callbacks=[_AskAt(preemption, step), preemption])
    epochs, steps = divmod(step, 5)
    if steps == 0:  # an epoch's last step: the epoch ends, then training stops with an ordinary checkpoint
        assert (preemption.preempted_at, preemption.preempted_step) == (epochs, None)
    else:
        assert (preemption.preempted_at, preemption.preempted_step) == (epochs, steps)
        assert stopped.epochs_trained == epochs
        saved = load_checkpoint(path)
        assert saved[1]["position"]["batch"] == steps and saved[0]["position.order"].shape == (150,)
    resumed = _network()
    _fit(resumed, X, y, resume_from=path)
    assert resumed.epochs_trained == 4
    assert np.array_equal(resumed.theta, whole.theta) and np.array_equal(resumed.buffer, whole.buffer)
    assert resumed.history.to_dict() == whole.history.to_dict()
    assert resumed.optimizer.state_dict()["t"] == whole.optimizer.state_dict()["t"]


def test_a_mid_epoch_checkpoint_refuses_another_batch_size(tmp_path):
    X, y = make_moons(200, noise=0.25, random_state=1)
    path = tmp_path / "ckpt.safetensors"
    preemption = Preemption(path)
    _fit(_network(), X, y, callbacks=[_AskAt(preemption, 7), preemption])
    with pytest.raises(gw.GradwiseValueError, match="stopped after step 2 of an epoch, which does not fit"):
        _network().fit(X[:150], y[:150], epochs=4, batch_size=64, optimizer="adam", verbose=0,
                       resume_from=path)


def test_preemption_is_inert_until_requested_and_ignores_the_last_epoch(tmp_path):
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = gw.mlp([2, 4, 1], seed=0)
    quiet = Preemption(tmp_path / "never.safetensors")
    model.fit(X, y, epochs=3, callbacks=[quiet], verbose=0)
    assert quiet.preempted_at is None and not (tmp_path / "never.safetensors").exists()

    last = Preemption(tmp_path / "last.safetensors")
    last.request()  # asked during the last epoch: training ends normally, nothing to resume
    gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=1, callbacks=[last], verbose=0)
    assert last.preempted_at is None

    asked = Preemption(tmp_path / "ckpt.safetensors")
    asked.request()
    stopped = gw.mlp([2, 4, 1], seed=0)
    stopped.fit(X, y, epochs=5, callbacks=[asked], verbose=0)
    assert asked.preempted_at == 1 and stopped.epochs_trained == 1
    stopped.fit(X, y, epochs=5, verbose=0, resume_from=tmp_path / "ckpt.safetensors")
    whole = gw.mlp([2, 4, 1], seed=0)
    whole.fit(X, y, epochs=5, verbose=0)
    assert stopped.epochs_trained == 5 and np.array_equal(stopped.theta, whole.theta)
