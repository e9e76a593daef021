"""Train / dev / test splits, with the seeds' size rule and stratification for classification.

The seeds' rule (Improving Deep Neural Networks, week 1, "Train / Dev / Test sets"):

- up to 1,000,000 examples ("previous era"): 60% / 20% / 20%;
- beyond ("big data era"): 98% / 1% / 1% — the dev and test sets only need to be big enough to tell
  models apart and to estimate the final error, so their *share* shrinks as data grows.

Dev and test must come from the same distribution; a random (stratified, for classification) split
guarantees it for data that was collected as one pool.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._random import RNG, make_rng, permutation
from .._validation import check_int
from ..errors import GradwiseTypeError, GradwiseValueError

#: Above this many examples the seeds switch from 60/20/20 to 98/1/1.
BIG_DATA_THRESHOLD = 1_000_000

#: Integral float targets with at most this many distinct values count as class labels.
MAX_AUTO_CLASSES = 50


class Split(NamedTuple):
    """The six arrays of a train / dev / test split; unpacks like a 6-tuple.

    Attributes
    ----------
    X_train, X_dev, X_test : ndarray of shape (m_train, ...), (m_dev, ...), (m_test, ...)
        Rows of `X` (same dtype and trailing shape). An unused split is empty: shape (0, n_x).
    y_train, y_dev, y_test : ndarray of shape (m_train,), (m_dev,), (m_test,)
        The matching labels or targets (same dtype and trailing shape as `y`).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(m_train, m_dev, m_test)."""
        return len(self.y_train), len(self.y_dev), len(self.y_test)


def split_rule(m: int) -> tuple[float, float, float]:
    """The seeds' train / dev / test ratios for a data set of `m` examples.

    Parameters
    ----------
    m : int
        Number of examples, >= 0.

    Returns
    -------
    (train, dev, test) : tuple of float
        ``(0.6, 0.2, 0.2)`` if ``m <= 1_000_000``, else ``(0.98, 0.01, 0.01)``.

    Examples
    --------
    >>> split_rule(10_000)
    (0.6, 0.2, 0.2)
    >>> split_rule(5_000_000)
    (0.98, 0.01, 0.01)
    """
    m = check_int("m", m, minimum=0)
    return (0.6, 0.2, 0.2) if m <= BIG_DATA_THRESHOLD else (0.98, 0.01, 0.01)


def split(
    X: object,
    y: object,
    ratios: Sequence[float] | None = None,
    seed: int | None = 0,
    stratify: bool | str = "auto",
    *,
    rng: RNG | None = None,
) -> Split:
    """Shuffle and split `(X, y)` into train / dev / test sets.

    Parameters
    ----------
    X : array-like of shape (m, n_x)
        Examples, one per row (any trailing shape is kept; rows are selected, never converted).
    y : array-like of shape (m,) or (m, 1)
        Labels or targets.
    ratios : sequence of 2 or 3 non-negative floats summing to 1, optional
        Shares of (train, dev) or (train, dev, test). Two numbers give an empty test set. ``None`` applies
        the seeds' rule, :func:`split_rule`: 60/20/20 up to 1,000,000 examples, 98/1/1 beyond.
    seed : int or None, default 0
        Seed of the shuffle (``np.random.default_rng(seed)``); ignored when `rng` is given.
    stratify : {"auto", True, False}, default "auto"
        Keep each class's proportion in every split. ``"auto"`` stratifies when `y` looks like class
        labels: integer, boolean or string dtype, or integral floats with at most 50 distinct values.
    rng : numpy.random.Generator or RandomState, optional
        Explicit generator (wins over `seed`).

    Returns
    -------
    Split
        Named tuple ``(X_train, y_train, X_dev, y_dev, X_test, y_test)``.

    Notes
    -----
    Sizes are apportioned by the largest remainder, so they sum to `m` exactly, and every split with a
    non-zero ratio gets at least one example (an error if `m` is too small for that). With stratification
    each class is shared out the same way (an exact rounding of ``m_c * m_split / m`` that respects both
    the class sizes and the split sizes), and every class with at least as many examples as there are
    splits appears in every split whenever the split sizes allow it. Rows inside each split are shuffled.

    Examples
    --------
    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    >>> parts = split(X, y, ratios=(0.6, 0.2, 0.2), seed=0)
    >>> parts.sizes
    (6, 2, 2)
    >>> X_train, y_train, X_dev, y_dev, X_test, y_test = parts
    """
    X_arr, y_arr = _check_xy(X, y)
    train, dev, test = _draw(y_arr, ratios, seed, stratify, rng)
    return Split(X_arr[train], y_arr[train], X_arr[dev], y_arr[dev], X_arr[test], y_arr[test])


def split_positions(
    y: object, ratios: Sequence[float] | None = None, seed: int | None = 0, stratify: bool | str = "auto",
    *, rng: RNG | None = None, in_file_order: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The row positions ``(train, dev, test)`` that :func:`split` takes with the same arguments — the same
    draws — without rows of X to gather (a table's column plan reads its columns at these positions).

    With `in_file_order` each split's positions come sorted, not shuffled: the same rows, and the
    shuffle inside each split (the generator's last draws) is not drawn at all."""
    y_arr = np.asarray(y)
    _check_xy(np.empty((len(y_arr), 0)) if y_arr.ndim else y_arr, y_arr)
    train, dev, test = _draw(y_arr, ratios, seed, stratify, rng, shuffled=not in_file_order)
    if in_file_order:
        return _sorted(train, len(y_arr)), _sorted(dev, len(y_arr)), _sorted(test, len(y_arr))
    return train, dev, test


def _sorted(rows: np.ndarray, m: int) -> np.ndarray:
    """np.sort(rows) of distinct row numbers below m, by marking them (linear; a sort is m log m)."""
    marked = np.zeros(m, dtype=bool)
    marked[rows] = True
    return np.flatnonzero(marked)


def _draw(y: np.ndarray, ratios: Sequence[float] | None, seed: int | None, stratify: bool | str,
          rng: RNG | None, shuffled: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = len(y)
    ratios_t = split_rule(m) if ratios is None else _check_ratios(ratios)
    generator = make_rng(None if rng is not None else seed, rng)
    parts = split_indices(m, ratios_t, generator, _stratify_labels(y, stratify), shuffled=shuffled)
    if len(parts) == 2:
        parts.append(np.empty(0, dtype=np.intp))
    train, dev, test = parts
    return train, dev, test


# --------------------------------------------------------------------------------------------------
# Building blocks, shared with `datasets` (which splits scikit-learn's real data sets the same way).
# --------------------------------------------------------------------------------------------------


def split_indices(
    m: int, ratios: Sequence[float], rng: RNG, labels: np.ndarray | None = None, shuffled: bool = True
) -> list[np.ndarray]:
    """Shuffled row indices of each split (one array per ratio), stratified by `labels` if given.

    ``shuffled=False`` leaves a stratified split's rows grouped by class: the same rows, for a caller that
    sorts them (the within-split shuffle is the generator's last draw, so nothing else changes)."""
    sizes = split_sizes(m, ratios)
    if labels is None:
        order = permutation(rng, m)
        bounds = np.cumsum([0, *sizes])
        return [order[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
    classes, codes = _class_codes(labels)
    class_counts = np.bincount(codes, minlength=len(classes))
    counts = _allocate(class_counts, np.asarray(sizes))
    parts: list[list[np.ndarray]] = [[] for _ in sizes]
    for c in range(len(classes)):
        members = np.flatnonzero(codes == c)
        members = members[permutation(rng, len(members))]
        bounds = np.cumsum([0, *counts[c]])
        for s in range(len(sizes)):
            parts[s].append(members[bounds[s] : bounds[s + 1]])
    result = []
    for pieces in parts:
        idx = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.intp)
        result.append(idx[permutation(rng, len(idx))] if shuffled else idx)  # classes not grouped in a split
    return result


def _class_codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(labels, return_inverse=True)``; class numbers 0..K-1 (encoded labels) are counted, not
    sorted, which on a million rows is most of the cost of a split."""
    if labels.dtype.kind in "iu" and len(labels) and 0 <= labels.min() and labels.max() < len(labels):
        present = np.bincount(labels) > 0
        classes = np.flatnonzero(present).astype(labels.dtype)
        return classes, (np.cumsum(present) - 1)[labels]
    classes, codes = np.unique(labels, return_inverse=True)
    return classes, codes.reshape(-1)


def split_sizes(m: int, ratios: Sequence[float]) -> list[int]:
    """Largest-remainder apportionment of `m` examples; each non-zero ratio gets at least one example."""
    ratios_arr = np.asarray(ratios, dtype=float)
    needed = int(np.count_nonzero(ratios_arr))
    if m < needed:
        shares = "/".join(f"{r:g}" for r in ratios_arr)
        raise GradwiseValueError(
            f"too few samples to split: {m} example(s) cannot fill {needed} non-empty parts ({shares})"
        )
    exact = ratios_arr * m
    sizes = np.floor(exact).astype(int)
    remainder = exact - sizes
    # Ties go to the earlier part (train first), so 0.5/0.5 of an odd m gives train the extra row.
    for i in np.argsort(-remainder, kind="stable")[: m - int(sizes.sum())]:
        sizes[i] += 1
    # A part with a non-zero ratio must not end up empty: borrow from the largest part.
    for i in np.flatnonzero((sizes == 0) & (ratios_arr > 0)):
        sizes[int(np.argmax(sizes))] -= 1
        sizes[i] += 1
    return [int(s) for s in sizes]


def _allocate(class_counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Integer matrix counts[c, s] with row sums `class_counts` and column sums `sizes`.

    A rounding of the proportional table ``class_counts[c] * sizes[s] / m``: floors first, then the
    leftover units go to the cells with the largest fractional parts that still have room in both their
    row and their column. Finally, classes missing from a split are swapped in where the margins allow.
    """
    m = int(class_counts.sum())
    target = np.outer(class_counts, sizes) / m
    counts = np.floor(target).astype(int)
    row_left = class_counts - counts.sum(axis=1)
    col_left = sizes - counts.sum(axis=0)
    frac = (target - counts).ravel()
    for flat in np.argsort(-frac, kind="stable"):
        c, s = divmod(int(flat), len(sizes))
        if row_left[c] > 0 and col_left[s] > 0:
            counts[c, s] += 1
            row_left[c] -= 1
            col_left[s] -= 1
    # Total row and column deficits are equal, so any remaining pair can absorb a unit.
    for c in np.flatnonzero(row_left > 0).tolist():
        while row_left[c] > 0:
            s = int(np.flatnonzero(col_left > 0)[0])
            counts[c, s] += 1
            row_left[c] -= 1
            col_left[s] -= 1
    _ensure_presence(counts, class_counts, sizes)
    return counts


def _ensure_presence(counts: np.ndarray, class_counts: np.ndarray, sizes: np.ndarray) -> None:
    """Swap units so each class with enough examples appears in each non-empty split (margins kept)."""
    n_parts = int(np.count_nonzero(sizes))
    for c in range(counts.shape[0]):
        if class_counts[c] < n_parts:
            continue
        for s in np.flatnonzero((counts[c] == 0) & (sizes > 0)):
            donor_split = int(np.argmax(counts[c]))  # where class c has the most examples
            if counts[c, donor_split] < 2:
                continue
            # Another class that has >= 2 examples in split s gives one slot of s to class c.
            spare = np.flatnonzero(counts[:, s] >= 2)
            if len(spare) == 0:
                continue  # split s is too small to hold every class: "when possible"
            other = int(spare[np.argmax(counts[spare, s])])
            counts[c, s] += 1
            counts[c, donor_split] -= 1
            counts[other, s] -= 1
            counts[other, donor_split] += 1


def looks_categorical(y: np.ndarray) -> bool:
    """Integer, boolean or string labels, or integral floats with at most 50 distinct values."""
    if y.dtype.kind in "biuUSO":
        return True
    if y.dtype.kind == "f" and len(y) and np.isfinite(y).all() and (y == np.round(y)).all():
        return len(np.unique(y)) <= MAX_AUTO_CLASSES
    return False


def _stratify_labels(y: np.ndarray, stratify: object) -> np.ndarray | None:
    flat = y.reshape(len(y), -1)
    if flat.shape[1] != 1:
        if stratify is True:
            raise GradwiseValueError(f"stratify=True needs one label per example, got y of shape {y.shape}")
        return None
    flat = flat[:, 0]
    if isinstance(stratify, str):
        if stratify != "auto":
            raise GradwiseValueError(f"stratify must be 'auto', True or False, got {stratify!r}")
        return flat if looks_categorical(flat) else None
    if isinstance(stratify, bool | np.bool_):
        return flat if stratify else None
    raise GradwiseTypeError(f"stratify must be 'auto', True or False, got {stratify!r}")


def _check_xy(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    if X is None or isinstance(X, str | bytes):
        raise GradwiseTypeError(f"X must be an array with one row per example, got {X!r}")
    if y is None or isinstance(y, str | bytes):
        raise GradwiseTypeError(f"y must be an array with one label per example, got {y!r}")
    X_arr, y_arr = np.asarray(X), np.asarray(y)
    if X_arr.ndim == 0:
        raise GradwiseValueError(f"X must have one row per example, got a scalar {X_arr!r}")
    if y_arr.ndim == 0:
        raise GradwiseValueError(f"y must have one label per example, got a scalar {y_arr!r}")
    if y_arr.ndim == 2 and y_arr.shape[1] != 1 and y_arr.shape[0] == 1 and X_arr.shape[0] == y_arr.shape[1]:
        raise GradwiseValueError(
            f"y has shape {y_arr.shape} (the course's (1, m) layout); gradwise is row-major: pass y.ravel()"
        )
    if X_arr.shape[0] != y_arr.shape[0]:
        raise GradwiseValueError(
            f"X and y must have the same number of rows, "
            f"got X with {X_arr.shape[0]} and y with {y_arr.shape[0]}"
        )
    if y_arr.shape[0] < 2:
        raise GradwiseValueError(
            f"too few samples to split: got {y_arr.shape[0]} example(s), need at least 2"
        )
    return X_arr, y_arr


def _check_ratios(ratios: object) -> tuple[float, ...]:
    if isinstance(ratios, str | bytes) or not isinstance(ratios, Sequence | np.ndarray):
        raise GradwiseTypeError(f"ratios must be a sequence of 2 or 3 numbers, got {ratios!r}")
    values = list(ratios)
    if len(values) not in (2, 3):
        raise GradwiseValueError(
            f"ratios must have 2 (train, dev) or 3 (train, dev, test) numbers, got {values}"
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
            raise GradwiseValueError(f"ratios must be finite numbers, got {values}")
        if v < 0:
            raise GradwiseValueError(f"ratios must be non-negative, got {values}")
    if not math.isclose(math.fsum(values), 1.0, abs_tol=1e-6):
        raise GradwiseValueError(f"ratios must sum to 1, got {values} (sum {math.fsum(values):g})")
    if values[0] <= 0:
        raise GradwiseValueError(f"ratios must give the training set a positive share, got {values}")
    return tuple(float(v) for v in values)
