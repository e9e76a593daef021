"""Model ensembles: several independently trained networks whose predictions are averaged.

The seeds: "train multiple independent models and average their results — an extra couple of percent of
performance, a lower generalization error" (at the cost of K times the training and prediction time).
Each member is trained exactly as it would be trained alone — its own initialization, shuffles and
dropout masks from its own generator — so `Ensemble(models).fit(X, y)` leaves `members[i]` equal to
`models[i].fit(X, y)` on its own. A classifier averages the members' class probabilities; a regressor
averages their outputs.
"""

from __future__ import annotations

import copy
import multiprocessing
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _html
from ._validation import check_int
from .callbacks import Callback, Checkpoint
from .errors import GradwiseTypeError, GradwiseValueError
from .history import History
from .model import Sequential


class Ensemble:
    """Independently trained `Sequential` networks, averaged.

    Parameters
    ----------
    models : sequence of Sequential
        At least one; the same task (loss), precision and, once built, the same input and output sizes.
        Give each its own seed (`gw.mlp(..., seed=s)` for s = 0, 1, …): members that start alike end alike.

    Attributes
    ----------
    members : list of Sequential
    metadata : dict
        JSON-able notes saved with the ensemble (the command line keeps the target column and the seed).
    """

    def __init__(self, models: Sequence[Sequential]):
        if isinstance(models, Sequential) or not isinstance(models, Sequence) or isinstance(models, str):
            raise GradwiseTypeError(f"models must be a list of gradwise Sequential models, got "
                                    f"{type(models).__name__}")
        if not models:
            raise GradwiseValueError("models must not be empty: an ensemble needs at least one member")
        for i, m in enumerate(models):
            if not isinstance(m, Sequential):
                raise GradwiseTypeError(f"models[{i}] must be a gradwise Sequential, got {type(m).__name__}")
            if any(m is other for other in models[:i]):
                raise GradwiseValueError(f"models[{i}] is the same object as an earlier member: give distinct models")
        _check_alike(models)
        self.members: list[Sequential] = list(models)
        self.metadata: dict[str, Any] = {}

    # ------------------------------------------------------------------ what the members share
    @property
    def loss(self) -> str:
        return self.members[0].loss

    @property
    def dtype(self) -> np.dtype:
        return self.members[0].dtype

    @property
    def input_dim(self) -> int | None:
        return self.members[0].input_dim

    @property
    def output_dim(self) -> int | None:
        return self.members[0].output_dim

    @property
    def preprocessor(self) -> Any:
        """The column plan of a model trained on a table (the members share the training split's)."""
        return self.members[0].preprocessor

    @property
    def n_parameters(self) -> int:
        return sum(m.n_parameters for m in self.members)

    @property
    def classes_(self) -> np.ndarray | None:
        return self.members[0].classes_

    @property
    def feature_names_in_(self) -> list[str] | None:
        return self.members[0].feature_names_in_

    # ------------------------------------------------------------------ training and prediction
    def fit(self, X: Any, y: Any, callbacks: Sequence[Callback] | None = None, workers: int = 1,
            **kwargs: Any) -> list[History]:
        """Train every member on (X, y) with the same arguments as `Sequential.fit`; one History each.

        Each member gets its own copy of `callbacks` (an EarlyStopping watches one network at a time). A
        Checkpoint callback is refused: its one file cannot hold several members.

        workers : int, default 1
            Processes training members at the same time (at most one per member; 1: one after another in
            this process). The members are independent, so the result is the same either way: a worker
            process (forked, Linux) trains one member alone on one BLAS thread and sends back its state —
            weights, buffers, generator, optimizer state, History, fitted Standardizer — which the member
            here takes over. Callbacks run in the worker; what they write to files stays, what they keep in
            memory stays there. It pays when a member trains for longer than a worker takes to start and
            send its state back: for 32 of the course's networks (2,000 iterations each), two workers took 0.73×
            the time of one process (`benchmarks/ensemble.py`, RESULTS.md).
        """
        callbacks = list(callbacks or [])
        if any(isinstance(cb, Checkpoint) for cb in callbacks):
            raise GradwiseValueError("an Ensemble cannot take a Checkpoint callback (one file per member); "
                                     "train and checkpoint the members one by one")
        workers = min(check_int("workers", workers, minimum=1), len(self.members))
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            return _fit_in_processes(self.members, X, y, callbacks, kwargs, workers)
        return [m.fit(X, y, callbacks=copy.deepcopy(callbacks), **_own(kwargs)) for m in self.members]

    def predict_proba(self, X: Any) -> np.ndarray:
        """The mean of the members' class probabilities, shape (m, K)."""
        return np.mean([m.predict_proba(X) for m in self.members], axis=0)

    def _mean_output(self, X: Any) -> np.ndarray:
        return np.mean([m.forward(X) for m in self.members], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Labels (m,) from the averaged probabilities (A > 0.5 for one sigmoid unit), or averaged values."""
        if self.loss == "mse":
            A = self._mean_output(X)
            return A[:, 0] if A.shape[1] == 1 else A
        proba = self.predict_proba(X)
        if self.loss == "binary_crossentropy":
            return (proba[:, 1] > 0.5).astype(np.int64)
        return proba.argmax(axis=1)

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """{"cost": log loss of the averaged probabilities, "accuracy"}, or {"cost": ½·MSE, "rmse"} of the
        averaged outputs (the ensemble has no regularization term of its own)."""
        first = self.members[0]
        t = first.prepare_targets(y, first.prepare_inputs(X).shape[0])
        if self.loss == "mse":
            diff = self._mean_output(X) - t
            return {"cost": float(0.5 * np.mean(np.sum(diff * diff, axis=1))),
                    "rmse": float(np.sqrt(np.mean(diff * diff)))}
        proba = np.clip(self.predict_proba(X), np.finfo(np.float64).tiny, 1.0)
        labels = t.astype(np.intp) if self.loss == "categorical_crossentropy" else (t[:, 0] > 0.5).astype(np.intp)
        picked = proba[np.arange(labels.shape[0]), labels]
        return {"cost": float(-np.mean(np.log(picked))),
                "accuracy": float(np.mean(proba.argmax(axis=1) == labels))}

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return f"Ensemble({len(self.members)} members, loss={self.loss!r}, input_dim={self.input_dim})"

    def _repr_html_(self) -> str:
        """Jupyter's display: one row per member (its layers, parameters and epochs trained)."""
        rows = [(i, " → ".join(type(layer).__name__ for layer in m.layers),
                 m.n_parameters if m.built else "?", m.epochs_trained) for i, m in enumerate(self.members)]
        caption = f"Ensemble of {len(self.members)} networks (probabilities averaged), loss {self.loss}"
        return _html.table(["member", "layers", "parameters", "epochs trained"], rows, caption=caption)


def _own(kwargs: dict) -> dict:
    """fit's arguments for one member: an Optimizer or schedule object given once is copied per member —
    one shared instance would carry a member's state (Adam's t, v, s) into the next member's training."""
    return {k: copy.deepcopy(v) if k in ("optimizer", "schedule") and not isinstance(v, str) else v
            for k, v in kwargs.items()}


def _check_alike(models: Sequence[Sequential]) -> None:
    """Members must answer the same question: same loss, dtype and (once built) input and output sizes."""
    first = models[0]
    for i, m in enumerate(models[1:], start=1):
        for what, mine, theirs in (("loss", m.loss, first.loss), ("dtype", m.dtype, first.dtype)):
            if mine != theirs:
                raise GradwiseValueError(f"models[{i}] has {what} {mine}, models[0] has {theirs}: the members "
                                         f"of an ensemble must be alike")
        for what in ("input_dim", "output_dim"):
            mine, theirs = getattr(m, what), getattr(first, what)
            if mine is not None and theirs is not None and mine != theirs:
                raise GradwiseValueError(f"models[{i}] has {what} {mine}, models[0] has {theirs}: the members "
                                         f"of an ensemble must take the same inputs and give the same outputs")


# ------------------------------------------------------------------------------ training in worker processes
#: (members, X, y, callbacks, fit's arguments) of the fit in progress, inherited by the forked workers (the
#: data is not pickled: each worker sees the parent's arrays as they were at the fork)
_FORKED: tuple | None = None


def _fit_in_processes(members: list[Sequential], X: Any, y: Any, callbacks: list[Callback], kwargs: dict,
                      workers: int) -> list[History]:
    """Each member trained in a forked worker; members take over their trained state in member order.

    A member whose fit raised (e.g. TrainingDivergedError) still takes over the state it reached, like a
    member trained here would keep it; the first such error is raised after the members before it were
    taken over — the members after it stay as they were, as in a fit one after another.
    """
    global _FORKED
    from concurrent.futures import ProcessPoolExecutor

    _FORKED = (members, X, y, callbacks, kwargs)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            outcomes = list(pool.map(_fit_one, range(len(members))))
    finally:
        _FORKED = None
    histories = []
    for member, (state, error) in zip(members, outcomes, strict=True):
        if state is not None:
            _take_over(member, state)
        if error is not None:
            raise error
        assert state is not None  # a fit that returned built the model
        histories.append(state["call_history"])
    return histories


def _fit_one(i: int) -> tuple[dict | None, BaseException | None]:
    """In a worker: train member i alone on one BLAS thread; (its state, the error its fit raised or None)."""
    from threadpoolctl import threadpool_limits

    assert _FORKED is not None, "a worker started outside Ensemble.fit"
    members, X, y, callbacks, kwargs = _FORKED
    model = members[i]
    history, error = None, None
    with threadpool_limits(limits=1):  # the other workers use the other cores
        try:
            history = model.fit(X, y, callbacks=copy.deepcopy(callbacks), **_own(kwargs))
        except Exception as exc:  # sent back and raised in the parent, after the member took its state
            error = exc
    if not model.built:
        return None, error
    state = {"theta": model.theta, "buffer": model.buffer, "input_dim": model.input_dim, "rng": model.rng,
             "optimizer": model.optimizer, "history": model.history, "call_history": history,
             "epochs_trained": model.epochs_trained, "stop_training": model.stop_training,
             "standardizer": model.standardizer}
    return state, error


def _take_over(model: Sequential, state: dict) -> None:
    """Give `model` the trained state a worker sent back (what its own `fit` would have left in it)."""
    if not model.built:
        model.build(state["input_dim"])  # its initialization draws are overwritten just below
    model.theta[...] = state["theta"]
    model.buffer[...] = state["buffer"]
    model.rng = state["rng"]
    model.optimizer = state["optimizer"]
    model.history = state["history"]
    model.epochs_trained = state["epochs_trained"]
    model.stop_training = state["stop_training"]
    model.standardizer = state["standardizer"]
    model.clear_cache()
