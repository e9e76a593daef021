"""The metrics a table needs, computed by scikit-learn (not by hand): what `gradwise evaluate` prints, what a
run's ``metrics.json`` holds and what ``gradwise tune --metric`` may optimize.

Classification: accuracy, balanced accuracy, per-class precision / recall / F1 (and their macro mean), ROC
AUC (binary; macro one-vs-rest for more classes), log loss, confusion matrix. Regression: RMSE, MAE, R².
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import GradwiseValueError

__all__ = ["METRICS", "classification_metrics", "regression_metrics", "model_metrics", "model_scores",
           "metric_value", "metric_lines", "confusion_lines"]

#: metric name → (task kind, True when larger is better)
METRICS: dict[str, tuple[str, bool]] = {
    "accuracy": ("classification", True),
    "balanced_accuracy": ("classification", True),
    "f1_macro": ("classification", True),
    "roc_auc": ("classification", True),
    "log_loss": ("classification", False),
    "rmse": ("regression", False),
    "mae": ("regression", False),
    "r2": ("regression", True),
}


def classification_metrics(y: np.ndarray, proba: np.ndarray, class_names: Any = None) -> dict[str, Any]:
    """Scores of class probabilities against integer labels.

    Parameters
    ----------
    y : ndarray of shape (m,)
        True labels 0..K-1.
    proba : ndarray of shape (m, K)
        Predicted class probabilities (rows sum to 1); the prediction is the most probable class.
    class_names : sequence of str, length K, optional
        Names of the classes in ``per_class`` (default "0", "1", …).

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``roc_auc`` (None when y holds a single class),
        ``log_loss``, ``per_class`` ({name: {precision, recall, f1, support}}) and ``confusion_matrix``
        (K lists of K counts; rows: true class, columns: predicted).
    """
    from sklearn import metrics as skm

    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    # float32 rows sum to 1 only within ~1e-7, beyond scikit-learn's check (√eps of float64): it would warn
    proba = proba / proba.sum(axis=1, keepdims=True)
    k = proba.shape[1]
    labels = np.arange(k)
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in labels]
    pred = proba.argmax(axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": _balanced_accuracy(y, pred),
        "f1_macro": float(np.mean(f1[support > 0])) if support.any() else 0.0,
        "roc_auc": _roc_auc(y, proba),
        "log_loss": float(skm.log_loss(y, np.clip(proba, 1e-15, 1.0), labels=labels)),
        "per_class": {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for name, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)},
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=labels).tolist(),
    }


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():  # a class predicted but absent from y: sklearn warns, the mean is right
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y, pred))


def _roc_auc(y: np.ndarray, proba: np.ndarray) -> float | None:
    """Binary AUC of the positive class, or the macro one-vs-rest AUC over the classes present in y."""
    from sklearn.metrics import roc_auc_score

    present = np.unique(y)
    if len(present) < 2:
        return None  # undefined: no negative (or positive) example to rank against
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    aucs = [roc_auc_score(y == c, proba[:, c]) for c in present]  # one-vs-rest, as multi_class="ovr"
    return float(np.mean(aucs))


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float | None]:
    """``rmse``, ``mae`` and ``r2`` of predictions (m,) or (m, k) against targets of the same shape."""
    from sklearn import metrics as skm

    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else None,
    }


def model_metrics(model: Any, X: Any, y: np.ndarray, class_names: Any = None) -> dict[str, Any]:
    """The metrics of a model on (X, y): classification or regression, as the model's loss says."""
    if model.loss == "mse":
        return regression_metrics(y, model.predict(X))
    return classification_metrics(y, model.predict_proba(X), class_names)


def model_scores(model: Any, X: Any, y: np.ndarray, class_names: Any = None) -> dict[str, Any]:
    """Everything a run reports on (X, y): the model's ``cost`` and ``accuracy``/``error`` (or ``rmse``),
    ``examples``, and the metrics of :func:`model_metrics`; an empty dict when y is empty.

    X is what the model takes (raw rows or arrays: its own column plan and Standardizer apply); y (m,)
    holds integer labels 0..K-1 or regression targets.
    """
    if len(y) == 0:
        return {}
    result: dict[str, Any] = model.evaluate(X, y)
    if "accuracy" in result:
        result["error"] = 1.0 - result["accuracy"]
    result["examples"] = int(len(y))
    extra = model_metrics(model, X, y, class_names=class_names)
    result.update({k: v for k, v in extra.items() if k not in result})
    return result


def metric_value(name: str, scores: dict[str, Any]) -> float:
    """The number a study minimizes for `name`: the metric itself, negated when larger is better."""
    if name not in METRICS:
        raise GradwiseValueError(f"metric must be one of {list(METRICS)}, got {name!r}")
    value = scores.get(name)
    if value is None:
        raise GradwiseValueError(f"metric {name!r} is undefined here (e.g. ROC AUC with one class in the dev set)")
    return -float(value) if METRICS[name][1] else float(value)


def metric_lines(s: dict[str, Any]) -> list[str]:
    """The table metrics of one score dict, a few lines for people (the full set is in metrics.json):
    balanced accuracy, ROC AUC, log loss and macro F1, then precision / recall / F1 of each class (up to
    12); or RMSE, MAE and R²."""
    if not s:
        return []
    if "rmse" in s and "accuracy" not in s:
        r2 = "n/a" if s.get("r2") is None else f"{s['r2']:.4f}"
        return [f"rmse {s['rmse']:.4g}  mae {s['mae']:.4g}  r2 {r2}"]
    auc = "n/a" if s.get("roc_auc") is None else f"{s['roc_auc']:.4f}"
    lines = [f"balanced accuracy {s['balanced_accuracy']:.4f}  roc auc {auc}  log loss {s['log_loss']:.4f}  "
             f"macro f1 {s['f1_macro']:.4f}"]
    for name, c in list(s.get("per_class", {}).items())[:12]:
        lines.append(f"  {name:>12}: precision {c['precision']:.3f}  recall {c['recall']:.3f}  "
                     f"f1 {c['f1']:.3f}  ({c['support']})")
    return lines


def confusion_lines(matrix: list[list[int]], classes: Any = None) -> list[str]:
    """A confusion matrix (K × K counts; rows: true class, columns: predicted) as aligned text lines, with
    the class names as headers; nothing past 12 classes (too wide to read)."""
    k = len(matrix)
    if k == 0 or k > 12:
        return []
    names = [str(c) for c in classes] if classes is not None and len(classes) == k else [str(i) for i in range(k)]
    width = max(6, *(len(n) for n in names)) + 1
    lines = ["confusion matrix (rows: true, columns: predicted):",
             " " * width + "".join(f"{n:>{width}}" for n in names)]
    lines.extend(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row)
                 for name, row in zip(names, matrix, strict=True))
    return lines
