"""Experiment 12 — why L2 reduces overfitting (seed 001, "Why regularization reduces overfitting": "λ large →
W small → z = Wa + b small → tanh works in its linear part → every layer roughly linear → the network
computes a nearly linear function: a simpler boundary").

Protocol: the course's football data, a 2-20-3-1 network with tanh hidden units (sigmoid output), He
initialization per fresh seed, full-batch gradient descent α = 0.3, 5,000 iterations, for λ in 0, 0.3, 1,
3, 10. Measured after training: the share of hidden pre-activations z in tanh's near-linear part
(|z| < 0.5, where tanh z is within 8 % of z) on the training data, and how linear the learned boundary is
— the share of a grid over the data on which the network's class equals the class of its best linear
fit (a logistic regression fitted to the network's own labels on that grid).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..layers import INFERENCE, Tanh
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

KEY = "l2_linear_regime"
TITLE = "12. L2's intuition: large λ keeps tanh in its linear part"
LAMBDAS = (0.0, 0.3, 1.0, 3.0, 10.0)
LAYERS = [2, 20, 3, 1]
LEARNING_RATE = 0.3
ITERATIONS, QUICK_ITERATIONS = 5000, 300
LINEAR = 0.5
LESSON = ("With a large λ the penalty λ/(2m)·Σ‖W‖² keeps the weights small, so the pre-activations z stay "
          "near 0 where tanh is almost the identity: each layer is nearly linear, and the whole network "
          "computes a nearly linear function — it can no longer bend its boundary around single examples.")


def _linear_share(model, X: np.ndarray) -> float:
    """The share of the hidden units' pre-activations z (inputs of the Tanh layers) with |z| < 0.5."""
    shares, out = [], model.prepare_inputs(X)
    for layer in model.layers:
        if isinstance(layer, Tanh):
            shares.append(np.abs(out) < LINEAR)
        out = layer.forward(out, INFERENCE)
    return float(np.mean(np.concatenate([s.ravel() for s in shares])))


def _boundary_linearity(model, X: np.ndarray) -> float:
    """Agreement on a 60×60 grid between the network's classes and its best linear fit's."""
    from sklearn.linear_model import LogisticRegression

    lo, hi = X.min(axis=0) - 0.1, X.max(axis=0) + 0.1
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 60), np.linspace(lo[1], hi[1], 60))
    grid = np.column_stack([g0.ravel(), g1.ravel()])
    labels = model.predict(grid)
    if labels.min() == labels.max():  # one class everywhere: trivially linear
        return 1.0
    fit = LogisticRegression(C=1e4, max_iter=2000).fit(grid, labels)
    return float(np.mean(fit.predict(grid) == labels))


def train(lam: float, seed: int, iterations: int) -> dict:
    model, data, accuracies = train_on_football(KEY, seed, iterations, LEARNING_RATE, hidden="tanh", l2=lam)
    weights = [v for k, v in model.parameters().items() if k.startswith("W")]
    return {"linear_share": _linear_share(model, data.X_train),
            "boundary_linearity": _boundary_linearity(model, data.X_train),
            "weight_norm": float(np.sqrt(sum(float(np.vdot(W, W)) for W in weights))), **accuracies}


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    return [Job(f"{KEY}/{lam:g}/seed{seed}", train, {"lam": lam, "seed": seed, "iterations": n}, cost=n * 70)
            for seed in settings.fresh_seeds() for lam in LAMBDAS]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    seeds = settings.fresh_seeds()
    runs = {lam: [outputs[f"{KEY}/{lam:g}/seed{s}"] for s in seeds] for lam in LAMBDAS}
    stats = {lam: {k: mean_interval([r[k] for r in runs[lam]], None if k == "weight_norm" else (0.0, 1.0))
                   for k in ("linear_share", "boundary_linearity", "weight_norm", "train_accuracy", "test_accuracy")}
             for lam in LAMBDAS}
    rows = [[f"{lam:g}", f"{stats[lam]['weight_norm']['mean']:.2f}", fmt_interval(stats[lam]["linear_share"]),
             fmt_interval(stats[lam]["boundary_linearity"]), fmt_interval(stats[lam]["train_accuracy"]),
             fmt_interval(stats[lam]["test_accuracy"])] for lam in LAMBDAS]
    table = Table(f"As λ grows ({len(seeds)} fresh seeds, 95% CI)",
                  ["λ", "‖W‖", "z in tanh's linear part", "boundary = a linear one", "train", "test"], rows)
    share = [stats[lam]["linear_share"]["mean"] for lam in LAMBDAS]
    linear = [stats[lam]["boundary_linearity"]["mean"] for lam in LAMBDAS]
    checks = [
        Check("the share of pre-activations in tanh's linear part grows with λ",
              "λ large → z small → tanh in its linear part",
              " → ".join(f"λ={lam:g}: {pct(v)}" for lam, v in zip(LAMBDAS, share, strict=True)),
              trained(settings, all(b >= a - 0.02 for a, b in zip(share, share[1:], strict=False))
                      and share[-1] > share[0] + 0.2)),
        Check(f"at λ = {LAMBDAS[-1]:g} the network's boundary is nearly linear (≥ 95% agreement with a linear one)",
              "the network computes a nearly linear function",
              f"{pct(linear[-1])} at λ = {LAMBDAS[-1]:g} vs {pct(linear[0])} without L2",
              trained(settings, linear[-1] >= 0.95)),
    ]
    results = {"seeds": seeds, "lambdas": list(LAMBDAS), **{f"{lam:g}": stats[lam] for lam in LAMBDAS},
               "protocol": {"layers": LAYERS, "iterations": settings.n(ITERATIONS, QUICK_ITERATIONS)}}
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table],
                   figures=[_plot(share, linear, plot_dir)], checks=checks)


def _plot(share: list[float], linear: list[float], plot_dir: Path) -> Figure:
    path, rel = plot_path(plot_dir, "l2_linear_regime.png")
    fig, ax = plots.subplots(figsize=(6.0, 3.8))
    x = np.arange(len(LAMBDAS))
    ax.plot(x, 100 * np.asarray(share), marker="o", label="hidden z with |z| < 0.5 (%)")
    ax.plot(x, 100 * np.asarray(linear), marker="s", label="boundary agreeing with a linear one (%)")
    ax.set_xticks(x, [f"{lam:g}" for lam in LAMBDAS])
    ax.set_xlabel("λ (L2)")
    ax.set_ylabel("%")
    ax.set_title("Football data, tanh network: larger λ, more linear")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    plots.save_figure(fig, path)
    return Figure(rel, "Mean over fresh seeds: the pre-activations move into tanh's linear part and the boundary "
                       "straightens as λ grows.")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    return ["the course's football data; network 2-20-3-1, tanh hidden units, sigmoid output, He initialization "
            f"per fresh seed ({', '.join(map(str, seeds))})",
            f"full-batch gradient descent, α = {LEARNING_RATE}, {settings.n(ITERATIONS, QUICK_ITERATIONS)} "
            f"iterations, λ ∈ {{{', '.join(f'{lam:g}' for lam in LAMBDAS)}}}; linear part: |z| < {LINEAR}; "
            "boundary linearity: agreement on a 60×60 grid with a logistic regression fitted to the network's labels"]
