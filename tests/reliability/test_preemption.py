"""SIGTERM and Ctrl-C during `gradwise train`: the epoch finishes, a checkpoint is written, exit code 75,
and `--resume` ends bit-identical to an uninterrupted run.

The signal is real (sent with `os.kill` to a `gradwise train` process) and its timing deterministic: the
process is held at the end of its third epoch until the signal handler has run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw
from gradwise.preemption import PREEMPTED_EXIT_CODE, Preemption

from .conftest import subprocess_env

TRAIN = ["train", "--dataset", "moons", "--layers", "6,3", "--optimizer", "adam", "--epochs", "7",
         "--batch-size", "32", "--keep-prob", "0.9", "--seed", "5", "--quiet"]

HELD = r"""
import sys, time
from pathlib import Path
from gradwise.preemption import Preemption
from gradwise.cli import main

at_epoch = Path(sys.argv[1])
real = Preemption.on_epoch_end

def held(self, epoch, logs):
    if epoch == 2:  # the third epoch is trained: say so, and wait for the signal handler to run
        at_epoch.write_text("3")
        deadline = time.monotonic() + 120
        while not self.requested and time.monotonic() < deadline:
            time.sleep(0.01)
    real(self, epoch, logs)

Preemption.on_epoch_end = held
sys.exit(main(sys.argv[2:]))
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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "ctrl-c"])
def test_signal_during_train_checkpoints_and_resume_is_bit_identical(signum, uninterrupted, tmp_path):
    run, at_epoch = tmp_path / "run", tmp_path / "at_epoch"
    proc = subprocess.Popen([sys.executable, "-c", HELD, str(at_epoch), *TRAIN, "--out", str(run)],
                            env=subprocess_env(), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not at_epoch.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert at_epoch.exists(), proc.communicate()
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == PREEMPTED_EXIT_CODE, err
    lines = err.strip().splitlines()
    assert "received: finishing the current epoch" in lines[0]
    assert lines[-1] == (f"gradwise train: stopped after epoch 3; checkpoint written to "
                         f"{run / 'checkpoint.safetensors'}; continue with: gradwise train --out {run} --resume")
    assert not (run / "metrics.json").exists()  # not a finished run
    resumed = _gradwise("train", "--out", str(run), "--resume", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    _same_run(uninterrupted, run)


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
