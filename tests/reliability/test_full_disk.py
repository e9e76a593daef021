"""Full and read-only file systems: one line naming the path, previous files intact, --resume still works.

A small tmpfs is mounted for each test (root only: skipped cleanly where mounting is not permitted). "Full"
is a filler file taking every free byte; "read-only" is the same tmpfs remounted ``ro`` (root ignores file
permissions, so chmod would not refuse anything here). Each writer is tested where it is the first to meet
the broken disk: `train --resume` (config.json), `gw.save`, tune's final runs, plots and trials.csv, the
`reproduce` report, TensorBoard event files (in a run whose ``tensorboard/`` alone is a full tmpfs or a
read-only bind mount) and the CSV logger.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw

from .conftest import run_cli, subprocess_env

TRAIN = ["train", "--dataset", "moons", "--layers", "6", "--optimizer", "adam", "--seed", "2", "--quiet"]


@contextlib.contextmanager
def _mounted(where: Path, *mount_args: str):
    """`mount ARGS where` for the block (skips the test where mounting is not permitted)."""
    where.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", *mount_args, str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def tmpfs(tmp_path):
    with _mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=1m", "tmpfs") as where:
        yield where


@pytest.fixture
def big_tmpfs(tmp_path):
    """8 MiB: room for a tune study's outputs or a report, before it is filled."""
    with _mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=8m", "tmpfs") as where:
        yield where


def _break(where: Path, how: str) -> None:
    """Fill the tmpfs at `where`, or remount it read-only."""
    if how == "full":
        _fill(where)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file below `root` (the filler excepted) with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "filler"}


def _refused_in_one_line(code: int, err: str, how: str, where: Path) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert ("No space left on device" if how == "full" else "Read-only file system") in lines[0]
    assert str(where) in lines[0], lines[0]  # the path is named
    return lines[0]


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


TUNE = ["tune", "--dataset", "moons", "--trials", "2", "--fine-trials", "0", "--epochs", "3",
        "--hidden-units", "4:8", "--layers", "1:1", "--seed", "0", "--quiet"]


@pytest.mark.parametrize("how", ["full", "read-only"])
@pytest.mark.parametrize(("writer", "flags"), [
    ("final run", ["--final-seeds", "2"]),  # best/ exists; best-seed1/ is new
    ("plots", ["--final-seeds", "0"]),
    ("trials.csv", ["--final-seeds", "0", "--no-plots"]),
])
def test_tune_outputs_on_a_full_or_read_only_disk(big_tmpfs, tmp_path, how, writer, flags):
    out, study = big_tmpfs / "out", ["--storage", str(tmp_path / "study.db")]  # the study lives elsewhere
    code, _, err = run_cli(*TUNE, *study, "--out", out)
    assert code == 0, err
    before = _tree(out)
    _break(big_tmpfs, how)
    code, _, err = run_cli(*TUNE, *study, *flags, "--out", out)  # the trials are done: only outputs are written
    _refused_in_one_line(code, err, how, out)
    assert _tree(out) == before and not list(out.glob(".*staging*"))  # previous files intact, nothing staged


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_reproduce_report_on_a_full_or_read_only_disk(big_tmpfs, how):
    out = big_tmpfs / "report"
    args = ["reproduce", "--quick", "--only", "gradient_checking", "--jobs", "1", "--seeds", "1", "--out", out]
    code, _, err = run_cli(*args)
    assert code == 0, err
    before = _tree(out)
    _break(big_tmpfs, how)
    code, _, err = run_cli(*args)
    _refused_in_one_line(code, err.strip().splitlines()[-1] if code == 2 else err, how, big_tmpfs)
    assert _tree(out) == before and not list(big_tmpfs.glob(".report.staging-*"))


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_tensorboard_files_of_a_run_on_a_full_or_read_only_disk(tmp_path, how):
    run = tmp_path / "run"
    train = ["train", "--dataset", "moons", "--layers", "4", "--seed", "1", "--quiet", "--tensorboard", "--out", run]
    code, _, err = run_cli(*train, "--epochs", "2", "--checkpoint-every", "1")
    assert code == 0, err
    board = run / "tensorboard"
    before = _tree(board)
    with contextlib.ExitStack() as stack:
        if how == "full":  # a full tmpfs holding a copy of the event files, bound over the run's tensorboard/
            disk = stack.enter_context(_mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=1m", "tmpfs"))
            for f in board.iterdir():
                shutil.copy2(f, disk / f.name)
            _fill(disk)
            stack.enter_context(_mounted(board, "--bind", str(disk)))
        else:
            stack.enter_context(_mounted(board, "--bind", str(board)))
            subprocess.run(["mount", "-o", "remount,bind,ro", str(board)], check=True)
        code, _, err = run_cli("train", "--out", run, "--resume", "--epochs", "4", "--quiet", "--tensorboard")
        line = _refused_in_one_line(code, err, how, board)
        assert line.endswith(str(board)), line
        assert _tree(board) == before
    code, _, err = run_cli("train", "--out", run, "--resume", "--epochs", "4", "--quiet", "--tensorboard")
    assert code == 0, err


@pytest.mark.parametrize("how", ["full", "read-only"])
@pytest.mark.parametrize("logger", ["CSVLogger", "TensorBoard"])
def test_loggers_on_a_full_or_read_only_disk(tmpfs, how, logger, capfd):
    X = np.random.default_rng(0).standard_normal((64, 2))
    y = (X[:, 0] > 0).astype(int)
    target = tmpfs / ("history.csv" if logger == "CSVLogger" else "board")

    def fit(epochs):
        model = gw.mlp([2, 4, 1], seed=0)
        model.fit(X, y, epochs=epochs, verbose=0, callbacks=[getattr(gw, logger)(target)])

    fit(2)
    before = _tree(tmpfs)
    _break(tmpfs, how)
    with pytest.raises(OSError, match=("No space left on device" if how == "full" else "Read-only file system")
                       + f": .*{target.name}"):
        fit(3)
    assert _tree(tmpfs) == before
    assert "Traceback" not in capfd.readouterr().err  # nothing from a writer thread or an exit hook
