"""The seeds' initialization facts, shown by the engine.

(a) zeros fails to break symmetry: every hidden unit of a layer stays identical through training;
(b) He keeps the activations' scale through a deep ReLU stack, "random × 10" explodes it, xavier
    (meant for tanh) halves it at every ReLU layer;
(c) `rng=np.random.RandomState(3)` reproduces the course's `np.random.seed(3); np.random.randn(...) * scale`
    bit for bit, and `seed=` means `np.random.default_rng(seed)`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import make_circles

import gradwise as gw
from gradwise.layers.base import INFERENCE

SCALES = {
    "zeros": lambda n_prev, n: 0.0,
    "random": lambda n_prev, n: 10.0,
    "he": lambda n_prev, n: np.sqrt(2.0 / n_prev),
    "xavier": lambda n_prev, n: np.sqrt(1.0 / n_prev),
    "glorot": lambda n_prev, n: np.sqrt(2.0 / (n_prev + n)),
}
LAYERS_DIMS = [5, 7, 4, 3, 1]


@pytest.fixture
def course_global_rng():
    """Run the course's own code, which seeds NumPy's global generator; restore it afterwards."""
    state = np.random.get_state()  # noqa: NPY002 - the course's global generator, on purpose
    yield
    np.random.set_state(state)  # noqa: NPY002


@pytest.mark.parametrize("init", list(SCALES))
def test_random_state_3_reproduces_the_course_bit_for_bit(init, course_global_rng):
    # the course: np.random.seed(3); for l: W_l = np.random.randn(n_l, n_{l-1}) * scale; b_l = zeros
    np.random.seed(3)  # noqa: NPY002
    expected = {}
    for l in range(1, len(LAYERS_DIMS)):
        n_prev, n = LAYERS_DIMS[l - 1], LAYERS_DIMS[l]
        if init == "zeros":
            expected[f"W{l}"] = np.zeros((n, n_prev))
        else:
            expected[f"W{l}"] = np.random.randn(n, n_prev) * SCALES[init](n_prev, n)  # noqa: NPY002
        expected[f"b{l}"] = np.zeros((n, 1))
    model = gw.mlp(LAYERS_DIMS, init=init, rng=np.random.RandomState(3))
    params = model.parameters()
    assert list(params) == list(expected)
    for name, value in expected.items():
        assert np.array_equal(params[name], value.reshape(params[name].shape)), name


def test_course_printed_values_he_and_random():
    """Values the course prints for initialize_parameters_he([2, 4, 1]) and _random([3, 2, 1])."""
    he = gw.mlp([2, 4, 1], init="he", rng=np.random.RandomState(3)).parameters()
    np.testing.assert_allclose(he["W1"], [[1.78862847, 0.43650985], [0.09649747, -1.8634927],
                                          [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]], atol=5e-9)
    np.testing.assert_allclose(he["W2"], [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]], atol=5e-9)
    rnd = gw.mlp([3, 2, 1], init="random", rng=np.random.RandomState(3)).parameters()
    np.testing.assert_allclose(rnd["W1"], [[17.88628473, 4.36509851, 0.96497468],
                                           [-18.63492703, -2.77388203, -3.54758979]], atol=5e-8)
    np.testing.assert_allclose(rnd["W2"], [[-0.82741481, -6.27000677]], atol=5e-9)


@pytest.mark.parametrize("init", list(SCALES))
def test_seed_means_default_rng(init):
    model = gw.mlp(LAYERS_DIMS, init=init, seed=42, batchnorm=True, keep_prob=0.8)
    rng = np.random.default_rng(42)
    for l in range(1, len(LAYERS_DIMS)):
        n_prev, n = LAYERS_DIMS[l - 1], LAYERS_DIMS[l]
        if init == "zeros":
            expected = np.zeros((n, n_prev))
        else:
            expected = rng.standard_normal((n, n_prev)) * SCALES[init](n_prev, n)
        assert np.array_equal(model.parameters()[f"W{l}"], expected), l
    # batch norm starts as the identity: γ = 1, β = 0; running averages μ = 0, σ² = 1
    assert np.all(model.parameters()["gamma1"] == 1) and np.all(model.parameters()["beta1"] == 0)
    assert np.all(model.buffers()["running_mean1"] == 0) and np.all(model.buffers()["running_var1"] == 1)


def test_zeros_draws_nothing_so_later_layers_get_the_first_numbers():
    model = gw.Sequential([gw.Dense(3, init="zeros"), gw.ReLU(), gw.Dense(2, init="he"), gw.Sigmoid()],
                          input_dim=4, rng=np.random.RandomState(3))
    expected = np.random.RandomState(3).randn(2, 3) * math.sqrt(2 / 3)
    assert np.array_equal(model.parameters()["W2"], expected)


def test_random_scale_and_initializer_objects():
    init = gw.Initializer("random", scale=0.01)
    model = gw.Sequential([gw.Dense(3, init=init), gw.Sigmoid()], input_dim=2, rng=np.random.RandomState(3))
    assert np.array_equal(model.parameters()["W1"], np.random.RandomState(3).randn(3, 2) * 0.01)
    assert model.layers[0].get_config()["init"] == {"name": "random", "scale": 0.01}
    assert gw.Dense(3, init="HE").init.name == "he"
    assert gw.Initializer("glorot").std(3, 5) == math.sqrt(2 / 8)
    # std takes (fan_out, fan_in), the order of draw and of W's shape (n_l, n_{l-1})
    assert gw.Initializer("he").std(3, 5) == math.sqrt(2 / 5)
    assert gw.Initializer("xavier").std(fan_out=3, fan_in=5) == math.sqrt(1 / 5)


# ------------------------------------------------------------------------------- (a) symmetry


def _circles(n=(200, 100), shift=(0.0, 0.0)):
    X, y = make_circles(n_samples=n, noise=0.05, factor=0.5, random_state=1)
    return X + np.asarray(shift), y


def _rows_identical(W: np.ndarray) -> bool:
    return bool(np.allclose(W, W[0], rtol=1e-12, atol=1e-300))


def test_zeros_leaves_every_hidden_unit_identical_after_training():
    """Sigmoid hidden units (σ(0) = ½ ≠ 0) let zeros-initialized weights move, but identically."""
    # 200 outer, 100 inner points (unbalanced) off the origin, so that no gradient cancels by symmetry
    X, y = _circles(shift=(1.0, 0.5))
    model = gw.mlp([2, 10, 5, 1], hidden="sigmoid", init="zeros", seed=0)
    # Adam's per-coordinate steps make the small first-layer gradients move W1 visibly; being
    # elementwise, it cannot break the symmetry either.
    model.fit(X, y, epochs=300, optimizer="adam", learning_rate=0.01)
    P = model.parameters()
    for name in ("W1", "W2", "W3"):
        assert np.abs(P[name]).max() > 1e-3, f"{name} did not move"
    # W1: every row (hidden unit) the same; W2: every entry the same (units and their inputs alike)
    assert _rows_identical(P["W1"]) and _rows_identical(P["b1"][:, None])
    assert _rows_identical(P["W2"]) and _rows_identical(P["W2"].T) and _rows_identical(P["b2"][:, None])
    assert _rows_identical(P["W3"].T)
    # so the network is no better than one unit per layer: it cannot fit circles
    assert model.evaluate(X, y)["accuracy"] <= 0.7
    # He breaks the symmetry on the same data and training
    he = gw.mlp([2, 10, 5, 1], hidden="sigmoid", init="he", seed=0)
    he.fit(X, y, epochs=300, optimizer="adam", learning_rate=0.01)
    assert not _rows_identical(he.parameters()["W1"])


def test_course_zeros_relu_network_stays_at_cost_log2_and_50_percent():
    """The course's 3-layer ReLU net with zeros: cost 0.6931471805599453 at every iteration, 50% accuracy."""
    X, y = _circles(n=300)
    model = gw.mlp([2, 10, 5, 1], hidden="relu", init="zeros", seed=0)
    history = model.fit(X, y, epochs=50, learning_rate=0.01)
    np.testing.assert_allclose(history.history["cost"], math.log(2), rtol=1e-12)
    assert model.evaluate(X, y)["accuracy"] == 0.5
    assert np.all(model.predict(X) == model.predict(X)[0])


# ------------------------------------------------------------------------------- (b) variance


def _second_moments(init: str, depth: int = 20, width: int = 256, seed: int = 3) -> np.ndarray:
    """E[(a^[l])²] after each ReLU of a deep stack fed with N(0, 1) inputs (E[x²] = 1)."""
    layers = []
    for _ in range(depth):
        layers += [gw.Dense(width, init=init), gw.ReLU()]
    model = gw.Sequential(layers, input_dim=width, loss="mse", seed=seed)
    a = np.random.default_rng(12345).standard_normal((400, width))
    moments = []
    for layer in model.layers:
        a = layer.forward(a, INFERENCE)
        if isinstance(layer, gw.ReLU):
            moments.append(float(np.mean(a * a)))
    return np.array(moments)


def test_he_keeps_activations_near_1_random_x10_explodes_xavier_shrinks():
    he = _second_moments("he")
    # Var(z) = n·(2/n)·E[a²] = 2E[a²] and E[relu(z)²] = Var(z)/2: the scale is kept. At width 256 the
    # per-layer factor fluctuates by ~10%, a random walk; measured over seeds: all layers in [0.41, 2.8].
    assert np.all((he > 0.5) & (he < 2.0)), he
    ratios = he[1:] / he[:-1]
    assert np.all((ratios > 0.7) & (ratios < 1.4)), ratios
    random = _second_moments("random")
    # ×10: each layer multiplies E[a²] by n·100/2 = 12,800
    assert np.all(random[1:] / random[:-1] > 1e3)
    assert random[-1] > 1e60
    xavier = _second_moments("xavier")
    # sqrt(1/n) is right for tanh; with ReLU half of the signal is lost at every layer
    growth = (xavier[-1] / xavier[0]) ** (1 / 19)
    assert 0.4 < growth < 0.6
    assert xavier[-1] < 1e-4
