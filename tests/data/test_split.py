import importlib
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradwise.data.split import Split, _allocate, split, split_rule, split_sizes
from gradwise.errors import GradwiseTypeError, GradwiseValueError

split_module = importlib.import_module("gradwise.data.split")  # the package exports a function of that name


def _data(m, k=3, seed=0):
    """X holds the row number, so rows can be traced through the split; y cycles over k classes."""
    X = np.arange(m, dtype=float).reshape(m, 1) * np.ones((1, 2))
    y = np.arange(m) % k
    return X, y


def _assert_partition(parts: Split, m: int) -> None:
    rows = np.concatenate([parts.X_train[:, 0], parts.X_dev[:, 0], parts.X_test[:, 0]])
    np.testing.assert_array_equal(np.sort(rows), np.arange(m))  # every row exactly once
    for X, y in ((parts.X_train, parts.y_train), (parts.X_dev, parts.y_dev), (parts.X_test, parts.y_test)):
        np.testing.assert_array_equal(y, X[:, 0].astype(int) % 3)  # labels stay with their rows


def test_split_rule_follows_the_seeds():
    assert split_rule(100) == (0.6, 0.2, 0.2)
    assert split_rule(1_000_000) == (0.6, 0.2, 0.2)
    assert split_rule(1_000_001) == (0.98, 0.01, 0.01)
    assert split_rule(50_000_000) == (0.98, 0.01, 0.01)
    with pytest.raises(ValueError, match="m must be >= 0"):
        split_rule(-1)


def test_default_split_is_60_20_20_and_a_partition():
    X, y = _data(1000)
    parts = split(X, y, seed=0)
    assert parts.sizes == (600, 200, 200)
    assert parts.X_train.shape == (600, 2) and parts.y_dev.shape == (200,)
    _assert_partition(parts, 1000)


def test_big_data_rule_is_98_1_1():
    m = 1_000_001
    parts = split(np.zeros((m, 1), dtype=np.float32), np.arange(m) % 2, seed=0)
    assert parts.sizes == (980_001, 10_000, 10_000)
    assert parts.X_train.dtype == np.float32


def test_result_is_a_named_six_tuple():
    X, y = _data(30)
    parts = split(X, y, seed=1)
    X_train, y_train, X_dev, y_dev, X_test, y_test = parts
    assert isinstance(parts, tuple) and len(parts) == 6
    assert X_train is parts.X_train and y_test is parts.y_test
    assert parts._fields == ("X_train", "y_train", "X_dev", "y_dev", "X_test", "y_test")


def test_two_ratios_give_an_empty_test_set():
    X, y = _data(50)
    parts = split(X, y, ratios=(0.8, 0.2), seed=0)
    assert parts.sizes == (40, 10, 0)
    assert parts.X_test.shape == (0, 2) and parts.y_test.shape == (0,)
    _assert_partition(parts, 50)


def test_stratification_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    X = np.arange(1000.0).reshape(-1, 1)
    parts = split(X, y, ratios=(0.6, 0.2, 0.2), seed=3)
    for labels, size in ((parts.y_train, 600), (parts.y_dev, 200), (parts.y_test, 200)):
        np.testing.assert_array_equal(np.bincount(labels), np.array([500, 300, 200]) * size // 1000)
    # Not grouped by class inside a split.
    assert not np.all(np.diff(parts.y_train) >= 0)


def test_rare_class_appears_in_every_split():
    y = np.array([0] * 97 + [1] * 3)
    X = np.arange(100.0).reshape(-1, 1)
    for seed in range(5):
        parts = split(X, y, seed=seed)
        assert parts.sizes == (60, 20, 20)
        for labels in (parts.y_train, parts.y_dev, parts.y_test):
            assert set(labels) == {0, 1}


def test_regression_targets_are_not_stratified_but_still_split():
    X = np.arange(90.0).reshape(-1, 1)
    y = X[:, 0] ** 2 / 7.0
    parts = split(X, y, seed=0)
    assert parts.sizes == (54, 18, 18)
    np.testing.assert_array_equal(parts.y_dev, parts.X_dev[:, 0] ** 2 / 7.0)


def test_auto_stratify_detects_labels():
    X = np.arange(40.0).reshape(-1, 1)
    strings = np.array(["cat", "dog"] * 20)
    parts = split(X, strings, ratios=(0.5, 0.5), seed=0)
    assert sorted(parts.y_dev.tolist()).count("cat") == 10
    floats = np.array([0.0, 1.0] * 20)  # integral floats: labels
    assert np.bincount(split(X, floats, ratios=(0.5, 0.5)).y_train.astype(int)).tolist() == [10, 10]


def test_column_vector_labels_keep_their_shape():
    X, y = _data(20)
    parts = split(X, y.reshape(-1, 1), ratios=(0.5, 0.25, 0.25), seed=0)
    assert parts.y_train.shape == (10, 1) and parts.y_test.shape == (5, 1)


def test_seeded_and_rng_reproducible():
    X, y = _data(100)
    a, b, c = split(X, y, seed=7), split(X, y, seed=7), split(X, y, seed=8)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    d = split(X, y, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(d.X_train, a.X_train)
    e = split(X, y, rng=np.random.RandomState(7))
    _assert_partition(e, 100)


def test_stratify_false_is_a_plain_permutation():
    X, y = _data(10)
    parts = split(X, y, ratios=(0.5, 0.5), seed=0, stratify=False)
    order = np.random.default_rng(0).permutation(10)
    np.testing.assert_array_equal(parts.X_train[:, 0], order[:5])


def test_small_data_gives_every_part_at_least_one_example():
    X, y = _data(3)
    assert split(X, y, ratios=(0.98, 0.01, 0.01)).sizes == (1, 1, 1)
    assert split_sizes(10, (0.98, 0.01, 0.01)) == [8, 1, 1]
    assert split_sizes(7, (0.5, 0.5)) == [4, 3]


@pytest.mark.parametrize(
    ("ratios", "match"),
    [
        ((0.7, -0.1, 0.4), "ratios must be non-negative"),
        ((0.6, 0.2, 0.1), r"ratios must sum to 1.*0\.9"),
        ((1.0,), "ratios must have 2 .* or 3"),
        ((0.25, 0.25, 0.25, 0.25), "ratios must have 2 .* or 3"),
        ((0.0, 0.5, 0.5), "ratios must give the training set a positive share"),
        ((float("nan"), 0.5), "ratios must be finite"),
    ],
)
def test_bad_ratios_are_rejected(ratios, match):
    X, y = _data(30)
    with pytest.raises(ValueError, match=match):
        split(X, y, ratios=ratios)


def test_bad_inputs_are_rejected():
    X, y = _data(30)
    with pytest.raises(ValueError, match="too few samples to split: got 1"):
        split(X[:1], y[:1])
    with pytest.raises(ValueError, match="too few samples to split: 2 example"):
        split(X[:2], y[:2])  # three non-empty parts
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        split(X, y[:-1])
    with pytest.raises(ValueError, match=r"y has shape \(1, 30\).*y.ravel\(\)"):
        split(X, y.reshape(1, -1))
    with pytest.raises(GradwiseTypeError, match="ratios must be a sequence"):
        split(X, y, ratios="60/20/20")
    with pytest.raises(GradwiseValueError, match="stratify must be 'auto', True or False"):
        split(X, y, stratify="yes")
    with pytest.raises(GradwiseTypeError, match="seed must be an integer"):
        split(X, y, seed=1.5)


@settings(max_examples=60, deadline=None)
@given(
    class_counts=st.lists(st.integers(1, 40), min_size=1, max_size=6),
    ratios=st.sampled_from([(0.6, 0.2, 0.2), (0.98, 0.01, 0.01), (0.8, 0.2), (0.5, 0.3, 0.2), (1 / 3,) * 3]),
)
def test_allocation_respects_both_margins(class_counts, ratios):
    counts_arr = np.array(class_counts)
    m = int(counts_arr.sum())
    if m < sum(r > 0 for r in ratios):
        return
    sizes = np.array(split_sizes(m, ratios))
    table = _allocate(counts_arr, sizes)
    assert (table >= 0).all()
    np.testing.assert_array_equal(table.sum(axis=1), counts_arr)
    np.testing.assert_array_equal(table.sum(axis=0), sizes)
    # Each cell within one unit of the proportional share before the presence swaps; each swap then
    # moves single units (four cells change by one) to give a missing class a place in a split.
    target = np.outer(counts_arr, sizes) / m
    with mock.patch.object(split_module, "_ensure_presence", lambda *args: None):
        rounded = _allocate(counts_arr, sizes)
    assert np.all(np.abs(rounded - target) < 2)
    n_parts = int(np.count_nonzero(sizes))
    missing = int(((rounded == 0) & (sizes > 0) & (counts_arr[:, None] >= n_parts)).sum())
    assert np.abs(table - rounded).sum() <= 4 * missing


def test_split_positions_are_the_rows_split_takes():
    """The command line reads a table's columns at split_positions(y): the same draws as split(X, y)."""
    from gradwise.data.split import split_positions

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(101, 2)), rng.integers(0, 3, 101)
    parts = split(X, y, ratios=(0.6, 0.2, 0.2), seed=11)
    train, dev, test = split_positions(y, ratios=(0.6, 0.2, 0.2), seed=11)
    np.testing.assert_array_equal(X[train], parts.X_train)
    np.testing.assert_array_equal(X[dev], parts.X_dev)
    np.testing.assert_array_equal(X[test], parts.X_test)
    with pytest.raises(ValueError, match="too few samples"):
        split_positions([1])
    # in file order: the same rows, sorted, for classes (stratified) and for numbers (not)
    for target in (y, rng.normal(size=101)):
        shuffled = split_positions(target, ratios=(0.6, 0.2, 0.2), seed=11)
        in_order = split_positions(target, ratios=(0.6, 0.2, 0.2), seed=11, in_file_order=True)
        for a, b in zip(shuffled, in_order, strict=True):
            np.testing.assert_array_equal(np.sort(a), b)
