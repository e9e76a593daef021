"""Fully connected layer: Z = X·Wᵀ + b (the course's Z = W·A + b, with examples as rows)."""

from __future__ import annotations

import numpy as np

from .. import initializers
from .._random import RNG
from .._validation import check_int
from ..errors import GradwiseTypeError
from .base import Layer, Mode, ParamSpec, ones


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
    """

    def __init__(self, units: int, init: str | initializers.Initializer = "he", use_bias: bool = True):
        super().__init__()
        self.units = check_int("units", units, minimum=1)
        self.init = initializers.get(init)
        if not isinstance(use_bias, bool | np.bool_):  # bool("no") would silently be True
            raise GradwiseTypeError(f"use_bias must be True or False, got {use_bias!r}")
        self.use_bias = bool(use_bias)
        self._X: np.ndarray | None = None

    def output_dim(self, input_dim: int) -> int:
        return self.units

    def param_specs(self, input_dim: int) -> list[ParamSpec]:
        specs = [ParamSpec("W", (self.units, input_dim))]
        if self.use_bias:
            specs.append(ParamSpec("b", (self.units,)))
        return specs

    def initialize(self, rng: RNG, input_dim: int) -> None:
        self.params["W"][...] = self.init.draw(rng, self.units, input_dim)
        if self.use_bias:
            self.params["b"][...] = 0.0

    def forward(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        """Z = X Wᵀ + b, shape (m, n_l)."""
        self._X = X
        Z = X @ self.params["W"].T
        if self.use_bias:
            Z += self.params["b"]
        return Z

    def backward(self, dZ: np.ndarray) -> np.ndarray:
        """dW = dZᵀ·X, db = Σ_i dZ (dZ already carries the 1/m of the cost), dX = dZ·W."""
        np.matmul(dZ.T, self._X, out=self.grads["W"])
        if self.use_bias:
            # Σ_i dZ as the product 1ᵀ·dZ: one BLAS call, a third of a reduction's cost on small batches
            np.dot(ones(dZ.shape[0], dZ.dtype), dZ, out=self.grads["b"])
        return dZ @ self.params["W"]

    def clear_cache(self) -> None:
        self._X = None

    def get_config(self) -> dict:
        return {"units": self.units, "init": self.init.to_config(), "use_bias": self.use_bias}
