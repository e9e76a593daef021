"""Per-example weights for imbalanced data: `class_weight` and `sample_weight`, as scikit-learn and Keras
take them.

Example i's weight is w_i = sample_weight_i · class_weight[y_i]; the data term of the cost becomes the
weighted mean Σ_i w_i L_i / Σ_i w_i (`gradwise.losses`). "balanced" gives class k the weight
m / (K · count_k) over the training labels, scikit-learn's `compute_class_weight("balanced")`, so every
class weighs as much in J as if the classes were equally frequent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import GradwiseTypeError, GradwiseValueError


def class_weight_table(loss: str, y: np.ndarray, class_weight: Any) -> np.ndarray | None:
    """The weight of each class 0..K-1 from the training targets `y`: "balanced", a dict, or None.

    y : prepared targets, (m,) integer labels (softmax) or (m, 1) 0/1 floats (sigmoid)
    class_weight : None, "balanced" or {label: weight}; labels missing from the dict weigh 1
    """
    if class_weight is None:
        return None
    return _class_weights(class_weight, _labels(loss, y))


def example_weights(loss: str, y: np.ndarray, per_class: np.ndarray | None, sample_weight: Any = None
                    ) -> np.ndarray | None:
    """w of shape (m,) for the prepared targets `y`: sample_weight_i · per_class[y_i]; None if unweighted.

    sample_weight : None or array of shape (m,), finite, ≥ 0; the product must not be all zero
    """
    if per_class is None and sample_weight is None:
        return None
    m = y.shape[0]
    w = np.ones(m) if sample_weight is None else check_sample_weight(sample_weight, m)
    if per_class is not None:
        labels = _labels(loss, y)
        w = w * np.append(per_class, 1.0)[np.minimum(labels, per_class.shape[0])]  # unseen classes weigh 1
    if not w.sum() > 0:
        raise GradwiseValueError("the example weights (sample_weight × class_weight) are zero for every "
                                 "example: nothing to learn")
    return w


def check_sample_weight(sample_weight: Any, m: int) -> np.ndarray:
    """sample_weight as float64 of shape (m,), finite and ≥ 0, or a clear error."""
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise GradwiseTypeError(f"sample_weight must be an array of numbers, got {sample_weight!r:.60}") from None
    if sw.shape != (m,):
        raise GradwiseValueError(f"sample_weight must have shape ({m},), one weight per example, got {sw.shape}")
    bad = ~np.isfinite(sw) | (sw < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GradwiseValueError(f"sample_weight must be finite and >= 0, got {sw[i]} at row {i}")
    return sw


def _labels(loss: str, y: np.ndarray) -> np.ndarray:
    """Integer class labels 0..K-1 of the prepared targets."""
    if loss == "categorical_crossentropy":
        return y.astype(np.intp)
    if loss == "binary_crossentropy" and y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] > 0.5).astype(np.intp)
    raise GradwiseValueError(f"class_weight needs a classifier with one label per example (loss={loss!r}, "
                             f"targets of shape {y.shape}); use sample_weight")


def _class_weights(class_weight: Any, labels: np.ndarray) -> np.ndarray:
    """The weight of each class 0..max label, from "balanced" or a {label: weight} dict."""
    k = int(labels.max()) + 1
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise GradwiseValueError(f"class_weight must be 'balanced' or a dict {{label: weight}}, "
                                     f"got {class_weight!r}")
        counts = np.bincount(labels, minlength=k)
        present = counts > 0
        per_class = np.ones(k)
        per_class[present] = labels.shape[0] / (np.count_nonzero(present) * counts[present])
        return per_class
    if not isinstance(class_weight, Mapping):
        raise GradwiseTypeError(f"class_weight must be None, 'balanced' or a dict {{label: weight}}, "
                                f"got {type(class_weight).__name__}")
    per_class = np.ones(k)
    for label, weight in class_weight.items():
        if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= int(label) < k:
            raise GradwiseValueError(f"class_weight has label {label!r}; the labels are 0..{k - 1}")
        value = float(weight)
        if not np.isfinite(value) or value < 0:
            raise GradwiseValueError(f"class_weight[{label!r}] must be finite and >= 0, got {weight!r}")
        per_class[int(label)] = value
    return per_class
