"""How the command line's defaults for tables were chosen: cross-validation on the training rows only.

    python benchmarks/table_defaults_cv.py                  # writes benchmarks/TABLE_DEFAULTS.md
    python benchmarks/table_defaults_cv.py --src OTHER/src  # the same with another checkout's gradwise

Protocol. For each table of `benchmarks/tables.py`, its test rows (gradwise's split, seed 0, as there) are
set aside and never read. The other rows (train + dev there, 80%) are cut into 5 stratified folds
(scikit-learn's StratifiedKFold, shuffled, random_state=0). For each fold and each candidate, a CSV holds
the 4 other folds and the fold itself marked ``split=test``, and ``gradwise train --data FOLD.csv`` runs on
it exactly as a user would (it splits the 4 folds 75/25 into train/dev, fits the column plan on train,
stops early on dev); its test score is the fold's. The scikit-learn MLP pipeline of `benchmarks/tables.py`
(fit on the same 4 folds) is the reference. Reported: the mean over the 5 folds of accuracy and ROC AUC,
and the mean number of epochs trained.

The candidates are command-line flags added to the defaults ("" is the defaults as they stand); the column
plan's own decisions (which are code, not flags) are compared by running this script on two checkouts
(`--src`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CANDIDATES = ("", "--layers 20,10", "--layers 64,32", "--early-stopping 50 --epochs 300",
              "--early-stopping 30 --epochs 500", "--batch-size 32")


def folds(path: Path, target: str, k: int = 5):
    """(fold, raw rows, TableData, rows to fit, held-out rows) — never the benchmark's test rows."""
    from sklearn.model_selection import StratifiedKFold

    from gradwise.cli._common import split_indices
    from gradwise.data import load_table

    table = load_table(path, target=target)
    index = split_indices(table.y, table.is_test, seed=0)
    keep = np.sort(np.concatenate([index["train"], index["dev"]]))
    raw = pd.read_csv(path)
    for f, (a, b) in enumerate(StratifiedKFold(k, shuffle=True, random_state=0).split(keep, table.y[keep])):
        yield f, raw, table, keep[a], keep[b]


def run_gradwise(raw: pd.DataFrame, target: str, fit: np.ndarray, held: np.ndarray, flags: list[str],
                 work: Path, src: Path) -> tuple[float, float, int]:
    frame = raw.iloc[np.concatenate([fit, held])].copy()
    frame["split"] = ["train"] * len(fit) + ["test"] * len(held)
    frame.to_csv(work / "fold.csv", index=False)
    out = work / f"run{len(list(work.iterdir()))}"
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "gradwise", "train", "--data", str(work / "fold.csv"), "--target",
                           target, "--out", str(out), "--quiet", *flags], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics["test"]["accuracy"], metrics["test"]["roc_auc"], metrics["epochs_trained"]


def run_sklearn(table, fit: np.ndarray, held: np.ndarray) -> tuple[float, float, int]:
    from tables import _sklearn_models

    from gradwise.metrics import classification_metrics

    frame = table.frame.copy()
    for col in frame.columns:  # as benchmarks/tables.py gives them to scikit-learn
        if frame[col].dtype.kind not in "biuf":
            frame[col] = frame[col].astype(str).where(frame[col].notna(), None).astype(object)
    model = _sklearn_models(frame)["sklearn MLP (one-hot + impute + scale)"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame.iloc[fit], table.y[fit])
        m = classification_metrics(table.y[held], model.predict_proba(frame.iloc[held]))
    return m["accuracy"], m["roc_auc"], model[-1].n_iter_


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", default=str(HERE.parent / "src"), help="the gradwise source to run")
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES), help="flag sets to compare")
    parser.add_argument("--no-sklearn", action="store_true", help="leave out the scikit-learn reference")
    parser.add_argument("--out", default=str(HERE / "TABLE_DEFAULTS.md"), help="markdown report")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, args.src)
    from tables import real_tables

    lines = ["| table | candidate (flags added to the defaults) | accuracy | ROC AUC | epochs |",
             "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (path, target) in real_tables(work).items():
            rows = {c: [] for c in args.candidates}
            rows.update({} if args.no_sklearn else {"sklearn": []})
            for _, raw, table, fit, held in folds(path, target):
                for c in args.candidates:
                    runs = work / "runs"
                    runs.mkdir(exist_ok=True)
                    rows[c].append(run_gradwise(raw, target, fit, held, c.split(), runs, Path(args.src)))
                if not args.no_sklearn:
                    rows["sklearn"].append(run_sklearn(table, fit, held))
            for c, scores in rows.items():
                r = np.asarray(scores)
                label = "scikit-learn MLP pipeline (reference)" if c == "sklearn" else f"`{c or '(defaults)'}`"
                lines.append(f"| {name} | {label} | {r[:, 0].mean():.4f} | {r[:, 1].mean():.4f} | "
                             f"{r[:, 2].mean():.0f} |")
                print(lines[-1], flush=True)
    text = "\n".join(["# Table defaults: 5-fold cross-validation on the non-test rows", "",
                      f"`python benchmarks/table_defaults_cv.py` with gradwise from `{Path(args.src).name}` "
                      "(protocol: the module docstring). Means over the 5 folds.", "", *lines, ""])
    from gradwise._atomic import write_text

    write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
