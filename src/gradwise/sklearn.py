"""scikit-learn estimators over the gradwise engine: `MLPClassifier` and `MLPRegressor`.

They follow scikit-learn's conventions (checked by `sklearn.utils.estimator_checks`): `__init__` only
stores its arguments, validation happens in `fit`, fitted attributes end in `_`, any class labels
(strings too) are accepted and mapped to 0..K−1. Binary problems get one sigmoid output unit (the
course's logistic output), multiclass a softmax. The knobs are the course's: `hidden_layer_sizes`,
`init`, `l2`, `keep_prob`, `batchnorm`, `optimizer`, `learning_rate`, `batch_size`, `epochs`, ….

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), epochs=50, random_state=0))
    clf.fit(X_train, y_train).score(X_test, y_test)

The fitted network is `model_` (a `gradwise.Sequential`: save it with `gw.save(est.model_, path)`).
Estimators pickle (joblib, `GridSearchCV(n_jobs=…)`) as scikit-learn expects; the network inside travels
as its named weight arrays and JSON description, the same state `gw.save` writes.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_choice, check_dtype, check_float, check_int
from .callbacks import Callback, EarlyStopping
from .data import Standardizer
from .errors import GradwiseTypeError, GradwiseValueError
from .initializers import NAMES as INITS
from .io import model_from_state, model_to_state
from .model import mlp
from .optim.optimizers import OPTIMIZERS

__all__ = ["MLPClassifier", "MLPRegressor"]

_HIDDEN = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")


def _n_outputs(model: Any) -> int:
    return [layer for layer in model.layers if hasattr(layer, "units")][-1].units


class _ValidationScore(Callback):
    """scikit-learn's `validation_scores_`: accuracy (classifier) or R² (regressor) on the held-out rows."""

    def __init__(self, X_val: np.ndarray, y_val: np.ndarray, output: str):
        self.X_val, self.y_val, self.output = X_val, y_val, output
        self.scores: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.output != "linear":
            self.scores.append(float(logs["val_accuracy"]))
            return
        from sklearn.metrics import r2_score

        predicted = np.asarray(self.model.forward(self.X_val), dtype=np.float64)
        self.scores.append(float(r2_score(self.y_val, predicted[:, 0] if self.y_val.ndim == 1 else predicted)))


class _BaseMLP(BaseEstimator):
    """Shared fitting logic; subclasses decide the output layer and the targets."""

    # fitted attributes (set by fit/partial_fit, absent before: scikit-learn's check_is_fitted looks for them)
    loss_curve_: list[float]
    n_iter_: int
    classes_: np.ndarray
    _y_ndim: int

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] | int = (100,),
        activation: str = "relu",
        init: str = "he",
        l2: float = 0.0,
        l1: float = 0.0,
        keep_prob: float = 1.0,
        batchnorm: bool = False,
        optimizer: str = "adam",
        learning_rate: float | None = None,
        batch_size: int | str | None = "auto",
        epochs: int = 200,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        standardize: bool = False,
        random_state: Any = None,
        dtype: str = "float64",
        verbose: int = 0,
        class_weight: str | dict | None = None,
        warm_start: bool = False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.l2 = l2
        self.l1 = l1
        self.keep_prob = keep_prob
        self.batchnorm = batchnorm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.standardize = standardize
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.class_weight = class_weight
        self.warm_start = warm_start

    # ------------------------------------------------------------------------------- validation
    def _hidden_sizes(self) -> list[int]:
        sizes: Any = self.hidden_layer_sizes  # whatever set_params stored: checked here
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = [sizes]
        if isinstance(sizes, str | bytes) or not hasattr(sizes, "__iter__"):
            raise GradwiseTypeError(f"hidden_layer_sizes must be a tuple of integers, got {sizes!r}")
        return [check_int(f"hidden_layer_sizes[{i}]", n, minimum=1) for i, n in enumerate(sizes)]

    def _check_params(self) -> dict:

        batch = self.batch_size
        if not (batch is None or batch == "auto"):
            batch = check_int("batch_size", batch, minimum=1)
        early = self.early_stopping
        if not isinstance(early, bool | np.bool_):
            raise GradwiseTypeError(f"early_stopping must be True or False, got {early!r}")
        return {
            "sizes": self._hidden_sizes(),
            "activation": check_choice("activation", self.activation, _HIDDEN),
            "init": check_choice("init", self.init, INITS),
            "l2": check_float("l2", self.l2, low=0.0),
            "l1": check_float("l1", self.l1, low=0.0),
            "keep_prob": check_float("keep_prob", self.keep_prob, low=0.0, high=1.0, low_open=True),
            "batchnorm": bool(self.batchnorm),
            "optimizer": check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS)),
            "learning_rate": None if self.learning_rate is None else check_float(
                "learning_rate", self.learning_rate, low=0.0, low_open=True),
            "batch_size": batch,
            "epochs": check_int("epochs", self.epochs, minimum=1),
            "early_stopping": bool(early),
            "validation_fraction": check_float("validation_fraction", self.validation_fraction, low=0.0,
                                               high=1.0, low_open=True, high_open=True),
            "patience": check_int("patience", self.patience, minimum=0),
            "dtype": check_dtype(self.dtype),
            "verbose": check_int("verbose", self.verbose, minimum=0),
        }

    # ------------------------------------------------------------------------------------- fit
    def _fit(self, X: np.ndarray, y: np.ndarray, output: str, n_out: int, stratify: np.ndarray | None,
             sample_weight: Any = None, class_weight: Any = None, epochs: int | None = None):
        """Train `model_` (a new one, or the fitted one with `warm_start`/`partial_fit`: `epochs` given)."""
        p = self._check_params()
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        model = self._model(X.shape[1], n_out, output, p, seed, keep=epochs is not None or bool(self.warm_start))
        validation, callbacks, score = None, [], None
        if p["early_stopping"] and epochs is None:
            from sklearn.model_selection import train_test_split

            arrays = (X, y) if sample_weight is None else (X, y, np.asarray(sample_weight))
            try:
                parts = train_test_split(*arrays, test_size=p["validation_fraction"], random_state=rs,
                                         stratify=stratify)
            except ValueError:  # a class too small to stratify: split without it
                parts = train_test_split(*arrays, test_size=p["validation_fraction"], random_state=rs)
            X, X_val, y, y_val = parts[:4]
            sample_weight = parts[4] if sample_weight is not None else None
            validation = (X_val, y_val)
            score = _ValidationScore(X_val, y_val, output)
            callbacks += [score, EarlyStopping(monitor="val_cost", patience=p["patience"], restore_best=True)]
        batch = p["batch_size"]
        if batch == "auto":
            batch = min(200, X.shape[0])
        history = model.fit(X, y, epochs=p["epochs"] if epochs is None else epochs, batch_size=batch,
                            optimizer=p["optimizer"], learning_rate=p["learning_rate"], validation_data=validation,
                            callbacks=callbacks, verbose=min(p["verbose"], 2), class_weight=class_weight,
                            sample_weight=sample_weight)
        self._record(model, history, score)
        return self

    def _model(self, n_in: int, n_out: int, output: str, p: dict, seed: int, keep: bool):
        """The fitted `model_` when `keep` and it has the same inputs and outputs; otherwise a new network."""
        model = getattr(self, "model_", None)
        if keep and model is not None and model.input_dim == n_in and _n_outputs(model) == n_out:
            return model
        model = mlp([n_in, *p["sizes"], n_out], hidden=p["activation"], output=output, init=p["init"],
                    keep_prob=p["keep_prob"], batchnorm=p["batchnorm"], l2=p["l2"], l1=p["l1"],
                    loss="mse" if output == "linear" else None, seed=seed, dtype=p["dtype"])
        if self.standardize:
            model.standardizer = Standardizer()  # fit by `fit` on the training rows only
        return model

    def _record(self, model: Any, history: Any, score: _ValidationScore | None) -> None:
        """The fitted attributes: scikit-learn's (`loss_curve_`, `validation_scores_`, …) and the history."""
        continuing = getattr(self, "model_", None) is model
        self.model_ = model
        self.history_ = history.to_dict()
        self.loss_curve_ = (list(self.loss_curve_) if continuing else []) + list(history["cost"])
        self.n_iter_ = (self.n_iter_ if continuing else 0) + len(history)
        if score is not None:
            self.validation_scores_ = score.scores  # scikit-learn's: accuracy or R² on the held-out rows
            self.best_validation_score_ = float(np.max(score.scores))
            self.validation_costs_ = list(history["val_cost"])
            self.best_validation_cost_ = float(np.min(history["val_cost"]))
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            model.feature_names_in_ = list(names)

    def _model_input(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    # ---------------------------------------------------------------------------------- pickle
    def __getstate__(self) -> dict:
        """The network travels as named arrays + its JSON description (what `gw.save` writes)."""
        state = dict(self.__dict__)
        model = state.pop("model_", None)
        if model is not None:

            state["_model_state"] = model_to_state(model)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        saved: tuple[dict[str, np.ndarray], dict] | None = state.pop("_model_state", None)
        self.__dict__.update(state)
        if saved is not None:

            self.model_ = model_from_state(*saved, source="a pickled estimator")


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A fully connected network classifier trained by the gradwise engine.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden layer.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid", "linear"}, default "relu"
    init : {"he", "xavier", "glorot", "random", "zeros"}, default "he"
    l2, l1 : float, default 0
        λ of the course's L2 (λ/(2m)·Σ‖W‖²) and L1 penalties.
    keep_prob : float in (0, 1], default 1
        Dropout keep probability of the hidden layers (inverted dropout).
    batchnorm : bool, default False
    optimizer : {"gd", "momentum", "rmsprop", "adam"}, default "adam"
    learning_rate : float, optional
        α; default the optimizer's (0.01 gd/momentum, 0.001 rmsprop/adam).
    batch_size : int, "auto" or None, default "auto"
        Mini-batch size; "auto" is min(200, m); None is full-batch gradient descent.
    epochs : int, default 200
    early_stopping : bool, default False
        Hold out `validation_fraction` of the training data (stratified) and stop when its cost has not
        improved for `patience` epochs, keeping the best weights.
    validation_fraction : float, default 0.1;  patience : int, default 10
    standardize : bool, default False
        Standardize the inputs with a gradwise Standardizer fit on the training rows (saved in `model_`).
    random_state : int, RandomState or None
    dtype : "float64" or "float32";  verbose : 0, 1 or 2
    class_weight : None, "balanced" or {label: weight}
        Weigh each class's examples in the cost (classifier only); "balanced" is m / (K · count_k).
    warm_start : bool, default False
        `fit` continues training the fitted network for `epochs` more epochs (same inputs and classes)
        instead of starting afresh. `partial_fit` always continues (one epoch per call).

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    model_ : gradwise.Sequential
    n_features_in_ : int;  feature_names_in_ : ndarray (when X has column names)
    history_ : dict of per-epoch lists of the last fit;  loss_curve_ : list of float (training cost per epoch,
    across warm-started fits and partial_fit calls);  n_iter_ : int
    validation_scores_ : list of float (with early_stopping: accuracy, or R² for the regressor, on the held-out
    rows each epoch, as scikit-learn);  best_validation_score_ : float
    validation_costs_ : list of float (the held-out cost J each epoch);  best_validation_cost_ : float
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on X (m, n_x) and labels y (m,) of any type, each example weighted by `sample_weight`
        (m,) and `class_weight` ("balanced" or {label: weight}) in the cost; returns self."""
        warm = bool(self.warm_start) and hasattr(self, "model_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not warm)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if warm and not np.array_equal(classes, self.classes_):
            raise GradwiseValueError(f"warm_start needs the classes of the previous fit, {self.classes_.tolist()}; "
                                     f"y holds {classes.tolist()}")
        self.classes_, encoded = classes, encoded.reshape(-1)
        output, n_out = self._output()
        self._fit(X, encoded, output, n_out, stratify=encoded, sample_weight=sample_weight,
                  class_weight=self._encoded_class_weight(), epochs=self.epochs if warm else None)
        self.model_.classes_ = self.classes_
        return self

    def _output(self) -> tuple[str, int]:
        k = len(self.classes_)
        if k < 2:
            raise GradwiseValueError(
                f"MLPClassifier needs at least 2 classes in y, got only one class: {self.classes_[0]!r}")
        return ("sigmoid", 1) if k == 2 else ("softmax", k)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> MLPClassifier:
        """One pass (one epoch) over (X, y), continuing from the previous calls; returns self.

        `classes` (every label y may ever hold) is required on the first call, as in scikit-learn, and
        must not change afterwards. Early stopping does not apply.
        """
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise GradwiseValueError("classes must be given on the first call to partial_fit "
                                     "(every label y may hold)")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise GradwiseValueError(f"classes={classes.tolist()} differs from the first call's "
                                         f"{self.classes_.tolist()}")
            self.classes_ = classes
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise GradwiseValueError(f"y holds label(s) {unknown.tolist()} not in classes {self.classes_.tolist()}")
        output, n_out = self._output()
        self._fit(X, np.searchsorted(self.classes_, y), output, n_out, stratify=None, sample_weight=sample_weight,
                  class_weight=self._encoded_class_weight(), epochs=1)
        self.model_.classes_ = self.classes_
        return self

    def _encoded_class_weight(self) -> str | dict | None:
        """`class_weight` with the user's labels turned into the encoded classes 0..K-1."""
        cw = self.class_weight
        if cw is None or isinstance(cw, str):
            return cw
        if not isinstance(cw, dict):
            raise GradwiseTypeError(f"class_weight must be None, 'balanced' or a dict {{label: weight}}, "
                                    f"got {type(cw).__name__}")
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        unknown = [label for label in cw if label not in index]
        if unknown:
            raise GradwiseValueError(f"class_weight names label(s) {unknown} that y does not hold; "
                                     f"the labels are {list(index)}")
        return {index[label]: weight for label, weight in cw.items()}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (m, K), columns in the order of `classes_`."""
        X = self._model_input(X)
        return self.model_.predict_proba(X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Labels (m,) from `classes_`: the most probable class (sigmoid output: A > 0.5)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A fully connected network regressor (linear output, the course's ½·MSE cost).

    Same parameters as `MLPClassifier`. `y` may have shape (m,) or (m, k) (k outputs).

    Attributes
    ----------
    model_, n_features_in_, history_, loss_curve_, n_iter_ : as for `MLPClassifier`
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on X (m, n_x) and targets y (m,) or (m, k), each example weighted by `sample_weight` (m,)
        in the cost; returns self."""
        if self.class_weight is not None:
            raise GradwiseValueError(f"class_weight is for classifiers, got {self.class_weight!r} on a regressor; "
                                     f"use sample_weight")
        warm = bool(self.warm_start) and hasattr(self, "model_")
        return self._fit_regression(X, y, sample_weight, self.epochs if warm else None)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One pass (one epoch) over (X, y), continuing from the previous calls; returns self."""
        return self._fit_regression(X, y, sample_weight, 1)

    def _fit_regression(self, X: Any, y: Any, sample_weight: Any, epochs: int | None) -> MLPRegressor:
        continuing = epochs is not None and hasattr(self, "model_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True, multi_output=True,
                             reset=not continuing)
        y = np.asarray(y, dtype=np.float64)
        if continuing and y.ndim != self._y_ndim:
            raise GradwiseValueError(f"y has {y.ndim} dimension(s); the fitted model was trained on {self._y_ndim}")
        self._y_ndim = y.ndim
        n_out = 1 if y.ndim == 1 else y.shape[1]
        return self._fit(X, y, "linear", n_out, stratify=None, sample_weight=sample_weight, epochs=epochs)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shape (m,) (or (m, k) if fit on (m, k) targets)."""
        X = self._model_input(X)
        A = np.asarray(self.model_.forward(X), dtype=np.float64)
        return A[:, 0] if self._y_ndim == 1 else A

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
