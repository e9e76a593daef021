"""Gradient checking, the seeds' procedure, with a report that *locates* a bug ("look at components").

For each coordinate i of θ (or a random sample of them, per parameter):
    θ⁺ = θ + ε·e_i,  θ⁻ = θ − ε·e_i,  gradapprox_i = (J(θ⁺) − J(θ⁻)) / (2ε)
    difference = ‖grad − gradapprox‖₂ / (‖grad‖₂ + ‖gradapprox‖₂)
and the check passes when difference < threshold (the seeds' 10⁻⁷).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _html
from ._random import make_rng
from ._validation import check_float, check_int
from .errors import GradwiseTypeError, GradwiseValueError
from .layers import CHECKING, BatchNorm, Dropout
from .model import Sequential, finite_or_error


@dataclass(frozen=True)
class Coordinate:
    """One checked coordinate: where it is, both derivatives, and how far apart they are."""

    parameter: str
    index: tuple[int, ...]
    grad: float
    approx: float

    @property
    def abs_error(self) -> float:
        return abs(self.grad - self.approx)

    @property
    def rel_error(self) -> float:
        denom = abs(self.grad) + abs(self.approx)
        return 0.0 if denom == 0 else self.abs_error / denom


@dataclass
class GradCheckReport:
    """Result of a gradient check.

    difference : the seeds' ‖grad − gradapprox‖₂ / (‖grad‖₂ + ‖gradapprox‖₂) over the checked coordinates.
    per_parameter : the same formula restricted to each parameter (`W1`, `b1`, …).
    flagged : the parameters to look at: their own difference exceeds the threshold *and* their
        disagreement alone, ‖grad_p − gradapprox_p‖ / (‖grad‖ + ‖gradapprox‖), would fail the whole check
        (so noise on a parameter whose gradient is ~0 does not blame it).
    worst : the coordinates with the largest |grad − gradapprox|.
    notes : what the check changed to be valid (dropout off, precision, sampling).
    """

    difference: float
    threshold: float
    epsilon: float
    per_parameter: dict[str, float]
    flagged: list[str]
    worst: list[Coordinate]
    n_checked: int
    n_total: int
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.difference < self.threshold)

    def to_dict(self) -> dict:
        return {
            "difference": self.difference,
            "passed": self.passed,
            "threshold": self.threshold,
            "epsilon": self.epsilon,
            "per_parameter": self.per_parameter,
            "flagged": self.flagged,
            "worst": [
                {"parameter": c.parameter, "index": list(c.index), "grad": c.grad, "approx": c.approx,
                 "abs_error": c.abs_error, "rel_error": c.rel_error}
                for c in self.worst
            ],
            "n_checked": self.n_checked,
            "n_total": self.n_total,
            "notes": self.notes,
        }

    def _repr_html_(self) -> str:
        return _report_html(self)

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED: there is a mistake in the backward propagation"
        lines = [
            f"gradient check {verdict}",
            f"  difference = {self.difference:.3e}  (threshold {self.threshold:.0e}, epsilon {self.epsilon:.0e}, "
            f"{self.n_checked} of {self.n_total} coordinates)",
            "  per parameter:",
        ]
        for name, diff in self.per_parameter.items():
            mark = "  <-- look here" if name in self.flagged else ""
            lines.append(f"    {name:<10} {diff:.3e}{mark}")
        if self.worst:
            lines.append("  worst coordinates (parameter[index]: backprop vs numerical):")
            for c in self.worst:
                idx = ",".join(map(str, c.index))
                lines.append(f"    {c.parameter}[{idx}]: {c.grad:+.6e} vs {c.approx:+.6e} (|diff| {c.abs_error:.2e})")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _report_html(report: GradCheckReport) -> str:
    """The report as Jupyter shows it: the verdict, one row per parameter (flagged rows marked), the worst."""
    verdict = "PASSED" if report.passed else "FAILED: there is a mistake in the backward propagation"
    names = list(report.per_parameter)
    rows = [(n, f"{d:.3e}", "look here" if n in report.flagged else "") for n, d in report.per_parameter.items()]
    worst = [(f"{c.parameter}[{','.join(map(str, c.index))}]", f"{c.grad:+.6e}", f"{c.approx:+.6e}",
              f"{c.abs_error:.2e}") for c in report.worst]
    return (_html.heading(f"gradient check {verdict}", "#2a7d2a" if report.passed else "#c0392b")
            + _html.text(f"difference = {report.difference:.3e} (threshold {report.threshold:.0e}, epsilon "
                         f"{report.epsilon:.0e}, {report.n_checked} of {report.n_total} coordinates)")
            + _html.table(["parameter", "difference", ""], rows,
                          marked=[names.index(n) for n in report.flagged if n in names])
            + (_html.table(["worst coordinate", "backprop", "numerical", "|diff|"], worst) if worst else "")
            + "".join(_html.text(f"note: {n}") for n in report.notes))


def _scaled(grad: np.ndarray, approx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both divided by their largest magnitude: the seeds' difference is scale-free, and this keeps
    ‖·‖₂ from overflowing (gradients of ~1e200) or underflowing to 0 (gradients of ~1e-200)."""
    scale = max(float(np.max(np.abs(grad), initial=0.0)), float(np.max(np.abs(approx), initial=0.0)))
    if scale == 0.0 or not math.isfinite(scale):
        return grad, approx
    return grad / scale, approx / scale


def _relative_difference(grad: np.ndarray, approx: np.ndarray) -> float:
    grad, approx = _scaled(grad, approx)
    denom = np.linalg.norm(grad) + np.linalg.norm(approx)
    return 0.0 if denom == 0 else float(np.linalg.norm(grad - approx) / denom)


def _two_sided(J: Callable[[], float], theta: np.ndarray, i: int, epsilon: float) -> float:
    """gradapprox_i = (J(θ + ε e_i) − J(θ − ε e_i)) / 2ε, restoring θ_i exactly afterwards."""
    original = theta[i]
    theta[i] = original + epsilon
    j_plus = J()
    theta[i] = original - epsilon
    j_minus = J()
    theta[i] = original
    return (j_plus - j_minus) / (2.0 * epsilon)


def _report(names_and_coords: list[tuple[str, np.ndarray, list[tuple[int, ...]]]], grad: np.ndarray,
            approx: np.ndarray, epsilon: float, threshold: float, n_total: int, notes: list[str],
            n_worst: int) -> GradCheckReport:
    difference = _relative_difference(grad, approx)
    grad_s, approx_s = _scaled(grad, approx)
    denom = np.linalg.norm(grad_s) + np.linalg.norm(approx_s)
    per_parameter: dict[str, float] = {}
    flagged: list[str] = []
    coords: list[Coordinate] = []
    for name, positions, indices in names_and_coords:
        g, a = grad[positions], approx[positions]
        per_parameter[name] = _relative_difference(g, a)
        share = 0.0 if denom == 0 else float(np.linalg.norm(grad_s[positions] - approx_s[positions]) / denom)
        if per_parameter[name] >= threshold and share >= threshold:
            flagged.append(name)
        coords.extend(Coordinate(name, idx, float(gv), float(av)) for idx, gv, av in zip(indices, g, a, strict=True))
    worst = sorted(coords, key=lambda c: c.abs_error, reverse=True)[:n_worst]
    return GradCheckReport(difference, threshold, epsilon, per_parameter, flagged, worst,
                           int(grad.size), n_total, notes)


def gradcheck(
    model: Sequential,
    X,
    y,
    epsilon: float = 1e-7,
    threshold: float = 1e-7,
    sample: int | None = None,
    seed: int = 0,
    n_worst: int = 5,
) -> GradCheckReport:
    """Check `model.backward` against two-sided differences of `model`'s cost J (regularization included).

    Parameters
    ----------
    model : Sequential
        Left untouched: the check runs on a float64 copy.
    X : array of shape (m, n_x);  y : labels/targets of shape (m,) or (m, k)
    epsilon : float
        The step ε of θ ± ε (the seeds use 1e-7).
    threshold : float
        Pass if the difference is below it (the seeds' 1e-7).
    sample : int, optional
        Check at most this many random coordinates per parameter: O(sample) passes instead of O(|θ|),
        which keeps the check fast on big networks.
    seed : int
        Chooses the sampled coordinates.

    Dropout is switched off for the check (its random masks make J non-deterministic, as the seeds warn);
    batch norm uses batch statistics, as in training, without moving its running averages.
    """
    if not isinstance(model, Sequential):
        raise GradwiseTypeError(f"model must be a gradwise Sequential, got {type(model).__name__}")
    epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
    threshold = check_float("threshold", threshold, low=0.0, low_open=True)
    n_worst = check_int("n_worst", n_worst, minimum=0)
    if sample is not None:
        sample = check_int("sample", sample, minimum=1)
    net = model.astype(np.float64)  # the user's model is never perturbed
    X64 = net.prepare_inputs(X)  # builds the copy if the model was not built yet
    y64 = net.prepare_targets(y, X64.shape[0])
    notes = []
    if any(isinstance(layer, Dropout) and layer.keep_prob < 1 for layer in net.layers):
        notes.append("dropout switched off for the check (random masks make J non-deterministic)")
    if any(isinstance(layer, BatchNorm) for layer in net.layers):
        notes.append("batch norm uses batch statistics, as in training; running averages untouched")
    if model.dtype != np.float64:
        notes.append(f"checked in float64 on a copy of the {model.dtype.name} model")
    if net.l2 or net.l1:
        notes.append(f"regularization included in J and in the gradient (l2={net.l2}, l1={net.l1})")

    with finite_or_error(net, X64):
        net.loss_and_gradient(X64, y64, CHECKING)
    analytic = net.grad.copy()

    rng = make_rng(seed)
    layout: list[tuple[str, np.ndarray, list[tuple[int, ...]]]]
    positions_all: list[int] | np.ndarray  # the coordinates checked: a list, then their index array
    layout, positions_all = [], []
    for name, sl in net.parameter_slices().items():
        shape = net.parameters()[name].shape
        size = sl.stop - sl.start
        if sample is None or sample >= size:
            local = np.arange(size)
        else:
            local = np.sort(rng.choice(size, sample, replace=False))
        positions = sl.start + local
        layout.append((name, np.arange(len(positions_all), len(positions_all) + len(positions)),
                       [tuple(int(v) for v in np.unravel_index(k, shape)) for k in local]))
        positions_all.extend(positions.tolist())
    if sample is not None:
        notes.append(f"sampled at most {sample} coordinates per parameter (seed {seed})")

    def J() -> float:
        return net.cost_prepared(X64, y64, CHECKING)

    positions_all = np.asarray(positions_all, dtype=np.int64)
    with finite_or_error(net, X64):
        approx = np.array([_two_sided(J, net.theta, int(i), epsilon) for i in positions_all])
    return _report(layout, analytic[positions_all], approx, epsilon, threshold, net.theta.size, notes, n_worst)


def gradcheck_fn(
    J: Callable[[Any], float],
    theta,
    grad,
    epsilon: float = 1e-7,
    threshold: float = 1e-7,
    n_worst: int = 5,
) -> GradCheckReport:
    """Check the gradient `grad` of any scalar function `J(theta)` (the seeds' 1-D and N-D cases).

    `theta` is a number or an array; `grad` is the analytic gradient at theta (same shape) or a
    callable `grad(theta)` returning it. E.g. the seeds' 1-D case: J = θx with x = 2 at θ = 4, grad = x.
    """
    if not callable(J):
        raise GradwiseTypeError(f"J must be a callable J(theta) -> float, got {type(J).__name__}")
    epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
    threshold = check_float("threshold", threshold, low=0.0, low_open=True)
    scalar = np.ndim(theta) == 0
    point = np.array(theta, dtype=np.float64, ndmin=1).ravel().copy()
    shape = np.shape(theta)
    g = grad(np.asarray(theta, dtype=np.float64)) if callable(grad) else grad
    g = np.array(g, dtype=np.float64, ndmin=1).ravel()
    if g.size != point.size:
        raise GradwiseValueError(f"grad has {g.size} entries, theta has {point.size}")

    def J_flat() -> float:
        value = J(float(point[0]) if scalar else point.reshape(shape))
        return float(value)

    approx = np.array([_two_sided(J_flat, point, i, epsilon) for i in range(point.size)])
    indices = [tuple(int(v) for v in np.unravel_index(i, shape)) if shape else () for i in range(point.size)]
    return _report([("theta", np.arange(point.size), indices)], g, approx, epsilon, threshold, point.size, [],
                   n_worst)
