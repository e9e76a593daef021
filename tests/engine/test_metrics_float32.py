"""Scores of float32 probabilities: the same as of their float64 values, without scikit-learn's warning."""

from __future__ import annotations

import warnings

import numpy as np

from gradwise.metrics import classification_metrics


def test_float32_probabilities_score_without_warning():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2000, 3))
    proba64 = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    proba32 = proba64.astype(np.float32)
    assert not np.allclose(proba32.astype(np.float64).sum(axis=1), 1.0, rtol=np.sqrt(np.finfo(np.float64).eps))
    y = rng.integers(0, 3, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's "y_prob values do not sum to one" would fail here
        got = classification_metrics(y, proba32)
    want = classification_metrics(y, proba64)
    assert got["accuracy"] == want["accuracy"]
    np.testing.assert_allclose(got["log_loss"], want["log_loss"], rtol=1e-6)
    np.testing.assert_allclose(got["roc_auc"], want["roc_auc"], rtol=1e-6)
