"""Fully connected layer: Z = X·Wᵀ + b (the course's Z = W·A + b, with examples as rows)."""

from __future__ import annotations

import numpy as np

from .. import initializers
from .._random import RNG
from .._validation import check_int
from ..errors import GradwiseTypeError
from .activations import ReLU
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
    `activation`: the ReLU right after this layer, when the model lets this layer carry it in training
    steps (`Sequential._plan_passes`): forward then returns A = ReLU.apply(Z) written over Z, and backward
    starts with dZ = ReLU.gradient(dA, A) — the ReLU's own formulas, one layer call instead of two.
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
        self._b: np.ndarray | None = None  # the views of b, dW and db, bound with θ and dθ
        self._dW: np.ndarray | None = None
        self._db: np.ndarray | None = None
        self._bufs: tuple = ()  # (Z, dX, ones[, mask, dZ, zeros]) of the last training forward
        self._out: np.ndarray | None = None  # A of the carried ReLU in the last training forward
        self.activation: ReLU | None = None

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
        self._b, self._db = params.get("b"), grads.get("b")  # None without a bias
        self._dW = grads["W"]

    def initialize(self, rng: RNG, input_dim: int) -> None:
        self.params["W"][...] = self.init.draw(rng, self.units, input_dim)
        if self.use_bias:
            self.params["b"][...] = 0.0

    def _make_buffers(self, shape: tuple[int, ...], dtype: np.dtype) -> tuple:
        """(Z, dX, ones) for inputs of `shape` (m, n_{l-1}), plus (mask, dZ, zeros) for a carried ReLU.

        Z and dX are reused across steps, ones serves db = 1ᵀ·dZ.
        """
        m, n_out = shape[0], self.units
        bufs: tuple[np.ndarray, ...] = (np.empty((m, n_out), dtype), np.empty(shape, dtype), np.ones(m, dtype))
        if self.activation is not None:
            bufs += (np.empty((m, n_out), bool), np.empty((m, n_out), dtype), np.zeros((m, n_out), dtype))
        return bufs

    def forward(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        """Z = X Wᵀ + b, shape (m, n_l); A = max(Z, 0) instead when it carries a ReLU in a training step."""
        self._X = X
        WT = self._WT
        assert WT is not None, "Dense used before a model built it"
        if not mode.training:
            Z = X @ WT
            if self.use_bias:
                Z += self.params["b"]
            return Z
        bufs = self._bufs  # the buffers of this batch size serve the backward pass that follows
        if not bufs or bufs[2].shape[0] != X.shape[0] or bufs[2].dtype != X.dtype:
            bufs = self._bufs = self._work.get(X.shape, X.dtype)
        Z = np.dot(X, WT, out=bufs[0]) if self.scratch_output and X.dtype == WT.dtype else X @ WT
        if self._b is not None:
            Z += self._b
        if self.activation is None:
            return Z
        self._out = self.activation.apply(Z, bufs[5], Z)  # Z is not needed again: A overwrites it
        return self._out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """dW = dZᵀ·X, db = Σ_i dZ (dZ already carries the 1/m of the cost), dX = dZ·W.

        dout is dZ, or dA when the layer carries a ReLU (then dZ = ReLU.gradient(dA, A) first).
        """
        bufs = self._bufs
        assert self._X is not None and bufs, "backward before a training forward"
        if self.activation is None:
            dZ = dout
        else:
            assert self._out is not None
            dZ = self.activation.gradient(dout, self._out, bufs[5], bufs[3], bufs[4])
        ones, dX = bufs[2], bufs[1]  # ones and dX share X's dtype and rows
        if len(ones) != len(dZ) or ones.dtype != dZ.dtype:  # a gradient that is not this step's
            ones, dX = np.ones(len(dZ), dZ.dtype), None
        np.dot(dZ.T, self._X, out=self._dW)
        if self._db is not None:
            np.dot(ones, dZ, out=self._db)  # Σ_i dZ as one BLAS product 1ᵀ·dZ
        if not self.input_gradient:
            return None
        W = self.params["W"]
        return np.dot(dZ, W, out=dX) if dZ.dtype == W.dtype else dZ @ W

    def __copy__(self) -> Dense:
        new = super().__copy__()
        assert isinstance(new, Dense)
        new.activation = None  # the model that holds the copy decides what it carries
        return new

    def clear_cache(self) -> None:
        super().clear_cache()
        self._X = None
        self._out = None
        self._bufs = ()

    def get_config(self) -> dict:
        return {"units": self.units, "init": self.init.to_config(), "use_bias": self.use_bias}
