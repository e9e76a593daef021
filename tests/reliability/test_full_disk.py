"""Full and read-only file systems: one line naming the path, previous files intact, --resume still works.

A 1 MiB tmpfs is mounted for each test (root only: skipped cleanly where mounting is not permitted). "Full"
is a filler file taking every free byte; "read-only" is the same tmpfs remounted ``ro`` (root ignores file
permissions, so chmod would not refuse anything here).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw

from .conftest import subprocess_env

TRAIN = ["train", "--dataset", "moons", "--layers", "6", "--optimizer", "adam", "--seed", "2", "--quiet"]


@pytest.fixture
def tmpfs(tmp_path):
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _gradwise(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradwise", *argv], env=subprocess_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def _fill(where: Path) -> Path:
    filler = where / "filler"
    with open(filler, "wb", buffering=0) as handle:  # unbuffered: nothing left to fail at close
        try:
            while True:
                handle.write(bytes(4096))
        except OSError:
            pass
    return filler


def _snapshot(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir())}


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_resume_on_a_full_or_read_only_disk_then_again_once_it_is_fixed(tmpfs, tmp_path, how):
    run = tmpfs / "run"
    first = _gradwise(*TRAIN, "--epochs", "3", "--checkpoint-every", "1", "--out", str(run), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = _snapshot(run)
    if how == "full":
        filler = _fill(tmpfs)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    refused = _gradwise("train", "--out", str(run), "--resume", "--epochs", "6", "--quiet", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and str(run) in lines[0], lines
    assert ("No space left on device" if how == "full" else "Read-only file system") in lines[0]
    assert _snapshot(run) == before  # previous files intact, no temporary file left behind
    if how == "full":
        filler.unlink()
    else:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    resumed = _gradwise("train", "--out", str(run), "--resume", "--epochs", "6", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    whole = _gradwise(*TRAIN, "--epochs", "6", "--out", str(tmp_path / "whole"), cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert np.array_equal(gw.load(run).theta, gw.load(tmp_path / "whole").theta)


def test_saving_a_model_on_a_full_disk_keeps_the_previous_one(tmpfs):
    model = gw.mlp([2, 3, 1], seed=0)
    model.build(2)
    gw.save(model, tmpfs / "model.safetensors")
    before = _snapshot(tmpfs)
    _fill(tmpfs)
    bigger = gw.mlp([2, 512, 256, 1], seed=1)
    bigger.build(2)
    with pytest.raises(OSError, match=r"No space left on device: .*model\.(safetensors|json)"):
        gw.save(bigger, tmpfs / "model.safetensors")
    after = {k: v for k, v in _snapshot(tmpfs).items() if k != "filler"}
    assert after == {k: v for k, v in before.items()}
    assert np.array_equal(gw.load(tmpfs / "model.safetensors").theta, model.theta)
