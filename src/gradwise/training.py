"""The training loop: `fit` (full-batch, mini-batch or stochastic gradient descent) and `History`.

One epoch is one pass over the training set. With `batch_size=None` it is one full-batch iteration (the
course's `num_iterations`); otherwise the examples are reshuffled every epoch and cut into mini-batches
of `batch_size`, the last smaller batch kept (the course's `random_mini_batches`). Every update is one
call of the optimizer on the flat parameter vector θ, whatever the depth of the network.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import regularizers
from ._random import permutation
from ._validation import all_finite, as_2d_float, check_float, check_int
from .callbacks import Callback, Checkpoint, EarlyStopping, ProgressLogger, TerminateOnNaN
from .errors import GradwiseTypeError, GradwiseValueError, TrainingDivergedError
from .layers.base import INFERENCE, Mode
from .model import Sequential, accuracy_from_output
from .optim import optimizers as optim
from .optim import schedules


class History:
    """Per-epoch records of training, Keras-style.

    `history["cost"]`, `["accuracy"]` (classification), `["val_cost"]`, `["val_accuracy"]` or
    `["val_rmse"]` (with validation data), `["learning_rate"]`: lists with one float per epoch;
    `epoch`: the global (0-based) epoch numbers, which keep counting across successive `fit` calls.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def extend(self, other: History) -> None:
        for i, epoch in enumerate(other.epoch):
            self.append(epoch, {k: v[i] for k, v in other.history.items()})

    def _pop(self) -> None:
        """Forget the last epoch (training rolled back over it after a divergence)."""
        self.epoch.pop()
        for values in self.history.values():
            values.pop()

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict[str, list]:
        """`{"epoch": [...], "cost": [...], ...}`: JSON-able, exact (floats round-trip through JSON)."""
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        if not isinstance(data, dict):
            raise GradwiseTypeError(f"History.from_dict expects a dict, got {type(data).__name__}")
        h = cls()
        h.epoch = [int(e) for e in data.get("epoch", [])]
        h.history = {k: [float(x) for x in v] for k, v in data.items() if k != "epoch"}
        return h

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"


# ----------------------------------------------------------------------------------- argument checks
def _resolve_verbose(verbose: Any) -> int:
    if isinstance(verbose, str) and verbose == "auto":
        # Keras' "auto": a live display on a terminal, nothing in logs, pipes and CI.
        isatty = getattr(sys.stderr, "isatty", None)
        return 1 if isatty is not None and isatty() else 0
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise GradwiseValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _resolve_optimizer(model: Sequential, optimizer: Any, learning_rate: float | None) -> optim.Optimizer:
    """The optimizer of this fit; a second fit continues with the model's optimizer and its state.

    None reuses the model's optimizer (plain gradient descent on a first fit); a name equal to the
    model's optimizer reuses it too (Adam keeps t, v, s); a new name or instance starts afresh.
    """
    if learning_rate is not None:
        learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    previous = model.optimizer
    if optimizer is None:
        optimizer = previous if previous is not None else "gd"
    if isinstance(optimizer, str) and previous is not None and previous.name == optimizer.lower():
        optimizer = previous
    return optim.get(optimizer, learning_rate)


def _learning_rate(schedule: Callable[[int, float], float] | None, epoch: int, lr0: float) -> float:
    if schedule is None:
        return lr0
    lr = schedule(epoch, lr0)
    try:
        value = float(lr)
    except (TypeError, ValueError):
        value = math.nan
    # 0 is allowed: a long exponential decay underflows to exactly 0.0, and a rate of 0 is a valid (still) step.
    if not math.isfinite(value) or value < 0.0:
        raise GradwiseValueError(f"schedule {schedule!r} gave learning rate {lr!r} at epoch {epoch}; "
                                 f"a learning rate must be a finite number >= 0")
    return value


def _split_size(m: int, validation_split: float) -> int:
    """Rows kept for training: Keras' `floor(m · (1 − validation_split))`; the rest validates."""
    n_train = int(math.floor(m * (1.0 - validation_split)))
    if n_train < 1 or n_train >= m:
        raise GradwiseValueError(
            f"validation_split={validation_split} leaves {n_train} training and {m - n_train} validation "
            f"examples out of {m}; both must be at least 1")
    return n_train


def _is_fitted(standardizer: Any) -> bool:
    fitted = getattr(standardizer, "is_fitted", None)
    return bool(fitted) if fitted is not None else getattr(standardizer, "mean_", None) is not None


def _prepare_data(model, X, y, validation_data, validation_split):
    """Validated, standardized training arrays and the validation pair (or None).

    `validation_split` takes the *last* fraction of the rows, before any shuffling (as Keras does).
    A model whose `standardizer` is set but not yet fitted gets it fitted on the training rows only,
    so dev data never leaks into μ and σ.
    """
    if validation_split and validation_data is not None:
        raise GradwiseValueError("give validation_data or validation_split, not both")
    st = model.standardizer
    if st is not None and not _is_fitted(st):
        raw = as_2d_float("X", X, model.dtype, n_features=model.input_dim)
        n_fit = _split_size(raw.shape[0], validation_split) if validation_split else raw.shape[0]
        st.fit(raw[:n_fit])
    X = model._check_X(X)  # validates, builds on first sight, applies the standardizer
    y = model._targets(y, X.shape[0])
    validation = None
    if validation_split:
        n_train = _split_size(X.shape[0], validation_split)
        validation = (X[n_train:], y[n_train:])
        X, y = X[:n_train], y[:n_train]
    elif validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            described = (f"a {type(validation_data).__name__} of length {len(validation_data)}"
                         if isinstance(validation_data, tuple | list) else repr(validation_data)[:60])
            raise GradwiseTypeError(f"validation_data must be a pair (X_dev, y_dev), got {described}")
        X_val = model._check_X(validation_data[0], "validation_data X")
        validation = (X_val, model._targets(validation_data[1], X_val.shape[0], "validation_data y"))
    return X, y, validation


def _metric_names(model: Sequential, has_validation: bool) -> list[str]:
    """The keys `fit` records each epoch (told to callbacks up front, so a bad `monitor` fails early)."""
    names = ["cost"] if model.loss == "mse" else ["cost", "accuracy"]
    if has_validation:
        names += ["val_cost", "val_rmse" if model.loss == "mse" else "val_accuracy"]
    return names + ["learning_rate"]


def _evaluate_prepared(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """`model.evaluate` on arrays already validated and standardized (so they are not transformed twice)."""
    A, Z = model._forward(X, INFERENCE)
    J = model._data_loss(A, Z, y)[0]
    if model.l2 or model.l1:
        J += regularizers.penalty(model._weights, X.shape[0], model.l2, model.l1)
    if model.loss == "mse":
        return {"cost": float(J), "rmse": float(np.sqrt(np.mean((A - y) ** 2)))}
    return {"cost": float(J), "accuracy": accuracy_from_output(model.loss, A, y)}


# ----------------------------------------------------------------------------------------- the loop
def fit(
    model: Sequential,
    X: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int | None = None,
    optimizer: str | optim.Optimizer | None = None,
    learning_rate: float | None = None,
    schedule: schedules.Schedule | Callable[[int, float], float] | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    callbacks: Sequence[Callback] | None = None,
    augment: Callable[[np.ndarray, Any], np.ndarray] | None = None,
    shuffle: bool | Callable[[int, int], np.ndarray] = True,
    verbose: int | str = 0,
    terminate_on_nan: bool = True,
    resume_from: str | os.PathLike | None = None,
) -> History:
    """Train `model` on (X, y) and return the `History` of this call.

    Parameters
    ----------
    model : Sequential
    X : array of shape (m, n_x)
    y : array of shape (m,) (labels or values) or (m, k)
    epochs : int >= 0
        Passes over the training set in this call (with `resume_from`: the total to reach). With
        `batch_size=None` one epoch is one full-batch iteration, the course's `num_iterations`.
        Epoch numbers keep counting across calls: a second `fit` continues training.
    batch_size : int or None
        None: batch gradient descent (no shuffling); 1: stochastic gradient descent; otherwise
        mini-batches of this size, reshuffled every epoch, the last smaller batch kept.
    optimizer : None, "gd", "momentum", "rmsprop", "adam" or an Optimizer
        None keeps the model's optimizer (gradient descent on a first fit). The same name as the
        model's optimizer continues with its state (Adam's t, v, s); another name starts afresh.
    learning_rate : float > 0, optional
        α₀; defaults to the optimizer's own (0.01 for gd/momentum, 0.001 for rmsprop/adam).
    schedule : Schedule or callable (epoch, α₀) -> α, optional
        E.g. `InverseTimeDecay(1, decay_steps=1000, staircase=True)`; `epoch` counts across fits.
    validation_data : (X_dev, y_dev), optional
    validation_split : float in [0, 1)
        Hold out the *last* fraction of the rows, before any shuffling (as Keras does).
    callbacks : list of Callback
    augment : callable (X_batch, rng) -> X_batch, optional
        Applied to every training batch (never to validation data); see `gradwise.augment`.
    shuffle : bool or callable (epoch, m) -> permutation of range(m)
        A callable reproduces a given shuffling protocol (e.g. the course's reseeded permutations).
    verbose : 0, 1, 2 or "auto"
        Progress on stderr: 1 a live line, 2 one line per epoch, "auto" 1 on a terminal and 0 otherwise.
    terminate_on_nan : bool
        A non-finite cost (or non-finite weights after an epoch) stops training and raises
        `TrainingDivergedError` naming the epoch and batch. The model is rolled back to the last
        weights that gave a finite cost (epochs rolled over are dropped from the history) and the
        optimizer's moments are reset. Passing a `TerminateOnNaN()` callback turns it on as well.
    resume_from : path, optional
        A checkpoint written by `Checkpoint`: θ, buffers, optimizer, RNG, history, callback state and
        Standardizer are restored and training continues up to `epochs` in total, with results
        bit-identical to an uninterrupted run given the same data and arguments (the schedule,
        batch size and callbacks are not stored: pass them again). The checkpoint's optimizer settings
        win over `optimizer=`; a missing file raises `ModelFileError`.

    Returns
    -------
    History
        `history["cost"][i]` is J (regularization included) of epoch i's training forward passes,
        averaged over its mini-batches weighted by their size; for full batch it is the cost *before*
        that iteration's update, as the course prints it. `history["learning_rate"][i]` is the α used.
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
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks or [])
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise GradwiseTypeError(f"callbacks[{i}] must be a gradwise Callback, got {cb!r}")
    terminate_on_nan = bool(terminate_on_nan) or any(isinstance(cb, TerminateOnNaN) for cb in callbacks)

    checkpoint = None
    if resume_from is not None:
        from .checkpoint import load_checkpoint, restore_standardizer

        checkpoint = load_checkpoint(resume_from)
        saved_epochs = int(checkpoint[1]["epoch"])
        if epochs < saved_epochs:
            raise GradwiseValueError(
                f"the checkpoint {os.fspath(resume_from)!r} already holds {saved_epochs} epochs, more than "
                f"epochs={epochs} (with resume_from, epochs is the total to reach)")
        restore_standardizer(model, checkpoint)  # before the data is standardized with it

    X, y, validation = _prepare_data(model, X, y, validation_data, validation_split)

    if checkpoint is not None:
        from .checkpoint import restore_training_state

        history = restore_training_state(model, checkpoint, opt)
        opt = model.optimizer
        total = epochs
    else:
        history = History()
        total = model.epochs_trained + epochs
    first_epoch = model.epochs_trained
    lr0 = check_float("learning_rate", opt.learning_rate, low=0.0, low_open=True)

    # Checkpoints run after every other callback so they capture the epoch's final state
    # (EarlyStopping's counters included); the progress display is not part of that state.
    if verbose:
        callbacks.append(ProgressLogger(verbose))
    callbacks.sort(key=lambda cb: isinstance(cb, Checkpoint))
    for cb in callbacks:
        cb.model = model
        if isinstance(cb, Checkpoint):
            cb.trainer_callbacks = callbacks
    model.optimizer = opt
    model.stop_training = False
    if not isinstance(model.history, History):
        model.history = History()
    metrics = _metric_names(model, validation is not None)
    begin_logs = {"epochs": total, "initial_epoch": first_epoch, "metrics": metrics}
    for cb in callbacks:
        cb.on_train_begin(dict(begin_logs))
    if checkpoint is not None:
        from .checkpoint import restore_callback_states

        restore_callback_states(callbacks, checkpoint)
        model.stop_training = bool(checkpoint[1].get("stop_training", False))

    m = X.shape[0]
    batch = m if batch_size is None else min(batch_size, m)
    starts = range(0, m, batch)
    classification = model.loss != "mse"
    categorical = model.loss == "categorical_crossentropy"
    # Accuracy counts hits against labels prepared once (0/1 → bool), not a float mean per batch.
    labels = (y if categorical else y > 0.5) if classification else None
    outputs_per_example = 1 if categorical or labels is None else labels.shape[1]
    # Each batch's predictions go into one array for the epoch, compared with the labels once at its end
    # (a compare and a count per batch cost more than the rest of a small network's bookkeeping).
    predictions = None if not classification else (
        np.empty(m, np.intp) if categorical else np.empty(labels.shape, bool))
    # One Mode for the whole run: dropout masks and shuffles draw from the model's generator.
    mode = Mode(training=True, dropout=True, update_stats=True, rng=model.rng)
    reshuffle = callable(shuffle) or (shuffle and batch < m)
    # A shuffled copy of a large training set per epoch costs its full size again in memory (188 MB for
    # 60,000 MNIST-shaped float32 rows) and a pass over it; gather each batch's rows into a reused
    # buffer instead. Small sets are still copied whole: one copy is cheaper than a gather per batch.
    gather = reshuffle and X.nbytes > _GATHER_ABOVE_BYTES
    x_batch = np.empty((batch, X.shape[1]), X.dtype) if gather else None
    theta, grad = model.theta, model.grad
    fallback = _Fallback(model) if terminate_on_nan else None
    # With the divergence check on, fit reports a blow-up itself (TrainingDivergedError naming the epoch
    # and batch), so NumPy's overflow/invalid warnings on the way there would only be noise.
    fp_guard = np.errstate(over="ignore", invalid="ignore") if terminate_on_nan else contextlib.nullcontext()
    error: TrainingDivergedError | None = None
    try:
        with fp_guard:
            for epoch in range(first_epoch, total):
                if model.stop_training:
                    break
                lr = _learning_rate(schedule, epoch, lr0)
                for cb in callbacks:
                    cb.on_epoch_begin(epoch)
                if reshuffle:
                    perm = _permutation(shuffle, epoch, m, model.rng)
                    if gather and _in_range(perm, m):
                        Xs = None
                    else:
                        Xs = X[perm]
                    ys = y[perm]
                    ls = ys if labels is y else labels[perm] if classification else None
                else:
                    Xs, ys, ls = X, y, labels
                if terminate_on_nan:
                    fallback.epoch_start()
                cost_sum = 0.0
                b = 0
                for b, start in enumerate(starts):
                    yb = ys[start:start + batch]
                    if Xs is None:  # rows perm[start:start + batch] of X, into the reused buffer
                        nb = yb.shape[0]
                        Xb = np.take(X, perm[start:start + nb], axis=0, out=x_batch[:nb], mode="wrap")
                    else:
                        Xb = Xs[start:start + batch]
                    if augment is not None:
                        Xb = _augmented(augment, Xb, model)
                    J, A = model.loss_and_gradient(Xb, yb, mode)
                    if terminate_on_nan and not math.isfinite(J):
                        raise _diverged(model, opt, fallback, history, epoch, b, f"the cost is {J}", lr)
                    opt.step(theta, grad, lr)
                    nb = Xb.shape[0]
                    cost_sum += J * nb
                    if classification:
                        if categorical:
                            A.argmax(axis=1, out=predictions[start:start + nb])
                        else:
                            np.greater(A, 0.5, out=predictions[start:start + nb])
                # The last update of the epoch was not followed by a cost; check the weights it left.
                if terminate_on_nan and not all_finite(theta):
                    raise _diverged(model, opt, fallback, history, epoch, b,
                                    "the last update left non-finite weights", lr, after_update=True)
                logs = {"cost": cost_sum / m}
                if classification:
                    correct = int(np.count_nonzero(predictions == ls))
                    logs["accuracy"] = correct / (m * outputs_per_example)
                if validation is not None:
                    for key, value in _evaluate_prepared(model, *validation).items():
                        logs[f"val_{key}"] = value
                logs["learning_rate"] = lr
                history.append(epoch, logs)
                model.epochs_trained = epoch + 1
                _record(model, epoch, logs)
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
    except TrainingDivergedError as exc:
        error = exc
    finally:
        model.clear_cache()
    for cb in callbacks:
        cb.on_train_end({"epochs_trained": model.epochs_trained})
    if error is not None:
        raise error
    return history


#: training sets larger than this are shuffled batch by batch (see `fit`), smaller ones copied whole
_GATHER_ABOVE_BYTES = 4 << 20


def _in_range(perm: np.ndarray, m: int) -> bool:
    """Every index valid for X[perm] (-m ≤ i < m), so that np.take(mode="wrap") picks the same rows;
    otherwise fit indexes X[perm] and raises NumPy's own IndexError."""
    return bool(perm.min() >= -m and perm.max() < m)


def _permutation(shuffle, epoch: int, m: int, rng) -> np.ndarray:
    if not callable(shuffle):
        return permutation(rng, m)
    perm = np.asarray(shuffle(epoch, m))
    if perm.shape != (m,) or not np.issubdtype(perm.dtype, np.integer):
        raise GradwiseValueError(f"shuffle({epoch}, {m}) must return a permutation of range({m}), got an "
                                 f"array of shape {perm.shape} and dtype {perm.dtype}")
    return perm


def _augmented(augment, Xb: np.ndarray, model: Sequential) -> np.ndarray:
    out = augment(Xb, model.rng)
    if getattr(out, "shape", None) != Xb.shape:
        raise GradwiseValueError(f"augment must return a batch of shape {Xb.shape}, got "
                                 f"{getattr(out, 'shape', type(out).__name__)}")
    return np.ascontiguousarray(out, dtype=model.dtype)


class _Fallback:
    """θ and the batch-norm buffers at the start of this epoch and of the previous one.

    A divergence rolls back to the most recent of them known to give a finite cost. One copy per epoch,
    none per batch: the two buffers are swapped, not reallocated.
    """

    def __init__(self, model: Sequential):
        self.model = model
        self.current = (np.empty_like(model.theta), np.empty_like(model.buffer))
        self.previous = (np.empty_like(model.theta), np.empty_like(model.buffer))
        self.epochs_seen = 0

    def epoch_start(self) -> None:
        self.previous, self.current = self.current, self.previous
        np.copyto(self.current[0], self.model.theta)
        if self.model.buffer.size:
            np.copyto(self.current[1], self.model.buffer)
        self.epochs_seen += 1

    def restore(self, which: tuple[np.ndarray, np.ndarray]) -> None:
        self.model.theta[...] = which[0]
        self.model.buffer[...] = which[1]


def _diverged(model: Sequential, opt: optim.Optimizer, fallback: _Fallback, history: History, epoch: int,
              batch: int, what: str, lr: float, after_update: bool = False) -> TrainingDivergedError:
    """Roll the model back to the last weights that gave a finite cost; the error names where it failed.

    Failing on a later batch (or on the weights the last update left), the start of this epoch gave a
    finite cost on its first batch. Failing on the first batch, this epoch's start *is* the bad point:
    go back to the previous epoch's start and drop that epoch from the records. On the first batch of
    the first epoch of this call nothing was updated yet, so the weights stay as they were.
    """
    if after_update or batch > 0:
        fallback.restore(fallback.current)
    elif fallback.epochs_seen > 1:
        fallback.restore(fallback.previous)
        for h in (history, model.history):
            h._pop()
        model.epochs_trained -= 1
    # The moments were built on the way to the blow-up; continuing with them would diverge again.
    opt.reset()
    return TrainingDivergedError(
        f"training diverged at epoch {epoch + 1}, batch {batch + 1}: {what}. The model holds the weights "
        f"after epoch {model.epochs_trained}, the last that gave a finite cost, and the optimizer state "
        f"was reset. Try a smaller learning rate (now {lr:g}).")


def _record(model: Sequential, epoch: int, logs: dict[str, float]) -> None:
    """Keep `model.history` as the concatenation of every fit's History."""
    if not isinstance(model.history, History):
        model.history = History()
    model.history.append(epoch, logs)


__all__ = ["fit", "History", "Callback", "EarlyStopping", "TerminateOnNaN", "Checkpoint"]
