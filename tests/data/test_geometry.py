"""Translate, rotate and distort flattened images (issue 14): geometry checked on planted pixels, the
generator is the only source of randomness, and bad input is one clear error."""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw
from gradwise.data.geometry import Rotate, Translate


def _lone_pixel(h, w, r, c, batch=1):
    X = np.zeros((batch, h, w))
    X[:, r, c] = 1.0
    return X.reshape(batch, h * w)


def test_a_90_degree_rotation_moves_a_lone_pixel_where_geometry_says():
    """Counter-clockwise as displayed: the pixel right of the centre goes above it, then left, then below."""
    X = _lone_pixel(5, 5, 2, 3)
    for degrees, (r, c) in [(90, (1, 2)), (180, (2, 1)), (270, (3, 2)), (-90, (3, 2)), (0, (2, 3))]:
        out = Rotate((5, 5), 180).apply(X, np.array([degrees])).reshape(5, 5)
        assert out[r, c] == pytest.approx(1.0, abs=1e-9), degrees
        assert out.sum() == pytest.approx(1.0, abs=1e-9)


def test_translations_within_the_frame_keep_the_pictures_sum_and_move_it_by_the_shift():
    rng = np.random.default_rng(0)
    X = _lone_pixel(9, 9, 4, 4, batch=50) * rng.uniform(0.5, 2.0, (50, 1))
    out = gw.augment.translate((9, 9), 3)(X, np.random.default_rng(1))
    np.testing.assert_allclose(out.sum(axis=1), X.sum(axis=1))
    moved = np.argwhere(out.reshape(50, 9, 9) > 0)[:, 1:] - 4
    assert np.abs(moved).max() <= 3 and len(np.unique(moved, axis=0)) > 10  # many different shifts
    shifted = Translate((9, 9), 3).apply(X[:1], np.array([[2, -1]])).reshape(9, 9)
    assert shifted[6, 3] == X[0, 4 * 9 + 4]


@pytest.mark.parametrize("make", [
    lambda: gw.augment.translate((8, 8), 2),
    lambda: gw.augment.rotate((8, 8), 15),
    lambda: gw.augment.distort((8, 8), 1.5),
    lambda: gw.augment.compose(gw.augment.rotate((8, 8), 10), gw.augment.translate((8, 8), 1)),
])
def test_the_same_generator_state_gives_the_same_batch(make):
    X = np.random.default_rng(2).uniform(size=(16, 64))
    aug = make()
    a = aug(X, np.random.default_rng(7))
    b = aug(X, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, aug(X, np.random.default_rng(8)))
    assert a.shape == X.shape and a.dtype == X.dtype
    legacy = aug(X, np.random.RandomState(7))
    np.testing.assert_array_equal(legacy, aug(X, np.random.RandomState(7)))


def test_distortion_is_smooth_and_bounded_by_its_strength():
    """A vertical gradient image: each pixel's value is its sampled row, so the displacement can be read off."""
    h = w = 28
    rows = np.repeat(np.arange(h, dtype=float)[:, None], w, axis=1).reshape(1, -1)
    out = gw.augment.distort((h, w), 2.0)(np.repeat(rows, 4, axis=0), np.random.default_rng(3)).reshape(4, h, w)
    inner = (out - rows.reshape(h, w))[:, 3:-3, :]  # away from the clamped border
    assert 0.5 < np.abs(inner).max() <= 2.0 + 1e-9
    assert np.abs(np.diff(inner, axis=2)).max() < 0.5  # neighbours move together: an elastic, not noisy, field
    unchanged = gw.augment.distort((h, w), 0.0)(rows, np.random.default_rng(3))
    np.testing.assert_allclose(unchanged, rows)


def test_augmented_training_runs_through_fit_on_digits():
    data = gw.datasets.load("digits", seed=0)
    model = gw.mlp([64, 32, 10], output="softmax", seed=0)
    aug = gw.augment.compose(gw.augment.rotate((8, 8), 10), gw.augment.translate((8, 8), 1))
    history = model.fit(data.X_train, data.y_train, epochs=3, batch_size=64, optimizer="adam", augment=aug)
    assert history["cost"][-1] < history["cost"][0]


@pytest.mark.parametrize("call, words", [
    (lambda: gw.augment.rotate((8,), 10), "image_shape must be"),
    (lambda: gw.augment.rotate("8x8", 10), "image_shape must be a tuple"),
    (lambda: gw.augment.rotate((8, 8), 270), "max_degrees"),
    (lambda: gw.augment.translate((8, 8), -1), "max_shift"),
    (lambda: gw.augment.distort((8, 8), -0.5), "strength"),
    (lambda: gw.augment.distort((8, 8), 1.0, smoothness=0), "smoothness"),
    (lambda: gw.augment.translate((8, 8), 1)(np.zeros((2, 63)), np.random.default_rng(0)), r"shape \(batch, 64\)"),
    (lambda: gw.augment.rotate((8, 8), 5)(np.zeros((2, 64)), 3), "rng must be"),
])
def test_bad_input_is_one_clear_error(call, words):
    with pytest.raises((gw.GradwiseValueError, gw.GradwiseTypeError), match=words):
        call()
