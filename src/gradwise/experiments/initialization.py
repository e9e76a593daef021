"""Experiment 1 — initialization (seed 002, "Initialization"): zeros vs large random vs He.

Course protocol: circles `make_circles(300, noise=.05)` after `np.random.seed(1)` (test: 100 after seed 2),
network 2-10-5-1 (ReLU, ReLU, sigmoid), weights `randn(n_l, n_{l-1}) * scale` from `np.random.seed(3)`,
full-batch gradient descent, α = 0.01, 15,000 iterations. The seeds' table: zeros 50 %, large random
(×10) 83 % train / 86 % test, He 99 % train / 96 % test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..data import course_circles
from ..model import mlp
from ._common import (
    Check,
    Figure,
    Job,
    Section,
    Settings,
    Table,
    compare,
    fmt_interval,
    legacy_rng,
    like_printed,
    mark,
    mean_interval,
    pct,
    plot_path,
    rebuild,
    streams,
    trained,
)

KEY = "initialization"
TITLE = "1. Initialization: zeros, large random, He"
INITS = ("zeros", "random", "he")
LAYERS = [2, 10, 5, 1]
LEARNING_RATE = 0.01
ITERATIONS = 15000
QUICK_ITERATIONS = 600

#: the numbers printed in seed 002 (train, test); None where the seed prints nothing
SEEDS = {"zeros": ("50%", None), "random": ("0.83", "0.86"), "he": ("99%", "0.96")}
COMMENT = {"zeros": "fails to break symmetry", "random": "too large weights", "he": "recommended method"}
LABEL = {"zeros": "zeros", "random": "large random (×10)", "he": "He (√(2/n))"}


def _circles(seed: int | None):
    """The course's circles (seed None) or a fresh draw of the same distribution."""
    if seed is None:
        data = course_circles()
        return data.X_train, data.y_train, data.X_test, data.y_test
    from sklearn.datasets import make_circles

    s_train, s_test, _ = streams(KEY, seed, 3)
    X, y = make_circles(n_samples=300, noise=0.05, random_state=legacy_rng(s_train))
    Xt, yt = make_circles(n_samples=100, noise=0.05, random_state=legacy_rng(s_test))
    return X, y, Xt, yt


def build(init: str, seed: int | None = None):
    """2-10-5-1 with `init`; weights from RandomState(3) (the course) or the fresh seed's own stream."""
    rng = np.random.RandomState(3) if seed is None else legacy_rng(streams(KEY, seed, 3)[2])
    return mlp(LAYERS, hidden="relu", output="sigmoid", init=init, rng=rng)


def train(init: str, iterations: int, seed: int | None = None) -> dict:
    """Train one network; seed None is the course protocol. Returns accuracies, costs and θ."""
    X, y, Xt, yt = _circles(seed)
    model = build(init, seed)
    history = model.fit(X, y, epochs=iterations, learning_rate=LEARNING_RATE)
    W1 = model.parameters()["W1"]
    return {
        "train_accuracy": model.evaluate(X, y)["accuracy"],
        "test_accuracy": model.evaluate(Xt, yt)["accuracy"],
        "cost": np.asarray(history["cost"]),
        "theta": model.theta.copy(),
        # "every neuron in each layer will learn the same thing": the spread between W1's rows
        "w1_row_spread": float(np.max(np.abs(W1 - W1[:1]))),
    }


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    out = [Job(f"{KEY}/{init}/course", train, {"init": init, "iterations": n}, cost=n * 300)
           for init in INITS]
    for seed in settings.fresh_seeds():
        out += [Job(f"{KEY}/{init}/seed{seed}", train, {"init": init, "iterations": n, "seed": seed},
                    cost=n * 300) for init in INITS]
    return out


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    seeds = settings.fresh_seeds()
    data = course_circles()
    results: dict = {}
    checks: list[Check] = []
    rows = []
    for init in INITS:
        course = outputs[f"{KEY}/{init}/course"]
        per_seed = [outputs[f"{KEY}/{init}/seed{s}"] for s in seeds]
        stats: dict = {
            "seeds": seeds,
            "train_accuracy": mean_interval([o["train_accuracy"] for o in per_seed]),
            "test_accuracy": mean_interval([o["test_accuracy"] for o in per_seed]),
        }
        cost = course["cost"]
        results[init] = {
            "train_accuracy": course["train_accuracy"],
            "test_accuracy": course["test_accuracy"],
            "first_cost": float(cost[0]),
            "final_cost": float(cost[-1]),
            "cost_every_1000": [float(c) for c in cost[::1000]],
            "w1_row_spread": course["w1_row_spread"],
            "statistics": stats,
        }
        seed_train, seed_test = SEEDS[init]
        cells = []
        for ours, printed, what in ((course["train_accuracy"], seed_train, "train"),
                                    (course["test_accuracy"], seed_test, "test")):
            if printed is None:
                cells.append("—")
                continue
            ok = compare(settings, ours, printed)
            cells.append(mark(ok))
            checks.append(Check(f"{LABEL[init]} initialization, {what} accuracy (course protocol)", printed,
                                like_printed(ours, printed), ok))
        rows.append([
            init, f"{seed_train}", pct(course["train_accuracy"], 2), cells[0],
            seed_test or "—", pct(course["test_accuracy"], 2), cells[1],
            fmt_interval(stats["train_accuracy"]), fmt_interval(stats["test_accuracy"]), COMMENT[init],
        ])
    mean = {i: results[i]["statistics"]["train_accuracy"]["mean"] for i in INITS}
    checks.append(Check("zeros never breaks symmetry: all hidden units of layer 1 stay identical",
                        "every neuron learns the same thing", f"max |W1[i] − W1[0]| = "
                        f"{results['zeros']['w1_row_spread']:.1e}", results["zeros"]["w1_row_spread"] == 0.0))
    order_ok = mean["he"] > mean["random"] > mean["zeros"]
    checks.append(Check(f"over {len(seeds)} fresh seeds: He > large random > zeros (mean train accuracy)",
                        "He best, zeros worst", " > ".join(f"{i} {pct(mean[i])}" for i in ("he", "random", "zeros")),
                        trained(settings, order_ok)))
    results["protocol"] = {"layers": LAYERS, "learning_rate": LEARNING_RATE, "iterations": n,
                           "data": "make_circles(300/100, noise=.05) after seed 1/2", "weights": "RandomState(3)"}

    # plots: cost curves and the three decision boundaries of the course-protocol networks
    curves = {LABEL[init]: outputs[f"{KEY}/{init}/course"]["cost"] for init in INITS}
    cost_abs, cost_rel = plot_path(plot_dir, "initialization_cost.png")
    plots.plot_cost_curves(cost_abs, curves, logy=True, xlabel="iteration (full-batch gradient descent)",
                           ylabel="cost J (log scale)",
                           title=f"Cost by initialization (α = {LEARNING_RATE}, {n} iterations)")
    fig, axes = plots.subplots(1, 3, figsize=(13.5, 4.2))
    for ax, init in zip(axes, INITS, strict=True):
        model = rebuild(lambda init=init: build(init), outputs[f"{KEY}/{init}/course"]["theta"])
        r = results[init]
        plots.plot_decision_boundary(ax, model, data.X_train, data.y_train,
                                     title=f"{LABEL[init]}: train {pct(r['train_accuracy'])}, "
                                           f"test {pct(r['test_accuracy'])}")
    fig.suptitle("Decision boundaries on the training set (course protocol)")
    bound_abs, bound_rel = plot_path(plot_dir, "initialization_boundaries.png")
    plots.save_figure(fig, bound_abs)

    return Section(
        key=KEY,
        title=TITLE,
        lesson=("Zero weights fail to break symmetry (every hidden unit computes the same thing, so the network is "
                "no better than a linear classifier); large random weights (×10) saturate the sigmoid, start "
                "with a huge cost and slow the optimization; He initialization (×√(2/n_(l−1))) trains well."),
        protocol=[
            "course protocol: `make_circles(300, noise=.05)` after `np.random.seed(1)`, test set 100 after "
            "`np.random.seed(2)` (drawn with `RandomState`, bit-identical)",
            f"network 2-10-5-1, ReLU-ReLU-sigmoid, weights from `RandomState(3)`, full-batch gradient descent, "
            f"α = {LEARNING_RATE}, {n} iterations",
            f"statistics: {len(seeds)} fresh seeds ({', '.join(map(str, seeds))}), each drawing its own circles and "
            "weights; mean and 95% t-interval",
        ],
        results=results,
        tables=[Table(
            "Accuracy by initialization: the seeds' table beside ours",
            ["init", "seeds train", "ours train", "", "seeds test", "ours test", "",
             f"train, {len(seeds)} seeds (95% CI)", f"test, {len(seeds)} seeds (95% CI)", "seeds' comment"],
            rows)],
        figures=[Figure(cost_rel, "Cost during training. Large random weights start at "
                                  f"J = {results['random']['first_cost']:.0f} (the course's log(0) prints inf)."),
                 Figure(bound_rel, "Decision boundaries: zeros predicts one class, He separates the circles.")],
        checks=checks,
        notes=[f"First cost with He initialization: {results['he']['first_cost']:.12f}."],
    )
