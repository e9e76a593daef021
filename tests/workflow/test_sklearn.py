"""gw.sklearn: scikit-learn's estimator checks, Pipeline, GridSearchCV, DecisionBoundaryDisplay, joblib."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import gradwise as gw
from gradwise.sklearn import MLPClassifier, MLPRegressor

# Small networks and a larger learning rate, so that every check trains in a few milliseconds and still
# passes the checks that ask for a good training score (check_classifiers_train: accuracy > 0.83).
FAST = {"hidden_layer_sizes": (10,), "epochs": 30, "learning_rate": 0.01, "random_state": 0}


def _expected_failures(estimator) -> dict[str, str]:
    if not estimator.early_stopping:
        return {}
    # The dev rows are drawn at random: a row weighted 2 is one row, its duplicate may land on either side.
    return {"check_sample_weight_equivalence_on_dense_data":
            "early stopping's random dev split sees a duplicated row twice but a weighted row once"}


@parametrize_with_checks([
    MLPClassifier(**FAST),
    MLPRegressor(**FAST),
    MLPClassifier(**FAST, batchnorm=True, keep_prob=0.9, standardize=True, early_stopping=True, patience=5),
], expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=300, noise=0.2, random_state=0)
    return X, y


def test_string_labels_binary_uses_one_sigmoid_unit(moons):
    X, y = moons
    labels = np.array(["left", "right"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=100, learning_rate=0.01, random_state=0)
    clf.fit(X, labels)
    assert list(clf.classes_) == ["left", "right"]
    assert clf.model_.output_dim == 1 and clf.model_.loss == "binary_crossentropy"
    assert set(clf.predict(X)) <= {"left", "right"}
    assert clf.score(X, labels) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 2) and np.allclose(proba.sum(axis=1), 1)
    assert clf.n_features_in_ == 2 and len(clf.loss_curve_) == clf.n_iter_ == 100
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_multiclass_uses_softmax_and_arbitrary_labels():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    labels = np.array([10, 20, 30])[y]
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=150, learning_rate=0.01, standardize=True,
                        random_state=0).fit(X, labels)
    assert clf.model_.loss == "categorical_crossentropy" and clf.model_.output_dim == 3
    assert clf.score(X, labels) > 0.9
    assert set(np.unique(clf.predict(X))) <= {10, 20, 30}


def test_regressor_single_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(200)
    reg = MLPRegressor(hidden_layer_sizes=(16,), epochs=200, learning_rate=0.01, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (200,) and reg.score(X, y) > 0.9
    Y = np.column_stack([y, -y])
    multi = MLPRegressor(hidden_layer_sizes=(16,), epochs=200, learning_rate=0.01, random_state=0).fit(X, Y)
    assert multi.predict(X).shape == (200, 2) and multi.score(X, Y) > 0.9


def test_same_random_state_same_model_and_early_stopping(moons):
    X, y = moons
    a = MLPClassifier(**FAST).fit(X, y)
    b = MLPClassifier(**FAST).fit(X, y)
    assert np.array_equal(a.model_.theta, b.model_.theta)
    es = MLPClassifier(hidden_layer_sizes=(10,), epochs=500, learning_rate=0.05, early_stopping=True,
                       patience=3, random_state=0).fit(X, y)
    assert es.n_iter_ < 500 and len(es.validation_scores_) == es.n_iter_


def test_bad_parameters_are_reported_at_fit(moons):
    X, y = moons
    for params, match in [({"keep_prob": 0}, "keep_prob"), ({"l2": -1}, "l2"),
                          ({"optimizer": "sgd"}, "optimizer"),
                          ({"hidden_layer_sizes": (10, 0)}, r"hidden_layer_sizes\[1\]"),
                          ({"epochs": 0}, "epochs"), ({"activation": "swish"}, "activation")]:
        clf = MLPClassifier(**params)  # __init__ only stores
        with pytest.raises((ValueError, TypeError), match=match):
            clf.fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier(**FAST).fit(X, np.zeros(len(X)))


def test_pipeline_and_grid_search(moons):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = moons
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,), epochs=40, random_state=0))
    space = {"mlpclassifier__l2": [0.0, 1.0], "mlpclassifier__learning_rate": [0.003, 0.03]}
    grid = GridSearchCV(pipe, space, cv=3)  # (n_jobs=2 works too; it only costs two worker start-ups here)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"mlpclassifier__l2", "mlpclassifier__learning_rate"}
    assert grid.best_params_["mlpclassifier__learning_rate"] == 0.03  # 40 epochs at 0.003 underfit
    assert grid.score(X, y) > 0.85


def test_decision_boundary_display(moons, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import DecisionBoundaryDisplay

    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=100, learning_rate=0.01, random_state=0).fit(X, y)
    for method in ("predict", "predict_proba"):
        display = DecisionBoundaryDisplay.from_estimator(clf, X, response_method=method, grid_resolution=50)
        assert display.response.shape == (50, 50)
        plt.close(display.figure_)
    display = DecisionBoundaryDisplay.from_estimator(clf, X, response_method="predict", grid_resolution=50)
    grid = np.column_stack([display.xx0.ravel(), display.xx1.ravel()])
    assert np.array_equal(display.response.ravel(), clf.predict(grid))
    plt.close(display.figure_)


def test_pickle_and_joblib_round_trip(moons, tmp_path):
    import joblib

    X, y = moons
    clf = MLPClassifier(hidden_layer_sizes=(8,), batchnorm=True, standardize=True, **{
        k: v for k, v in FAST.items() if k != "hidden_layer_sizes"}).fit(X, np.array(["a", "b"])[y])
    back = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "clf.joblib")
    again = joblib.load(tmp_path / "clf.joblib")
    assert np.array_equal(again.predict(X), clf.predict(X))
    # the unpickled network is a real one: its layers are views into its θ again
    again.model_.theta[:] = 0.0
    assert np.all(again.model_.parameters()["W1"] == 0.0)
    # and our own format saves it with its labels
    model = gw.load(gw.save(clf.model_, tmp_path / "clf.safetensors"))
    assert list(model.classes_) == ["a", "b"]
    assert np.array_equal(model.predict_proba(X), clf.predict_proba(X))


def test_digits_pipeline_reaches_95_percent():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    params = {"hidden_layer_sizes": (64,), "epochs": 20, "batch_size": 32, "random_state": 0}
    # scikit-learn's scaler as a pipeline step, or gradwise's Standardizer inside the estimator
    for steps in ([StandardScaler(), MLPClassifier(**params)], [MLPClassifier(**params, standardize=True)]):
        clf = make_pipeline(*steps).fit(X_train, y_train)
        accuracy = clf.score(X_test, y_test)
        assert accuracy >= 0.95, f"{clf}: {accuracy:.4f}"
