"""Data augmentation: random transformations applied to each training mini-batch.

The seeds list data augmentation among the ways to reduce variance ("flip all your pictures
horizontally", "random distortions"): it manufactures plausible new examples for free.

Each built-in is a small picklable object whose ``__call__(X_batch, rng)`` returns a new array:

- it never modifies `X_batch` in place and keeps its dtype;
- it is vectorized over the batch (no Python loop over examples);
- it draws its randomness only from the `rng` it is given (a ``numpy.random.Generator`` or a legacy
  ``RandomState``), so a seeded training run is reproducible.

`model.fit(..., augment=aug)` calls ``aug(X_batch, rng)`` on every training batch (never on dev/test).
Any function with that signature works too.

Examples
--------
>>> import numpy as np
>>> aug = compose(shift(3), noise(0.05))
>>> aug
Compose(augmentations=(Shift(max_shift=3), Noise(std=0.05)))
>>> out = aug(np.zeros((8, 40)), np.random.default_rng(0))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._random import RNG, uniform
from .._validation import check_float, check_int
from ..errors import GradwiseTypeError, GradwiseValueError
from .geometry import Distort, Rotate, Translate

__all__ = ["Compose", "Distort", "Flip", "Noise", "Rotate", "Shift", "Translate", "compose", "distort", "flip",
           "noise", "rotate", "shift", "translate"]


def _check_batch(name: str, X: object, *, min_ndim: int = 2) -> np.ndarray:
    if not isinstance(X, np.ndarray):
        raise GradwiseTypeError(f"{name}: X_batch must be a numpy array, got {type(X).__name__}")
    if X.ndim < min_ndim:
        raise GradwiseValueError(f"{name}: X_batch must have shape (batch, n_x), got shape {X.shape}")
    return X


def _check_rng(name: str, rng: object) -> RNG:
    if not isinstance(rng, np.random.Generator | np.random.RandomState):
        raise GradwiseTypeError(
            f"{name}: rng must be a numpy.random.Generator or RandomState, got {type(rng).__name__}"
        )
    return rng


def _integers(rng: RNG, low: int, high: int, size: int) -> np.ndarray:
    """Uniform integers in [low, high] (inclusive), for both generator kinds."""
    if isinstance(rng, np.random.RandomState):
        return rng.randint(low, high + 1, size=size)
    return rng.integers(low, high, size=size, endpoint=True)


@dataclass(frozen=True)
class Shift:
    """Shift each example's 1-D signal by a random integer in ``[-max_shift, max_shift]``.

    Example ``i`` is shifted by its own ``k_i`` along the last axis: ``out[i, j] = X[i, j - k_i]``, so a
    positive ``k`` moves the signal to the right (later indices). Positions that come from outside the
    signal are **padded with the edge value** (``X[i, 0]`` on the left, ``X[i, -1]`` on the right) rather
    than wrapped around: a circular shift would glue the end of the signal to its start, which no real
    translated signal (MNIST-1D's digits, a time series) looks like, and zero padding would create a step
    whenever the signal does not end at 0.

    Parameters
    ----------
    max_shift : int >= 0
        Largest shift, in samples.

    Call
    ----
    X_batch : ndarray of shape (batch, length) (or (batch, ..., length); the last axis is shifted)
    rng : numpy.random.Generator or RandomState
    returns ndarray of the same shape and dtype.
    """

    max_shift: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_shift", check_int("max_shift", self.max_shift, minimum=0))

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        X = _check_batch("shift", X_batch)
        rng = _check_rng("shift", rng)
        batch, length = X.shape[0], X.shape[-1]
        k = _integers(rng, -self.max_shift, self.max_shift, batch)
        source = np.clip(np.arange(length) - k[:, None], 0, length - 1)  # (batch, length)
        source = source.reshape((batch,) + (1,) * (X.ndim - 2) + (length,))
        return np.take_along_axis(X, np.broadcast_to(source, X.shape), axis=-1)


@dataclass(frozen=True)
class Noise:
    """Add Gaussian noise ``N(0, std²)`` independently to every entry.

    Parameters
    ----------
    std : float >= 0
        Standard deviation of the noise (in the units of the features, so usually after standardizing).

    Call
    ----
    X_batch : floating ndarray of shape (batch, n_x)
    rng : numpy.random.Generator or RandomState
    returns ``X_batch + std * standard_normal(X_batch.shape)`` in the dtype of `X_batch`.
    """

    std: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "std", check_float("std", self.std, low=0.0))

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        X = _check_batch("noise", X_batch, min_ndim=1)
        rng = _check_rng("noise", rng)
        if X.dtype.kind != "f":
            raise GradwiseTypeError(
                f"noise: X_batch must hold floats to receive Gaussian noise, got {X.dtype}"
            )
        return (X + self.std * rng.standard_normal(X.shape)).astype(X.dtype, copy=False)


@dataclass(frozen=True)
class Flip:
    """Flip flattened images horizontally (left ↔ right), each with probability `p`.

    Parameters
    ----------
    image_shape : tuple (height, width) or (height, width, channels)
        Shape of one image before it was flattened in C (row-major) order, channels last; each row of
        `X_batch` has ``prod(image_shape)`` features. The width axis (the second) is reversed.
    p : float in [0, 1], default 0.5
        Probability that a given example is flipped.

    Call
    ----
    X_batch : ndarray of shape (batch, height * width * channels)
    rng : numpy.random.Generator or RandomState
    returns ndarray of the same shape and dtype.
    """

    image_shape: tuple[int, ...]
    p: float = 0.5
    _permutation: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = self.image_shape
        if isinstance(shape, str | bytes) or not isinstance(shape, tuple | list):
            raise GradwiseTypeError(f"image_shape must be a tuple (height, width[, channels]), got {shape!r}")
        if len(shape) not in (2, 3):
            raise GradwiseValueError(
                f"image_shape must be (height, width) or (height, width, channels), got {tuple(shape)}"
            )
        shape = tuple(check_int("image_shape", s, minimum=1) for s in shape)
        object.__setattr__(self, "image_shape", shape)
        object.__setattr__(self, "p", check_float("p", self.p, low=0.0, high=1.0))
        # The feature permutation that mirrors one flattened image: computed once, applied by indexing.
        mirror = np.arange(math.prod(shape)).reshape(shape)[:, ::-1].ravel()
        object.__setattr__(self, "_permutation", mirror)

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        X = _check_batch("flip", X_batch)
        rng = _check_rng("flip", rng)
        if X.ndim != 2 or X.shape[1] != len(self._permutation):
            raise GradwiseValueError(
                f"flip: X_batch must have shape (batch, {len(self._permutation)}) for images of shape "
                f"{self.image_shape}, got {X.shape}"
            )
        flipped = uniform(rng, (X.shape[0],)) < self.p
        return np.where(flipped[:, None], X[:, self._permutation], X)


@dataclass(frozen=True)
class Compose:
    """Apply several augmentations in order: ``augs[-1](... augs[0](X, rng) ..., rng)``."""

    augmentations: tuple[Callable[[np.ndarray, RNG], np.ndarray], ...]

    def __post_init__(self) -> None:
        augs = tuple(self.augmentations)
        for i, aug in enumerate(augs):
            if not callable(aug):
                raise GradwiseTypeError(
                    f"compose: augmentation {i} must be callable as aug(X_batch, rng), got {aug!r}"
                )
        object.__setattr__(self, "augmentations", augs)

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        out = X_batch
        for aug in self.augmentations:
            out = aug(out, rng)
        if out is X_batch:  # an empty composition still must not hand back the caller's array
            out = np.array(X_batch, copy=True)
        return out


def shift(max_shift: int) -> Shift:
    """Random shift of a 1-D signal by an integer in ``[-max_shift, max_shift]``, edge-padded.

    See :class:`Shift`.
    """
    return Shift(max_shift)


def noise(std: float) -> Noise:
    """Additive Gaussian noise of standard deviation `std`. See :class:`Noise`."""
    return Noise(std)


def flip(image_shape: tuple[int, ...], p: float = 0.5) -> Flip:
    """Horizontal flip of flattened images with probability `p` per example. See :class:`Flip`."""
    return Flip(tuple(image_shape) if isinstance(image_shape, list) else image_shape, p)


def _listed(image_shape: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """A list given for a shape becomes a tuple; anything else is checked by the transform."""
    return tuple(image_shape) if isinstance(image_shape, list) else image_shape


def translate(image_shape: tuple[int, ...], max_shift: int, fill: float | None = None) -> Translate:
    """Random translation of flattened images by up to `max_shift` pixels each way; outside the frame the
    edge repeats, or `fill`. See :class:`Translate`."""
    return Translate(_listed(image_shape), max_shift, fill)


def rotate(image_shape: tuple[int, ...], max_degrees: float, fill: float | None = None) -> Rotate:
    """Random rotation of flattened images by up to `max_degrees` either way. See :class:`Rotate`."""
    return Rotate(_listed(image_shape), max_degrees, fill)


def distort(image_shape: tuple[int, ...], strength: float, smoothness: float | None = None,
            fill: float | None = None) -> Distort:
    """Elastic distortion of flattened images, displacements up to `strength` pixels. See :class:`Distort`."""
    return Distort(_listed(image_shape), strength, smoothness, fill)


def compose(*augmentations: Callable[[np.ndarray, RNG], np.ndarray]) -> Compose:
    """Chain augmentations, applied left to right. See :class:`Compose`."""
    return Compose(augmentations)
