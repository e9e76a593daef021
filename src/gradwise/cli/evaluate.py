"""`gradwise evaluate`: cost and accuracy (or RMSE) of a saved model on a data set or a file.

A built-in data set is scored on its test set; a file on all of its rows (or on its test rows, when it has
a `split` column). Labels are matched to the model's classes by name, and CSV columns to its features by
name, so a file with the columns in another order still works.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..ensemble import Ensemble
from ..errors import DataWarning
from ..metrics import confusion_lines, metric_lines
from . import _common as common

EXAMPLE = """examples:
  gradwise evaluate --model runs/moons --dataset moons
  gradwise evaluate --model runs/moons/model.safetensors --data new_measurements.csv --target label
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score a saved model on a data set or a file",
        description="Score a saved model (a run directory or a .safetensors file) on a built-in data set's "
                    "test set or on a CSV/NPZ file. An ensemble (gradwise train --ensemble K) is scored on its "
                    "averaged probabilities, then member by member.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, metavar="RUN_DIR|FILE",
                   help="run directory or model.safetensors")
    common.add_data_flags(p)
    p.add_argument("--seed", type=common.non_negative_int, default=None, metavar="S",
                   help="seed of a generated data set (default: the seed the model was trained with)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = common.load_model(args.model)
    if model.preprocessor is not None and common.is_table(args.data):
        return _run_table(model, args)
    target = args.target
    if target is None and args.data is not None and args.data.lower().endswith(".csv"):
        target = model.metadata.get("target")  # the column the model was trained on
    seed = args.seed if args.seed is not None else model.metadata.get("seed", 0)
    ds = common.load_data(args.dataset, args.data, target, seed=seed)
    if args.data is not None and len(ds.y_test) == 0:
        X, y, part = ds.X_train, ds.y_train, "all rows"
    elif len(ds.y_test):
        X, y, part = ds.X_test, ds.y_test, "test set"
    else:
        X, y, part = ds.X_train, ds.y_train, "training set (the data set has no test set)"
    if (ds.task == "regression") != (model.loss == "mse"):
        kind = "regression" if model.loss == "mse" else "classification"
        raise common.GradwiseValueError(f"the model does {kind} but the data's target is {ds.task}")
    X = X[:, common.align_features(model, ds)]
    y = common.encode_labels(model, ds, y)
    X = common.check_features(model, X)
    _report(model, X, y, f"{ds.name}, {part}")
    return 0


def _report(model, X, y: np.ndarray, title: str) -> None:
    classes = model.classes_
    scores = common.score(model, X, y, classes)
    print(f"{title}:")
    print("  " + common.format_scores("eval", scores))
    for line in metric_lines(scores):
        print("  " + line)
    if "accuracy" in scores:
        print(f"  error {100 * scores['error']:.2f}%")
        for line in confusion_lines(scores["confusion_matrix"], classes):
            print("  " + line)
    if isinstance(model, Ensemble):  # the averaged prediction above; each member's on its own below
        for k, member in enumerate(model.members):
            print(f"  member {k}: " + common.format_scores("eval", common.score(member, X, y, classes)))


def _run_table(model, args: argparse.Namespace) -> int:
    """A model with a column plan scores raw rows: the plan picks its columns (others are ignored)."""
    import warnings


    metadata = model.metadata
    frame, y, part = common.table_rows(model, args.data, args.target or metadata.get("target"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        X = model.preprocessor.transform(frame, dtype=model.dtype)
    common.print_warnings("evaluate", [str(w.message) for w in caught if issubclass(w.category, DataWarning)])
    _report(model, X, y, f"{frame.attrs['source']}, {part}")
    return 0
