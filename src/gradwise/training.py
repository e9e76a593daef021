"""The training loop: `fit` (full-batch, mini-batch or stochastic gradient descent) and `History`."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._random import permutation
from ._validation import as_2d_float, check_float, check_int
from .callbacks import Callback, Checkpoint, EarlyStopping, ProgressLogger, TerminateOnNaN
from .errors import GradwiseTypeError, GradwiseValueError, TrainingDivergedError
from .layers.base import Mode
from .model import Sequential, accuracy_from_output
from .optim import optimizers as optim
from .optim import schedules


class History:
    """Per-epoch records of a `fit`: `history["cost"]`, `["accuracy"]`, `["val_cost"]`,
    `["val_accuracy"]`, `["learning_rate"]` (lists, one entry per epoch) and `epoch` (global numbers)."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def extend(self, other: History) -> None:
        for epoch, i in zip(other.epoch, range(len(other.epoch)), strict=True):
            self.append(epoch, {k: v[i] for k, v in other.history.items()})

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict:
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        h = cls()
        h.epoch = [int(e) for e in data.get("epoch", [])]
        h.history = {k: [float(x) for x in v] for k, v in data.items() if k != "epoch"}
        return h

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"


def _resolve_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1 if sys.stderr.isatty() else 0
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise GradwiseValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _resolve_optimizer(model: Sequential, optimizer: Any, learning_rate: float | None) -> optim.Optimizer:
    """Reuse the model's optimizer (and its state) when a second fit asks for the same one."""
    if learning_rate is not None:
        learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    previous = model.optimizer
    if isinstance(optimizer, str) and previous is not None and previous.name == optimizer.lower():
        if learning_rate is not None:
            previous.learning_rate = learning_rate
        return previous
    return optim.get(optimizer, learning_rate)


def fit(
    model: Sequential,
    X: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int | None = None,
    optimizer: str | optim.Optimizer = "gd",
    learning_rate: float | None = None,
    schedule: schedules.Schedule | Callable[[int, float], float] | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    callbacks: Sequence[Callback] | None = None,
    augment: Callable[[np.ndarray, Any], np.ndarray] | None = None,
    shuffle: bool | Callable[[int, int], np.ndarray] = True,
    verbose: int | str = 0,
    terminate_on_nan: bool = True,
    resume_from: Any = None,
) -> History:
    """Train `model` on (X, y) and return the `History` of this call.

    Parameters
    ----------
    X : array of shape (m, n_x);  y : array of shape (m,) (labels or values) or (m, k)
    epochs : int
        Passes over the training set. With `batch_size=None` one epoch is one full-batch iteration
        (the course's `num_iterations`).
    batch_size : int or None
        None: batch gradient descent; 1: stochastic; otherwise mini-batches of this size, reshuffled
        every epoch, the last smaller batch kept (the course's `random_mini_batches`).
    optimizer : "gd" | "momentum" | "rmsprop" | "adam" or an Optimizer
        A second `fit` with the same optimizer name continues with its state (Adam's t, v, s).
    learning_rate : float, optional
        α₀; defaults to the optimizer's own (0.01 for gd/momentum, 0.001 for rmsprop/adam).
    schedule : callable (epoch, α₀) -> α, optional
        E.g. `InverseTimeDecay(1, decay_steps=1000, staircase=True)`; the epoch is counted across fits.
    validation_data : (X_dev, y_dev), optional;  validation_split : float in [0, 1)
        The split takes the *last* fraction of the examples, before any shuffling (as Keras does).
    callbacks : list of Callback
    augment : callable (X_batch, rng) -> X_batch, optional
        Applied to every training batch (see `gradwise.augment`).
    shuffle : bool or callable (epoch, m) -> permutation
        A callable reproduces a given shuffling protocol (e.g. the course's reseeded permutations).
    verbose : 0, 1, 2 or "auto"
        Progress on stderr; "auto" shows it only on a terminal.
    terminate_on_nan : bool
        A non-finite cost stops training before the bad update, keeps the last finite weights and
        raises `TrainingDivergedError` naming the epoch and batch.
    resume_from : path, optional
        A checkpoint written by `Checkpoint`: continue from it up to `epochs` in total, with results
        bit-identical to an uninterrupted run.

    `history["cost"][i]` is J (regularization included) of epoch i's training forward passes, averaged
    over its mini-batches weighted by their size; for full batch, the cost before that iteration's update.
    """
    if not isinstance(model, Sequential):
        raise GradwiseTypeError(f"model must be a gradwise Sequential, got {type(model).__name__}")
    epochs = check_int("epochs", epochs, minimum=0)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    validation_split = check_float("validation_split", validation_split, low=0.0, high=1.0, high_open=True)
    verbose = _resolve_verbose(verbose)
    if augment is not None and not callable(augment):
        raise GradwiseTypeError(f"augment must be a callable (X_batch, rng) -> X_batch, got {augment!r}")
    if not (isinstance(shuffle, bool) or callable(shuffle)):
        raise GradwiseTypeError(f"shuffle must be True, False or a callable (epoch, m), got {shuffle!r}")
    schedule = schedules.get(schedule)
    opt = _resolve_optimizer(model, optimizer, learning_rate)
    callbacks = list(callbacks or [])
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise GradwiseTypeError(f"callbacks[{i}] must be a gradwise Callback, got {cb!r}")

    X = model._check_X(X)
    y = model._targets(y, X.shape[0])
    if validation_split:
        n_val = int(math.floor(X.shape[0] * validation_split))
        if n_val < 1 or n_val >= X.shape[0]:
            raise GradwiseValueError(
                f"validation_split={validation_split} leaves {X.shape[0] - n_val} training and {n_val} "
                f"validation examples; both must be at least 1")
        if validation_data is not None:
            raise GradwiseValueError("give validation_data or validation_split, not both")
        validation = (X[-n_val:], y[-n_val:])
        X, y = X[:-n_val], y[:-n_val]
    elif validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise GradwiseTypeError("validation_data must be a pair (X_dev, y_dev)")
        X_val = as_2d_float("validation_data X", validation_data[0], model.dtype, n_features=model.input_dim)
        if model.standardizer is not None:
            X_val = np.ascontiguousarray(model.standardizer.transform(X_val), dtype=model.dtype)
        validation = (X_val, model._targets(validation_data[1], X_val.shape[0], "validation_data y"))
    else:
        validation = None

    if verbose:
        callbacks.append(ProgressLogger(verbose))
    for cb in callbacks:
        cb.model = model
        if isinstance(cb, Checkpoint):
            cb.trainer_callbacks = callbacks
    model.stop_training = False
    model.optimizer = opt
    lr0 = opt.learning_rate
    history = History()

    first_epoch = model.epochs_trained
    for cb in callbacks:
        cb.on_train_begin({"epochs": epochs, "initial_epoch": first_epoch})
    if resume_from is not None:
        from .checkpoint import load_checkpoint, restore_checkpoint

        history = restore_checkpoint(model, load_checkpoint(resume_from), callbacks)
        first_epoch = model.epochs_trained
        opt = model.optimizer
        lr0 = opt.learning_rate
    else:
        # `epochs` counts this call's epochs; a second fit continues the global epoch count.
        epochs = first_epoch + epochs

    m = X.shape[0]
    batch = m if batch_size is None else min(batch_size, m)
    classification = model.loss != "mse"
    mode = Mode(training=True, dropout=True, update_stats=True, rng=model.rng)
    full_batch = batch >= m and not callable(shuffle)
    error: TrainingDivergedError | None = None
    try:
        for epoch in range(first_epoch, epochs):
            lr = schedule(epoch, lr0) if schedule is not None else lr0
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            if full_batch or not shuffle:
                Xs, ys = X, y
            else:
                perm = shuffle(epoch, m) if callable(shuffle) else permutation(model.rng, m)
                Xs, ys = X[perm], y[perm]
            cost_sum = 0.0
            correct = 0.0
            snapshot = model.theta.copy() if terminate_on_nan else None
            for b, start in enumerate(range(0, m, batch)):
                Xb, yb = Xs[start:start + batch], ys[start:start + batch]
                if augment is not None:
                    Xb = np.ascontiguousarray(augment(Xb, model.rng), dtype=model.dtype)
                J, A = model.loss_and_gradient(Xb, yb, mode)
                if terminate_on_nan and not math.isfinite(J):
                    if not np.isfinite(model.theta).all():
                        model.theta[...] = snapshot
                    raise TrainingDivergedError(
                        f"training diverged at epoch {epoch + 1}, batch {b + 1}: the cost is {J}; "
                        f"the model keeps the last finite weights. Try a smaller learning rate (now {lr:g}).")
                opt.step(model.theta, model.grad, lr)
                nb = Xb.shape[0]
                cost_sum += J * nb
                if classification:
                    correct += accuracy_from_output(model.loss, A, yb) * nb
            logs = {"cost": cost_sum / m}
            if classification:
                logs["accuracy"] = correct / m
            if validation is not None:
                for key, value in model.evaluate(*validation).items():
                    logs[f"val_{key}"] = value
            logs["learning_rate"] = lr
            history.append(epoch, logs)
            model.epochs_trained = epoch + 1
            _record(model, history)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    except TrainingDivergedError as exc:
        error = exc
    finally:
        model.clear_cache()
    for cb in callbacks:
        cb.on_train_end({})
    if error is not None:
        raise error
    return history


def _record(model: Sequential, history: History) -> None:
    """Keep `model.history` as the concatenation of every fit's History."""
    if model.history is None or not isinstance(model.history, History):
        model.history = History()
    if not model.history.epoch or model.history.epoch[-1] < history.epoch[-1]:
        model.history.append(history.epoch[-1], {k: v[-1] for k, v in history.history.items()})


__all__ = ["fit", "History", "Callback", "EarlyStopping", "TerminateOnNaN", "Checkpoint"]
