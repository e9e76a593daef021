"""Inverted dropout (the seeds' four steps), active only in training."""

from __future__ import annotations

import numpy as np

from .._random import uniform
from .._validation import check_float
from .base import Layer, Mode


class Dropout(Layer):
    """Shut down each unit with probability 1 − keep_prob and scale the survivors by 1/keep_prob.

    Forward (training):  D = (rand(A.shape) < keep_prob);  A = A ⊙ D / keep_prob.
    Backward:            dA = dA ⊙ D / keep_prob  (the same mask, the same scaling).
    At inference the layer is the identity: "do not use dropout at test time".
    """

    def __init__(self, keep_prob: float = 0.5):
        super().__init__()
        self.keep_prob = check_float("keep_prob", keep_prob, low=0.0, high=1.0, low_open=True)
        self._mask: np.ndarray | None = None

    def forward(self, A: np.ndarray, mode: Mode) -> np.ndarray:
        if not (mode.training and mode.dropout) or self.keep_prob == 1.0:
            self._mask = None
            return A
        assert mode.rng is not None  # the model puts its generator into a training Mode
        keep = uniform(mode.rng, A.shape) < self.keep_prob
        # One array holds both the mask and the 1/keep_prob scaling: D / keep_prob.
        self._mask = keep.astype(A.dtype)
        self._mask *= A.dtype.type(1.0 / self.keep_prob)
        return A * self._mask

    def backward(self, dA: np.ndarray) -> np.ndarray:
        if self._mask is None:
            return dA
        return dA * self._mask

    def clear_cache(self) -> None:
        super().clear_cache()
        self._mask = None

    def get_config(self) -> dict:
        return {"keep_prob": self.keep_prob}
