"""`Monitor`: per-layer statistics through training, the time series the training doctor reads.

The seeds' diagnostics live in how each layer behaves over time: activations whose spread shrinks or
grows layer after layer (vanishing/exploding, "Vanishing / Exploding Gradients"), sigmoid/tanh outputs
stuck in the flat tails where g'(z) ≈ 0, ReLU units that never fire, hidden units that stay identical
because the weights started equal ("Random Initialization": symmetry is not broken), and updates that are
too large or too small for the weights they change (a healthy step moves W by about 1e-3 of ‖W‖).

At the starting weights, at the first and the last epoch, and in between as often as a time budget
allows (1% of the training time by default; or each `every` epochs: see `Monitor`) the Monitor runs a
forward pass on a fixed probe batch of the training data (dropout off, batch-norm running averages
untouched) and records per Dense layer [l]:

    mean, std          of A^[l] = g(Z^[l]) on the probe batch
    dead_fraction      ReLU units whose output is 0 on every probe example
    saturated_fraction sigmoid outputs outside [0.01, 0.99], tanh outside [−0.99, 0.99]
    grad_norm          ‖dW^[l]‖_F of the epoch's last training step (of the probe batch for the starting
                       weights);  weight_norm ‖W^[l]‖_F
    update_ratio       ‖W^[l]_now − W^[l]_before‖_F / ‖W^[l]_before‖_F over the recorded epochs, per step
    unit_spread        max over units j of ‖W^[l]_j − W^[l]_0‖ / (‖W^[l]‖ + 1e-12): 0 when every unit of the
                       layer has the same weights (symmetry not broken)

and once, the input features' standard deviations and the probe's class shares.
"""

from __future__ import annotations

import math
import time
from typing import Any, NamedTuple

import numpy as np

from ._validation import check_float, check_int
from .callbacks import Callback
from .errors import GradwiseTypeError
from .layers import CHECKING, Activation, Dense

__all__ = ["Monitor"]

#: rows of the training data in the probe batch (a fixed prefix: the same examples every epoch)
PROBE_ROWS = 64
#: a sigmoid output within 0.01 of 0 or 1 (tanh within 0.01 of ±1) sits where g'(z) < ~0.01
SATURATION_LEVEL = 0.99
#: share of the training time the default ("auto") schedule may spend measuring. Issue 13 allows 5% in all;
#: on an idle machine what the Monitor cannot time in itself (its setup, the three fixed measurements on a
#: tiny run, the callback calls, the caches a measurement disturbs) came to 2–4 points, so 4% measured
#: 5–7% end to end and 1% measures 2–5% (benchmarks/monitor_overhead.py, RESULTS.md)
BUDGET = 0.01


def _finite(x: float) -> float | None:
    """x, or None for inf/nan (JSON has no inf; the doctor reads None as "not finite")."""
    return float(x) if math.isfinite(x) else None


def _column_stats(X: np.ndarray, rows: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Each column's std σ = √((1/m) Σ (x − μ)²) and mean |x|, a block of rows at a time in float64: no
    (m, n) temporaries (np.std and np.abs of a million-row X make two copies of it)."""
    m, n = X.shape
    total, absolute, squares = np.zeros(n), np.zeros(n), np.zeros(n)
    for start in range(0, m, rows):
        block = X[start:start + rows].astype(np.float64)
        total += block.sum(axis=0)
        absolute += np.abs(block).sum(axis=0)
    mean = total / m
    for start in range(0, m, rows):
        block = X[start:start + rows].astype(np.float64) - mean
        squares += (block * block).sum(axis=0)
    return np.sqrt(squares / m), absolute / m


class Monitor(Callback):
    """Record per-layer statistics through training into `model.history.layers` and `self.records`.

    Which epochs are recorded: always the starting weights, the first epoch of the fit and its last
    (also when EarlyStopping or a divergence ends it early); in between

    - ``every="auto"`` (the default): an epoch is recorded when the Monitor's own time so far plus the
      cost of two more records (this one and the last epoch's) stays within ``budget`` of the training
      time so far, its own time excluded: ``spent + 2·cost ≤ budget · (elapsed − spent)``, with ``cost``
      the last record's measured time. Times are the process's CPU time (`time.process_time`): on a
      shared machine the waits for a core would otherwise make a 0.2 ms record cost 20 ms now and then.
      A long epoch (≥ 2·cost/budget) is always recorded; on tiny data sets, where one record
      costs as much as an epoch, a few epochs are, spread over the run. The recorded epochs depend on
      the machine's speed; the training does not (the Monitor never touches the weights or the
      generators).
    - ``every=k``: epochs 0, k, 2k, … — a fixed, reproducible schedule, whatever it costs.

    Parameters
    ----------
    every : "auto" or int, default "auto"
    budget : float, default 0.01
        Share of the training time the "auto" schedule may spend measuring (issue 13 allows 5% in all,
        including what the Monitor cannot time in itself).
    probe_rows : int, default 64
        Training rows (the first ones) in the probe batch.

    Attributes
    ----------
    records : list of dict
        One per (recorded epoch, Dense layer): "epoch", "layer", "units", "activation", "mean", "std",
        "dead_fraction", "saturated_fraction", "grad_norm", "weight_norm", "update_ratio", "unit_spread",
        "cost"; non-finite values are None.
    inputs : dict
        "feature_std" (n_x,), the probe's features as the network sees them (after any Standardizer),
        "class_shares" of the training targets, "steps_per_epoch" when fit says it.
    seconds : float
        CPU time spent measuring in the last fit (the schedule's `spent`).
    """

    def __init__(self, every: int | str = "auto", probe_rows: int = PROBE_ROWS, budget: float = BUDGET) -> None:
        self.every: int | str = every if every == "auto" else check_int("every", every, minimum=1)
        self.probe_rows = check_int("probe_rows", probe_rows, minimum=1)
        self.budget = check_float("budget", budget, low=0.0, high=1.0, low_open=True)
        self.records: list[dict[str, Any]] = []
        self.inputs: dict[str, Any] = {}
        self.seconds = 0.0
        self._probe: tuple[np.ndarray, np.ndarray] | None = None
        self._plan: _Plan | None = None
        self._last_theta: np.ndarray | None = None
        self._last_norms: np.ndarray | None = None
        self._last_epoch: int | None = None
        self._first = 0
        self._total = 0
        self._steps_per_epoch = 1
        self._started = 0.0
        self._cost = 0.0
        self._next_check = 0  # the first epoch at which the "auto" schedule reads the clock again
        self._pending: tuple[int, float] | None = None  # the last epoch seen and its cost, when not recorded

    def on_train_begin(self, logs: dict | None = None) -> None:
        logs = logs or {}
        data = logs.get("training_data")
        if data is None:
            raise GradwiseTypeError("Monitor needs the training data that fit passes to its callbacks")
        X, y = data
        self._started = time.process_time()
        self._probe = (X[: self.probe_rows], y[: self.probe_rows])
        self._plan = _Plan(self.model)
        self._first, self._total = int(logs.get("initial_epoch", 0)), int(logs.get("epochs", 0))
        self._steps_per_epoch = max(1, int(logs.get("steps_per_epoch", 1)))
        std, abs_mean = _column_stats(X)
        self.inputs = {"feature_std": [_finite(s) for s in std.tolist()],
                       "feature_abs_mean": [_finite(s) for s in abs_mean.tolist()],
                       "class_shares": _class_shares(y, self.model.loss, self.model.output_dim),
                       "steps_per_epoch": self._steps_per_epoch}
        self._last_theta = self.model.theta.copy()
        with np.errstate(all="ignore"):
            self._last_norms = self._plan.norms(self._last_theta)
        self._last_epoch, self._pending, self.seconds = self._first - 1, None, 0.0
        # The starting weights too: a run that diverges in its first epoch still shows its gradients.
        self._record(self._last_epoch, None, initial=True)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        cost = float(logs.get("cost", math.nan))
        if self._due(epoch):
            self._record(epoch, cost)
        else:
            self._pending = (epoch, cost)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._pending is not None:  # stopped early (EarlyStopping, a divergence): keep where it ended
            self._record(*self._pending)
            self.model.clear_cache()  # fit cleared it before this call: an idle model holds no activations

    def _due(self, epoch: int) -> bool:
        if epoch in (self._first, self._total - 1) or self.model.stop_training:
            return True
        if self.every != "auto":
            return epoch % int(self.every) == 0
        if epoch < self._next_check:  # reading the CPU clock is a system call (~4 µs): not every epoch
            return False
        training = time.process_time() - self._started - self.seconds
        # this record and the last epoch's, which is always taken, within the budget of the training so far
        needed = (self.seconds + 2 * self._cost) / self.budget
        if training >= needed:
            return True
        per_epoch = training / (epoch + 1 - self._first)
        self._next_check = epoch + (max(1, math.ceil((needed - training) / per_epoch)) if per_epoch > 0 else 1)
        return False

    def _record(self, epoch: int, cost: float | None, initial: bool = False) -> None:
        start = time.process_time()
        records = self.measure(epoch, cost)
        if initial:
            for r in records:
                r["initial"] = True
        self.records.extend(records)
        if self.model.history is not None:
            self.model.history.layers.extend(records)
        self._pending, self._next_check = None, epoch + 1
        self._cost = time.process_time() - start
        self.seconds += self._cost

    def measure(self, epoch: int, cost: float | None = None) -> list[dict[str, Any]]:
        """A forward pass on the probe batch; one record per Dense layer (and its activation).

        With `cost` (the epoch's training cost, at an epoch's end) the gradients are those the epoch's last
        training step left in `model.grad`, which costs nothing; without it (the starting weights) a
        backward pass on the probe batch computes them and the probe's cost.
        """
        assert self._probe is not None and self._plan is not None  # set in on_train_begin
        assert self._last_theta is not None and self._last_norms is not None
        model = self.model
        X, t = self._probe
        with np.errstate(all="ignore"):  # a diverging run's statistics are recorded, not warned about
            outputs, out = [], X
            for layer in model.layers:
                out = layer.forward(out, CHECKING)
                outputs.append(out)
            if cost is None:
                cost = model.loss_and_gradient(X, t, CHECKING)[0]
                model.clear_cache()
            # else the layers' training buffers stay: an inference pass does not touch them, and dropping
            # them would make the next epoch allocate them again (a cost outside the Monitor's budget)
            steps = max(1, epoch - (self._last_epoch if self._last_epoch is not None else -1))
            theta = model.theta
            w_norm, change = self._plan.norms(theta), self._plan.norms(theta - self._last_theta)
            grad_norm = self._plan.norms(model.grad)
            before = self._last_norms
            ratio = np.divide(change, before * (steps * self._steps_per_epoch), out=np.full_like(change, np.inf),
                              where=before > 0)
            ratio[(before == 0) & (change == 0)] = 0.0
            params = model.parameters()
            records = [_layer_record(outputs, p, epoch, float(cost), params[f"W{p.layer}"],
                                     w_norm[k], grad_norm[k], ratio[k])
                       for k, p in enumerate(self._plan.layers)]
        np.copyto(self._last_theta, theta)
        self._last_norms, self._last_epoch = w_norm, epoch
        return records

    def to_dict(self) -> dict[str, Any]:
        """{"every", "budget", "seconds", "inputs", "records"}: JSON-able (no inf or nan), what `gradwise
        train` saves."""
        return {"every": self.every, "budget": self.budget, "seconds": self.seconds, "inputs": self.inputs,
                "records": list(self.records)}


class _LayerPlan(NamedTuple):
    layer: int            # the Dense layer's [l]
    units: int
    output: int           # position in model.layers of the output to describe: the activation's, or the Dense's
    activation: str


class _Plan:
    """Where each Dense layer's statistics come from, worked out once per fit (the model does not change)."""

    def __init__(self, model: Any) -> None:
        slices = model.parameter_slices()
        positions = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
        self.layers: list[_LayerPlan] = []
        self._weights: list[slice] = []
        for k, pos in enumerate(positions):
            layer = model.layers[pos]
            end = positions[k + 1] if k + 1 < len(positions) else len(model.layers)
            act = next((i for i in range(pos + 1, end) if isinstance(model.layers[i], Activation)), None)
            name = model.layers[act].name if act is not None else "linear"
            self.layers.append(_LayerPlan(int(layer.index), int(layer.units), act if act is not None else pos,
                                          name))
            self._weights.append(slices[f"W{layer.index}"])

    def norms(self, vector: np.ndarray) -> np.ndarray:
        """‖W^[l]‖_F of every Dense layer's part of a θ-shaped vector, shape (layers,): one dot product of
        a contiguous slice each (BLAS speed; a segmented bincount over θ is several times slower)."""
        return np.sqrt(np.array([np.dot(vector[s], vector[s]) for s in self._weights]))


def _layer_record(outputs: list[np.ndarray], plan: _LayerPlan, epoch: int, cost: float, W: np.ndarray,
                  w_norm: float, grad_norm: float, ratio: float) -> dict[str, Any]:
    """One record: the layer's output statistics on the probe batch and its weight norms."""
    A = outputs[plan.output]
    mean = A.sum() / A.size
    centred = A - mean
    std = math.sqrt(float(np.vdot(centred, centred)) / A.size)  # nan stays nan: a diverged layer
    # unit_spread: max_j ‖W_j − W_0‖ / ‖W‖ (0 when every unit has the same weights: symmetry not broken)
    if W.shape[0] > 1:
        d = W - W[0]
        spread = math.sqrt(float(np.einsum("ij,ij->i", d, d).max())) / (float(w_norm) + 1e-12)
    else:
        spread = 1.0
    dead = np.count_nonzero(A.max(axis=0) <= 0) / A.shape[1] if plan.activation == "relu" else None
    return {"epoch": int(epoch), "layer": plan.layer, "units": plan.units, "activation": plan.activation,
            "mean": _finite(float(mean)), "std": _finite(std), "dead_fraction": dead,
            "saturated_fraction": _saturated(A, plan.activation), "grad_norm": _finite(float(grad_norm)),
            "weight_norm": _finite(float(w_norm)), "update_ratio": _finite(float(ratio)),
            "unit_spread": _finite(spread), "cost": _finite(cost)}


def _saturated(A: np.ndarray, activation: str) -> float | None:
    if activation == "sigmoid":
        return _finite(float(np.mean((A < 1 - SATURATION_LEVEL) | (A > SATURATION_LEVEL))))
    if activation == "tanh":
        return _finite(float(np.mean(np.abs(A) > SATURATION_LEVEL)))
    return None


def _class_shares(t: np.ndarray, loss: str, k: int | None) -> list[float] | None:
    """Share of each class in the prepared targets (integer labels, or 0/1 for a sigmoid output); None for
    regression."""
    if loss == "categorical_crossentropy":
        return [float(c) for c in np.bincount(t.astype(np.int64).ravel(), minlength=k or 0) / max(1, t.size)]
    if loss == "binary_crossentropy":
        p = float(np.mean(t))
        return [1.0 - p, p]
    return None
