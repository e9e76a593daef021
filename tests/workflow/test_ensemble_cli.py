"""`gradwise train --ensemble K` and the commands that take its run (issue 14): the members are the networks
the single-network runs would train, metrics.json scores the ensemble and each member, evaluate and predict
take the ensemble, bad flags are one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradwise as gw

TRAIN = ["train", "--dataset", "moons", "--epochs", "15", "--layers", "8", "--quiet"]


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    from gradwise.cli import main

    out = tmp_path_factory.mktemp("ensemble") / "run"
    assert main([*TRAIN, "--ensemble", "3", "--keep-prob", "0.9", "--early-stopping", "5", "--out", str(out)]) == 0
    return out


def test_the_run_holds_an_ensemble_whose_first_member_is_the_single_run_of_the_same_seed(ensemble_run, tmp_path,
                                                                                           capsys, wf):
    model = gw.load(ensemble_run)
    assert isinstance(model, gw.Ensemble) and len(model) == 3
    code, _, err = wf.run_main([*TRAIN, "--keep-prob", "0.9", "--early-stopping", "5", "--out",
                                str(tmp_path / "single")], capsys)
    assert code == 0, err
    single = gw.load(tmp_path / "single")
    np.testing.assert_array_equal(model.members[0].theta, single.theta)  # seed S: the network of --seed S
    assert not np.allclose(model.members[1].theta, model.members[0].theta)  # seed S+1: its own start
    config = json.loads((ensemble_run / "config.json").read_text())
    assert config["settings"]["ensemble"] == 3 and "--ensemble 3" in config["command_line"]
    assert model.metadata["seed"] == 0 and model.metadata["ensemble"] == 3


def test_metrics_hold_the_ensembles_scores_and_each_members(ensemble_run):
    metrics = json.loads((ensemble_run / "metrics.json").read_text())
    model = gw.load(ensemble_run)
    data = gw.datasets.load("moons", seed=0)
    assert metrics["test"]["accuracy"] == pytest.approx(model.evaluate(data.X_test, data.y_test)["accuracy"])
    assert [m["seed"] for m in metrics["members"]] == [0, 1, 2]
    for member, scores in zip(model.members, metrics["members"], strict=True):
        assert scores["test"]["cost"] == pytest.approx(member.evaluate(data.X_test, data.y_test)["cost"])
        assert scores["epochs_trained"] == member.epochs_trained
    history = gw.runs.read_history(ensemble_run / "history.csv")
    assert sorted(set(history["member"])) == [0.0, 1.0, 2.0]
    assert len(history["epoch"]) == sum(m["epochs_trained"] for m in metrics["members"])


def test_evaluate_and_predict_take_the_ensemble(ensemble_run, tmp_path, capsys, wf):
    code, out, err = wf.run_main(["evaluate", "--model", str(ensemble_run), "--dataset", "moons"], capsys)
    assert code == 0, err
    metrics = json.loads((ensemble_run / "metrics.json").read_text())
    assert f"accuracy {100 * metrics['test']['accuracy']:6.2f}%" in out
    assert sum(line.startswith("  member ") for line in out.splitlines()) == 3
    X = np.array([[0.0, 0.5], [1.0, -0.5], [2.0, 0.0]])
    np.savez(tmp_path / "X.npz", X=X)
    code, out, err = wf.run_main(["predict", "--model", str(ensemble_run / "model.safetensors"), "--data",
                                  str(tmp_path / "X.npz")], capsys)
    assert code == 0, err
    rows = [line.split(",") for line in out.splitlines()[1:]]
    proba = gw.load(ensemble_run).predict_proba(X)
    np.testing.assert_allclose([[float(r[1]), float(r[2])] for r in rows], proba, rtol=1e-5)
    assert [int(r[0]) for r in rows] == list((proba[:, 1] > 0.5).astype(int))


def test_diagnose_refuses_an_ensemble_in_one_line(ensemble_run, capsys, wf):
    code, _, err = wf.run_main(["diagnose", str(ensemble_run)], capsys)
    wf.assert_one_line_error(code, err)
    assert "ensemble of 3" in err


@pytest.mark.parametrize("flags, words", [
    (["--ensemble", "0"], "--ensemble"),
    (["--ensemble", "abc"], "--ensemble"),
    (["--ensemble", "2", "--checkpoint-every", "5"], "--checkpoint-every"),
    (["--ensemble", "2", "--tensorboard"], "--tensorboard"),
    (["--ensemble", "2", "--resume"], "--resume"),
])
def test_bad_ensemble_flags_are_one_line_errors(tmp_path, capsys, wf, flags, words):
    code, _, err = wf.run_main([*TRAIN, *flags, "--out", str(tmp_path / "r")], capsys)
    wf.assert_one_line_error(code, err)
    assert words in err
    assert not (tmp_path / "r").exists()  # refused before a run directory is made
