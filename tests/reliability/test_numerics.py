"""Numerical edge cases: stable sigmoid/softmax/log for logits up to ±1e4 (and beyond) in float32 and
float64 — forward, cost and gradient finite and right, with no warning of any kind; divergence detected
and reported (TerminateOnNaN): a huge learning rate raises TrainingDivergedError and leaves finite weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradwise as gw
from gradwise import losses
from gradwise.layers.activations import sigmoid, softmax

DTYPES = [np.float32, np.float64]
LOGITS = [1e4, 1e2, 50.0, 1.0]


@pytest.fixture(autouse=True)
def every_warning_is_an_error():
    """Stricter than the suite's -W error::RuntimeWarning: no warning of any category here."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", LOGITS + [1e30])
def test_sigmoid_and_softmax_are_exact_at_extreme_logits(dtype, big):
    z = np.array([[-big], [0.0], [big]], dtype=dtype)
    s = sigmoid(z)
    assert s.dtype == dtype and np.isfinite(s).all()
    assert s[1, 0] == 0.5 and 0.0 <= s[0, 0] < 0.5 < s[2, 0] <= 1.0
    assert np.allclose(s[0, 0] + s[2, 0], 1.0)  # σ(−z) = 1 − σ(z)
    Z = np.array([[big, -big, 0.0], [-big, -big, -big], [big, big, -big]], dtype=dtype)
    p = softmax(Z)
    assert p.dtype == dtype and np.isfinite(p).all()
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.allclose(p[1], 1 / 3)
    if big >= 50:
        assert np.allclose(p[2, :2], 0.5)
        assert p[0, 0] == pytest.approx(1.0) and p[0, 1] < 1e-20


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", LOGITS)
def test_binary_crossentropy_from_logits(dtype, big):
    """J = mean(max(z,0) − z·y + log(1+e^{−|z|})): a confident wrong answer costs ≈ |z|, a right one ≈ 0."""
    Z = np.array([[big], [-big], [big], [-big]], dtype=dtype)
    y = np.array([[1], [0], [0], [1]], dtype=dtype)
    J, dZ, _ = losses.binary_crossentropy(Z, y)
    exact = (2 * np.log1p(np.exp(-big)) + 2 * (big + np.log1p(np.exp(-big)))) / 4
    assert np.isfinite(J) and J == pytest.approx(exact, rel=1e-6)
    assert dZ.dtype == dtype and np.isfinite(dZ).all()
    expected = (sigmoid(Z.astype(np.float64)) - y) / 4
    assert np.allclose(dZ, expected, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", LOGITS)
def test_categorical_crossentropy_from_logits(dtype, big):
    Z = np.array([[big, -big, 0.0], [big, -big, 0.0], [-big, -big, -big]], dtype=dtype)
    y = np.array([0, 1, 2])
    J, dZ, _ = losses.categorical_crossentropy(Z, y)
    row = [
        np.log1p(np.exp(-2 * big) + np.exp(-big)),
        2 * big + np.log1p(np.exp(-2 * big) + np.exp(-big)),
        np.log(3.0),
    ]
    assert np.isfinite(J) and J == pytest.approx(np.mean(row), rel=1e-5)
    assert dZ.dtype == dtype and np.isfinite(dZ).all()
    assert np.allclose(dZ.sum(axis=1), 0.0, atol=1e-6)  # softmax − onehot sums to 0 per row


def _saturated(model: gw.Sequential, big: float) -> gw.Sequential:
    """Set the output layer so that its logits are ±big on the data below (a confident network)."""
    params = model.parameters()
    last = max(int(k[1:]) for k in params if k.startswith("W"))
    W, b = params[f"W{last}"], params[f"b{last}"]
    W[...] = 0.0
    W[:, 0] = np.where(np.arange(W.shape[0]) % 2 == 0, big, -big)
    b[...] = 0.0
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_model_with_logits_of_1e4(dtype, output):
    """Cost, gradients, predictions and a training step stay finite with |logits| = 1e4."""
    X = np.array([[1.0, 0.5], [2.0, -1.0], [0.5, 0.0], [3.0, 2.0]])
    y = np.array([1, 0, 0, 1])
    k = 1 if output == "sigmoid" else 2
    layers = [gw.Dense(3), gw.Linear(), gw.Dense(k), gw.Sigmoid() if output == "sigmoid" else gw.Softmax()]
    model = gw.Sequential(layers, input_dim=2, seed=0, dtype=dtype)
    model.set_parameters({"W1": np.eye(3, 2), "b1": np.zeros(3)}, strict=False)
    _saturated(model, 1e4)
    J = model.cost(X, y)
    assert np.isfinite(J) and J > 1e3  # some examples are confidently wrong: cost ≈ |z|
    model.forward(X, training=True)
    grads = model.backward(y)
    assert all(np.isfinite(g).all() for g in grads.values())
    assert np.isfinite(model.predict_proba(X)).all()
    model.fit(X, y, epochs=3, learning_rate=1e-3)
    assert np.isfinite(model.theta).all()
    report = gw.gradcheck(model, X, y, epsilon=1e-6, threshold=1e-5)
    assert np.isfinite(report.difference) and report.passed, str(report)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saturated_hidden_layers(dtype):
    """Sigmoid/tanh hidden units at z = ±1e4 have derivative 0, not NaN; the cost stays finite."""
    X = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 0.0]])
    y = np.array([1, 0, 1])
    for hidden in ("sigmoid", "tanh", "relu", "leaky_relu"):
        model = gw.mlp([2, 4, 1], hidden=hidden, init="random", seed=0, dtype=dtype)
        model.forward(X, training=True)
        grads = model.backward(y)
        assert all(np.isfinite(g).all() for g in grads.values()), hidden
        assert np.isfinite(model.cost(X, y))


def test_batchnorm_on_a_constant_batch_and_a_batch_of_one():
    X = np.ones((8, 3))
    y = np.array([0, 1] * 4)
    model = gw.mlp([3, 4, 4, 1], batchnorm=True, seed=0)
    model.fit(X, y, epochs=3)  # σ² = 0 in every unit: ε keeps 1/√(σ²+ε) finite
    assert np.isfinite(model.theta).all() and np.isfinite(model.buffer).all()
    model.fit(np.random.default_rng(0).standard_normal((5, 3)), y[:5], epochs=2, batch_size=1)
    assert np.isfinite(model.theta).all() and np.isfinite(model.buffer).all()


@pytest.mark.parametrize("magnitude", [1e200, 1e-200])
def test_standardizer_on_huge_and_tiny_features(magnitude):
    X = np.array([[1.0, 1.0], [2.0, 2.0], [4.0, 3.0]]) * [magnitude, 1.0]
    st = gw.Standardizer().fit(X)
    assert np.isfinite(st.mean_).all() and np.isfinite(st.scale_).all()
    assert st.mean_[0] == pytest.approx(7 / 3 * magnitude)
    if magnitude > 1:
        assert st.scale_[0] == pytest.approx(np.std([1.0, 2.0, 4.0]) * magnitude)
        assert np.allclose(st.transform(X).std(axis=0), 1.0)


@pytest.mark.parametrize("scale", [1e250, 1e-250])
def test_gradcheck_fn_on_huge_and_tiny_gradients(scale):
    """The seeds' difference is scale-free; its norms must neither overflow nor underflow to a false 0."""
    theta = np.array([1.0, -2.0, 3.0])
    good = gw.gradcheck_fn(lambda t: scale * float(t @ t), theta, 2 * scale * theta, epsilon=1e-4)
    assert np.isfinite(good.difference) and good.passed
    bad = gw.gradcheck_fn(lambda t: scale * float(t @ t), theta, 3 * scale * theta, epsilon=1e-4)
    assert bad.difference == pytest.approx(0.2, rel=1e-6) and not bad.passed  # |3−2|/(3+2)


# ------------------------------------------------------------------------------------- divergence
def _problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)) * 10
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_huge_learning_rate_raises_training_diverged(dtype, optimizer):
    X, y = _problem()
    model = gw.mlp([4, 32, 32, 1], seed=0, dtype=dtype, init="random")
    lr = 1e30 if dtype == "float32" else 1e300  # any optimizer: weights beyond the float range
    with pytest.raises(gw.TrainingDivergedError) as info:
        model.fit(X, y, epochs=200, batch_size=16, optimizer=optimizer, learning_rate=lr)
    message = str(info.value)
    assert "diverged at epoch" in message and "learning rate" in message and f"{lr:g}" in message
    assert isinstance(info.value, gw.GradwiseError) and isinstance(info.value, FloatingPointError)
    assert np.isfinite(model.theta).all() and np.isfinite(model.buffer).all()
    assert all(np.isfinite(v).all() for v in model.optimizer.state.values())
    assert np.isfinite(model.cost(X, y))
    # the history up to the divergence is kept, and a gentler fit continues from the finite weights
    model.fit(X, y, epochs=2, optimizer=optimizer, learning_rate=1e-4)
    assert np.isfinite(model.theta).all()


def test_terminate_on_nan_callback_alone_turns_the_check_on():
    X, y = _problem()
    model = gw.mlp([4, 8, 1], seed=0, init="random")
    with pytest.raises(gw.TrainingDivergedError):
        model.fit(
            X, y, epochs=100, learning_rate=1e30, terminate_on_nan=False, callbacks=[gw.TerminateOnNaN()]
        )
    assert np.isfinite(model.theta).all()


def test_divergence_with_validation_and_checkpoint_keeps_a_loadable_checkpoint(tmp_path):
    from gradwise.checkpoint import load_checkpoint

    X, y = _problem()
    model = gw.mlp([4, 8, 1], seed=0, init="random")
    path = tmp_path / "c.safetensors"
    with pytest.raises(gw.TrainingDivergedError):
        model.fit(
            X,
            y,
            epochs=50,
            learning_rate=1e30,
            validation_split=0.25,
            callbacks=[gw.Checkpoint(path), gw.EarlyStopping(patience=100)],
        )
    if path.exists():
        tensors, _ = load_checkpoint(path)
        assert np.isfinite(tensors["theta"]).all()


def test_a_normal_training_run_emits_no_warning_at_all():
    """Every public step of an ordinary workflow, with all warnings as errors (the fixture)."""
    ds = gw.datasets.load("moons", seed=0, n_samples=200)
    parts = gw.split(ds.X_train, ds.y_train, ratios=(0.8, 0.2), seed=0)
    model = gw.mlp([2, 8, 8, 1], keep_prob=0.9, batchnorm=True, l2=0.1, seed=0)
    model.standardizer = gw.Standardizer().fit(parts.X_train)
    history = model.fit(
        parts.X_train,
        parts.y_train,
        epochs=20,
        batch_size=32,
        optimizer="adam",
        schedule=gw.InverseTimeDecay(0.1),
        validation_data=(parts.X_dev, parts.y_dev),
        callbacks=[gw.EarlyStopping(patience=5)],
    )
    assert np.isfinite(history["cost"]).all()
    assert 0.0 <= model.evaluate(ds.X_test, ds.y_test)["accuracy"] <= 1.0
    assert gw.gradcheck(model, parts.X_dev[:8], parts.y_dev[:8], sample=5).passed
