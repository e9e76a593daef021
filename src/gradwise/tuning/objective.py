"""One trial: a configuration of hyperparameters → a network trained on the training split, scored on dev.

The objective never sees a test set: :class:`TuningData` holds only the training and dev splits (worker
processes receive exactly these arrays), and the test set is used once, after the study, by
:func:`gradwise.tuning.study.tune` on the retrained best configuration.

Scores
    By default the study minimizes the **dev error** ``1 − accuracy`` (classification) or the dev RMSE
    (regression), and each epoch reports the **dev cost without the regularization term** to Optuna
    (``trial.report``); the pruner stops trials whose cost is hopeless next to the other trials' at the
    same epoch (``trial.should_prune``). The penalty ``λ/(2m)·Σ‖W‖²`` is left out on purpose: it would
    make every strongly regularized trial look worse than it predicts and get it pruned for its λ, not its
    error. With a `metric` (any of :data:`TUNE_METRICS`: ``balanced_accuracy``, ``f1_macro``, ``roc_auc``,
    ``log_loss``, ``mae``, ``r2``, …) the study minimizes that metric on dev — negated when larger is
    better — and prunes on its per-epoch value too.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import optim
from .._atomic import atomic_open
from ..callbacks import Callback
from ..data import Standardizer, augment
from ..data.dataset import NetworkSizes
from ..errors import GradwiseValueError
from ..metrics import METRICS, metric_value, model_metrics
from ..model import mlp
from ..optim import InverseTimeDecay

if TYPE_CHECKING:
    from ..model import Sequential

__all__ = ["TuningData", "build_model", "train_config", "DevMonitor", "dev_scores", "objective_value",
           "TUNE_METRICS", "check_metric", "metric_score"]

OUTPUTS = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
#: what a study may optimize: metric name → (task kind, True when larger is better); "cost" is the dev
#: cost without the regularization term, for either kind of task
TUNE_METRICS: dict[str, tuple[str, bool]] = {"cost": ("any", False), **METRICS}


def check_metric(metric: object, task: str) -> str | None:
    """`metric` (None: the default objective) checked against the names and the task of the data."""
    if metric is None:
        return None
    if not isinstance(metric, str) or metric not in TUNE_METRICS:
        raise GradwiseValueError(f"metric must be one of {', '.join(TUNE_METRICS)}; got {metric!r}")
    kind = TUNE_METRICS[metric][0]
    regression = task == "regression"
    if kind != "any" and (kind == "regression") != regression:
        fitting = [n for n, (k, _) in TUNE_METRICS.items() if k in ("any", "regression" if regression
                                                                    else "classification")]
        raise GradwiseValueError(f"metric {metric!r} is for {kind}, but the data's task is {task}; choose one "
                                 f"of {', '.join(fitting)}")
    return metric


def metric_score(value: float, metric: str | None, task: str) -> tuple[str, float]:
    """(name, score) of an objective value for people: the dev accuracy, RMSE or the chosen metric,
    with its sign undone (a larger-is-better metric is minimized as its negative)."""
    if metric is None:
        return ("accuracy", 1.0 - value) if task != "regression" else ("rmse", value)
    return metric, (-value if TUNE_METRICS[metric][1] else value)


@dataclass(frozen=True, eq=False)
class TuningData(NetworkSizes):
    """The two splits a study may look at, with what the network needs to know about the task.

    Attributes
    ----------
    X_train : ndarray of shape (m_train, n_x);  y_train : ndarray of shape (m_train,)
    X_dev : ndarray of shape (m_dev, n_x);  y_dev : ndarray of shape (m_dev,)
    task : {"binary", "multiclass", "regression"}
    n_classes : int or None
    name : str
        Where the data comes from (a data set name or file), for reports.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    task: str
    n_classes: int | None
    name: str = "data"
    #: the columns a Standardizer scales (a table's numeric columns); None: all of them
    scaled_columns: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.task not in OUTPUTS:
            raise GradwiseValueError(f"task must be one of {list(OUTPUTS)}, got {self.task!r}")
        for X, y, part in ((self.X_train, self.y_train, "train"), (self.X_dev, self.y_dev, "dev")):
            if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
                raise GradwiseValueError(
                    f"the {part} split must be non-empty with shapes (m, n_x) and (m,), got {X.shape} and "
                    f"{y.shape}")
        if self.X_dev.shape[1] != self.X_train.shape[1]:
            raise GradwiseValueError("train and dev splits have different numbers of features")

    def fingerprint(self) -> str:
        """SHA-256 of the four arrays (shapes, dtypes, bytes) and the scaled columns: every worker of a study
        must agree on it."""
        digest = hashlib.sha256(self.task.encode())
        for arr in (self.X_train, self.y_train, self.X_dev, self.y_dev):
            arr = np.ascontiguousarray(arr)
            digest.update(f"{arr.dtype.str}{arr.shape}".encode())
            digest.update(arr.tobytes())
        if self.scaled_columns is not None:  # what the Standardizer scales changes every trial
            digest.update(b"scaled" + np.asarray(self.scaled_columns, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def save(self, path: str | Path) -> None:
        """Write the splits to an ``.npz`` (atomically) for worker processes."""

        scaled = self.scaled_columns is not None  # None (scale every column) differs from no column
        meta = np.array([self.task, self.name, "" if self.n_classes is None else str(self.n_classes),
                         "scaled" if scaled else ""])
        columns = np.asarray(self.scaled_columns if scaled else [], dtype=np.int64)
        with atomic_open(path, "wb") as handle:
            np.savez(handle, X_train=self.X_train, y_train=self.y_train, X_dev=self.X_dev, y_dev=self.y_dev,
                     meta=meta, scaled_columns=columns)

    @classmethod
    def load(cls, path: str | Path) -> TuningData:
        with np.load(path, allow_pickle=False) as f:
            task, name, n_classes, scaled_flag = (str(v) for v in f["meta"])
            scaled = f["scaled_columns"] if scaled_flag else None
            return cls(f["X_train"], f["y_train"], f["X_dev"], f["y_dev"], task,
                       int(n_classes) if n_classes else None, name, scaled)


# ------------------------------------------------------------------------------------ building


def build_model(config: dict[str, Any], n_features: int, task: str, n_outputs: int, *, seed: int,
                dtype: str = "float64"):
    """The network of a configuration: ``layers`` hidden layers of ``hidden_units`` units, each
    Dense → (BatchNorm) → activation → (Dropout), then the output layer of the task."""

    output = OUTPUTS[task]
    sizes = [n_features] + [int(config["hidden_units"])] * int(config["layers"]) + [n_outputs]
    return mlp(sizes, hidden=config["hidden"], output=output, init=config["init"],
               keep_prob=float(config["keep_prob"]) if config["layers"] else 1.0,
               batchnorm=bool(config["batchnorm"]), l2=float(config["l2"]),
               loss="mse" if output == "linear" else None, seed=seed, dtype=dtype)


def build_optimizer(config: dict[str, Any]):
    """Adam(β1, β2), Momentum(β = β1), RMSprop(β = β2) or GD, as the configuration says."""

    name = config["optimizer"]
    if name == "adam":
        return optim.Adam(beta1=config["beta1"], beta2=config["beta2"])
    if name == "momentum":
        return optim.Momentum(beta=config["beta1"])
    if name == "rmsprop":
        return optim.RMSprop(beta=config["beta2"])
    return optim.GD()


def build_augment(config: dict[str, Any]):
    """Random shifts (``shift`` samples) and Gaussian noise (``noise`` std) of the training batches."""

    parts: list[augment.Shift | augment.Noise] = []
    if int(config.get("shift", 0)) > 0:
        parts.append(augment.shift(int(config["shift"])))
    if float(config.get("noise", 0.0)) > 0:
        parts.append(augment.noise(float(config["noise"])))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else augment.compose(*parts)


def train_config(config: dict[str, Any], X: np.ndarray, y: np.ndarray, *, task: str, n_outputs: int,
                 seed: int, dtype: str = "float64", standardize: bool = True,
                 callbacks: list[Callback] | None = None, dev: tuple | None = None, trial=None,
                 metric: str | None = None, class_weight=None, scaled_columns: np.ndarray | None = None):
    """Train the network of `config` on (X, y).

    Parameters
    ----------
    config : dict
        A full configuration (every key of :data:`~gradwise.tuning.space.HYPERPARAMETERS`).
    X : ndarray of shape (m, n_x);  y : ndarray of shape (m,)
    standardize : bool
        Fit a :class:`~gradwise.data.Standardizer` on X (this training set only) and attach it to the
        model, so the saved model takes raw inputs.
    dev : (X_dev, y_dev), optional
        Raw dev arrays; they are standardized with the training μ, σ and handed to a :class:`DevMonitor`
        (built here, returned), which records the dev scores every epoch.
    trial : optuna.Trial, optional
        With `dev`: the monitor reports the dev cost (or `metric`) to it every epoch and prunes hopeless
        trials.
    metric : str, optional
        What the monitor scores and reports besides the cost (a name of :data:`TUNE_METRICS`).
    class_weight : None, "balanced" or {class index: weight}
        Passed to ``fit``: the data term of J becomes ``Σ wᵢ·Lᵢ / Σ wᵢ``.
    scaled_columns : ndarray of int, optional
        Standardize only these columns (a table's numeric ones; one-hot and indicator columns stay 0/1).

    Returns
    -------
    model, history, monitor (None without `dev`)
    """

    model = build_model(config, X.shape[1], task, n_outputs, seed=seed, dtype=dtype)
    scaler = _standardizer(X, scaled_columns) if standardize else None
    Xs = scaler.transform(X) if scaler is not None else X
    callbacks = list(callbacks or [])
    monitor = None
    if dev is not None:
        Xd, yd = dev
        monitor = DevMonitor(scaler.transform(Xd) if scaler is not None else Xd, yd, trial=trial,
                             report_every=max(1, int(config["epochs"]) // 25), metric=metric)
        callbacks.append(monitor)
    decay = float(config["decay"])
    history = model.fit(
        Xs, y, epochs=int(config["epochs"]), batch_size=int(config["batch_size"]),
        optimizer=build_optimizer(config), learning_rate=float(config["learning_rate"]),
        schedule=InverseTimeDecay(decay) if decay > 0 else None, augment=build_augment(config),
        callbacks=callbacks, class_weight=class_weight, verbose=0)
    model.standardizer = scaler
    return model, history, monitor


def _standardizer(X: np.ndarray, columns: np.ndarray | None) -> Standardizer:
    """μ, σ of the training rows (m, n_x) for `columns` (None: all); the other columns get μ = 0, σ = 1."""
    if columns is None:
        return Standardizer().fit(X)
    mean, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    columns = np.asarray(columns, dtype=np.int64)
    if len(columns):
        fitted = Standardizer().fit(X[:, columns])
        mean[columns], scale[columns] = fitted.mean_, fitted.scale_
    return Standardizer.from_dict({"type": "Standardizer", "mean": mean.tolist(), "scale": scale.tolist()})


# ------------------------------------------------------------------------------------- scoring


def dev_scores(model: Sequential, X: np.ndarray, y: np.ndarray, *, prepared: bool = False) -> dict[str, float]:
    """Dev ``cost`` (data term only, no regularization), and ``accuracy`` or ``rmse``.

    `X` (m, n_x) must already be in the network's input space (standardized: the model's own
    Standardizer is *not* applied here); `prepared` says that `y` is already in the loss's form
    (``model.prepare_targets``), which the monitor does once instead of every epoch.
    """
    Xv = np.ascontiguousarray(X, dtype=model.dtype)
    t = y if prepared else model.prepare_targets(y, Xv.shape[0])
    return model.evaluate_prepared(Xv, t, regularized=False)


def objective_value(scores: dict[str, float], metric: str | None = None) -> float:
    """What the study minimizes: by default the dev error ``1 − accuracy``, or the dev RMSE for
    regression; with `metric`, that score (``cost``: the unregularized dev cost), negated when larger is
    better."""
    if metric is None:
        return 1.0 - scores["accuracy"] if "accuracy" in scores else scores["rmse"]
    value = float(scores["cost"]) if metric == "cost" else metric_value(metric, scores)
    if math.isnan(value):
        raise GradwiseValueError(f"metric {metric!r} is undefined on the dev split (e.g. ROC AUC with a single "
                                 f"class there); choose another metric")
    return value


def with_metric(scores: dict[str, float], model: Sequential, X: np.ndarray, y: np.ndarray,
                metric: str | None) -> dict[str, float]:
    """`scores` plus the scalar metrics of :mod:`gradwise.metrics` when `metric` needs them (an undefined
    one, such as ROC AUC with one class on dev, is NaN).

    X (m, n_x) in the network's input space, y (m,) the raw labels 0..K-1 (or targets)."""
    if metric is None or metric in scores:
        return scores
    extra = model_metrics(model, X, y)
    return {**scores, **{k: (math.nan if v is None else float(v)) for k, v in extra.items()
                         if v is None or isinstance(v, float)}}


class DevMonitor(Callback):
    """Scores the dev split after every epoch; with an Optuna `trial`, reports the dev cost — or, with a
    `metric`, that metric as the study minimizes it (:func:`objective_value`) — and prunes.

    Attributes
    ----------
    scores : list of dict
        One :func:`dev_scores` result per epoch, with the scalar metrics of :mod:`gradwise.metrics` when a
        `metric` is chosen.
    """

    def __init__(self, X_dev: np.ndarray, y_dev: np.ndarray, trial=None, report_every: int = 1,
                 metric: str | None = None):
        self.X_dev, self.y_dev, self.trial, self.metric = X_dev, y_dev, trial, metric
        self.report_every = max(1, int(report_every))
        self.scores: list[dict[str, float]] = []
        self._t: np.ndarray | None = None  # y_dev in the loss's form, from on_train_begin

    def on_train_begin(self, logs=None) -> None:
        model = self.model
        self._X = np.ascontiguousarray(self.X_dev, dtype=model.dtype)
        if not model.built:
            model.build(self._X.shape[1])
        self._t = model.prepare_targets(self.y_dev, self._X.shape[0], "y_dev")

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        import optuna

        # The model has no standardizer attached while it trains: X_dev is already standardized.
        assert self._t is not None  # set by on_train_begin
        scores = dev_scores(self.model, self._X, self._t, prepared=True)
        if not math.isfinite(scores["cost"]):
            self.scores.append(scores)
            if self.trial is None:
                return
            raise optuna.TrialPruned(f"the dev cost is {scores['cost']} at epoch {epoch + 1}")
        scores = with_metric(scores, self.model, self._X, self.y_dev, self.metric)
        self.scores.append(scores)
        if self.trial is None or (epoch + 1) % self.report_every:
            return  # each report is a write to a shared database: ~25 per trial are plenty to prune on
        # the default prunes on the dev cost (the error is too coarse early on); a chosen metric on itself
        value, shown = ((scores["cost"], "dev cost") if self.metric is None
                        else (objective_value(scores, self.metric), f"dev {self.metric} (as minimized)"))
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"pruned at epoch {epoch + 1}: {shown} {value:.4g} is worse than the other trials'")
