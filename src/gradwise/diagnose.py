"""Diagnosis: bias and variance against a human-level error, the seeds' basic recipe, per-layer health.

The seeds ("Bias / Variance", "Basic Recipe for Machine Learning"), with human-level (≈ Bayes) error as
the baseline:

    avoidable bias = training error − human-level error
    variance       = dev error − training error

========================  ==============  =========  ==========================
example of the seeds      training error  dev error  verdict (human ≈ 0%)
========================  ==============  =========  ==========================
overfitting               1%              11%        high variance
underfitting              15%             16%        high bias
both                      15%             30%        high bias and high variance
best                      0.5%            1%         fine
========================  ==============  =========  ==========================

A gap is "high" when it exceeds `threshold`, by default **2 percentage points** (0.02). That separates the
seeds' examples with a margin (their small gaps are 0.5 to 1 point, their large ones 10 to 15), and it is
the resolution a dev set of a few thousand examples can actually measure (the standard error of a 5%
error rate on 2,000 examples is 0.5 point). For small dev sets, `noise_threshold(dev_error, m_dev)` gives
the larger threshold they can resolve (`gradwise diagnose` uses it).

The recipe (the seeds): high bias → bigger network, train longer, a better optimizer, (another
architecture); only then, high variance → more data, regularization (L2, dropout, early stopping),
(another architecture). Given the model, the steps name concrete settings to try ("layers 40,6",
"l2=2.1", …).

`layer_health(model, X, y)` measures one batch: per hidden layer the activations' mean and standard
deviation, the fraction of dead ReLU units and of saturated sigmoid/tanh outputs, the gradient norm
‖dW^[l]‖ and the update/weight ratio ‖ΔW^[l]‖/‖W^[l]‖ of the next optimizer step (ΔW = α·dW for
gradient descent). It warns about vanishing or exploding gradients (first/last layer gradient norms
further apart than 100×, or a gradient 1000× larger than its weights), a learning rate that is too
large (updates above 1% of the weights; the usual healthy value is about 1e-3) or too small, dead ReLUs
and saturated sigmoid/tanh units.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _html, plots
from ._validation import check_float, check_int
from .doctor import Finding, RunFacts, examine, json_safe
from .errors import GradwiseTypeError, GradwiseValueError
from .layers import CHECKING, Activation, Dense, Dropout
from .model import Sequential
from .optim import optimizers as optim

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["Diagnosis", "LayerHealth", "LayerStats", "diagnose", "layer_health", "noise_threshold",
           "plot_layer_health", "plot_training_health"]

#: a gap (avoidable bias or variance) above this many error points counts as "high"
DEFAULT_THRESHOLD = 0.02
#: gradient norms of the first and last layer further apart than this factor: vanishing / exploding
GRADIENT_RATIO_LIMIT = 100.0
#: a gradient this many times larger than its weights (‖dW‖ > 1000·‖W‖) is exploding
GRADIENT_WEIGHT_LIMIT = 1e3
#: update/weight ratios: ~1e-3 is healthy; above the first the learning rate is too large
UPDATE_RATIO_HIGH = 1e-2
UPDATE_RATIO_LOW = 1e-6
#: a unit whose ReLU output is 0 on every example of the batch is dead; warn above this fraction
DEAD_FRACTION_LIMIT = 0.5
#: saturated outputs: sigmoid outside [0.01, 0.99], tanh outside [-0.99, 0.99] (g'(z) < ~0.01 / 0.02)
SATURATION_LEVEL = 0.99
SATURATION_FRACTION_LIMIT = 0.5


# --------------------------------------------------------------------------------- bias / variance
@dataclass
class Diagnosis:
    """The bias/variance verdict of `diagnose` and what to try next.

    Attributes
    ----------
    train_error, dev_error, human_error : float
        Error rates as fractions (0.11 is 11%).
    avoidable_bias : float
        train_error − human_error.
    variance : float
        dev_error − train_error.
    high_bias, high_variance : bool
        The gap exceeds `threshold`.
    verdict : {"high bias", "high variance", "high bias and high variance", "fine"}
    recipe : list of str
        Concrete next steps, most useful first.
    suggestions : dict
        The settings the recipe names, e.g. {"layers": [40, 6], "l2": 2.1} (CLI flag names, with _).
    notes : list of str
    health : LayerHealth or None
        Per-layer statistics when `diagnose` was given a batch.
    """

    train_error: float
    dev_error: float
    human_error: float
    avoidable_bias: float
    variance: float
    threshold: float
    high_bias: bool
    high_variance: bool
    verdict: str
    recipe: list[str] = field(default_factory=list)
    suggestions: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    health: LayerHealth | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-able and always valid JSON: non-finite statistics become null (their findings say why)."""
        keys = ("train_error", "dev_error", "human_error", "avoidable_bias", "variance", "threshold",
                "high_bias", "high_variance", "verdict", "recipe", "suggestions", "notes")
        out = {k: getattr(self, k) for k in keys}
        out["health"] = self.health.to_dict() if self.health is not None else None
        out["findings"] = [f.to_dict() for f in self.findings]
        return json_safe(out)

    def _repr_html_(self) -> str:
        """Jupyter's display: the verdict as a heading, then the plain report."""
        return _html.heading(f"verdict: {self.verdict}") + _html.text(str(self))

    def __str__(self) -> str:
        lines = [f"finding {i}: {f}" for i, f in enumerate(self.findings, start=1)]
        if any(f.code not in ("high_bias", "high_variance", "overfitting") for f in self.findings):
            lines.append(f"bias/variance verdict withheld: training errors of {_pct(self.train_error)} / "
                         f"{_pct(self.dev_error)} (dev) say little until finding 1 is fixed")
            lines.extend(f"note: {n}" for n in self.notes)
            return "\n".join(lines + ([str(self.health)] if self.health is not None else []))
        lines += [
            f"verdict: {self.verdict}",
            f"  training error {_pct(self.train_error)}, dev error {_pct(self.dev_error)}, "
            f"human-level error {_pct(self.human_error)}",
            f"  avoidable bias {_pct(self.avoidable_bias)} (training − human), "
            f"variance {_pct(self.variance)} (dev − training); a gap above {_pct(self.threshold)} is high",
        ]
        if self.recipe:
            lines.append("next steps (the basic recipe):")
            lines.extend(f"  - {step}" for step in self.recipe)
        lines.extend(f"note: {n}" for n in self.notes)
        if self.health is not None:
            lines.append(str(self.health))
        return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def _check_error(name: str, value: Any) -> float:
    value = check_float(name, value, low=0.0)
    if value > 1.0:
        raise GradwiseValueError(
            f"{name} must be a fraction in [0, 1] (11% is 0.11), got {value:g}")
    return value


def diagnose(
    train_error: float,
    dev_error: float,
    human_error: float = 0.0,
    model: Sequential | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    training: dict | None = None,
    X: Any = None,
    y: Any = None,
    facts: RunFacts | None = None,
) -> Diagnosis:
    """Bias/variance verdict against a human-level (≈ Bayes) error, with the seeds' recipe.

    Parameters
    ----------
    train_error, dev_error : float
        Error rates on the training and dev sets, as fractions in [0, 1] (1 − accuracy).
    human_error : float, default 0
        Human-level error, the proxy for the Bayes error (the seeds assume ≈ 0 unless told otherwise).
    model : Sequential, optional
        Makes the recipe concrete: its hidden sizes, l2, keep_prob.
    threshold : float, default 0.02
        A gap above this many error points is "high" (see the module docstring for the choice).
    training : dict, optional
        How the model was trained (the run's config: "optimizer", "epochs", "learning_rate",
        "early_stopping", "batch_size", "l2", "keep_prob", "layers"), for the recipe.
    X, y : arrays of shape (m, n_x) and (m,), optional
        A batch, as the model takes it: adds `layer_health(model, X, y)`.
    facts : doctor.RunFacts, optional
        The run's Monitor records, cost curves and class shares: adds the doctor's `findings` (codes of
        docs/doctor.md, root cause first); a training pathology or a majority-class model replaces the
        high-bias/high-variance findings, which only mean something for a network that trains.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> diagnose(0.01, 0.11).verdict
    'high variance'
    >>> diagnose(0.15, 0.16).verdict
    'high bias'
    """
    train_error = _check_error("train_error", train_error)
    dev_error = _check_error("dev_error", dev_error)
    human_error = _check_error("human_error", human_error)
    threshold = check_float("threshold", threshold, low=0.0)
    if training is not None and not isinstance(training, dict):
        raise GradwiseTypeError(
            f"training must be a dict of training settings, got {type(training).__name__}")
    bias = train_error - human_error
    variance = dev_error - train_error
    # A gap equal to the threshold is not high; 1e-9 absorbs float noise such as 0.10 − 0.08 = 0.0200…01.
    high_bias, high_variance = bias > threshold + 1e-9, variance > threshold + 1e-9
    verdict = {(True, True): "high bias and high variance", (True, False): "high bias",
               (False, True): "high variance", (False, False): "fine"}[(high_bias, high_variance)]
    settings = _settings(model, training or {})
    recipe: list[str] = []
    suggestions: dict[str, Any] = {}
    notes: list[str] = []
    if high_bias:
        _bias_steps(settings, recipe, suggestions)
    if high_variance:
        _variance_steps(settings, recipe, suggestions, also_bias=high_bias)
    if high_bias and high_variance:
        notes.append("fix the bias first (the training set must be fit well before the dev set can be); "
                     "a bigger network that is well regularized rarely hurts, it only costs time")
    if not (high_bias or high_variance):
        notes.append("training and dev errors are both close to the human level: on to the test set")
    if bias < 0:
        notes.append("the training error is below the human-level error: either the human-level estimate is "
                     "too high or the model fits noise in the training labels")
    if variance < -threshold:
        notes.append("the dev error is clearly below the training error: dev and training sets may come from "
                     "different distributions, or dropout/regularization inflates the training error")
    diagnosis = Diagnosis(train_error, dev_error, human_error, bias, variance, threshold, high_bias,
                          high_variance, verdict, recipe, suggestions, notes)
    diagnosis.findings = _findings(diagnosis, facts)
    if X is not None or y is not None:
        if model is None or X is None or y is None:
            raise GradwiseValueError("per-layer health needs model=, X= and y= together")
        diagnosis.health = layer_health(model, X, y,
                                        learning_rate=(training or {}).get("learning_rate"))
    return diagnosis


def _findings(d: Diagnosis, facts: RunFacts | None) -> list[Finding]:
    """The doctor's findings on the run, then high_bias / high_variance when nothing comes before them."""
    found = examine(facts) if facts is not None else []
    if any(f.code != "overfitting" for f in found):
        return found
    if d.high_bias:
        found.append(Finding(
            "high_bias", "warning", None, None,
            {"train_error": d.train_error, "human_error": d.human_error, "avoidable_bias": d.avoidable_bias},
            "the training error is well above the human-level error: the model does not fit the training set",
            "; ".join(d.recipe[:3]) or "a bigger network, train longer"))
    if d.high_variance:
        found.append(Finding(
            "high_variance", "warning", None, None,
            {"train_error": d.train_error, "dev_error": d.dev_error, "variance": d.variance},
            "the dev error is well above the training error: the model does not generalize from the training set",
            "more data, regularization (l2, dropout, early stopping)" if not d.high_bias else
            "fix the bias first, then: more data, regularization"))
    return found


def noise_threshold(dev_error: float, m_dev: int, floor: float = DEFAULT_THRESHOLD) -> float:
    """A gap threshold that a dev set of `m_dev` examples can resolve: max(floor, 2·√(e(1 − e)/m_dev)).

    √(e(1 − e)/m) is the standard error of an error rate e measured on m examples; below two of them a
    difference between training and dev error is as likely noise as variance (60 dev examples at 10%
    error: 7.7 points).
    """
    m_dev = check_int("m_dev", m_dev, minimum=1)
    e = _check_error("dev_error", dev_error)
    return max(check_float("floor", floor, low=0.0), 2.0 * math.sqrt(e * (1.0 - e) / m_dev))


def _settings(model: Sequential | None, training: dict) -> dict:
    """What the recipe needs to know: hidden sizes, l2, keep_prob, optimizer, epochs, early stopping."""
    keys = ("optimizer", "epochs", "learning_rate", "early_stopping", "batch_size")
    s: dict[str, Any] = {k: training.get(k) for k in keys}
    s["layers"] = list(training["layers"]) if training.get("layers") is not None else None
    s["l2"] = training.get("l2")
    s["keep_prob"] = training.get("keep_prob")
    if model is not None:

        if not isinstance(model, Sequential):
            raise GradwiseTypeError(f"model must be a gradwise Sequential, got {type(model).__name__}")
        dense = [layer.units for layer in model.layers if isinstance(layer, Dense)]
        s["layers"] = dense[:-1]
        s["l2"] = model.l2
        keeps = [layer.keep_prob for layer in model.layers if isinstance(layer, Dropout)]
        s["keep_prob"] = min(keeps) if keeps else 1.0
        if s["optimizer"] is None and model.optimizer is not None:
            s["optimizer"] = model.optimizer.name
            s["learning_rate"] = s["learning_rate"] or model.optimizer.learning_rate
    return s


def _fmt_layers(sizes: list[int]) -> str:
    return ",".join(str(n) for n in sizes)


def _bias_steps(s: dict, recipe: list[str], suggestions: dict) -> None:
    layers = s.get("layers")
    if layers:
        bigger = [2 * n for n in layers]
        deeper = [*layers, layers[-1]]
        suggestions["layers"] = bigger
        recipe.append(f"bigger network: try layers {_fmt_layers(bigger)} (twice the hidden units, now "
                      f"{_fmt_layers(layers)}) or one more layer: {_fmt_layers(deeper)}")
    elif layers is not None:  # no hidden layer: logistic/linear regression
        suggestions["layers"] = [20]
        recipe.append("bigger network: add a hidden layer, e.g. layers 20 (the model has none)")
    else:
        recipe.append("bigger network: more hidden units or more layers")
    epochs = s.get("epochs")
    if epochs:
        suggestions["epochs"] = 2 * int(epochs)
        recipe.append(f"train longer: try epochs {2 * int(epochs)} (now {int(epochs)})")
    else:
        recipe.append("train longer (more epochs)")
    optimizer = s.get("optimizer")
    if optimizer != "adam":
        suggestions["optimizer"] = "adam"
        now = f" (now {optimizer})" if optimizer else ""
        recipe.append(f"a better optimizer: try optimizer adam{now}, or momentum with mini-batches")
    else:
        lr = s.get("learning_rate")
        if lr:
            suggestions["learning_rate"] = 3 * lr
            recipe.append(f"tune the optimizer: try learning_rate {3 * lr:.3g} (now {lr:g}) or mini-batches")
    l2, keep = s.get("l2"), s.get("keep_prob")
    if l2:
        suggestions["l2"] = l2 / 3
        recipe.append(f"less regularization (it adds bias): try l2={l2 / 3:.3g} (now {l2:g})")
    if keep is not None and keep < 1.0:
        higher = min(1.0, round(keep + 0.1, 2))
        suggestions["keep_prob"] = higher
        recipe.append(f"less dropout: try keep_prob={higher:g} (now {keep:g})")
    recipe.append("if none of this fits the training set: another architecture")


def _variance_steps(s: dict, recipe: list[str], suggestions: dict, also_bias: bool) -> None:
    recipe.append("more data: collect more training examples, or augment the ones you have")
    l2 = s.get("l2")
    if "l2" in suggestions:  # both problems: the bias step lowered it; leave the choice to the user
        pass
    elif l2:
        suggestions["l2"] = 3 * l2
        recipe.append(f"regularization: try l2={3 * l2:.3g} (now {l2:g})")
    else:
        suggestions["l2"] = 0.1
        recipe.append("regularization: try l2=0.1 (now none), then scale it by 3 up or down on the dev set")
    keep = s.get("keep_prob")
    if "keep_prob" not in suggestions and s.get("layers") != []:  # dropout acts on hidden layers
        if keep is None or keep >= 1.0:
            suggestions["keep_prob"] = 0.8
            recipe.append("dropout: try keep_prob=0.8")
        else:
            lower = max(0.5, round(keep - 0.1, 2))
            if lower < keep:
                suggestions["keep_prob"] = lower
                recipe.append(f"more dropout: try keep_prob={lower:g} (now {keep:g})")
    if not s.get("early_stopping"):
        suggestions["early_stopping"] = 10
        recipe.append("early stopping: try early_stopping=10 (stop when the dev cost stops improving)")
    recipe.append("if regularization does not close the gap: another architecture")


# ------------------------------------------------------------------------------------ layer health
@dataclass
class LayerStats:
    """Statistics of Dense layer [l] and the activation that follows it, on one batch."""

    layer: int
    units: int
    activation: str
    mean: float
    std: float
    dead_fraction: float | None  # ReLU: units that output 0 on every example
    saturated_fraction: float | None  # sigmoid/tanh: outputs in the flat tails
    grad_norm: float  # ‖dW^[l]‖_F
    weight_norm: float  # ‖W^[l]‖_F
    update_ratio: float  # ‖ΔW^[l]‖_F / ‖W^[l]‖_F of the next step

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class LayerHealth:
    """Per-layer statistics of one batch and the warnings they raise."""

    layers: list[LayerStats]
    warnings: list[str]
    cost: float
    learning_rate: float
    optimizer: str

    def to_dict(self) -> dict:
        return {"layers": [s.to_dict() for s in self.layers], "warnings": list(self.warnings),
                "cost": self.cost, "learning_rate": self.learning_rate, "optimizer": self.optimizer}

    def __str__(self) -> str:
        lines = [f"per-layer health (one batch, cost {self.cost:.4g}, next {self.optimizer} step with "
                 f"learning rate {self.learning_rate:g}):",
                 f"  {'layer':<6}{'units':>6} {'activation':<11}{'mean':>9}{'std':>9}{'dead/sat':>10}"
                 f"{'|dW|':>11}{'|dW|/|W|':>11}{'update/W':>11}"]
        for s in self.layers:
            frac = s.dead_fraction if s.dead_fraction is not None else s.saturated_fraction
            frac_text = f"{100 * frac:.0f}%" if frac is not None else "-"
            rel = s.grad_norm / s.weight_norm if s.weight_norm else math.inf
            lines.append(f"  {s.layer:<6}{s.units:>6} {s.activation:<11}{s.mean:>9.3g}{s.std:>9.3g}"
                         f"{frac_text:>10}{s.grad_norm:>11.3e}{rel:>11.3e}{s.update_ratio:>11.3e}")
        if self.warnings:
            lines.extend(f"  warning: {w}" for w in self.warnings)
        else:
            lines.append("  no warnings: gradients and update sizes look healthy")
        return "\n".join(lines)


def layer_health(model: Sequential, X: Any, y: Any, learning_rate: float | None = None,
                 optimizer: Any = None) -> LayerHealth:
    """Activation, gradient and update statistics per layer on one batch.

    Parameters
    ----------
    model : Sequential
    X : array of shape (m, n_x);  y : array of shape (m,)
        The batch, as the model takes it (raw: a model with a `standardizer` applies it itself).
    learning_rate : float, optional
        α of the next step; default the model's optimizer's (0.01 for a model never trained).
    optimizer : str or Optimizer, optional
        Default: a copy of the model's optimizer, state included, so the update is the one training would
        make next (for Adam ΔW = α·v̂/(√ŝ + ε), not α·dW); "gd" for a model never trained.

    Returns
    -------
    LayerHealth
        One `LayerStats` per Dense layer; the batch is run with dropout off and batch norm on batch
        statistics (its running averages are not moved), and the model's gradients are overwritten.
    """

    if not isinstance(model, Sequential):
        raise GradwiseTypeError(f"model must be a gradwise Sequential, got {type(model).__name__}")
    with np.errstate(all="ignore"):  # a diverged model's statistics overflow: they are reported, not raised
        return _layer_health(model, X, y, learning_rate, optimizer)


def _layer_health(model: Sequential, X: Any, y: Any, learning_rate: float | None,
                  optimizer: Any) -> LayerHealth:
    X = model.prepare_inputs(X)
    t = model.prepare_targets(y, X.shape[0])
    # One forward pass recording what each layer hands to the next (dropout off, batch stats frozen).
    outputs = []
    out = X
    for layer in model.layers:
        out = layer.forward(out, CHECKING)
        outputs.append(out)
    J, _ = model.loss_and_gradient(X, t, CHECKING)
    model.clear_cache()

    if optimizer is None:
        opt = copy.deepcopy(model.optimizer) if model.optimizer is not None else optim.get("gd")
    else:
        opt = copy.deepcopy(optim.get(optimizer))
    lr = check_float("learning_rate", learning_rate, low=0.0, low_open=True) if learning_rate is not None \
        else opt.learning_rate
    stepped = model.theta.copy()
    opt.step(stepped, model.grad.copy(), lr)
    delta = stepped - model.theta

    slices = model.parameter_slices()
    params, grads = model.parameters(), model.gradients()
    stats: list[LayerStats] = []
    dense_positions = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
    for k, pos in enumerate(dense_positions):
        layer = model.layers[pos]
        assert isinstance(layer, Dense)  # a position in dense_positions
        idx = layer.index
        end = dense_positions[k + 1] if k + 1 < len(dense_positions) else len(model.layers)
        act_pos = next((i for i in range(pos + 1, end) if isinstance(model.layers[i], Activation)), None)
        act_layer = model.layers[act_pos] if act_pos is not None else None
        act_name = act_layer.name if isinstance(act_layer, Activation) else "linear"
        A = outputs[act_pos] if act_pos is not None else outputs[pos]
        dead = saturated = None
        if act_name == "relu":
            dead = float(np.mean(np.all(A <= 0, axis=0)))
        elif act_name == "sigmoid":
            saturated = float(np.mean((A < 1 - SATURATION_LEVEL) | (A > SATURATION_LEVEL)))
        elif act_name == "tanh":
            saturated = float(np.mean(np.abs(A) > SATURATION_LEVEL))
        W = params[f"W{idx}"]
        w_norm = float(np.linalg.norm(W))
        g_norm = float(np.linalg.norm(grads[f"W{idx}"]))
        u_norm = float(np.linalg.norm(delta[slices[f"W{idx}"]]))
        stats.append(LayerStats(idx, int(layer.units), act_name, float(A.mean()), float(A.std()), dead,
                                saturated, g_norm, w_norm, u_norm / w_norm if w_norm else math.inf))
    return LayerHealth(stats, _warnings(stats), float(J), float(lr), opt.name)


def _warnings(stats: list[LayerStats]) -> list[str]:
    warnings: list[str] = []
    norms = [s.grad_norm for s in stats]
    if not all(math.isfinite(n) for n in norms):
        warnings.append("exploding gradients: a gradient norm is not finite; lower the learning rate, "
                        "use He/Xavier initialization")
    elif len(stats) >= 2:
        first, last = norms[0], norms[-1]
        if last > 0 and (first == 0 or first / last < 1 / GRADIENT_RATIO_LIMIT):
            warnings.append(f"vanishing gradients: ‖dW1‖ = {first:.2e} is {first / last:.1e} × "
                            f"‖dW{stats[-1].layer}‖ = {last:.2e}; use ReLU hidden units with He "
                            f"initialization, or batch norm")
        elif first > 0 and (last == 0 or first / last > GRADIENT_RATIO_LIMIT):
            ratio = first / last if last else math.inf
            warnings.append(f"exploding gradients: ‖dW1‖ = {first:.2e} is {ratio:.1e} × "
                            f"‖dW{stats[-1].layer}‖ = {last:.2e}; use He/Xavier initialization (weights "
                            f"scaled by √(2/n) or √(1/n)), or batch norm")
    if not any(w.startswith("exploding") for w in warnings):
        for s in stats:
            if s.weight_norm > 0 and s.grad_norm > GRADIENT_WEIGHT_LIMIT * s.weight_norm:
                warnings.append(f"exploding gradients: ‖dW{s.layer}‖ = {s.grad_norm:.2e} is "
                                f"{s.grad_norm / s.weight_norm:.1e} × ‖W{s.layer}‖; use He/Xavier "
                                f"initialization, standardize the inputs, lower the learning rate")
                break
    for s in stats:
        if s.update_ratio > UPDATE_RATIO_HIGH:
            warnings.append(f"learning rate too large: layer {s.layer}'s next update is "
                            f"{s.update_ratio:.1e} of its weights (healthy ≈ 1e-3); lower the learning rate")
            break
    else:
        # layers without any gradient (dead units) say nothing about the learning rate
        finite = [s.update_ratio for s in stats if math.isfinite(s.update_ratio) and s.grad_norm > 0]
        if finite and max(finite) < UPDATE_RATIO_LOW:
            warnings.append(f"learning rate possibly too small: updates are at most {max(finite):.1e} of the "
                            f"weights (healthy ≈ 1e-3)")
    for s in stats[:-1]:  # hidden layers
        if s.dead_fraction is not None and s.dead_fraction > DEAD_FRACTION_LIMIT:
            warnings.append(f"dead ReLUs: {100 * s.dead_fraction:.0f}% of layer {s.layer}'s units output 0 "
                            f"on the whole batch; lower the learning rate, use He initialization or "
                            f"LeakyReLU")
        if s.saturated_fraction is not None and s.saturated_fraction > SATURATION_FRACTION_LIMIT:
            warnings.append(f"saturated {s.activation}: {100 * s.saturated_fraction:.0f}% of layer "
                            f"{s.layer}'s outputs sit where g'(z) ≈ 0; standardize the inputs, use Xavier "
                            f"initialization")
    return warnings


def plot_layer_health(health: LayerHealth, path: Any = None):
    """Four panels by layer: activation mean ± std, dead/saturated fraction, ‖dW‖, update/weight ratio.

    Returns the matplotlib Figure (Agg canvas, no pyplot state); with `path`, also writes it there as a
    PNG, atomically.
    """

    if not isinstance(health, LayerHealth):
        raise GradwiseTypeError(f"health must be a LayerHealth, got {type(health).__name__}")
    idx = [s.layer for s in health.layers]
    fig, axes = plots.subplots(2, 2, figsize=(9, 6.5))
    ax = axes[0, 0]
    ax.errorbar(idx, [s.mean for s in health.layers], yerr=[s.std for s in health.layers], marker="o",
                capsize=4)
    ax.set_title("activations: mean ± std")
    ax = axes[0, 1]
    frac = [(s.dead_fraction if s.dead_fraction is not None else s.saturated_fraction) or 0.0
            for s in health.layers]
    ax.bar(idx, frac, color="tab:red")
    ax.set_ylim(0, 1)
    ax.set_title("dead ReLU / saturated fraction")
    ax = axes[1, 0]
    ax.semilogy(idx, [max(s.grad_norm, 1e-300) for s in health.layers], marker="o")
    ax.set_title("gradient norm ‖dW‖")
    ax = axes[1, 1]
    ax.semilogy(idx, [max(s.update_ratio, 1e-300) for s in health.layers], marker="o")
    ax.axhline(1e-3, color="gray", linestyle="--", label="≈ healthy (1e-3)")
    ax.legend()
    ax.set_title("update / weight ratio")
    for a in axes.ravel():
        a.set_xlabel("layer")
        a.set_xticks(idx)
    if path is not None:
        plots.save_figure(fig, path)
    return fig


def plot_training_health(monitor: dict, history: dict[str, list], findings: list[Finding] | None = None,
                         path: Any = None):
    """Heat maps of the Monitor's records over epochs and the cost curves with each finding's onset.

    Panels: log10 ‖dW^[l]‖ (layer × epoch), the activations' std, the dead-ReLU / saturated share, and the
    training and dev cost by epoch with a dashed line at the epoch each finding started. Non-finite values
    are left blank. Returns the Figure (Agg canvas); with `path`, also writes it there as a PNG, atomically.
    """
    records = [r for r in monitor.get("records") or [] if not r.get("initial")]
    layers = sorted({int(r["layer"]) for r in records})
    epochs = sorted({int(r["epoch"]) for r in records})
    fig, axes = plots.subplots(2, 2, figsize=(10, 7))
    panels = [("grad_norm", "log10 ‖dW‖", True), ("std", "activation std", False),
              ("share", "dead ReLU / saturated share", False)]
    for ax, (key, title, log) in zip(axes.ravel()[:3], panels, strict=True):
        grid = np.full((len(layers), len(epochs)), np.nan)
        for r in records:
            value = r.get(key) if key != "share" else (r.get("dead_fraction") if r.get("dead_fraction")
                                                       is not None else r.get("saturated_fraction"))
            if value is not None and (value > 0 or not log):
                grid[layers.index(int(r["layer"])), epochs.index(int(r["epoch"]))] = \
                    math.log10(value) if log else value
        ax.set_title(title)
        if not grid.size:  # a run that diverged in its first epoch: only the starting weights were measured
            ax.text(0.5, 0.5, "no epoch recorded", ha="center", va="center", transform=ax.transAxes)
            continue
        image = ax.imshow(grid, aspect="auto", origin="lower", interpolation="nearest",
                          extent=(0.5, len(epochs) + 0.5, 0.5, len(layers) + 0.5))
        fig.colorbar(image, ax=ax)
        ax.set_xlabel("recorded epoch")
        ax.set_ylabel("layer")
    ax = axes[1, 1]
    for key, label in (("cost", "training cost"), ("val_cost", "dev cost")):
        values = [v if v is not None and math.isfinite(v) else np.nan for v in history.get(key) or []]
        if values:
            ax.plot(range(1, len(values) + 1), values, label=label)
    for f in findings or []:
        if f.epoch:
            ax.axvline(f.epoch, color="tab:red", linestyle="--", alpha=0.6)
            ax.annotate(f.code, (f.epoch, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                        va="top", color="tab:red")
    ax.set_title("cost by epoch (dashed: where a finding started)")
    ax.set_xlabel("epoch")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    if path is not None:
        plots.save_figure(fig, path)
    return fig
