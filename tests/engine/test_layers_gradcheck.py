"""Every layer, activation, loss, regularizer and batch norm passes the seeds' gradient check (float64),
each with a real Dense layer in front of it, so the check covers the gradient the layer sends back.

The seeds' threshold is 1e-7; the engine measures 1e-9..1e-8 on these networks.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw
from gradwise import regularizers

THRESHOLD = 1e-7
RNG = np.random.default_rng(20240611)
X = RNG.standard_normal((12, 4))
Y_BINARY = RNG.integers(0, 2, 12)
Y_CLASSES = RNG.integers(0, 4, 12)
Y_REAL = RNG.standard_normal((12, 2))
Y_UNIT = RNG.random((12, 2))


def _check(layers, y, **kwargs) -> gw.GradCheckReport:
    model = gw.Sequential(layers, input_dim=X.shape[1], seed=3, **kwargs)
    report = gw.gradcheck(model, X, y)
    assert report.passed, str(report)
    assert report.difference < THRESHOLD
    assert report.flagged == []
    assert report.n_checked == report.n_total == model.n_parameters
    assert set(report.per_parameter) == set(model.parameters())
    # the analytic and numerical gradients are not trivially zero
    assert max(abs(c.grad) for c in report.worst) > 1e-3
    return report


# (id, hidden layers after a Dense(6) in front, output layers, targets, extra Sequential kwargs)
HIDDEN_CASES = [
    ("sigmoid", [gw.Sigmoid()]),
    ("tanh", [gw.Tanh()]),
    ("relu", [gw.ReLU()]),
    ("leaky_relu", [gw.LeakyReLU()]),
    ("leaky_relu_0.2", [gw.LeakyReLU(0.2)]),
    ("linear", [gw.Linear()]),
    ("softmax_hidden", [gw.Softmax()]),
    ("batchnorm_relu", [gw.BatchNorm(), gw.ReLU()]),
    ("batchnorm_tanh_momentum", [gw.BatchNorm(momentum=0.5, epsilon=1e-5), gw.Tanh()]),
]


@pytest.mark.parametrize("name,hidden", HIDDEN_CASES, ids=[c[0] for c in HIDDEN_CASES])
def test_each_hidden_layer_behind_a_dense_layer(name, hidden):
    report = _check([gw.Dense(6, init="xavier"), *hidden, gw.Dense(1, init="xavier"), gw.Sigmoid()], Y_BINARY)
    assert report.difference < 1e-8 * 5


@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_with_and_without_bias(use_bias):
    model_layers = [gw.Dense(5, use_bias=use_bias), gw.Tanh(), gw.Dense(3, use_bias=use_bias), gw.Tanh(),
                    gw.Dense(1), gw.Sigmoid()]
    report = _check(model_layers, Y_BINARY)
    assert ("b1" in report.per_parameter) is use_bias


def test_batchnorm_replacing_the_bias_as_in_the_course():
    """Dense(use_bias=False) → BatchNorm → ReLU twice, β taking b's role (the gradient reaches γ, β)."""
    report = _check([gw.Dense(6, use_bias=False), gw.BatchNorm(), gw.ReLU(),
                     gw.Dense(4, use_bias=False), gw.BatchNorm(), gw.ReLU(),
                     gw.Dense(4), gw.Softmax()], Y_CLASSES)
    assert {"gamma1", "beta1", "gamma2", "beta2"} <= set(report.per_parameter)
    assert "b1" not in report.per_parameter
    assert any("batch norm uses batch statistics" in note for note in report.notes)


def test_batchnorm_before_the_output_activation():
    _check([gw.Dense(5), gw.Tanh(), gw.Dense(3), gw.BatchNorm(), gw.Softmax()], Y_CLASSES[:12] % 3)


def test_dropout_is_switched_off_for_the_check_and_the_report_says_so():
    model = gw.Sequential([gw.Dense(6), gw.ReLU(), gw.Dropout(0.5), gw.Dense(4), gw.Tanh(), gw.Dropout(0.8),
                           gw.Dense(1), gw.Sigmoid()], input_dim=4, seed=3)
    theta = model.theta.copy()
    first = gw.gradcheck(model, X, Y_BINARY)
    second = gw.gradcheck(model, X, Y_BINARY)
    assert first.passed and first.difference < THRESHOLD
    assert any("dropout switched off" in note for note in first.notes)
    # deterministic: with masks the numerical gradient would differ from one call to the next
    assert first.difference == second.difference
    # the user's model keeps its dropout layers and its weights
    assert [type(layer) for layer in model.layers].count(gw.Dropout) == 2
    np.testing.assert_array_equal(model.theta, theta)
    # the checked function is the dropout-free network: same as a model without Dropout layers
    plain = gw.Sequential([gw.Dense(6), gw.ReLU(), gw.Dense(4), gw.Tanh(), gw.Dense(1), gw.Sigmoid()],
                          input_dim=4, seed=3)
    np.testing.assert_array_equal(plain.theta, model.theta)
    assert gw.gradcheck(plain, X, Y_BINARY).difference == first.difference
    assert not any("dropout" in note for note in gw.gradcheck(plain, X, Y_BINARY).notes)


LOSS_CASES = [
    ("binary_crossentropy", [gw.Dense(1), gw.Sigmoid()], Y_BINARY, {}),
    ("binary_crossentropy_multilabel", [gw.Dense(2), gw.Sigmoid()], (Y_UNIT > 0.5).astype(float), {}),
    ("categorical_crossentropy", [gw.Dense(4), gw.Softmax()], Y_CLASSES, {}),
    ("mse_linear", [gw.Dense(2), gw.Linear()], Y_REAL, {}),
    ("mse_sigmoid_output", [gw.Dense(2), gw.Sigmoid()], Y_UNIT, {"loss": "mse"}),
    ("mse_softmax_output", [gw.Dense(2), gw.Softmax()], Y_UNIT, {"loss": "mse"}),
    ("mse_tanh_output", [gw.Dense(2), gw.Tanh()], Y_REAL, {}),
]


@pytest.mark.parametrize("name,output,y,kwargs", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_each_loss(name, output, y, kwargs):
    report = _check([gw.Dense(5, init="xavier"), gw.Tanh(), *output], y, **kwargs)
    assert report.difference < 5e-8


REG_CASES = [("l2", {"l2": 0.7}), ("l1", {"l1": 0.7}), ("l2_and_l1", {"l2": 0.3, "l1": 0.5})]


@pytest.mark.parametrize("name,reg", REG_CASES, ids=[c[0] for c in REG_CASES])
def test_each_regularizer_is_in_J_and_in_the_gradient(name, reg, monkeypatch):
    layers = lambda: [gw.Dense(6), gw.ReLU(), gw.Dense(3), gw.ReLU(), gw.Dense(1), gw.Sigmoid()]  # noqa: E731
    report = _check(layers(), Y_BINARY, **reg)
    assert any("regularization included" in note for note in report.notes)
    # The check really includes the term: a backward that forgets it is caught, on the weights only.
    monkeypatch.setattr(regularizers, "add_gradient", lambda *args, **kwargs: None)
    broken = gw.gradcheck(gw.Sequential(layers(), input_dim=4, seed=3, **reg), X, Y_BINARY)
    assert not broken.passed
    assert set(broken.flagged) <= {"W1", "W2", "W3"} and broken.flagged
    assert all(not name.startswith("b") for name in broken.flagged)


def test_a_deep_network_with_every_layer_type_at_once():
    layers = [gw.Dense(7, use_bias=False), gw.BatchNorm(), gw.LeakyReLU(), gw.Dropout(0.7),
              gw.Dense(6), gw.Tanh(),
              gw.Dense(5), gw.Sigmoid(),
              gw.Dense(5), gw.Softmax(),
              gw.Dense(4, init="glorot"), gw.ReLU(),
              gw.Dense(4), gw.Softmax()]
    _check(layers, Y_CLASSES, l2=0.2, l1=0.1)


def test_float32_model_is_checked_in_float64_on_a_copy():
    model = gw.mlp([4, 6, 3, 1], hidden="tanh", batchnorm=True, l2=0.4, seed=3, dtype="float32")
    theta = model.theta.copy()
    report = gw.gradcheck(model, X, Y_BINARY)
    assert report.passed and report.difference < THRESHOLD
    assert any("float64" in note and "float32" in note for note in report.notes)
    assert model.theta.dtype == np.float32
    np.testing.assert_array_equal(model.theta, theta)
