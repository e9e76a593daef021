"""The learning-rate range test (fastai's `lr_find`): a short run with α growing exponentially each mini-batch.

The seeds say to search α on a log scale; this does it in one run of a few hundred mini-batches. The cost
falls slowly while α is too small, fast around good values, and blows up once α is too large; the
suggestion is read off the smoothed curve. The model is restored bit for bit afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ._random import get_state, set_state
from ._validation import check_choice, check_float, check_int
from .batches import Batches
from .errors import GradwiseValueError
from .layers.base import TRAINING
from .optim import optimizers as optim

if TYPE_CHECKING:
    from .model import Sequential

RULES = ("minimum", "steepest")


@dataclass
class LRFindResult:
    """The range test's curve and its suggested α.

    Attributes
    ----------
    lrs : array of shape (n,)
        α of each step taken, start_lr · (end_lr/start_lr)^(i/(num_steps−1)).
    costs : array of shape (n,)
        J of each mini-batch before its update.
    smoothed : array of shape (n,)
        The bias-corrected exponential moving average of `costs` (β = `smoothing`).
    suggestion : float
    rule : str
        How `suggestion` was chosen: "minimum" (α at the lowest smoothed cost / 10) or "steepest" (α where
        the smoothed cost falls fastest against log α, before its minimum).
    diverged : bool
        True when the test stopped early because the smoothed cost exceeded `diverge` × its minimum.
    """

    lrs: np.ndarray
    costs: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    rule: str
    diverged: bool
    explanation: str = field(default="")

    def plot(self, ax_or_path: Any = None):
        """Smoothed cost against α (log axis), the raw costs faint, the suggestion marked.

        `ax_or_path`: a matplotlib Axes, a PNG path, or None for a new figure (returned).
        """
        from .plots import plot_lr_find, subplots

        if ax_or_path is None:
            fig, ax = subplots(1, 1, figsize=(5.4, 3.8))
            plot_lr_find(ax, self.lrs, self.costs, self.smoothed, self.suggestion, self.rule)
            return fig
        return plot_lr_find(ax_or_path, self.lrs, self.costs, self.smoothed, self.suggestion, self.rule)


def _smooth(costs: list[float], beta: float) -> np.ndarray:
    """avg_i = β·avg_{i−1} + (1−β)·J_i, reported as avg_i / (1 − β^(i+1)) (bias correction, as Adam)."""
    out, avg = np.empty(len(costs)), 0.0
    for i, J in enumerate(costs):
        avg = beta * avg + (1.0 - beta) * J
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def suggest(lrs: np.ndarray, smoothed: np.ndarray, rule: str = "minimum") -> tuple[float, str, str]:
    """(α, the rule used, explanation) read off a range test's smoothed curve (see `LRFindResult.rule`).

    "steepest" needs a falling stretch of at least 3 points before the minimum; without one, "minimum" is used.
    """
    best = int(np.argmin(smoothed))
    if rule == "minimum" or best < 2:
        return float(lrs[best] / 10.0), "minimum", (f"the lowest smoothed cost {smoothed[best]:.4g} is at "
                                                    f"α = {lrs[best]:.3g}; one tenth of it")
    slope = np.gradient(smoothed[:best + 1], np.log(lrs[:best + 1]))
    i = int(np.argmin(slope))
    return float(lrs[i]), "steepest", (f"the smoothed cost falls fastest (slope {slope[i]:.3g} per e-fold of "
                                       f"α) at α = {lrs[i]:.3g}")


def _snapshot(model: Sequential) -> tuple:
    return (model.theta.copy(), model.buffer.copy(), get_state(model.rng), model.epochs_trained,
            model.stop_training)


def _restore(model: Sequential, snapshot: tuple) -> None:
    theta, buffer, rng_state, epochs, stop = snapshot
    model.theta[...] = theta
    model.buffer[...] = buffer
    set_state(model.rng, rng_state)
    model.epochs_trained, model.stop_training = epochs, stop
    model.clear_cache()


def lr_find(model: Sequential, X: Any, y: Any, *, start_lr: float = 1e-6, end_lr: float = 10.0,
            num_steps: int = 200, batch_size: int | None = 32, optimizer: str | optim.Optimizer | None = None,
            smoothing: float = 0.9, diverge: float = 4.0, rule: str = "minimum") -> LRFindResult:
    """Run the learning-rate range test on (X, y) and suggest α₀; `model` is left as it was.

    Step i (mini-batches drawn as `fit` draws them, reshuffled each pass) uses α_i = start_lr ·
    (end_lr/start_lr)^(i/(num_steps−1)). The test stops early when a cost is not finite or the smoothed
    cost exceeds `diverge` × its lowest value. θ, the batch-norm buffers, the RNG state, the epoch count
    and the model's optimizer are bit-identical afterwards (an unbuilt model is built, and an unfitted
    Standardizer fitted on X, as `fit` would).

    Parameters
    ----------
    model : Sequential
    X : array of shape (m, n_x);  y : array of shape (m,) or (m, k)
    start_lr, end_lr : float, 0 < start_lr < end_lr
    num_steps : int >= 5
    batch_size : int or None (full batch)
    optimizer : name or Optimizer, optional
        A fresh copy of it (default: of the model's optimizer, or "gd") takes the steps.
    smoothing : float in [0, 1)
    diverge : float > 1
    rule : "minimum" or "steepest"

    Returns
    -------
    LRFindResult
    """
    start_lr = check_float("start_lr", start_lr, low=0.0, low_open=True)
    end_lr = check_float("end_lr", end_lr, low=0.0, low_open=True)
    if start_lr >= end_lr:
        raise GradwiseValueError(f"the lr_find range is inverted: start_lr={start_lr:g} must be below "
                                 f"end_lr={end_lr:g}")
    num_steps = check_int("num_steps", num_steps, minimum=5)
    smoothing = check_float("smoothing", smoothing, low=0.0, high=1.0, high_open=True)
    diverge = check_float("diverge", diverge, low=1.0, low_open=True)
    rule = check_choice("rule", rule, RULES)
    opt = _fresh_optimizer(model, optimizer)
    X, y = _prepared(model, X, y, batch_size)
    saved = _snapshot(model)
    try:
        lrs, costs, diverged = _run(model, opt, Batches(X, y, batch_size, True, model.rng, None, None),
                                    start_lr, end_lr, num_steps, smoothing, diverge)
    finally:
        _restore(model, saved)
    smoothed = _smooth(costs, smoothing)
    finite = np.isfinite(smoothed)
    if finite.sum() < 2:
        raise GradwiseValueError(f"lr_find diverged at once (start_lr={start_lr:g}); try a smaller start_lr")
    lr_arr, smoothed = np.array(lrs)[finite], smoothed[finite]
    suggestion, used, why = suggest(lr_arr, smoothed, rule)
    return LRFindResult(lr_arr, np.array(costs)[finite], smoothed, suggestion, used, diverged, why)


def _fresh_optimizer(model: Sequential, optimizer: Any) -> optim.Optimizer:
    if optimizer is None:
        optimizer = model.optimizer.get_config() if model.optimizer is not None else "gd"
    elif isinstance(optimizer, optim.Optimizer):
        optimizer = optimizer.get_config()
    return optim.get(optimizer)


def _prepared(model: Sequential, X: Any, y: Any, batch_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    if batch_size is not None:
        check_int("batch_size", batch_size, minimum=1)
    st = model.standardizer
    if st is not None and not st.is_fitted:
        st.fit(np.asarray(X, dtype=model.dtype))
    X = model.prepare_inputs(X)
    return X, model.prepare_targets(y, X.shape[0])


def _run(model: Sequential, opt: optim.Optimizer, batches: Batches, start_lr: float, end_lr: float,
         num_steps: int, smoothing: float, diverge: float) -> tuple[list[float], list[float], bool]:
    """(α of each step, its cost, whether the cost diverged) — training `model` in place."""
    mode = replace(TRAINING, rng=model.rng)
    lrs: list[float] = []
    costs: list[float] = []
    avg, lowest, epoch = 0.0, math.inf, 0
    while True:
        for _, Xb, yb, wb in batches.epoch(epoch):
            i = len(costs)
            lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
            J, _ = model.loss_and_gradient(Xb, yb, mode, wb)
            lrs.append(lr)
            costs.append(J)
            if not math.isfinite(J):
                return lrs, costs, True
            avg = smoothing * avg + (1.0 - smoothing) * J
            current = avg / (1.0 - smoothing ** (i + 1))
            lowest = min(lowest, current)
            if current > diverge * lowest:
                return lrs, costs, True
            if i + 1 == num_steps:
                return lrs, costs, False
            opt.step(model.theta, model.grad, lr)
            if not np.all(np.isfinite(model.theta)):
                return lrs, costs, True
        epoch += 1


__all__ = ["lr_find", "LRFindResult", "suggest", "RULES"]
