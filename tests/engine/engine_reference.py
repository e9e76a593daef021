"""Independent references for the engine tests: a PyTorch rebuild of a gradwise model, random
architectures for hypothesis, and the replay of dropout masks.

The PyTorch side uses torch's own losses (`binary_cross_entropy_with_logits`, `cross_entropy`) and
`F.batch_norm`, so it shares no code with the engine: agreement means both compute the same function
and the same gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

import gradwise as gw

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax")
ACTIVATION_CLASSES = {
    "sigmoid": gw.Sigmoid, "tanh": gw.Tanh, "relu": gw.ReLU, "leaky_relu": gw.LeakyReLU,
    "linear": gw.Linear, "softmax": gw.Softmax,
}


@dataclass
class HiddenSpec:
    units: int
    activation: str
    batchnorm: bool
    use_bias: bool
    keep_prob: float


@dataclass
class Architecture:
    """A network plus the data it is evaluated on; `build()` makes the gradwise model."""

    n_x: int
    m: int
    hidden: list[HiddenSpec]
    n_out: int
    output: str
    output_batchnorm: bool
    loss: str
    init: str
    l2: float
    l1: float
    slope: float = 0.01
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def layers(self) -> list[gw.layers.Layer]:
        out: list[gw.layers.Layer] = []
        for h in self.hidden:
            out.append(gw.Dense(h.units, init=self.init, use_bias=h.use_bias))
            if h.batchnorm:
                out.append(gw.BatchNorm())
            out.append(_activation(h.activation, self.slope))
            if h.keep_prob < 1.0:
                out.append(gw.Dropout(h.keep_prob))
        out.append(gw.Dense(self.n_out, init=self.init))
        if self.output_batchnorm:
            out.append(gw.BatchNorm())
        out.append(_activation(self.output, self.slope))
        return out

    def build(self, dtype: str = "float64") -> gw.Sequential:
        return gw.Sequential(self.layers(), input_dim=self.n_x, loss=self.loss, l2=self.l2, l1=self.l1,
                             seed=self.seed, dtype=dtype)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed + 1)
        X = rng.standard_normal((self.m, self.n_x))
        if self.loss == "binary_crossentropy":
            y = rng.integers(0, 2, size=(self.m, self.n_out)).astype(np.float64)
            if self.n_out == 1:
                y = y[:, 0]
        elif self.loss == "categorical_crossentropy":
            y = rng.integers(0, self.n_out, size=self.m)
        else:
            y = rng.standard_normal((self.m, self.n_out))
        return X, y


def _activation(name: str, slope: float) -> gw.layers.Layer:
    return gw.LeakyReLU(slope) if name == "leaky_relu" else ACTIVATION_CLASSES[name]()


def replay_dropout_masks(model: gw.Sequential, m: int, seed: int) -> list[np.ndarray]:
    """The masks D/keep_prob that a training forward draws after `model.rng = default_rng(seed)`.

    The seeds' inverted dropout: `D = rand(A.shape) < keep_prob`, one draw per Dropout layer, in order.
    """
    replay = np.random.default_rng(seed)
    masks = []
    dim = model.input_dim
    for layer in model.layers:
        if isinstance(layer, gw.Dense):
            dim = layer.units
        if isinstance(layer, gw.Dropout) and layer.keep_prob < 1.0:
            keep = replay.random((m, dim)) < layer.keep_prob
            masks.append(keep / layer.keep_prob)
    return masks


def torch_parameters(model: gw.Sequential, dtype=torch.float64) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(np.array(value), dtype=dtype, requires_grad=True)
            for name, value in model.parameters().items()}


def torch_forward(model: gw.Sequential, params: dict[str, torch.Tensor], X: np.ndarray,
                  masks: list[np.ndarray] | None = None, training: bool = True,
                  dtype=torch.float64,
                  bn_spread: list[float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(output A^[L], input of the output activation) of the PyTorch rebuild of `model`.

    `bn_spread`, if given, receives the smallest per-unit batch standard deviation of each batch-norm
    input: a unit that is (nearly) constant over the batch makes batch norm divide rounding noise by
    sqrt(ε), an ill-conditioned case where no two implementations need agree.

    Parameter names are rebuilt from the course's numbering (the l-th Dense layer owns W{l}, b{l}
    and the batch norm that follows it gamma{l}, beta{l}), not read from the engine.
    """
    a = torch.tensor(X, dtype=dtype)
    masks = list(masks or [])
    buffers = model.buffers()
    l = 0
    z = a
    for i, layer in enumerate(model.layers):
        if i == len(model.layers) - 1:
            z = a
        if isinstance(layer, gw.Dense):
            l += 1
            a = F.linear(a, params[f"W{l}"], params[f"b{l}"] if layer.use_bias else None)
        elif isinstance(layer, gw.BatchNorm):
            if bn_spread is not None:
                bn_spread.append(float(a.detach().std(dim=0, unbiased=False).min()))
            if training:
                a = F.batch_norm(a, None, None, params[f"gamma{l}"], params[f"beta{l}"], training=True,
                                 eps=layer.epsilon)
            else:
                mean = torch.tensor(buffers[f"running_mean{l}"], dtype=dtype)
                var = torch.tensor(buffers[f"running_var{l}"], dtype=dtype)
                a = F.batch_norm(a, mean, var, params[f"gamma{l}"], params[f"beta{l}"], training=False,
                                 eps=layer.epsilon)
        elif isinstance(layer, gw.Dropout):
            if training and layer.keep_prob < 1.0 and masks:
                a = a * torch.tensor(masks.pop(0), dtype=dtype)
        elif isinstance(layer, gw.Sigmoid):
            a = torch.sigmoid(a)
        elif isinstance(layer, gw.Tanh):
            a = torch.tanh(a)
        elif isinstance(layer, gw.ReLU):
            a = torch.relu(a)
        elif isinstance(layer, gw.LeakyReLU):
            a = F.leaky_relu(a, layer.slope)
        elif isinstance(layer, gw.Linear):
            pass
        elif isinstance(layer, gw.Softmax):
            a = torch.softmax(a, dim=1)
        else:  # pragma: no cover - a new layer type needs a reference here
            raise AssertionError(f"no torch reference for {layer!r}")
    return a, z


def torch_cost(model: gw.Sequential, params: dict[str, torch.Tensor], A: torch.Tensor, Z: torch.Tensor,
               y: np.ndarray) -> torch.Tensor:
    """J = data loss (torch's own functions) + λ/(2m)Σ‖W‖² + λ₁/(2m)Σ|W| (the seeds' scaling)."""
    m = A.shape[0]
    if model.loss == "binary_crossentropy":
        target = torch.tensor(np.asarray(y, dtype=np.float64).reshape(Z.shape), dtype=Z.dtype)
        J = F.binary_cross_entropy_with_logits(Z, target, reduction="sum") / m
    elif model.loss == "categorical_crossentropy":
        J = F.cross_entropy(Z, torch.tensor(np.asarray(y), dtype=torch.int64))
    else:
        target = torch.tensor(np.asarray(y, dtype=np.float64).reshape(A.shape), dtype=A.dtype)
        J = 0.5 * ((A - target) ** 2).sum() / m
    weights = [p for name, p in params.items() if name.startswith("W")]
    if model.l2:
        J = J + model.l2 / (2 * m) * sum((W * W).sum() for W in weights)
    if model.l1:
        J = J + model.l1 / (2 * m) * sum(W.abs().sum() for W in weights)
    return J


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / ‖b‖ (0 when both are exactly zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    num = float(np.linalg.norm(a - b))
    den = float(np.linalg.norm(b))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


def layerwise_loss_and_gradient(model, X, y, mode=None):
    """`model.loss_and_gradient` one layer at a time, every layer allocating fresh arrays (no reused buffer).

    The oracle of tests/engine/test_reused_buffers.py: the same layers' forward and backward and the same
    loss functions, without the buffers a training step reuses.
    """
    from dataclasses import replace

    from gradwise import losses, regularizers
    from gradwise.layers import TRAINING

    mode = TRAINING if mode is None else mode
    if mode.rng is None:
        mode = replace(mode, rng=model.rng)
    fused = model.loss in losses.OUTPUT_ACTIVATION
    body = model.layers[:-1] if fused else model.layers
    for layer in model.layers:
        layer.scratch_output = False
    out = X
    for layer in body:
        out = layer.forward(out, mode)
    loss = {"binary_crossentropy": losses.binary_crossentropy,
            "categorical_crossentropy": losses.categorical_crossentropy, "mse": losses.mse}[model.loss]
    J, d, A = loss(out, y)
    first = next(i for i, layer in enumerate(body) if layer.params)
    for layer in reversed(body[first:]):
        d = layer.backward(d)
    weights = [v for k, v in model.parameters().items() if k.startswith("W")]
    grads = [v for k, v in model.gradients().items() if k.startswith("W")]
    m = X.shape[0]
    if model.l2 or model.l1:
        J += regularizers.penalty(weights, m, model.l2, model.l1)
        regularizers.add_gradient(weights, grads, m, model.l2, model.l1)
    return J, A
