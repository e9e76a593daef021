"""Experiment 10 — L1 sparsity (seed 001, "Regularization": "L1 regularization ... w will be sparse, it
has more zeros; it compresses the model a little").

Protocol: the course's football data (the regularization experiment's), the 2-20-3-1 network with He
initialization, full-batch gradient descent, α = 0.3, 10,000 iterations, trained with no penalty, with L2
(λ = 0.7, the course's) and with L1 (λ = 0.7, the seeds' λ/(2m)·Σ|w|) from the same weights. A weight
counts as zero when |w| < 10⁻² (its He scale is 0.3–1: a hundredth of it). Fresh seeds draw their own
initial weights; the data stay the course's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ._common import (
    Check,
    Figure,
    Job,
    Section,
    Settings,
    Table,
    fmt_interval,
    mean_interval,
    pct,
    plot_path,
    train_on_football,
    trained,
)

KEY = "l1_sparsity"
TITLE = "10. L1 regularization makes the weights sparse"
MODES = ("none", "l2", "l1")
LABEL = {"none": "no penalty", "l2": "L2, λ = 0.7", "l1": "L1, λ = 0.7"}
LAYERS = [2, 20, 3, 1]
LAMBDA = 0.7
LEARNING_RATE = 0.3
ITERATIONS, QUICK_ITERATIONS = 10000, 400
ZERO = 1e-2
LESSON = ("L1 adds λ/(2m)·Σ|w| to the cost; its gradient λ/(2m)·sign(w) pulls every weight toward 0 by the "
          "same amount whatever its size, so small weights reach 0 and stay there, while L2's pull λ/m·w fades "
          "as w shrinks: L1 gives sparse weights (a smaller model), L2 small but non-zero ones.")


def train(mode: str, seed: int, iterations: int) -> dict:
    """One network on the football data; the final weights' magnitudes and the accuracies."""
    model, _, accuracies = train_on_football(KEY, seed, iterations, LEARNING_RATE, hidden="relu",
                                             l2=LAMBDA if mode == "l2" else 0.0, l1=LAMBDA if mode == "l1" else 0.0)
    weights = np.concatenate([v.ravel() for k, v in model.parameters().items() if k.startswith("W")])
    return {"abs_weights": np.abs(weights), **accuracies}


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    return [Job(f"{KEY}/{mode}/seed{seed}", train, {"mode": mode, "seed": seed, "iterations": n}, cost=n * 60)
            for seed in settings.fresh_seeds() for mode in MODES]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Share of zero weights per penalty over fresh seeds, the claims, the magnitude histogram."""
    seeds = settings.fresh_seeds()
    runs = {mode: [outputs[f"{KEY}/{mode}/seed{s}"] for s in seeds] for mode in MODES}
    zeros = {mode: [float(np.mean(r["abs_weights"] < ZERO)) for r in runs[mode]] for mode in MODES}
    stats = {mode: {"zero_share": mean_interval(zeros[mode]),
                    "test_accuracy": mean_interval([r["test_accuracy"] for r in runs[mode]])} for mode in MODES}
    rows = [[LABEL[m], fmt_interval(stats[m]["zero_share"]), fmt_interval(stats[m]["test_accuracy"])]
            for m in MODES]
    table = Table(f"Weights with |w| < {ZERO:g} after training ({len(seeds)} fresh seeds, 95% CI)",
                  ["penalty", "zero weights", "test accuracy"], rows)
    mean = {m: float(np.mean(zeros[m])) for m in MODES}
    checks = [
        Check("L1 leaves more zero weights than L2 and than no penalty (mean over fresh seeds)",
              "L1: w will be sparse, more zeros",
              " > ".join(f"{LABEL[m]} {pct(mean[m])}" for m in ("l1", "l2", "none")),
              trained(settings, mean["l1"] > mean["l2"] and mean["l1"] > mean["none"])),
        Check("with L1 at least a third of the weights are zero (a compressed model)",
              "it compresses the model", f"{pct(mean['l1'])} of the weights",
              trained(settings, mean["l1"] >= 1 / 3)),
    ]
    results = {"seeds": seeds, "zero_threshold": ZERO, **stats,
               "protocol": {"layers": LAYERS, "lambda": LAMBDA, "iterations": settings.n(ITERATIONS, QUICK_ITERATIONS)}}
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table],
                   figures=[_plot(runs, plot_dir)], checks=checks)


def _plot(runs: dict[str, list[dict]], plot_dir: Path) -> Figure:
    """Histogram of log10 |w| per penalty (all seeds pooled)."""
    path, rel = plot_path(plot_dir, "l1_sparsity_weights.png")
    fig, ax = plots.subplots(figsize=(6.0, 3.8))
    bins = np.linspace(-8, 1, 37)
    for mode in MODES:
        values = np.concatenate([r["abs_weights"] for r in runs[mode]])
        ax.hist(np.log10(np.maximum(values, 1e-8)), bins=bins, histtype="step", linewidth=1.6, label=LABEL[mode])
    ax.axvline(np.log10(ZERO), color="grey", linestyle=":", label=f"|w| = {ZERO:g}")
    ax.set_xlabel("log10 |w| (weights below 1e-8 drawn at -8)")
    ax.set_ylabel("weights")
    ax.set_title("Weight magnitudes after training, football data")
    ax.legend(fontsize="small")
    plots.save_figure(fig, path)
    return Figure(rel, "L1 piles weights up at (nearly) zero; L2 shrinks them without zeroing them.")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    return ["the course's football data (the regularization experiment's); network 2-20-3-1, ReLU/sigmoid, He "
            f"initialization per fresh seed ({', '.join(map(str, seeds))})",
            f"full-batch gradient descent, α = {LEARNING_RATE}, {settings.n(ITERATIONS, QUICK_ITERATIONS)} "
            f"iterations; λ = {LAMBDA} for L2 (λ/(2m)·Σ‖W‖²) and for L1 (λ/(2m)·Σ|W|); a weight is zero when "
            f"|w| < {ZERO:g}"]
