"""Scoring and predicting in blocks of rows (model.INFERENCE_ROWS) gives the numbers of one pass."""

import numpy as np
import pytest

import gradwise as gw
from gradwise import model as model_module
from gradwise.data import Standardizer


def _one_pass(model, X):
    """A^[L] of every row at once, with the layers themselves (the reference for the blocks)."""
    Xp = model.standardizer.transform(X) if model.standardizer is not None else X
    out = Xp
    for layer in model.layers:
        out = layer.forward(out, gw.layers.base.INFERENCE)
    return out


@pytest.mark.parametrize("output,loss,k", [("sigmoid", None, 1), ("softmax", None, 3), ("linear", "mse", 2)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_blocks_agree_with_one_pass(monkeypatch, output, loss, k, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1003, 5)) * 3 + 1
    model = gw.mlp([5, 7, k], output=output, loss=loss, l2=0.3, seed=1, dtype=dtype)
    model.standardizer = Standardizer().fit(X)
    if loss == "mse":
        y = rng.normal(size=(1003, k))
    elif k == 1:
        y = (rng.random(1003) < 0.4).astype(float).reshape(-1, 1)
    else:
        y = rng.integers(0, k, 1003)
    whole_forward = model.forward(X)
    whole = model.evaluate(X, y)
    weights = rng.random(1003)
    weights[:300] = 0  # a block of zero weight adds nothing
    Xp, t = model.prepare_inputs(X), model.prepare_targets(y, 1003)
    whole_weighted = model.evaluate_prepared(Xp, t, weights, regularized=False)
    monkeypatch.setattr(model_module, "INFERENCE_ROWS", 100)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(model.forward(X), whole_forward, rtol=rtol, atol=0)
    np.testing.assert_allclose(model.forward(X), _one_pass(model, X.astype(dtype)), rtol=rtol, atol=1e-7)
    blocked = model.evaluate(X, y)
    assert blocked.keys() == whole.keys()
    for key in whole:
        assert blocked[key] == pytest.approx(whole[key], rel=rtol)
    weighted = model.evaluate_prepared(Xp, t, weights, regularized=False)
    assert weighted["cost"] == pytest.approx(whole_weighted["cost"], rel=rtol)
    if loss != "mse":
        np.testing.assert_array_equal(model.predict(X), (whole_forward.argmax(axis=1) if k > 1
                                                          else (whole_forward[:, 0] > 0.5).astype(np.int64)))


def test_one_block_is_the_single_pass_exactly():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, 50)
    model = gw.mlp([3, 4, 1], output="sigmoid", l2=0.1, seed=0)
    Xp, t = model.prepare_inputs(X), model.prepare_targets(y, 50)
    A, J = model._output_and_cost(Xp, t, gw.layers.base.INFERENCE)
    assert model.evaluate_prepared(Xp, t)["cost"] == float(J)
