"""Quick reproduction check of the course's numbers (run after every engine speed change).

    python benchmarks/check_course.py

Initialization (He, 2-10-5-1, make_circles, 15000 full-batch GD iterations at lr 0.01): first cost
0.883053746341976, train accuracy 0.9933. Regularization baseline (football, 2-20-3-1, xavier, lr 0.3,
30000 iterations): train 0.9479, test 0.915. Exits 1 on any mismatch.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_circles

import gradwise as gw


def _football() -> tuple[np.ndarray, ...]:
    path = Path(gw.__file__).parent / "data" / "football.csv"
    raw = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    X = np.column_stack([raw["x1"], raw["x2"]]).astype(np.float64)
    y = raw["y"].astype(np.int64)
    train = raw["split"] == "train"
    return X[train], y[train], X[~train], y[~train]


def main() -> int:
    failures = []
    t0 = time.perf_counter()
    X, y = make_circles(300, noise=0.05, random_state=np.random.RandomState(1))
    model = gw.mlp([2, 10, 5, 1], init="he", rng=np.random.RandomState(3))
    hist = model.fit(X, y, epochs=15000, learning_rate=0.01)
    first, acc = hist["cost"][0], model.evaluate(X, y)["accuracy"]
    t1 = time.perf_counter()
    print(f"circles/he: first cost {first!r}, train accuracy {acc:.4f}  ({t1 - t0:.2f} s)")
    if abs(first - 0.883053746341976) > 1e-12:
        failures.append(f"first cost {first!r} != 0.883053746341976")
    if round(acc, 4) != 0.9933:
        failures.append(f"circles train accuracy {acc} != 0.9933")

    Xtr, ytr, Xte, yte = _football()
    model = gw.mlp([2, 20, 3, 1], init="xavier", rng=np.random.RandomState(3))
    model.fit(Xtr, ytr, epochs=30000, learning_rate=0.3)
    tr, te = model.evaluate(Xtr, ytr)["accuracy"], model.evaluate(Xte, yte)["accuracy"]
    print(f"football/no-reg: train {tr:.4f}, test {te:.3f}  ({time.perf_counter() - t1:.2f} s)")
    if round(tr, 4) != 0.9479 or round(te, 3) != 0.915:
        failures.append(f"football accuracies {tr}, {te} != 0.9479, 0.915")
    for f in failures:
        print("MISMATCH:", f)
    print("course numbers OK" if not failures else "course numbers FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
