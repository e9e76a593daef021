"""Batch normalization of Z, before the activation, as the seeds describe it."""

from __future__ import annotations

import numpy as np

from .._random import RNG
from .._validation import check_float
from .base import Layer, Mode, ParamSpec


class BatchNorm(Layer):
    """Normalize each unit of Z over the mini-batch, then scale and shift with learned γ, β.

    Training (the seeds' formulas, per unit):
        μ = (1/m) Σ_i z⁽ⁱ⁾,   σ² = (1/m) Σ_i (z⁽ⁱ⁾ − μ)²,
        z_norm = (z − μ) / sqrt(σ² + ε),   z̃ = γ z_norm + β.
    Inference: μ and σ² are exponentially weighted averages over the training mini-batches,
        running = momentum · running + (1 − momentum) · batch value.

    Backward (with x̂ = z_norm, s = 1/sqrt(σ² + ε), g = dz̃ ⊙ γ):
        dγ = Σ_i dz̃ ⊙ x̂,   dβ = Σ_i dz̃,
        dz = (s/m) (m·g − Σ_i g − x̂ Σ_i g ⊙ x̂).
    """

    def __init__(self, momentum: float = 0.9, epsilon: float = 1e-8):
        super().__init__()
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
        self._x_hat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None

    def param_specs(self, input_dim: int) -> list[ParamSpec]:
        return [ParamSpec("gamma", (input_dim,)), ParamSpec("beta", (input_dim,))]

    def buffer_specs(self, input_dim: int) -> list[ParamSpec]:
        return [ParamSpec("running_mean", (input_dim,)), ParamSpec("running_var", (input_dim,))]

    def initialize(self, rng: RNG, input_dim: int) -> None:
        self.params["gamma"][...] = 1.0
        self.params["beta"][...] = 0.0
        self.buffers["running_mean"][...] = 0.0
        self.buffers["running_var"][...] = 1.0

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not mode.training:
            scale = gamma / np.sqrt(self.buffers["running_var"] + self.epsilon)
            return (Z - self.buffers["running_mean"]) * scale + beta
        mu = Z.mean(axis=0)
        centered = Z - mu
        var = np.mean(centered * centered, axis=0)
        inv_std = 1.0 / np.sqrt(var + Z.dtype.type(self.epsilon))
        x_hat = centered * inv_std
        self._x_hat, self._inv_std = x_hat, inv_std
        if mode.update_stats:
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= self.momentum
            rm += (1.0 - self.momentum) * mu
            rv *= self.momentum
            rv += (1.0 - self.momentum) * var
        return x_hat * gamma + beta

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x_hat, inv_std = self._x_hat, self._inv_std
        m = dout.shape[0]
        np.sum(dout * x_hat, axis=0, out=self.grads["gamma"])
        np.sum(dout, axis=0, out=self.grads["beta"])
        g = dout * self.params["gamma"]
        sum_g = g.sum(axis=0)
        sum_gx = np.sum(g * x_hat, axis=0)
        return (inv_std / m) * (m * g - sum_g - x_hat * sum_gx)

    def clear_cache(self) -> None:
        super().clear_cache()
        self._x_hat = self._inv_std = None

    def get_config(self) -> dict:
        return {"momentum": self.momentum, "epsilon": self.epsilon}
