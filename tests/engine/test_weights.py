"""Class and sample weights: J's data term is Σ wᵢLᵢ / Σ wᵢ, checked against PyTorch's weighted losses
(float64) and by gradient checking through a real network; "balanced" is scikit-learn's rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.utils.class_weight import compute_class_weight

import gradwise as gw
from gradwise import losses
from gradwise.layers import CHECKING
from gradwise.weights import class_weight_table, example_weights


def _torch_grad(fn, Z):
    Zt = torch.tensor(Z, requires_grad=True)
    J = fn(Zt)
    J.backward()
    return float(J.detach()), Zt.grad.numpy()


def test_weighted_binary_crossentropy_equals_pytorch():
    rng = np.random.default_rng(0)
    Z, y, w = rng.standard_normal((9, 1)) * 3, rng.integers(0, 2, (9, 1)).astype(float), rng.uniform(0, 2, 9)
    J, dZ, A = losses.binary_crossentropy(Z, y, weights=w)
    wt = torch.tensor(w)[:, None]
    J_ref, dZ_ref = _torch_grad(
        lambda Zt: (F.binary_cross_entropy_with_logits(Zt, torch.tensor(y), reduction="none") * wt).sum()
        / wt.sum(), Z)
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(dZ, dZ_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(A, 1 / (1 + np.exp(-Z)), rtol=1e-12)


def test_class_weighted_cross_entropy_equals_pytorchs_weight_argument():
    """CrossEntropyLoss(weight=c) divides by Σ c[yᵢ]: exactly our weighted mean with wᵢ = c[yᵢ]."""
    rng = np.random.default_rng(1)
    Z, y = rng.standard_normal((12, 4)) * 2, rng.integers(0, 4, 12)
    c = np.array([0.5, 2.0, 1.0, 3.0])
    J, dZ, _ = losses.categorical_crossentropy(Z, y, weights=c[y])
    J_ref, dZ_ref = _torch_grad(lambda Zt: F.cross_entropy(Zt, torch.tensor(y), weight=torch.tensor(c)), Z)
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(dZ, dZ_ref, rtol=1e-12, atol=1e-15)


def test_weighted_mse_equals_pytorch():
    rng = np.random.default_rng(2)
    A, y, w = rng.standard_normal((7, 2)), rng.standard_normal((7, 2)), rng.uniform(0.1, 3, 7)
    J, dA, _ = losses.mse(A, y, weights=w)
    wt = torch.tensor(w)
    J_ref, dA_ref = _torch_grad(
        lambda At: (0.5 * ((At - torch.tensor(y)) ** 2).sum(dim=1) * wt).sum() / wt.sum(), A)
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(dA, dA_ref, rtol=1e-12, atol=1e-15)


def test_equal_weights_give_the_unweighted_cost_and_gradient():
    rng = np.random.default_rng(3)
    Z, y = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    J1, dZ1, _ = losses.categorical_crossentropy(Z, y)
    J2, dZ2, _ = losses.categorical_crossentropy(Z, y, weights=np.full(10, 2.5))
    assert J2 == pytest.approx(J1, rel=1e-13)
    np.testing.assert_allclose(dZ2, dZ1, rtol=1e-13)


@pytest.mark.parametrize("output, k", [("sigmoid", 1), ("softmax", 3)])
def test_weighted_gradient_passes_the_gradient_check_through_a_real_network(output, k):
    rng = np.random.default_rng(4)
    model = gw.mlp([4, 6, 5, k], output=output, batchnorm=(k == 3), l2=0.3, seed=0)
    X = rng.standard_normal((15, 4))
    y = model.prepare_targets(rng.integers(0, max(k, 2), 15), 15)
    per_class = class_weight_table(model.loss, y, "balanced")
    w = example_weights(model.loss, y, per_class, rng.uniform(0.2, 2, 15))

    def J(theta):
        saved = model.theta.copy()
        model.theta[...] = theta
        value = model.loss_and_gradient(X, y, CHECKING, w)[0]
        model.theta[...] = saved
        return value

    model.loss_and_gradient(X, y, CHECKING, w)
    report = gw.gradcheck_fn(J, model.theta.copy(), model.grad.copy())
    assert report.passed and report.difference < 1e-7, report.difference


def test_balanced_is_scikit_learns_rule():
    y = np.array([0] * 12 + [1] * 3 + [2] * 5)
    w = example_weights("categorical_crossentropy", y, class_weight_table("categorical_crossentropy", y, "balanced"))
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    np.testing.assert_allclose(w, expected[y])
    t = (y[:, None] == 1).astype(float)
    binary = example_weights("binary_crossentropy", t, class_weight_table("binary_crossentropy", t, {1: 4.0}))
    np.testing.assert_array_equal(binary, np.where(y == 1, 4.0, 1.0))


def _imbalanced(seed, m=600):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=m) < 0.1).astype(int)  # 10% positives
    X = rng.standard_normal((m, 2)) + 1.2 * y[:, None]  # overlapping classes
    return X, y


def test_balanced_class_weight_raises_the_balanced_accuracy_of_an_imbalanced_problem():
    from sklearn.metrics import balanced_accuracy_score

    X, y = _imbalanced(5)
    X_test, y_test = _imbalanced(6)
    scores = {}
    for cw in (None, "balanced"):
        model = gw.mlp([2, 8, 1], seed=0)
        model.fit(X, y, epochs=300, batch_size=64, optimizer="adam", learning_rate=0.01, class_weight=cw)
        scores[cw] = balanced_accuracy_score(y_test, model.predict(X_test))
    assert scores["balanced"] > scores[None] + 0.1, scores


def test_sample_weights_follow_their_rows_through_shuffling():
    """Zero weight on half the rows: training ignores them exactly, whatever the batches."""
    X, y = _imbalanced(7, m=200)
    keep = np.arange(200) % 2 == 0
    a = gw.mlp([2, 5, 1], seed=1)
    a.fit(X, y, epochs=5, batch_size=None, optimizer="adam", sample_weight=keep.astype(float))
    b = gw.mlp([2, 5, 1], seed=1)
    b.fit(X[keep], y[keep], epochs=5, batch_size=None, optimizer="adam")
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kwargs, words", [
    ({"class_weight": "auto"}, "class_weight must be 'balanced'"),
    ({"class_weight": [1, 2]}, "class_weight must be None"),
    ({"class_weight": {5: 1.0}}, "class_weight has label 5"),
    ({"class_weight": {1: -1.0}}, "must be finite and >= 0"),
    ({"sample_weight": np.ones(3)}, r"sample_weight must have shape \(40,\)"),
    ({"sample_weight": -np.ones(40)}, "sample_weight must be finite and >= 0"),
    ({"sample_weight": np.zeros(40)}, "zero for every example"),
    ({"sample_weight": "heavy"}, "sample_weight must be an array of numbers"),
])
def test_bad_weights_are_clear_errors(kwargs, words):
    X, y = _imbalanced(8, m=40)
    with pytest.raises((gw.GradwiseValueError, gw.GradwiseTypeError), match=words):
        gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=1, **kwargs)


def test_class_weight_needs_a_classifier():
    X, y = _imbalanced(9, m=30)
    with pytest.raises(gw.GradwiseValueError, match="class_weight needs a classifier"):
        gw.mlp([2, 3, 1], output="linear", seed=0).fit(X, y.astype(float), epochs=1, class_weight="balanced")
