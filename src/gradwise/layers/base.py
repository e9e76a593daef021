"""The small contract every layer follows.

A layer declares the parameters it needs (`param_specs`), receives views into the model's flat θ and dθ
vectors (`bind`), and pairs its `forward` with its `backward` side by side, micrograd-style. The layers'
own forward and backward are the code that runs in training, gradient checking and inference.
"""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class Mode:
    """How a forward pass runs.

    training: batch norm uses batch statistics and layers keep what their backward needs; dropout: masks
    are drawn (only when training); update_stats: batch-norm running averages move (off for gradient
    checking); rng: where dropout masks come from (the model's generator when None).
    """

    training: bool = False
    dropout: bool = False
    update_stats: bool = False
    rng: RNG | None = None


#: inference: running averages, no dropout, nothing kept for a backward pass
INFERENCE = Mode()
#: a training step: batch statistics, dropout on, running averages move
TRAINING = Mode(training=True, dropout=True, update_stats=True)
#: gradient checking: batch statistics as in training, but deterministic and without side effects
CHECKING = Mode(training=True, dropout=False, update_stats=False)


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


class BatchBuffers:
    """Work arrays that a layer reuses from one training step to the next, one set per (rows, dtype).

    A training run sees at most a few batch sizes (the full mini-batch and the last, smaller one), so
    allocating once per size instead of once per step saves the allocation and the page faults. The layer
    keeps the set of its last step and calls `get` only when the batch size or dtype changes.
    """

    MAX_SETS = 4

    def __init__(self, make: Callable[[tuple[int, ...], np.dtype], tuple]):
        self._make = make  # (input shape, dtype) -> a new tuple of arrays
        self._sets: dict[tuple[tuple[int, ...], np.dtype], tuple] = {}

    def get(self, shape: tuple[int, ...], dtype: np.dtype) -> tuple:
        """The arrays for inputs of this shape and dtype, made on first use."""
        arrays = self._sets.get((shape, dtype))
        if arrays is None:
            if len(self._sets) >= self.MAX_SETS:
                self._sets.clear()
            arrays = self._sets[(shape, dtype)] = self._make(shape, dtype)
        return arrays


class Layer:
    """Base class. Parameter-free layers only implement forward/backward.

    Attributes set by the model when it is built:
    params, grads, buffers : dict of views into θ, dθ and the model's buffer vector, by kind (`W`, `b`, …)
    index : int, the number of the Dense layer this layer belongs to (the course's [l])
    scratch_output : bool, True when the output is consumed inside a training step (never returned to a
        caller), so a layer may write it into a reused buffer
    input_gradient : bool, False for the network's first layer with parameters: dX is never needed
    scratch_input : bool, True when the input is a Dense layer's reused buffer that nothing reads after
        this layer, so the layer may overwrite it in place
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.index = 0
        self.scratch_output = False
        self.input_gradient = True
        self.scratch_input = False
        self._work = BatchBuffers(self._make_buffers)

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

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def _make_buffers(self, shape: tuple[int, ...], dtype: np.dtype) -> tuple:
        """The work arrays of a training step on inputs of `shape` (layers that reuse buffers override it)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no work buffers")

    def clear_cache(self) -> None:
        """Drop the last batch and the work buffers (so a saved or idle model holds no activations)."""
        self._work = BatchBuffers(self._make_buffers)

    def __copy__(self) -> Layer:
        # A copy gets its own work buffers: shared ones would be overwritten by the other model's steps.
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.clear_cache()
        return new

    # -- description --------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
