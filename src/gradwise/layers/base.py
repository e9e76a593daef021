"""The small contract every layer follows.

A layer declares the parameters it needs (`param_specs`), receives views into the model's flat θ and dθ
vectors (`bind`), and pairs its `forward` with its `backward` side by side, micrograd-style.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._random import RNG


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its public name suffix (`W`, `b`, `gamma`, `beta`), shape and role."""

    kind: str  # "W", "b", "gamma", "beta"
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Mode:
    """How a forward pass runs.

    training: batch-norm uses batch statistics; dropout: masks are drawn (only when training);
    update_stats: batch-norm running averages move (off for gradient checking).
    """

    training: bool = False
    dropout: bool = False
    update_stats: bool = False
    rng: RNG | None = None


INFERENCE = Mode()

_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}


def ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A shared read-only vector of n ones: sums written as BLAS products (Σ_i x_i = 1ᵀx)."""
    key = (n, np.dtype(dtype))
    vec = _ONES.get(key)
    if vec is None:
        if len(_ONES) > 64:
            _ONES.clear()
        vec = _ONES[key] = np.ones(n, dtype)
        vec.flags.writeable = False
    return vec


class Layer:
    """Base class. Parameter-free layers only implement forward/backward."""

    #: names of the parameter views this layer holds, set by `bind`
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}
        self.index = 0  # number of the Dense layer this layer belongs to (the course's [l])

    # -- construction -------------------------------------------------------------------------
    def output_dim(self, input_dim: int) -> int:
        return input_dim

    def param_specs(self, input_dim: int) -> list[ParamSpec]:
        return []

    def buffer_specs(self, input_dim: int) -> list[ParamSpec]:
        """Non-trainable state saved with the model (batch-norm running averages)."""
        return []

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
             buffers: dict[str, np.ndarray]) -> None:
        self.params, self.grads, self.buffers = params, grads, buffers

    def initialize(self, rng: RNG, input_dim: int) -> None:
        """Fill the parameter views with their initial values."""

    # -- computation --------------------------------------------------------------------------
    def forward(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def clear_cache(self) -> None:
        """Drop references to the last batch (so a saved or idle model holds no activations)."""

    # -- description --------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
