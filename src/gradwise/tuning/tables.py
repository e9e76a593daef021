"""A user's table (CSV/TSV/Parquet) for a study: split its raw rows, fit the column plan on the training
split only, encode every split with it.

The dev and test rows never take part in fitting the plan (medians, category levels, which columns are
left out): they are encoded the way new rows will be, unseen categories included. The fitted plan goes
with the final models (``model.preprocessor``), so a tuned model predicts on raw rows.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Preprocessor, load_table, split
from ..data.tables import TABLE_SUFFIXES
from ..errors import DataWarning, GradwiseValueError
from .objective import TuningData

__all__ = ["is_table", "table_data", "frame_data"]


def is_table(source: object) -> bool:
    """A path to a CSV/TSV/Parquet file (read with a column plan), not a data set name or an .npz."""
    return isinstance(source, str | os.PathLike) and Path(source).suffix.lower() in TABLE_SUFFIXES


def _row_splits(y: np.ndarray, is_test: np.ndarray, dev_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Row indices of train/dev/test: rows marked test (a ``split`` column) are the test set and the rest
    is split `dev_fraction` to dev; without a split column, the seeds' rule (60/20/20). Stratified for
    classification, as `gw.split` is."""
    rows = np.arange(len(y))
    if is_test.any():
        keep = rows[~is_test]
        parts = split(keep.reshape(-1, 1), y[keep], ratios=(1.0 - dev_fraction, dev_fraction), seed=seed)
        test = rows[is_test]
    else:
        parts = split(rows.reshape(-1, 1), y, ratios=None, seed=seed)
        test = parts.X_test[:, 0]
    return {"train": parts.X_train[:, 0], "dev": parts.X_dev[:, 0], "test": test}


def table_data(path: str | os.PathLike, target: str | int | None, *, dev_fraction: float, seed: int,
               task: str | None = None) -> tuple[TuningData, np.ndarray, np.ndarray, dict[str, Any]]:
    """The train/dev splits of a table as :class:`TuningData`, its test rows, and what the final models need.

    Returns
    -------
    data : TuningData
        Encoded train (m_train, n_out) and dev (m_dev, n_out) splits; ``scaled_columns`` lists the plan's
        numeric outputs (the only ones a Standardizer scales: one-hot and indicator columns stay 0/1).
    X_test : ndarray of shape (m_test, n_out);  y_test : ndarray of shape (m_test,)
    info : dict
        ``class_names``, ``feature_names`` (the plan's outputs), ``name``, ``preprocessor`` (the plan fitted
        on the training rows), ``target`` (the column's name), ``source`` and ``notes`` (its DataWarnings:
        columns left out, unseen categories in dev/test).
    """
    table = load_table(path, target, task=task)
    index = _row_splits(table.y, table.is_test, dev_fraction, seed)
    plan, encoded, notes = _fit_and_encode({part: table.frame.iloc[rows] for part, rows in index.items()},
                                           table.source)
    data = TuningData(encoded["train"], table.y[index["train"]], encoded["dev"], table.y[index["dev"]], table.task,
                      table.n_classes, table.name, scaled_columns=np.asarray(plan.numeric_outputs(), dtype=np.int64))
    info = {"class_names": table.class_names, "feature_names": tuple(plan.get_feature_names_out()),
            "name": table.name, "preprocessor": plan, "target": table.target, "source": table.source,
            "notes": notes}
    return data, encoded["test"], table.y[index["test"]], info


def frame_data(frame: Any, y: np.ndarray, task: str, n_classes: int | None, class_names: tuple | None, *,
               frame_test: Any = None, y_test: np.ndarray | None = None, dev_fraction: float,
               seed: int) -> tuple[TuningData, np.ndarray, np.ndarray, dict[str, Any]]:
    """:func:`table_data` for a pandas DataFrame `frame` (m rows) and its encoded target `y` (m,).

    With `frame_test` and `y_test`, those are the test rows and `frame` is split `dev_fraction` to dev;
    without, `frame` is split by the seeds' rule (60/20/20). The column plan is fitted on the training rows.
    """
    if frame_test is not None and y_test is not None:
        parts = split(np.arange(len(y)).reshape(-1, 1), y, ratios=(1.0 - dev_fraction, dev_fraction), seed=seed)
        frames = {"train": frame.iloc[parts.X_train[:, 0]], "dev": frame.iloc[parts.X_dev[:, 0]], "test": frame_test}
        ys = {"train": parts.y_train, "dev": parts.y_dev, "test": np.asarray(y_test)}
    else:
        index = _row_splits(y, np.zeros(len(y), dtype=bool), dev_fraction, seed)
        frames = {part: frame.iloc[rows] for part, rows in index.items()}
        ys = {part: y[rows] for part, rows in index.items()}
    plan, encoded, notes = _fit_and_encode(frames, "X")
    data = TuningData(encoded["train"], ys["train"], encoded["dev"], ys["dev"], task, n_classes, "dataframe",
                      scaled_columns=np.asarray(plan.numeric_outputs(), dtype=np.int64))
    info = {"class_names": class_names, "feature_names": tuple(plan.get_feature_names_out()), "name": "dataframe",
            "preprocessor": plan, "notes": notes}
    return data, encoded["test"], ys["test"], info


def _fit_and_encode(frames: dict[str, Any], source: str) -> tuple[Preprocessor, dict[str, np.ndarray], list[str]]:
    """The column plan fitted on ``frames["train"]`` only, every frame encoded with it (float64, contiguous),
    and the DataWarnings raised on the way (columns left out, unseen categories)."""
    encoded: dict[str, np.ndarray] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        plan = Preprocessor(standardize=False).fit(frames["train"])
        width = len(plan.get_feature_names_out())
        if width == 0:
            raise GradwiseValueError(f"{source!r}: no column is left to learn from ({len(frames['train'])} "
                                     f"training rows): {'; '.join(plan.notes_)}")
        for part, rows in frames.items():
            encoded[part] = np.ascontiguousarray(plan.transform(rows, dtype=np.float64) if len(rows)
                                                 else np.empty((0, width)))
    notes = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    return plan, encoded, notes
