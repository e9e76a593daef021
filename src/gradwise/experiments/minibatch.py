"""Experiment 8 — mini-batch size (seed 003, "What's mini-batch gradient descent?").

Batch gradient descent (batch = m) takes one low-noise step per pass over the data; stochastic gradient
descent (batch = 1) takes m noisy steps and loses the speed-up from vectorization; mini-batches (64) get
both: many steps per epoch, each vectorized.

Protocol: 600 of scikit-learn's digits (standardized), network 64-32-10 (ReLU, softmax), plain gradient descent
with the same α for the three batch sizes, the same initial weights. Measured: the full training-set cost after
every epoch (against epochs and against seconds), the cost of each update's own batch over the first updates
(the noise), and the time per epoch (median over epochs; the loop's own work, not the cost evaluations).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import plots
from ..callbacks import Callback
from ..data import Standardizer, load
from ..model import TRAINING, mlp
from ..optim import GD
from ._common import Check, Figure, Job, Section, Settings, Table, plot_path

KEY = "minibatch"
TITLE = "8. Mini-batch size: batch, stochastic, mini-batch"
LAYERS = [64, 32, 10]
LEARNING_RATE = 0.02
EXAMPLES = 600
EPOCHS = 10
QUICK_EPOCHS = 2
TRACE_UPDATES = 200
SIZES = {"batch (m)": None, "stochastic (1)": 1, "mini-batch (64)": 64}


def _data():
    data = load("digits", seed=0)
    X, y = data.X_train[:EXAMPLES], data.y_train[:EXAMPLES]
    return Standardizer().fit(X).transform(X), y


class _Clock(Callback):
    """Times each epoch (begin to end, the loop's own work) and then records the full training-set cost."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y = X, y
        self.epoch_seconds: list[float] = []
        self.costs: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._start)
        self.costs.append(self.model.cost(self.X, self.y))


def run_size(label: str, epochs: int) -> dict:
    """Train with one batch size; the per-epoch full cost, cumulative seconds, and a per-update cost trace."""
    X, y = _data()
    batch = SIZES[label]

    def fresh():
        return mlp(LAYERS, hidden="relu", output="softmax", init="he", seed=3)

    model = fresh()
    clock = _Clock(X, y)
    shuffle_rng = np.random.default_rng(4)
    initial = model.cost(X, y)
    model.fit(X, y, epochs=epochs, batch_size=batch, learning_rate=LEARNING_RATE, callbacks=[clock],
              shuffle=lambda epoch, m: shuffle_rng.permutation(m))
    costs = [initial] + clock.costs
    seconds = np.concatenate([[0.0], np.cumsum(clock.epoch_seconds)]).tolist()

    # The noise: the cost J of each update's own batch, over the first TRACE_UPDATES updates (a fresh model).
    trace_model = fresh()
    Xc = trace_model._check_X(X)
    yc = trace_model._targets(y, Xc.shape[0])
    opt = GD(learning_rate=LEARNING_RATE)
    rng = np.random.default_rng(4)
    size = Xc.shape[0] if batch is None else batch
    trace, order, pos = [], rng.permutation(Xc.shape[0]), 0
    for _ in range(TRACE_UPDATES):
        if pos + size > Xc.shape[0]:
            order, pos = rng.permutation(Xc.shape[0]), 0
        idx = order[pos:pos + size]
        pos += size
        J, _ = trace_model.loss_and_gradient(Xc[idx], yc[idx], TRAINING)
        opt.step(trace_model.theta, trace_model.grad, LEARNING_RATE)
        trace.append(float(J))
    steps = 1 if batch is None else -(-X.shape[0] // batch)
    return {"cost": costs, "seconds": seconds, "trace": trace, "updates_per_epoch": steps,
            "seconds_per_epoch": float(np.median(clock.epoch_seconds))}


def jobs(settings: Settings) -> list[Job]:
    epochs = settings.n(EPOCHS, QUICK_EPOCHS)
    # one job runs the three sizes one after the other, so their times are measured under the same load
    return [Job(f"{KEY}/all", run_all, {"epochs": epochs}, cost=epochs * EXAMPLES * 60)]


def run_all(epochs: int) -> dict:
    return {label: run_size(label, epochs) for label in SIZES}


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    epochs = settings.n(EPOCHS, QUICK_EPOCHS)
    out = outputs[f"{KEY}/all"]
    results: dict = {}
    rows = []
    for label in SIZES:
        r = out[label]
        trace = np.asarray(r["trace"])
        # noise of the update-by-update cost: spread of its consecutive changes
        noise = float(np.std(np.diff(trace))) if trace.size > 2 else 0.0
        key = {"batch (m)": "batch", "stochastic (1)": "stochastic", "mini-batch (64)": "minibatch"}[label]
        results[key] = {"batch_size": SIZES[label], "updates_per_epoch": r["updates_per_epoch"],
                        "seconds_per_epoch": r["seconds_per_epoch"],
                        "microseconds_per_update": 1e6 * r["seconds_per_epoch"] / r["updates_per_epoch"],
                        "cost_by_epoch": r["cost"], "final_cost": r["cost"][-1], "update_cost_noise": noise}
        rows.append([label, str(r["updates_per_epoch"]), f"{1e3 * r['seconds_per_epoch']:.2f}",
                     f"{1e6 * r['seconds_per_epoch'] / r['updates_per_epoch']:.0f}",
                     f"{r['cost'][1]:.3f}", f"{r['cost'][-1]:.3f}", f"{noise:.3f}"])
    results["protocol"] = {"data": f"digits (standardized), {EXAMPLES} training examples", "layers": LAYERS,
                           "learning_rate": LEARNING_RATE, "epochs": epochs, "trace_updates": TRACE_UPDATES}
    b, s, mb = results["batch"], results["stochastic"], results["minibatch"]
    checks = [
        Check("stochastic updates are the noisiest, batch updates the smoothest",
              "SGD extremely noisy; batch low-noise",
              f"noise {s['update_cost_noise']:.3f} (1) > {mb['update_cost_noise']:.3f} (64) > "
              f"{b['update_cost_noise']:.4f} (m)",
              s["update_cost_noise"] > mb["update_cost_noise"] > b["update_cost_noise"]),
        Check(f"mini-batches make more progress per epoch than batch GD (cost after {epochs} epochs)",
              "faster learning", f"{mb['final_cost']:.3f} vs {b['final_cost']:.3f}",
              mb["final_cost"] < b["final_cost"]),
        Check("mini-batches keep most of the vectorization: far less time per example than stochastic GD",
              "gets a lot of vectorization",
              f"{1e6 * mb['seconds_per_epoch'] / EXAMPLES:.1f} µs vs {1e6 * s['seconds_per_epoch'] / EXAMPLES:.1f} µs "
              "per example", mb["seconds_per_epoch"] * 5 < s["seconds_per_epoch"]),
    ]

    styles = {"batch (m)": {"color": "#1f77b4"}, "stochastic (1)": {"color": "#d62728"},
              "mini-batch (64)": {"color": "#2ca02c"}}
    fig, axes = plots.subplots(1, 3, figsize=(15.0, 4.2))
    plots.plot_cost_curves(axes[0], {k: out[k]["cost"] for k in SIZES}, logy=True, styles=styles,
                           xlabel="epoch", ylabel="training-set cost J (log scale)",
                           title=f"Cost after each epoch (α = {LEARNING_RATE})")
    plots.plot_cost_curves(axes[1], {k: out[k]["cost"][1:] for k in SIZES},
                           x={k: out[k]["seconds"][1:] for k in SIZES}, logx=True, logy=True, styles=styles,
                           xlabel="seconds of training (log scale)", ylabel="training-set cost J (log scale)",
                           title="The same against training time")
    plots.plot_cost_curves(axes[2], {k: out[k]["trace"] for k in SIZES}, styles=styles, logy=True,
                           xlabel="update", ylabel="cost of the update's own batch (log scale)",
                           title=f"The first {TRACE_UPDATES} updates: noise")
    fig.suptitle("Batch vs stochastic vs mini-batch gradient descent (digits, 64-32-10)")
    abs_path, rel_path = plot_path(plot_dir, "minibatch.png")
    plots.save_figure(fig, abs_path)

    return Section(
        key=KEY,
        title=TITLE,
        lesson=("Batch gradient descent takes one smooth step per epoch; stochastic gradient descent takes m noisy "
                "steps and loses vectorization; mini-batches (64, 128, 256, …) take many vectorized steps per "
                "epoch and learn fastest in wall-clock time."),
        protocol=[
            f"{EXAMPLES} digits (scikit-learn, standardized), 64-32-10 ReLU/softmax, the same He weights for all, "
            f"plain gradient descent α = {LEARNING_RATE}, {epochs} epochs; times measured in one process, one size "
            "after the other (median time per epoch)",
        ],
        results=results,
        tables=[Table("Batch size: updates, time, progress and noise",
                      ["batch size", "updates per epoch", "ms per epoch", "µs per update", "cost after 1 epoch",
                       f"cost after {epochs} epochs", "update-cost noise"], rows)],
        figures=[Figure(rel_path, "Mini-batches make the most progress per second; stochastic updates are the "
                                  "noisiest; batch updates are smooth but one per epoch.")],
        checks=checks,
        notes=["Times depend on the machine and its load; the ratios are what the seeds discuss."],
    )
