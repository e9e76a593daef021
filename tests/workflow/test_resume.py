"""`gradwise train --checkpoint-every K` and `--resume`: a killed run, resumed, ends with exactly the weights
(and history) of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

# Everything that draws random numbers or carries state across epochs: shuffled mini-batches, dropout
# masks, batch-norm running averages, Adam's moments, the decay schedule, early stopping's counters.
SETTINGS = ["--layers", "8,4", "--keep-prob", "0.8", "--batchnorm", "--batch-size", "16", "--decay", "0.1",
            "--optimizer", "adam", "--learning-rate", "0.01", "--early-stopping", "50", "--seed", "3",
            "--checkpoint-every", "2"]


def _same_run(a: Path, b: Path) -> None:
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    for name in wa:
        assert np.array_equal(wa[name], wb[name]), name  # bit for bit
    assert (a / "history.csv").read_text() == (b / "history.csv").read_text()
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    ma.pop("train_seconds"), mb.pop("train_seconds")
    assert ma == mb


def test_interrupted_run_resumes_to_identical_weights(tmp_path, capsys, monkeypatch, wf):
    data = str(wf.write_csv(tmp_path / "d.csv", m=120))
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    code, _, err = wf.run_main(["train", "--data", data, *SETTINGS, "--epochs", "10", "--out", str(reference),
                             "--quiet"], capsys)
    assert code == 0, err

    from gradwise.callbacks import Checkpoint

    original = Checkpoint.on_epoch_end

    def crash_after_epoch_6(self, epoch, logs):
        original(self, epoch, logs)
        if epoch + 1 == 6:
            raise KeyboardInterrupt  # Ctrl-C right after the checkpoint of epoch 6

    monkeypatch.setattr(Checkpoint, "on_epoch_end", crash_after_epoch_6)
    code, _, err = wf.run_main(["train", "--data", data, *SETTINGS, "--epochs", "10", "--out", str(interrupted),
                             "--quiet"], capsys)
    assert code == 130 and "interrupted" in err
    assert (interrupted / "checkpoint.safetensors").exists() and (interrupted / "config.json").exists()
    assert not (interrupted / "metrics.json").exists() and not (interrupted / "model.safetensors").exists()
    monkeypatch.setattr(Checkpoint, "on_epoch_end", original)

    # a resumed run takes its settings from config.json; contradicting them is refused
    code, _, err = wf.run_main(["train", "--out", str(interrupted), "--resume", "--l2", "0.5"], capsys)
    wf.assert_one_line_error(code, err)
    assert "--l2" in err and "differs" in err
    code, _, err = wf.run_main(["train", "--out", str(interrupted), "--resume", "--epochs", "4"], capsys)
    wf.assert_one_line_error(code, err)

    code, out, err = wf.run_main(["train", "--out", str(interrupted), "--resume"], capsys)
    assert code == 0, err
    assert "resuming" in out
    _same_run(reference, interrupted)


def test_resume_refuses_changed_data(tmp_path, capsys, monkeypatch, wf):
    data = wf.write_csv(tmp_path / "d.csv", m=60)
    run = tmp_path / "run"
    code, _, err = wf.run_main(["train", "--data", str(data), "--epochs", "4", "--checkpoint-every", "2",
                             "--out", str(run), "--quiet"], capsys)
    assert code == 0, err
    wf.write_csv(data, m=60, seed=9)
    code, _, err = wf.run_main(["train", "--out", str(run), "--resume"], capsys)
    wf.assert_one_line_error(code, err)
    assert "changed" in err


def test_killed_process_resumes_to_identical_weights(tmp_path, capsys, wf):
    """A real SIGKILL in the middle of training (no chance to clean up), then --resume."""
    data = str(wf.write_csv(tmp_path / "d.csv", m=150))
    args = ["--data", data, *SETTINGS[:-1], "5", "--epochs", "300"]  # a checkpoint every 5 epochs
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "gradwise", "train", *args, "--out", str(killed), "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (killed / "checkpoint.safetensors").exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.005)
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    if proc.returncode != -signal.SIGKILL:
        pytest.skip("training finished before it could be killed (machine too fast for this test)")
    assert not (killed / "metrics.json").exists()

    code, _, err = wf.run_main(["train", "--out", str(killed), "--resume", "--quiet"], capsys)
    assert code == 0, err
    reference = tmp_path / "reference"
    code, _, err = wf.run_main(["train", *args, "--out", str(reference), "--quiet"], capsys)
    assert code == 0, err
    _same_run(reference, killed)
