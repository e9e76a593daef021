"""Planted pathologies and healthy runs for the doctor: each case trains a small network and returns the
codes the doctor finds (Python API: gw.Monitor + gw.diagnose(facts=...))."""

from __future__ import annotations

import numpy as np

import gradwise as gw
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


def noise(m: int = 80, n: int = 40, seed: int = 0, share: float = 0.5):
    """Features with no information about labels of the given positive share."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n)), (rng.random(m) < share).astype(int)


def run(X, y, *, layers=(16, 8), hidden="relu", init="he", optimizer="gd", lr=0.1, epochs=30,
        batch_size=64, l2=0.0, standardize=True, seed=0, dev=0.25, class_weight=None, keep_prob=1.0,
        human_error=0.0, threshold=None, bias_shift=0.0, every="auto"):
    """Train and diagnose with a Monitor(every=every); returns (codes, Diagnosis)."""
    k = int(y.max()) + 1
    output = "sigmoid" if k == 2 else "softmax"
    n_dev = int(len(y) * dev)
    Xtr, ytr, Xdv, ydv = X[n_dev:], y[n_dev:], X[:n_dev], y[:n_dev]
    model = gw.mlp([X.shape[1], *layers, 1 if k == 2 else k], hidden=hidden, output=output, init=init,
                   l2=l2, keep_prob=keep_prob, seed=seed)
    if bias_shift:  # plant dead ReLUs: every hidden unit's pre-activation pushed far below 0
        model.build(X.shape[1])
        for name, b in model.parameters().items():
            if name.startswith("b") and name != f"b{len(layers) + 1}":
                b -= bias_shift
    if standardize:
        model.standardizer = gw.Standardizer().fit(Xtr)
    monitor = Monitor(every=every)
    try:
        model.fit(Xtr, ytr, epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=lr,
                  validation_data=(Xdv, ydv), callbacks=[monitor], verbose=0, class_weight=class_weight)
        diverged = False
    except gw.TrainingDivergedError:
        diverged = True
    pred_tr, pred_dv = model.predict(Xtr), model.predict(Xdv)
    train_error, dev_error = float(np.mean(pred_tr != ytr)), float(np.mean(pred_dv != ydv))
    facts = RunFacts(records=monitor.records, inputs=monitor.inputs, history=model.history.history,
                     diverged=diverged, accuracy=1 - dev_error, examples=len(ydv),
                     true_shares=list(np.bincount(ydv, minlength=k) / len(ydv)),
                     predicted_shares=list(np.bincount(pred_dv.astype(int), minlength=k) / len(ydv)))
    if threshold is None:
        threshold = gw.diagnose.__globals__["noise_threshold"](dev_error, len(ydv))
    d = gw.diagnose(train_error, dev_error, human_error, threshold=threshold, facts=facts)
    return [f.code for f in d.findings], d
