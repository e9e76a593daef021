"""`Monitor`: per-layer statistics through training, the time series the training doctor reads.

The seeds' diagnostics live in how each layer behaves over time: activations whose spread shrinks or
grows layer after layer (vanishing/exploding, "Vanishing / Exploding Gradients"), sigmoid/tanh outputs
stuck in the flat tails where g'(z) ≈ 0, ReLU units that never fire, hidden units that stay identical
because the weights started equal ("Random Initialization": symmetry is not broken), and updates that are
too large or too small for the weights they change (a healthy step moves W by about 1e-3 of ‖W‖).

At the starting weights and then each `every` epochs the Monitor runs a forward pass on a fixed probe
batch of the training data (dropout off, batch-norm running averages untouched) and records per Dense
layer [l]:

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
from typing import Any

import numpy as np

from ._validation import check_int
from .callbacks import Callback
from .errors import GradwiseTypeError
from .layers import CHECKING, Activation, Dense

__all__ = ["Monitor"]

#: rows of the training data in the probe batch (a fixed prefix: the same examples every epoch)
PROBE_ROWS = 64
#: a sigmoid output within 0.01 of 0 or 1 (tanh within 0.01 of ±1) sits where g'(z) < ~0.01
SATURATION_LEVEL = 0.99


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
    """Record per-layer statistics every `every` epochs into `model.history.layers` and `self.records`.

    Parameters
    ----------
    every : int, default 1
        Record at the end of epochs 0, every, 2·every, … and the last one.
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
    """

    def __init__(self, every: int = 1, probe_rows: int = PROBE_ROWS) -> None:
        self.every = check_int("every", every, minimum=1)
        self.probe_rows = check_int("probe_rows", probe_rows, minimum=1)
        self.records: list[dict[str, Any]] = []
        self.inputs: dict[str, Any] = {}
        self._probe: tuple[np.ndarray, np.ndarray] | None = None
        self._last_theta: np.ndarray | None = None
        self._last_epoch: int | None = None
        self._total = 0
        self._steps_per_epoch = 1

    def on_train_begin(self, logs: dict | None = None) -> None:
        logs = logs or {}
        data = logs.get("training_data")
        if data is None:
            raise GradwiseTypeError("Monitor needs the training data that fit passes to its callbacks")
        X, y = data
        self._probe = (X[: self.probe_rows], y[: self.probe_rows])
        self._total = int(logs.get("epochs", 0))
        self._steps_per_epoch = max(1, int(logs.get("steps_per_epoch", 1)))
        std, abs_mean = _column_stats(X)
        self.inputs = {"feature_std": [_finite(s) for s in std.tolist()],
                       "feature_abs_mean": [_finite(s) for s in abs_mean.tolist()],
                       "class_shares": _class_shares(y, self.model.loss, self.model.output_dim),
                       "steps_per_epoch": self._steps_per_epoch}
        self._last_theta = self.model.theta.copy()
        self._last_epoch = int(logs.get("initial_epoch", 0)) - 1
        # The starting weights too: a run that diverges in its first epoch still shows its gradients.
        initial = self.measure(self._last_epoch)
        for r in initial:
            r["initial"] = True
        self.records.extend(initial)
        if self.model.history is not None:
            self.model.history.layers.extend(initial)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if epoch % self.every and epoch != self._total - 1:
            return
        records = self.measure(epoch, float(logs.get("cost", math.nan)))
        self.records.extend(records)
        history = self.model.history
        if history is not None:
            history.layers.extend(records)

    def measure(self, epoch: int, cost: float | None = None) -> list[dict[str, Any]]:
        """A forward pass on the probe batch; one record per Dense layer (and its activation).

        With `cost` (the epoch's training cost, at an epoch's end) the gradients are those the epoch's last
        training step left in `model.grad`, which costs nothing; without it (the starting weights) a
        backward pass on the probe batch computes them and the probe's cost.
        """
        assert self._probe is not None and self._last_theta is not None  # set in on_train_begin
        model = self.model
        X, t = self._probe
        with np.errstate(all="ignore"):  # a diverging run's statistics are recorded, not warned about
            outputs, out = [], X
            for layer in model.layers:
                out = layer.forward(out, CHECKING)
                outputs.append(out)
            J = cost if cost is not None else model.loss_and_gradient(X, t, CHECKING)[0]
            model.clear_cache()
            steps = max(1, (epoch - (self._last_epoch if self._last_epoch is not None else -1)))
            steps *= self._steps_per_epoch
            records = self._layer_records(outputs, epoch, float(J), steps)
        self._last_theta = model.theta.copy()
        self._last_epoch = epoch
        return records

    def _layer_records(self, outputs: list[np.ndarray], epoch: int, cost: float,
                       steps: int) -> list[dict[str, Any]]:
        model, before = self.model, self._last_theta
        assert before is not None
        slices, params, grads = model.parameter_slices(), model.parameters(), model.gradients()
        positions = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
        records = []
        for k, pos in enumerate(positions):
            layer = model.layers[pos]
            assert isinstance(layer, Dense)
            end = positions[k + 1] if k + 1 < len(positions) else len(model.layers)
            act = next((i for i in range(pos + 1, end) if isinstance(model.layers[i], Activation)), None)
            act_layer = model.layers[act] if act is not None else None
            name = act_layer.name if isinstance(act_layer, Activation) else "linear"
            A = outputs[act] if act is not None else outputs[pos]
            W, key = params[f"W{layer.index}"], f"W{layer.index}"
            w_norm = float(np.linalg.norm(W))
            change = float(np.linalg.norm(model.theta[slices[key]] - before[slices[key]]))
            before_norm = float(np.linalg.norm(before[slices[key]]))
            ratio = change / before_norm / steps if before_norm else (0.0 if change == 0 else math.inf)
            spread = float(np.max(np.linalg.norm(W - W[:1], axis=1))) / (w_norm + 1e-12) if W.shape[0] > 1 \
                else 1.0
            records.append({
                "epoch": int(epoch), "layer": int(layer.index), "units": int(layer.units), "activation": name,
                "mean": _finite(float(A.mean())), "std": _finite(float(A.std())),
                "dead_fraction": _finite(float(np.mean(np.all(A <= 0, axis=0)))) if name == "relu" else None,
                "saturated_fraction": _saturated(A, name),
                "grad_norm": _finite(float(np.linalg.norm(grads[key]))), "weight_norm": _finite(w_norm),
                "update_ratio": _finite(ratio), "unit_spread": _finite(spread), "cost": _finite(cost)})
        return records

    def to_dict(self) -> dict[str, Any]:
        """{"every", "inputs", "records"}: JSON-able (no inf or nan), what `gradwise train` saves."""
        return {"every": self.every, "inputs": self.inputs, "records": list(self.records)}


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
