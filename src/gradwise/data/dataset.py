"""`Dataset`: a train/test pair of arrays with its metadata, what every loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GradwiseValueError

TASKS = ("binary", "multiclass", "regression")


class NetworkSizes:
    """The input and output widths of a network for some training data and its task (a mixin of
    `Dataset` and the tuning splits)."""

    X_train: np.ndarray
    task: str
    n_classes: int | None

    @property
    def n_features(self) -> int:
        """n_x, the number of input features."""
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Units of the output layer: 1 (sigmoid) for binary, K (softmax) for multiclass, 1 for regression."""
        if self.task != "multiclass":
            return 1
        if self.n_classes is None:
            raise GradwiseValueError("a multiclass task needs n_classes, got None")
        return int(self.n_classes)


@dataclass(frozen=True, eq=False, repr=False)
class Dataset(NetworkSizes):
    """A train/test data set with its metadata.

    Attributes
    ----------
    X_train : ndarray of shape (m_train, n_x), float64
    y_train : ndarray of shape (m_train,)
        int64 labels in ``0..n_classes-1`` for classification, float64 targets for regression.
    X_test : ndarray of shape (m_test, n_x), float64
        Possibly empty, shape (0, n_x) (a file without a ``split`` column, the course's moons).
    y_test : ndarray of shape (m_test,)
    name : str
    task : {"binary", "multiclass", "regression"}
    n_classes : int or None
        K for classification, None for regression.
    feature_names : tuple of str, length n_x
    class_names : tuple of str (length K) or None
        The original label of each encoded class: ``class_names[y]`` names the label ``y``.
    description : str
        One line: what the data is and where it comes from.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str
    task: str
    n_classes: int | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    description: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise GradwiseValueError(f"task must be one of {list(TASKS)}, got {self.task!r}")
        for X, y, part in ((self.X_train, self.y_train, "train"), (self.X_test, self.y_test, "test")):
            if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
                raise GradwiseValueError(
                    f"{part} arrays must have shapes (m, n_x) and (m,), got {X.shape} and {y.shape}"
                )
        if self.X_test.shape[1] != self.X_train.shape[1]:
            raise GradwiseValueError(
                f"train and test have different feature counts: "
                f"{self.X_train.shape[1]} and {self.X_test.shape[1]}"
            )
        if len(self.feature_names) != self.X_train.shape[1]:
            raise GradwiseValueError(
                f"{len(self.feature_names)} feature names for {self.X_train.shape[1]} features"
            )

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    def __repr__(self) -> str:
        classes = f", n_classes={self.n_classes}" if self.n_classes is not None else ""
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}{classes}, X_train={self.X_train.shape}, "
            f"X_test={self.X_test.shape})"
        )
