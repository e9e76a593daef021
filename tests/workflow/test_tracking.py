"""Tracking a run while it trains: CSVLogger rows flushed per epoch, TensorBoard event files read back with
TensorBoard's own reader, and a CLI run killed with SIGKILL whose history.csv holds every finished epoch."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw


def _blobs(m=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


class _ReadsTheFile(gw.Callback):
    """Reads the CSV after each epoch, as `tail -f` would: the row must already be on disk."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_epoch_end(self, epoch, logs):
        self.seen.append(len(_rows(self.path)) - 1)


def test_csv_logger_writes_each_epoch_as_it_ends_and_matches_the_history(tmp_path):
    X, y = _blobs()
    path = tmp_path / "h.csv"
    reader = _ReadsTheFile(path)
    model = gw.mlp([2, 4, 1], seed=0)
    history = model.fit(X, y, epochs=5, batch_size=32, validation_split=0.25,
                        callbacks=[gw.CSVLogger(path), reader])
    assert reader.seen == [1, 2, 3, 4, 5]
    rows = _rows(path)
    assert rows[0] == ["epoch", "cost", "accuracy", "val_cost", "val_accuracy", "learning_rate"]
    assert [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4, 5]
    for j, name in enumerate(rows[0][1:], start=1):
        assert [float(r[j]) for r in rows[1:]] == history[name]  # exact: floats written with repr
    # a second fit continues the file; a fresh model starting at epoch 0 starts it afresh
    model.fit(X, y, epochs=2, batch_size=32, validation_split=0.25, callbacks=[gw.CSVLogger(path)])
    assert [int(r[0]) for r in _rows(path)[1:]] == [1, 2, 3, 4, 5, 6, 7]
    gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=1, validation_split=0.25, callbacks=[gw.CSVLogger(path)])
    assert [int(r[0]) for r in _rows(path)[1:]] == [1]


def test_csv_logger_refuses_other_columns_and_bad_paths(tmp_path):
    X, y = _blobs()
    path = tmp_path / "h.csv"
    model = gw.mlp([2, 4, 1], seed=0)
    model.fit(X, y, epochs=2, callbacks=[gw.CSVLogger(path)])
    with pytest.raises(gw.GradwiseValueError, match="has the columns"):
        model.fit(X, y, epochs=1, validation_split=0.25, callbacks=[gw.CSVLogger(path)])
    with pytest.raises(gw.GradwiseTypeError, match="path must be a file path, got 3"):
        gw.CSVLogger(3)
    with pytest.raises(gw.GradwiseValueError, match="histogram_freq"):
        gw.TensorBoard(tmp_path, histogram_freq=-1)


def _events(log_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_tensorboard_scalars_per_epoch_and_histograms_of_every_parameter(tmp_path):
    X, y = _blobs()
    model = gw.mlp([2, 5, 3, 1], seed=1, batchnorm=True)
    history = model.fit(X, y, epochs=4, batch_size=40, validation_split=0.25,
                        callbacks=[gw.TensorBoard(tmp_path / "tb", histogram_freq=2)])
    acc = _events(tmp_path / "tb")
    tags = acc.Tags()
    for name in ("cost", "accuracy", "val_cost", "val_accuracy", "learning_rate"):
        points = acc.Scalars(name)
        assert [p.step for p in points] == [1, 2, 3, 4]
        assert np.allclose([p.value for p in points], history[name], rtol=1e-6)  # stored as float32
    params = model.parameters()
    assert {"gamma1", "beta1", "W1", "W3"} <= set(params)
    assert set(tags["histograms"]) == {f"{kind}/{n}" for kind in ("weights", "gradients") for n in params}
    w1 = acc.Histograms("weights/W1")
    assert [h.step for h in w1] == [2, 4]  # every histogram_freq epochs
    last = w1[-1].histogram_value
    assert last.num == params["W1"].size
    assert last.min == pytest.approx(params["W1"].min()) and last.max == pytest.approx(params["W1"].max())
    assert acc.Histograms("gradients/W1")[-1].histogram_value.sum == pytest.approx(
        model.gradients()["W1"].sum(), abs=1e-9)


def test_cli_tensorboard_reads_back_one_point_per_epoch_and_every_layer(tmp_path, wf):
    wf.write_csv(tmp_path / "d.csv", m=120)
    done = wf.gradwise("train", "--data", "d.csv", "--target", "label", "--layers", "6,4", "--epochs", "7",
                       "--seed", "0", "--tensorboard", "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    acc = _events(tmp_path / "run" / "tensorboard")
    assert [p.step for p in acc.Scalars("val_cost")] == list(range(1, 8))
    assert set(acc.Tags()["histograms"]) == {f"{k}/{p}{i}" for k in ("weights", "gradients")
                                             for p in ("W", "b") for i in (1, 2, 3)}
    rows = _rows(tmp_path / "run" / "history.csv")
    assert [float(r[rows[0].index("cost")]) for r in rows[1:]] == pytest.approx(
        [p.value for p in acc.Scalars("cost")], rel=1e-6)


def test_sigkill_mid_training_keeps_every_finished_epoch_and_resume_adds_no_duplicates(tmp_path, wf):
    wf.write_csv(tmp_path / "d.csv", m=600)
    settings = ["--data", "d.csv", "--target", "label", "--layers", "32,16", "--batch-size", "1",
                "--seed", "2", "--checkpoint-every", "5", "--out", "run", "--quiet"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "gradwise", "train", *settings, "--epochs", "60"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    history = tmp_path / "run" / "history.csv"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if history.exists() and len(history.read_text().splitlines()) > 13:  # header + 12 epochs
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    rows = _rows(history)
    epochs = [int(r[0]) for r in rows[1:] if len(r) == len(rows[0])]
    assert len(epochs) >= 12 and epochs == list(range(1, len(epochs) + 1))  # every finished epoch, in order
    assert not (tmp_path / "run" / "metrics.json").exists()  # really killed mid-training
    done = wf.gradwise("train", "--resume", "--out", "run", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    after = _rows(history)
    assert [int(r[0]) for r in after[1:]] == list(range(1, 61))  # continued, no repeated rows
    # the rows before the checkpoint survived the kill unchanged
    kept = min(len(epochs), max(e for e in epochs if e % 5 == 0))
    assert after[1:kept + 1] == rows[1:kept + 1]
