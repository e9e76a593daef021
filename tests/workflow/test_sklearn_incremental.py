"""gw.sklearn partial_fit and warm_start: one epoch per call, continuing exactly where training stopped;
validation_scores_ holds scikit-learn's score, the dev cost has its own attribute."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from gradwise.errors import GradwiseValueError
from gradwise.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture
def data():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X, np.array(["a", "b", "c"])[y]


def test_partial_fit_calls_equal_one_fit_of_as_many_epochs(data):
    X, y = data
    whole = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, batch_size=32, random_state=0).fit(X, y)
    parts = MLPClassifier(hidden_layer_sizes=(8,), batch_size=32, random_state=0)
    for _ in range(5):
        parts.partial_fit(X, y, classes=["a", "b", "c"])
    assert np.array_equal(whole.model_.theta, parts.model_.theta)
    assert parts.loss_curve_ == whole.loss_curve_ and parts.n_iter_ == 5


def test_partial_fit_keeps_learning_on_streamed_batches(data):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(16,), batch_size=20, learning_rate=0.01, random_state=0)
    for start in range(0, 200, 40):
        clf.partial_fit(X[start:start + 40], y[start:start + 40], classes=np.unique(y) if start == 0 else None)
    first = clf.loss_curve_[0]
    for _ in range(10):
        for start in range(0, 200, 40):
            clf.partial_fit(X[start:start + 40], y[start:start + 40])
    assert clf.loss_curve_[-1] < 0.7 * first and clf.score(X, y) > 0.7
    assert list(clf.classes_) == ["a", "b", "c"]


def test_partial_fit_needs_classes_first_and_refuses_new_labels_and_features(data):
    X, y = data
    with pytest.raises(GradwiseValueError, match="classes must be given on the first call"):
        MLPClassifier().partial_fit(X, y)
    clf = MLPClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, classes=["a", "b", "c"])
    with pytest.raises(GradwiseValueError, match="not in classes"):
        clf.partial_fit(X[:3], ["a", "b", "z"])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :4], y)


def test_warm_start_continues_training(data):
    X, y = data
    twice = MLPClassifier(hidden_layer_sizes=(8,), epochs=4, batch_size=50, random_state=1, warm_start=True)
    twice.fit(X, y).fit(X, y)
    once = MLPClassifier(hidden_layer_sizes=(8,), epochs=8, batch_size=50, random_state=1).fit(X, y)
    assert np.array_equal(twice.model_.theta, once.model_.theta) and twice.n_iter_ == 8
    cold = MLPClassifier(hidden_layer_sizes=(8,), epochs=4, batch_size=50, random_state=1)
    cold.fit(X, y).fit(X, y)
    assert cold.n_iter_ == 4  # without warm_start a fit starts afresh
    with pytest.raises(GradwiseValueError, match="classes of the previous fit"):
        twice.fit(X[y != "c"], y[y != "c"])


def test_regressor_partial_fit_and_warm_start():
    X, y = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
    y = y / y.std()
    reg = MLPRegressor(hidden_layer_sizes=(16,), batch_size=30, learning_rate=0.01, random_state=0)
    for _ in range(30):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 30 and reg.loss_curve_[-1] < 0.2 * reg.loss_curve_[0]
    whole = MLPRegressor(hidden_layer_sizes=(16,), batch_size=30, learning_rate=0.01, epochs=30, random_state=0)
    assert np.array_equal(whole.fit(X, y).model_.theta, reg.model_.theta)


def test_validation_scores_hold_the_score_and_the_cost_its_own_attribute(data):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=30, early_stopping=True, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == len(clf.validation_costs_) == clf.n_iter_
    assert clf.validation_scores_ == clf.history_["val_accuracy"]
    assert clf.validation_costs_ == clf.history_["val_cost"]
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_validation_cost_ == min(clf.validation_costs_)
    Xr, yr = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(16,), epochs=40, early_stopping=True, learning_rate=0.01,
                       standardize=True, random_state=0).fit(Xr, yr / yr.std())
    assert all(s <= 1.0 for s in reg.validation_scores_) and reg.best_validation_score_ > 0.5  # R²
