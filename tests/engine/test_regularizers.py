"""L2 and L1 with the seeds' scaling, in the cost and in the gradient, on the weights only.

    L2: J += λ/(2m) Σ_l ‖W^[l]‖²_F,   dW += λ/m · W
    L1: J += λ/(2m) Σ_l Σ|W^[l]|,     dW += λ/(2m) · sign(W)
with m the number of examples in the batch.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw
from gradwise.layers import TRAINING

RNG = np.random.default_rng(8)
X = RNG.standard_normal((10, 3))
Y = RNG.integers(0, 2, 10)


def _model(l2=0.0, l1=0.0, dtype="float64"):
    model = gw.Sequential([gw.Dense(4, use_bias=False), gw.BatchNorm(), gw.ReLU(), gw.Dense(3), gw.Tanh(),
                           gw.Dense(1), gw.Sigmoid()], input_dim=3, l2=l2, l1=l1, seed=4, dtype=dtype)
    # large biases, γ and β: if any of them were penalized, the cost would show it
    model.set_parameters({"b2": np.full(3, 5.0), "gamma1": np.full(4, 3.0), "beta1": np.full(4, -2.0)},
                         strict=False)
    return model


def _J_and_grad(model, X=X, y=Y):
    J, _ = model.loss_and_gradient(model.prepare_inputs(X), model.prepare_targets(y, X.shape[0]), TRAINING)
    return J, {k: v.copy() for k, v in model.gradients().items()}


@pytest.mark.parametrize("l2,l1", [(0.7, 0.0), (0.0, 0.7), (0.3, 1.1)])
def test_penalty_and_gradient_follow_the_seeds_formulas(l2, l1):
    plain, reg = _model(), _model(l2=l2, l1=l1)
    np.testing.assert_array_equal(plain.theta, reg.theta)
    J0, g0 = _J_and_grad(plain)
    J, g = _J_and_grad(reg)
    m = X.shape[0]
    W = {k: v for k, v in reg.parameters().items() if k.startswith("W")}
    expected = l2 / (2 * m) * sum((w ** 2).sum() for w in W.values()) + l1 / (2 * m) * sum(
        np.abs(w).sum() for w in W.values())
    assert J - J0 == pytest.approx(expected, rel=1e-12)
    for name in g:
        if name.startswith("W"):
            w = reg.parameters()[name]
            np.testing.assert_allclose(g[name] - g0[name], l2 / m * w + l1 / (2 * m) * np.sign(w), rtol=1e-10,
                                       atol=1e-15)
        else:  # b, γ, β are not regularized
            np.testing.assert_array_equal(g[name], g0[name])


def test_m_is_the_number_of_examples_in_the_batch():
    model = _model(l2=0.5)
    plain = _model()
    for m in (4, 10):
        J, _ = _J_and_grad(model, X[:m], Y[:m])
        J0, _ = _J_and_grad(plain, X[:m], Y[:m])
        squares = sum((w ** 2).sum() for k, w in model.parameters().items() if k.startswith("W"))
        assert J - J0 == pytest.approx(0.5 / (2 * m) * squares, rel=1e-12)


def test_cost_evaluate_and_fit_history_include_the_penalty():
    model, plain = _model(l2=0.9, l1=0.2), _model()
    diff = model.cost(X, Y) - plain.cost(X, Y)
    squares = sum((w ** 2).sum() for k, w in model.parameters().items() if k.startswith("W"))
    absolutes = sum(np.abs(w).sum() for k, w in model.parameters().items() if k.startswith("W"))
    assert diff == pytest.approx(0.9 / 20 * squares + 0.2 / 20 * absolutes, rel=1e-12)
    assert model.evaluate(X, Y)["cost"] == pytest.approx(model.cost(X, Y), rel=1e-14)


def test_l2_is_weight_decay_and_shrinks_weights():
    """A GD step on the penalty alone is W ← (1 − αλ/m) W: "weight decay"."""
    model = gw.mlp([3, 4, 1], l2=2.0, seed=1)
    before = {k: v.copy() for k, v in model.parameters().items()}
    plain = gw.mlp([3, 4, 1], seed=1)
    model.fit(X, Y, epochs=1, learning_rate=0.1, shuffle=False)
    plain.fit(X, Y, epochs=1, learning_rate=0.1, shuffle=False)
    for name in ("W1", "W2"):
        decay = before[name] * (1 - 0.1 * 2.0 / 10)
        np.testing.assert_allclose(model.parameters()[name] - decay, plain.parameters()[name] - before[name],
                                   rtol=1e-10, atol=1e-14)
    trained = gw.mlp([3, 4, 1], l2=5.0, seed=1)
    free = gw.mlp([3, 4, 1], seed=1)
    trained.fit(X, Y, epochs=200, learning_rate=0.1)
    free.fit(X, Y, epochs=200, learning_rate=0.1)
    assert np.linalg.norm(trained.parameters()["W1"]) < np.linalg.norm(free.parameters()["W1"])


def test_l1_drives_weights_toward_zero_faster_than_its_gradient_size_suggests():
    """L1's gradient has constant magnitude λ/(2m): small weights are pushed to zero, as the seeds say."""
    model = gw.mlp([3, 4, 1], l1=3.0, seed=1)
    model.fit(X, Y, epochs=400, learning_rate=0.1)
    free = gw.mlp([3, 4, 1], seed=1)
    free.fit(X, Y, epochs=400, learning_rate=0.1)
    small = lambda m: np.sum(np.abs(m.parameters()["W1"]) < 0.05)  # noqa: E731
    assert small(model) > small(free)


def test_float32_regularization_stays_float32():
    model = _model(l2=0.7, l1=0.3, dtype="float32")
    J, g = _J_and_grad(model)
    assert all(v.dtype == np.float32 for v in g.values())
    J64, g64 = _J_and_grad(_model(l2=0.7, l1=0.3))
    assert J == pytest.approx(J64, rel=1e-5)
