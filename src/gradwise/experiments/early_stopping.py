"""Experiment 11 — early stopping (seed 001, "Other regularization methods": "plot the training and the dev
set cost; at some iteration the dev cost stops decreasing and starts increasing: stop there, and keep the
parameters of the iteration where the dev cost was lowest").

Protocol: a network that can memorise its data — 2-64-64-1 (ReLU, sigmoid), Adam α = 0.002, full-batch,
800 iterations — on 100 noisy moons (noise 0.4) with a dev set of 500 and a test set of 2,000, drawn per
fresh seed. The run records the dev cost every iteration; `EarlyStopping(monitor="val_cost",
restore_best=True)` with a patience long enough to see the rise (100) decides where to stop. Compared: the
restored network and the network trained the full 800 iterations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..callbacks import EarlyStopping
from ..model import mlp
from ._common import (
    Check,
    Figure,
    Job,
    Section,
    Settings,
    Table,
    fmt_interval,
    legacy_rng,
    mean_interval,
    pct,
    plot_path,
    seeds_of,
    streams,
    trained,
)

KEY = "early_stopping"
TITLE = "11. Early stopping: keep the iteration where the dev cost is lowest"
LAYERS = [2, 64, 64, 1]
ITERATIONS, QUICK_ITERATIONS = 800, 80
PATIENCE = 100
LEARNING_RATE = 0.002
LESSON = ("Training cost keeps falling while the dev cost, after a while, rises again: the network starts "
          "fitting the noise of its training set. Early stopping watches the dev cost and keeps the weights of "
          "its lowest point — a regularizer that needs no λ, at the price of coupling 'optimize J' with "
          "'do not overfit' (the seeds' orthogonalization remark).")


def _moons(s_train: np.random.SeedSequence, s_dev: np.random.SeedSequence, s_test: np.random.SeedSequence
           ) -> tuple[np.ndarray, ...]:
    # imported here: every gradwise command registers `reproduce`, and scikit-learn (with SciPy) adds
    # about 85 MB and a few tenths of a second to a command that does not use it
    from sklearn.datasets import make_moons

    X, y = make_moons(100, noise=0.4, random_state=legacy_rng(s_train))
    Xd, yd = make_moons(500, noise=0.4, random_state=legacy_rng(s_dev))
    Xt, yt = make_moons(2000, noise=0.4, random_state=legacy_rng(s_test))
    return X, y, Xd, yd, Xt, yt


def train(seed: int, iterations: int) -> dict:
    """The same network trained to the end and with early stopping; their costs and test accuracies."""
    s_train, s_dev, s_test, s_init = streams(KEY, seed, 4)
    X, y, Xd, yd, Xt, yt = _moons(s_train, s_dev, s_test)
    init_seed = seeds_of(s_init)[0]
    full = mlp(LAYERS, seed=init_seed)
    settings = {"epochs": iterations, "optimizer": "adam", "learning_rate": LEARNING_RATE,
                "validation_data": (Xd, yd), "verbose": 0}
    history = full.fit(X, y, **settings)
    stopper = EarlyStopping(monitor="val_cost", patience=PATIENCE, restore_best=True)
    stopped = mlp(LAYERS, seed=init_seed)
    stopped.fit(X, y, callbacks=[stopper], **settings)
    return {"cost": np.asarray(history["cost"]), "val_cost": np.asarray(history["val_cost"]),
            "best_epoch": stopper.best_epoch, "stopped_epoch": stopper.stopped_epoch,
            "restored_val_cost": stopped.evaluate(Xd, yd)["cost"],
            "full_test_accuracy": full.evaluate(Xt, yt)["accuracy"],
            "stopped_test_accuracy": stopped.evaluate(Xt, yt)["accuracy"],
            "full_val_cost": full.evaluate(Xd, yd)["cost"]}


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(ITERATIONS, QUICK_ITERATIONS)
    return [Job(f"{KEY}/seed{seed}", train, {"seed": seed, "iterations": n}, cost=2 * n * 700)
            for seed in settings.fresh_seeds()]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Where early stopping stopped, whether it picked the lowest dev cost, and what it gained on test."""
    seeds = settings.fresh_seeds()
    runs = [outputs[f"{KEY}/seed{s}"] for s in seeds]
    picked_lowest = [r["best_epoch"] == int(np.argmin(r["val_cost"])) for r in runs]
    rises = [float(r["val_cost"][-1] - r["val_cost"].min()) for r in runs]
    gains = [r["stopped_test_accuracy"] - r["full_test_accuracy"] for r in runs]
    rows = [[str(s), str(r["best_epoch"] + 1), f"{r['val_cost'].min():.4f}", f"{r['val_cost'][-1]:.4f}",
             pct(r["full_test_accuracy"]), pct(r["stopped_test_accuracy"])]
            for s, r in zip(seeds, runs, strict=True)]
    table = Table("Dev cost and test accuracy: trained to the end vs stopped early",
                  ["seed", "best iteration", "lowest dev cost", "final dev cost", "test, to the end",
                   "test, early stopping"], rows)
    checks = [
        Check("the dev cost falls, then rises again while the training cost keeps falling",
              "the dev cost goes down and then starts going up",
              f"final dev cost above its minimum by {', '.join(f'{d:.3f}' for d in rises)}",
              trained(settings, all(d > 0.01 for d in rises)
                      and all(r["cost"][-1] < r["cost"][r["best_epoch"]] for r in runs))),
        Check("early stopping keeps the iteration where the dev cost is lowest",
              "pick the iteration with the lowest dev cost",
              f"best epoch = argmin of the dev cost in {sum(picked_lowest)}/{len(runs)} runs; restored dev cost "
              f"equals the minimum: {all(np.isclose(r['restored_val_cost'], r['val_cost'].min()) for r in runs)}",
              all(picked_lowest) and all(np.isclose(r["restored_val_cost"], r["val_cost"].min()) for r in runs)),
        Check("the early-stopped network is at least as good on the test set (mean over fresh seeds)",
              "a regularizer: better generalization", f"{100 * np.mean(gains):+.2f} points of test accuracy",
              trained(settings, float(np.mean(gains)) >= 0)),
    ]
    results = {"seeds": seeds, "best_epochs": [r["best_epoch"] for r in runs],
               "test_gain": mean_interval(gains, None), "dev_cost_rise": mean_interval(rises, None),
               "protocol": {"layers": LAYERS, "iterations": settings.n(ITERATIONS, QUICK_ITERATIONS),
                            "patience": PATIENCE}}
    notes = [f"test accuracy gain over {len(seeds)} seeds: {fmt_interval(mean_interval(gains, None))}"]
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table],
                   figures=[_plot(runs[0], seeds[0], plot_dir)], checks=checks, notes=notes)


def _plot(run: dict, seed: int, plot_dir: Path) -> Figure:
    path, rel = plot_path(plot_dir, "early_stopping_cost.png")
    fig, ax = plots.subplots(figsize=(6.0, 3.8))
    ax.plot(run["cost"], label="training cost")
    ax.plot(run["val_cost"], label="dev cost")
    ax.axvline(run["best_epoch"], color="grey", linestyle=":",
               label=f"lowest dev cost (iteration {run['best_epoch'] + 1})")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(f"Training and dev cost (seed {seed})")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    plots.save_figure(fig, path)
    return Figure(rel, "The training cost keeps falling; the dev cost turns up. Early stopping keeps the marked "
                       "iteration's weights.")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    return [f"noisy moons (noise 0.4): 100 training, 500 dev and 2,000 test examples per fresh seed "
            f"({', '.join(map(str, seeds))})",
            f"network {'-'.join(map(str, LAYERS))} (ReLU, sigmoid), Adam α = {LEARNING_RATE}, full batch, "
            f"{settings.n(ITERATIONS, QUICK_ITERATIONS)} iterations; EarlyStopping(val_cost, patience "
            f"{PATIENCE}, restore_best=True) vs the same network trained to the end"]
