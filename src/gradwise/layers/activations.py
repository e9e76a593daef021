"""Activations g(z) and their derivatives g'(z), side by side (the seeds' "Derivative of activation functions").

Each backward multiplies the incoming dA elementwise by g'(Z) (Softmax by its Jacobian).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float
from .base import Layer, Mode, ones


def sigmoid_terms(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(e^{-|z|}, σ(z)) with σ(z) = 1 / (1 + e^{-z}), computed without overflow for any finite z.

    e^{-|z|} is in (0, 1], so neither branch can overflow: for z ≥ 0 use 1/(1+e^{-z}), for z < 0 the
    equivalent e^{z}/(1+e^{z}). The binary cross-entropy needs e^{-|z|} too, so both are returned.
    """
    e = np.exp(-np.abs(z))
    return e, np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """g(z) = 1 / (1 + e^{-z}) (see `sigmoid_terms`)."""
    return sigmoid_terms(z)[1]


def row_max(z: np.ndarray) -> np.ndarray:
    """max_j z_ij, shape (m, 1).

    With 2–4 columns, the elementwise maximum of the columns: the same values as `z.max(axis=1)`, but one
    or two cheap ufunc calls instead of a reduction, whose setup costs ~3× more on small batches.
    """
    k = z.shape[1]
    if not 2 <= k <= 4:
        return z.max(axis=1, keepdims=True)
    out = np.maximum(z[:, 0:1], z[:, 1:2])
    for j in range(2, k):
        np.maximum(out, z[:, j:j + 1], out=out)
    return out


def row_sum(e: np.ndarray) -> np.ndarray:
    """Σ_j e_ij, shape (m,), as the matrix-vector product e·1 (one BLAS call, cheaper than a reduction)."""
    return np.dot(e, ones(e.shape[1], e.dtype))


def softmax_terms(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z − max_j z, e^{z − max_j z}, Σ_j e^{z − max_j z}): the pieces of softmax and of its cross-entropy.

    Shifting by the row maximum keeps exp from overflowing; softmax(z) = e / Σ_j e.
    """
    shifted = z - row_max(z)
    e = np.exp(shifted)
    return shifted, e, row_sum(e)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax a_k = e^{z_k} / Σ_j e^{z_j} (see `softmax_terms`)."""
    _, e, norm = softmax_terms(z)
    e /= norm[:, None]
    return e


class Activation(Layer):
    """Parameter-free elementwise layer; `_A` keeps its last output for the backward pass."""

    name = "activation"

    def __init__(self) -> None:
        super().__init__()
        self._A: np.ndarray | None = None

    def clear_cache(self) -> None:
        super().clear_cache()
        self._A = None


class Sigmoid(Activation):
    """g(z) = σ(z); g'(z) = σ(z)(1 − σ(z))."""

    name = "sigmoid"

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        self._A = sigmoid(Z)
        return self._A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._A
        assert A is not None  # set by forward
        return dA * A * (1.0 - A)


class Tanh(Activation):
    """g(z) = tanh(z); g'(z) = 1 − tanh²(z)."""

    name = "tanh"

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        self._A = np.tanh(Z)
        return self._A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._A
        assert A is not None  # set by forward
        return dA * (1.0 - A * A)


class ReLU(Activation):
    """g(z) = max(0, z); g'(z) = 1 if z > 0 else 0.

    At exactly z = 0 we use 0, as PyTorch and the course's code (`np.int64(A > 0)`) do; the seeds' note
    writes ≥, which only differs on a set of measure zero. In a training step A, the mask and dZ live in
    buffers reused from step to step (`scratch_output`). A Dense layer right before may carry this layer
    (`Dense.activation`): it then calls `apply` and `gradient` itself, one layer call instead of two.
    """

    name = "relu"

    def __init__(self) -> None:
        super().__init__()
        self._bufs: tuple = ()  # (A, mask, dZ, zeros) when the last forward wrote into reused buffers

    @staticmethod
    def apply(Z: np.ndarray, zeros: np.ndarray | float = 0.0, out: np.ndarray | None = None) -> np.ndarray:
        """A = max(Z, 0), into `out` (which may be Z). Against an array of zeros NumPy runs its SIMD loop."""
        return np.maximum(Z, zeros, out=out)

    @staticmethod
    def gradient(dA: np.ndarray, A: np.ndarray, zeros: np.ndarray | float = 0.0, mask: np.ndarray | None = None,
                 out: np.ndarray | None = None) -> np.ndarray:
        """dZ = dA ⊙ g'(Z). A > 0 exactly where Z > 0 (A = max(Z, 0)), so the mask needs no copy of Z.

        Comparing with an array of zeros rather than the scalar 0 saves NumPy a scalar conversion per call.
        """
        return np.multiply(dA, np.greater(A, zeros, out=mask), out=out)

    def _make_buffers(self, shape: tuple[int, ...], dtype: np.dtype) -> tuple:
        """(A, mask, dZ, zeros); A is None when the layer writes into its input (`scratch_input`)."""
        A = None if self.scratch_input else np.empty(shape, dtype)
        return A, np.empty(shape, bool), np.empty(shape, dtype), np.zeros(shape, dtype)

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        if mode.training and self.scratch_output:
            bufs = self._bufs
            if not bufs or bufs[2].shape != Z.shape or bufs[2].dtype != Z.dtype:
                bufs = self._bufs = self._work.get(Z.shape, Z.dtype)
            self._A = self.apply(Z, bufs[3], Z if bufs[0] is None else bufs[0])
        else:
            self._bufs = ()
            self._A = self.apply(Z)
        return self._A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._A
        assert A is not None, "backward before forward"
        if self._bufs and dA.shape == A.shape and dA.dtype == A.dtype:
            _, mask, dZ, zeros = self._bufs
            return self.gradient(dA, A, zeros, mask, dZ)
        return self.gradient(dA, A)

    def clear_cache(self) -> None:
        super().clear_cache()
        self._bufs = ()


class LeakyReLU(Activation):
    """g(z) = max(slope·z, z); g'(z) = 1 if z > 0 else slope (the seeds use slope 0.01)."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01):
        super().__init__()
        self._positive: np.ndarray | None = None
        self.slope = check_float("slope", slope, low=0.0, high=1.0, high_open=True)

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        self._positive = Z > 0
        return np.where(self._positive, Z, Z * Z.dtype.type(self.slope))

    def backward(self, dA: np.ndarray) -> np.ndarray:
        assert self._positive is not None  # set by forward
        return np.where(self._positive, dA, dA * dA.dtype.type(self.slope))

    def clear_cache(self) -> None:
        super().clear_cache()
        self._positive = None

    def get_config(self) -> dict:
        return {"slope": self.slope}


class Linear(Activation):
    """g(z) = z; g'(z) = 1 (the output of a regression network)."""

    name = "linear"

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        return Z

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA


class Softmax(Activation):
    """a_k = e^{z_k} / Σ_j e^{z_j}; backward applies the Jacobian: dZ = A ⊙ (dA − Σ_k dA_k A_k)."""

    name = "softmax"

    def forward(self, Z: np.ndarray, mode: Mode) -> np.ndarray:
        self._A = softmax(Z)
        return self._A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        A = self._A
        return A * (dA - np.sum(dA * A, axis=1, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Linear, Softmax)
}
