"""Pieces shared by the subcommands: flag types, loading data and models, mapping labels.

Flag types raise `argparse.ArgumentTypeError`, so a bad value is reported by argparse itself as one line
naming the flag (`gradwise train: error: argument --l2: must be >= 0, got -1`), exit code 2. Mistakes
that only show once the flags are read together raise `UsageError`, and bad file contents a
`GradwiseValueError`: the command line reports both as the user's (see `gradwise.cli`).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import data as gwdata
from ..data import Preprocessor, read_table, split
from ..data.files import split_rows, target_name, target_values
from ..data.split import split_positions
from ..data.tables import release_memory
from ..ensemble import Ensemble
from ..errors import DataWarning, GradwiseError, GradwiseValueError  # noqa: F401 - re-exported for the subcommands
from ..io import load
from ..metrics import metric_lines, model_scores


class UsageError(GradwiseError):
    """A command-line mistake found after parsing (flags that contradict each other or the run)."""


if TYPE_CHECKING:
    from ..model import Sequential

# ------------------------------------------------------------------------------------ flag types


def number(text: str) -> float:
    """A finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _at_least(parse: Callable[[str], Any], low: int, *, strict: bool = False) -> Callable[[str], Any]:
    """A flag type: `parse(text)`, refused below `low` (and at `low` itself when `strict`)."""
    def check(text: str):
        value = parse(text)
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low}, got {text}")
        return value

    return check


def _unit_interval(*, closed: bool, note: str = "") -> Callable[[str], float]:
    """A flag type: a number in (0, 1] (`closed`) or (0, 1); `note` follows the interval in the message."""
    def check(text: str) -> float:
        value = number(text)
        if not (0 < value < 1 or (closed and value == 1)):
            raise argparse.ArgumentTypeError(f"must be in (0, 1{']' if closed else ')'}{note}, got {text}")
        return value

    return check


non_negative = _at_least(number, 0)
positive = _at_least(number, 0, strict=True)
non_negative_int = _at_least(_integer, 0)
positive_int = _at_least(_integer, 1)
#: keep_prob
probability = _unit_interval(closed=True, note=" (1 keeps every unit)")
#: a share of something that must keep a part and leave one, e.g. the dev split
open_fraction = _unit_interval(closed=False)
#: a share that may be everything, e.g. the best trials that shape the fine stage
share = _unit_interval(closed=True)


def fraction(text: str) -> float:
    """An error rate: 0.05 or 5%."""
    raw = text.strip()
    percent = raw.endswith("%")
    value = number(raw[:-1] if percent else raw)
    if percent:
        value /= 100
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1] such as 0.05 or 5%, got {text}")
    return value


def batch_size(text: str) -> int | str:
    """A mini-batch size, or "full" for batch gradient descent."""
    if text.strip().lower() in ("full", "none", "all"):
        return "full"
    return positive_int(text)


def layer_sizes(text: str) -> list[int]:
    """Hidden layer sizes "20,3" (empty string: no hidden layer, logistic/softmax regression)."""
    if text.strip() == "":
        return []
    sizes = []
    for part in text.split(","):
        part = part.strip()
        try:
            n = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected hidden layer sizes like 20,3 (positive integers separated by commas), got {text!r}"
            ) from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
        sizes.append(n)
    return sizes


# ------------------------------------------------------------------------------------------ data


def add_data_flags(parser: argparse.ArgumentParser, required: bool = True, target: bool = True) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--dataset", metavar="NAME", help="a built-in data set (list them: gradwise datasets)")
    group.add_argument("--data", metavar="FILE",
                       help="a table (.csv/.tsv with a header row, .parquet), or an .npz with X and y")
    if target:
        parser.add_argument("--target", metavar="COL",
                            help="tables: the target column, by name or index (default: the last column)")


def file_digest(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def target_arg(target: str | None) -> str | int | None:
    """--target as the data package takes it: a column index (`2`, `-1`) or a column name."""
    if target is None:
        return None
    stripped = target.strip()
    # isdecimal, not isdigit: int() refuses digits such as '²' that isdigit accepts
    if stripped.removeprefix("-").isdecimal():
        return int(stripped)
    return target


def check_data_flags(data: str | None, target: str | None) -> None:
    """Refuse a --data file of a kind gradwise does not read, and --target without --data."""
    if data is not None:
        check_data_suffix(data)
    if target is not None and data is None:
        raise UsageError("--target applies to --data FILE.csv, not to built-in data sets")


def load_data(dataset: str | None, data: str | None, target: str | None, seed: int = 0):
    """A `Dataset` from a built-in name or a user's file (the data package does the checking)."""

    check_data_flags(data, target)
    if data is not None:
        return gwdata.load_file(Path(data), target=target_arg(target))
    if dataset is None:
        raise UsageError("give --dataset NAME or --data FILE")
    return gwdata.load(dataset, seed=seed)


DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".npz")


def check_data_suffix(data: str) -> None:
    """Refuse a --data file that is not a table (.csv, .tsv, .parquet) or arrays (.npz)."""
    if Path(data).suffix.lower() not in DATA_SUFFIXES:
        raise UsageError(f"--data must be a .csv, .tsv, .parquet or .npz file, got {data!r}")


def is_table(data: str | None) -> bool:
    """A table (typed by a column plan) rather than an .npz of arrays."""
    return data is not None and Path(data).suffix.lower() in DATA_SUFFIXES[:-1]


def split_indices(y: np.ndarray, is_test: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Row indices of train/dev/test, by the rule of `training_split` (the same draws, so a numeric table
    puts the same rows in each split as its arrays did): rows marked test are the test set and the others
    split 75/25; without a split column, the seeds' rule (60/20/20).

    Each split's rows are in file order (training shuffles them anyway, every epoch): reading a column for a
    split is then a forward sweep through memory, not a random gather — on a million-row table that halves
    the cost of typing it (benchmarks/TABLES.md)."""

    if is_test.any():
        keep = np.flatnonzero(~is_test)  # increasing: keep[train] stays in file order
        train, dev, _ = split_positions(y[keep], ratios=(0.75, 0.25), seed=seed, in_file_order=True)
        train, dev, test = keep[train], keep[dev], np.flatnonzero(is_test)
    else:
        train, dev, test = split_positions(y, ratios=None, seed=seed, in_file_order=True)
    return {"train": train, "dev": dev, "test": test}


def table_parts(table: Any, seed: int, dtype: str = "float64"):
    """Split a table's rows, fit the column plan on the training rows only, encode every split (not yet
    standardized: the model's Standardizer does that, see `numeric_standardizer`).

    Returns
    -------
    parts : dict of arrays ``X_train`` (m_train, n_out), ``y_train`` … ``X_test``, ``y_test``
    plan : Preprocessor (fitted)
    notes : list of str — the DataWarnings raised on the way (columns left out, unseen categories, …)
    """
    import warnings


    index = split_indices(table.y, table.is_test, seed)
    parts: dict[str, np.ndarray] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        plan = Preprocessor(standardize=False)
        memo: dict = {}  # each text column factorized once, for the plan and for the encoding
        plan.fit(table.frame, rows=index["train"], memo=memo)
        if len(plan.get_feature_names_out()) == 0:
            raise GradwiseValueError(f"{table.source!r}: no column is left to learn from ({len(index['train'])} "
                                     f"training rows): {'; '.join(plan.notes_)}")
        # fitting leaves freed temporaries (parsed texts, Arrow buffers) held by the allocators: give them
        # back before the (m, n_out) matrix is allocated beside the frame, the peak of `gradwise train`
        release_memory()
        # one matrix with the rows in split order, each split a view of it: no copy of the frame per split
        encoded = plan.transform(table.frame, dtype=dtype, rows=np.concatenate(list(index.values())), memo=memo)
        del memo
        start = 0
        for name, rows in index.items():
            parts[f"X_{name}"] = encoded[start:start + len(rows)]
            parts[f"y_{name}"] = table.y[rows]
            start += len(rows)
    notes = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    return parts, plan, notes


def training_split(ds: Any, seed: int) -> dict[str, np.ndarray]:
    """Train/dev/test arrays: a data set with a test set has its training part split 75/25 into
    train/dev; one without (a user's file) is split by the seeds' rule (60/20/20, 98/1/1 past 1M)."""

    if len(ds.y_test):
        parts = split(ds.X_train, ds.y_train, ratios=(0.75, 0.25), seed=seed)
        X_test, y_test = ds.X_test, ds.y_test
    else:
        parts = split(ds.X_train, ds.y_train, ratios=None, seed=seed)
        X_test, y_test = parts.X_test, parts.y_test
    return {"X_train": parts.X_train, "y_train": parts.y_train, "X_dev": parts.X_dev, "y_dev": parts.y_dev,
            "X_test": X_test, "y_test": y_test}


# ---------------------------------------------------------------------------------------- models


def load_model(path: str) -> Sequential | Ensemble:
    """The model saved at `path` (a file or a run directory): one network, or an ensemble of them (which
    predicts, scores and averages like one model: `predict`, `predict_proba`, `evaluate`)."""
    return load(path)


def load_single_model(path: str, command: str) -> Sequential:
    """The one network saved at `path`; an ensemble is refused (for commands that look inside a network)."""
    model = load(path)
    if isinstance(model, Ensemble):
        raise UsageError(f"{path!r} holds an ensemble of {len(model)} networks; gradwise {command} examines "
                         f"one network at a time: train a member alone (gradwise train --seed S) to {command} it")
    return model


def table_rows(model: Any, data: str, target: str | None):
    """Raw rows of a table for a model with a column plan: (frame, y encoded as the model's classes, part).

    The rows marked ``test`` when the table has a ``split`` column, else all rows; the target column is
    read for its labels and otherwise ignored, as is any column the plan does not use."""

    check_data_suffix(data)
    frame = read_table(data)
    source = frame.attrs["source"]
    name = target_name([str(c) for c in frame.columns], target_arg(target), source)
    is_test, _ = split_rows(frame, name)
    part = "test rows" if is_test.any() else "all rows"
    if is_test.any():
        kept = frame[is_test]
        kept.attrs.update(frame.attrs)
        frame = kept
    values = target_values(frame, name)
    if model.loss == "mse":
        if values.dtype.kind not in "biuf":
            raise GradwiseValueError(f"the model does regression but target {name!r} of {source!r} holds text")
        return frame, values.astype(np.float64), part
    return frame, _label_indices(model, values, name, source), part


def _label_indices(model: Any, values: np.ndarray, name: str, source: str) -> np.ndarray:
    """Labels as the model's output indices, matched by their text as the training data named them
    (integral numbers as "3", booleans as "0"/"1", like `encode_target`)."""
    if values.dtype.kind in "biuf":
        numbers = values.astype(np.float64)
        if not (numbers == np.round(numbers)).all():
            raise GradwiseValueError(f"the model does classification but the data's target {name!r} in "
                                     f"{source!r} is regression (fractional values)")
        text = numbers.astype(np.int64).astype(str)
    else:
        text = values.astype(str)
    classes = model.classes_
    index = {str(c): i for i, c in enumerate(classes if classes is not None else range(model.output_dim))}
    unknown = sorted({t for t in np.unique(text) if t not in index})
    if unknown:
        raise GradwiseValueError(f"the data holds class label(s) {unknown[:5]} that the model never saw; "
                                 f"it knows {list(index)[:10]}")
    import pandas as pd

    return pd.Index(list(index)).get_indexer(pd.Index(text)).astype(np.int64)


def check_features(model: Any, X: np.ndarray) -> np.ndarray:
    """X as the model takes it: raw features (the model applies its own Standardizer), right count."""
    if X.shape[1] != model.input_dim:
        raise GradwiseValueError(
            f"the data has {X.shape[1]} features, but the model expects {model.input_dim}")
    return X


def align_features(model: Sequential | Ensemble, ds: Any) -> np.ndarray:
    """Permutation of the data set's columns into the model's feature order (same names, any order)."""
    names = model.feature_names_in_
    have = list(ds.feature_names)
    if names is None or list(names) == have:
        return np.arange(len(have))
    names = [str(n) for n in names]
    if sorted(names) == sorted(have):
        return np.array([have.index(n) for n in names])
    if len(have) == len(names) and all(n == f"x{i + 1}" for i, n in enumerate(names)):
        return np.arange(len(have))  # the model was trained on unnamed columns: take them in order
    missing = [n for n in names if n not in have]
    raise GradwiseValueError(
        f"the data lacks the model's feature column(s) {missing[:5]}{' …' if len(missing) > 5 else ''}: "
        f"the model was trained on {len(names)} features, the data has {len(have)}")


def encode_labels(model: Sequential | Ensemble, ds: Any, y: np.ndarray) -> np.ndarray:
    """A data set's encoded labels (0..K'-1 over *its* class names) re-encoded as the model's indices."""
    if model.loss == "mse":
        return y
    classes = model.classes_
    names = ds.class_names
    if classes is None or names is None:
        return y
    index = {str(c): i for i, c in enumerate(classes)}
    unknown = [n for n in names if n not in index]
    if unknown:
        raise GradwiseValueError(
            f"the data holds class label(s) {unknown[:5]} that the model never saw; "
            f"it knows {list(index)[:10]}")
    mapping = np.array([index[n] for n in names], dtype=np.int64)
    return mapping[np.asarray(y, dtype=np.int64)]



def score(model: Any, X: np.ndarray, y: np.ndarray, class_names: Any = None) -> dict[str, Any]:
    """cost and accuracy/error (classification) or rmse (regression) on prepared inputs, plus the metrics
    of :mod:`gradwise.metrics` (balanced accuracy, per-class F1, ROC AUC, log loss, confusion matrix; MAE, R²)."""

    return model_scores(model, X, y, class_names)


def print_warnings(command: str, notes: list[str]) -> None:
    """Each DataWarning as one line on stderr."""
    import sys

    for note in notes:
        print(f"gradwise {command}: warning: {' '.join(note.split())}", file=sys.stderr)


#: the table metrics of a score as lines for people (kept under this name for the subcommands that use it)
format_metrics = metric_lines


def format_scores(name: str, s: dict) -> str:
    if not s:
        return f"{name:<6} (empty)"
    if "accuracy" in s:
        return (f"{name:<6} accuracy {100 * s['accuracy']:6.2f}%  cost {s['cost']:.4f}  "
                f"({s['examples']} examples)")
    return f"{name:<6} rmse {s['rmse']:.4g}  cost {s['cost']:.4f}  ({s['examples']} examples)"
