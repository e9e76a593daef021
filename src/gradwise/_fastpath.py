"""The training pass of a `Sequential`, compiled into fused steps that reuse their work buffers.

`Sequential.loss_and_gradient` is the inner loop of training. For the course's tiny networks its cost
is Python and NumPy call overhead; for wide ones it is the matrix products plus whatever allocates or
streams memory around them. Running each layer's own forward/backward is clear but pays for both. A
`Plan` computes *the same numbers with the same NumPy operations in the same order* (bit-identical to
the layer-by-layer pass; tests/engine/test_fastpath.py checks it) while

- fusing Dense → ReLU (or Linear): Z = X·Wᵀ is written into a buffer reused from step to step (one set
  per batch size), b is added and max(Z, 0) applied in place: no temporaries, no per-layer lookups;
- fusing the output activation with its cross-entropy: softmax/sigmoid computed once, not twice;
- writing dW = dZᵀ·X straight into the gradient view, dX = dZ·W into a reused buffer;
- skipping dX of the first layer (the gradient with respect to the data is never used: ~1/6 of the
  matrix work of a wide first layer) and the backward of parameter-free layers in front of it;
- falling back to a layer's own forward/backward for everything else (Dropout, BatchNorm, the other
  activations, any subclass), so every network trains exactly as it would layer by layer.

Only arrays that never leave the pass are reused; the output activations A that `loss_and_gradient`
returns are always fresh arrays.
"""

from __future__ import annotations

import numpy as np

from . import losses
from .layers import Dense, Layer, Linear, Mode, ReLU, Sigmoid, Softmax
from .layers.base import ones

_MAX_SIZES = 4  # batch sizes whose buffers are kept (a mini-batch run needs two: full and last)


class _DenseStep:
    """Dense (exactly), optionally fused with the ReLU or Linear layer that follows it."""

    def __init__(self, dense: Dense, relu: bool, first: bool, fresh_output: bool):
        self.W = dense.params["W"]
        self.b = dense.params.get("b") if dense.use_bias else None
        self.dW = dense.grads["W"]
        self.db = dense.grads.get("b") if dense.use_bias else None
        self.relu = relu
        self.first = first  # the gradient with respect to this step's input is never needed
        self.fresh_output = fresh_output  # the output leaves the pass: never a reused buffer
        self.has_params = True
        self.WT = self.W.T  # a view of the view: follows every update of θ
        self.buffers: dict[tuple[int, np.dtype], tuple] = {}
        self.m, self.dtype = -1, None  # the batch size and dtype the buffers below are for
        self.X: np.ndarray | None = None
        self.A: np.ndarray | None = None

    def _use(self, m: int, dtype: np.dtype) -> None:
        """Select (allocating once) the work buffers of batch size m."""
        bufs = self.buffers.get((m, dtype))
        if bufs is None:
            if len(self.buffers) >= _MAX_SIZES:
                self.buffers.clear()
            n_out, n_in = self.W.shape
            bufs = self.buffers[(m, dtype)] = (
                np.empty((m, n_out), dtype),  # Z, then A = max(Z, 0) in place
                np.empty((m, n_out), dtype),  # dZ
                np.empty((m, n_out), bool) if self.relu else None,  # A > 0
                None if self.first else np.empty((m, n_in), dtype),  # dX
                ones(m, dtype) if self.db is not None else None,  # for db = 1ᵀ·dZ
                # max(Z, 0) against an array of zeros: NumPy's SIMD loop, ~3× faster than against a
                # broadcast scalar 0 on small arrays (the course's networks), same values
                np.zeros((m, n_out), dtype) if self.relu else None,
            )
        self.Zb, self.dZb, self.maskb, self.dXb, self.onesb, self.zerosb = bufs
        self.m, self.dtype = m, dtype

    def forward(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        """Z = X Wᵀ + b, then A = max(Z, 0) in place if fused with a ReLU."""
        self.X = X
        m, dtype = X.shape[0], X.dtype
        if m != self.m or dtype != self.dtype:
            self._use(m, dtype)
        if self.fresh_output or dtype != self.W.dtype:
            Z = X @ self.WT
        else:
            Z = np.dot(X, self.WT, out=self.Zb)
        if self.b is not None:
            Z += self.b
        if self.relu:
            np.maximum(Z, self.zerosb, out=Z)
        self.A = Z
        return Z

    def backward(self, dA: np.ndarray) -> np.ndarray | None:
        """dZ = dA ⊙ [A > 0] (ReLU), dW = dZᵀ X, db = Σ_i dZ, dX = dZ W (unless first)."""
        if dA.shape[0] != self.m or dA.dtype != self.dtype:
            self._use(dA.shape[0], dA.dtype)
        if self.relu:
            # A > 0 exactly where Z > 0 (A = max(Z, 0)), so the mask needs no copy of Z
            dZ = np.multiply(dA, np.greater(self.A, 0, out=self.maskb), out=self.dZb)
        else:
            dZ = dA
        np.dot(dZ.T, self.X, out=self.dW)
        if self.db is not None:
            np.dot(self.onesb, dZ, out=self.db)  # Σ_i dZ as 1ᵀ·dZ, as Dense.backward computes it
        if self.first:
            return None
        return np.dot(dZ, self.W, out=self.dXb)

    def clear(self) -> None:
        self.X = self.A = None
        self.buffers.clear()
        self.m, self.dtype = -1, None
        self.Zb = self.dZb = self.maskb = self.dXb = self.onesb = self.zerosb = None


class _LayerStep:
    """Any other layer: its own forward and backward."""

    def __init__(self, layer: Layer):
        self.layer = layer
        self.has_params = bool(layer.params)
        self.first = False

    def forward(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        return self.layer.forward(X, mode)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return self.layer.backward(dA)

    def clear(self) -> None:
        self.layer.clear_cache()


class Plan:
    """`model.loss_and_gradient` without regularization, compiled for one built model.

    Valid while the model keeps the same θ and the same layer objects (`matches`).
    """

    def __init__(self, model):
        self.theta = model.theta
        self.layers = list(model.layers)
        self.loss = model.loss
        self.fused = model._fused
        last = self.layers[-1]
        body = self.layers[:-1] if self.fused else self.layers
        # the fused output: softmax/sigmoid + cross-entropy in one function (exact types only: a
        # subclass may compute its activation differently, so it keeps the layer-by-layer pass)
        self.output = None
        if self.fused and type(last) is Softmax:
            self.output = "softmax"
        elif self.fused and type(last) is Sigmoid:
            self.output = "sigmoid"
        self.steps: list = []
        first_param = next((i for i, layer in enumerate(body) if layer.params), len(body))
        i = 0
        while i < len(body):
            layer = body[i]
            nxt = body[i + 1] if i + 1 < len(body) else None
            if type(layer) is Dense:
                relu = type(nxt) is ReLU
                self.steps.append(_DenseStep(layer, relu, first=i == first_param, fresh_output=False))
                i += 2 if relu or type(nxt) is Linear else 1
            else:
                self.steps.append(_LayerStep(layer))
                i += 1
        if not self.fused:
            # the output activations are returned: the last Dense writes a fresh array (the layers
            # after it, if any, either allocate their own output or pass this one through)
            dense_steps = [s for s in self.steps if isinstance(s, _DenseStep)]
            if dense_steps:
                dense_steps[-1].fresh_output = True
        # backward stops at the first step with parameters: nothing in front of it needs a gradient
        start = next((k for k, s in enumerate(self.steps) if s.has_params), len(self.steps))
        self.backward_steps = self.steps[start:][::-1]
        self.rows: dict[int, np.ndarray] = {}
        self.dZ: dict[int, np.ndarray] = {}

    # A copy of a model must compile its own plan: a copied plan would hold copies of the parameter
    # views, disconnected from the copy's θ.
    def __copy__(self) -> None:
        return None

    def __deepcopy__(self, memo) -> None:
        return None

    def __reduce__(self):
        return type(None), ()

    def matches(self, model) -> bool:
        return model.theta is self.theta and model.layers == self.layers

    def run(self, model, X: np.ndarray, y: np.ndarray, mode: Mode) -> tuple[float, np.ndarray]:
        """(J without regularization, A^[L]); fills model.grad."""
        out = X
        for step in self.steps:
            out = step.forward(out, mode)
        if self.output == "softmax":
            m = out.shape[0]
            rows = self.rows.get(m)
            if rows is None:
                if len(self.rows) >= _MAX_SIZES:
                    self.rows.clear()
                    self.dZ.clear()
                rows = self.rows[m] = np.arange(0, m * out.shape[1], out.shape[1])
            dZ = self.dZ.get(m)
            if dZ is None or dZ.shape != out.shape or dZ.dtype != out.dtype:
                dZ = self.dZ[m] = np.empty_like(out)
            J, d, A = losses.softmax_crossentropy(out, y, rows, dZ)
        elif self.output == "sigmoid":
            J, d, A = losses.sigmoid_binary_crossentropy(out, y)
        elif self.fused:  # a subclass of Softmax/Sigmoid: its own forward, the loss from the logits
            A = self.layers[-1].forward(out, mode)
            J, d = model._data_loss(A, out, y)
        else:
            A = out
            J, d = model._data_loss(A, out, y)
        for step in self.backward_steps:
            d = step.backward(d)
        return J, A

    def clear(self) -> None:
        for step in self.steps:
            step.clear()
        self.rows.clear()
        self.dZ.clear()
