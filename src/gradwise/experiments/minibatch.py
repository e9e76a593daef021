"""Experiment 8 — mini-batch size (seed 003, "What's mini-batch gradient descent?").

Batch gradient descent (batch = m) takes one low-noise step per pass over the data; stochastic gradient
descent (batch = 1) takes m noisy steps and loses the speed-up from vectorization; mini-batches (64) get
both: many steps per epoch, each vectorized — the fastest learning in wall-clock time.

Protocol: scikit-learn's digits (the 1438 training images of the 80/20 split, standardized), network
64-32-10 (ReLU, softmax), plain gradient descent from the same initial weights. Each batch size gets its own
learning rate — the best of a small grid after a short trial (stochastic updates need a smaller α than
averaged ones) — then trains: batch and mini-batch for many epochs, stochastic for a few (its epochs are ~30×
longer). Measured: the full training-set cost after every epoch, against epochs and against seconds of
training; the cost reached in an equal time budget; the cost of each update's own batch over the first
updates at one common α (the noise); the time per epoch and per example.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..callbacks import Callback
from ..data import Standardizer, load
from ..errors import GradwiseError
from ..layers import TRAINING
from ..model import mlp
from ..optim import GD
from ._common import Check, Figure, Job, Section, Settings, Table, save_plot, trained

KEY = "minibatch"
TITLE = "8. Mini-batch size: batch, stochastic, mini-batch"
LAYERS = [64, 32, 10]
TRACE_UPDATES = 200
TRACE_LEARNING_RATE = 0.01  # the noise is compared at one α, so only the batch size differs
#: label -> (batch size, α grid, trial epochs, epochs, quick epochs)
SIZES = {
    "batch (m)": (None, (1.0, 3.0, 10.0), 20, 200, 20),
    "stochastic (1)": (1, (0.003, 0.01, 0.03, 0.1), 1, 3, 1),
    "mini-batch (64)": (64, (0.3, 1.0, 3.0), 3, 40, 3),
}
SHORT = {"batch (m)": "batch", "stochastic (1)": "stochastic", "mini-batch (64)": "minibatch"}


def _data():
    data = load("digits", seed=0)
    X, y = data.X_train, data.y_train
    return Standardizer().fit(X).transform(X), y


class _Clock(Callback):
    """Times each epoch (begin to end: the loop's own work) and then records the full training-set cost."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y = X, y
        self.epoch_seconds: list[float] = []
        self.costs: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._start)
        self.costs.append(self.model.cost(self.X, self.y))


def _fresh():
    return mlp(LAYERS, hidden="relu", output="softmax", init="he", seed=3)


def _train(X, y, batch, learning_rate: float, epochs: int) -> tuple[list[float], list[float], list[float]]:
    model = _fresh()
    clock = _Clock(X, y)
    shuffle_rng = np.random.default_rng(4)
    initial = model.cost(X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            model.fit(X, y, epochs=epochs, batch_size=batch, learning_rate=learning_rate, callbacks=[clock],
                      shuffle=lambda epoch, m: shuffle_rng.permutation(m), verbose=0)
        except Exception as exc:  # a diverging trial α: TrainingDivergedError or a non-finite cost

            if not isinstance(exc, GradwiseError):
                raise
            return [initial] + clock.costs, clock.epoch_seconds, [float("inf")]
    return [initial] + clock.costs, clock.epoch_seconds, clock.costs


def _trace(X, y, batch, learning_rate: float) -> list[float]:
    """The cost J of each update's own batch over the first TRACE_UPDATES updates (a fresh model)."""
    model = _fresh()
    Xc = model.prepare_inputs(X)
    yc = model.prepare_targets(y, Xc.shape[0])
    opt = GD(learning_rate=learning_rate)
    rng = np.random.default_rng(4)
    size = Xc.shape[0] if batch is None else batch
    trace, order, pos = [], rng.permutation(Xc.shape[0]), 0
    for _ in range(TRACE_UPDATES):
        if pos + size > Xc.shape[0]:
            order, pos = rng.permutation(Xc.shape[0]), 0
        idx = order[pos:pos + size]
        pos += size
        J, _ = model.loss_and_gradient(Xc[idx], yc[idx], TRAINING)
        opt.step(model.theta, model.grad, learning_rate)
        trace.append(float(J))
    return trace


def run_size(label: str, quick: bool) -> dict:
    """Choose α on a short trial, then train; return costs by epoch, seconds, the noise trace and timings."""
    X, y = _data()
    batch, grid, trial_epochs, epochs, quick_epochs = SIZES[label]
    trials = {}
    for lr in grid:
        *_, costs = _train(X, y, batch, lr, trial_epochs)
        trials[f"{lr:g}"] = costs[-1] if np.isfinite(costs[-1]) else None
    finite = [(c, float(k)) for k, c in trials.items() if c is not None]
    lr = min(finite)[1] if finite else grid[0]
    cost, seconds, _ = _train(X, y, batch, lr, quick_epochs if quick else epochs)
    steps = 1 if batch is None else -(-X.shape[0] // batch)
    return {"cost": cost, "seconds": np.concatenate([[0.0], np.cumsum(seconds)]).tolist(),
            "trace": _trace(X, y, batch, TRACE_LEARNING_RATE), "updates_per_epoch": steps, "learning_rate": lr,
            "trials": trials, "seconds_per_epoch": float(np.median(seconds)), "examples": int(X.shape[0])}


def run_all(quick: bool) -> dict:
    return {label: run_size(label, quick) for label in SIZES}


def jobs(settings: Settings) -> list[Job]:
    # one job runs the three sizes one after the other, so their times are measured under the same load
    return [Job(f"{KEY}/all", run_all, {"quick": settings.quick}, cost=4e6 if not settings.quick else 1e6)]


def _cost_at(seconds: list[float], cost: list[float], t: float) -> float:
    """The training-set cost reached by time t (the last epoch finished by then)."""
    i = int(np.searchsorted(np.asarray(seconds), t, side="right")) - 1
    return cost[max(i, 0)]


LESSON = ("Batch gradient descent takes one smooth step per epoch; stochastic gradient descent takes m noisy "
          "steps and loses vectorization; mini-batches (64, 128, 256, …) take many vectorized steps per "
          "epoch and learn fastest in wall-clock time.")
STYLES: dict[str, dict[str, Any]] = {
    "batch (m)": {"color": "#1f77b4"},
    "stochastic (1)": {"color": "#d62728", "marker": "o", "markersize": 3},
    "mini-batch (64)": {"color": "#2ca02c"},
}


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Per batch size: α, time, progress in equal time and noise; the claims; the plot."""
    out = outputs[f"{KEY}/all"]
    examples = out["batch (m)"]["examples"]
    # the equal time budget: every size has finished at least one epoch (a size that stopped earlier keeps its
    # last cost, which can only favour the others)
    budget = max(out[k]["seconds"][1] for k in SIZES)
    results: dict = {"protocol": {"data": f"digits (standardized), {examples} training examples", "layers": LAYERS,
                                  "trace_updates": TRACE_UPDATES, "equal_time_budget_seconds": budget}}
    rows = []
    for label in SIZES:
        results[SHORT[label]], row = _size(out[label], label, examples, budget)
        rows.append(row)
    table = Table("Batch size: learning rate, time, progress and noise",
                  ["batch size", "α", "updates per epoch", "ms per epoch", "µs per example",
                   "cost after 1 epoch", f"cost after {budget:.2f} s", "update-cost noise"], rows)
    figure = Figure(_plot(out, examples, budget, plot_dir),
                    "Per epoch, stochastic updates make the most progress; per second, "
                    "mini-batches do. Stochastic updates are the noisiest, batch updates smooth.")
    return Section(KEY, TITLE, LESSON, _protocol(out, examples), results, tables=[table], figures=[figure],
                   checks=_checks(settings, results, budget),
                   notes=["Times depend on the machine and its load; the ratios are what the seeds discuss."])


def _size(r: dict, label: str, examples: int, budget: float) -> tuple[dict, list[str]]:
    """(results, table row) of one batch size."""
    trace = np.asarray(r["trace"])
    # noise of the update-by-update cost: the spread of its consecutive changes
    noise = float(np.std(np.diff(trace))) if trace.size > 2 else 0.0
    at_budget = _cost_at(r["seconds"], r["cost"], budget)
    result = {
        "batch_size": SIZES[label][0], "learning_rate": r["learning_rate"], "learning_rate_trials": r["trials"],
        "updates_per_epoch": r["updates_per_epoch"], "epochs": len(r["cost"]) - 1,
        "seconds_per_epoch": r["seconds_per_epoch"],
        "microseconds_per_example": 1e6 * r["seconds_per_epoch"] / examples,
        "cost_by_epoch": r["cost"], "final_cost": r["cost"][-1], "cost_at_equal_time": at_budget,
        "update_cost_noise": noise}
    row = [label, f"{r['learning_rate']:g}", str(r["updates_per_epoch"]),
           f"{1e3 * r['seconds_per_epoch']:.2f}", f"{1e6 * r['seconds_per_epoch'] / examples:.1f}",
           f"{r['cost'][1]:.3f}", f"{at_budget:.3f}", f"{noise:.3f}"]
    return result, row


def _checks(settings: Settings, results: dict, budget: float) -> list[Check]:
    """Stochastic is the noisiest and loses vectorization; mini-batches learn fastest per second."""
    b, s, mb = results["batch"], results["stochastic"], results["minibatch"]
    return [
        Check("stochastic updates are the noisiest, batch updates the smoothest",
              "SGD extremely noisy; batch low-noise",
              f"noise {s['update_cost_noise']:.3f} (1) > {mb['update_cost_noise']:.3f} (64) > "
              f"{b['update_cost_noise']:.4f} (m)",
              s["update_cost_noise"] > mb["update_cost_noise"] > b["update_cost_noise"]),
        Check("stochastic GD loses the vectorization: far more time per example than mini-batches",
              "loses speed-up from vectorization",
              f"{s['microseconds_per_example']:.1f} µs vs {mb['microseconds_per_example']:.1f} µs per example",
              s["seconds_per_epoch"] > 5 * mb["seconds_per_epoch"]),
        # a quick run's few epochs say nothing about the learning speed
        Check(f"in the same training time ({budget:.2f} s) mini-batches reach the lowest cost",
              "mini-batch: faster learning",
              f"mini-batch {mb['cost_at_equal_time']:.3f}, batch {b['cost_at_equal_time']:.3f}, "
              f"stochastic {s['cost_at_equal_time']:.3f}",
              trained(settings, mb["cost_at_equal_time"] < min(b["cost_at_equal_time"], s["cost_at_equal_time"]))),
    ]


def _plot(out: dict, examples: int, budget: float, plot_dir: Path) -> str:
    """Cost by epoch, the same by seconds, and the first updates' noise, for the three batch sizes."""
    labels = {k: f"{k}, α = {out[k]['learning_rate']:g}" for k in SIZES}
    styles = {labels[k]: v for k, v in STYLES.items()}
    fig, axes = plots.subplots(1, 3, figsize=(15.0, 4.2))
    plots.plot_cost_curves(axes[0], {labels[k]: out[k]["cost"][1:] for k in SIZES},
                           x={labels[k]: np.arange(1, len(out[k]["cost"])) for k in SIZES}, logx=True, logy=True,
                           styles=styles, xlabel="epoch (log scale)",
                           ylabel="training-set cost J (log scale)", title="Cost after each epoch")
    plots.plot_cost_curves(axes[1], {labels[k]: out[k]["cost"][1:] for k in SIZES},
                           x={labels[k]: out[k]["seconds"][1:] for k in SIZES}, logx=True, logy=True,
                           styles=styles, xlabel="seconds of training (log scale)",
                           ylabel="training-set cost J (log scale)", title="The same against training time")
    axes[1].axvline(budget, color="gray", linestyle=":", linewidth=0.8)
    # the noisiest first, so the smooth batch curve stays visible on top
    order = ("stochastic (1)", "mini-batch (64)", "batch (m)")
    plots.plot_cost_curves(axes[2], {k: out[k]["trace"] for k in order}, logy=True,
                           styles={k: {"color": STYLES[k]["color"],
                                       "linewidth": 0.9 if k == "stochastic (1)" else 1.8} for k in order},
                           xlabel="update", ylabel="cost of the update's own batch (log scale)",
                           title=f"The first {TRACE_UPDATES} updates at α = {TRACE_LEARNING_RATE}: noise")
    fig.suptitle(f"Batch vs stochastic vs mini-batch gradient descent ({examples} digits, 64-32-10)")
    return save_plot(fig, plot_dir, "minibatch.png")


def _protocol(out: dict, examples: int) -> list[str]:
    return [
        f"{examples} digits (scikit-learn, standardized), 64-32-10 ReLU/softmax, the same He weights for all, "
        "plain gradient descent",
        "α per batch size: the lowest training cost after a short trial on a grid — batch "
        f"{SIZES['batch (m)'][1]}, stochastic {SIZES['stochastic (1)'][1]}, mini-batch "
        f"{SIZES['mini-batch (64)'][1]}; the noise trace uses α = {TRACE_LEARNING_RATE} for all",
        "epochs: " + ", ".join(f"{k} {len(out[k]['cost']) - 1}" for k in SIZES) + "; times measured in one "
        "process, one size after the other (median time per epoch, cost evaluations excluded)",
    ]
