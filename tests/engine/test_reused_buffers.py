"""The training pass runs the layers' own forward and backward; the buffers they reuse change no bit.

In a training step Dense and ReLU write Z, A, dZ and dX into buffers kept from step to step (one set per
batch size), and the output activation is fused with its cross-entropy. Each network is cloned; one clone
runs `loss_and_gradient` with those buffers, the other the layer-by-layer reference of
`engine_reference.layerwise_loss_and_gradient` (every layer allocating fresh arrays). Both take several
optimizer steps on batches of changing size, drawing dropout masks from the same generator state; J, the
returned A and every gradient must be *equal*, not close.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from engine_reference import layerwise_loss_and_gradient

import gradwise as gw
from gradwise.layers import CHECKING, TRAINING, Dense, Dropout, ReLU, Softmax, Tanh


class ShiftedSoftmax(Softmax):
    """A subclass of the output activation: the loss fuses it like Softmax."""


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
def test_reused_buffers_are_bit_identical_to_fresh_arrays(name, dtype):
    fast = ARCHITECTURES[name](dtype)
    slow = fast.copy()
    slow.rng = copy.deepcopy(fast.rng)
    rng = np.random.default_rng(0)
    opt_fast, opt_slow = gw.Adam(learning_rate=0.05), gw.Adam(learning_rate=0.05)
    for step, m in enumerate([16, 16, 5, 16, 1, 5]):
        X = rng.standard_normal((m, 5)).astype(dtype) * 3
        y = _targets(fast, m, rng)
        Xf, yf = fast.prepare_inputs(X), fast.prepare_targets(y, m)
        mode = TRAINING if step % 3 else CHECKING
        J1, A1 = fast.loss_and_gradient(Xf, yf, mode)
        J2, A2 = layerwise_loss_and_gradient(slow, Xf, yf, mode)
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


def test_copies_get_their_own_buffers():
    model = gw.mlp([3, 8, 1], seed=0)
    X, y = np.random.default_rng(0).standard_normal((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    t = model.prepare_targets(y, 6)
    model.loss_and_gradient(X, t)
    for clone in (copy.copy(model), model.copy(), model.astype("float32")):
        t = clone.prepare_targets(y, 6)
        clone.theta[...] *= 2.0
        clone.loss_and_gradient(clone.prepare_inputs(X), t)
        ref = clone.copy()
        layerwise_loss_and_gradient(ref, ref.prepare_inputs(X), t)
        np.testing.assert_array_equal(clone.grad, ref.grad)


def test_fit_runs_the_layers_own_backward(monkeypatch):
    """The code a reader studies is the code that trains: patch the layers' backward and count the calls.

    A ReLU right after a Dense is carried by it (one layer call instead of two), so for ReLU the count is
    of its own derivative, `ReLU.gradient`, which both its backward and a carrying Dense call.
    """
    calls = {"Dense": 0, "ReLU": 0, "Tanh": 0, "Dropout": 0}
    for cls in (Dense, Tanh, Dropout):
        original = cls.backward

        def counted(self, d, _original=original, _name=cls.__name__):
            calls[_name] += 1
            return _original(self, d)

        monkeypatch.setattr(cls, "backward", counted)
    relu_gradient = ReLU.gradient

    def counted_gradient(*args):
        calls["ReLU"] += 1
        return relu_gradient(*args)

    monkeypatch.setattr(ReLU, "gradient", staticmethod(counted_gradient))
    model = gw.Sequential([Dense(6), ReLU(), Dropout(0.8), Dense(5), Tanh(), Dense(1), gw.Sigmoid()],
                          input_dim=3, seed=0)
    X = np.random.default_rng(1).standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    model.fit(X, y, epochs=3, batch_size=16)  # 3 batches per epoch
    assert calls == {"Dense": 3 * 3 * 3, "ReLU": 9, "Tanh": 9, "Dropout": 9}
    assert model.layers[0].activation is model.layers[1]  # carried
    report = gw.gradcheck(model, X[:10], y[:10])
    assert report.passed and calls["Dense"] > 27


def test_a_relu_after_batch_norm_runs_as_its_own_layer(monkeypatch):
    calls = []
    original = ReLU.backward
    monkeypatch.setattr(ReLU, "backward", lambda self, d: calls.append(1) or original(self, d))
    model = gw.mlp([3, 6, 4, 1], batchnorm=True, seed=0)
    X = np.random.default_rng(1).standard_normal((32, 3))
    model.fit(X, (X[:, 0] > 0).astype(int), epochs=2, batch_size=16, verbose=0)
    assert len(calls) == 2 * 2 * 2  # two ReLUs, two batches, two epochs
    assert all(getattr(layer, "activation", None) is None for layer in model.layers)
