"""Small argument checks shared by the public entry points. Each error names the argument and the value."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, cast

import numpy as np

from .errors import GradwiseTypeError, GradwiseValueError

if TYPE_CHECKING:
    from numpy.typing import DTypeLike


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return `value` as an int, rejecting bools, floats with a fraction and values below `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise GradwiseTypeError(f"{name} must be an integer, got {_short(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise GradwiseValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_float(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return `value` as a finite float inside the given interval (open or closed at each end)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GradwiseTypeError(f"{name} must be a number, got {_short(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise GradwiseValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise GradwiseValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise GradwiseValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def check_choice(name: str, value: object, choices: list[str] | tuple[str, ...]) -> str:
    """Return the lower-cased name if it is one of `choices`."""
    if not isinstance(value, str):
        raise GradwiseTypeError(f"{name} must be one of {list(choices)}, got {_short(value)}")
    key = value.lower()
    if key not in choices:
        raise GradwiseValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return key


def check_dtype(dtype: object) -> np.dtype:
    """float32 and float64 are the two supported precisions."""
    try:
        result = np.dtype(cast("DTypeLike", dtype))  # anything else raises TypeError, reported below
    except TypeError as exc:
        raise GradwiseTypeError(f"dtype must be float32 or float64, got {_short(dtype)}") from exc
    if result not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise GradwiseValueError(f"dtype must be float32 or float64, got {result}")
    return result


def all_finite(arr: np.ndarray) -> bool:
    """Whether every entry is finite, without the m×n temporary of ``np.isfinite(X).all()``.

    A sum is finite exactly when no entry is inf/NaN — unless finite entries overflow it; only then are the
    entries checked one by one. (Summed in the array's own dtype: a float64 accumulator would cast every
    float32 entry through a buffer.) The sum may overflow: call it under
    ``np.errstate(over="ignore", invalid="ignore")`` (training's hot loop already runs under one).
    """
    return bool(np.isfinite(np.add.reduce(arr, axis=None))) or bool(np.isfinite(arr).all())


def as_2d_float(name: str, X: object, dtype: np.dtype, *, n_features: int | None = None) -> np.ndarray:
    """Validate a design matrix: numeric, 2-D (a 1-D array is one feature), non-empty, finite."""
    if isinstance(X, str | bytes):
        raise GradwiseTypeError(f"{name} must be an array of numbers, got a string")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise GradwiseValueError(f"{name} could not be read as an array: {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        _check_frame_numeric(name, X)
        raise GradwiseTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise GradwiseTypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise GradwiseValueError(f"{name} must be 2-D of shape (m, n_x), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise GradwiseValueError(f"{name} is empty: shape {arr.shape}")
    if arr.shape[1] == 0:
        raise GradwiseValueError(f"{name} has no features: shape {arr.shape}")
    original = arr
    # A finite float64 such as 1e300 becomes inf in float32: report it as out of range, not as a
    # NumPy overflow warning followed by a misleading "got inf".
    with np.errstate(over="ignore", invalid="ignore"):
        arr = np.ascontiguousarray(arr, dtype=dtype)
        finite = all_finite(arr)
    if not finite:
        bad = tuple(np.argwhere(~np.isfinite(arr))[0])
        given = original[bad]
        if np.isfinite(given):
            hint = " or use dtype='float64'" if dtype != np.float64 else ""
            raise GradwiseValueError(
                f"{name} holds {str(given)} at row {bad[0]}, column {bad[1]}, beyond the {dtype} range "
                f"(±{np.finfo(dtype).max:.3g}); rescale the data{hint}"
            )
        raise GradwiseValueError(f"{name} must be finite, got {given} at row {bad[0]}, column {bad[1]}")
    if n_features is not None and arr.shape[1] != n_features:
        raise GradwiseValueError(f"{name} has {arr.shape[1]} features, but the model expects {n_features}")
    return arr


def _check_frame_numeric(name: str, X: object) -> None:
    """A DataFrame with text columns: say which, and what takes them (a column plan)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return
    text = [str(c) for c, t in zip(X.columns, dtypes, strict=True) if getattr(t, "kind", "O") not in "biuf"]
    if text:
        raise GradwiseTypeError(
            f"{name} is a DataFrame with non-numeric column(s) {text[:5]}: give the model a column plan "
            f"(model.preprocessor = gw.Preprocessor().fit(train_frame)), or put gw.Preprocessor() before the "
            f"estimator in a Pipeline")
