"""Planted pathologies and healthy runs for the doctor: each case trains a small network and returns the
codes the doctor finds (Python API: gw.Monitor + gw.diagnose(facts=...))."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import gradwise as gw
from gradwise.diagnose import Diagnosis, noise_threshold
from gradwise.doctor import RunFacts
from gradwise.monitor import Monitor


def blobs(m: int = 400, n: int = 4, seed: int = 0, scales=None, classes: int = 2, imbalance: float = 0.5):
    rng = np.random.default_rng(seed)
    y = (rng.random(m) < imbalance).astype(int) if classes == 2 else rng.integers(0, classes, m)
    centers = rng.normal(size=(classes, n)) * 2.0
    X = centers[y] + rng.normal(size=(m, n))
    if scales is not None:
        X = X * np.asarray(scales)
    return X, y


def circles(m: int = 400, seed: int = 0, noise: float = 0.1, radius: float = 1.0):
    """Inside vs outside a circle of `radius` (not linearly separable)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, size=(m, 2))
    y = (np.linalg.norm(X, axis=1) < radius).astype(int)
    return X + rng.normal(scale=noise, size=X.shape), y


def xor(m: int = 400, seed: int = 0, flip: float = 0.0):
    """Same-sign quadrants; a `flip` share of labels flipped at random (then the Bayes error is `flip`)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (m, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X, np.where(rng.random(m) < flip, 1 - y, y)


def digits(m: int | None = None, seed: int = 0):
    """scikit-learn's 8×8 handwritten digits (1797 rows, 10 classes), `m` of them in a random order."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))[:m]
    return data.data[order], data.target[order]


def noise(m: int = 80, n: int = 40, seed: int = 0, share: float = 0.5):
    """Features with no information about labels of the given positive share."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n)), (rng.random(m) < share).astype(int)


def run(X, y, *, layers=(16, 8), hidden="relu", init="he", optimizer="gd", lr=0.1, epochs=30,
        batch_size=64, l2=0.0, standardize=True, seed=0, dev=0.25, class_weight=None, keep_prob=1.0,
        human_error=0.0, threshold=None, bias_shift=0.0, every="auto", batchnorm=False, early_stopping=None):
    """Train and diagnose with a Monitor(every=every): the codes found, root cause first, and the run."""
    k = int(y.max()) + 1
    output = "sigmoid" if k == 2 else "softmax"
    n_dev = int(len(y) * dev)
    Xtr, ytr, Xdv, ydv = X[n_dev:], y[n_dev:], X[:n_dev], y[:n_dev]
    model = gw.mlp([X.shape[1], *layers, 1 if k == 2 else k], hidden=hidden, output=output, init=init,
                   l2=l2, keep_prob=keep_prob, batchnorm=batchnorm, seed=seed)
    if bias_shift:  # plant dead ReLUs: every hidden unit's pre-activation pushed far below 0
        model.build(X.shape[1])
        for name, b in model.parameters().items():
            if name.startswith("b") and name != f"b{len(layers) + 1}":
                b -= bias_shift
    if standardize:
        model.standardizer = gw.Standardizer().fit(Xtr)
    monitor = Monitor(every=every)
    callbacks: list[gw.Callback] = [monitor]
    if early_stopping is not None:
        callbacks.append(gw.EarlyStopping(monitor="val_cost", patience=early_stopping, restore_best=True))
    try:
        model.fit(Xtr, ytr, epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=lr,
                  validation_data=(Xdv, ydv), callbacks=callbacks, verbose=0, class_weight=class_weight)
        diverged = False
    except gw.TrainingDivergedError:
        diverged = True
    pred_tr, pred_dv = model.predict(Xtr), model.predict(Xdv)
    train_error, dev_error = float(np.mean(pred_tr != ytr)), float(np.mean(pred_dv != ydv))
    balanced = _balanced_accuracy(ydv, pred_dv.astype(int), k)
    final_dev_cost = None if diverged else float(model.evaluate(Xdv, ydv)["cost"])
    facts = RunFacts(records=monitor.records, inputs=monitor.inputs, history=model.history.history,
                     diverged=diverged, accuracy=1 - dev_error, examples=len(ydv),
                     true_shares=list(np.bincount(ydv, minlength=k) / len(ydv)),
                     predicted_shares=list(np.bincount(pred_dv.astype(int), minlength=k) / len(ydv)),
                     balanced_accuracy=balanced, final_dev_cost=final_dev_cost)
    if threshold is None:
        threshold = noise_threshold(dev_error, len(ydv))
    d = gw.diagnose(train_error, dev_error, human_error, threshold=threshold, facts=facts)
    return Run([f.code for f in d.findings], d, model.history.history, train_error, dev_error, balanced,
               final_dev_cost, model)


class Run(NamedTuple):
    """What a planted run gives a test: the codes found (root cause first), the Diagnosis, the per-epoch
    history (`cost`, `val_cost`, …), the errors, the dev set's balanced accuracy and cost (of the final
    weights: EarlyStopping's restored ones) and the trained model."""

    codes: list[str]
    diagnosis: Diagnosis
    history: dict[str, list]
    train_error: float
    dev_error: float
    balanced_accuracy: float
    final_dev_cost: float | None
    model: Any


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Mean over the classes present of the recall (scikit-learn's balanced_accuracy_score)."""
    recalls = [float(np.mean(pred[y == c] == c)) for c in range(k) if np.any(y == c)]
    return float(np.mean(recalls))
