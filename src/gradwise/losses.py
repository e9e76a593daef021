"""Losses, computed stably from the logits Z of the output layer.

Each function returns (J_data, dZ): the mean loss over the m examples and its gradient with respect
to the logits, which already carries the 1/m. Working from logits is what keeps the cost finite where
the course's `log(a)` becomes log(0) = −inf (the "random × 10" initialization).
"""

from __future__ import annotations

import numpy as np

from .layers.activations import row_max, row_sum, sigmoid, softmax

NAMES = ("binary_crossentropy", "categorical_crossentropy", "mse")

#: the output activation each cross-entropy is fused with
OUTPUT_ACTIVATION = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}


def binary_crossentropy(Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """J = −(1/m) Σ [y log σ(z) + (1 − y) log(1 − σ(z))], dJ/dz = (σ(z) − y)/m.

    Rewritten as max(z, 0) − z·y + log(1 + e^{−|z|}), which never takes log(0) nor overflows.

    Z, y : ndarray of shape (m, 1).
    """
    m = Z.shape[0]
    per_example = np.maximum(Z, 0.0) - Z * y + np.log1p(np.exp(-np.abs(Z)))
    dZ = sigmoid(Z)
    dZ -= y
    dZ *= Z.dtype.type(1.0 / m)
    return float(_sum64(per_example) / m), dZ


def categorical_crossentropy(Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """J = −(1/m) Σ_i log softmax(z⁽ⁱ⁾)_{y⁽ⁱ⁾}, dJ/dz = (softmax(z) − onehot(y))/m.

    log softmax is z_y − logsumexp(z), with the row maximum subtracted first.

    Z : ndarray of shape (m, K);  y : integer labels of shape (m,).
    """
    m, k = Z.shape
    flat = np.arange(0, m * k, k) + y  # positions of the true classes in Z.ravel()
    shifted = Z - row_max(Z)
    log_norm = np.log(row_sum(np.exp(shifted)))
    J = float(np.add.reduce(log_norm - shifted.reshape(-1)[flat], dtype=np.float64) / m)
    dZ = softmax(Z)
    dZ.reshape(-1)[flat] -= 1.0
    dZ *= Z.dtype.type(1.0 / m)
    return J, dZ


def sigmoid_binary_crossentropy(Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """`binary_crossentropy(Z, y)` and the output A = σ(Z) in one pass: (J, dZ, A).

    The same NumPy operations as `sigmoid(Z)` followed by `binary_crossentropy(Z, y)` (so the same bits),
    with e^{−|z|}, which both need, computed once: 15 array operations instead of 25 (the training fast
    path; it matters for small networks, where each operation costs more than its arithmetic).
    """
    m = Z.shape[0]
    e = np.exp(-np.abs(Z))
    A = np.where(Z >= 0, 1.0, e) / (1.0 + e)
    per_example = np.maximum(Z, 0.0) - Z * y + np.log1p(e)
    dZ = A - y
    dZ *= Z.dtype.type(1.0 / m)
    return float(_sum64(per_example) / m), dZ, A


def _sum64(a: np.ndarray) -> float:
    """a.sum(dtype=float64): the same pairwise sum, without the dtype argument's cost when a is float64
    already (2 µs of a small network's ~120 µs step)."""
    return np.add.reduce(a, axis=None) if a.dtype == np.float64 else a.sum(dtype=np.float64)


def softmax_crossentropy(Z: np.ndarray, y: np.ndarray, row_starts: np.ndarray | None = None,
                         dZ: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """`categorical_crossentropy(Z, y)` and the output A = softmax(Z) in one pass: (J, dZ, A).

    The same NumPy operations as `softmax(Z)` followed by `categorical_crossentropy(Z, y)` (so the same
    bits), with the shifted logits and their exponentials computed once, not three times.
    `row_starts` (= arange(0, m·K, K)) and `dZ` (an (m, K) array to write dJ/dZ into) may be passed in by
    a caller that reuses them across steps.
    """
    m, k = Z.shape
    if row_starts is None:
        row_starts = np.arange(0, m * k, k)
    flat = row_starts + y
    shifted = Z - row_max(Z)
    A = np.exp(shifted)
    norm = row_sum(A)
    J = float(np.add.reduce(np.log(norm) - shifted.reshape(-1)[flat], dtype=np.float64) / m)
    A /= norm[:, None]
    if dZ is None:
        dZ = A.copy()
    else:
        np.copyto(dZ, A)
    dZ.reshape(-1)[flat] -= 1.0
    dZ *= Z.dtype.type(1.0 / m)
    return J, dZ, A


def mse(A: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """J = (1/m) Σ_i ½ ‖ŷ⁽ⁱ⁾ − y⁽ⁱ⁾‖², dJ/dŷ = (ŷ − y)/m  (the seeds' ½(ŷ − y)² loss).

    A, y : ndarray of shape (m, k).
    """
    m = A.shape[0]
    diff = A - y
    J = float(0.5 * np.sum(diff * diff, dtype=np.float64) / m)
    diff *= A.dtype.type(1.0 / m)
    return J, diff


def probabilities_from_output(loss: str, A: np.ndarray) -> np.ndarray:
    """Class probabilities from the output activations (m, 1) sigmoid → (m, 2)."""
    if loss == "binary_crossentropy":
        p = A[:, 0]
        return np.column_stack([1.0 - p, p])
    return A
