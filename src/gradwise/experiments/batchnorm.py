"""Experiment 5 — batch normalization (seed 003, "What's batch normalization?").

z_norm = (z − μ)/√(σ² + ε), z̃ = γ z_norm + β on every hidden layer, before the activation, with μ, σ² of the
mini-batch (running averages at test time). The seeds' claim: it trains W and b faster and makes deeper
layers robust to changes in earlier ones — in practice it tolerates much larger learning rates.

Protocol: scikit-learn's handwritten digits (8×8, 10 classes; 80/20 stratified split, inputs standardized with
the training set's μ, σ), a deep network 64-[64]×8-10 (softmax), mini-batches of 64, plain gradient descent,
a sweep of learning rates, with and without batch norm, for two hidden activations: ReLU (He init) and
sigmoid (Xavier init). For each run: the epochs needed to bring the training cost below a target and
whether it trains at all (finite, and a final cost below half the chance cost ln 10).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import plots
from ..data import Standardizer, load
from ..errors import TrainingDivergedError
from ..model import mlp
from ._common import Check, Figure, Job, Section, Settings, Table, fewer, first_reaching, pct, save_plot, trained

KEY = "batchnorm"
TITLE = "5. Batch normalization: speed and the learning rates it tolerates"
DEPTH = 8
WIDTH = 64
BATCH = 64
EPOCHS = 12
QUICK_EPOCHS = 2
LEARNING_RATES = (0.03, 0.1, 0.3, 1.0, 3.0)
QUICK_LEARNING_RATES = (0.3, 3.0)
TARGET_COST = 0.1
TRAINS_BELOW = 0.5 * math.log(10)  # half the cost of guessing uniformly among 10 classes
ACTIVATIONS = {"relu": "he", "sigmoid": "xavier"}


def _data():
    data = load("digits", seed=0)
    scaler = Standardizer().fit(data.X_train)
    return scaler.transform(data.X_train), data.y_train, scaler.transform(data.X_test), data.y_test


def train(hidden: str, batchnorm: bool, learning_rate: float, epochs: int) -> dict:
    """One run; a diverging run (a non-finite cost) is recorded as such, not raised."""
    X, y, Xt, yt = _data()
    model = mlp([X.shape[1]] + [WIDTH] * DEPTH + [10], hidden=hidden, output="softmax",
                init=ACTIVATIONS[hidden], batchnorm=batchnorm, seed=1)
    try:
        # a learning-rate sweep is meant to find where training blows up: overflow on the way is expected
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = model.fit(X, y, epochs=epochs, batch_size=BATCH, learning_rate=learning_rate,
                                shuffle=True, verbose=0)
    except TrainingDivergedError:
        return {"diverged": True, "cost": [], "test_accuracy": None}
    cost = [float(c) for c in history["cost"]]
    return {"diverged": False, "cost": cost, "test_accuracy": model.evaluate(Xt, yt)["accuracy"]}


def jobs(settings: Settings) -> list[Job]:
    epochs = settings.n(EPOCHS, QUICK_EPOCHS)
    rates = QUICK_LEARNING_RATES if settings.quick else LEARNING_RATES
    return [Job(f"{KEY}/{hidden}/{'bn' if bn else 'plain'}/{lr:g}", train,
                {"hidden": hidden, "batchnorm": bn, "learning_rate": lr, "epochs": epochs},
                cost=epochs * 1438 * DEPTH * 4 * (3.0 if bn else 1.0))
            for hidden in ACTIVATIONS for bn in (False, True) for lr in rates]


LESSON = ("Batch norm normalizes each hidden unit's z over the mini-batch and lets γ, β choose its scale; "
          "deeper layers then see inputs of a stable distribution, so the network trains faster and "
          "accepts much larger learning rates.")
TAGS = (("plain", False), ("batchnorm", True))


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Per activation, with and without batch norm: the α that train and how fast; the claims; the plots."""
    epochs = settings.n(EPOCHS, QUICK_EPOCHS)
    rates = QUICK_LEARNING_RATES if settings.quick else LEARNING_RATES
    results: dict = {"protocol": {"data": "digits (standardized), 80/20", "layers": [64] + [WIDTH] * DEPTH + [10],
                                  "batch_size": BATCH, "epochs": epochs, "optimizer": "gd",
                                  "learning_rates": list(rates), "target_cost": TARGET_COST,
                                  "trains_if_final_cost_below": TRAINS_BELOW}}
    rows, checks = [], []
    for hidden in ACTIVATIONS:
        results[hidden] = {tag: _summary(outputs, hidden, bn, rates) for tag, bn in TAGS}
        rows += [_row(hidden, bn, results[hidden][tag], rates) for tag, bn in TAGS]
        checks += _claims(settings, hidden, results[hidden])
    table = Table(
        "With and without batch norm (per α, in order: epochs to the target cost, ✓ trains without reaching "
        "it, · does not train, ✗ diverges)",
        ["network", "largest α that trains", f"fewest epochs to J ≤ {TARGET_COST}",
         "per α: " + ", ".join(f"{lr:g}" for lr in rates), "best test accuracy"],
        rows)
    figure = Figure(_plots(results, rates, epochs, plot_dir),
                    "Left: the cost after training against α — without batch norm the network diverges or "
                    "stalls beyond a small range. Middle, right: cost curves at each network's best α (fastest "
                    "to the target, else lowest final cost).")
    return Section(KEY, TITLE, LESSON, _protocol(epochs, rates), results, tables=[table], figures=[figure],
                   checks=checks)


def _summary(outputs: dict[str, dict], hidden: str, batchnorm: bool, rates: tuple[float, ...]) -> dict:
    """One network over the α sweep: each run's fate, the largest α that trains, the fastest to the target."""
    runs = {}
    for lr in rates:
        r = outputs[f"{KEY}/{hidden}/{'bn' if batchnorm else 'plain'}/{lr:g}"]
        final = r["cost"][-1] if r["cost"] else None
        trains = (not r["diverged"]) and final is not None and math.isfinite(final) and final < TRAINS_BELOW
        runs[f"{lr:g}"] = {"diverged": r["diverged"], "final_cost": final, "trains": trains,
                           "epochs_to_target": first_reaching(r["cost"], TARGET_COST),
                           "test_accuracy": r["test_accuracy"], "cost": r["cost"]}
    training = [lr for lr in rates if runs[f"{lr:g}"]["trains"]]
    reached = [(runs[f"{lr:g}"]["epochs_to_target"], lr) for lr in rates
               if runs[f"{lr:g}"]["epochs_to_target"] is not None]
    best = min(reached) if reached else None
    finals = [(runs[f"{lr:g}"]["final_cost"], lr) for lr in rates if not runs[f"{lr:g}"]["diverged"]]
    return {
        # the α whose curve the plot shows: fastest to the target, else the lowest final cost
        "best_learning_rate": best[1] if best else (min(finals)[1] if finals else None),
        "largest_learning_rate_that_trains": max(training) if training else None,
        "fewest_epochs_to_target": best[0] if best else None,
        "at_learning_rate": best[1] if best else None,
        "best_test_accuracy": max((r["test_accuracy"] for r in runs.values()
                                   if r["trains"] and r["test_accuracy"] is not None), default=None),
        "runs": runs,
    }


def _row(hidden: str, batchnorm: bool, summary: dict, rates: tuple[float, ...]) -> list[str]:
    """The table's row of one network: largest α that trains, fewest epochs, each α's fate, test accuracy."""
    runs = summary["runs"]
    fewest = summary["fewest_epochs_to_target"]
    return [
        f"{hidden}, {'with' if batchnorm else 'without'} batch norm",
        _lr(summary["largest_learning_rate_that_trains"]),
        "not reached" if fewest is None else f"{fewest} (α = {summary['at_learning_rate']:g})",
        " ".join("✗" if runs[f"{lr:g}"]["diverged"] else
                 ("·" if not runs[f"{lr:g}"]["trains"] else str(runs[f"{lr:g}"]["epochs_to_target"] or "✓"))
                 for lr in rates),
        pct(summary["best_test_accuracy"]),
    ]


def _claims(settings: Settings, hidden: str, summary: dict) -> list[Check]:
    """With batch norm the network trains at a larger α, and reaches the target in at most as many epochs."""
    plain, bn = summary["plain"], summary["batchnorm"]
    return [
        Check(f"{hidden}: batch norm trains at a larger learning rate", "allows a larger α",
              f"largest α that trains: {_lr(plain['largest_learning_rate_that_trains'])} without, "
              f"{_lr(bn['largest_learning_rate_that_trains'])} with",
              trained(settings, (bn["largest_learning_rate_that_trains"] or 0)
                      > (plain["largest_learning_rate_that_trains"] or 0))),
        Check(f"{hidden}: batch norm reaches J ≤ {TARGET_COST} in at most as many epochs (best α of each)",
              "trains faster", f"{_ep(plain)} without, {_ep(bn)} with",
              trained(settings, fewer(bn["fewest_epochs_to_target"], plain["fewest_epochs_to_target"],
                                      or_equal=True))),
    ]


def _plots(results: dict, rates: tuple[float, ...], epochs: int, plot_dir: Path) -> str:
    """Final cost against α for the four networks; each activation's cost curves at its best α."""
    fig, axes = plots.subplots(1, 3, figsize=(15.0, 4.2))
    _final_cost_by_rate(axes[0], results, rates, epochs)
    for ax, hidden in zip(axes[1:], ACTIVATIONS, strict=True):
        _curves_at_best_rate(ax, results[hidden], hidden)
    fig.suptitle(f"Batch normalization on a {DEPTH}-hidden-layer network (digits, mini-batch gradient descent)")
    return save_plot(fig, plot_dir, "batchnorm.png")


def _final_cost_by_rate(ax, results: dict, rates: tuple[float, ...], epochs: int) -> None:
    """One line per network: the training cost after `epochs` by α; × marks the α that diverged."""
    for hidden in ACTIVATIONS:
        for tag, style in (("plain", "--"), ("batchnorm", "-")):
            runs = results[hidden][tag]["runs"]
            lrs = [lr for lr in rates if not runs[f"{lr:g}"]["diverged"]]
            ax.plot(lrs, [runs[f"{lr:g}"]["final_cost"] for lr in lrs], style, marker="o",
                    label=f"{hidden}, {'batch norm' if tag == 'batchnorm' else 'no batch norm'}")
            div = [lr for lr in rates if runs[f"{lr:g}"]["diverged"]]
            if div:
                ax.plot(div, [30.0] * len(div), "x", color=ax.lines[-1].get_color(), markersize=9)
    ax.axhline(TRAINS_BELOW, color="gray", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate α")
    ax.set_ylabel(f"training cost after {epochs} epochs")
    ax.set_title("Final cost by learning rate (× = diverged)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small")


def _curves_at_best_rate(ax, summary: dict, hidden: str) -> None:
    """The cost curves of one activation, with and without batch norm, each at its best α."""
    curves, styles = {}, {}
    for tag in ("plain", "batchnorm"):
        lr = summary[tag]["best_learning_rate"]
        run = summary[tag]["runs"][f"{lr:g}"] if lr is not None else {"cost": []}
        if run["cost"]:
            label = f"{'batch norm' if tag == 'batchnorm' else 'no batch norm'}, α = {lr:g}"
            curves[label] = run["cost"]
            styles[label] = {"linestyle": "-" if tag == "batchnorm" else "--", "marker": "o", "markersize": 3}
    if curves:
        plots.plot_cost_curves(ax, curves, x={k: np.arange(1, len(v) + 1) for k, v in curves.items()},
                               xlabel="epoch", ylabel="training cost (epoch mean)", logy=True, styles=styles,
                               title=f"{hidden} hidden layers: each at its best α")
    ax.axhline(TARGET_COST, color="gray", linewidth=0.8, linestyle=":")


def _protocol(epochs: int, rates: tuple[float, ...]) -> list[str]:
    return [
        "digits (scikit-learn, 1797 images 8×8, stratified 80/20), inputs standardized with the training set",
        f"64-[{WIDTH}]×{DEPTH}-10 softmax, mini-batches of {BATCH}, plain gradient descent, {epochs} epochs, "
        f"α ∈ {{{', '.join(f'{lr:g}' for lr in rates)}}}; ReLU with He init, sigmoid with Xavier init",
        f"'trains': no divergence and a final training cost below {TRAINS_BELOW:.2f} (half of ln 10); "
        f"target cost {TARGET_COST}",
    ]


def _lr(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def _ep(summary: dict) -> str:
    if summary["fewest_epochs_to_target"] is None:
        return "not reached"
    return f"{summary['fewest_epochs_to_target']} epochs (α = {summary['at_learning_rate']:g})"
