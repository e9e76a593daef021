"""`Sequential`: a stack of layers whose parameters live in one flat vector θ (and gradients in dθ).

Every layer holds *views* into θ and dθ, so the seeds' `dictionary_to_vector` is free, an optimizer step
is a few vectorized operations on the whole vector, and a snapshot of the model is one array copy.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from . import _html, losses, regularizers
from ._random import RNG, make_rng
from ._validation import as_2d_float, check_choice, check_dtype, check_float, check_int
from .data.columns import is_dataframe
from .errors import GradwiseError, GradwiseTypeError, GradwiseValueError
from .history import History
from .layers import (
    ACTIVATIONS,
    LAYER_TYPES,
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    Mode,
    ReLU,
    Softmax,
)
from .layers.base import INFERENCE, TRAINING
from .training import fit as _fit

if TYPE_CHECKING:
    from .data.columns import Preprocessor
    from .data.standardize import Standardizer
    from .initializers import Initializer
    from .optim.optimizers import Optimizer


#: rows per block when predicting or scoring (`forward` in inference mode, `evaluate`, `evaluate_prepared`)
INFERENCE_ROWS = 65_536


class Sequential:
    """A feed-forward network: layers applied in order, trained by hand-written backpropagation.

    Parameters
    ----------
    layers : sequence of Layer
        E.g. `[Dense(20), ReLU(), Dense(1), Sigmoid()]`. `Dense` infers its input size.
    input_dim : int, optional
        n_x. If omitted, the network is built on the first call that sees data.
    loss : {"binary_crossentropy", "categorical_crossentropy", "mse"}, optional
        Inferred from the last layer when omitted (Sigmoid → binary, Softmax → categorical, else mse).
    l2, l1 : float
        λ of the seeds' L2 (`λ/(2m)·Σ‖W‖²_F`) and L1 (`λ/(2m)·Σ|W|`) penalties.
    seed, rng : int or numpy Generator / RandomState
        The only source of randomness: initialization, then dropout masks and shuffling.
        `rng=np.random.RandomState(3)` reproduces the course's `np.random.seed(3)` initialization.
    dtype : "float64" or "float32"
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_dim: int | None = None,
        loss: str | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        seed: int | None = None,
        rng: RNG | None = None,
        dtype: Any = "float64",
    ):
        if isinstance(layers, Layer) or not isinstance(layers, Iterable):
            raise GradwiseTypeError(f"layers must be a list of layers, got {type(layers).__name__}")
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise GradwiseValueError("layers must not be empty")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise GradwiseTypeError(f"layers[{i}] must be a gradwise layer, got {layer!r}")
        if not any(isinstance(layer, Dense) for layer in self.layers):
            raise GradwiseValueError("layers must contain at least one Dense layer")
        self.loss = self._resolve_loss(loss)
        self.l2 = check_float("l2", l2, low=0.0)
        self.l1 = check_float("l1", l1, low=0.0)
        self.dtype = check_dtype(dtype)
        self.rng = make_rng(seed, rng)
        # Set by `build`: sizes, the flat vectors and the views into them.
        self.input_dim: int | None = None
        self.output_dim: int | None = None
        self.theta = np.zeros(0, self.dtype)  # every parameter, in the course's order
        self.grad = np.zeros(0, self.dtype)  # dθ, filled by backward
        self.buffer = np.zeros(0, self.dtype)  # batch-norm running averages
        self._param_views: dict[str, np.ndarray] = {}
        self._grad_views: dict[str, np.ndarray] = {}
        self._buffer_views: dict[str, np.ndarray] = {}
        self._slices: dict[str, slice] = {}
        self._weights: list[np.ndarray] = []  # the W's (regularized), and their gradients
        self._weight_grads: list[np.ndarray] = []
        self._loss_fn = losses.Loss(self.loss)
        fused = self._loss_fn.fused
        self._body: list[Layer] = self.layers[:-1] if fused else list(self.layers)  # run before the loss
        self._step_body: list[Layer] = self._body  # the body of a training step: carried ReLUs left out
        self._backward_layers: list[Layer] = []  # reversed, down to the first layer with parameters
        self._last: tuple[int, np.ndarray, np.ndarray] | None = None  # (m, A, out) of forward(training=True)
        # Training state, carried across fit calls and saved in checkpoints.
        self.history: History | None = None  # every fit's epochs, concatenated
        self.optimizer: Optimizer | None = None  # its state (Adam's moments) continues in the next fit
        self.epochs_trained = 0
        self.stop_training = False  # a callback sets it to end fit after the current epoch
        # What the model was trained on, saved with it.
        self.standardizer: Standardizer | None = None  # the training split's μ, σ, applied to every input
        self.preprocessor: Preprocessor | None = None  # the column plan: DataFrames go through it first
        self.classes_: np.ndarray | None = None  # the label of each output class
        self.feature_names_in_: list[str] | None = None  # the training table's column names
        self.metadata: dict[str, Any] = {}  # JSON-able notes (target column, seed, …)
        if input_dim is not None:
            self.build(input_dim)

    # ------------------------------------------------------------------ construction
    def _resolve_loss(self, loss: str | None) -> str:
        last = self.layers[-1]
        if loss is None:
            name = getattr(last, "name", "")
            loss = {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy"}.get(name, "mse")
        loss = check_choice("loss", loss, losses.NAMES)
        wanted = losses.OUTPUT_ACTIVATION.get(loss)
        if wanted is not None and getattr(last, "name", None) != wanted:
            raise GradwiseValueError(
                f"loss={loss!r} needs a {ACTIVATIONS[wanted].__name__} output layer, "
                f"got {type(last).__name__}"
            )
        return loss

    @property
    def built(self) -> bool:
        return self.input_dim is not None

    def build(self, input_dim: int) -> Sequential:
        """Give every layer its views into θ, dθ and the buffers, then draw the initial weights."""
        input_dim = check_int("input_dim", input_dim, minimum=1)
        if self.built:
            if input_dim != self.input_dim:
                raise GradwiseValueError(f"the model was built for {self.input_dim} features, got {input_dim}")
            return self
        layout, dim = self._layout(input_dim)
        if self.loss == "categorical_crossentropy" and dim < 2:
            # softmax over one unit is the constant 1: nothing could ever be learned
            raise GradwiseValueError(f"a Softmax output needs at least 2 units, got {dim}; use Sigmoid for 2 classes")
        self._allocate(layout)
        self.input_dim, self.output_dim = input_dim, dim
        for layer, dim_in, _, _ in layout:
            layer.initialize(self.rng, dim_in)
        self._weights = [v for k, v in self._param_views.items() if k.startswith("W")]
        self._weight_grads = [self._grad_views[k] for k in self._param_views if k.startswith("W")]
        self._plan_passes()
        return self

    def _layout(self, input_dim: int) -> tuple[list, int]:
        """[(layer, its input size, [(public name, ParamSpec)], [(public name, buffer spec)])], output size."""
        layout = []
        dim, dense_count, seen = input_dim, 0, set()
        for layer in self.layers:
            if isinstance(layer, Dense):
                dense_count += 1
            layer.index = dense_count
            params = [(f"{s.kind}{dense_count}", s) for s in layer.param_specs(dim)]
            buffers = [(f"{s.kind}{dense_count}", s) for s in layer.buffer_specs(dim)]
            for name, _ in params + buffers:
                if name in seen:
                    raise GradwiseValueError(f"two layers both define parameter {name!r}")
                seen.add(name)
            layout.append((layer, dim, params, buffers))
            dim = layer.output_dim(dim)
        return layout, dim

    def _allocate(self, layout: list) -> None:
        """θ, dθ and the buffer vector, and each layer's views into them."""
        n_params = sum(s.size for *_, ps, _ in layout for _, s in ps)
        n_buffers = sum(s.size for *_, bs in layout for _, s in bs)
        self.theta = np.zeros(n_params, dtype=self.dtype)
        self.grad = np.zeros(n_params, dtype=self.dtype)
        self.buffer = np.zeros(n_buffers, dtype=self.dtype)
        self._param_views, self._grad_views, self._buffer_views, self._slices = {}, {}, {}, {}
        offset = boffset = 0
        for layer, _, params, buffers in layout:
            p, g, b = {}, {}, {}
            for name, spec in params:
                sl = slice(offset, offset + spec.size)
                p[spec.kind] = self._param_views[name] = self.theta[sl].reshape(spec.shape)
                g[spec.kind] = self._grad_views[name] = self.grad[sl].reshape(spec.shape)
                self._slices[name] = sl
                offset += spec.size
            for name, spec in buffers:
                view = self.buffer[boffset:boffset + spec.size].reshape(spec.shape)
                b[spec.kind] = self._buffer_views[name] = view
                boffset += spec.size
            layer.bind(p, g, b)

    def _plan_passes(self) -> None:
        """Which layers the backward pass visits, and which outputs stay inside a training step.

        Backward stops at the first layer with parameters: nothing in front of it needs a gradient, and
        that layer skips dX. Outputs of layers before the last Dense never leave a step (the last Dense and
        what follows it produce the returned A, except the logits a fused loss turns into a fresh A), so
        those layers may write them into reused buffers. A Dense whose output and next layer's output both
        stay inside the step carries the ReLU that follows it (`Dense.activation`).
        """
        last_dense = max(i for i, layer in enumerate(self.layers) if isinstance(layer, Dense))
        # A fused loss reads the logits of a Dense right before the output activation and returns a fresh A.
        logits_stay = self._loss_fn.fused and last_dense == len(self.layers) - 2
        first = next((i for i, layer in enumerate(self.layers) if layer.params), len(self.layers))
        for i, layer in enumerate(self.layers):
            layer.input_gradient = i != first
            layer.scratch_output = i < last_dense or (logits_stay and i == last_dense)
        # A Dense keeps its input, not its output: the layer after it may overwrite that buffer in place.
        for before, layer in zip(self.layers, self.layers[1:], strict=False):
            layer.scratch_input = isinstance(before, Dense) and before.scratch_output
        carried = self._carry_relus()
        self._step_body = [layer for layer in self._body if all(layer is not c for c in carried)]
        start = next((i for i, layer in enumerate(self._step_body) if layer.params), len(self._step_body))
        self._backward_layers = self._step_body[start:][::-1]

    def _carry_relus(self) -> list[Layer]:
        """Let each Dense carry the ReLU right after it when both outputs stay inside a training step."""
        carried: list[Layer] = []
        for before, layer in zip(self._body, self._body[1:], strict=False):
            if isinstance(before, Dense):
                carry = type(layer) is ReLU and before.scratch_output and layer.scratch_output
                before.activation = cast(ReLU, layer) if carry else None
                before.clear_cache()  # its work buffers depend on what it carries
                if carry:
                    carried.append(layer)
        return carried

    def _require_built(self) -> None:
        if not self.built:
            raise GradwiseValueError("the model is not built yet: give input_dim= or call fit/forward first")

    # ------------------------------------------------------------------ parameters
    def parameters(self) -> dict[str, np.ndarray]:
        """Live views `W1, b1, (gamma1, beta1), W2, …` into θ, in the course's order."""
        self._require_built()
        return dict(self._param_views)

    def gradients(self) -> dict[str, np.ndarray]:
        """Live views `W1, b1, …` into dθ, filled by `backward`."""
        self._require_built()
        return dict(self._grad_views)

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state: batch-norm running averages `running_mean1, running_var1, …`."""
        self._require_built()
        return dict(self._buffer_views)

    def parameter_slices(self) -> dict[str, slice]:
        """Where each parameter lives in the flat vector θ."""
        self._require_built()
        return dict(self._slices)

    def set_parameters(self, params: dict[str, Any], strict: bool = True) -> None:
        """Copy values into θ (or the buffers); names and shapes are checked."""
        self._require_built()
        if not isinstance(params, dict):
            raise GradwiseTypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        known = {**self._param_views, **self._buffer_views}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise GradwiseValueError(f"unknown parameter names {unknown}; the model has {list(known)}")
        if strict:
            missing = [k for k in self._param_views if k not in params]
            if missing:
                raise GradwiseValueError(f"missing parameters {missing} (pass strict=False to set a subset)")
        # Validate everything before writing anything, so a bad entry leaves the model untouched.
        checked: dict[str, np.ndarray] = {}
        for name, value in params.items():
            try:
                arr = np.asarray(value)
            except (TypeError, ValueError) as exc:  # ragged nested lists and the like
                raise GradwiseValueError(f"parameter {name!r} could not be read as an array: {exc}") from None
            target = known[name]
            # complex would silently lose its imaginary part, bool/str/object are not parameter values
            if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
                raise GradwiseTypeError(f"parameter {name!r} must hold real numbers, got dtype {arr.dtype}")
            if arr.shape != target.shape:
                if arr.size == target.size and arr.squeeze().shape == target.squeeze().shape:
                    arr = arr.reshape(target.shape)  # accept the course's (n, 1) column biases
                else:
                    raise GradwiseValueError(
                        f"parameter {name!r} must have shape {target.shape}, got {arr.shape}")
            values = arr.astype(np.float64, copy=False)
            if not np.isfinite(values).all():
                raise GradwiseValueError(
                    f"parameter {name!r} must be finite, got {values[~np.isfinite(values)][0]}")
            largest = float(np.abs(values).max(initial=0.0))
            if largest > float(np.finfo(target.dtype).max):  # the cast would overflow to inf
                raise GradwiseValueError(
                    f"parameter {name!r} holds {largest:.3g}, beyond the range of the {target.dtype} model")
            checked[name] = arr
        for name, arr in checked.items():
            known[name][...] = arr

    @property
    def n_parameters(self) -> int:
        self._require_built()
        return int(self.theta.size)

    # ------------------------------------------------------------------ computation
    # The internal API on prepared arrays: `prepare_inputs` and `prepare_targets` validate once, then
    # `loss_and_gradient` (a training step), `cost_prepared` and `evaluate_prepared` work on the results.
    def prepare_inputs(self, X: Any, name: str = "X", *, copy: bool = True) -> np.ndarray:
        """Validate X (m, n_x), build the network on first sight, and apply `self.standardizer` if set.

        The model's Standardizer holds the *training* μ, σ, so every input that reaches the network
        (training, dev, test, predict) is normalized the same way, as the seeds require. `copy=False`: an
        X already of the model's dtype (C-contiguous) is standardized in place (`Standardizer.transform`).
        """
        return self._standardized(self._checked_inputs(X, name), copy)

    def _checked_inputs(self, X: Any, name: str = "X") -> np.ndarray:
        """X typed by the column plan (a DataFrame), validated, the network built on first sight; not standardized."""
        if self.preprocessor is not None and is_dataframe(X):
            X = self.preprocessor.transform(X, dtype=self.dtype)
        arr = as_2d_float(name, X, self.dtype, n_features=self.input_dim)
        if not self.built:
            self.build(arr.shape[1])
        return arr

    def _standardized(self, arr: np.ndarray, copy: bool = True) -> np.ndarray:
        if self.standardizer is not None:
            arr = np.ascontiguousarray(self.standardizer.transform(arr, copy=copy), dtype=self.dtype)
        return arr

    def _inference_blocks(self, arr: np.ndarray) -> Iterable[slice]:
        """Row blocks of INFERENCE_ROWS: scoring holds one block's activations, not (m × hidden) per layer.
        Each row's output depends on that row only (inference mode), so blocks give the same numbers."""
        return (slice(start, start + INFERENCE_ROWS) for start in range(0, arr.shape[0], INFERENCE_ROWS))

    def prepare_targets(self, y: Any, m: int, name: str = "y") -> np.ndarray:
        """y as the loss expects it: (m, 1) floats (binary), (m,) ints (categorical), (m, k) floats (mse)."""
        if isinstance(y, str | bytes):
            raise GradwiseTypeError(f"{name} must be an array of labels, got a string")
        arr = np.asarray(y)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise GradwiseTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
        if arr.ndim == 2 and arr.shape[1] == 1 and self.loss == "categorical_crossentropy":
            arr = arr[:, 0]
        if arr.ndim == 0 or arr.shape[0] != m:
            raise GradwiseValueError(f"{name} has {arr.shape[0] if arr.ndim else 0} rows, X has {m}")
        finite = np.isfinite(arr.astype(np.float64, copy=False))
        if not finite.all():
            bad: tuple[Any, ...] | np.ndarray = tuple(np.argwhere(~finite)[0])
            raise GradwiseValueError(f"{name} must be finite, got {arr[bad]} at row {bad[0]}")
        self._require_built()  # k: before the network has an output layer, no target can be checked
        k = self.output_dim
        assert k is not None  # built
        if self.loss == "categorical_crossentropy":
            if arr.ndim != 1:
                raise GradwiseValueError(f"{name} must be integer labels of shape (m,), got shape {arr.shape}")
            if not np.all(np.mod(arr, 1) == 0):
                example = arr[np.mod(arr, 1) != 0][0]
                raise GradwiseValueError(f"{name} must hold integer class labels, got e.g. {example}")
            labels = arr.astype(np.int64)
            bad = (labels < 0) | (labels >= k)
            if bad.any():
                raise GradwiseValueError(
                    f"{name} holds label {labels[bad][0]}, but the output layer has {k} classes (0..{k - 1})")
            return labels
        with np.errstate(over="ignore"):  # 1e300 in a float32 model: say so instead of warning
            cast = arr.astype(self.dtype)
        if not np.isfinite(cast).all():
            bad = np.asarray(arr).reshape(-1)[~np.isfinite(cast.reshape(-1))][0]
            raise GradwiseValueError(f"{name} holds {bad} beyond the {self.dtype} range "
                                     f"(±{np.finfo(self.dtype).max:.3g}); rescale it or use dtype='float64'")
        arr = cast.reshape(m, -1)
        if arr.shape[1] != k:
            raise GradwiseValueError(f"{name} has {arr.shape[1]} columns per example, the output layer has {k}")
        if self.loss == "binary_crossentropy" and ((arr < 0) | (arr > 1)).any():
            bad = arr[(arr < 0) | (arr > 1)][0]
            raise GradwiseValueError(f"{name} must hold 0/1 labels for binary_crossentropy, got {bad:g}")
        return np.ascontiguousarray(arr)

    def _run_body(self, X: np.ndarray, mode: Mode) -> np.ndarray:
        """Forward through every layer the loss does not fuse: the logits of a cross-entropy, else A."""
        out = X
        for layer in self._step_body if mode.training else self._body:
            out = layer.forward(out, mode)
        return out

    def _backward(self, d: np.ndarray | None) -> None:
        """Backpropagate d (the gradient at the body's output) through the layers; fills dθ."""
        for layer in self._backward_layers:
            assert d is not None  # from the loss; only the last layer visited returns None (no dX)
            d = layer.backward(d)

    def _regularization(self, m: int, gradient: bool) -> float:
        """The L2/L1 term of J for a batch of m examples; adds its gradient to the dW's when asked."""
        if not (self.l2 or self.l1):
            return 0.0
        if gradient:
            regularizers.add_gradient(self._weights, self._weight_grads, m, self.l2, self.l1)
        return regularizers.penalty(self._weights, m, self.l2, self.l1)

    def loss_and_gradient(self, X: np.ndarray, y: np.ndarray, mode: Mode = TRAINING,
                          weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """One step of the seeds' loop on prepared arrays: forward, cost, backward. Fills dθ.

        Returns (J, A^[L]); J includes the regularization term, with m = X.shape[0] (the batch). With
        per-example `weights` (m,) the data term is Σ wᵢLᵢ / Σ wᵢ (see `gradwise.losses`).
        """
        if mode.rng is None:
            mode = replace(mode, rng=self.rng)
        out = X
        for layer in self._step_body:  # forward
            out = layer.forward(out, mode)
        d: Any  # dJ/d(out), then back layer by layer (the first layer with parameters returns None)
        J, d, A = self._loss_fn.compute(out, y, True, weights)  # cost (and the output activation, fused)
        for layer in self._backward_layers:  # backward
            d = layer.backward(d)
        if self.l2 or self.l1:
            J += self._regularization(X.shape[0], gradient=True)
        return J, A

    def _output_and_cost(self, X: np.ndarray, y: np.ndarray, mode: Mode, regularized: bool = True,
                         weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        if mode.rng is None:
            mode = replace(mode, rng=self.rng)
        J, _, A = self._loss_fn(self._run_body(X, mode), y, False, weights)
        return A, (J + self._regularization(X.shape[0], gradient=False) if regularized else J)

    def cost_prepared(self, X: np.ndarray, y: np.ndarray, mode: Mode = INFERENCE) -> float:
        """J on prepared arrays (regularization included), without a backward pass."""
        return self._output_and_cost(X, y, mode)[1]

    def evaluate_prepared(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, *,
                          regularized: bool = True) -> dict[str, float]:
        """`evaluate` on prepared arrays: {"cost", "accuracy"} or {"cost", "rmse"} in inference mode.

        `weights` (m,) weigh each example's loss in the cost (accuracy and rmse stay unweighted);
        `regularized=False` leaves the L2/L1 term out of the cost (a dev score compares data fit only).
        """
        return self._scores(X, y, weights, regularized, prepared=True)

    def _scores(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, regularized: bool,
                prepared: bool) -> dict[str, float]:
        """The scores of `evaluate_prepared`, INFERENCE_ROWS rows at a time (inputs standardized block by
        block unless `prepared`): J = Σ_b J_b·W_b / Σ_b W_b with W_b the block's m_b (or its Σ w_i), then
        the regularization term once, with the whole m; the same numbers as one pass, to float rounding."""
        parts, correct, cells = [], 0.0, 0
        for rows in self._inference_blocks(X):
            Xb, yb, w = X[rows], y[rows], None if weights is None else weights[rows]
            size = float(Xb.shape[0] if w is None else np.sum(w, dtype=np.float64))
            Xb = Xb if prepared else self._standardized(Xb)
            with contextlib.nullcontext() if prepared else finite_or_error(self, Xb, yb):
                # a block of zero weight still counts in the accuracy; its J_b (0/0) is left out below
                A, J_b = self._output_and_cost(Xb, yb, INFERENCE, False, w if size or len(yb) == len(y) else None)
            parts.append((J_b, size))
            correct += float(np.sum((A - yb) ** 2, dtype=np.float64)) if self.loss == "mse" \
                else _correct(self.loss, A, yb)
            cells += A.size if self.loss != "categorical_crossentropy" else A.shape[0]
        if len(parts) == 1:
            J = parts[0][0]
        else:  # blocks of zero weight add nothing to Σ w_i L_i
            total = sum(size for _, size in parts)
            J = sum(J_b * size for J_b, size in parts if size) / total if total else float("nan")
        J += self._regularization(X.shape[0], gradient=False) if regularized else 0.0
        if self.loss == "mse":
            return {"cost": float(J), "rmse": float(np.sqrt(correct / cells))}
        return {"cost": float(J), "accuracy": correct / cells}

    # ------------------------------------------------------------------ public passes
    def forward(self, X: Any, training: bool = False) -> np.ndarray:
        """Output activations A^[L] of shape (m, n_L).

        With `training=True`, dropout masks are drawn, batch norm uses (and records) batch statistics,
        and the caches are kept for `backward`.
        """
        if not training:
            self._last = None
            return self._inference_output(self._checked_inputs(X))
        X = self.prepare_inputs(X)
        mode = replace(TRAINING, rng=self.rng)
        with finite_or_error(self, X):
            out = self._run_body(X, mode)
            A = self.layers[-1].forward(out, mode) if self._loss_fn.fused else out
        self._last = (X.shape[0], A, out)
        return A

    def _inference_output(self, arr: np.ndarray) -> np.ndarray:
        """A^[L] of validated, unstandardized inputs, one block of rows at a time."""
        blocks = []
        for rows in self._inference_blocks(arr):
            X = self._standardized(arr[rows])
            with finite_or_error(self, X):
                out = self._run_body(X, INFERENCE)
                blocks.append(self.layers[-1].forward(out, INFERENCE) if self._loss_fn.fused else out)
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def backward(self, y: Any) -> dict[str, np.ndarray]:
        """Fill the gradients of J (regularization included) after `forward(X, training=True)`."""
        if self._last is None:
            raise GradwiseValueError("backward needs a preceding forward(X, training=True)")
        m, _, out = self._last
        _, d, _ = self._loss_fn(out, self.prepare_targets(y, m))
        self._backward(d)
        self._regularization(m, gradient=True)
        return self.gradients()

    def cost(self, X: Any, y: Any) -> float:
        """J(θ) on (X, y), regularization included, dropout off, batch norm in inference mode."""
        X = self.prepare_inputs(X)
        t = self.prepare_targets(y, X.shape[0])
        with finite_or_error(self, X, t):
            return self.cost_prepared(X, t)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (m, K) (K = 2 for a sigmoid output)."""
        if self.loss == "mse":
            raise GradwiseValueError("predict_proba needs a classification model (loss='mse' here)")
        A = self.forward(X)
        return losses.probabilities_from_output(self.loss, A)

    def predict(self, X: Any) -> np.ndarray:
        """Labels (m,) for classification (sigmoid: A > 0.5 as in the course; softmax: argmax), values for mse."""
        A = self.forward(X)
        if self.loss == "binary_crossentropy":
            return (A > 0.5).astype(np.int64).reshape(A.shape[0], -1).squeeze(axis=1) if A.shape[1] == 1 \
                else (A > 0.5).astype(np.int64)
        if self.loss == "categorical_crossentropy":
            return A.argmax(axis=1)
        return A[:, 0] if A.shape[1] == 1 else A

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """{"cost": J, "accuracy": …} for classification, {"cost": J, "rmse": …} for regression."""
        arr = self._checked_inputs(X)
        return self._scores(arr, self.prepare_targets(y, arr.shape[0]), None, True, prepared=False)

    def fit(self, X: Any, y: Any, **kwargs: Any) -> History:
        """Train the network; see `gradwise.training.fit` for every option. Returns a `History`."""
        return _fit(self, X, y, **kwargs)

    def clear_cache(self) -> None:
        for layer in self.layers:
            layer.clear_cache()
        self._last = None
        self._loss_fn = losses.Loss(self.loss)

    # ------------------------------------------------------------------ copies and description
    def astype(self, dtype: Any) -> Sequential:
        """A copy in another precision (same layers, same values, its own θ)."""
        dtype = check_dtype(dtype)
        new = copy.copy(self)
        new.layers = [copy.copy(layer) for layer in self.layers]
        new.dtype = dtype
        new.input_dim = None
        new.rng = copy.deepcopy(self.rng)
        # Training state belongs to each copy: fitting one must not advance the other's optimizer
        # (Adam's moments, step count) nor append to its History.
        new.optimizer = copy.deepcopy(self.optimizer)
        new.history = copy.deepcopy(self.history)
        new.standardizer = copy.deepcopy(self.standardizer)
        new.metadata = copy.deepcopy(self.metadata)
        new._loss_fn = losses.Loss(self.loss)
        new._body = new._step_body = new.layers[:len(self._body)]
        new._backward_layers = []
        if self.built:
            assert self.input_dim is not None  # built
            state_rng = new.rng
            new.rng = np.random.default_rng(0)  # the copy's initialization draws are overwritten below
            new.build(self.input_dim)
            new.rng = state_rng
            new.theta[...] = self.theta
            new.buffer[...] = self.buffer
        new._last = None
        return new

    def copy(self) -> Sequential:
        return self.astype(self.dtype)

    def get_config(self) -> dict:
        """A JSON-able description of the architecture (no weights)."""
        return {
            "layers": [{"type": type(layer).__name__, **layer.get_config()} for layer in self.layers],
            "input_dim": self.input_dim,
            "loss": self.loss,
            "l2": self.l2,
            "l1": self.l1,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict, seed: int | None = 0) -> Sequential:
        layers = []
        for i, spec in enumerate(config["layers"]):
            spec = dict(spec)
            kind = spec.pop("type", None)
            if not isinstance(kind, str) or kind not in LAYER_TYPES:
                raise GradwiseValueError(f"unknown layer type {kind!r} in the model description")
            try:
                layers.append(LAYER_TYPES[kind](**spec))
            except TypeError as exc:  # an unknown keyword: name the layer rather than Python's bare TypeError
                if isinstance(exc, GradwiseError):
                    raise
                raise GradwiseValueError(f"layers[{i}] ({kind}) in the model description: {exc}") from None
        return cls(layers, input_dim=config.get("input_dim"), loss=config["loss"], l2=config.get("l2", 0.0),
                   l1=config.get("l1", 0.0), seed=seed, dtype=config.get("dtype", "float64"))

    def _summary_rows(self) -> list[tuple[str, int | None, int]]:
        """(layer, output size or None before build, parameter count) for each layer."""
        rows, dim = [], self.input_dim
        for layer in self.layers:
            n = sum(s.size for s in layer.param_specs(dim)) if dim else 0
            dim = layer.output_dim(dim) if dim else None
            rows.append((repr(layer), dim, n))
        return rows

    def _settings_line(self) -> str:
        return f"loss={self.loss}, l2={self.l2}, l1={self.l1}, dtype={self.dtype.name}"

    def summary(self) -> str:
        """A table of layers, output sizes and parameter counts."""
        lines = [f"{'layer':<28}{'output':>10}{'parameters':>12}"]
        rows = self._summary_rows()
        lines += [f"{name:<28.28}{dim if dim else '?':>10}{n:>12}" for name, dim, n in rows]
        lines.append(f"{'total':<28}{'':>10}{sum(r[2] for r in rows):>12}   {self._settings_line()}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary as a table."""
        rows = [(name, dim if dim else "?", n) for name, dim, n in self._summary_rows()]
        rows.append(("total", "", sum(r[2] for r in rows)))
        caption = f"Sequential, input {self.input_dim or '?'}: {self._settings_line()}"
        return _html.table(["layer", "output", "parameters"], rows, caption=caption)

    def __repr__(self) -> str:
        return f"Sequential({self.layers!r}, input_dim={self.input_dim}, loss={self.loss!r})"


@contextlib.contextmanager
def finite_or_error(model: Sequential, X: np.ndarray, y: np.ndarray | None = None):
    """Computations on finite X give finite results or a GradwiseValueError that says why.

    Without it an input too large for the network (e.g. |x| ~ 1e308) overflows into inf/NaN outputs with
    nothing but NumPy's RuntimeWarning. (Training has its own guard: TerminateOnNaN.)
    """
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError as exc:
        if isinstance(exc, GradwiseError):
            raise
        targets = "" if y is None or model.loss != "mse" else f", largest |y| {np.abs(y).max():.3g}"
        raise GradwiseValueError(
            f"X overflows the {model.dtype} network ({exc}): largest |X| is {np.abs(X).max():.3g}, largest "
            f"|weight| {np.abs(model.theta).max():.3g}{targets}; standardize the inputs (gw.Standardizer)"
            f"{' and rescale y' if targets else ''}") from None


def accuracy_from_output(loss: str, A: np.ndarray, y: np.ndarray) -> float:
    """Fraction of correct predictions given output activations and prepared targets."""
    if loss == "categorical_crossentropy":
        return float(np.mean(A.argmax(axis=1) == y))
    return float(np.mean((A > 0.5) == (y > 0.5)))


def _correct(loss: str, A: np.ndarray, y: np.ndarray) -> int:
    """How many predictions are right (the numerator of `accuracy_from_output`)."""
    if loss == "categorical_crossentropy":
        return int(np.count_nonzero(A.argmax(axis=1) == y))
    return int(np.count_nonzero((A > 0.5) == (y > 0.5)))


def mlp(
    layer_sizes: Sequence[int],
    hidden: str = "relu",
    output: str = "sigmoid",
    init: str | Initializer = "he",
    keep_prob: float | Sequence[float] = 1.0,
    batchnorm: bool = False,
    l2: float = 0.0,
    l1: float = 0.0,
    loss: str | None = None,
    seed: int | None = None,
    rng: RNG | None = None,
    dtype: Any = "float64",
) -> Sequential:
    """A fully connected network from its layer sizes `[n_x, n_1, …, n_L]`, the course's `layers_dims`.

    Hidden layers: Dense → (BatchNorm) → activation → (Dropout if keep_prob < 1); the output layer:
    Dense → `output` activation. `keep_prob` may be one value or one per hidden layer.
    With batch norm the hidden Dense layers have no bias (β takes its role, as in the course).
    """
    if isinstance(layer_sizes, str | bytes) or not isinstance(layer_sizes, Sequence):
        raise GradwiseTypeError(f"layer_sizes must be a list of integers, got {layer_sizes!r}")
    if len(layer_sizes) < 2:
        raise GradwiseValueError(f"layer_sizes needs at least [n_x, n_L], got {list(layer_sizes)}")
    sizes = [check_int(f"layer_sizes[{i}]", n, minimum=1) for i, n in enumerate(layer_sizes)]
    hidden = check_choice("hidden", hidden, tuple(ACTIVATIONS))
    output = check_choice("output", output, tuple(ACTIVATIONS))
    n_hidden = len(sizes) - 2
    if not isinstance(batchnorm, bool | np.bool_):
        raise GradwiseTypeError(f"batchnorm must be True or False, got {batchnorm!r}")
    if np.ndim(keep_prob) == 0:
        # checked even without hidden layers, where it is unused, so a typo is never silently accepted
        keep_prob = check_float("keep_prob", keep_prob, low=0.0, high=1.0, low_open=True)
    keeps = [keep_prob] * n_hidden if np.ndim(keep_prob) == 0 else list(cast("Sequence[float]", keep_prob))
    if len(keeps) != n_hidden:
        raise GradwiseValueError(f"keep_prob needs one value per hidden layer ({n_hidden}), got {len(keeps)}")
    layers: list[Layer] = []
    for i, units in enumerate(sizes[1:-1]):
        layers.append(Dense(units, init=init, use_bias=not batchnorm))
        if batchnorm:
            layers.append(BatchNorm())
        layers.append(ACTIVATIONS[hidden]())
        keep = check_float("keep_prob", keeps[i], low=0.0, high=1.0, low_open=True)
        if keep < 1.0:
            layers.append(Dropout(keep))
    layers.append(Dense(sizes[-1], init=init))
    layers.append(ACTIVATIONS[output]())
    if output == "sigmoid" and loss is None:
        loss = "binary_crossentropy"
    if isinstance(layers[-1], Softmax) and loss is None:
        loss = "categorical_crossentropy"
    return Sequential(layers, input_dim=sizes[0], loss=loss, l2=l2, l1=l1, seed=seed, rng=rng, dtype=dtype)


__all__ = ["Sequential", "mlp", "Activation"]
