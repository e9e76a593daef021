"""Pieces shared by the subcommands: flag types, loading data and models, mapping labels.

Flag types raise `argparse.ArgumentTypeError`, so a bad value is reported by argparse itself as one line
naming the flag (`gradwise train: error: argument --l2: must be >= 0, got -1`), exit code 2.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GradwiseValueError  # noqa: F401 - re-exported for the subcommands

if TYPE_CHECKING:
    from ..model import Sequential

# ------------------------------------------------------------------------------------ flag types


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def probability(text: str) -> float:
    """keep_prob: in (0, 1]."""
    value = _number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] (1 keeps every unit), got {text}")
    return value


def fraction(text: str) -> float:
    """An error rate: 0.05 or 5%."""
    raw = text.strip()
    percent = raw.endswith("%")
    value = _number(raw[:-1] if percent else raw)
    if percent:
        value /= 100
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1] such as 0.05 or 5%, got {text}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
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
                       help="a .csv file with a header row, or an .npz with X and y")
    if target:
        parser.add_argument("--target", metavar="COL",
                            help="CSV: the target column, by name or index (default: the last column)")


def file_digest(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _target_arg(target: str | None) -> str | int | None:
    if target is None:
        return None
    stripped = target.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    return target


def load_data(dataset: str | None, data: str | None, target: str | None, seed: int = 0):
    """A `Dataset` from a built-in name or a user's file (the data package does the checking)."""
    from .. import data as gwdata

    if data is not None:
        path = Path(data)
        if path.suffix.lower() not in (".csv", ".npz"):
            raise GradwiseValueError(f"--data must be a .csv or .npz file, got {data!r}")
        return gwdata.load_file(path, target=_target_arg(target))
    if target is not None:
        raise GradwiseValueError("--target applies to --data FILE.csv, not to built-in data sets")
    assert dataset is not None  # every caller gives --dataset or --data
    return gwdata.load(dataset, seed=seed)


def training_split(ds: Any, seed: int) -> dict[str, np.ndarray]:
    """Train/dev/test arrays: a data set with a test set has its training part split 75/25 into
    train/dev; one without (a user's file) is split by the seeds' rule (60/20/20, 98/1/1 past 1M)."""
    from ..data import split

    if len(ds.y_test):
        parts = split(ds.X_train, ds.y_train, ratios=(0.75, 0.25), seed=seed)
        X_test, y_test = ds.X_test, ds.y_test
    else:
        parts = split(ds.X_train, ds.y_train, ratios=None, seed=seed)
        X_test, y_test = parts.X_test, parts.y_test
    return {"X_train": parts.X_train, "y_train": parts.y_train, "X_dev": parts.X_dev, "y_dev": parts.y_dev,
            "X_test": X_test, "y_test": y_test}


# ---------------------------------------------------------------------------------------- models


def load_model(path: str) -> Sequential:
    from ..io import load

    return load(path)


def check_features(model: Sequential, X: np.ndarray) -> np.ndarray:
    """X as the model takes it: raw features (the model applies its own Standardizer), right count."""
    if X.shape[1] != model.input_dim:
        raise GradwiseValueError(
            f"the data has {X.shape[1]} features, but the model expects {model.input_dim}")
    return X


def align_features(model: Sequential, ds: Any) -> np.ndarray:
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


def encode_labels(model: Sequential, ds: Any, y: np.ndarray) -> np.ndarray:
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



def score(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """cost and accuracy/error (classification) or rmse (regression) on prepared inputs."""
    if len(y) == 0:
        return {}
    result = model.evaluate(X, y)
    if "accuracy" in result:
        result["error"] = 1.0 - result["accuracy"]
    result["examples"] = int(len(y))
    return result


def format_scores(name: str, s: dict) -> str:
    if not s:
        return f"{name:<6} (empty)"
    if "accuracy" in s:
        return (f"{name:<6} accuracy {100 * s['accuracy']:6.2f}%  cost {s['cost']:.4f}  "
                f"({s['examples']} examples)")
    return f"{name:<6} rmse {s['rmse']:.4g}  cost {s['cost']:.4f}  ({s['examples']} examples)"
