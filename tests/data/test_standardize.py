import json

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from gradwise.data import Standardizer, split
from gradwise.data.standardize import __doc__ as module_doc
from gradwise.errors import GradwiseTypeError, GradwiseValueError


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -3.0, 100.0], scale=[2.0, 0.1, 30.0], size=(500, 3))
    y = (X[:, 0] > 5).astype(int)
    return split(X, y, seed=0)


def test_train_becomes_mean_0_std_1(data):
    scaler = Standardizer()
    Xn = scaler.fit_transform(data.X_train)
    np.testing.assert_allclose(Xn.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xn.std(axis=0), 1.0, rtol=1e-12)  # divide by σ: unit variance
    np.testing.assert_allclose(scaler.mean_, data.X_train.mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, data.X_train.std(axis=0))  # population std (1/m)
    assert scaler.n_features_in_ == 3


def test_dev_uses_the_training_mu_and_sigma(data):
    scaler = Standardizer().fit(data.X_train)
    dev = scaler.transform(data.X_dev)
    np.testing.assert_allclose(dev, (data.X_dev - data.X_train.mean(0)) / data.X_train.std(0))
    # The dev set was not fitted: close to, but not exactly, mean 0 / std 1.
    assert np.all(np.abs(dev.mean(axis=0)) > 1e-6)
    assert np.all(np.abs(dev.mean(axis=0)) < 0.5)
    assert not np.allclose(dev.std(axis=0), 1.0, rtol=1e-9)


def test_matches_scikit_learn(data):
    ours = Standardizer().fit(data.X_train).transform(data.X_test)
    theirs = StandardScaler().fit(data.X_train).transform(data.X_test)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_docstring_says_sigma_not_sigma_squared():
    assert "σ²" in module_doc and "unit variance" in module_doc
    assert "x_norm = (x − μ) / σ" in Standardizer.__doc__


def test_constant_feature_gets_scale_one_without_warnings():
    X = np.c_[np.arange(10.0), np.full(10, 7.0), np.full(10, 1e6 + 0.1)]
    scaler = Standardizer()
    Xn = scaler.fit_transform(X)  # the suite turns RuntimeWarning (division by zero) into an error
    np.testing.assert_array_equal(scaler.scale_[1:], [1.0, 1.0])
    np.testing.assert_array_equal(Xn[:, 1:], 0.0)
    assert np.isfinite(Xn).all()


def test_inverse_transform_round_trips_and_inputs_are_not_modified(data):
    X = data.X_train.copy()
    scaler = Standardizer().fit(X)
    Xn = scaler.transform(X)
    np.testing.assert_array_equal(X, data.X_train)
    np.testing.assert_allclose(scaler.inverse_transform(Xn), X, rtol=1e-12)


def test_float32_in_float32_out(data):
    X32 = data.X_train.astype(np.float32)
    scaler = Standardizer().fit(X32)
    assert scaler.transform(X32).dtype == np.float32
    assert scaler.transform(data.X_train).dtype == np.float64
    assert scaler.transform(data.X_train[:, :].astype(int)).dtype == np.float64


def test_json_round_trip_is_exact(data):
    scaler = Standardizer().fit(data.X_train)
    restored = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.mean_, scaler.mean_)
    np.testing.assert_array_equal(restored.scale_, scaler.scale_)
    np.testing.assert_array_equal(restored.transform(data.X_test), scaler.transform(data.X_test))
    assert repr(restored) == "Standardizer(n_features_in_=3)" and repr(Standardizer()) == "Standardizer()"


def test_one_dimensional_input_is_one_feature():
    scaler = Standardizer().fit(np.array([1.0, 2.0, 3.0]))
    assert scaler.n_features_in_ == 1
    np.testing.assert_allclose(scaler.transform([2.0]), [[0.0]])


def test_errors(data):
    with pytest.raises(ValueError, match="transform was called before fit"):
        Standardizer().transform(data.X_dev)
    with pytest.raises(ValueError, match="to_dict was called before fit"):
        Standardizer().to_dict()
    scaler = Standardizer().fit(data.X_train)
    with pytest.raises(ValueError, match="X has 2 features, but the Standardizer was fitted on 3"):
        scaler.transform(data.X_dev[:, :2])
    with pytest.raises(ValueError, match="X has 4 features"):
        scaler.inverse_transform(np.zeros((2, 4)))
    bad = data.X_train.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X must be finite, got nan at row 3, column 1"):
        Standardizer().fit(bad)
    with pytest.raises(GradwiseTypeError, match="X must hold numbers"):
        Standardizer().fit([["a", "b"]])
    with pytest.raises(GradwiseValueError, match="X is empty"):
        Standardizer().fit(np.zeros((0, 3)))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"mean": [0.0]}, r"missing \['scale'\]"),
        ({"mean": [0.0, 1.0], "scale": [1.0]}, "equal length"),
        ({"mean": [0.0], "scale": [0.0]}, "finite positive 'scale'"),
        ({"mean": ["a"], "scale": [1.0]}, "non-numeric"),
        ({"type": "MinMaxScaler", "mean": [0.0], "scale": [1.0]}, "not a Standardizer description"),
    ],
)
def test_from_dict_validates(payload, match):
    with pytest.raises(ValueError, match=match):
        Standardizer.from_dict(payload)


def test_from_dict_needs_a_dict():
    with pytest.raises(TypeError, match="expects a dict"):
        Standardizer.from_dict([1, 2])


def test_standardizer_is_a_pipeline_step_and_survives_clone():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    X = rng.normal(loc=50.0, scale=[1.0, 1000.0], size=(200, 2))
    y = (X[:, 0] - 50.0 + (X[:, 1] - 50.0) / 1000.0 > 0).astype(int)
    pipe = Pipeline([("std", Standardizer()), ("clf", LogisticRegression())]).fit(X, y)
    assert pipe.score(X, y) > 0.95
    inner = pipe.named_steps["std"]
    np.testing.assert_allclose(inner.transform(X).mean(axis=0), 0.0, atol=1e-12)
    fresh = clone(pipe).named_steps["std"]
    assert isinstance(fresh, Standardizer) and not fresh.is_fitted


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_with_copy_false_standardizes_in_place_with_the_same_numbers(dtype):
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((700, 5)) * [1, 10, 1e3, 0.1, 5] + [0, -3, 1e4, 2, 0]).astype(dtype)
    scaler = Standardizer().fit(X[:500])
    expected = scaler.transform(X)
    assert not np.shares_memory(expected, X)
    Z = X.copy()
    out = scaler.transform(Z, copy=False)
    assert out is Z and out.dtype == dtype
    np.testing.assert_array_equal(out, expected)  # bit for bit: the same element-wise arithmetic
    untouched = X.copy()
    scaler.transform(X, copy=True)
    np.testing.assert_array_equal(X, untouched)


def test_transform_with_copy_false_copies_what_it_cannot_overwrite():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 3))
    scaler = Standardizer().fit(X)
    for given in (X.T.copy().T, X.astype(np.int64), X.tolist()):  # not C-contiguous, not float, not an array
        before = np.array(given, dtype=np.float64, copy=True)
        out = scaler.transform(given, copy=False)
        np.testing.assert_array_equal(out, scaler.transform(before))
        np.testing.assert_array_equal(np.asarray(given, dtype=np.float64), before)
    frozen = X.copy()
    frozen.flags.writeable = False
    assert not np.shares_memory(scaler.transform(frozen, copy=False), frozen)
