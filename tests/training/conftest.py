"""Shared data for the training tests: small, fixed problems that train in milliseconds."""

import numpy as np
import pytest


def make_blobs(m=120, seed=0):
    """Two noisy classes in 2-D, labels 0/1 (m,)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(m) > 0).astype(np.int64)
    return X, y


def make_three_classes(m=90, seed=1):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    y = np.arange(m) % 3
    X = centers[y] + 0.7 * rng.standard_normal((m, 2))
    return X, y


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture
def three_classes():
    return make_three_classes()
