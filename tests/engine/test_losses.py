"""Losses: closed forms on hand examples, their gradients w.r.t. the logits, and finiteness for any
finite input (the course's log(0) = −inf with "random × 10" weights stays finite here)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_circles

import gradwise as gw
from gradwise import losses


@pytest.fixture
def strict_floats():
    """No RuntimeWarning and no silent overflow / invalid / divide-by-zero inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield


# ------------------------------------------------------------------------------- closed forms


def test_binary_crossentropy_closed_forms():
    Z = np.array([[0.0], [2.0], [-3.0], [0.5]])
    y = np.array([[1.0], [1.0], [0.0], [0.25]])  # a soft label too
    J, dZ, _ = losses.binary_crossentropy(Z, y)
    sig = 1 / (1 + np.exp(-Z))
    per_example = -(y * np.log(sig) + (1 - y) * np.log(1 - sig))
    assert per_example[0, 0] == pytest.approx(math.log(2))
    assert per_example[1, 0] == pytest.approx(math.log1p(math.exp(-2)))
    assert J == pytest.approx(per_example.mean(), rel=1e-14)
    np.testing.assert_allclose(dZ, (sig - y) / 4, rtol=1e-14)


def test_categorical_crossentropy_closed_forms():
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.array([2, 1])
    J, dZ, _ = losses.categorical_crossentropy(Z, y)
    p0 = np.exp(Z[0]) / np.exp(Z[0]).sum()
    assert J == pytest.approx((-math.log(p0[2]) + math.log(3)) / 2, rel=1e-14)
    expected = np.vstack([p0 - [0, 0, 1], np.full(3, 1 / 3) - [0, 1, 0]]) / 2
    np.testing.assert_allclose(dZ, expected, rtol=1e-14, atol=1e-16)


def test_mse_is_half_mean_squared_error_as_in_the_seeds():
    A = np.array([[1.0, 0.0], [3.0, 1.0]])
    y = np.array([[0.0, 0.0], [1.0, 2.0]])
    J, dA, _ = losses.mse(A, y)
    assert J == pytest.approx((0.5 * 1 + 0.5 * (4 + 1)) / 2)
    np.testing.assert_allclose(dA, (A - y) / 2)


def test_model_cost_uses_each_loss():
    X = np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.0]])
    for output, y, loss_fn in [
        ("sigmoid", np.array([1, 0, 1]), lambda Z, A, y: np.mean(np.logaddexp(0, Z[:, 0]) - y * Z[:, 0])),
        ("softmax", np.array([2, 0, 1]),
         lambda Z, A, y: np.mean(np.log(np.exp(Z).sum(1)) - Z[np.arange(3), y])),
        ("linear", np.array([0.3, -1.0, 2.0]), lambda Z, A, y: 0.5 * np.mean((A[:, 0] - y) ** 2)),
    ]:
        k = 1 if output != "softmax" else 3
        model = gw.mlp([2, 4, k], hidden="tanh", output=output, seed=1)
        P = model.parameters()
        Z = np.tanh(X @ P["W1"].T + P["b1"]) @ P["W2"].T + P["b2"]
        A = model.forward(X)
        assert model.cost(X, y) == pytest.approx(loss_fn(Z, A, y), rel=1e-13), output


# ------------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_losses_and_gradients(dtype, strict_floats):
    big = dtype(1e4)
    Z = np.array([[big], [-big], [big], [-big], [0]], dtype=dtype)
    y = np.array([[0], [1], [1], [0], [1]], dtype=dtype)
    J, dZ, _ = losses.binary_crossentropy(Z, y)
    assert J == pytest.approx((1e4 + 1e4 + 0 + 0 + math.log(2)) / 5, rel=1e-6)
    assert dZ.dtype == dtype and np.all(np.isfinite(dZ))
    np.testing.assert_allclose(dZ[:, 0], np.array([1, -1, 0, 0, -0.5]) / 5, atol=1e-7)

    Zc = np.array([[big, -big, 0], [-big, -big, -big], [big, big, -big]], dtype=dtype)
    yc = np.array([1, 2, 0])
    J, dZ, _ = losses.categorical_crossentropy(Zc, yc)
    assert J == pytest.approx((2e4 + math.log(3) + math.log(2)) / 3, rel=1e-6)
    assert dZ.dtype == dtype and np.all(np.isfinite(dZ))

    A = np.array([[big], [-big]], dtype=dtype)
    J, dA, _ = losses.mse(A, np.zeros((2, 1), dtype=dtype))
    assert math.isfinite(J) and J == pytest.approx(0.5e8, rel=1e-6)
    assert dA.dtype == dtype


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output,y", [("sigmoid", [0, 1, 0, 1]), ("softmax", [0, 1, 2, 1])])
def test_model_cost_is_finite_with_huge_weights(dtype, output, y, strict_floats):
    """Logits of ±1e4 through the whole model: cost, gradient and predictions stay finite."""
    k = 1 if output == "sigmoid" else 3
    model = gw.mlp([2, 3, k], hidden="linear", output=output, seed=0, dtype=dtype)
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) * 100
    model.set_parameters({"W1": W1, "W2": np.full((k, 3), 50.0) * np.arange(1, k + 1)[:, None]}, strict=False)
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, 0.0], [0.0, -1.0]])
    J = model.cost(X, y)
    assert math.isfinite(J) and J > 100
    model.forward(X, training=True)
    grads = model.backward(y)
    assert all(np.all(np.isfinite(g)) and g.dtype == np.dtype(dtype) for g in grads.values())
    assert np.all(np.isfinite(model.predict_proba(X)))


def test_course_random_x10_initialization_cost_is_finite_where_the_course_gets_inf():
    """The course's initialize_parameters_random (×10, np.random.seed(3)) on circles: a^[3] rounds to
    exactly 0 or 1, so −(y log a + (1−y) log(1−a)) is inf. Computed from the logits it is finite."""
    X, y = make_circles(n_samples=300, noise=0.05, random_state=1)
    model = gw.mlp([2, 10, 5, 1], hidden="relu", init="random", rng=np.random.RandomState(3))
    P = model.parameters()
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    Z3 = (relu(relu(X @ P["W1"].T + P["b1"]) @ P["W2"].T + P["b2"]) @ P["W3"].T + P["b3"])[:, 0]
    a3 = 1 / (1 + np.exp(-np.clip(Z3, -700, 700)))
    with np.errstate(divide="ignore", invalid="ignore"):
        course_cost = -np.mean(y * np.log(a3) + (1 - y) * np.log(1 - a3))
    assert not np.isfinite(course_cost)  # the course's inf
    J = model.cost(X, y)
    assert math.isfinite(J)
    # the same cost, written independently as softplus: −log σ(z) = log(1 + e^{−z})
    assert J == pytest.approx(np.mean(np.logaddexp(0, Z3) - y * Z3), rel=1e-12)
    # and training from there stays finite (the course's table: 83% after its 15,000 iterations)
    history = model.fit(X, y, epochs=30, learning_rate=0.01)
    assert np.all(np.isfinite(history.history["cost"]))
