"""The public model API: live views into θ and dθ, config round trips, independent copies, and the
forward/backward pair agreeing with the fused loss_and_gradient."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradwise as gw
from gradwise.layers import TRAINING

RNG = np.random.default_rng(5)
X = RNG.standard_normal((16, 3))
Y = RNG.integers(0, 3, 16)


def every_layer_model(dtype="float64", seed=1):
    return gw.Sequential(
        [gw.Dense(6, use_bias=False, init="glorot"), gw.BatchNorm(momentum=0.8, epsilon=1e-5), gw.LeakyReLU(0.2),
         gw.Dropout(0.75), gw.Dense(5, init=gw.Initializer("random", scale=0.3)), gw.Tanh(),
         gw.Dense(4, init="xavier"), gw.Sigmoid(), gw.Dense(4), gw.ReLU(), gw.Dense(4), gw.Linear(),
         gw.Dense(3), gw.Softmax()],
        input_dim=3, l2=0.2, l1=0.05, seed=seed, dtype=dtype)


def test_parameter_names_follow_the_course_and_views_cover_theta():
    model = every_layer_model()
    assert list(model.parameters()) == ["W1", "gamma1", "beta1", "W2", "b2", "W3", "b3", "W4", "b4", "W5", "b5",
                                        "W6", "b6"]
    assert list(model.buffers()) == ["running_mean1", "running_var1"]
    slices = model.parameter_slices()
    covered = np.zeros(model.n_parameters, dtype=int)
    for name, p in model.parameters().items():
        assert np.shares_memory(p, model.theta)
        np.testing.assert_array_equal(model.theta[slices[name]].reshape(p.shape), p)
        covered[slices[name]] += 1
    assert np.all(covered == 1)  # the views tile θ exactly
    assert model.parameters()["W2"].shape == (5, 6)  # (n_l, n_{l-1}) like torch.nn.Linear.weight


def test_parameters_are_live_views_both_ways():
    model = every_layer_model()
    params = model.parameters()
    params["W2"][1, 3] = 42.0
    assert model.theta[model.parameter_slices()["W2"]][1 * 6 + 3] == 42.0
    model.theta[model.parameter_slices()["b3"].start] = -7.0
    assert params["b3"][0] == -7.0
    # a forward pass sees the new values at once
    before = model.forward(X)
    params["W6"][...] = 0.0
    params["b6"][...] = [0.0, 1.0, 2.0]
    after = model.forward(X)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, np.tile(np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), (16, 1)), rtol=1e-12)
    # buffers too
    model.buffers()["running_var1"][...] = 4.0
    assert np.all(model.buffer[6:] == 4.0)


def test_gradients_are_live_views_into_grad():
    model = every_layer_model()
    J, _ = model.loss_and_gradient(model.prepare_inputs(X), model.prepare_targets(Y, 16), TRAINING)
    grads = model.gradients()
    for name, g in grads.items():
        assert np.shares_memory(g, model.grad)
        np.testing.assert_array_equal(model.grad[model.parameter_slices()[name]].reshape(g.shape), g)
    assert np.abs(model.grad).sum() > 0
    model.grad[...] = 0.0
    assert all(np.all(g == 0) for g in grads.values())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_training_then_backward_equals_loss_and_gradient(dtype):
    a, b = every_layer_model(dtype), every_layer_model(dtype)
    a.rng, b.rng = np.random.default_rng(9), np.random.default_rng(9)  # the same dropout masks
    A = a.forward(X, training=True)
    returned = a.backward(Y)
    J, A_fused = b.loss_and_gradient(b.prepare_inputs(X), b.prepare_targets(Y, 16), TRAINING)
    np.testing.assert_array_equal(A, A_fused)
    np.testing.assert_array_equal(a.grad, b.grad)
    assert set(returned) == set(a.parameters())
    for name, g in returned.items():
        np.testing.assert_array_equal(g, a.gradients()[name])
    # both moved the batch-norm running averages the same way
    np.testing.assert_array_equal(a.buffer, b.buffer)
    assert not np.allclose(a.buffers()["running_mean1"], 0)


def test_inference_forward_is_deterministic_and_leaves_state_alone():
    model = every_layer_model()
    buffer, state = model.buffer.copy(), model.rng.bit_generator.state
    first = model.forward(X)
    assert np.array_equal(first, model.forward(X))
    np.testing.assert_array_equal(model.buffer, buffer)
    assert model.rng.bit_generator.state == state
    # training forwards draw fresh masks each time
    assert not np.array_equal(model.forward(X, training=True), model.forward(X, training=True))


def test_dense_infers_its_input_size_on_first_data():
    model = gw.Sequential([gw.Dense(4), gw.ReLU(), gw.Dense(1), gw.Sigmoid()], seed=0)
    assert not model.built
    model.forward(np.zeros((2, 7)))
    assert model.input_dim == 7 and model.parameters()["W1"].shape == (4, 7)


# ------------------------------------------------------------------------------- config


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_config_round_trip(dtype):
    model = every_layer_model(dtype)
    cfg = model.get_config()
    cfg_json = json.loads(json.dumps(cfg))  # JSON-able
    clone = gw.Sequential.from_config(cfg_json)
    assert clone.get_config() == cfg
    assert [repr(layer) for layer in clone.layers] == [repr(layer) for layer in model.layers]
    assert (clone.l2, clone.l1, clone.loss, clone.dtype) == (model.l2, model.l1, model.loss, model.dtype)
    clone.set_parameters({**model.parameters(), **model.buffers()})
    np.testing.assert_array_equal(clone.theta, model.theta)
    np.testing.assert_array_equal(clone.forward(X), model.forward(X))
    assert clone.cost(X, Y) == model.cost(X, Y)


def test_unbuilt_config_round_trip():
    model = gw.Sequential([gw.Dense(3), gw.Tanh(), gw.Dense(1), gw.Linear()], loss="mse")
    clone = gw.Sequential.from_config(model.get_config())
    assert not clone.built and clone.get_config() == model.get_config()


# ------------------------------------------------------------------------------- copies


def test_astype_float32_is_an_independent_copy():
    model = every_layer_model()
    model.fit(X, Y, epochs=3, optimizer="adam", learning_rate=0.01)
    theta, buffer = model.theta.copy(), model.buffer.copy()
    adam_state = {k: v.copy() for k, v in model.optimizer.state.items()}
    steps, epochs, rng_state = model.optimizer.t, len(model.history), model.rng.bit_generator.state

    small = model.astype("float32")
    assert small.dtype == np.float32 and small.theta.dtype == np.float32 and small.grad.dtype == np.float32
    assert not np.shares_memory(small.theta, model.theta)
    np.testing.assert_array_equal(small.theta, theta.astype(np.float32))
    np.testing.assert_array_equal(small.buffer, buffer.astype(np.float32))
    np.testing.assert_allclose(small.forward(X), model.forward(X), rtol=1e-5, atol=1e-6)
    assert small.forward(X).dtype == np.float32

    # writing to, and training, the copy leaves the original exactly as it was
    small.parameters()["W2"][...] = 0.0
    small.forward(X, training=True)
    small.fit(X, Y, epochs=3, optimizer="adam", learning_rate=0.01)
    np.testing.assert_array_equal(model.theta, theta)
    np.testing.assert_array_equal(model.buffer, buffer)
    assert model.optimizer.t == steps and len(model.history) == epochs
    for k, v in adam_state.items():
        np.testing.assert_array_equal(model.optimizer.state[k], v)
    assert model.rng.bit_generator.state == rng_state
    assert small.layers[0] is not model.layers[0]


def test_copy_keeps_dtype_and_round_trips_through_float32_and_back():
    model = every_layer_model()
    same = model.copy()
    assert same.dtype == np.float64
    np.testing.assert_array_equal(same.theta, model.theta)
    back = model.astype("float32").astype("float64")
    np.testing.assert_allclose(back.theta, model.theta, rtol=1e-7)


# ------------------------------------------------------------------------------- predictions


def test_predict_predict_proba_evaluate_and_summary():
    binary = gw.mlp([3, 4, 1], seed=0)
    yb = (X[:, 0] > 0).astype(int)
    proba = binary.predict_proba(X)
    assert proba.shape == (16, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(binary.predict(X), (proba[:, 1] > 0.5).astype(int))
    ev = binary.evaluate(X, yb)
    assert ev["accuracy"] == np.mean(binary.predict(X) == yb)
    assert ev["cost"] == pytest.approx(binary.cost(X, yb), rel=1e-14)

    softmax = every_layer_model()
    np.testing.assert_array_equal(softmax.predict(X), softmax.predict_proba(X).argmax(axis=1))
    assert softmax.evaluate(X, Y)["accuracy"] == np.mean(softmax.predict(X) == Y)

    regression = gw.mlp([3, 4, 1], output="linear", seed=0)
    values = regression.predict(X)
    assert values.shape == (16,)
    target = X[:, 1]
    assert regression.evaluate(X, target)["rmse"] == pytest.approx(np.sqrt(np.mean((values - target) ** 2)))
    with pytest.raises(ValueError, match="predict_proba"):
        regression.predict_proba(X)

    text = softmax.summary()
    assert str(softmax.n_parameters) in text and "BatchNorm" in text
