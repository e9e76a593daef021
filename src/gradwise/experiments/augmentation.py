"""Experiment 13 — data augmentation (seed 001, "Other regularization methods": "for images, random
rotations, positions and distortions; in OCR random rotations and distortions. Not as good as independent
new data, but a way to regularize when getting more data is expensive").

Protocol: the 8×8 digits; per fresh seed 300 training images are drawn from the training split (and 300
more for the comparison with real new data); a 64-64-10 ReLU/softmax network, pixels scaled to [0, 1],
Adam α = 0.003, mini-batches of 32, 200 epochs. Three runs: the 300 images as they are; the same 300 with
every mini-batch randomly rotated (±6°) and elastically distorted (displacements up to 0.5 pixel) — drawn
from the model's own generator; and 600 real images (twice the data, no augmentation). Test set: the
split's test images. Measured on the way: on 8×8 digits, which are already centred and size-normalized,
rotations of ±12° or shifts of a pixel alone lowered the test accuracy (a pixel is an eighth of a digit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..data import augment
from ..data import load as load_dataset
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

KEY = "augmentation"
TITLE = "13. Data augmentation: rotated and distorted digits vs new ones"
MODES = ("none", "augmented", "twice_the_data")
LABEL = {"none": "300 images", "augmented": "300 images, rotated ±6° and elastically distorted",
         "twice_the_data": "600 real images"}
LAYERS = [64, 64, 10]
TRAIN_SIZE = 300
PIXEL_MAX = 16.0  # the digits' pixels are 0..16
DEGREES = 6
STRENGTH = 0.5  # pixels of elastic displacement at most
EPOCHS, QUICK_EPOCHS = 200, 10
LESSON = ("Augmentation manufactures plausible new examples from the ones at hand: a digit rotated by a few "
          "degrees or shifted by a pixel is still the same digit. It regularizes the network (the training set "
          "no longer repeats exactly), but the new examples are correlated with the old ones, so real new data "
          "helps more.")


def train(mode: str, seed: int, epochs: int) -> dict:
    """One network on 300 (or 600) training digits, with or without augmentation; its accuracies."""
    data = load_dataset("digits", seed=seed)
    s_rows, s_init = streams(KEY, seed, 2)
    rows = np.random.default_rng(s_rows).permutation(len(data.y_train))[:2 * TRAIN_SIZE]
    rows = rows if mode == "twice_the_data" else rows[:TRAIN_SIZE]
    # Pixels scaled to [0, 1] as a whole, not standardized one by one: a rotated stroke that reaches a
    # pixel that is nearly always blank must not be blown up by that pixel's tiny σ.
    X, y, Xt = data.X_train[rows] / PIXEL_MAX, data.y_train[rows], data.X_test / PIXEL_MAX
    model = mlp(LAYERS, output="softmax", seed=seeds_of(s_init)[0])
    aug = _geometry() if mode == "augmented" else None
    model.fit(X, y, epochs=epochs, batch_size=32, optimizer="adam", learning_rate=0.003, augment=aug,
              verbose=0)
    return {"test_accuracy": model.evaluate(Xt, data.y_test)["accuracy"],
            "train_accuracy": model.evaluate(X, y)["accuracy"]}


def _geometry():
    """A small rotation, then an elastic distortion; pixels from outside the frame blank (the digits touch it)."""
    return augment.compose(augment.rotate((8, 8), DEGREES, fill=0.0), augment.distort((8, 8), STRENGTH, fill=0.0))


def jobs(settings: Settings) -> list[Job]:
    n = settings.n(EPOCHS, QUICK_EPOCHS)
    return [Job(f"{KEY}/{mode}/seed{seed}", train, {"mode": mode, "seed": seed, "epochs": n},
                cost=n * (20 if mode == "twice_the_data" else 10) * (300 if mode == "augmented" else 120))
            for seed in settings.fresh_seeds() for mode in MODES]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    seeds = settings.fresh_seeds()
    acc = {m: [outputs[f"{KEY}/{m}/seed{s}"]["test_accuracy"] for s in seeds] for m in MODES}
    train_acc = {m: [outputs[f"{KEY}/{m}/seed{s}"]["train_accuracy"] for s in seeds] for m in MODES}
    stats = {m: {"test_accuracy": mean_interval(acc[m]), "train_accuracy": mean_interval(train_acc[m])} for m in MODES}
    rows = [[LABEL[m], fmt_interval(stats[m]["train_accuracy"]), fmt_interval(stats[m]["test_accuracy"])]
            for m in MODES]
    table = Table(f"Digits, test accuracy ({len(seeds)} fresh seeds, 95% CI)", ["training data", "train", "test"],
                  rows)
    mean = {m: float(np.mean(acc[m])) for m in MODES}
    checks = [
        Check("augmentation raises the test accuracy over the same images without it (mean over fresh seeds)",
              "a regularization technique", f"{pct(mean['augmented'])} vs {pct(mean['none'])}",
              trained(settings, mean["augmented"] > mean["none"])),
        Check("twice the real data does better than augmenting the same amount",
              "not as good as independent new data", f"{pct(mean['twice_the_data'])} vs {pct(mean['augmented'])}",
              trained(settings, mean["twice_the_data"] > mean["augmented"])),
    ]
    results = {"seeds": seeds, **stats, "protocol": {"layers": LAYERS, "train_size": TRAIN_SIZE,
                                                     "epochs": settings.n(EPOCHS, QUICK_EPOCHS)}}
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table],
                   figures=[_plot(plot_dir)], checks=checks)


def _plot(plot_dir: Path) -> Figure:
    """A few training digits and their augmented versions."""
    data = load_dataset("digits", seed=0)
    originals = data.X_train[:6]
    augmented = _geometry()(np.repeat(originals, 3, axis=0), np.random.default_rng(0))
    path, rel = plot_path(plot_dir, "augmentation_examples.png")
    fig, axes = plots.subplots(4, 6, figsize=(6.0, 4.2), squeeze=False)
    for j in range(6):
        for i in range(4):
            image = originals[j] if i == 0 else augmented[3 * j + i - 1]
            axes[i][j].imshow(image.reshape(8, 8), cmap="gray_r")
            axes[i][j].set_xticks([])
            axes[i][j].set_yticks([])
        axes[0][j].set_title(f"digit {data.y_train[j]}", fontsize="small")
    axes[0][0].set_ylabel("original", fontsize="small")
    for i in range(1, 4):
        axes[i][0].set_ylabel("augmented", fontsize="small")
    plots.save_figure(fig, path)
    return Figure(rel, f"Training digits (top row) and three random rotations (±{DEGREES}°) with elastic "
                       f"distortions of each.")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    return [f"8×8 digits: {TRAIN_SIZE} (or {2 * TRAIN_SIZE}) training images drawn per fresh seed "
            f"({', '.join(map(str, seeds))}); the split's test images",
            f"network {'-'.join(map(str, LAYERS))} (ReLU, softmax), pixels scaled to [0, 1], "
            f"Adam α = 0.003, mini-batches of 32, {settings.n(EPOCHS, QUICK_EPOCHS)} epochs",
            "augmentation on every mini-batch, from the model's generator: rotation by a uniform angle in "
            f"[−{DEGREES}°, {DEGREES}°] about the centre (bilinear), then an elastic distortion (Gaussian-smoothed "
            f"random displacements up to {STRENGTH} pixel); pixels from outside the frame are blank"]
