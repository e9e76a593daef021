"""Planted pathologies: each code planted two different ways is found, first; healthy runs give nothing;
a finding's remedy, applied, makes the run healthy and better."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from .planted import blobs, circles, digits, noise, run, xor

# Memorised noise: a big network learns every label of a small data set whose features say nothing.
_MEMORISE = dict(layers=(64, 64), optimizer="adam", lr=0.01, epochs=60, batch_size=32)

PLANTED = {
    "exploding_gradients": [(blobs, {}, dict(init="random", layers=(64,) * 6, lr=1e-4)),
                            (blobs, dict(classes=3, seed=4), dict(init="random", hidden="leaky_relu",
                                                                   layers=(32,) * 4, lr=1e-3))],
    "symmetry_not_broken": [(blobs, {}, dict(init="zeros")), (blobs, {}, dict(init="zeros", hidden="tanh"))],
    "learning_rate_too_high": [(blobs, {}, dict(lr=50.0)), (blobs, {}, dict(optimizer="adam", lr=5.0))],
    "learning_rate_too_low": [(blobs, {}, dict(lr=1e-6)), (blobs, {}, dict(optimizer="adam", lr=1e-7))],
    "vanishing_gradients": [(blobs, {}, dict(hidden="sigmoid", layers=(32,) * 8, init="xavier")),
                            (blobs, dict(classes=3, seed=2), dict(hidden="sigmoid", layers=(32,) * 8,
                                                                   init="xavier"))],
    "saturated_units": [(blobs, {}, dict(hidden="tanh", init="random", layers=(64, 64))),
                        (blobs, {}, dict(hidden="tanh", init="random", layers=(32,) * 4, lr=1e-3))],
    "unnormalized_inputs": [(blobs, dict(scales=[1e3, 1e-3, 1, 1]), dict(standardize=False, lr=1e-7)),
                            (blobs, dict(scales=[1, 1, 1, 5e3], seed=3), dict(standardize=False, lr=1e-7))],
    "dead_relu": [(blobs, {}, dict(bias_shift=20.0)), (blobs, dict(classes=3, seed=1),
                                                       dict(bias_shift=20.0, layers=(32,)))],
    "majority_class": [(noise, dict(m=600, n=5, share=0.17), dict(lr=0.05, layers=(8,))),
                       (noise, dict(m=600, n=3, share=0.2, seed=2), dict(lr=0.05, layers=()))],
    "high_bias": [(xor, {}, dict(layers=(), lr=0.1, epochs=40)),
                  (circles, dict(m=600, seed=5, radius=1.2), dict(layers=(), lr=0.1, epochs=40))],
    # train error ≈ 0, dev error far above it: pure noise memorised; XOR with 15% of labels flipped
    # (human-level error = the Bayes error 0.15) memorised from 80 rows
    "high_variance": [(noise, dict(m=120, n=60), _MEMORISE),
                      (xor, dict(m=160, flip=0.15, seed=1), dict(_MEMORISE, epochs=150, human_error=0.15, dev=0.5))],
    # the dev cost turns up after a minimum while the training cost falls below it: Adam on 150 rows of
    # scikit-learn's digits (one hidden layer of 128), full-batch-free GD on XOR with 20% flipped labels
    "overfitting": [(digits, dict(m=300), dict(layers=(128,), optimizer="adam", lr=0.01, epochs=40, dev=0.5)),
                    (xor, dict(m=200, flip=0.2, seed=3), dict(layers=(64, 64), optimizer="gd", lr=0.5,
                                                              epochs=150, batch_size=16, human_error=0.2))],
}

HEALTHY = [
    (blobs, {}, {}),
    (blobs, dict(classes=3, seed=1), dict(layers=(32,))),
    (blobs, dict(n=10, seed=2), dict(optimizer="adam", lr=0.001)),
    (blobs, dict(m=600, seed=4), dict(optimizer="momentum", lr=0.05, batch_size=32)),
    (xor, dict(seed=2), dict(layers=(16, 16), optimizer="adam", lr=0.01, epochs=80)),
    (blobs, dict(classes=4, seed=6), dict(hidden="leaky_relu", optimizer="rmsprop", lr=0.001)),
    # tanh with Xavier and batch norm on circles without label noise
    (circles, dict(seed=3, noise=0.0), dict(hidden="tanh", init="xavier", batchnorm=True, layers=(16, 16),
                                            optimizer="adam", lr=0.01, epochs=40)),
    # dropout + L2 on XOR whose labels are 10% flipped, told its Bayes error
    (xor, dict(m=2000, flip=0.1, seed=4), dict(layers=(32, 32), keep_prob=0.8, l2=0.01, optimizer="adam",
                                              lr=0.01, epochs=20, human_error=0.1)),
    # once false alarms (docs/doctor.md): Adam on circles for 60 epochs, a converged run whose dev cost
    # jitters; tanh/Xavier on blobs; a blob set with 10% positives
    (circles, dict(noise=0.0), dict(optimizer="adam", lr=0.01, epochs=60, layers=(16, 16))),
    (blobs, dict(seed=7), dict(hidden="tanh", init="xavier")),
    (blobs, dict(seed=1, imbalance=0.1), {}),
]


@pytest.mark.parametrize(("code", "case"), [(code, i) for code, cases in PLANTED.items()
                                              for i in range(len(cases))])
def test_planted_pathology_is_found_first(code, case):
    data, data_kw, kw = PLANTED[code][case]
    result = run(*data(**data_kw), **kw)
    codes = result.codes
    assert codes, f"{code} planted, nothing found"
    # high variance is also the dev cost turning up (overfitting), which is reported first
    assert codes[0] == code or (code == "high_variance" and codes[:2] == ["overfitting", code]), codes
    if code == "overfitting":  # the epoch early stopping would keep is the dev cost's argmin
        finding = result.diagnosis.findings[0]
        assert finding.evidence["best_epoch"] == int(np.nanargmin(result.history["val_cost"])) + 1
        assert f"kept epoch {finding.evidence['best_epoch']}" in finding.remedy
    json.loads(json.dumps(result.diagnosis.to_dict(), allow_nan=False))  # always valid JSON


@pytest.mark.parametrize("case", range(len(HEALTHY)))
def test_healthy_run_has_no_finding(case):
    data, data_kw, kw = HEALTHY[case]
    assert run(*data(**data_kw), **kw).codes == []


@pytest.mark.parametrize("every", [1, 10**6])
def test_findings_do_not_depend_on_the_monitors_schedule(every):
    """Every epoch recorded, or only the starting weights, the first and the last epoch: the same codes
    as with the default time budget, on one case per code and on healthy runs."""
    cases = [(code, cases[-1]) for code, cases in PLANTED.items()] + [(None, case) for case in HEALTHY[:3]]
    for code, (data, data_kw, kw) in cases:
        X, y = data(**data_kw)
        assert run(X, y, **kw, every=every).codes == run(X, y, **kw).codes, code


# ------------------------------------------------------------------ remedies: before and after
@pytest.mark.parametrize(("before", "after", "code"), [
    (dict(init="zeros"), dict(init="he"), "symmetry_not_broken"),
    (dict(init="random", layers=(64,) * 6, lr=1e-4), dict(init="he", layers=(64,) * 6, lr=0.01),
     "exploding_gradients"),
    (dict(lr=50.0), dict(lr=0.1), "learning_rate_too_high"),
    (dict(lr=1e-6), dict(lr=0.1), "learning_rate_too_low"),
    (dict(hidden="tanh", init="random", layers=(64, 64)), dict(hidden="tanh", init="xavier", layers=(64, 64)),
     "saturated_units"),
    # the remedy: ReLU with He initialization instead of a deep sigmoid network
    (dict(hidden="sigmoid", layers=(32,) * 8, init="xavier"),
     dict(hidden="relu", layers=(32,) * 8, init="he", lr=0.01), "vanishing_gradients"),
    # the remedy: sane (zero) biases instead of biases pushed far below zero
    (dict(bias_shift=20.0), dict(bias_shift=0.0), "dead_relu"),
])
def test_remedy_applied_makes_the_run_healthy(before, after, code):
    X, y = blobs()
    sick, healed = run(X, y, **before), run(X, y, **after)
    assert code in sick.codes and healed.codes == []
    assert _final_cost(healed) < _final_cost(sick)
    assert healed.dev_error <= sick.dev_error


def _final_cost(result) -> float:
    """The last epoch's training cost; inf for a run that diverged before finishing one."""
    costs = result.history.get("cost") or [math.inf]
    return costs[-1] if math.isfinite(costs[-1]) else math.inf


def test_unnormalized_remedy_standardize():
    X, y = blobs(scales=[1e3, 1e-3, 1, 1])
    sick, healed = run(X, y, standardize=False, lr=1e-7), run(X, y, standardize=True)
    assert sick.codes[0] == "unnormalized_inputs" and healed.codes == []
    assert healed.dev_error < sick.dev_error


def test_majority_class_is_not_called_high_bias_and_class_weight_is_the_remedy():
    """Issue 12: a model that predicts the majority for every row is named as such, not 'high bias'."""
    X, y = noise(m=600, n=5, share=0.17)
    codes, d = run(X, y, lr=0.05, layers=(8,))[:2]
    assert codes == ["majority_class"] and "high_bias" not in codes
    assert "class_weight" in d.findings[0].remedy and "balanced accuracy" in d.findings[0].remedy


def test_majority_class_remedy_balanced_class_weights():
    """Two Gaussian clouds one σ apart, 10% positives: the unweighted model predicts the majority; weighted,
    it finds the minority (balanced accuracy up) and the finding is gone. The weighted model's goal is the
    balanced error, whose best value (threshold half-way between the means) is Φ(−1/2) ≈ 0.31: its
    human-level error."""
    rng = np.random.default_rng(12)
    y = (rng.random(2000) < 0.1).astype(int)
    X = rng.normal(size=(2000, 2))
    X[:, 0] += y
    kw = dict(layers=(8,), lr=0.05, epochs=30)
    sick = run(X, y, **kw)
    healed = run(X, y, **kw, class_weight="balanced", human_error=0.5 * (1 + math.erf(-0.5 / math.sqrt(2))))
    assert sick.codes == ["majority_class"] and healed.codes == []
    assert healed.balanced_accuracy > sick.balanced_accuracy + 0.1


def test_high_bias_remedy_bigger_network():
    X, y = xor()
    sick = run(X, y, layers=(), lr=0.1, epochs=40)
    healed = run(X, y, layers=(16, 16), optimizer="adam", lr=0.01, epochs=80)
    assert sick.codes == ["high_bias"] and healed.codes == []
    assert healed.dev_error < sick.dev_error - 0.2


def test_high_variance_remedy_l2_and_more_data():
    kw = dict(_MEMORISE, epochs=150, human_error=0.15, dev=0.5)
    sick = run(*xor(m=160, flip=0.15, seed=1), **kw)
    assert "high_variance" in sick.codes
    for healed in (run(*xor(m=160, flip=0.15, seed=1), **dict(kw, l2=0.3)),
                   run(*xor(m=3000, flip=0.15, seed=1), **dict(kw, epochs=20, batch_size=64))):
        assert healed.codes == []
        assert healed.dev_error < sick.dev_error
        assert healed.dev_error - healed.train_error < sick.dev_error - sick.train_error


@pytest.mark.parametrize("case", [0, 1])
def test_overfitting_remedy_early_stopping_keeps_the_named_epoch(case):
    data, data_kw, kw = PLANTED["overfitting"][case]
    X, y = data(**data_kw)
    sick = run(X, y, **kw)
    best = sick.diagnosis.findings[0].evidence["best_epoch"]
    healed = run(X, y, **kw, early_stopping=kw["epochs"])  # patience: the whole run, the global minimum
    assert "overfitting" not in healed.codes
    assert healed.final_dev_cost == pytest.approx(min(sick.history["val_cost"]))
    assert healed.final_dev_cost == pytest.approx(healed.history["val_cost"][best - 1])
    assert healed.final_dev_cost < sick.final_dev_cost
