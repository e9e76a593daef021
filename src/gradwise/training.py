"""The training loop: `fit` (full-batch, mini-batch or stochastic gradient descent).

One epoch is one pass over the training set (`gradwise.batches`). Each mini-batch is one step of the
seeds' loop: forward, cost, backward (`Sequential.loss_and_gradient`), then update (one call of the
optimizer on the flat parameter vector θ, whatever the depth of the network). Around it, each concern is
a named part: argument checks, data preparation, resuming from a checkpoint, callbacks, the divergence
guard (`TerminateOnNaN`) and the per-epoch records (`History`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import all_finite, as_2d_float, check_float, check_int
from .batches import Augment, Batches, EpochPosition, Shuffle
from .callbacks import Callback, Checkpoint, EarlyStopping, TerminateOnNaN
from .checkpoint import (
    CheckpointData,
    load_checkpoint,
    read_position,
    restore_callback_states,
    restore_standardizer,
    restore_training_state,
)
from .errors import GradwiseTypeError, GradwiseValueError, TrainingDivergedError
from .history import History
from .layers.base import TRAINING, Mode
from .optim import optimizers as optim
from .optim import schedules
from .progress import progress_callback, someone_watches
from .steps import StepControl
from .weights import check_sample_weight, class_weight_table, example_weights

if TYPE_CHECKING:  # the model calls the loop (Sequential.fit), not the other way round
    from .model import Sequential


# ----------------------------------------------------------------------------------- argument checks
def _resolve_verbose(verbose: int | str) -> int:
    if isinstance(verbose, str) and verbose == "auto":
        # Keras' "auto": a live display on a terminal, nothing in logs, pipes and CI.
        return 1 if someone_watches() else 0  # a terminal or a Jupyter kernel
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


def _split_size(m: int, validation_split: float) -> int:
    """Rows kept for training: Keras' `floor(m · (1 − validation_split))`; the rest validates."""
    n_train = int(math.floor(m * (1.0 - validation_split)))
    if n_train < 1 or n_train >= m:
        raise GradwiseValueError(
            f"validation_split={validation_split} leaves {n_train} training and {m - n_train} validation "
            f"examples out of {m}; both must be at least 1")
    return n_train


def _prepare_data(model: Sequential, X: Any, y: Any, validation_data: Any, validation_split: float,
                  class_weight: Any = None, sample_weight: Any = None, copy_X: bool = True) -> tuple:
    """(X, y, per-example weights or None, validation (X_dev, y_dev, weights or None) or None), validated.

    `validation_split` takes the *last* fraction of the rows, before any shuffling (as Keras does); the
    training rows keep their sample weights. A model whose `standardizer` is set but not yet fitted gets it
    fitted on the training rows only, so dev data never leaks into μ and σ. The dev cost is weighted by
    the training class weights (the objective early stopping watches), not by sample weights.
    """
    if validation_split and validation_data is not None:
        raise GradwiseValueError("give validation_data or validation_split, not both")
    st = model.standardizer
    if st is not None and not st.is_fitted:
        raw = as_2d_float("X", X, model.dtype, n_features=model.input_dim)
        n_fit = _split_size(raw.shape[0], validation_split) if validation_split else raw.shape[0]
        st.fit(raw[:n_fit])
    X = model.prepare_inputs(X, copy=copy_X)  # validates, builds on first sight, applies the standardizer
    y = model.prepare_targets(y, X.shape[0])
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
    validation: tuple | None = None
    if validation_split:
        n_train = _split_size(X.shape[0], validation_split)
        validation = (X[n_train:], y[n_train:])
        X, y = X[:n_train], y[:n_train]
        sample_weight = sample_weight[:n_train] if sample_weight is not None else None
    elif validation_data is not None:
        validation = _validation_pair(model, validation_data, copy_X)
    per_class = class_weight_table(model.loss, y, class_weight)
    if validation is not None:
        validation = (*validation, example_weights(model.loss, validation[1], per_class))
    return X, y, example_weights(model.loss, y, per_class, sample_weight), validation


def _validation_pair(model: Sequential, validation_data: Any, copy_X: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """`validation_data` (X_dev, y_dev) validated and prepared like the training data."""
    if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
        described = (f"a {type(validation_data).__name__} of length {len(validation_data)}"
                     if isinstance(validation_data, tuple | list) else repr(validation_data)[:60])
        raise GradwiseTypeError(f"validation_data must be a pair (X_dev, y_dev), got {described}")
    X_val = model.prepare_inputs(validation_data[0], "validation_data X", copy=copy_X)
    return X_val, model.prepare_targets(validation_data[1], X_val.shape[0], "validation_data y")


def _metric_names(model: Sequential, has_validation: bool) -> list[str]:
    """The keys `fit` records each epoch (told to callbacks up front, so a bad `monitor` fails early)."""
    names = ["cost"] if model.loss == "mse" else ["cost", "accuracy"]
    if has_validation:
        names += ["val_cost", "val_rmse" if model.loss == "mse" else "val_accuracy"]
    return names + ["learning_rate"]


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
    augment: Augment | None = None,
    shuffle: Shuffle = True,
    verbose: int | str = "auto",
    terminate_on_nan: bool = True,
    resume_from: str | os.PathLike | None = None,
    class_weight: str | dict | None = None,
    sample_weight: Any = None,
    copy_X: bool = True,
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
        E.g. `InverseTimeDecay(1, decay_steps=1000, staircase=True)`; `epoch` counts across fits. A step-wise
        schedule (`OneCycle`) gets a new α every mini-batch. α₀ is the optimizer's rate, read each epoch.
    validation_data : (X_dev, y_dev), optional
    validation_split : float in [0, 1)
        Hold out the *last* fraction of the rows, before any shuffling (as Keras does).
    callbacks : list of Callback
    augment : callable (X_batch, rng) -> X_batch, optional
        Applied to every training batch (never to validation data); see `gradwise.augment`.
    shuffle : bool or callable (epoch, m) -> permutation of range(m)
        A callable reproduces a given shuffling protocol (e.g. the course's reseeded permutations).
    verbose : 0, 1, 2 or "auto" (default)
        Progress: 1 a live display (a tqdm bar in a Jupyter kernel, a rewritten line on stderr elsewhere),
        2 one line per epoch; "auto" is 1 on a terminal or in Jupyter and 0 in logs, pipes and CI.
    terminate_on_nan : bool
        A non-finite cost (or non-finite weights after an epoch) stops training and raises
        `TrainingDivergedError` naming the epoch and batch. The model is rolled back to the last
        weights that gave a finite cost (epochs rolled over are dropped from the history) and the
        optimizer's moments are reset (the `TerminateOnNaN` callback; passing one turns it on as well).
    resume_from : path, optional
        A checkpoint written by `Checkpoint`: θ, buffers, optimizer, RNG, history, callback state and
        Standardizer are restored and training continues up to `epochs` in total, with results
        bit-identical to an uninterrupted run given the same data and arguments (the schedule,
        batch size and callbacks are not stored: pass them again). The checkpoint's optimizer settings
        win over `optimizer=`; a missing file raises `ModelFileError`.

    class_weight : None, "balanced" or {label: weight}
        Weigh each class's examples in J's data term, which becomes Σ wᵢLᵢ / Σ wᵢ (PyTorch's weighted
        mean); "balanced" is m / (K · count_k) over the training labels, as in scikit-learn.
    sample_weight : array of shape (m,), optional
        A weight per training example (with `validation_split`, the first rows' weights are used),
        multiplied by the class weight. The validation cost stays unweighted.
    copy_X : bool, default True
        False: X and validation_data's X, when they are C-contiguous arrays of the model's dtype, are
        standardized in place by the model's Standardizer (they are overwritten: pass arrays nothing reads
        raw afterwards). It saves a standardized copy of the training set (`gradwise train` on a large
        table, whose encoded matrix it owns); the numbers trained on are the same.

    Returns
    -------
    History
        `history["cost"][i]` is J (regularization included) of epoch i's training forward passes,
        averaged over its mini-batches weighted by their size; for full batch it is the cost *before*
        that iteration's update, as the course prints it. `history["learning_rate"][i]` is the α used (of
        the epoch's first step with a step-wise schedule); with clipping, `history["clipped_steps"][i]`
        counts the mini-batches whose gradient was clipped.
    """
    _check_model(model)
    epochs, batch_size, validation_split, verbose = _check_arguments(
        epochs, batch_size, validation_split, verbose, augment, shuffle)
    schedule, opt = schedules.get(schedule), _resolve_optimizer(model, optimizer, learning_rate)
    callbacks = _check_callbacks(callbacks)
    checkpoint = _load_resume(model, resume_from, epochs)
    X, y, weights, validation = _prepare_data(model, X, y, validation_data, validation_split, class_weight,
                                              sample_weight, copy_X)
    history, opt, total = _training_state(model, opt, checkpoint, epochs)
    guard = _divergence_guard(callbacks, terminate_on_nan, history)
    metrics = _metric_names(model, validation is not None)
    _start_callbacks(model, callbacks, verbose, total, metrics, checkpoint, (X, y, batch_size))
    batches = Batches(X, y, batch_size, shuffle, model.rng, augment, weights)
    # position: where a checkpoint written inside an epoch (a preemption) stopped, else None
    control = _step_control(schedule, opt, callbacks, batches, total, position := read_position(checkpoint))
    accuracy = _Accuracy(model.loss, y) if model.loss != "mse" else None
    mode = replace(TRAINING, rng=model.rng)  # dropout masks and shuffles draw from the model's generator
    error: TrainingDivergedError | None = None
    try:
        with guard.quiet() if guard is not None else contextlib.nullcontext():
            for epoch in range(model.epochs_trained, total):
                if model.stop_training:
                    break
                lr = _begin_epoch(control, callbacks, epoch)
                logs = _train_epoch(model, opt, batches, epoch, lr, mode, guard, accuracy, control, position)
                if isinstance(logs, EpochPosition):  # halted after a step (preemption): on_train_end saves it
                    position = logs
                    break
                position = None
                _end_epoch(model, history, epoch, logs, lr, validation, callbacks)
    except TrainingDivergedError as exc:
        error = exc
    finally:
        model.clear_cache()
    for cb in callbacks:
        cb.on_train_end({"epochs_trained": model.epochs_trained, "position": position})
    if error is not None:
        raise error
    return history


def _train_epoch(model: Sequential, opt: optim.Optimizer, batches: Batches, epoch: int, lr: float, mode: Mode,
                 guard: TerminateOnNaN | None, accuracy: _Accuracy | None, control: StepControl,
                 resume: EpochPosition | None = None) -> dict[str, float] | EpochPosition:
    """One pass over the training set; each mini-batch: forward, cost, backward, update.

    `resume`: the position of this epoch where a preempted run stopped. Returns the epoch's logs, or its
    position when a callback halted training after a step (`StepControl.halted`).
    """
    theta, grad = model.theta, model.grad
    forward_cost_backward, update = model.loss_and_gradient, opt.step
    cost_sum, first, clipped = 0.0, 0, opt.clipped_steps
    if resume is not None:
        cost_sum, first, clipped = resume.cost_sum, resume.batch, resume.clipped
        if accuracy is not None and resume.predictions is not None:
            accuracy.predictions[...] = resume.predictions
    b = first
    per_batch, halters = control.active, control.halters  # step-wise schedule or batch hooks; preemption
    for b, (start, Xb, yb, wb) in enumerate(batches.epoch(epoch, resume), start=first):
        if per_batch:
            lr = control.begin(epoch, b, lr)
        J, A = forward_cost_backward(Xb, yb, mode, wb)  # forward, cost, backward
        if guard is not None and not math.isfinite(J):
            raise guard.diverged(epoch, b, f"the cost is {J}", lr, after_update=False)
        update(theta, grad, lr)
        cost_sum += J * Xb.shape[0]
        if per_batch:
            control.end(epoch, b, J, Xb.shape[0], lr)
        if accuracy is not None:
            accuracy.record(A, start)
        if halters and control.halted(b):
            return EpochPosition(epoch, b + 1, batches.order, cost_sum,
                                 accuracy.predictions.copy() if accuracy is not None else None, clipped,
                                 batches.size)
    if guard is not None and not all_finite(theta):  # the last update is not followed by a cost
        raise guard.diverged(epoch, b, "the last update left non-finite weights", lr, after_update=True)
    logs = {"cost": cost_sum / batches.m}
    if accuracy is not None:
        logs["accuracy"] = accuracy.value(batches.order)
    if opt.clipping:
        logs["clipped_steps"] = opt.clipped_steps - clipped  # mini-batches whose gradient was clipped
    return logs


class _Accuracy:
    """The share of right predictions in one epoch's training batches.

    Each batch's predictions go into one array for the epoch, compared with the labels once at its end
    (a compare and a count per batch would cost more than the rest of a small network's bookkeeping).
    """

    def __init__(self, loss: str, y: np.ndarray):
        self.categorical = loss == "categorical_crossentropy"
        self.truth = y if self.categorical else y > 0.5
        self.predictions = np.empty(self.truth.shape, np.intp if self.categorical else bool)

    def record(self, A: np.ndarray, start: int) -> None:
        """Store the predictions of the batch that starts at row `start` of this epoch's order."""
        rows = self.predictions[start:start + A.shape[0]]
        if self.categorical:
            A.argmax(axis=1, out=rows)
        else:
            np.greater(A, 0.5, out=rows)

    def value(self, order: np.ndarray | None) -> float:
        """Accuracy against the labels in this epoch's order (`order`: its permutation, or None)."""
        truth = self.truth if order is None else self.truth[order]
        return int(np.count_nonzero(self.predictions == truth)) / self.predictions.size


def _begin_epoch(control: StepControl, callbacks: list[Callback], epoch: int) -> float:
    """The epoch's α (α₀ read each epoch: ReduceLROnPlateau lowers it); `on_epoch_begin` of the callbacks."""
    lr = control.rate(epoch)
    for cb in callbacks:
        cb.on_epoch_begin(epoch)
    return lr


def _end_epoch(model: Sequential, history: History, epoch: int, logs: dict[str, float], lr: float,
               validation: tuple | None, callbacks: list[Callback]) -> None:
    """The dev scores and α join the epoch's logs, which are recorded and told to the callbacks."""
    if validation is not None:
        logs.update({f"val_{k}": v for k, v in model.evaluate_prepared(*validation).items()})
    logs["learning_rate"] = lr
    _record(model, history, epoch, logs, callbacks)


def _record(model: Sequential, history: History, epoch: int, logs: dict[str, float],
            callbacks: list[Callback]) -> None:
    """Append the epoch to this call's History and the model's, then tell the callbacks."""
    history.append(epoch, logs)
    if model.history is None:
        model.history = History()
    model.history.append(epoch, logs)
    model.epochs_trained = epoch + 1
    for cb in callbacks:
        cb.on_epoch_end(epoch, logs)


# ----------------------------------------------------------------------------------- the parts around it
def _check_model(model: Any) -> None:
    """The loop needs Sequential's training interface (the model module sits above this one)."""
    if not all(callable(getattr(model, name, None)) for name in ("loss_and_gradient", "prepare_inputs")):
        raise GradwiseTypeError(f"model must be a gradwise Sequential, got {type(model).__name__}")


def _check_arguments(epochs: Any, batch_size: Any, validation_split: Any, verbose: Any, augment: Any,
                     shuffle: Any) -> tuple[int, int | None, float, int]:
    """The checked (epochs, batch_size, validation_split, verbose); augment and shuffle checked too."""
    epochs = check_int("epochs", epochs, minimum=0)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    validation_split = check_float("validation_split", validation_split, low=0.0, high=1.0, high_open=True)
    verbose = _resolve_verbose(verbose)
    if augment is not None and not callable(augment):
        raise GradwiseTypeError(f"augment must be a callable (X_batch, rng) -> X_batch, got {augment!r}")
    if not (isinstance(shuffle, bool) or callable(shuffle)):
        raise GradwiseTypeError(f"shuffle must be True, False or a callable (epoch, m), got {shuffle!r}")
    return epochs, batch_size, validation_split, verbose


def _check_callbacks(callbacks: Any) -> list[Callback]:
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks or [])
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise GradwiseTypeError(f"callbacks[{i}] must be a gradwise Callback, got {cb!r}")
    return callbacks


def _load_resume(model: Sequential, resume_from: str | os.PathLike | None, epochs: int) -> CheckpointData | None:
    """The checkpoint to resume from (its Standardizer given to the model before the data meets it)."""
    if resume_from is None:
        return None
    checkpoint = load_checkpoint(resume_from)
    saved_epochs = int(checkpoint[1]["epoch"])
    if epochs < saved_epochs:
        raise GradwiseValueError(
            f"the checkpoint {os.fspath(resume_from)!r} already holds {saved_epochs} epochs, more than "
            f"epochs={epochs} (with resume_from, epochs is the total to reach)")
    restore_standardizer(model, checkpoint)
    return checkpoint


def _training_state(model: Sequential, opt: optim.Optimizer, checkpoint: CheckpointData | None, epochs: int
                    ) -> tuple[History, optim.Optimizer, int]:
    """(this call's History, the optimizer, the epoch to train up to); a checkpoint's state restored."""
    if checkpoint is not None:
        history = restore_training_state(model, checkpoint, opt)
        opt, total = model.optimizer or opt, epochs
    else:
        history, total = History(), model.epochs_trained + epochs
    model.optimizer = opt
    model.stop_training = False
    if model.history is None:
        model.history = History()
    return history, opt, total


def _step_control(schedule: Any, opt: optim.Optimizer, callbacks: list[Callback], batches: Batches,
                  total: int, position: EpochPosition | None = None) -> StepControl:
    """The per-epoch and per-step rates and batch hooks; a step-wise schedule must match the batches, and
    so must a checkpoint written inside an epoch."""
    check_float("learning_rate", opt.learning_rate, low=0.0, low_open=True)  # α₀ may have been set by hand
    steps_per_epoch = -(-batches.m // batches.size)
    if position is not None and not (0 < position.batch < steps_per_epoch and position.size == batches.size
                                     and (position.order is None or position.order.shape == (batches.m,))):
        raise GradwiseValueError(
            f"the checkpoint stopped after step {position.batch} of an epoch, which does not fit this fit's "
            f"{batches.m} training rows in batches of {batches.size} (the checkpoint's: {position.size}): resume "
            f"with the same data and batch size")
    check_steps = getattr(schedule, "check_steps", None)
    if check_steps is not None:
        check_steps(steps_per_epoch, total)
    return StepControl(schedule, opt, callbacks, steps_per_epoch)


def _divergence_guard(callbacks: list[Callback], terminate_on_nan: bool, history: History) -> TerminateOnNaN | None:
    """The TerminateOnNaN among the callbacks, or a new one when `terminate_on_nan` (the default)."""
    guard = next((cb for cb in callbacks if isinstance(cb, TerminateOnNaN)), None)
    if guard is None and terminate_on_nan:
        guard = TerminateOnNaN()
        callbacks.insert(0, guard)
    if guard is not None:
        guard.history = history
    return guard


def _start_callbacks(model: Sequential, callbacks: list[Callback], verbose: int, total: int,
                     metrics: list[str], checkpoint: CheckpointData | None, data: tuple) -> None:
    """Order the callbacks, call `on_train_begin`, and give them their checkpointed state.

    Checkpoints run after every other callback so they capture the epoch's final state (EarlyStopping's
    counters included); the progress display is not part of that state.
    """
    if verbose:
        callbacks.append(progress_callback(verbose))
    callbacks.sort(key=lambda cb: isinstance(cb, Checkpoint))
    for cb in callbacks:
        cb.model = model
        if isinstance(cb, Checkpoint):
            cb.trainer_callbacks = callbacks
    X, y, batch_size = data  # the prepared training data, for callbacks that measure on it (Monitor)
    begin_logs = {"epochs": total, "initial_epoch": model.epochs_trained, "metrics": metrics,
                  "training_data": (X, y), "steps_per_epoch": -(-len(X) // (batch_size or len(X)))}
    for cb in callbacks:
        cb.on_train_begin(dict(begin_logs))
    if checkpoint is not None:
        restore_callback_states(callbacks, checkpoint)
        model.stop_training = bool(checkpoint[1].get("stop_training", False))


__all__ = ["fit", "History", "Callback", "EarlyStopping", "TerminateOnNaN", "Checkpoint"]
