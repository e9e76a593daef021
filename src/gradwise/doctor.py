"""The training doctor's findings: what went wrong in a run, root cause first, and what to do.

Each rule reads the time series a `Monitor` recorded (per layer and epoch), the cost curves, the data's
feature scales and class shares, and the predictions' class shares; the catalogue with every rule, its
thresholds and why, the seeds' explanation and the remedy is `docs/doctor.md`. Rules are ordered root
cause first; a finding that explains another (zero weights explain dead units and a flat cost, a learning
rate far too high explains exploding and dead units) hides it, and any training pathology, or a model that
only predicts the majority class, comes before — and replaces — the bias/variance verdict, which is only
meaningful for a network that trains.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CODES", "Finding", "RunFacts", "examine", "json_safe", "run_facts"]

#: every code, in the order they are reported (root causes first)
CODES = ("symmetry_not_broken", "unnormalized_inputs", "learning_rate_too_high", "exploding_gradients",
         "saturated_units", "vanishing_gradients", "dead_relu", "learning_rate_too_low", "majority_class",
         "overfitting", "high_bias", "high_variance")
#: findings hidden by a root cause that explains them
EXPLAINS = {
    "symmetry_not_broken": {"dead_relu", "vanishing_gradients", "learning_rate_too_low", "saturated_units",
                            "exploding_gradients", "learning_rate_too_high"},
    "learning_rate_too_high": {"exploding_gradients", "dead_relu", "saturated_units", "learning_rate_too_low",
                               "overfitting", "vanishing_gradients"},
    "unnormalized_inputs": {"saturated_units", "exploding_gradients", "learning_rate_too_high", "dead_relu",
                            "learning_rate_too_low", "vanishing_gradients"},
    "saturated_units": {"vanishing_gradients"},
    "dead_relu": {"learning_rate_too_low", "vanishing_gradients"},
}
# A network that does not train predicts one class whatever the class shares: the training pathology is
# the cause, the majority-class model its symptom.
for _code in ("symmetry_not_broken", "learning_rate_too_high", "exploding_gradients", "saturated_units",
              "vanishing_gradients", "dead_relu", "learning_rate_too_low", "unnormalized_inputs"):
    EXPLAINS.setdefault(_code, set()).add("majority_class")
#: a hidden layer whose units differ by less than this (relative to ‖W‖) has not broken symmetry
SYMMETRY_SPREAD = 1e-6
#: feature standard deviations further apart than this factor stretch the cost surface
SCALE_RATIO = 100.0
#: the last epoch's cost above the first's by this factor: the steps overshoot
COST_RISE = 1.1
#: per-step update/weight ratio (healthy ≈ 1e-3): above HIGH the steps are too large, below LOW too small
UPDATE_HIGH, UPDATE_LOW = 0.1, 1e-5
#: with tiny updates, a training cost that fell by less than this share is creeping
LOW_COST_DROP = 0.05
#: ‖dW^[1]‖ / ‖dW^[L]‖ outside [1/100, 100] (median over epochs): vanishing / exploding
GRADIENT_RATIO = 100.0
#: dead ReLU or saturated sigmoid/tanh share of a hidden layer above which it barely learns
DEAD_LIMIT, SATURATED_LIMIT = 0.5, 0.5
#: dev cost this far above its minimum (the last OVERFIT_EPOCHS epochs' mean and the final model's), at least
#: this many epochs after it, while the training cost fell by OVERFIT_TRAIN_FALL more: overfitting
OVERFIT_RISE, OVERFIT_EPOCHS, OVERFIT_TRAIN_FALL = 1.1, 3, 0.05
#: a class this imbalanced (majority share at least) can hide a model that learned nothing
MAJORITY_SHARE = 0.6


@dataclass
class Finding:
    """One thing the doctor found.

    Attributes
    ----------
    code : str            one of `CODES` (docs/doctor.md)
    severity : str        "error" (training is broken), "warning" (it works, badly) or "info"
    layer : int or None   the Dense layer [l] it concerns (1-based), None for the whole run
    epoch : int or None   the epoch (1-based) where it started, None when not tied to one
    evidence : dict       the numbers that triggered it
    explanation : str     the seeds' explanation
    remedy : str          what to change
    """

    code: str
    severity: str
    layer: int | None
    epoch: int | None
    evidence: dict[str, Any]
    explanation: str
    remedy: str

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))

    def __str__(self) -> str:
        where = "".join([f" layer {self.layer}" if self.layer else "",
                         f" since epoch {self.epoch}" if self.epoch else ""])
        facts = ", ".join(f"{k} {_fmt(v)}" for k, v in self.evidence.items())
        return f"{self.code} ({self.severity}{',' if where else ''}{where}): {facts}\n    why: " \
               f"{self.explanation}\n    do: {self.remedy}"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def json_safe(value: Any) -> Any:
    """`value` with every inf/nan float replaced by None: always valid JSON (RFC 8259 has no inf)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


@dataclass
class RunFacts:
    """What the rules read. `records`/`inputs` as `Monitor.to_dict()` gives them; `history` the per-epoch
    lists (`cost`, `val_cost`, …); `predicted_shares`/`true_shares` per class on the dev (or training) set,
    `balanced_accuracy` there (mean per-class recall); `final_dev_cost` the dev cost of the weights the run
    ended with (after EarlyStopping restored its best ones), when known."""

    records: list[dict] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    history: dict[str, list] = field(default_factory=dict)
    diverged: bool = False
    accuracy: float | None = None
    examples: int = 0
    predicted_shares: list[float] | None = None
    true_shares: list[float] | None = None
    balanced_accuracy: float | None = None
    final_dev_cost: float | None = None


def examine(facts: RunFacts) -> list[Finding]:
    """Every rule of the catalogue on one run; findings root cause first, the explained ones hidden."""
    by_layer = _by_layer(facts.records)
    found: list[Finding] = []
    rules = (_symmetry, _unnormalized, _exploding_by_depth, _lr_high, _exploding, _saturated, _vanishing,
             _dead, _lr_low, _majority, _overfitting)
    for rule in rules:
        finding = rule(facts, by_layer)
        if finding is not None:
            found.append(finding)
    if any(f.evidence.get("at") == "starting weights" for f in found if f.code == "exploding_gradients"):
        # gradients that grow layer after layer are the cause; a step that overshoots is their symptom
        found = [f for f in found if f.code not in ("learning_rate_too_high", "dead_relu", "saturated_units")]
    hidden = set().union(*(EXPLAINS.get(f.code, set()) for f in found))
    seen: set[str] = set()
    out = []
    for f in found:
        if f.code not in hidden and f.code not in seen:
            seen.add(f.code)
            out.append(f)
    return out


def _by_layer(records: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for r in records:
        out.setdefault(int(r["layer"]), []).append(r)
    return out


def _epoch(record: dict) -> int:
    """The 1-based epoch of a record; the starting weights' measurement counts as epoch 1."""
    return max(1, int(record["epoch"]) + 1)


def _hidden(by_layer: dict[int, list[dict]]) -> list[int]:
    return sorted(by_layer)[:-1]


def _values(rows: list[dict], key: str) -> list[float]:
    """The recorded values of `key`; non-finite (None) ones as inf. Update ratios skip the measurement of
    the starting weights (nothing was updated yet)."""
    if key == "update_ratio":
        rows = [r for r in rows if not r.get("initial")]
    return [math.inf if r.get(key) is None else float(r[key]) for r in rows if key in r]


def _symmetry(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    for layer in _hidden(by_layer):
        last = by_layer[layer][-1]
        spread = last.get("unit_spread")
        if last["units"] > 1 and spread is not None and spread <= SYMMETRY_SPREAD:
            return Finding(
                "symmetry_not_broken", "error", layer, _epoch(by_layer[layer][0]),
                {"unit_spread": float(spread), "units": last["units"]},
                "every unit of the layer started with the same weights, so each gets the same gradient and "
                "they stay identical: the layer computes one feature however many units it has",
                "initialize the weights randomly (--init he for ReLU, xavier for tanh; "
                "W = randn·√(2/n^[l−1])); zeros are only right for the biases")
    return None


def _unnormalized(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    stds = [s for s in facts.inputs.get("feature_std") or [] if s is not None and s > 0]
    if len(stds) < 2 or max(stds) / min(stds) <= SCALE_RATIO:
        return None
    return Finding(
        "unnormalized_inputs", "warning", None, None,
        {"largest_feature_std": max(stds), "smallest_feature_std": min(stds),
         "ratio": max(stds) / min(stds)},
        "features on very different scales stretch the cost surface into a narrow valley: gradient descent "
        "must take tiny steps and zig-zags across it",
        "standardize the inputs (x − μ)/σ with μ and σ of the training set (gradwise train does unless "
        "--no-standardize; gw.Standardizer in Python)")


def _cost_rise(facts: RunFacts) -> tuple[int, float, float] | None:
    """(epoch, first cost, cost there) where the training cost first rose COST_RISE above the first
    epoch's, or it turned non-finite."""
    costs = facts.history.get("cost") or []
    if not costs:
        return None
    first = costs[0]
    for i, c in enumerate(costs[1:], start=1):
        if not math.isfinite(c) or (math.isfinite(first) and c > COST_RISE * first):
            return i, first, c
    return None


def _lr_high(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    rise = _cost_rise(facts)
    trained = [[r for r in rows if not r.get("initial")] for rows in by_layer.values()]
    first = [rows[0] for rows in trained if rows]
    ratios = _values(first, "update_ratio")
    big = max(ratios) if ratios else 0.0
    if not (facts.diverged or rise is not None or big > UPDATE_HIGH):
        return None
    evidence: dict[str, Any] = {"first_update_ratio": big}
    epoch = _epoch(first[0]) if first else 1
    if rise is not None:
        evidence.update(first_cost=rise[1], cost_then=rise[2])
        epoch = rise[0] + 1
    if facts.diverged:
        evidence["diverged"] = True
        epoch = len(facts.history.get("cost") or []) + 1
    return Finding(
        "learning_rate_too_high", "error", None, epoch, evidence,
        "each step overshoots the minimum along the steep directions of the cost: the cost goes up or "
        "oscillates, and a healthy step moves the weights by about 1e-3 of their size, not by a large share",
        "lower the learning rate by 3× to 10× (try gradwise lrfind), or add a decay schedule; with Adam "
        "start at 1e-3")


def _exploding(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    for layer, rows in sorted(by_layer.items()):
        for r in rows:
            g, w = r.get("grad_norm"), r.get("weight_norm")
            if g is None or (w and g > 1e3 * w):
                return Finding(
                    "exploding_gradients", "error", layer, _epoch(r),
                    {"grad_norm": math.inf if g is None else g, "weight_norm": w},
                    "gradients grow layer after layer (products of weights larger than 1 in a deep "
                    "network) until a step throws the weights far away",
                    "use He/Xavier initialization (variance 2/n or 1/n), batch norm, gradient clipping "
                    "(clipnorm), or a smaller learning rate")
    return None


def _exploding_by_depth(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    """At the starting weights (the initialization's doing, whatever the learning rate): the hidden
    activations' spread grows more than GRADIENT_RATIO× from the first hidden layer to the last, or
    ‖dW^[1]‖ ≫ ‖dW^[L]‖."""
    initial = {k: [r for r in rows if r.get("initial")] for k, rows in by_layer.items()}
    hidden = [initial[k][0] for k in _hidden(by_layer) if initial.get(k)]
    evidence: dict[str, Any] = {}
    if len(hidden) >= 2:
        first, last = hidden[0].get("std"), hidden[-1].get("std")
        if last is None or (first and last / first > GRADIENT_RATIO):
            evidence = {"activation_std_first_hidden": first, "activation_std_last_hidden": last}
    ratio = _gradient_ratio(initial)
    if ratio is not None and ratio > GRADIENT_RATIO:
        evidence["grad_norm_first_over_last"] = ratio
    if not evidence:
        return None
    evidence["at"] = "starting weights"
    return Finding("exploding_gradients", "error", 1, None, evidence,
                   "with weights too large for the layer widths, activations and gradients are multiplied by "
                   "W^[l] layer after layer and grow exponentially with depth until the cost overflows",
                   "use He/Xavier initialization (variance 2/n or 1/n: W·√(2/n^[l−1])) or batch norm; "
                   "gradient clipping (clipnorm) bounds the steps")


def _gradient_ratio(by_layer: dict[int, list[dict]]) -> float | None:
    """Median over recorded epochs of ‖dW^[1]‖/‖dW^[L]‖, for networks of at least three Dense layers."""
    layers = sorted(by_layer)
    if len(layers) < 3:
        return None
    first, last = _values(by_layer[layers[0]], "grad_norm"), _values(by_layer[layers[-1]], "grad_norm")
    ratios = [a / b for a, b in zip(first, last, strict=False)
              if math.isfinite(a) and math.isfinite(b) and b > 0]
    return statistics.median(ratios) if ratios else None


def _saturated(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    for layer in _hidden(by_layer):
        shares = [r.get("saturated_fraction") for r in by_layer[layer]]
        known = [s for s in shares if s is not None]
        if known and statistics.median(known) > SATURATED_LIMIT:
            start = next(i for i, s in enumerate(shares) if s is not None and s > SATURATED_LIMIT)
            return Finding(
                "saturated_units", "warning", layer, _epoch(by_layer[layer][start]),
                {"saturated_fraction": statistics.median(known), "activation": by_layer[layer][0]["activation"]},
                "large pre-activations push sigmoid/tanh into their flat tails where g'(z) ≈ 0, so almost "
                "no gradient flows through the layer (large random weights, or unscaled inputs)",
                "scale the initial weights down (--init xavier: W·√(1/n^[l−1])), standardize the inputs, "
                "or use ReLU hidden units")
    return None


def _vanishing(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    ratio = _gradient_ratio(by_layer)
    if ratio is None or ratio >= 1 / GRADIENT_RATIO:
        return None
    return Finding(
        "vanishing_gradients", "error", sorted(by_layer)[0], _epoch(by_layer[sorted(by_layer)[0]][0]),
        {"grad_norm_first_over_last": ratio, "depth": len(by_layer)},
        "each layer multiplies the gradient by W·g'(z) on the way back; with sigmoid (g' ≤ 1/4) or small "
        "weights it shrinks exponentially with depth and the first layers stop learning",
        "use ReLU hidden units with He initialization (W·√(2/n^[l−1])), batch norm, or a shallower network")


def _dead(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    for layer in _hidden(by_layer):
        rows = by_layer[layer]
        last = rows[-1].get("dead_fraction")
        if last is not None and last > DEAD_LIMIT:
            start = next(i for i, r in enumerate(rows) if (r.get("dead_fraction") or 0) > DEAD_LIMIT)
            return Finding(
                "dead_relu", "warning", layer, _epoch(rows[start]), {"dead_fraction": last},
                "a ReLU unit whose input is negative on every example outputs 0 and gets no gradient: it "
                "never recovers (often after a too-large step, or biases pushed negative)",
                "lower the learning rate, use He initialization, or LeakyReLU (--hidden leaky_relu)")
    return None


def _lr_low(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    costs = [c for c in facts.history.get("cost") or [] if math.isfinite(c)]
    medians = [statistics.median(_values(rows, "update_ratio")) for rows in by_layer.values()
               if _values(rows, "update_ratio")]
    if len(costs) < 2 or not medians or max(medians) >= UPDATE_LOW:
        return None
    drop = (costs[0] - costs[-1]) / abs(costs[0]) if costs[0] else 0.0
    if drop > LOW_COST_DROP:  # the cost did fall: the steps are small but do their job
        return None
    return Finding(
        "learning_rate_too_low", "warning", None, 1,
        {"largest_update_ratio": max(medians), "relative_cost_drop": drop},
        "each step moves the weights by a tiny share of their size (healthy ≈ 1e-3): the cost creeps down "
        "and training would need orders of magnitude more epochs",
        "raise the learning rate by 10× and retune (gradwise lrfind suggests one), or use Adam")


def _majority(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    true, pred = facts.true_shares, facts.predicted_shares
    if not true or not pred or facts.accuracy is None or facts.examples <= 0:
        return None
    k = max(range(len(true)), key=lambda i: true[i])
    share = true[k]
    noise = 2.0 * math.sqrt(share * (1.0 - share) / facts.examples)
    one_class = max(pred) >= 0.99 and share < 0.99
    if share < MAJORITY_SHARE and not one_class:
        return None
    if not (one_class or facts.accuracy <= share + noise):
        return None
    if not one_class and _beats_chance(facts, true):
        return None  # class weights trade accuracy for the minority's recall: it learned something
    return Finding(
        "majority_class", "error", None, None,
        {"accuracy": facts.accuracy, "majority_share": share, "noise": noise,
         "largest_predicted_share": max(pred)},
        "the accuracy is what predicting the most common class for every row gives: the model found "
        "nothing that beats the class shares, so accuracy says nothing here (and this is not 'high bias')",
        "weight the classes (--class-weight balanced / fit(class_weight='balanced')), judge it by a metric "
        "that sees the minority (balanced accuracy, per-class recall, ROC AUC), or lower the decision "
        "threshold")


def _beats_chance(facts: RunFacts, true: list[float]) -> bool:
    """Balanced accuracy above 1/k by more than two standard errors of a chance-level classifier's:
    √(Σ_c (1/k)(1 − 1/k)/n_c) / k, n_c the class's examples (a majority-only model has exactly 1/k)."""
    counts = [share * facts.examples for share in true if share > 0]
    if facts.balanced_accuracy is None or len(counts) < 2:
        return False
    k = len(counts)
    noise = 2.0 * math.sqrt(sum((1 / k) * (1 - 1 / k) / n for n in counts)) / k
    return facts.balanced_accuracy > 1 / k + noise


def _overfitting(facts: RunFacts, by_layer: dict[int, list[dict]]) -> Finding | None:
    """The dev cost turned up after its minimum while the training cost kept falling (the seeds' picture
    of overfitting): a single noisy epoch, a converged run whose dev cost only jitters, or a model that
    EarlyStopping already brought back to its best epoch is not."""
    val, train = facts.history.get("val_cost") or [], facts.history.get("cost") or []
    finite = [(c, i) for i, c in enumerate(val) if math.isfinite(c)]
    if len(finite) < OVERFIT_EPOCHS + 1 or len(train) != len(val):
        return None
    best, at = min(finite)
    tail, train_tail = val[-OVERFIT_EPOCHS:], train[-OVERFIT_EPOCHS:]
    last = facts.final_dev_cost if facts.final_dev_cost is not None else val[-1]
    if len(val) - 1 - at < OVERFIT_EPOCHS or not all(math.isfinite(c) for c in [*tail, *train_tail, last]):
        return None
    if last <= OVERFIT_RISE * best or statistics.fmean(tail) <= OVERFIT_RISE * best:
        return None
    if not statistics.fmean(train_tail) < min((1 - OVERFIT_TRAIN_FALL) * train[at], statistics.fmean(tail)):
        return None  # training stalled too (the dev cost jitters around a converged run), or the network
        # still does as well on the dev set as on its training set: it is not fitting the training noise
    return Finding(
        "overfitting", "warning", None, at + 2,
        {"best_dev_cost": best, "best_epoch": at + 1, "last_dev_cost": last, "train_cost_at_best": train[at],
         "train_cost_last": statistics.fmean(train_tail)},
        "the dev cost turned up while the training cost kept falling: the network fits the training set's "
        "noise from there on",
        f"early stopping would have kept epoch {at + 1} (--early-stopping 10); or regularize (l2, dropout)")


def run_facts(monitor: dict | None, history: dict[str, list] | None, metrics: dict | None) -> RunFacts:
    """RunFacts from what a run directory holds: monitor.json, the history columns, metrics.json.

    The class shares and the accuracy come from the dev set's confusion matrix (the training set's when
    there is no dev set): rows are true classes, columns predictions.
    """
    monitor, metrics = monitor or {}, metrics or {}
    facts = RunFacts(records=list(monitor.get("records") or []), inputs=dict(monitor.get("inputs") or {}),
                     history={k: [math.nan if v is None else float(v) for v in vs]
                              for k, vs in (history or {}).items() if k != "epoch"},
                     diverged=bool(metrics.get("diverged", False)))
    dev_cost = (metrics.get("dev") or {}).get("cost")
    facts.final_dev_cost = float(dev_cost) if isinstance(dev_cost, int | float) and math.isfinite(dev_cost) \
        else None
    for part in ("dev", "train"):
        scores = metrics.get(part) or {}
        matrix = scores.get("confusion_matrix")
        if matrix and scores.get("accuracy") is not None:
            total = sum(sum(row) for row in matrix)
            if total:
                facts.true_shares = [sum(row) / total for row in matrix]
                facts.predicted_shares = [sum(col) / total for col in zip(*matrix, strict=True)]
                facts.accuracy, facts.examples = float(scores["accuracy"]), int(total)
                recalls = [row[i] / sum(row) for i, row in enumerate(matrix) if sum(row)]
                facts.balanced_accuracy = sum(recalls) / len(recalls) if recalls else None
                break
    return facts
