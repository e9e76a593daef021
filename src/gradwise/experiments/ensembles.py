"""Experiment 9 — model ensembles (seed 001, "Regularization" → "Model ensembles").

The seeds' claim: "train multiple independent models and average their results: an extra 2% of
performance, a lower generalization error". Protocol: the 8×8 digits with a small training set (300
images drawn per fresh seed from the training split, inputs standardized on them; the test split as is),
a 64-64-10 ReLU/softmax network trained with Adam (α = 0.003, mini-batches of 32, 100 epochs) from K = 5
different seeds; the ensemble averages the five networks' probabilities (`gw.Ensemble`). Compared: the
members one by one (a single model) and their average. (On the two moons the gain is a few tenths of a
point: little variance to average away; a small training set of a 10-class problem has more.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..data import Standardizer
from ..data import load as load_dataset
from ..ensemble import Ensemble
from ..model import mlp
from ._common import (
    Check,
    Figure,
    Job,
    Section,
    Settings,
    Table,
    mean_interval,
    pct,
    plot_path,
    seeds_of,
    streams,
    trained,
)

KEY = "ensembles"
TITLE = "9. Model ensembles: average K independently trained networks"
MEMBERS = 5
LAYERS = [64, 64, 10]
TRAIN_SIZE = 300
EPOCHS, QUICK_EPOCHS = 100, 10
#: the seeds' "extra 2 %", read as at least 1.5 points of test accuracy
SEEDS_GAIN = 0.015
LESSON = ("An ensemble trains several networks independently (different initializations, shuffles) and "
          "averages their predictions: their errors are partly independent, so the average has a lower "
          "variance. The seeds quote about 2 % extra accuracy, at K times the training and prediction cost.")


def train(seed: int, epochs: int) -> dict:
    """K members on one fresh draw of 300 training digits; each member's and the ensemble's test scores."""
    data = load_dataset("digits", seed=seed)
    s_rows, s_models = streams(KEY, seed, 2)
    rows = np.random.default_rng(s_rows).permutation(len(data.y_train))[:TRAIN_SIZE]
    X, y = data.X_train[rows], data.y_train[rows]
    models = [mlp(LAYERS, output="softmax", seed=s) for s in seeds_of(s_models, MEMBERS)]
    for model in models:
        model.standardizer = Standardizer()  # fitted by fit on the 300 training rows
    ensemble = Ensemble(models)
    ensemble.fit(X, y, epochs=epochs, batch_size=32, optimizer="adam", learning_rate=0.003, verbose=0)
    members = [m.evaluate(data.X_test, data.y_test) for m in ensemble.members]
    together = ensemble.evaluate(data.X_test, data.y_test)
    return {"member_accuracy": [s["accuracy"] for s in members], "member_cost": [s["cost"] for s in members],
            "ensemble_accuracy": together["accuracy"], "ensemble_cost": together["cost"],
            "train_accuracy": [m.evaluate(X, y)["accuracy"] for m in ensemble.members]}


def jobs(settings: Settings) -> list[Job]:
    epochs = settings.n(EPOCHS, QUICK_EPOCHS)
    return [Job(f"{KEY}/seed{seed}", train, {"seed": seed, "epochs": epochs}, cost=epochs * 10 * MEMBERS * 90)
            for seed in settings.fresh_seeds()]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Single model vs ensemble over fresh seeds: the table, the claims, one plot."""
    seeds = settings.fresh_seeds()
    runs = [outputs[f"{KEY}/seed{s}"] for s in seeds]
    single = [float(np.mean(r["member_accuracy"])) for r in runs]
    averaged = [r["ensemble_accuracy"] for r in runs]
    gains = [a - s for a, s in zip(averaged, single, strict=True)]
    cost_gain = [float(np.mean(r["member_cost"])) - r["ensemble_cost"] for r in runs]
    results = {"seeds": seeds, "members": MEMBERS, "single_accuracy": mean_interval(single),
               "ensemble_accuracy": mean_interval(averaged), "accuracy_gain": mean_interval(gains, None),
               "log_loss_reduction": mean_interval(cost_gain, None),
               "protocol": {"layers": LAYERS, "epochs": settings.n(EPOCHS, QUICK_EPOCHS), "members": MEMBERS}}
    rows = [[str(s), pct(si), pct(min(r["member_accuracy"])) + "–" + pct(max(r["member_accuracy"])), pct(a),
             f"{100 * g:+.1f} points"] for s, si, r, a, g in zip(seeds, single, runs, averaged, gains, strict=True)]
    table = Table(f"Test accuracy: one network vs the average of {MEMBERS}",
                  ["seed", "single (mean of members)", "members' range", "ensemble", "gain"], rows)
    mean_gain = float(np.mean(gains))
    checks = [
        Check(f"over {len(seeds)} fresh seeds the ensemble's test accuracy beats a single network's",
              "an extra ~2 % of performance", f"{100 * mean_gain:+.2f} points on average "
              f"({', '.join(f'{100 * g:+.1f}' for g in gains)})", trained(settings, mean_gain > 0)),
        Check(f"the gain is about 2 points of test accuracy (at least {100 * SEEDS_GAIN:.1f})", "an extra ~2 %",
              f"{100 * mean_gain:+.2f} points", trained(settings, mean_gain >= SEEDS_GAIN)),
        Check("the ensemble's test log loss is lower than a single network's (lower generalization error)",
              "lower generalization error", f"log loss lower by {np.mean(cost_gain):.4f} on average",
              trained(settings, min(cost_gain) > 0)),
    ]
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table],
                   figures=[_plot(runs, seeds, plot_dir)], checks=checks)


def _plot(runs: list[dict], seeds: list[int], plot_dir: Path) -> Figure:
    """Each member's test accuracy (dots) and the ensemble's (a star), one column per fresh seed."""
    path, rel = plot_path(plot_dir, "ensembles_accuracy.png")
    fig, ax = plots.subplots(figsize=(6.0, 3.8))
    for i, run in enumerate(runs):
        members = 100 * np.asarray(run["member_accuracy"])
        ax.scatter(np.full(members.size, i), members, color="tab:blue", alpha=0.7,
                   label="single networks" if i == 0 else None)
        ax.scatter([i], [100 * run["ensemble_accuracy"]], marker="*", s=180, color="tab:orange",
                   label=f"their average (ensemble of {MEMBERS})" if i == 0 else None)
    ax.set_xticks(range(len(seeds)), [f"seed {s}" for s in seeds])
    ax.set_xlim(-0.5, len(seeds) - 0.5)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Digits, {TRAIN_SIZE} training images")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    plots.save_figure(fig, path)
    return Figure(rel, "Test accuracy of each member (dots) and of their average (star), per fresh seed.")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    return [f"8×8 digits: {TRAIN_SIZE} training images drawn per fresh seed ({', '.join(map(str, seeds))}) from "
            "the training split, inputs standardized on them; the test split as is",
            f"network {'-'.join(map(str, LAYERS))} (ReLU, softmax), Adam α = 0.003, mini-batches of 32, "
            f"{settings.n(EPOCHS, QUICK_EPOCHS)} epochs; {MEMBERS} members from different seeds, probabilities "
            "averaged (gw.Ensemble)"]
