"""Small, fixed problems for the training tests (they train in milliseconds)."""

import numpy as np


def make_blobs(m=120, seed=0):
    """Two noisy classes in 2-D: X of shape (m, 2), labels 0/1 of shape (m,)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(m) > 0).astype(np.int64)
    return X, y


def make_three_classes(m=90, seed=1):
    """Three Gaussian clusters in 2-D: X of shape (m, 2), labels 0..2 of shape (m,)."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    y = np.arange(m) % 3
    X = centers[y] + 0.7 * rng.standard_normal((m, 2))
    return X, y
