"""The gradient checker itself: it finds planted bugs and names exactly the corrupted parameters
(the seeds' "look at components"), reproduces the course's 1-D and N-D exercises, and samples.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradwise as gw


class DoubledDW(gw.Dense):
    """The seeds' exercise bug: `dW2 = 1./m * np.dot(dZ2, A1.T) * 2`."""

    def backward(self, dZ):
        dX = super().backward(dZ)
        self.grads["W"] *= 2.0
        return dX


class ScaledDB(gw.Dense):
    """The seeds' exercise bug: `db1 = 4./m * np.sum(dZ1, axis=1, keepdims=True)` instead of 1./m."""

    def backward(self, dZ):
        dX = super().backward(dZ)
        self.grads["b"] *= 4.0
        return dX


def course_case(first=gw.Dense, second=gw.Dense):
    """gradient_check_n_test_case of the course: LINEAR→RELU→LINEAR→RELU→LINEAR→SIGMOID, np.random.seed(1).

    The course's x is (4, 3) with examples as columns; ours are rows, so X = x.T. Biases are (n, 1)
    columns in the course; set_parameters accepts them.
    """
    r = np.random.RandomState(1)
    x = r.randn(4, 3)
    y = np.array([1, 1, 0])
    params = {"W1": r.randn(5, 4), "b1": r.randn(5, 1), "W2": r.randn(3, 5), "b2": r.randn(3, 1),
              "W3": r.randn(1, 3), "b3": r.randn(1, 1)}
    model = gw.Sequential([first(5), gw.ReLU(), second(3), gw.ReLU(), gw.Dense(1), gw.Sigmoid()], input_dim=4,
                          seed=0)
    model.set_parameters(params)
    return model, x.T, y


def test_course_network_passes_when_backprop_is_right():
    model, X, y = course_case()
    report = gw.gradcheck(model, X, y)
    assert report.passed
    assert report.difference < 1e-8
    assert report.flagged == []
    assert report.n_checked == 47


@pytest.mark.parametrize("first,second,expected", [
    (gw.Dense, DoubledDW, ["W2"]),
    (ScaledDB, gw.Dense, ["b1"]),
    (ScaledDB, DoubledDW, ["b1", "W2"]),
], ids=["dW2_doubled", "db1_scaled", "both"])
def test_planted_bugs_are_located(first, second, expected):
    model, X, y = course_case(first, second)
    report = gw.gradcheck(model, X, y)
    assert not report.passed
    assert report.flagged == expected  # exactly the corrupted parameters, in θ order
    # the worst coordinate lies in a corrupted parameter, and the others are still clean
    assert report.worst[0].parameter in expected
    for name, diff in report.per_parameter.items():
        if name not in expected:
            assert diff < 1e-7, name
    if "W2" in expected:
        assert report.per_parameter["W2"] == pytest.approx(1 / 3, rel=1e-6)  # |2g − g| / (|2g| + |g|)
    if "b1" in expected:
        assert report.per_parameter["b1"] == pytest.approx(3 / 5, rel=1e-6)  # |4g − g| / (|4g| + |g|)
    text = str(report)
    assert "FAILED" in text
    for name in expected:
        assert any(line.strip().startswith(name) and "look here" in line for line in text.splitlines())


def test_both_course_bugs_give_the_course_difference():
    """With dW2 × 2 and db1 × 4 the course prints difference = 0.2850931567761623."""
    model, X, y = course_case(ScaledDB, DoubledDW)
    assert gw.gradcheck(model, X, y).difference == pytest.approx(0.2850931567761623, rel=1e-6)


def test_a_bug_in_a_non_dense_layer_is_located_too():
    class WrongGammaBatchNorm(gw.BatchNorm):
        def backward(self, dout):
            dZ = super().backward(dout)
            self.grads["gamma"] *= 1.5
            return dZ

    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    model = gw.Sequential([gw.Dense(5, use_bias=False), WrongGammaBatchNorm(), gw.Tanh(),
                           gw.Dense(3), gw.Softmax()], input_dim=3, seed=1)
    report = gw.gradcheck(model, X, y)
    assert not report.passed and report.flagged == ["gamma1"]


def test_noise_on_a_parameter_whose_gradient_is_zero_is_not_blamed():
    """b before batch norm has gradient 0 in exact arithmetic: its own difference is noise (~1), but it
    cannot fail the check, so it is not flagged and the check passes."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 2, 12)
    model = gw.Sequential([gw.Dense(6), gw.BatchNorm(), gw.ReLU(), gw.Dense(1), gw.Sigmoid()], input_dim=4,
                          seed=1)
    report = gw.gradcheck(model, X, y)
    assert report.passed and report.flagged == []
    assert report.per_parameter["b1"] > 1e-3  # pure noise: the seeds' formula on two ~0 vectors
    model.forward(X, training=True)
    grads = model.backward(y)
    assert np.abs(grads["b1"]).max() < 1e-12 * np.abs(grads["W1"]).max() + 1e-15


# ---------------------------------------------------------------------------- gradcheck_fn


def test_seeds_one_dimensional_case():
    """J(θ) = θx, x = 2, θ = 4: the course prints difference = 2.919335883291695e-10."""
    report = gw.gradcheck_fn(lambda theta: theta * 2, 4.0, 2.0)
    assert report.passed
    assert report.difference < 1e-9
    assert report.difference == pytest.approx(2.919335883291695e-10, rel=1e-3)
    assert report.n_checked == 1 and report.per_parameter == {"theta": report.difference}


def test_one_dimensional_wrong_gradient_fails():
    report = gw.gradcheck_fn(lambda theta: theta * 2, 4.0, 3.0)
    assert not report.passed
    assert report.difference == pytest.approx(1 / 5, rel=1e-6)  # |3 − 2| / (3 + 2)
    assert report.flagged == ["theta"]


def _quadratic(shape, seed=0):
    """J(θ) = ½ θ·Aθ + b·θ + Σ sin θ on an array θ; ∇J = Aθ + b + cos θ (A symmetric)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    M = rng.standard_normal((n, n))
    A, b = M + M.T, rng.standard_normal(n)

    def J(theta):
        t = np.asarray(theta).ravel()
        return 0.5 * t @ A @ t + b @ t + np.sin(t).sum()

    def grad(theta):
        t = np.asarray(theta).ravel()
        return (A @ t + b + np.cos(t)).reshape(shape)

    return J, grad, rng.standard_normal(shape)


def test_n_dimensional_case_with_an_array_and_a_gradient_function():
    J, grad, theta = _quadratic((3, 4))
    report = gw.gradcheck_fn(J, theta, grad)
    assert report.passed and report.difference < 1e-8
    assert report.n_checked == 12
    assert all(len(c.index) == 2 for c in report.worst)  # coordinates are reported in θ's shape
    # the callable and the precomputed gradient give the same report
    assert gw.gradcheck_fn(J, theta, grad(theta)).difference == report.difference


def test_n_dimensional_wrong_gradient_is_located():
    J, grad, theta = _quadratic((3, 4), seed=1)
    wrong = grad(theta).copy()
    wrong[1, 2] += 0.5
    report = gw.gradcheck_fn(J, theta, wrong)
    assert not report.passed
    assert report.worst[0].index == (1, 2)
    assert report.worst[0].abs_error == pytest.approx(0.5, rel=1e-5)
    assert report.worst[1].abs_error < 1e-6


def test_gradcheck_fn_leaves_theta_untouched():
    J, grad, theta = _quadratic((5,))
    before = theta.copy()
    gw.gradcheck_fn(J, theta, grad)
    np.testing.assert_array_equal(theta, before)


# ---------------------------------------------------------------------------- sampling


def _big_problem():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((30, 20)), rng.integers(0, 2, 30)
    return X, y


def test_sampling_checks_at_most_k_coordinates_per_parameter():
    X, y = _big_problem()
    model = gw.mlp([20, 64, 32, 1], seed=0, l2=0.1)
    report = gw.gradcheck(model, X, y, sample=5)
    sizes = {name: p.size for name, p in model.parameters().items()}
    assert report.n_checked == sum(min(5, s) for s in sizes.values()) == 26
    assert report.n_total == model.n_parameters == 3457
    assert report.passed and report.difference < 1e-7
    assert any("sampled at most 5" in note for note in report.notes)
    for c in report.worst:
        assert all(0 <= i < n for i, n in zip(c.index, model.parameters()[c.parameter].shape, strict=True))
    # the sample is chosen by `seed`: same seed, same coordinates
    again = gw.gradcheck(model, X, y, sample=5)
    assert [(c.parameter, c.index) for c in again.worst] == [(c.parameter, c.index) for c in report.worst]


def test_sampling_still_catches_a_planted_bug():
    X, y = _big_problem()
    model = gw.Sequential([gw.Dense(64), gw.ReLU(), DoubledDW(32), gw.ReLU(), gw.Dense(1), gw.Sigmoid()],
                          input_dim=20, seed=0)
    report = gw.gradcheck(model, X, y, sample=8)
    assert report.n_checked == 8 * 5 + 1
    assert not report.passed
    assert report.flagged == ["W2"]


def test_sample_larger_than_a_parameter_checks_all_of_it():
    model, X, y = course_case()
    report = gw.gradcheck(model, X, y, sample=1000)
    assert report.n_checked == report.n_total == 47
    assert report.difference == gw.gradcheck(model, X, y).difference


# ---------------------------------------------------------------------------- the report


def test_report_serializes_and_prints():
    model, X, y = course_case(second=DoubledDW)
    report = gw.gradcheck(model, X, y, n_worst=3)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is False and data["flagged"] == ["W2"]
    assert len(data["worst"]) == 3 and data["worst"][0]["parameter"] == "W2"
    assert data["n_checked"] == 47
    assert "W2" in str(report) and "difference = " in str(report)


def test_gradcheck_does_not_touch_the_model():
    model = gw.mlp([4, 5, 1], batchnorm=True, keep_prob=0.6, l2=0.1, seed=0)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((8, 4)), rng.integers(0, 2, 8)
    model.fit(X, y, epochs=2)
    theta, grad, buffer = model.theta.copy(), model.grad.copy(), model.buffer.copy()
    state = model.rng.bit_generator.state
    gw.gradcheck(model, X, y)
    np.testing.assert_array_equal(model.theta, theta)
    np.testing.assert_array_equal(model.grad, grad)
    np.testing.assert_array_equal(model.buffer, buffer)
    assert model.rng.bit_generator.state == state
