"""Experiment 2 — regularization (seed 002, "Regularization"): none vs L2 (λ = 0.7) vs dropout (keep 0.86).

Course protocol: the football data (211 train / 200 test), network 2-20-3-1 (ReLU, ReLU, sigmoid), weights
`randn(n_l, n_{l-1}) / √n_{l-1}` (`xavier`) from `np.random.seed(3)`, full-batch gradient descent, α = 0.3,
30,000 iterations; dropout on both hidden layers. The seeds' numbers: none 0.947867298578 / 0.915,
L2 0.938388625592 / 0.93, dropout 0.928909952607 / 0.95.

The course's `forward_propagation_with_dropout` begins with `np.random.seed(1)`, so its masks D1 (20×211)
and D2 (3×211) are the *same at every iteration*. The course-protocol row replays exactly that (a dropout
layer holding those two masks); the statistics use real dropout — a new mask every iteration from each
fresh seed's generator — and are the ones that test the seeds' conclusion.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..data import load
from ..layers import Dense, Dropout, ReLU, Sigmoid
from ..layers.base import Mode
from ..model import Sequential, mlp
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
    mean_interval,
    pct,
    rebuild,
    save_plot,
    seed_jobs,
    streams,
    trained,
)

KEY = "regularization"
TITLE = "2. Regularization: none, L2, dropout"
MODES = ("none", "l2", "dropout")
LAYERS = [2, 20, 3, 1]
LEARNING_RATE = 0.3
ITERATIONS = 30000
QUICK_ITERATIONS = 600
LAMBDA = 0.7
KEEP_PROB = 0.86

#: seed 002's detailed outputs (train, test)
SEEDS = {"none": ("0.947867298578", "0.915"), "l2": ("0.938388625592", "0.93"),
         "dropout": ("0.928909952607", "0.95")}
LABEL = {"none": "no regularization", "l2": f"L2, λ = {LAMBDA}", "dropout": f"dropout, keep_prob = {KEEP_PROB}"}


class CourseMaskDropout(Dropout):
    """Inverted dropout with one fixed mask, as the course's `np.random.seed(1)`-per-call forward pass gives.

    mask : boolean array of shape (m, n_l) — the course's D (n_l, m) transposed. Training forward passes
    apply D / keep_prob; inference is the identity, as for any dropout layer.
    """

    def __init__(self, keep_prob: float, mask: np.ndarray):
        super().__init__(keep_prob)
        self.fixed = np.asarray(mask, dtype=bool)

    def forward(self, A: np.ndarray, mode: Mode) -> np.ndarray:
        if not (mode.training and mode.dropout):
            self._mask = None
            return A
        if self.fixed.shape != A.shape:
            raise ValueError(f"the course's mask has shape {self.fixed.shape}, the activations {A.shape}")
        self._mask = self.fixed.astype(A.dtype) * A.dtype.type(1.0 / self.keep_prob)
        return A * self._mask


def course_dropout_model(m: int) -> Sequential:
    """2-20-3-1 with the course's two fixed masks: `np.random.seed(1)`, D1 = rand(20, m), D2 = rand(3, m)."""
    masks = np.random.RandomState(1)
    D1 = masks.random_sample((LAYERS[1], m)) < KEEP_PROB
    D2 = masks.random_sample((LAYERS[2], m)) < KEEP_PROB
    return Sequential(
        [Dense(LAYERS[1], init="xavier"), ReLU(), CourseMaskDropout(KEEP_PROB, D1.T),
         Dense(LAYERS[2], init="xavier"), ReLU(), CourseMaskDropout(KEEP_PROB, D2.T),
         Dense(LAYERS[3], init="xavier"), Sigmoid()],
        input_dim=LAYERS[0], rng=np.random.RandomState(3))


def build(mode: str, seed: int | None = None) -> Sequential:
    """The network of `mode`; seed None: the course's weights (RandomState(3)); else the seed's streams."""
    if seed is None:
        rng = np.random.RandomState(3)
    else:
        rng = legacy_rng(streams(KEY, seed, 2)[0])
    model = mlp(LAYERS, hidden="relu", output="sigmoid", init="xavier", rng=rng,
                l2=LAMBDA if mode == "l2" else 0.0, keep_prob=KEEP_PROB if mode == "dropout" else 1.0)
    if seed is not None:
        model.rng = np.random.default_rng(streams(KEY, seed, 2)[1])  # the masks' own generator
    return model


def train(mode: str, iterations: int, seed: int | None = None) -> dict:
    """Train one network (seed None: the course protocol). Returns accuracies, costs, weight norms and θ."""
    data = load("football")
    if mode == "dropout" and seed is None:
        model = course_dropout_model(data.X_train.shape[0])
    else:
        model = build(mode, seed)
    history = model.fit(data.X_train, data.y_train, epochs=iterations, learning_rate=LEARNING_RATE,
                        verbose=0)
    params = model.parameters()
    return {
        "train_accuracy": model.evaluate(data.X_train, data.y_train)["accuracy"],
        "test_accuracy": model.evaluate(data.X_test, data.y_test)["accuracy"],
        "cost": np.asarray(history["cost"]),
        "weight_norms": [float(np.linalg.norm(params[f"W{i}"])) for i in (1, 2, 3)],
        "theta": model.theta.copy(),
    }


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    return (course_jobs(KEY, train, "mode", MODES, cost=n * 350, iterations=n)
            + seed_jobs(settings, KEY, train, "mode", MODES, cost=n * 350, iterations=n))


LESSON = ("Without regularization the network overfits the football data (high train, lower test "
          "accuracy). L2 (`λ/(2m)·Σ‖W‖²_F`, gradient `λ/m·W`) shrinks the weights and smooths the boundary; "
          "inverted dropout (keep_prob 0.86 on both hidden layers, off at test time) stops units "
          "relying on each other. Both generalize better.")


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """The seeds' numbers beside ours, the claims tested over fresh seeds, boundary and weight plots."""
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    seeds = settings.fresh_seeds()
    results, rows, checks = _course_table(settings, outputs, seeds)
    checks += _claims(settings, results, seeds)
    results["protocol"] = {"layers": LAYERS, "learning_rate": LEARNING_RATE, "iterations": n, "lambda": LAMBDA,
                           "keep_prob": KEEP_PROB, "data": "football (211 train / 200 test)",
                           "weights": "RandomState(3), xavier"}
    table = Table("Accuracy with and without regularization: the seeds' numbers beside ours",
                  ["model", "seeds train", "ours train", "", "seeds test", "ours test", "",
                   f"train, {len(seeds)} seeds (95% CI)", f"test, {len(seeds)} seeds (95% CI)"], rows)
    return Section(KEY, TITLE, LESSON, _protocol(n, seeds), results, tables=[table],
                   figures=_plots(outputs, results, plot_dir), checks=checks, notes=_notes(results))


def _course_table(settings: Settings, outputs: dict[str, dict], seeds: list[int]):
    """(results per mode, the table's rows, the checks of the course-protocol accuracies)."""
    results: dict = {}
    checks: list[Check] = []
    rows = []
    for mode in MODES:
        course = outputs[f"{KEY}/{mode}/course"]
        per_seed = [outputs[f"{KEY}/{mode}/seed{s}"] for s in seeds]
        stats: dict[str, Any] = {"seeds": seeds, **accuracy_statistics(per_seed),
                 "weight_norm": mean_interval([float(np.linalg.norm(o["weight_norms"])) for o in per_seed],
                                              bounds=None)}
        results[mode] = {**course_summary(course, every=10000),
                         "weight_norms": dict(zip(("W1", "W2", "W3"), course["weight_norms"], strict=True)),
                         "statistics": stats}
        course_checks, cells = course_accuracy_checks(settings, LABEL[mode], course, SEEDS[mode])
        checks += course_checks
        rows.append([LABEL[mode], SEEDS[mode][0], f"{course['train_accuracy']:.12g}", cells[0],
                     SEEDS[mode][1], f"{course['test_accuracy']:.12g}", cells[1],
                     fmt_interval(stats["train_accuracy"]), fmt_interval(stats["test_accuracy"])])
    return results, rows, checks


def _claims(settings: Settings, results: dict, seeds: list[int]) -> list[Check]:
    """Over fresh seeds L2 and dropout generalize better; L2 leaves smaller weights."""
    test_mean = {m: results[m]["statistics"]["test_accuracy"]["mean"] for m in MODES}
    checks = [Check(f"over {len(seeds)} fresh seeds, {LABEL[mode]} generalizes better than no regularization "
                    "(mean test accuracy)", f"{SEEDS[mode][1]} vs {SEEDS['none'][1]} on test",
                    f"{pct(test_mean[mode])} vs {pct(test_mean['none'])}",
                    trained(settings, test_mean[mode] > test_mean["none"]))
              for mode in ("l2", "dropout")]
    norm = {m: float(np.linalg.norm(list(results[m]["weight_norms"].values()))) for m in MODES}
    checks.append(Check("L2 drives the weights to smaller values (‖W‖ over all layers, course protocol)",
                        "weights end up smaller (weight decay)",
                        f"none {norm['none']:.2f}, L2 {norm['l2']:.2f}", trained(settings, norm["l2"] < norm["none"])))
    return checks


def _plots(outputs: dict[str, dict], results: dict, plot_dir: Path) -> list[Figure]:
    """Decision boundaries of the three course-protocol networks; weight norms and cost curves."""
    data = load("football")
    # the dropout network is rebuilt without dropout: inference never drops units
    panels = [(rebuild(partial(build, "none" if mode == "dropout" else mode), outputs[f"{KEY}/{mode}/course"]["theta"]),
               f"{LABEL[mode]}\ntrain {pct(results[mode]['train_accuracy'])}, "
               f"test {pct(results[mode]['test_accuracy'])}") for mode in MODES]
    bound_rel = boundaries_figure(plot_dir, "regularization_boundaries.png", panels, data.X_train, data.y_train,
                                  suptitle="Decision boundaries on the football training set (course protocol)",
                                  padding=0.1, class_names=("opponent (0)", "French player (1)"))
    fig, axes = plots.subplots(1, 2, figsize=(11.5, 4.0))
    plots.plot_layer_bars(axes[0], {LABEL[m]: list(results[m]["weight_norms"].values()) for m in MODES},
                          layers=["W1", "W2", "W3"], ylabel="Frobenius norm ‖W‖",
                          title="Weight norms after training (course protocol)")
    plots.plot_cost_curves(axes[1], {LABEL[m]: outputs[f"{KEY}/{m}/course"]["cost"] for m in MODES},
                           logy=True, ylabel="cost J (log scale)", xlabel="iteration",
                           title=f"Training cost (α = {LEARNING_RATE})")
    norms_rel = save_plot(fig, plot_dir, "regularization_weights.png")
    return [Figure(bound_rel, "L2 and dropout give smoother boundaries than the unregularized network, "
                              "which bends around individual training points."),
            Figure(norms_rel, "Left: L2 shrinks every weight matrix. Right: training cost "
                              "(the dropout cost is that of the thinned networks).")]


def _protocol(n: int, seeds: list[int]) -> list[str]:
    return [
        "course protocol: football data (211 train / 200 test), 2-20-3-1 ReLU-ReLU-sigmoid, weights "
        f"`randn · √(1/n_(l−1))` from `RandomState(3)`, full-batch gradient descent, α = {LEARNING_RATE}, "
        f"{n} iterations",
        "course-protocol dropout replays the course's masks: its forward pass calls `np.random.seed(1)` "
        "first, so D1 (20×211) and D2 (3×211) are the same at every iteration",
        f"statistics: {len(seeds)} fresh seeds, each with its own weights and real dropout (a new mask every "
        "iteration); mean and 95% t-interval",
    ]


def _notes(results: dict) -> list[str]:
    test_mean = results["dropout"]["statistics"]["test_accuracy"]
    return [
        f"First cost without regularization: {results['none']['first_cost']:.16g}.",
        "The course-protocol dropout row trains with the course's two masks, fixed for all 30,000 iterations "
        "(its `np.random.seed(1)` at the top of every forward pass): that is one thinned network, not "
        "dropout's average over many. The fresh-seed statistics draw a new mask every iteration, as dropout "
        f"is meant to: their mean test accuracy, {pct(test_mean['mean'])} "
        f"({fmt_interval(test_mean)}), is what real dropout gives "
        "here; the course's 95% is a property of its particular fixed mask.",
    ]
