"""Experiment 14 — batch norm's slight regularization (seed 004, "Batch norm as regularization": "each
mini-batch is scaled by the mean and variance computed on just that mini-batch, which adds some noise to
z̃ within that mini-batch ... a slight regularization effect; with a bigger mini-batch size, say 512
instead of 64, you reduce the noise and therefore the regularization effect").

Protocol: the 8×8 digits (the split's 1,437 training and 360 test images, pixels standardized on the
training images), a 64-128-128-10 network with batch norm before each ReLU, Adam α = 0.003, the same
number of updates (800) at mini-batches of 64 and of 512 (so 512 is not simply trained less). Measured:
(1) the noise itself — for a trained network, the standard deviation of one example's normalized
pre-activation z̃ over 50 random mini-batches it could be drawn into, averaged over examples and units;
(2) the train–test accuracy gap of both batch sizes; the same twice without batch norm as the control.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..data import Standardizer
from ..data import load as load_dataset
from ..layers import CHECKING, BatchNorm
from ..model import mlp
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
    seeds_of,
    streams,
    trained,
)

KEY = "batchnorm_regularization"
TITLE = "14. Batch norm's noise: a slight regularizer that fades with large mini-batches"
BATCHES = (64, 512)
LAYERS = [64, 128, 128, 10]
UPDATES, QUICK_UPDATES = 800, 40
DRAWS = 50
LESSON = ("In training, batch norm normalizes z with the mean and variance of the current mini-batch, so an "
          "example's z̃ depends on which other examples share its batch: noise, like dropout's, that makes "
          "the network a little more robust. The noise shrinks as the batch grows (≈ 1/√batch), and with it "
          "the regularization; batch norm is not meant as a regularizer.")


def train(batch: int, batchnorm: bool, seed: int, updates: int) -> dict:
    data = load_dataset("digits", seed=0)
    st = Standardizer().fit(data.X_train)
    X, Xt = st.transform(data.X_train), st.transform(data.X_test)
    s_init, s_draw = streams(KEY, seed, 2)
    model = mlp(LAYERS, output="softmax", batchnorm=batchnorm, seed=seeds_of(s_init)[0])
    epochs = max(1, round(updates * batch / X.shape[0]))
    model.fit(X, data.y_train, epochs=epochs, batch_size=batch, optimizer="adam", learning_rate=0.003,
              verbose=0)
    out = {"train_accuracy": model.evaluate(X, data.y_train)["accuracy"],
           "test_accuracy": model.evaluate(Xt, data.y_test)["accuracy"], "epochs": epochs}
    if batchnorm:
        out["noise"] = {str(b): _batch_noise(model, X, b, np.random.default_rng(s_draw)) for b in BATCHES}
    return out


def _batch_noise(model, X: np.ndarray, batch: int, rng: np.random.Generator, probes: int = 32) -> float:
    """Std of the first batch-norm layer's output for `probes` fixed examples over `DRAWS` random batches."""
    probe = X[:probes]
    first_bn = next(i for i, layer in enumerate(model.layers) if isinstance(layer, BatchNorm))
    outputs = []
    for _ in range(DRAWS):
        others = X[probes + rng.choice(X.shape[0] - probes, batch - probes, replace=False)]
        out = np.concatenate([probe, others])
        for layer in model.layers[:first_bn + 1]:  # batch statistics, no running-average update
            out = layer.forward(out, CHECKING)
        outputs.append(out[:probes])
    return float(np.mean(np.std(np.stack(outputs), axis=0)))


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(UPDATES, QUICK_UPDATES)
    return [Job(f"{KEY}/{'bn' if bn else 'plain'}{batch}/seed{seed}", train,
                {"batch": batch, "batchnorm": bn, "seed": seed, "updates": n}, cost=n * batch * 25)
            for seed in settings.fresh_seeds() for batch in BATCHES for bn in (True, False)]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    seeds = settings.fresh_seeds()
    runs = {(bn, b): [outputs[f"{KEY}/{'bn' if bn else 'plain'}{b}/seed{s}"] for s in seeds]
            for bn in (True, False) for b in BATCHES}
    gap = {key: [r["train_accuracy"] - r["test_accuracy"] for r in rs] for key, rs in runs.items()}
    noise = {b: [r["noise"][str(b)] for r in runs[(True, BATCHES[0])]] for b in BATCHES}
    stats = {f"{'batchnorm' if bn else 'plain'}_{b}": {"gap": mean_interval(gap[(bn, b)], None),
                                                     "test_accuracy": mean_interval([r["test_accuracy"] for r in rs])}
             for (bn, b), rs in runs.items()}
    rows = [[("batch norm" if bn else "no batch norm"), str(b), str(runs[(bn, b)][0]["epochs"]),
             fmt_interval(stats[f"{'batchnorm' if bn else 'plain'}_{b}"]["test_accuracy"]),
             f"{100 * np.mean(gap[(bn, b)]):.2f} points"] for bn in (True, False) for b in BATCHES]
    table = Table(f"Digits, the same {settings.n(UPDATES, QUICK_UPDATES)} updates at each batch size "
                  f"({len(seeds)} fresh seeds)",
                  ["network", "mini-batch", "epochs", "test accuracy", "train − test"], rows)
    small, large = BATCHES
    ratio = float(np.mean(noise[small]) / np.mean(noise[large]))
    bn_effect = {b: float(np.mean(gap[(False, b)]) - np.mean(gap[(True, b)])) for b in BATCHES}
    checks = [
        Check(f"batch norm's z̃ of one example varies with its mini-batch, less at {large} than at {small}",
              "mini-batch statistics add noise; a bigger batch reduces it",
              f"std over batches {np.mean(noise[small]):.4f} at {small}, {np.mean(noise[large]):.4f} at {large} "
              f"(ratio {ratio:.2f}; √({large}/{small}) = {np.sqrt(large / small):.2f})",
              trained(settings, ratio > 1.5)),
        Check(f"batch norm narrows the train–test gap more at {small} than at {large} (vs the same network "
              "without it)", "a slight regularization effect that goes away with a large mini-batch",
              f"gap reduction {100 * bn_effect[small]:+.2f} points at {small}, "
              f"{100 * bn_effect[large]:+.2f} at {large}",
              trained(settings, bn_effect[small] > bn_effect[large])),
    ]
    results = {"seeds": seeds, **stats, "noise": {str(b): mean_interval(noise[b], None) for b in BATCHES},
               "protocol": {"layers": LAYERS, "updates": settings.n(UPDATES, QUICK_UPDATES), "draws": DRAWS}}
    test = {b: pct(float(np.mean([r["test_accuracy"] for r in runs[(True, b)]]))) for b in BATCHES}
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table],
                   figures=[_plot(noise, plot_dir)], checks=checks,
                   notes=[f"test accuracy with batch norm: {test[small]} at {small}, {test[large]} at {large}; one "
                          f"test image is {100 / 360:.2f} points, so the gap check is within noise"])


def _plot(noise: dict[int, list[float]], plot_dir: Path) -> Figure:
    path, rel = plot_path(plot_dir, "batchnorm_noise.png")
    fig, ax = plots.subplots(figsize=(5.4, 3.6))
    for i, b in enumerate(BATCHES):
        ax.scatter(np.full(len(noise[b]), i), noise[b], s=40)
    ax.set_xticks(range(len(BATCHES)), [f"mini-batch {b}" for b in BATCHES])
    ax.set_xlim(-0.5, len(BATCHES) - 0.5)
    ax.set_ylabel("std of z̃ over random mini-batches")
    ax.set_title("Batch norm's noise on one example's normalized z")
    ax.grid(True, axis="y", alpha=0.3)
    plots.save_figure(fig, path)
    return Figure(rel, "How much an example's normalized pre-activation moves with the company it keeps in its "
                       "mini-batch (one dot per fresh seed).")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    return ["8×8 digits: the split's 1,437 training and 360 test images, pixels standardized on the training images",
            f"network {'-'.join(map(str, LAYERS))}, batch norm before each ReLU (or none, the control), Adam "
            f"α = 0.003, {settings.n(UPDATES, QUICK_UPDATES)} updates at mini-batches of {BATCHES[0]} and "
            f"{BATCHES[1]}; fresh seeds {', '.join(map(str, seeds))}",
            f"noise: std of the first batch norm's output for 32 fixed examples over {DRAWS} random mini-batches "
            "of the training set"]
