"""gw.Monitor: records per layer and epoch, leaves training untouched, JSON-able."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradwise as gw


def _data(m=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 5))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def test_monitor_does_not_change_training():
    X, y = _data()
    thetas = []
    for callbacks in ([], [gw.Monitor()]):
        model = gw.mlp([5, 8, 1], output="sigmoid", seed=0, keep_prob=0.8, batchnorm=True)
        model.fit(X, y, epochs=5, batch_size=32, optimizer="adam", verbose=0, callbacks=callbacks)
        thetas.append(model.theta.copy())
    np.testing.assert_array_equal(thetas[0], thetas[1])


def test_records_every_epoch_and_layer_into_history_layers():
    X, y = _data()
    model = gw.mlp([5, 8, 4, 1], output="sigmoid", seed=0)
    monitor = gw.Monitor(every=2)
    model.fit(X, y, epochs=5, verbose=0, callbacks=[monitor])
    epochs = sorted({r["epoch"] for r in monitor.records})
    assert epochs == [-1, 0, 2, 4]  # the starting weights, every 2nd epoch, the last
    assert len(monitor.records) == 4 * 3 and model.history.layers == monitor.records
    last = [r for r in monitor.records if r["epoch"] == 4]
    W1 = model.parameters()["W1"]
    assert last[0]["weight_norm"] == pytest.approx(np.linalg.norm(W1))
    assert 0.0 <= last[0]["dead_fraction"] <= 1.0 and last[-1]["activation"] == "sigmoid"
    json.dumps(monitor.to_dict(), allow_nan=False)


def test_monitor_rejects_bad_every():
    with pytest.raises(gw.GradwiseValueError, match="every"):
        gw.Monitor(every=0)
