"""`gradwise predict`: predictions of a saved model for the rows of a table (CSV/TSV/Parquet) or NPZ file.

A model trained on a table takes raw rows: its column plan picks the training columns by name and types
them as in training (a missing column is an error naming it; other columns, the target included, are
ignored). Older models match CSV columns to their features by name. Labels come out in the training data's
own class names. The output is a CSV with a `prediction` column and, for classifiers, one probability
column `p_<class>` per class.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

from .._atomic import write_text
from ..data import load_features, read_table
from ..errors import DataWarning
from . import _common as common

EXAMPLE = """examples:
  gradwise predict --model runs/moons --data new_points.csv --output predictions.csv
  gradwise predict --model model.safetensors --data X.npz          # CSV to stdout
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict", help="predict with a saved model",
        description="Predict labels (and class probabilities) or values for every row of a CSV/NPZ file. "
                    "An ensemble (gradwise train --ensemble K) predicts from its members' averaged "
                    "probabilities (averaged values for regression).",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, metavar="RUN_DIR|FILE",
                   help="run directory or model.safetensors")
    p.add_argument("--data", required=True, metavar="FILE", help=".csv with a header row, or .npz with X")
    p.add_argument("--output", metavar="FILE", help="write the predictions here (CSV) instead of stdout")
    p.set_defaults(func=run)


def _read_rows(model, path: Path):
    """A model with a column plan takes the table's raw rows (its columns by name; others ignored)."""
    import warnings


    if model.preprocessor is None or not common.is_table(str(path)):
        return common.check_features(model, _read_features(model, path))
    frame = read_table(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        X = model.preprocessor.transform(frame, dtype=model.dtype)
    common.print_warnings("predict", [str(w.message) for w in caught if issubclass(w.category, DataWarning)])
    return X


def _read_features(model, path: Path) -> np.ndarray:

    common.check_data_flags(str(path), None)
    if path.suffix.lower() == ".npz":
        X, _ = load_features(path)
        return X
    common.check_data_suffix(str(path))
    names = model.feature_names_in_
    header = [str(c) for c in read_table(path).columns]
    if names is None:
        return load_features(path)[0]
    names = [str(n) for n in names]
    if all(n in header for n in names):
        return load_features(path, columns=names)[0]
    generic = all(n == f"x{i + 1}" for i, n in enumerate(names))
    target = model.metadata.get("target")
    rest = [c for c in header if c.lower() != "split" and c != target]
    if generic and len(rest) == len(names):
        return load_features(path, columns=rest)[0]
    missing = [n for n in names if n not in header]
    raise common.GradwiseValueError(
        f"{str(path)!r} lacks the model's feature column(s) {missing[:5]}; its columns are {header[:10]}")


def run(args: argparse.Namespace) -> int:
    if args.output is not None and Path(args.output).is_dir():
        raise common.UsageError(f"--output {args.output!r} is a directory; give a file name such as "
                                f"{str(Path(args.output) / 'predictions.csv')!r}")
    model = common.load_model(args.model)
    X = _read_rows(model, Path(args.data))
    pred = np.asarray(model.predict(X))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if model.loss == "mse":
        values = pred.reshape(len(pred), -1)
        k = values.shape[1]
        writer.writerow(["prediction"] if k == 1 else [f"prediction{j + 1}" for j in range(k)])
        writer.writerows([[repr(float(v)) for v in row] for row in values])
    else:
        proba = model.predict_proba(X)
        classes = model.classes_
        names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(proba.shape[1])]
        writer.writerow(["prediction", *(f"p_{n}" for n in names)])
        for label, row in zip(pred.astype(np.int64), proba, strict=True):
            writer.writerow([names[label], *(f"{p:.6g}" for p in row)])
    text = buffer.getvalue()
    if args.output:

        write_text(args.output, text)
        print(f"wrote {len(pred)} predictions to {args.output}")
    else:
        sys.stdout.write(text)
    return 0
