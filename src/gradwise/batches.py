"""Mini-batches of a training set, epoch after epoch (the course's `random_mini_batches`).

With `batch_size=None` an epoch is one full batch, in order. Otherwise the rows are reshuffled every
epoch and cut into batches of `batch_size`, the last smaller batch kept. Shuffles and augmentation
draw from the model's generator, in that order, so the same seed gives the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._random import RNG, permutation
from .errors import GradwiseValueError

#: training sets larger than this are shuffled batch by batch into one reused buffer: a shuffled copy
#: of the whole set per epoch would cost its full size again in memory and a pass over it
GATHER_ABOVE_BYTES = 4 << 20

Shuffle = bool | Callable[[int, int], np.ndarray]
Augment = Callable[[np.ndarray, Any], np.ndarray]


@dataclass
class EpochPosition:
    """Where training stopped inside an epoch (a preemption after an optimizer step), to continue it exactly.

    epoch : the epoch in progress (= the epochs completed);  batch : the next mini-batch to train
    order : the epoch's permutation of the rows (restored on resume, never redrawn: the generator has
        since drawn dropout masks and augmentation), or None when the epoch runs in order
    cost_sum : Σ J_b · m_b over the batches done;  predictions : the training-accuracy predictions of the
        rows done, in the epoch's order (None for regression);  clipped : the optimizer's clipped-step count
        when the epoch began;  size : the batch size (a resume must cut the same batches)
    """

    epoch: int
    batch: int
    order: np.ndarray | None
    cost_sum: float
    predictions: np.ndarray | None
    clipped: int
    size: int


class Batches:
    """The batches of (X, y), one epoch at a time.

    Parameters
    ----------
    X : ndarray of shape (m, n_x);  y : ndarray with m rows (prepared targets)
    weights : ndarray of shape (m,) or None, each example's weight in the cost
    batch_size : int or None (full batch)
    shuffle : bool or callable (epoch, m) -> permutation of range(m)
    rng : the generator shuffles and augmentation draw from
    augment : callable (X_batch, rng) -> X_batch, optional
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int | None, shuffle: Shuffle, rng: RNG,
                 augment: Augment | None = None, weights: np.ndarray | None = None):
        self.X, self.y, self.rng, self.shuffle, self.augment = X, y, rng, shuffle, augment
        self.weights = weights
        self.m = X.shape[0]
        self.size = self.m if batch_size is None else min(batch_size, self.m)
        self.reshuffle = callable(shuffle) or (bool(shuffle) and self.size < self.m)
        gather = self.reshuffle and X.nbytes > GATHER_ABOVE_BYTES
        self._x_batch = np.empty((self.size, X.shape[1]), X.dtype) if gather else None
        self.order: np.ndarray | None = None  # this epoch's permutation of the rows (None: in order)

    def epoch(self, epoch: int, resume: EpochPosition | None = None
              ) -> Iterable[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]:
        """This epoch's batches as (first row, X_b, y_b, weights_b or None), reshuffled first when shuffling.

        With `resume` (an epoch stopped part-way): its permutation, from its next batch on.
        """
        if resume is None and self.size == self.m and not self.reshuffle and self.augment is None:
            return ((0, self.X, self.y, self.weights),)  # full-batch gradient descent: one batch, as it is
        return self._batches(epoch, resume)

    def _batches(self, epoch: int, resume: EpochPosition | None
                 ) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]:
        X, y, w, size = self.X, self.y, self.weights, self.size
        if resume is not None:
            self.order = resume.order
        else:
            self.order = _permutation(self.shuffle, epoch, self.m, self.rng) if self.reshuffle else None
        perm = self.order
        gathering = perm is not None and self._x_batch is not None and _in_range(perm, self.m)
        if perm is not None:
            y = y[perm]
            w = w[perm] if w is not None else None
            if not gathering:
                X = X[perm]  # small sets: one shuffled copy is cheaper than a gather per batch
        for start in range(resume.batch * size if resume is not None else 0, self.m, size):
            yb = y[start:start + size]
            if gathering:  # rows perm[start:start + size] of X, into the reused buffer
                assert perm is not None and self._x_batch is not None  # both checked in `gathering`
                nb = yb.shape[0]
                Xb = np.take(X, perm[start:start + nb], axis=0, out=self._x_batch[:nb], mode="wrap")
            else:
                Xb = X[start:start + size]
            if self.augment is not None:
                Xb = _augmented(self.augment, Xb, self.rng)
            yield start, Xb, yb, (w[start:start + size] if w is not None else None)


def _in_range(perm: np.ndarray, m: int) -> bool:
    """Every index valid for X[perm] (-m ≤ i < m), so that np.take(mode="wrap") picks the same rows;
    otherwise X[perm] raises NumPy's own IndexError."""
    return bool(perm.min() >= -m and perm.max() < m)


def _permutation(shuffle: Shuffle, epoch: int, m: int, rng: RNG) -> np.ndarray:
    if not callable(shuffle):
        return permutation(rng, m)
    perm = np.asarray(shuffle(epoch, m))
    if perm.shape != (m,) or not np.issubdtype(perm.dtype, np.integer):
        raise GradwiseValueError(f"shuffle({epoch}, {m}) must return a permutation of range({m}), got an "
                                 f"array of shape {perm.shape} and dtype {perm.dtype}")
    return perm


def _augmented(augment: Augment, Xb: np.ndarray, rng: RNG) -> np.ndarray:
    out = augment(Xb, rng)
    if getattr(out, "shape", None) != Xb.shape:
        raise GradwiseValueError(f"augment must return a batch of shape {Xb.shape}, got "
                                 f"{getattr(out, 'shape', type(out).__name__)}")
    return np.ascontiguousarray(out, dtype=Xb.dtype)
