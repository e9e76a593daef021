"""Losses, computed stably from the logits Z of the output layer, each fused with its output activation.

Each cross-entropy takes the logits Z and returns (J, dZ, A): the mean loss over the m examples, its
gradient with respect to the logits (which already carries the 1/m), and the output activations — as
PyTorch's `BCEWithLogitsLoss` and `CrossEntropyLoss` do. Working from logits is what keeps the cost
finite where the course's `log(a)` becomes log(0) = −inf (the "random × 10" initialization).
The mean squared error takes the outputs A of a linear (or other) output layer: (J, dA, A).

With per-example weights w (class or sample weights) the data term is PyTorch's weighted mean
J = Σ_i w_i L_i / Σ_i w_i, and example i's gradient is scaled by w_i / Σ_i w_i instead of 1/m.
"""

from __future__ import annotations

import numpy as np

from .layers.activations import sigmoid_terms, softmax_terms
from .layers.base import BatchBuffers

NAMES = ("binary_crossentropy", "categorical_crossentropy", "mse")

#: the output activation each cross-entropy is fused with
OUTPUT_ACTIVATION = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}


def binary_crossentropy(Z: np.ndarray, y: np.ndarray, gradient: bool = True, weights: np.ndarray | None = None
                        ) -> tuple[float, np.ndarray | None, np.ndarray]:
    """J = −(1/m) Σ [y log σ(z) + (1 − y) log(1 − σ(z))], dJ/dz = (σ(z) − y)/m, A = σ(z).

    Rewritten as max(z, 0) − z·y + log(1 + e^{−|z|}), which never takes log(0) nor overflows.

    Z, y : ndarray of shape (m, 1) (or (m, k) independent binary outputs);  weights : (m,), optional.
    """
    m = Z.shape[0]
    e, A = sigmoid_terms(Z)
    per_example = np.maximum(Z, 0.0) - Z * y + np.log1p(e)
    if weights is not None:
        J, scale = _weighted_mean(per_example.sum(axis=1, dtype=np.float64), weights, Z.dtype)
    else:
        J, scale = float(_sum64(per_example) / m), Z.dtype.type(1.0 / m)
    if not gradient:
        return J, None, A
    dZ = A - y
    dZ *= scale
    return J, dZ, A


def categorical_crossentropy(Z: np.ndarray, y: np.ndarray, gradient: bool = True,
                             row_starts: np.ndarray | None = None, out: np.ndarray | None = None,
                             weights: np.ndarray | None = None) -> tuple[float, np.ndarray | None, np.ndarray]:
    """J = −(1/m) Σ_i log softmax(z⁽ⁱ⁾)_{y⁽ⁱ⁾}, dJ/dz = (softmax(z) − onehot(y))/m, A = softmax(z).

    log softmax is z_y − logsumexp(z), with the row maximum subtracted first.

    Z : ndarray of shape (m, K);  y : integer labels of shape (m,);  weights : (m,), optional.
    row_starts (= arange(0, m·K, K)) and out (an (m, K) array for dZ) may be passed in by a caller that
    reuses them across steps.
    """
    m, k = Z.shape
    if row_starts is None:
        row_starts = np.arange(0, m * k, k)
    flat = row_starts + y  # positions of the true classes in Z.ravel()
    shifted, A, norm = softmax_terms(Z)
    per_example = np.log(norm) - shifted.reshape(-1)[flat]
    if weights is not None:
        J, scale = _weighted_mean(per_example.astype(np.float64), weights, Z.dtype)
    else:
        J, scale = float(np.add.reduce(per_example, dtype=np.float64) / m), Z.dtype.type(1.0 / m)
    A /= norm[:, None]
    if not gradient:
        return J, None, A
    if out is None:
        dZ = A.copy()
    else:
        dZ = out
        np.copyto(dZ, A)
    dZ.reshape(-1)[flat] -= 1.0
    dZ *= scale
    return J, dZ, A


def mse(A: np.ndarray, y: np.ndarray, gradient: bool = True, weights: np.ndarray | None = None
        ) -> tuple[float, np.ndarray | None, np.ndarray]:
    """J = (1/m) Σ_i ½ ‖ŷ⁽ⁱ⁾ − y⁽ⁱ⁾‖², dJ/dŷ = (ŷ − y)/m  (the seeds' ½(ŷ − y)² loss); A is returned as is.

    A, y : ndarray of shape (m, k);  weights : (m,), optional.
    """
    m = A.shape[0]
    diff = A - y
    if weights is not None:
        J, scale = _weighted_mean(np.asarray(0.5 * np.sum(diff * diff, axis=1, dtype=np.float64)), weights, A.dtype)
    else:
        J, scale = float(0.5 * np.sum(diff * diff, dtype=np.float64) / m), A.dtype.type(1.0 / m)
    if not gradient:
        return J, None, A
    diff *= scale
    return J, diff, A


def _weighted_mean(per_example: np.ndarray, weights: np.ndarray, dtype: np.dtype) -> tuple[float, np.ndarray]:
    """(Σ_i w_i L_i / Σ_i w_i, the column w_i / Σ_i w_i that scales each example's gradient)."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    return float(np.dot(w, per_example) / total), (w / total).astype(dtype)[:, None]


def _sum64(a: np.ndarray) -> float:
    """a.sum(dtype=float64), without the dtype argument's cost when a is float64 already."""
    return np.add.reduce(a, axis=None) if a.dtype == np.float64 else a.sum(dtype=np.float64)


class Loss:
    """A model's loss: `loss(out, y, gradient, weights)` → (J, d out, A).

    `out` is the input of the output activation (the logits) for a cross-entropy, whose activation the
    loss computes itself (`fused`); for mse it is the network's output A. `compute` is the function itself,
    picked once (a training step calls it directly).
    """

    def __init__(self, name: str):
        self.name = name
        self.fused = name in OUTPUT_ACTIVATION
        self._work = BatchBuffers(_softmax_buffers)  # softmax: row starts and dZ, reused from step to step
        self._bufs: tuple = ()  # the set of the last call
        self.compute = {"binary_crossentropy": binary_crossentropy, "mse": mse}.get(name, self._categorical)

    def __call__(self, out: np.ndarray, y: np.ndarray, gradient: bool = True, weights: np.ndarray | None = None
                 ) -> tuple[float, np.ndarray | None, np.ndarray]:
        return self.compute(out, y, gradient, weights)

    def _categorical(self, out: np.ndarray, y: np.ndarray, gradient: bool = True,
                     weights: np.ndarray | None = None) -> tuple[float, np.ndarray | None, np.ndarray]:
        bufs = self._bufs
        if not bufs or bufs[1].shape != out.shape or bufs[1].dtype != out.dtype:
            bufs = self._bufs = self._work.get(out.shape, out.dtype)
        return categorical_crossentropy(out, y, gradient, bufs[0], bufs[1], weights)


def _softmax_buffers(shape: tuple[int, ...], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(row starts arange(0, m·K, K), an (m, K) array for dZ) for logits of `shape` (m, K)."""
    m, k = shape
    return np.arange(0, m * k, k), np.empty(shape, dtype)


def probabilities_from_output(loss: str, A: np.ndarray) -> np.ndarray:
    """Class probabilities from the output activations (m, 1) sigmoid → (m, 2)."""
    if loss == "binary_crossentropy":
        p = A[:, 0]
        return np.column_stack([1.0 - p, p])
    return A
