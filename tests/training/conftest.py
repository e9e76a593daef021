"""Fixtures for the training tests: small, fixed problems that train in milliseconds."""

import types

import numpy as np
import pytest


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


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture
def three_classes():
    return make_three_classes()


@pytest.fixture
def problems():
    """`problems.blobs(m, seed)`, `problems.three_classes(m, seed)` for tests that need other sizes."""
    return types.SimpleNamespace(blobs=make_blobs, three_classes=make_three_classes)
