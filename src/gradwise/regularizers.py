"""L2 (weight decay) and L1 penalties on the weights W (never on b, γ, β), scaled as in the seeds.

With m the number of examples in the batch:
    L2:  J += λ/(2m) Σ_l ‖W⁽ˡ⁾‖²_F,     dW⁽ˡ⁾ += (λ/m) W⁽ˡ⁾
    L1:  J += λ/(2m) Σ_l Σ |W⁽ˡ⁾_ij|,   dW⁽ˡ⁾ += (λ/(2m)) sign(W⁽ˡ⁾)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def penalty(weights: Sequence[np.ndarray], m: int, l2: float, l1: float) -> float:
    """The regularization term added to the cost."""
    total = 0.0
    if l2:
        total += l2 / (2.0 * m) * sum(float(np.vdot(W, W)) for W in weights)
    if l1:
        total += l1 / (2.0 * m) * sum(float(np.abs(W).sum(dtype=np.float64)) for W in weights)
    return total


def add_gradient(weights: Sequence[np.ndarray], grads: Sequence[np.ndarray], m: int,
                 l2: float, l1: float) -> None:
    """Add the penalty's gradient to each dW in place."""
    for W, dW in zip(weights, grads, strict=True):
        if l2:
            dW += W.dtype.type(l2 / m) * W
        if l1:
            dW += W.dtype.type(l1 / (2.0 * m)) * np.sign(W)
