"""The compiled training pass (gradwise._fastpath) computes bit for bit what the layers compute one by one.

Each network is cloned; one clone runs `loss_and_gradient` (the plan: fused steps, reused buffers), the
other `_loss_and_gradient_layerwise` (each layer's forward/backward). Both take several optimizer steps
on batches of changing size (so reused buffers are exercised), drawing dropout masks from the same
generator state; J, the returned A and every gradient must be *equal*, not close.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradwise as gw
from gradwise.layers import Dense, Dropout, ReLU, Softmax, Tanh
from gradwise.model import CHECKING, TRAINING


class ShiftedSoftmax(Softmax):
    """A subclass: the plan must not fuse it (its forward may differ); here it is plain softmax."""


ARCHITECTURES = {
    "relu-softmax": lambda dt: gw.mlp([5, 7, 6, 3], output="softmax", seed=1, dtype=dt),
    "relu-sigmoid-l2": lambda dt: gw.mlp([5, 7, 6, 1], l2=0.3, seed=2, dtype=dt),
    "tanh-sigmoid-l1": lambda dt: gw.mlp([5, 8, 1], hidden="tanh", l1=0.2, seed=3, dtype=dt),
    "leaky-linear-mse": lambda dt: gw.mlp([5, 6, 2], hidden="leaky_relu", output="linear", seed=4, dtype=dt),
    "relu-relu-mse": lambda dt: gw.mlp([5, 6, 2], output="relu", loss="mse", seed=5, dtype=dt),
    "sigmoid-hidden": lambda dt: gw.mlp([5, 6, 4, 1], hidden="sigmoid", seed=6, dtype=dt),
    "dropout": lambda dt: gw.mlp([5, 9, 7, 3], output="softmax", keep_prob=[0.7, 0.8], seed=7, dtype=dt),
    "batchnorm": lambda dt: gw.mlp([5, 9, 7, 1], batchnorm=True, seed=8, dtype=dt),
    "input-dropout-no-bias": lambda dt: gw.Sequential(
        [Dropout(0.9), Dense(6, use_bias=False), ReLU(), Dense(4), Tanh(), Dense(3), ShiftedSoftmax()],
        input_dim=5, seed=9, dtype=dt),
    "dense-dense": lambda dt: gw.Sequential([Dense(6), Dense(3), Softmax()], input_dim=5, seed=10, dtype=dt),
}


def _targets(model, m, rng):
    if model.loss == "categorical_crossentropy":
        return rng.integers(0, model.output_dim, m)
    if model.loss == "binary_crossentropy":
        return rng.integers(0, 2, m)
    return rng.standard_normal((m, model.output_dim))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_plan_is_bit_identical_to_the_layers(name, dtype):
    fast = ARCHITECTURES[name](dtype)
    slow = fast.copy()
    slow.rng = copy.deepcopy(fast.rng)
    rng = np.random.default_rng(0)
    opt_fast, opt_slow = gw.Adam(learning_rate=0.05), gw.Adam(learning_rate=0.05)
    for step, m in enumerate([16, 16, 5, 16, 1, 5]):
        X = rng.standard_normal((m, 5)).astype(dtype) * 3
        y = _targets(fast, m, rng)
        Xf, yf = fast._check_X(X), fast._targets(y, m)
        mode = TRAINING if step % 3 else CHECKING
        J1, A1 = fast.loss_and_gradient(Xf, yf, mode)
        J2, A2 = slow._loss_and_gradient_layerwise(Xf, yf, mode)
        assert J1 == J2
        assert A1.dtype == A2.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(A1, A2)
        np.testing.assert_array_equal(fast.grad, slow.grad)
        opt_fast.step(fast.theta, fast.grad, opt_fast.learning_rate)
        opt_slow.step(slow.theta, slow.grad, opt_slow.learning_rate)
    np.testing.assert_array_equal(fast.theta, slow.theta)
    np.testing.assert_array_equal(fast.buffer, slow.buffer)


def test_returned_outputs_are_not_overwritten_by_the_next_step():
    model = gw.mlp([3, 8, 2], output="linear", seed=0, dtype="float32")
    X = np.ones((4, 3), np.float32)
    _, A1 = model.loss_and_gradient(X, np.zeros((4, 2), np.float32))
    kept = A1.copy()
    model.loss_and_gradient(2 * X, np.zeros((4, 2), np.float32))
    np.testing.assert_array_equal(A1, kept)


def test_copies_get_their_own_plan():
    model = gw.mlp([3, 8, 1], seed=0)
    X, y = np.random.default_rng(0).standard_normal((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    t = model._targets(y, 6)
    model.loss_and_gradient(X, t)
    for clone in (copy.copy(model), model.copy(), model.astype("float32")):
        t = clone._targets(y, 6)
        clone.theta[...] *= 2.0
        clone.loss_and_gradient(clone._check_X(X), t)
        ref = clone.copy()
        ref._loss_and_gradient_layerwise(ref._check_X(X), t)
        np.testing.assert_array_equal(clone.grad, ref.grad)
