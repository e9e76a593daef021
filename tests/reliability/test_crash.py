"""A process killed (SIGKILL) while saving leaves the old file or the new one, never a broken one.

A child process saves models (`gw.save`, the .safetensors + .json pair) and checkpoints in a loop,
alternating between two different models; the parent kills it at random moments, then loads what is
on disk. Every load must succeed and give exactly one of the two models; leftover temporary files must
not look like models. A deterministic variant interrupts `save` between its two files.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw
from gradwise import io as gwio
from gradwise.checkpoint import load_checkpoint, save_checkpoint

from .conftest import subprocess_env

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

SIZES = [40, 200, 200, 10]  # ~50k parameters: each save takes long enough to be caught in the middle

CHILD = r"""
import sys
import gradwise as gw
from gradwise.checkpoint import save_checkpoint

folder, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
models = [gw.mlp(sizes, output="softmax", seed=seed) for seed in (1, 2)]
for model in models:
    model.optimizer = gw.Adam()
i = 0
while True:
    model = models[i % 2]
    gw.save(model, folder + "/model.safetensors")
    save_checkpoint(folder + "/checkpoint.safetensors", model)
    i += 1
    if i == 2:
        print("ready", flush=True)
"""


def _reference_thetas() -> list[np.ndarray]:
    return [gw.mlp(SIZES, output="softmax", seed=seed).theta.copy() for seed in (1, 2)]


def _matches_one(theta: np.ndarray, references: list[np.ndarray]) -> bool:
    return any(theta.shape == r.shape and np.array_equal(theta, r) for r in references)


def test_sigkill_while_saving_never_leaves_a_broken_file(tmp_path):
    references = _reference_thetas()
    rng = random.Random(8)
    kills = 6
    for k in range(kills):
        argv = [sys.executable, "-c", CHILD, str(tmp_path), ",".join(map(str, SIZES))]
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(),
                                 text=True)
        try:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
            time.sleep(rng.uniform(0.0, 0.4))  # a random moment inside the save loop
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL

        model = gw.load(tmp_path / "model.safetensors")  # never raises: old pair or new pair
        assert _matches_one(model.theta, references), f"kill {k}: the loaded model is neither old nor new"
        also = gw.load(tmp_path)  # a run directory: the same file, never a temporary one
        assert np.array_equal(also.theta, model.theta)
        tensors, meta = load_checkpoint(tmp_path / "checkpoint.safetensors")
        assert _matches_one(tensors["theta"], references)
        assert meta["optimizer"]["config"]["name"] == "adam"

        # Temporary files of an interrupted write are hidden (".name.XXXX.tmp"), never picked up by
        # `load(directory)`; read on purpose, one is either complete or refused as truncated.
        for leftover in tmp_path.iterdir():
            if leftover.name in ("model.safetensors", "model.json", "checkpoint.safetensors"):
                continue
            assert leftover.name.startswith(".") and leftover.name.endswith(".tmp"), leftover.name
            if leftover.name.startswith(".model.json."):
                continue
            kind = "checkpoint" if leftover.name.startswith(".checkpoint.") else "model"
            try:
                if kind == "model":
                    assert _matches_one(gw.load(leftover).theta, references)
                else:
                    assert _matches_one(load_checkpoint(leftover)[0]["theta"], references)
            except gw.ModelFileError as exc:
                assert "truncated" in str(exc) or "not a gradwise file" in str(exc), str(exc)


class _Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


@pytest.mark.parametrize("victim", ["write_json", "write_container"])
def test_interrupted_between_the_two_files_of_a_save(tmp_path, monkeypatch, victim):
    """`save` writes two files; dying between (or during) them still leaves a loadable model."""
    old, new = (gw.mlp([3, 4, 2], output="softmax", seed=s) for s in (1, 2))
    path = gw.save(old, tmp_path / "m.safetensors")

    def die(*args, **kwargs):
        raise _Killed

    monkeypatch.setattr(gwio, victim, die)
    with pytest.raises(_Killed):
        gw.save(new, path)
    monkeypatch.undo()
    loaded = gw.load(path)
    expected = new if victim == "write_json" else old
    assert np.array_equal(loaded.theta, expected.theta)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # cleaned up by atomic_open


def test_atomic_open_leaves_the_old_file_when_the_writer_fails(tmp_path):
    from gradwise._atomic import atomic_open

    target = tmp_path / "report.md"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_checkpoint_written_atomically_by_the_callback(tmp_path, monkeypatch):
    """Checkpoint(every=1): a failure inside the write of epoch 2 leaves epoch 1's checkpoint intact."""
    X = np.random.default_rng(0).standard_normal((16, 3))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "ckpt.safetensors"
    model = gw.mlp([3, 4, 1], seed=0)
    model.fit(X, y, epochs=1, callbacks=[gw.Checkpoint(path)])
    first = load_checkpoint(path)[0]["theta"].copy()
    import gradwise._atomic as atomic

    real_fsync = os.fsync

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        model.fit(X, y, epochs=1, callbacks=[gw.Checkpoint(path)])
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)
    assert np.array_equal(load_checkpoint(path)[0]["theta"], first)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]


def test_save_checkpoint_roundtrip_after_crash_test_files(tmp_path):
    """The checkpoint written by save_checkpoint holds a format version and a checksum like a model."""
    model = gw.mlp([3, 2, 1], seed=0)
    save_checkpoint(tmp_path / "c.safetensors", model)
    _, meta = load_checkpoint(tmp_path / "c.safetensors")
    assert meta["format"] == "gradwise-checkpoint" and meta["format_version"] >= 1
    assert len(meta["checksum"]) == 64
    assert Path(tmp_path / "c.safetensors").stat().st_size > 0
