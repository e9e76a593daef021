"""Input normalization: zero mean and unit variance per feature, learned on the training set only.

The seeds' recipe ("Normalizing inputs"):

1. subtract the mean: ``μ = (1/m) Σ_i x⁽ⁱ⁾``, ``x := x − μ``;
2. normalize the variance: ``σ² = (1/m) Σ_i (x⁽ⁱ⁾)²`` (computed on the already-centred x), ``x := x / σ``;
3. use the **same μ and σ** (those of the training set) to normalize the dev and test sets.

So ``x_norm = (x − μ) / σ``. Two of the seeds write "divide by σ²" (``X /= σ²``, ``X = X / variance``) and one
writes ``x / σ``; dividing by σ is the one that gives every feature unit variance (dividing by σ² leaves the
variance at ``1/σ²``), and it is what the lecture's final formula ``(x − μ)/σ`` and scikit-learn's
``StandardScaler`` do. Normalized features make the cost's level sets rounder, which allows a larger
learning rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_2d_float
from ..errors import GradwiseTypeError, GradwiseValueError

__all__ = ["Standardizer"]


class Standardizer:
    """Per-feature standardization ``x_norm = (x − μ) / σ`` fitted on the training set.

    ``μ`` is the training mean and ``σ`` the training standard deviation (population, ``1/m``) of each
    feature. A constant feature (σ = 0, or σ negligible next to |μ|) gets ``scale_ = 1`` instead of a
    division by zero: it becomes 0 after centring, which is the right value for an uninformative input.

    Attributes
    ----------
    mean_ : ndarray of shape (n_x,)
        μ, the training mean of each feature (float64).
    scale_ : ndarray of shape (n_x,)
        σ, the training standard deviation of each feature (float64; 1 for constant features).
    n_features_in_ : int
        n_x, the number of features seen by :meth:`fit`.

    Examples
    --------
    >>> import json
    >>> X_train, X_dev = np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[2.0, 40.0]])
    >>> scaler = Standardizer().fit(X_train)          # μ, σ from the training set only
    >>> scaler.transform(X_train)                      # mean 0, std 1
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> scaler.transform(X_dev)                        # the same μ, σ
    array([[0., 2.]])
    >>> text = json.dumps(scaler.to_dict())            # saved next to the model
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_features_in_: int | None = None

    def __repr__(self) -> str:
        if self.mean_ is None:
            return "Standardizer()"
        return f"Standardizer(n_features_in_={self.n_features_in_})"

    @property
    def is_fitted(self) -> bool:
        return self.mean_ is not None

    # scikit-learn's clone() and Pipeline only need these two: the Standardizer has no hyperparameters.
    def get_params(self, deep: bool = True) -> dict:
        return {}

    def set_params(self, **params) -> Standardizer:
        if params:
            raise GradwiseValueError(f"Standardizer has no parameters, got {sorted(params)}")
        return self

    def fit(self, X: object, y: object = None) -> Standardizer:
        """Learn μ and σ from the training examples.

        Parameters
        ----------
        X : array-like of shape (m, n_x)
            Training examples only; fitting on dev or test data would leak them into the model.
        y : ignored
            Accepted so the Standardizer can be a step of a scikit-learn `Pipeline`.

        Returns
        -------
        self
        """
        X_arr = as_2d_float("X", X, np.dtype(np.float64))
        # Scale each column by a power of two near its largest |x| (exact: bit-identical μ, σ for
        # ordinary data), so squaring neither overflows (|x| ~ 1e200) nor underflows to 0 (|x| ~ 1e-200).
        _, exponent = np.frexp(np.abs(X_arr).max(axis=0))
        scaled = np.ldexp(X_arr, -exponent)
        mean_s = scaled.mean(axis=0)
        std = np.ldexp(np.sqrt(((scaled - mean_s) ** 2).mean(axis=0)), exponent)  # σ² = (1/m) Σ (x − μ)²
        mean = np.ldexp(mean_s, exponent)
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
        # A summed mean of identical values can be off by an ulp; take the value itself so it maps to 0.
        mean = np.where((X_arr == X_arr[0]).all(axis=0), X_arr[0], mean)
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)
        self.n_features_in_ = int(X_arr.shape[1])
        return self

    def transform(self, X: object, copy: bool = True) -> np.ndarray:
        """Return ``(X − μ) / σ`` with the fitted training μ, σ.

        Parameters
        ----------
        X : array-like of shape (m, n_x)
        copy : bool, default True
            False: a writable, C-contiguous 2-D float32 or float64 ndarray `X` is standardized in place and
            returned (no second (m, n_x) array: for a large encoded table that nothing reads raw again); any
            other `X` is converted to a new array as with True (scikit-learn's ``StandardScaler`` has the
            same ``copy``).

        Returns
        -------
        ndarray of shape (m, n_x)
            float32 if `X` is float32, else float64; the same numbers either way. With `copy=True` `X`
            itself is not modified.
        """
        in_place = (not copy and isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.writeable
                    and X.flags.c_contiguous and X.dtype in (np.float32, np.float64))
        if isinstance(X, np.ndarray) and X.dtype == np.float32 and self.mean_ is not None:
            return self._transform_float32(X, in_place)
        X_arr, dtype = self._check_input("transform", X)
        out = X_arr if in_place else X_arr - self.mean_
        if in_place:
            out -= self.mean_
        out /= self.scale_  # in place: one (m, n_x) temporary, not two
        return out.astype(dtype, copy=False)

    def _transform_float32(self, X: np.ndarray, in_place: bool = False) -> np.ndarray:
        """float32 in, float32 out, computed in float64 block by block (the same numbers as a float64
        copy of the whole of X would give, without that copy: large tables train in float32 for memory);
        `in_place`: each block written back into X."""
        X_arr = as_2d_float("X", X, np.dtype(np.float32))
        if X_arr.shape[1] != self.n_features_in_:
            raise GradwiseValueError(
                f"X has {X_arr.shape[1]} features, but the Standardizer was fitted on {self.n_features_in_}")
        out = X if in_place else np.empty(X_arr.shape, dtype=np.float32)
        assert self.mean_ is not None and self.scale_ is not None  # fitted: n_features_in_ was checked
        step = max(1, (1 << 22) // X_arr.shape[1])  # about 4M entries (32 MB in float64) per block
        for start in range(0, X_arr.shape[0], step):
            block = X_arr[start:start + step].astype(np.float64)
            block -= self.mean_
            block /= self.scale_
            out[start:start + step] = block
        return out

    def fit_transform(self, X: object, y: object = None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: the standardized training set (mean 0, std 1 per feature)."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: object) -> np.ndarray:
        """Undo :meth:`transform`: ``X_norm · σ + μ``. Shape (m, n_x) in, shape (m, n_x) out."""
        X_arr, dtype = self._check_input("inverse_transform", X)
        return (X_arr * self.scale_ + self.mean_).astype(dtype, copy=False)

    def _check_input(self, method: str, X: object) -> tuple[np.ndarray, np.dtype]:
        if self.mean_ is None:
            raise GradwiseValueError(f"Standardizer.{method} was called before fit: call fit(X_train) first")
        dtype = getattr(X, "dtype", None)
        dtype = np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)
        X_arr = as_2d_float("X", X, np.dtype(np.float64))
        if X_arr.shape[1] != self.n_features_in_:
            raise GradwiseValueError(
                f"X has {X_arr.shape[1]} features, but the Standardizer was fitted on {self.n_features_in_}"
            )
        return X_arr, dtype

    # ---------------------------------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (exact: floats round-trip through JSON)."""
        if self.mean_ is None:
            raise GradwiseValueError("Standardizer.to_dict was called before fit: nothing to save")
        assert self.scale_ is not None  # fit and from_dict set mean_ and scale_ together
        return {
            "type": "Standardizer",
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
        }

    @classmethod
    def from_dict(cls, data: object) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`to_dict`'s output."""
        if not isinstance(data, dict):
            raise GradwiseTypeError(f"Standardizer.from_dict expects a dict, got {type(data).__name__}")
        if data.get("type", "Standardizer") != "Standardizer":
            raise GradwiseValueError(f"not a Standardizer description: type {data.get('type')!r}")
        missing = [key for key in ("mean", "scale") if key not in data]
        if missing:
            raise GradwiseValueError(f"Standardizer description is missing {missing}; it has {sorted(data)}")
        try:
            mean = np.asarray(data["mean"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GradwiseValueError(f"Standardizer description holds non-numeric values: {exc}") from exc
        if mean.ndim != 1 or scale.shape != mean.shape or mean.size == 0:
            raise GradwiseValueError(
                f"Standardizer description needs 'mean' and 'scale' of equal length >= 1, got "
                f"{mean.shape} and {scale.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise GradwiseValueError(
                "Standardizer description needs finite 'mean' and finite positive 'scale'"
            )
        obj = cls()
        obj.mean_, obj.scale_, obj.n_features_in_ = mean, scale, int(mean.size)
        return obj
