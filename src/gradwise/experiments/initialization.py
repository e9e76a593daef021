"""Experiment 1 — initialization (seed 002, "Initialization"): zeros vs large random vs He.

Course protocol: circles `make_circles(300, noise=.05)` after `np.random.seed(1)` (test: 100 after seed 2),
network 2-10-5-1 (ReLU, ReLU, sigmoid), weights `randn(n_l, n_{l-1}) * scale` from `np.random.seed(3)`,
full-batch gradient descent, α = 0.01, 15,000 iterations. The seeds' table: zeros 50 %, large random
(×10) 83 % train / 86 % test, He 99 % train / 96 % test.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

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
    accuracy_statistics,
    boundaries_figure,
    course_accuracy_checks,
    course_jobs,
    course_summary,
    fmt_interval,
    legacy_rng,
    pct,
    plot_path,
    rebuild,
    seed_jobs,
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
    history = model.fit(X, y, epochs=iterations, learning_rate=LEARNING_RATE, verbose=0)
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
    return (course_jobs(KEY, train, "init", INITS, cost=n * 300, iterations=n)
            + seed_jobs(settings, KEY, train, "init", INITS, cost=n * 300, iterations=n))


LESSON = ("Zero weights fail to break symmetry (every hidden unit computes the same thing, so the network is "
          "no better than a linear classifier); large random weights (×10) saturate the sigmoid, start "
          "with a huge cost and slow the optimization; He initialization (×√(2/n_(l−1))) trains well.")


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """The seeds' table beside ours, the claims tested over fresh seeds, the cost and boundary plots."""
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    seeds = settings.fresh_seeds()
    results, rows, checks = _course_table(settings, outputs, seeds)
    checks += _claims(settings, results, seeds)
    results["protocol"] = {"layers": LAYERS, "learning_rate": LEARNING_RATE, "iterations": n,
                           "data": "make_circles(300/100, noise=.05) after seed 1/2", "weights": "RandomState(3)"}
    table = Table("Accuracy by initialization: the seeds' table beside ours",
                  ["init", "seeds train", "ours train", "", "seeds test", "ours test", "",
                   f"train, {len(seeds)} seeds (95% CI)", f"test, {len(seeds)} seeds (95% CI)", "seeds' comment"],
                  rows)
    return Section(KEY, TITLE, LESSON, _protocol(n, seeds), results, tables=[table],
                   figures=_plots(outputs, results, n, plot_dir), checks=checks,
                   notes=[f"First cost with He initialization: {results['he']['first_cost']:.12f}."])


def _course_table(settings: Settings, outputs: dict[str, dict], seeds: list[int]):
    """(results per init, the table's rows, the checks of the course-protocol accuracies)."""
    results: dict = {}
    checks: list[Check] = []
    rows = []
    for init in INITS:
        course = outputs[f"{KEY}/{init}/course"]
        per_seed = [outputs[f"{KEY}/{init}/seed{s}"] for s in seeds]
        stats: dict[str, Any] = {"seeds": seeds, **accuracy_statistics(per_seed)}
        results[init] = {**course_summary(course, every=1000), "w1_row_spread": course["w1_row_spread"],
                         "statistics": stats}
        course_checks, cells = course_accuracy_checks(settings, f"{LABEL[init]} initialization", course,
                                                      SEEDS[init])
        checks += course_checks
        seed_train, seed_test = SEEDS[init]
        rows.append([
            init, f"{seed_train}", pct(course["train_accuracy"], 2), cells[0],
            seed_test or "—", pct(course["test_accuracy"], 2), cells[1],
            fmt_interval(stats["train_accuracy"]), fmt_interval(stats["test_accuracy"]), COMMENT[init],
        ])
    return results, rows, checks


def _claims(settings: Settings, results: dict, seeds: list[int]) -> list[Check]:
    """Zeros keeps the hidden units identical; over fresh seeds He > large random > zeros."""
    mean = {i: results[i]["statistics"]["train_accuracy"]["mean"] for i in INITS}
    order_ok = mean["he"] > mean["random"] > mean["zeros"]
    return [
        Check("zeros never breaks symmetry: all hidden units of layer 1 stay identical",
              "every neuron learns the same thing", f"max |W1[i] − W1[0]| = "
              f"{results['zeros']['w1_row_spread']:.1e}", results["zeros"]["w1_row_spread"] == 0.0),
        Check(f"over {len(seeds)} fresh seeds: He > large random > zeros (mean train accuracy)",
              "He best, zeros worst", " > ".join(f"{i} {pct(mean[i])}" for i in ("he", "random", "zeros")),
              trained(settings, order_ok)),
    ]


def _plots(outputs: dict[str, dict], results: dict, n: int, plot_dir: Path) -> list[Figure]:
    """Cost curves and the three decision boundaries of the course-protocol networks."""
    curves = {LABEL[init]: outputs[f"{KEY}/{init}/course"]["cost"] for init in INITS}
    cost_abs, cost_rel = plot_path(plot_dir, "initialization_cost.png")
    plots.plot_cost_curves(cost_abs, curves, logy=True, xlabel="iteration (full-batch gradient descent)",
                           ylabel="cost J (log scale)",
                           title=f"Cost by initialization (α = {LEARNING_RATE}, {n} iterations)")
    data = course_circles()
    panels = [(rebuild(partial(build, init), outputs[f"{KEY}/{init}/course"]["theta"]),
               f"{LABEL[init]}: train {pct(results[init]['train_accuracy'])}, "
               f"test {pct(results[init]['test_accuracy'])}") for init in INITS]
    bound_rel = boundaries_figure(plot_dir, "initialization_boundaries.png", panels, data.X_train, data.y_train,
                                  suptitle="Decision boundaries on the training set (course protocol)")
    return [Figure(cost_rel, "Cost during training. Large random weights start at "
                             f"J = {results['random']['first_cost']:.0f} (the course's log(0) prints inf)."),
            Figure(bound_rel, "Decision boundaries: zeros predicts one class, He separates the circles.")]


def _protocol(n: int, seeds: list[int]) -> list[str]:
    return [
        "course protocol: `make_circles(300, noise=.05)` after `np.random.seed(1)`, test set 100 after "
        "`np.random.seed(2)` (drawn with `RandomState`, bit-identical)",
        f"network 2-10-5-1, ReLU-ReLU-sigmoid, weights from `RandomState(3)`, full-batch gradient descent, "
        f"α = {LEARNING_RATE}, {n} iterations",
        f"statistics: {len(seeds)} fresh seeds ({', '.join(map(str, seeds))}), each drawing its own circles and "
        "weights; mean and 95% t-interval",
    ]
