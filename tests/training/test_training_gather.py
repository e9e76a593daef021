"""Large training sets are shuffled batch by batch (rows gathered into a reused buffer) instead of copied
whole each epoch; the batches, hence the trained weights and the history, must be exactly the same."""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw
from gradwise import batches


def _train(X, y, threshold, monkeypatch, **kw):
    monkeypatch.setattr(batches, "GATHER_ABOVE_BYTES", threshold)
    model = gw.mlp([X.shape[1], 16, 3], output="softmax", seed=0, dtype="float32")
    history = model.fit(X, y, epochs=2, batch_size=48, optimizer="adam", **kw)
    return model.theta.copy(), history.history


@pytest.mark.parametrize("shuffle", [True, "callable"])
def test_gathered_batches_train_exactly_like_a_shuffled_copy(shuffle, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 12)).astype(np.float32)  # 500 = 10 batches of 48 and one of 20
    y = rng.integers(0, 3, 500)
    if shuffle == "callable":
        shuffle = lambda epoch, m: np.random.default_rng(epoch).permutation(m) - m  # noqa: E731 (negatives)
    theta_copy, hist_copy = _train(X, y, 1 << 40, monkeypatch, shuffle=shuffle)
    theta_gather, hist_gather = _train(X, y, 0, monkeypatch, shuffle=shuffle)
    np.testing.assert_array_equal(theta_gather, theta_copy)
    assert hist_gather == hist_copy


def test_an_out_of_range_shuffle_still_raises_numpys_index_error(monkeypatch):
    monkeypatch.setattr(batches, "GATHER_ABOVE_BYTES", 0)
    X = np.ones((10, 2), np.float32)
    model = gw.mlp([2, 3, 2], output="softmax", seed=0, dtype="float32")
    with pytest.raises(IndexError):
        model.fit(X, np.zeros(10, int), epochs=1, batch_size=4, shuffle=lambda e, m: np.arange(m) + 5)
