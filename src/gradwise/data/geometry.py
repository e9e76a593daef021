"""Geometric augmentation of flattened images: translation, rotation and elastic distortion.

The seeds: "for images, flip, random position and rotation; in OCR, random rotations and distortions —
not as good as independent new data, but a regularization technique". Each transform moves every output
pixel's sampling point back into the source image (the inverse map) and reads the source there by
bilinear interpolation. Points outside the frame read the nearest edge pixel by default (a signal or a
photograph continues past its frame), or a constant `fill` (the background of a digit that touches the
frame, where repeating the edge would smear its strokes). Every draw comes from the `rng` passed in, so a seeded run is
reproducible; each example gets its own random transform, vectorized over the batch.

Images are rows of `X_batch` of shape (batch, height · width · channels), flattened in C order with the
channels last, as `Flip` takes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._random import RNG, uniform
from .._validation import check_float, check_int
from ..errors import GradwiseTypeError, GradwiseValueError


def check_image_shape(image_shape: object) -> tuple[int, ...]:
    """(height, width) or (height, width, channels) as positive ints, or a clear error."""
    if isinstance(image_shape, str | bytes) or not isinstance(image_shape, tuple | list):
        raise GradwiseTypeError(f"image_shape must be a tuple (height, width[, channels]), got {image_shape!r}")
    if len(image_shape) not in (2, 3):
        raise GradwiseValueError(
            f"image_shape must be (height, width) or (height, width, channels), got {tuple(image_shape)}")
    return tuple(check_int("image_shape", s, minimum=1) for s in image_shape)


def _images(name: str, X_batch: object, image_shape: tuple[int, ...]) -> np.ndarray:
    """X_batch as (batch, height, width, channels), a view; errors name the transform."""
    if not isinstance(X_batch, np.ndarray):
        raise GradwiseTypeError(f"{name}: X_batch must be a numpy array, got {type(X_batch).__name__}")
    size = math.prod(image_shape)
    if X_batch.ndim != 2 or X_batch.shape[1] != size:
        raise GradwiseValueError(f"{name}: X_batch must have shape (batch, {size}) for images of shape "
                                 f"{image_shape}, got {X_batch.shape}")
    h, w = image_shape[0], image_shape[1]
    return X_batch.reshape(X_batch.shape[0], h, w, -1)


def _check_fill(fill: object) -> float | None:
    return None if fill is None else check_float("fill", fill)


def _check_rng(name: str, rng: object) -> RNG:
    if not isinstance(rng, np.random.Generator | np.random.RandomState):
        raise GradwiseTypeError(f"{name}: rng must be a numpy.random.Generator or RandomState, "
                                f"got {type(rng).__name__}")
    return rng


def sample_bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill: float | None = None
                    ) -> np.ndarray:
    """images[b, rows[b, i, j], cols[b, i, j], :] read by bilinear interpolation.

    images : (batch, h, w, c);  rows, cols : (batch, h, w) fractional source coordinates. Points outside the
    frame read the nearest edge pixel, or `fill` when it is given. Returns (batch, h, w, c) in the images' dtype.
    """
    batch, h, w, _ = images.shape
    outside = (rows < 0) | (rows > h - 1) | (cols < 0) | (cols > w - 1) if fill is not None else None
    rows = np.clip(rows, 0.0, h - 1.0)
    cols = np.clip(cols, 0.0, w - 1.0)
    r0 = np.floor(rows).astype(np.intp)
    c0 = np.floor(cols).astype(np.intp)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    fr, fc = (rows - r0)[..., None], (cols - c0)[..., None]
    b = np.arange(batch)[:, None, None]
    top = images[b, r0, c0] * (1.0 - fc) + images[b, r0, c1] * fc
    bottom = images[b, r1, c0] * (1.0 - fc) + images[b, r1, c1] * fc
    out = top * (1.0 - fr) + bottom * fr
    if outside is not None:
        out[outside] = fill
    return out.astype(images.dtype, copy=False)


def _grid(batch: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The output pixels' (row, col) coordinates, each of shape (batch, h, w)."""
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    return np.broadcast_to(rows, (batch, h, w)), np.broadcast_to(cols, (batch, h, w))


@dataclass(frozen=True)
class Translate:
    """Move each image by a random whole number of pixels, up to `max_shift` in each direction.

    out[r, c] = X[r − Δr, c − Δc], with Δr, Δc uniform integers in [−max_shift, max_shift] per example;
    pixels that come from outside the frame repeat the edge, or take the value `fill` when it is given.
    """

    image_shape: tuple[int, ...]
    max_shift: int
    fill: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", check_image_shape(self.image_shape))
        object.__setattr__(self, "max_shift", check_int("max_shift", self.max_shift, minimum=0))
        object.__setattr__(self, "fill", _check_fill(self.fill))

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        images = _images("translate", X_batch, self.image_shape)
        rng = _check_rng("translate", rng)
        span = 2 * self.max_shift + 1
        shifts = np.floor(uniform(rng, (images.shape[0], 2)) * span).astype(np.intp) - self.max_shift
        return self.apply(X_batch, shifts)

    def apply(self, X_batch: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        """The translation by given `shifts` (batch, 2) = (Δrow, Δcol) per example."""
        images = _images("translate", X_batch, self.image_shape)
        batch, h, w, _ = images.shape
        rows, cols = _grid(batch, h, w)
        return sample_bilinear(images, rows - shifts[:, 0, None, None], cols - shifts[:, 1, None, None],
                               self.fill).reshape(X_batch.shape)


@dataclass(frozen=True)
class Rotate:
    """Rotate each image about its centre by a random angle in [−max_degrees, max_degrees].

    A positive angle turns the picture counter-clockwise as it is displayed (rows going down). The inverse
    map reads output pixel (r, c) from the source at R(−θ)·(r − r₀, c − c₀) + (r₀, c₀), bilinearly; `fill`
    as for `Translate`.
    """

    image_shape: tuple[int, ...]
    max_degrees: float
    fill: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", check_image_shape(self.image_shape))
        object.__setattr__(self, "max_degrees",
                           check_float("max_degrees", self.max_degrees, low=0.0, high=180.0))
        object.__setattr__(self, "fill", _check_fill(self.fill))

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        images = _images("rotate", X_batch, self.image_shape)
        rng = _check_rng("rotate", rng)
        degrees = (2.0 * uniform(rng, (images.shape[0],)) - 1.0) * self.max_degrees
        return self.apply(X_batch, degrees)

    def apply(self, X_batch: np.ndarray, degrees: np.ndarray) -> np.ndarray:
        """The rotation by given angles (batch,) in degrees."""
        images = _images("rotate", X_batch, self.image_shape)
        batch, h, w, _ = images.shape
        rows, cols = _grid(batch, h, w)
        r0, c0 = (h - 1) / 2.0, (w - 1) / 2.0
        theta = np.deg2rad(np.asarray(degrees, dtype=np.float64))[:, None, None]
        cos, sin = np.cos(theta), np.sin(theta)
        # display coordinates: x = c − c₀ to the right, y = r₀ − r upwards; the source of (x, y) is R(−θ)(x, y)
        x, y = cols - c0, r0 - rows
        src_x, src_y = cos * x + sin * y, -sin * x + cos * y
        out = sample_bilinear(images, r0 - src_y, c0 + src_x, self.fill)
        return out.reshape(X_batch.shape)


@dataclass(frozen=True)
class Distort:
    """Elastic distortion (Simard, Steinkraus & Platt, 2003), the OCR augmentation of the seeds.

    Each pixel's sampling point moves by a smooth random displacement field: uniform noise in [−1, 1] per
    pixel and direction, smoothed by a Gaussian of standard deviation `smoothness` pixels, scaled so that
    its largest displacement is `strength` pixels; then the image is read bilinearly at the moved points
    (`fill` as for `Translate`).
    """

    image_shape: tuple[int, ...]
    strength: float
    smoothness: float | None = None
    fill: float | None = None

    def __post_init__(self) -> None:
        shape = check_image_shape(self.image_shape)
        object.__setattr__(self, "image_shape", shape)
        object.__setattr__(self, "strength", check_float("strength", self.strength, low=0.0))
        default = max(1.0, min(shape[0], shape[1]) / 7.0)  # 4 px on 28×28 digits, as in the paper's scale
        smooth = default if self.smoothness is None else self.smoothness
        object.__setattr__(self, "smoothness", check_float("smoothness", smooth, low=0.0, low_open=True))
        object.__setattr__(self, "fill", _check_fill(self.fill))

    def __call__(self, X_batch: np.ndarray, rng: RNG) -> np.ndarray:
        from scipy.ndimage import gaussian_filter

        images = _images("distort", X_batch, self.image_shape)
        rng = _check_rng("distort", rng)
        batch, h, w, _ = images.shape
        noise = 2.0 * uniform(rng, (2, batch, h, w)) - 1.0
        field = gaussian_filter(noise, sigma=(0, 0, self.smoothness, self.smoothness), mode="constant")
        largest = np.abs(field).max(axis=(0, 2, 3), keepdims=True)
        field *= self.strength / np.where(largest > 0, largest, 1.0)
        rows, cols = _grid(batch, h, w)
        out = sample_bilinear(images, rows + field[0], cols + field[1], self.fill)
        return out.reshape(X_batch.shape)
