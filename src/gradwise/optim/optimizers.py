"""Optimizers of the seeds, each one vectorized over the whole flat parameter vector θ.

State is plain named arrays (`state_dict()`), so it can be saved in a checkpoint and restored exactly.
"""

from __future__ import annotations

import math

import numpy as np

from .._blocked import run_blocked
from .._validation import check_choice, check_float
from ..errors import GradwiseTypeError, GradwiseValueError


class Optimizer:
    """Base class: `step(theta, grad, learning_rate)` updates θ in place.

    Every optimizer takes `clipnorm` (a maximum global L2 norm of dθ) and `clipvalue` (a maximum |dθᵢ|),
    applied to the gradient the update uses (see `clip`).
    """

    name = "optimizer"
    default_learning_rate = 0.01

    def __init__(self, learning_rate: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None):
        self.learning_rate = check_float(
            "learning_rate", self.default_learning_rate if learning_rate is None else learning_rate,
            low=0.0, low_open=True)
        self.clipnorm = None if clipnorm is None else check_float("clipnorm", clipnorm, low=0.0, low_open=True)
        self.clipvalue = None if clipvalue is None else check_float("clipvalue", clipvalue, low=0.0,
                                                                     low_open=True)
        self.clipping = clipnorm is not None or clipvalue is not None  # one test per step when off
        self.clipped_steps = 0  # steps whose gradient was clipped (fit records them per epoch)
        self.state: dict[str, np.ndarray] = {}
        self.t = 0  # number of steps taken (Adam's bias-correction exponent)

    def clip(self, grad: np.ndarray) -> bool:
        """Clip dθ in place before the update; True when it changed. The gradient itself is untouched.

        `clipnorm`: one global L2 norm over all of θ's gradient, as `torch.nn.utils.clip_grad_norm_`:
        dθ := dθ · c/(‖dθ‖₂ + 10⁻⁶) when that factor is below 1. `clipvalue`: each component into
        [−clipvalue, clipvalue] (`clip_grad_value_`), after the norm. Only the update sees the clipped
        gradient (`model.grad` is overwritten by the next backward pass), so gradient checks are unaffected.
        """
        clipped = False
        if self.clipnorm is not None:
            coef = self.clipnorm / (float(np.linalg.norm(grad)) + 1e-6)
            if coef < 1.0:
                grad *= coef
                clipped = True
        if self.clipvalue is not None:
            v = self.clipvalue
            if float(np.max(np.abs(grad), initial=0.0)) > v:
                np.clip(grad, -v, v, out=grad)
                clipped = True
        self.clipped_steps += clipped
        return clipped

    def _constants(self, dtype: np.dtype, *values: float) -> tuple:
        """`values` as scalars of θ's dtype, made once per (dtype, values), not at every step.

        A NumPy scalar costs about as much to create as a small ufunc call; the hyper-parameters of a
        step never change, so they are converted once (the same rounding as `dtype.type(value)`).
        """
        key = (dtype, values)
        cached = self.__dict__.get("_cached_constants")
        if cached is None or cached[0] != key:
            cached = self._cached_constants = (key, tuple(dtype.type(v) for v in values))
        return cached[1]

    def _begin_step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """What every step does first: state allocated, dθ clipped when asked, t := t + 1."""
        self._ensure_state(theta)
        if self.clipping:
            self.clip(grad)
        self.t += 1

    def _ensure_state(self, theta: np.ndarray) -> None:
        """Allocate zero state of θ's size and dtype on first use (the seeds' V = 0, S = 0)."""
        for key in self.state_names:
            arr = self.state.get(key)
            if arr is None or arr.shape != theta.shape or arr.dtype != theta.dtype:
                self.state[key] = np.zeros_like(theta)

    state_names: tuple[str, ...] = ()

    def step(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the state arrays plus the step count `t` (as a 0-d int64 array)."""
        out = {k: v.copy() for k, v in self.state.items()}
        out["t"] = np.array(self.t, dtype=np.int64)
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        missing = [k for k in self.state_names if k not in state]
        if missing:
            raise GradwiseValueError(f"optimizer state for {self.name} is missing {missing}")
        self.state = {k: np.array(state[k], copy=True) for k in self.state_names}
        self.t = int(state.get("t", 0))

    def reset(self) -> None:
        self.state, self.t = {}, 0

    def get_config(self) -> dict:
        config: dict = {"name": self.name, "learning_rate": self.learning_rate}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class GD(Optimizer):
    """Gradient descent: θ := θ − α dθ (batch, mini-batch or stochastic, depending on `batch_size`)."""

    name = "gd"

    def step(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        self._begin_step(theta, grad)
        lr = float(learning_rate)  # NumPy rounds it to θ's dtype, as dtype.type() would

        def update(theta, grad, work):
            np.multiply(grad, lr, out=work)  # no temporary per step
            theta -= work

        run_blocked(update, (theta, grad), scratch=1)


class Momentum(Optimizer):
    """Gradient descent with momentum: v := βv + (1 − β)dθ;  θ := θ − α v."""

    name = "momentum"
    state_names = ("v",)

    def __init__(self, beta: float = 0.9, learning_rate: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.beta = check_float("beta", beta, low=0.0, high=1.0, high_open=True)

    def step(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        self._begin_step(theta, grad)
        beta, one_minus_beta = self._constants(theta.dtype, self.beta, 1.0 - self.beta)
        lr = float(learning_rate)

        def update(theta, grad, v, work):
            v *= beta
            np.multiply(grad, one_minus_beta, out=work)
            v += work
            np.multiply(v, lr, out=work)
            theta -= work

        run_blocked(update, (theta, grad, self.state["v"]), scratch=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.beta}


class RMSprop(Optimizer):
    """RMSprop: s := βs + (1 − β)dθ²;  θ := θ − α dθ / (√s + ε)  (ε outside the root, as in Adam)."""

    name = "rmsprop"
    default_learning_rate = 0.001
    state_names = ("s",)

    def __init__(self, beta: float = 0.999, epsilon: float = 1e-8, learning_rate: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.beta = check_float("beta", beta, low=0.0, high=1.0, high_open=True)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)

    def step(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        self._begin_step(theta, grad)
        beta, one_minus_beta, eps = self._constants(theta.dtype, self.beta, 1.0 - self.beta, self.epsilon)
        lr = float(learning_rate)

        def update(theta, grad, s, work):
            s *= beta
            np.multiply(grad, grad, out=work)
            work *= one_minus_beta
            s += work
            np.sqrt(s, out=work)
            work += eps
            np.divide(grad, work, out=work)
            work *= lr
            theta -= work

        run_blocked(update, (theta, grad, self.state["s"]), scratch=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.beta, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam, the seeds' formulas with bias correction at step t:

        v := β₁v + (1 − β₁)dθ,    s := β₂s + (1 − β₂)dθ²,
        v̂ = v / (1 − β₁ᵗ),        ŝ = s / (1 − β₂ᵗ),
        θ := θ − α v̂ / (√ŝ + ε).
    """

    name = "adam"
    default_learning_rate = 0.001
    state_names = ("v", "s")

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                 learning_rate: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.beta1 = check_float("beta1", beta1, low=0.0, high=1.0, high_open=True)
        self.beta2 = check_float("beta2", beta2, low=0.0, high=1.0, high_open=True)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)

    def step(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        self._begin_step(theta, grad)
        b1, b2 = self.beta1, self.beta2
        beta1, one_minus_beta1, beta2, one_minus_beta2, eps = self._constants(
            theta.dtype, b1, 1.0 - b1, b2, 1.0 - b2, self.epsilon)
        # √ŝ + ε = √s / √(1 − β₂ᵗ) + ε ;  α v̂ = (α / (1 − β₁ᵗ)) v  (the bias corrections folded into
        # two scalars instead of two more passes over θ; torch.optim.Adam groups them the same way).
        # Python floats: NumPy rounds them to θ's dtype exactly as dtype.type() would.
        root_c2 = math.sqrt(1.0 - b2 ** self.t)
        step = learning_rate / (1.0 - b1 ** self.t)

        def update(theta, grad, v, s, work):
            v *= beta1
            np.multiply(grad, one_minus_beta1, out=work)
            v += work
            s *= beta2
            np.multiply(grad, grad, out=work)
            work *= one_minus_beta2
            s += work
            np.sqrt(s, out=work)
            work /= root_c2
            work += eps
            np.divide(v, work, out=work)
            work *= step
            theta -= work

        # all passes on one cache-sized block at a time (see gradwise._blocked): same bits, less traffic
        run_blocked(update, (theta, grad, self.state["v"], self.state["s"]), scratch=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (GD, Momentum, RMSprop, Adam)}


def get(optimizer: str | Optimizer | dict, learning_rate: float | None = None) -> Optimizer:
    """An optimizer from a name (`"adam"`), an instance, or a config dict."""
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            optimizer.learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
        return optimizer
    if isinstance(optimizer, dict):
        config = dict(optimizer)
        name = check_choice("optimizer", config.pop("name", None), tuple(OPTIMIZERS))
        if learning_rate is not None:
            config["learning_rate"] = learning_rate
        return OPTIMIZERS[name](**config)
    if not isinstance(optimizer, str):
        raise GradwiseTypeError(
            f"optimizer must be one of {list(OPTIMIZERS)} or an Optimizer, got {optimizer!r}")
    name = check_choice("optimizer", optimizer, tuple(OPTIMIZERS))
    return OPTIMIZERS[name](learning_rate=learning_rate)


__all__ = ["GD", "Momentum", "RMSprop", "Adam", "Optimizer", "OPTIMIZERS", "get"]
