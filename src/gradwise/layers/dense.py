"""Fully connected layer: Z = X·Wᵀ + b (the course's Z = W·A + b, with examples as rows)."""

from __future__ import annotations

import numpy as np

from .. import initializers
from .._random import RNG
from .._validation import check_int
from ..errors import GradwiseTypeError
from .base import Layer, Mode, ParamSpec


class Dense(Layer):
    """Affine layer with `units` outputs; its input size is inferred when the model is built.

    Parameters
    ----------
    units : int
        n_l, the number of units.
    init : str or Initializer
        One of `zeros`, `random`, `he`, `xavier`, `glorot` (see `gradwise.initializers`).
    use_bias : bool
        Set False before batch norm, whose β makes b redundant (the course drops b there).

    Shapes: W is (n_l, n_{l-1}) like the course and `torch.nn.Linear.weight`, b is (n_l,).
    In a training step Z and dX are written into buffers reused from step to step (`scratch_output`).
    """

    def __init__(self, units: int, init: str | initializers.Initializer = "he", use_bias: bool = True):
        super().__init__()
        self.units = check_int("units", units, minimum=1)
        self.init = initializers.get(init)
        if not isinstance(use_bias, bool | np.bool_):  # bool("no") would silently be True
            raise GradwiseTypeError(f"use_bias must be True or False, got {use_bias!r}")
        self.use_bias = bool(use_bias)
        self._X: np.ndarray | None = None
        self._WT: np.ndarray | None = None  # a view of W's view: follows every update of θ
        self._bufs: tuple = ()  # (Z, dX, ones) of the last training forward

    def output_dim(self, input_dim: int) -> int:
        return self.units

    def param_specs(self, input_dim: int) -> list[ParamSpec]:
        specs = [ParamSpec("W", (self.units, input_dim))]
        if self.use_bias:
            specs.append(ParamSpec("b", (self.units,)))
        return specs

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
             buffers: dict[str, np.ndarray]) -> None:
        super().bind(params, grads, buffers)
        self._WT = params["W"].T

    def initialize(self, rng: RNG, input_dim: int) -> None:
        self.params["W"][...] = self.init.draw(rng, self.units, input_dim)
        if self.use_bias:
            self.params["b"][...] = 0.0

    def _buffers(self, m: int, dtype: np.dtype) -> tuple:
        """(Z, dX, ones) for a batch of m rows: Z and dX reused across steps, ones for db = 1ᵀ·dZ."""
        bufs = self._work.current((m,), dtype)
        if bufs is None:
            n_out, n_in = self.params["W"].shape
            bufs = self._work.store((m,), dtype, (np.empty((m, n_out), dtype), np.empty((m, n_in), dtype),
                                                  np.ones(m, dtype)))
        return bufs

    def forward(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        """Z = X Wᵀ + b, shape (m, n_l)."""
        self._X = X
        WT = self._WT
        assert WT is not None, "Dense used before a model built it"
        if mode.training:  # the buffers of this batch size serve the backward pass that follows
            bufs = self._bufs
            if not bufs or bufs[2].shape[0] != X.shape[0] or bufs[2].dtype != X.dtype:
                bufs = self._bufs = self._buffers(X.shape[0], X.dtype)
            Z = np.dot(X, WT, out=bufs[0]) if self.scratch_output and X.dtype == WT.dtype else X @ WT
        else:
            Z = X @ WT
        if self.use_bias:
            Z += self.params["b"]
        return Z

    def backward(self, dZ: np.ndarray) -> np.ndarray | None:
        """dW = dZᵀ·X, db = Σ_i dZ (dZ already carries the 1/m of the cost), dX = dZ·W."""
        _, dX, ones = self._bufs
        if ones.shape[0] != dZ.shape[0] or ones.dtype != dZ.dtype:
            _, dX, ones = self._bufs = self._buffers(dZ.shape[0], dZ.dtype)
        assert self._X is not None, "backward before forward"
        grads = self.grads
        np.dot(dZ.T, self._X, out=grads["W"])
        if self.use_bias:
            np.dot(ones, dZ, out=grads["b"])  # Σ_i dZ as one BLAS product 1ᵀ·dZ
        if not self.input_gradient:
            return None
        W = self.params["W"]
        return np.dot(dZ, W, out=dX) if dZ.dtype == W.dtype else dZ @ W

    def clear_cache(self) -> None:
        super().clear_cache()
        self._X = None
        self._bufs = ()

    def get_config(self) -> dict:
        return {"units": self.units, "init": self.init.to_config(), "use_bias": self.use_bias}
