"""gw.diagnose: the seeds' bias/variance examples, the recipe made concrete, per-layer health."""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw
from gradwise.diagnose import layer_health, plot_layer_health


# The seeds' four examples ("Bias / Variance"), human-level error ≈ 0.
@pytest.mark.parametrize("train, dev, verdict", [
    (0.01, 0.11, "high variance"),
    (0.15, 0.16, "high bias"),
    (0.15, 0.30, "high bias and high variance"),
    (0.005, 0.01, "fine"),
])
def test_the_seeds_four_examples(train, dev, verdict):
    d = gw.diagnose(train, dev)
    assert d.verdict == verdict
    assert d.avoidable_bias == pytest.approx(train)
    assert d.variance == pytest.approx(dev - train)
    assert d.high_bias == ("bias" in verdict) and d.high_variance == ("variance" in verdict)


def test_the_seeds_14_percent_dev_variant_is_also_high_bias():
    assert gw.diagnose(0.15, 0.14).verdict == "high bias"  # one seed writes 15% / 14%


def test_human_level_error_moves_the_baseline():
    # 15% training error is fine when humans make 14% (blurry images): the problem is variance then.
    assert gw.diagnose(0.15, 0.16, human_error=0.14).verdict == "fine"
    assert gw.diagnose(0.15, 0.30, human_error=0.14).verdict == "high variance"
    d = gw.diagnose(0.08, 0.10, human_error=0.01)  # a 2-point gap is not above the 2-point threshold
    assert d.avoidable_bias == pytest.approx(0.07) and d.verdict == "high bias"


def test_threshold_is_configurable():
    assert gw.diagnose(0.01, 0.04).verdict == "high variance"
    assert gw.diagnose(0.01, 0.04, threshold=0.05).verdict == "fine"


def test_noise_threshold_for_small_dev_sets():
    from gradwise.diagnose import noise_threshold

    assert noise_threshold(0.10, 60) == pytest.approx(2 * np.sqrt(0.1 * 0.9 / 60))  # 7.7 points
    assert noise_threshold(0.05, 20_000) == 0.02  # big dev sets resolve 2 points: the floor
    # 1 misclassified example more out of 45 is not "high variance" once the noise is accounted for
    assert gw.diagnose(0.0, 1 / 45).verdict == "high variance"
    assert gw.diagnose(0.0, 1 / 45, threshold=noise_threshold(1 / 45, 45)).verdict == "fine"
    with pytest.raises(ValueError, match="m_dev"):
        noise_threshold(0.1, 0)


def test_recipe_names_concrete_settings_for_this_model():
    model = gw.mlp([2, 20, 3, 1], l2=0.7, keep_prob=0.86, seed=0)
    bias = gw.diagnose(0.15, 0.16, model=model, training={"epochs": 1000, "optimizer": "gd"})
    text = " ".join(bias.recipe)
    assert "layers 40,6" in text and bias.suggestions["layers"] == [40, 6]
    assert "epochs 2000" in text and bias.suggestions["epochs"] == 2000
    assert "adam" in text and bias.suggestions["optimizer"] == "adam"
    assert bias.suggestions["l2"] == pytest.approx(0.7 / 3)  # regularization adds bias: less of it
    assert not any("more data" in step for step in bias.recipe)

    var = gw.diagnose(0.01, 0.11, model=model)
    text = " ".join(var.recipe)
    assert "more data" in text
    assert var.suggestions["l2"] == pytest.approx(2.1) and "l2=2.1" in text
    assert var.suggestions["keep_prob"] == pytest.approx(0.76)
    assert var.suggestions["early_stopping"] == 10
    assert not any("bigger network" in step for step in var.recipe)

    plain = gw.diagnose(0.01, 0.11, model=gw.mlp([2, 5, 1], seed=0))
    assert plain.suggestions["l2"] == 0.1 and plain.suggestions["keep_prob"] == 0.8

    both = gw.diagnose(0.15, 0.30, model=model)
    assert any("bigger network" in s for s in both.recipe) and any("more data" in s for s in both.recipe)
    assert any("bias first" in n for n in both.notes)
    assert gw.diagnose(0.005, 0.01, model=model).recipe == []
    no_hidden = gw.diagnose(0.01, 0.11, model=gw.mlp([2, 1], seed=0))
    assert "keep_prob" not in no_hidden.suggestions  # dropout acts on hidden layers only


def test_report_text_and_dict():
    d = gw.diagnose(0.01, 0.11)
    text = str(d)
    assert "high variance" in text and "10%" in text and "regularization" in text
    assert d.to_dict()["verdict"] == "high variance"


@pytest.mark.parametrize("kwargs, match", [
    ({"train_error": 11, "dev_error": 0.2}, "0.11"),          # percent given instead of a fraction
    ({"train_error": -0.1, "dev_error": 0.2}, "train_error"),
    ({"train_error": 0.1, "dev_error": float("nan")}, "dev_error"),
    ({"train_error": 0.1, "dev_error": 0.2, "human_error": 2}, "human_error"),
    ({"train_error": 0.1, "dev_error": 0.2, "threshold": -1}, "threshold"),
    ({"train_error": "a", "dev_error": 0.2}, "train_error"),
    ({"train_error": 0.1, "dev_error": 0.2, "model": "mlp"}, "Sequential"),
    ({"train_error": 0.1, "dev_error": 0.2, "X": np.zeros((2, 2))}, "together"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        gw.diagnose(**kwargs)


# ------------------------------------------------------------------------------------ layer health
@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((128, 10))
    return X, (X[:, 0] > 0).astype(int)


def test_healthy_network_has_no_warnings(batch):
    X, y = batch
    model = gw.mlp([10, 30, 30, 1], seed=0)
    h = layer_health(model, X, y, learning_rate=1e-3)
    assert h.warnings == []
    assert [s.layer for s in h.layers] == [1, 2, 3] and [s.units for s in h.layers] == [30, 30, 1]
    # the statistics are the real ones: recompute layer 1 by hand
    W1, b1 = model.parameters()["W1"], model.parameters()["b1"]
    A1 = np.maximum(0, X @ W1.T + b1)
    assert h.layers[0].mean == pytest.approx(A1.mean()) and h.layers[0].std == pytest.approx(A1.std())
    model.loss_and_gradient(X, y.reshape(-1, 1).astype(float), gw.layers.CHECKING)
    assert h.layers[0].grad_norm == pytest.approx(np.linalg.norm(model.gradients()["W1"]))
    # gradient descent: ΔW = α·dW
    assert h.layers[0].update_ratio == pytest.approx(1e-3 * h.layers[0].grad_norm / np.linalg.norm(W1))


def test_vanishing_gradients_in_a_deep_sigmoid_network(batch):
    X, y = batch
    model = gw.mlp([10, 50, 50, 50, 50, 50, 1], hidden="sigmoid", init="xavier", seed=0)
    h = layer_health(model, X, y)
    assert h.layers[0].grad_norm < h.layers[-1].grad_norm / 100
    assert any(w.startswith("vanishing gradients") for w in h.warnings)


def test_exploding_gradients_and_too_large_learning_rate(batch):
    X, y = batch
    model = gw.mlp([10, 30, 30, 30, 1], hidden="linear", init="random", seed=0)  # scale 10
    h = layer_health(model, X, y)
    assert any(w.startswith("exploding gradients") for w in h.warnings)
    healthy = gw.mlp([10, 30, 30, 1], seed=0)
    assert any(w.startswith("learning rate too large") for w in layer_health(healthy, X, y, 5.0).warnings)
    assert any("too small" in w for w in layer_health(healthy, X, y, 1e-9).warnings)


def test_dead_relus_and_saturated_tanh(batch):
    X, y = batch
    model = gw.mlp([10, 20, 1], seed=0)
    model.parameters()["b1"][:15] = -100.0  # 15 of 20 units can never fire
    h = layer_health(model, X, y)
    assert h.layers[0].dead_fraction == pytest.approx(0.75)
    assert any(w.startswith("dead ReLUs: 75%") for w in h.warnings)
    saturated = gw.mlp([10, 20, 1], hidden="tanh", init="random", seed=0)
    h = layer_health(saturated, X, y)
    assert h.layers[0].saturated_fraction > 0.5
    assert any(w.startswith("saturated tanh") for w in h.warnings)


def test_adam_update_is_the_optimizers_own_step(batch):
    X, y = batch
    model = gw.mlp([10, 8, 1], seed=0)
    model.fit(X, y, epochs=3, optimizer="adam")
    theta = model.theta.copy()
    h = layer_health(model, X, y)
    assert np.array_equal(model.theta, theta)  # measuring does not train
    assert h.optimizer == "adam" and h.learning_rate == pytest.approx(1e-3)
    assert 1e-5 < h.layers[0].update_ratio < 1e-1


def test_diagnose_with_a_batch_and_the_plot(batch, tmp_path):
    X, y = batch
    model = gw.mlp([10, 16, 8, 1], seed=0)
    d = gw.diagnose(0.2, 0.21, model=model, X=X, y=y)
    assert d.health is not None and len(d.health.layers) == 3
    assert "per-layer health" in str(d)
    fig = plot_layer_health(d.health, tmp_path / "layers.png")
    assert len(fig.axes) == 4
    assert (tmp_path / "layers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
