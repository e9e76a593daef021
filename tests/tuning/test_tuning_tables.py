"""`gradwise tune` on a real table with categories and gaps (the Palmer penguins), `--metric`, and
`--class-weight`: the study optimizes the chosen dev metric (checked against scikit-learn), the column plan is
fitted on the training split only and travels with the best model, which predicts on raw rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, log_loss, mean_absolute_error

import gradwise as gw
from gradwise.data import Preprocessor, load_table
from gradwise.errors import GradwiseTypeError, GradwiseValueError
from gradwise.tuning import prepare_data, tune
from gradwise.tuning.objective import DevMonitor, train_config
from gradwise.tuning.tables import _row_splits, table_data

palmerpenguins = pytest.importorskip("palmerpenguins")
PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
SMALL = {"hidden_units": "8:32", "layers": "1:2", "learning_rate": "3e-3:3e-2", "batch_size": "32:64"}


def test_penguins_tune_cli_optimizes_balanced_accuracy_and_the_best_model_takes_raw_rows(gradwise_cli, tmp_path):
    out = tmp_path / "tune"
    done = gradwise_cli.run("tune", "--data", PENGUINS, "--target", "species", "--metric", "balanced_accuracy",
                            "--trials", "3", "--fine-trials", "1", "--epochs", "25", "--hidden-units", "8:32",
                            "--layers", "1", "--learning-rate", "3e-3:3e-2", "--out", out, "--no-plots",
                            timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dev balanced_accuracy" in done.stdout and "test balanced_accuracy" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metric"] == "balanced_accuracy"
    # the study minimized −(dev balanced accuracy): the best trial has the largest one
    rows = list(csv.DictReader((out / "trials.csv").open()))
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    for r in complete:
        assert float(r["value"]) == pytest.approx(-float(r["dev_balanced_accuracy"]))
    best = max(complete, key=lambda r: (float(r["dev_balanced_accuracy"]), -int(r["number"])))
    assert summary["best_trial"] == int(best["number"])

    # the saved model: the column plan fitted on the training split only (not on dev or test rows)
    model = gw.load(out / "best")
    table = load_table(PENGUINS, "species")
    index = _row_splits(table.y, table.is_test, 0.25, seed=0)
    assert not (set(index["train"]) & set(index["dev"])) and not (set(index["train"]) & set(index["test"]))
    on_train = Preprocessor(standardize=False).fit(table.frame.iloc[index["train"]]).get_config()
    on_all = Preprocessor(standardize=False).fit(table.frame).get_config()
    assert model.preprocessor.get_config() == on_train != on_all

    # the test score it reports is scikit-learn's balanced accuracy of the model on the raw test rows
    test_rows = palmerpenguins.load_penguins().iloc[index["test"]]
    predicted = model.classes_[model.predict(test_rows)]
    expected = balanced_accuracy_score(test_rows["species"].to_numpy(), predicted)
    assert summary["test_balanced_accuracy_mean"] == pytest.approx(expected, abs=1e-12)
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert metrics["test"]["balanced_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert set(metrics["test"]["per_class"]) == {"Adelie", "Chinstrap", "Gentoo"}
    assert {"roc_auc", "log_loss", "confusion_matrix", "f1_macro"} <= set(metrics["train"])
    assert expected >= 0.9

    # gradwise predict on raw rows with gaps (NA in the measurements and in sex), target column absent
    raw = palmerpenguins.load_penguins().drop(columns=["species"]).iloc[:40]
    assert raw.isna().any().any()
    raw.to_csv(tmp_path / "raw.csv", index=False)
    done = gradwise_cli.run("predict", "--model", out / "best", "--data", tmp_path / "raw.csv", "--output",
                            tmp_path / "p.csv")
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(tmp_path / "p.csv")
    assert list(written["prediction"]) == list(model.classes_[model.predict(raw)])
    done = gradwise_cli.run("evaluate", "--model", out / "best", "--data", PENGUINS)
    assert done.returncode == 0 and "balanced accuracy" in done.stdout, done.stderr


def test_bad_metric_is_one_line_naming_the_choices(gradwise_cli, tmp_path):
    done = gradwise_cli.run("tune", "--data", PENGUINS, "--target", "species", "--metric", "speed",
                            "--out", tmp_path / "t")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "speed" in done.stderr and "balanced_accuracy" in done.stderr and "roc_auc" in done.stderr
    done = gradwise_cli.run("tune", "--data", PENGUINS, "--target", "species", "--metric", "r2", "--out",
                            tmp_path / "t")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'r2' is for regression" in done.stderr and "balanced_accuracy" in done.stderr
    assert not (tmp_path / "t" / "best").exists()


@pytest.mark.parametrize("metric", ["speed", 3])
def test_tune_api_refuses_unknown_metric(metric, tmp_path):
    with pytest.raises(GradwiseValueError, match="metric must be one of cost, accuracy, balanced_accuracy"):
        tune(dataset=str(PENGUINS), target="species", metric=metric, trials=1, verbose=False)


def test_class_weight_reaches_the_final_model(tmp_path):
    result = tune(dataset=str(PENGUINS), target="species", metric="log_loss", class_weight={"Chinstrap": 3.0},
                  trials=2, fine_trials=0, epochs=8, space=SMALL, out=None, verbose=False, plots=False)
    assert result.study.user_attrs["gradwise:plan"]["class_weight"] == {"1": 3.0}
    data, _, _, info = table_data(PENGUINS, "species", dev_fraction=0.25, seed=0)
    X = np.concatenate([data.X_train, data.X_dev])
    y = np.concatenate([data.y_train, data.y_dev])
    kwargs = dict(task=data.task, n_outputs=data.n_outputs, seed=0, scaled_columns=data.scaled_columns)
    weighted, _, _ = train_config(result.best_config, X, y, class_weight={1: 3.0}, **kwargs)
    plain, _, _ = train_config(result.best_config, X, y, **kwargs)
    np.testing.assert_array_equal(result.models[0].theta, weighted.theta)
    assert not np.array_equal(weighted.theta, plain.theta)
    # log loss is minimized: the best trial has the smallest dev log loss
    trials = [t for t in result.study.get_trials() if t.state.name == "COMPLETE"]
    assert result.best_number == min(trials, key=lambda t: (t.value, t.number)).number
    assert all(t.value == t.user_attrs["dev_log_loss"] for t in trials)
    with pytest.raises(GradwiseValueError, match="'Emperor', which is not a class"):
        tune(dataset=str(PENGUINS), target="species", class_weight={"Emperor": 2.0}, trials=1, verbose=False)


class _Trial:
    """What DevMonitor needs of an Optuna trial: report() recorded, never pruned."""

    def __init__(self) -> None:
        self.reported: list[tuple[float, int]] = []

    def report(self, value: float, step: int) -> None:
        self.reported.append((value, step))

    def should_prune(self) -> bool:
        return False


def test_pruning_reports_the_chosen_metric_each_epoch():
    data, _, _, _ = table_data(PENGUINS, "species", dev_fraction=0.25, seed=0)
    config = {"hidden_units": 8, "layers": 1, "hidden": "relu", "init": "he", "keep_prob": 1.0, "batchnorm": False,
              "l2": 0.0, "optimizer": "adam", "beta1": 0.9, "beta2": 0.999, "learning_rate": 0.01, "decay": 0.0,
              "batch_size": 32, "epochs": 5, "shift": 0, "noise": 0.0}
    trial = _Trial()
    model, _, monitor = train_config(config, data.X_train, data.y_train, task=data.task, n_outputs=3, seed=0,
                                     dev=(data.X_dev, data.y_dev), trial=trial, metric="log_loss",
                                     scaled_columns=data.scaled_columns)
    assert [step for _, step in trial.reported] == list(range(5))
    assert [v for v, _ in trial.reported] == [s["log_loss"] for s in monitor.scores]
    proba = model.predict_proba(data.X_dev)  # the final epoch's network, with its Standardizer attached
    assert trial.reported[-1][0] == pytest.approx(log_loss(data.y_dev, proba, labels=[0, 1, 2]), rel=1e-12)
    assert isinstance(monitor, DevMonitor)


def test_regression_metric_is_minimized_and_the_test_score_is_scikit_learns():
    frame = palmerpenguins.load_penguins().dropna(subset=["bill_length_mm", "flipper_length_mm", "body_mass_g"])
    X, y = frame[["bill_length_mm", "flipper_length_mm"]].to_numpy(), frame["body_mass_g"].to_numpy()
    result = tune(X, y, task="regression", metric="mae", trials=3, fine_trials=0, epochs=10, space=SMALL,
                  verbose=False, plots=False)
    trials = [t for t in result.study.get_trials() if t.state.name == "COMPLETE"]
    assert all(t.value == t.user_attrs["dev_mae"] for t in trials)
    assert result.best_number == min(trials, key=lambda t: (t.value, t.number)).number
    _, X_test, y_test, _ = prepare_data(X, y, task="regression", seed=0)
    expected = mean_absolute_error(y_test, result.models[0].predict(X_test))
    assert result.test_mean == pytest.approx(expected, rel=1e-12)
    assert {"rmse", "r2"} <= set(result.final[0]["test"])


def test_one_hot_and_indicator_columns_stay_unscaled():
    data, _, _, info = table_data(PENGUINS, "species", dev_fraction=0.25, seed=0)
    config = {"hidden_units": 8, "layers": 1, "hidden": "relu", "init": "he", "keep_prob": 1.0, "batchnorm": False,
              "l2": 0.0, "optimizer": "adam", "beta1": 0.9, "beta2": 0.999, "learning_rate": 0.01, "decay": 0.0,
              "batch_size": 32, "epochs": 1, "shift": 0, "noise": 0.0}
    model, _, _ = train_config(config, data.X_train, data.y_train, task=data.task, n_outputs=3, seed=0,
                               scaled_columns=data.scaled_columns)
    names = info["feature_names"]
    onehot = np.setdiff1d(np.arange(data.X_train.shape[1]), data.scaled_columns)
    assert any("island" in names[j] for j in onehot)
    assert np.all(model.standardizer.mean_[onehot] == 0) and np.all(model.standardizer.scale_[onehot] == 1)
    numeric = data.X_train[:, data.scaled_columns]
    np.testing.assert_allclose(model.standardizer.mean_[data.scaled_columns], numeric.mean(axis=0), rtol=1e-12)


def test_tune_takes_a_dataframe_with_gaps_and_its_best_model_predicts_raw_rows():
    frame = palmerpenguins.load_penguins()
    X, y = frame.drop(columns=["species"]), frame["species"]
    result = tune(X, y, metric="f1_macro", trials=2, fine_trials=0, epochs=10, space=SMALL, verbose=False,
                  plots=False)
    model = result.models[0]
    labels = np.unique(y.to_numpy())
    index = _row_splits(np.searchsorted(labels, y.to_numpy()), np.zeros(len(y), dtype=bool), 0.25, seed=0)
    on_train = Preprocessor(standardize=False).fit(X.iloc[index["train"]]).get_config()
    assert model.preprocessor.get_config() == on_train
    assert set(model.classes_[model.predict(X.iloc[:30])]) <= set(labels)
    test = X.iloc[index["test"]]
    from sklearn.metrics import f1_score

    expected = f1_score(y.iloc[index["test"]], model.classes_[model.predict(test)], average="macro")
    assert result.test_mean == pytest.approx(expected, abs=1e-12)
    # a DataFrame test set of its own: X is then split train/dev only
    order = np.random.default_rng(0).permutation(len(X))  # the file is sorted by species
    first, second = order[:len(X) // 2], order[len(X) // 2:]
    result = tune(X.iloc[first], y.iloc[first], X_test=X.iloc[second], y_test=y.iloc[second], trials=1,
                  fine_trials=0, epochs=3, space=SMALL, verbose=False, plots=False)
    assert result.final[0]["test"]["examples"] == len(second)
    with pytest.raises(GradwiseTypeError, match="X_test must be a pandas DataFrame"):
        tune(X.iloc[first], y.iloc[first], X_test=np.zeros((3, 7)), y_test=y.iloc[:3], trials=1, verbose=False)
