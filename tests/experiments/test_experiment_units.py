"""The pieces the experiments are built from: statistics, printed-number matching, the course's shuffling
and dropout masks, the planted gradient bugs, fresh-seed streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradwise as gw
from gradwise.experiments import _common, gradient_checking, regularization
from gradwise.experiments._common import CourseShuffle, matches_printed, mean_interval, streams


def test_mean_interval_is_the_t_interval():
    values = [0.90, 0.92, 0.97]
    stat = mean_interval(values, bounds=None)
    s = np.std(values, ddof=1)
    half = 4.302652729911275 * s / math.sqrt(3)  # t_{0.975, 2}
    assert stat["mean"] == pytest.approx(np.mean(values))
    assert stat["low"] == pytest.approx(np.mean(values) - half)
    assert stat["high"] == pytest.approx(np.mean(values) + half)
    assert mean_interval([0.5])["low"] is None and mean_interval([0.5])["mean"] == 0.5
    same = mean_interval([0.5, 0.5, 0.5])
    assert same["low"] == same["high"] == 0.5
    clipped = mean_interval(values)  # accuracies: the interval stays within [0, 1]
    assert clipped["high"] == 1.0 and clipped["low"] == pytest.approx(stat["low"])


@pytest.mark.parametrize("ours, printed, expected", [
    (0.9478672985781991, "0.947867298578", True),
    (0.9478672985781991, "0.947867298579", False),
    (0.9933333333333333, "99%", True),
    (0.9866666666666667, "99%", True),
    (0.9833333333333333, "99%", False),
    (0.915, "91.5%", True),
    (0.7966666666666666, "79.7%", True),
    (0.79, "79.7%", False),
    (0.86, "0.86", True),
])
def test_matches_printed(ours, printed, expected):
    assert matches_printed(ours, printed) is expected


def test_course_shuffle_replays_np_random_seed():
    shuffle = CourseShuffle(11)
    for epoch in (0, 1, 7, 9999):
        expected = np.random.RandomState(11 + epoch).permutation(300)  # np.random.seed(11 + e); permutation
        assert np.array_equal(shuffle(epoch, 300), expected)


def test_streams_are_independent_and_reproducible():
    a = [np.random.default_rng(s).random(4) for s in streams("x", 1000, 3)]
    b = [np.random.default_rng(s).random(4) for s in streams("x", 1000, 3)]
    c = [np.random.default_rng(s).random(4) for s in streams("y", 1000, 3)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[0], c[0])


def test_course_dropout_masks_are_fixed_and_the_courses():
    model = regularization.course_dropout_model(211)
    masks = [layer for layer in model.layers if isinstance(layer, regularization.CourseMaskDropout)]
    rs = np.random.RandomState(1)
    assert np.array_equal(masks[0].fixed, (rs.random_sample((20, 211)) < 0.86).T)
    assert np.array_equal(masks[1].fixed, (rs.random_sample((3, 211)) < 0.86).T)
    X = np.random.default_rng(0).standard_normal((211, 2))
    first = model.forward(X, training=True)
    again = model.forward(X, training=True)
    assert np.array_equal(first, again)  # the same mask at every iteration, as the course's seed(1) gives
    assert not np.array_equal(first, model.forward(X))  # inference: no dropout


def test_planted_bugs_scale_exactly_the_named_gradients():
    X, y, params = gradient_checking.course_case()
    good, bad = gradient_checking.network(False), gradient_checking.network(True)
    good.set_parameters(params)
    bad.set_parameters(params)
    for m in (good, bad):
        m.forward(X, training=True)
        m.backward(y)
    g, b = good.gradients(), bad.gradients()
    assert np.allclose(b["W2"], 2 * g["W2"]) and np.allclose(b["b1"], 4 * g["b1"])
    for name in ("W1", "b2", "W3", "b3"):
        assert np.array_equal(b[name], g[name])


def test_gradient_checking_experiment():
    out = gradient_checking.check_all()
    assert out["1d"]["difference"] < 1e-9
    assert out["nd"]["passed"] and not out["nd_buggy"]["passed"]
    assert sorted(out["nd_buggy"]["flagged"]) == ["W2", "b1"]
    assert out["nd_buggy"]["difference"] == pytest.approx(0.2850931567761623, rel=1e-6)  # the course's value
    # the course's cost formula (log of a sigmoid) costs ~100x in the check's difference
    assert out["nd_course_cost"]["difference"] > 10 * out["nd"]["difference"]


def test_rebuild_restores_a_trained_network():
    model = gw.mlp([2, 3, 1], seed=0)
    model.theta[...] = np.arange(model.theta.size, dtype=float) / 10
    copy = _common.rebuild(lambda: gw.mlp([2, 3, 1], seed=1), model.theta)
    X = np.random.default_rng(0).standard_normal((5, 2))
    assert np.array_equal(copy.forward(X), model.forward(X))


def test_unknown_experiment_is_refused(tmp_path):
    from gradwise.experiments import reproduce

    with pytest.raises(gw.GradwiseValueError, match="nonsense"):
        reproduce(tmp_path, only=["nonsense"], log=None)
    with pytest.raises(gw.GradwiseValueError, match="seeds"):
        reproduce(tmp_path, seeds=0, log=None)
