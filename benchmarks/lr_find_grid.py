"""lr_find's suggestion vs a log-spaced grid of 7 learning rates, on three built-in data sets.

    PYTHONPATH=src python benchmarks/lr_find_grid.py

For each data set: the range test on a fresh model, then the same model trained from the same initial
weights at the suggestion and at each α of the grid 10^-3 … 10^0 (7 values, half a decade apart); the
score is the test accuracy. tests/training/test_lr_find.py checks the same protocol.
"""

from __future__ import annotations

import numpy as np

import gradwise as gw

GRID = np.logspace(-3, 0, 7)
DATASETS = {  # name: (load arguments, hidden layers)
    "moons": ({"noise": 0.25}, [16, 16]),
    "circles": ({}, [16, 16]),
    "spirals": ({"noise": 0.1}, [32, 32]),
}


def score(name: str, lr: float, epochs: int = 60, seed: int = 0) -> float:
    """Test accuracy after `epochs` of Adam, batch 32, at learning rate `lr`."""
    kwargs, hidden = DATASETS[name]
    ds = gw.datasets.load(name, seed=seed, **kwargs)
    model = gw.mlp([ds.n_features, *hidden, 1], seed=seed)
    model.fit(ds.X_train, ds.y_train, epochs=epochs, batch_size=32, optimizer="adam", learning_rate=lr)
    return float(model.evaluate(ds.X_test, ds.y_test)["accuracy"])


def suggestion(name: str, seed: int = 0) -> gw.LRFindResult:
    kwargs, hidden = DATASETS[name]
    ds = gw.datasets.load(name, seed=seed, **kwargs)
    model = gw.mlp([ds.n_features, *hidden, 1], seed=seed)
    return gw.lr_find(model, ds.X_train, ds.y_train, optimizer="adam", batch_size=32)


def table() -> list[tuple[str, float, float, float, list[float]]]:
    """(data set, suggested α, its accuracy, best grid accuracy, grid accuracies) per data set."""
    rows = []
    for name in DATASETS:
        result = suggestion(name)
        grid = [score(name, lr) for lr in GRID]
        rows.append((name, result.suggestion, score(name, result.suggestion), max(grid), grid))
    return rows


if __name__ == "__main__":
    print("data set | suggested α | its accuracy | best of grid | grid " + " ".join(f"{g:.3g}" for g in GRID))
    for name, lr, acc, best, grid in table():
        print(f"{name} | {lr:.3g} | {acc:.3f} | {best:.3f} | " + " ".join(f"{a:.3f}" for a in grid))
