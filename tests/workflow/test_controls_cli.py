"""`gradwise train --schedule … --clip-norm …` and `gradwise lrfind`: the rates the run used, clipping in the
history, resume with a step-wise schedule, one-line errors for bad settings."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

import gradwise as gw


def _history(run):
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def test_cosine_schedule_with_warmup_is_used_by_train(tmp_path, capsys, wf):
    out = tmp_path / "run"
    code, _, err = wf.run_main(["train", "--dataset", "moons", "--layers", "8", "--epochs", "10", "--schedule",
                                "cosine", "--warmup-epochs", "2", "--min-lr", "1e-4", "--learning-rate", "0.02",
                                "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    expected = [gw.CosineDecay(10, min_lr=1e-4, warmup_epochs=2)(e, 0.02) for e in range(10)]
    np.testing.assert_allclose(_history(out)["learning_rate"], expected, rtol=1e-15)


def test_onecycle_with_clip_norm_resumes_bit_identically(tmp_path, capsys, monkeypatch, wf):
    flags = ["train", "--dataset", "moons", "--layers", "8", "--epochs", "6", "--schedule", "onecycle",
             "--max-lr", "0.05", "--clip-norm", "0.5", "--batch-size", "32", "--checkpoint-every", "1", "--quiet"]
    code, _, err = wf.run_main([*flags, "--out", str(tmp_path / "full")], capsys)
    assert code == 0, err
    history = _history(tmp_path / "full")
    assert "clipped_steps" in history and history["learning_rate"][0] == pytest.approx(0.05 / 25)

    from gradwise.callbacks import Checkpoint

    original = Checkpoint.on_epoch_end

    def crash_after_epoch_3(self, epoch, logs):
        original(self, epoch, logs)
        if epoch + 1 == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "on_epoch_end", crash_after_epoch_3)
    code, _, _ = wf.run_main([*flags, "--out", str(tmp_path / "part")], capsys)
    assert code == 130
    monkeypatch.setattr(Checkpoint, "on_epoch_end", original)
    code, _, err = wf.run_main(["train", "--out", str(tmp_path / "part"), "--resume", "--quiet"], capsys)
    assert code == 0, err
    assert (tmp_path / "part" / "history.csv").read_text() == (tmp_path / "full" / "history.csv").read_text()
    a, b = (gw.load(tmp_path / d) for d in ("full", "part"))
    assert np.array_equal(a.theta, b.theta)


def test_clip_norm_is_recorded_when_it_clips(tmp_path, capsys, wf):
    out = tmp_path / "run"
    code, _, err = wf.run_main(["train", "--dataset", "moons", "--layers", "8", "--epochs", "3", "--clip-norm",
                                "1e-4", "--batch-size", "64", "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    steps = -(-int(0.75 * 300) // 64)  # moons: 300 training rows, 75 % of them train
    assert all(c >= 1 for c in _history(out)["clipped_steps"]) and steps >= 1


@pytest.mark.parametrize("flags,message", [
    (["--schedule", "cosine", "--warmup-epochs", "5"], "warmup_epochs=5"),
    (["--min-lr", "0.1"], "--min-lr applies to --schedule cosine"),
    (["--schedule", "exponential", "--decay", "0.1"], "--decay applies to --schedule inverse-time"),
    (["--clip-norm", "-1"], "--clip-norm"),
    (["--schedule", "spiral"], "--schedule"),
])
def test_bad_control_settings_are_one_line_errors(tmp_path, capsys, wf, flags, message):
    out = tmp_path / "run"
    code, _, err = wf.run_main(["train", "--dataset", "moons", "--epochs", "5", *flags, "--out", str(out)], capsys)
    wf.assert_one_line_error(code, err)
    assert message in err and not out.exists()


def test_lrfind_prints_a_suggestion_and_plots(tmp_path, capsys, wf):
    code, out, err = wf.run_main(["lrfind", "--dataset", "moons", "--layers", "16,16", "--plot",
                                  str(tmp_path / "lr.png")], capsys)
    assert code == 0, err
    assert re.search(r"suggested α = [0-9.e-]+ +\(rule minimum: ", out)
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = wf.run_main(["lrfind", "--dataset", "moons", "--quiet", "--rule", "steepest"], capsys)
    assert code == 0 and 0 < float(out.strip()) < 10


def test_lrfind_inverted_range_is_one_line(capsys, wf):
    code, _, err = wf.run_main(["lrfind", "--dataset", "moons", "--start-lr", "1", "--end-lr", "0.1"], capsys)
    wf.assert_one_line_error(code, err)
    assert "inverted" in err


def test_tune_searches_alpha_around_the_range_tests_suggestion(tmp_path, capsys, wf):
    out = tmp_path / "tune"
    code, printed, err = wf.run_main(["tune", "--dataset", "moons", "--trials", "3", "--fine-trials", "0",
                                      "--epochs", "3", "--lr-from-lrfind", "--no-plots", "--out", str(out)], capsys)
    assert code == 0, err
    low, high = map(float, re.search(r"searching α in ([0-9.e-]+):([0-9.e-]+)", printed).groups())
    assert high == pytest.approx(min(100 * low, 1.0), rel=1e-4)
    with open(out / "trials.csv") as f:
        rates = [float(r["learning_rate"]) for r in csv.DictReader(f)]
    assert len(rates) == 3 and all(low * (1 - 1e-9) <= r <= high * (1 + 1e-9) for r in rates)
    code, _, err = wf.run_main(["tune", "--dataset", "moons", "--lr-from-lrfind", "--learning-rate", "1e-3:1e-1",
                                "--out", str(tmp_path / "t2")], capsys)
    wf.assert_one_line_error(code, err)
    assert "not both" in err
