"""Real tables: gradwise (the command line, default settings) against scikit-learn on the same splits.

    python benchmarks/tables.py            # the four tables; prints one table each, writes benchmarks/TABLES.md
    python benchmarks/tables.py --scale    # also the 1,000,000-row × 30-column check (a few minutes)
    python benchmarks/tables.py --scale-only   # only that check, printed (TABLES.md is not rewritten)

Tables (each ships inside an installable package; nothing is downloaded):
penguins (palmerpenguins: species from measurements, island, sex; gaps), penguins_raw (the raw table: ids,
constants, free-text comments, yes/no, dates), cars (vega_datasets: origin from the car's figures; gaps and
a name column), seattle_weather (vega_datasets: the day's weather, five imbalanced classes).

Held-out checks, tables that were not looked at when the defaults for tables were chosen (by
cross-validation on the four tables' non-test rows: benchmarks/table_defaults_cv.py): breast_cancer and
wine (scikit-learn's load_breast_cancer / load_wine as DataFrames: numbers only), barley (vega_datasets:
the site of a plot from its yield, variety and year; a category and six classes). Same protocol.

The histogram gradient boosting takes categories natively and leaves out text columns with more than 255
distinct values (its limit). Splits: gradwise's own rule (stratified 60/20/20, seed 0). gradwise trains on
the training split and stops early on the dev split; the scikit-learn models (default settings,
random_state=0) train on train + dev, since they have no use for a separate dev split. Everything is
scored once on the test split. Times are wall-clock: gradwise's includes starting the command
(interpreter and imports, about a second).

--scale: a generated mixed table (20 numeric columns, 5 of them with 5% gaps, 6 categories, 2 yes/no
columns, an id, a binary target) as CSV and Parquet. Reading + typing it (read_table, the target, the
column plan fitted on the training split and applied to every split) is timed beside `pandas.read_csv`
alone on the same file (wall-clock and the process's CPU time, the faster of two interleaved runs), and
`gradwise train --epochs 1 --dtype float32` runs on it with its peak memory (ru_maxrss of the process)
compared with the float32 design matrix.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

from gradwise.cli._common import split_indices  # noqa: E402
from gradwise.data import load_table  # noqa: E402
from gradwise.metrics import classification_metrics  # noqa: E402


def real_tables(folder: Path) -> dict[str, tuple[Path, str]]:
    """Write the four tables as CSV files into `folder`: name → (path, target column)."""
    import palmerpenguins
    from vega_datasets import data as vega

    base = Path(palmerpenguins.__file__).parent / "data"
    tables = {"penguins": (base / "penguins.csv", "species"), "penguins_raw": (base / "penguins-raw.csv", "Species")}
    cars = vega.cars()
    cars["Year"] = cars["Year"].dt.year
    cars.to_csv(folder / "cars.csv", index=False)
    tables["cars"] = (folder / "cars.csv", "Origin")
    weather = Path(vega.seattle_weather.filepath)
    tables["seattle_weather"] = (weather, "weather")
    return tables


def held_out_tables(folder: Path) -> dict[str, tuple[Path, str]]:
    """Write the held-out tables as CSV files into `folder`: name → (path, target column)."""
    from sklearn.datasets import load_breast_cancer, load_wine
    from vega_datasets import data as vega

    tables = {}
    for name, loader in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        bunch = loader(as_frame=True)
        frame = bunch.frame.copy()
        frame["target"] = np.asarray(bunch.target_names)[bunch.target]
        frame.to_csv(folder / f"{name}.csv", index=False)
        tables[name] = (folder / f"{name}.csv", "target")
    vega.barley().to_csv(folder / "barley.csv", index=False)
    tables["barley"] = (folder / "barley.csv", "site")
    return tables


def _gradwise(path: Path, target: str, out: Path) -> tuple[dict, float]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gradwise", "train", "--data", str(path), "--target", target,
                           "--out", str(out), "--quiet"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(done.stderr)
    return json.loads((out / "metrics.json").read_text())["test"], seconds


def _sklearn_models(frame: pd.DataFrame) -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in frame.columns if frame[c].dtype.kind in "biuf"]
    other = [c for c in frame.columns if c not in numeric]
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         other)])
    return {"sklearn MLP (one-hot + impute + scale)": make_pipeline(prep, MLPClassifier(random_state=0)),
            "sklearn HistGradientBoosting": HistGradientBoostingClassifier(categorical_features="from_dtype",
                                                                           random_state=0)}


def compare(name: str, path: Path, target: str, work: Path) -> list[dict]:
    table = load_table(path, target=target)
    index = split_indices(table.y, table.is_test, seed=0)
    fit_rows = np.concatenate([index["train"], index["dev"]])
    test_rows = index["test"]
    rows = []
    scores, seconds = _gradwise(path, target, work / name)
    rows.append({"model": "gradwise (CLI defaults)", "accuracy": scores["accuracy"],
                 "balanced_accuracy": scores["balanced_accuracy"], "roc_auc": scores["roc_auc"], "seconds": seconds})
    frame = table.frame.copy()
    for col in frame.columns:
        if frame[col].dtype.kind not in "biuf":
            frame[col] = frame[col].astype(str).where(frame[col].notna(), None).astype(object)
    hgb_frame = frame.copy()
    for col in list(hgb_frame.columns):
        if hgb_frame[col].dtype.kind not in "biuf":
            if hgb_frame[col].nunique() > 255:  # beyond its native categorical support: left out
                hgb_frame = hgb_frame.drop(columns=[col])
            else:
                hgb_frame[col] = hgb_frame[col].astype("category")
    for label, model in _sklearn_models(frame).items():
        X = hgb_frame if "HistGradient" in label else frame
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the MLP's ConvergenceWarning at its default max_iter
            model.fit(X.iloc[fit_rows], table.y[fit_rows])
            proba = model.predict_proba(X.iloc[test_rows])
        seconds = time.perf_counter() - start
        m = classification_metrics(table.y[test_rows], proba)
        rows.append({"model": label, "accuracy": m["accuracy"], "balanced_accuracy": m["balanced_accuracy"],
                     "roc_auc": m["roc_auc"], "seconds": seconds})
    sizes = {k: len(v) for k, v in index.items()}
    print(f"\n{name} ({path.name}, target {target!r}, {table.n_classes} classes, train/dev/test "
          f"{sizes['train']}/{sizes['dev']}/{sizes['test']})")
    print(_markdown(rows))
    return rows


def _markdown(rows: list[dict]) -> str:
    lines = ["| model | accuracy | balanced accuracy | ROC AUC | seconds |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['accuracy']:.4f} | {r['balanced_accuracy']:.4f} | {r['roc_auc']:.4f} | "
                     f"{r['seconds']:.2f} |")
    return "\n".join(lines)


def verdict(rows: list[dict]) -> str:
    ours, mlp = rows[0], rows[1]
    gaps = {k: ours[k] - mlp[k] for k in ("accuracy", "roc_auc")}
    ok = all(g >= -0.01 for g in gaps.values())
    return (f"goal (within 0.01 of the scikit-learn MLP pipeline on accuracy and AUC, or better): "
            f"{'met' if ok else 'NOT met'} (accuracy {gaps['accuracy']:+.4f}, AUC {gaps['roc_auc']:+.4f})")


# ------------------------------------------------------------------------------------------ scale
def make_scale_table(folder: Path, m: int = 1_000_000, seed: int = 0) -> tuple[Path, Path]:
    """A mixed 30-column table (plus its target) as CSV and Parquet."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {"customer": np.char.add("c", np.arange(m).astype(str))}
    logit = np.zeros(m)
    for j in range(20):
        x = rng.standard_normal(m)
        logit += x * (0.5 if j < 5 else 0.05)
        if j < 5:
            x[rng.random(m) < 0.05] = np.nan
        columns[f"num{j}"] = np.round(x, 4)
    for j, k in enumerate((3, 4, 5, 8, 12, 20)):
        codes = rng.integers(0, k, m)
        logit += (codes % 2 - 0.5) * 0.5
        columns[f"cat{j}"] = np.array([f"level{i}" for i in range(k)])[codes]
    for j in range(2):
        flag = rng.random(m) < 0.3
        logit += flag * 0.4
        columns[f"flag{j}"] = np.where(flag, "yes", "no")
    columns["target"] = np.where(logit + rng.logistic(size=m) > 0, "churned", "stayed")
    frame = pd.DataFrame(columns)
    frame["num0"] = frame["num0"].astype("float64")
    csv, parquet = folder / "scale.csv", folder / "scale.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return csv, parquet


_READ_ONLY = "import sys, time, pandas as pd; t, c = time.perf_counter(), time.process_time(); " \
             "f = {reader}(sys.argv[1]); print(time.perf_counter() - t, time.process_time() - c)"
_READ_AND_TYPE = """
import sys, time, warnings
import pandas  # imported before the clock starts, as for pandas alone: the import is not the reading
from gradwise.cli._common import table_parts
from gradwise.data import load_table
t, c = time.perf_counter(), time.process_time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    parts, plan, _ = table_parts(load_table(sys.argv[1], target="target"), 0, "float32")
print(time.perf_counter() - t, time.process_time() - c)
"""
_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def _numbers(code: str, *args: str) -> list[float]:
    """The numbers the last line of `python -c code args` prints (seconds: wall, then the process's CPU)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True)
    return [float(v) for v in done.stdout.strip().splitlines()[-1].split()]


def _seconds(code: str, *args: str) -> float:
    return _numbers(code, *args)[0]


def scale_check(folder: Path) -> str:
    csv, parquet = make_scale_table(folder)
    lines = ["| file | pandas read alone (s) | gradwise read + type + split (s) | ratio (goal ≤ 2) | "
             "CPU s: pandas / gradwise (ratio) | "
             "peak memory of `gradwise train --epochs 1` (MB) | float32 design matrix (MB) | ratio (goal ≤ 3) |",
             "|---|---|---|---|---|---|---|---|"]
    for path, reader in ((csv, "pd.read_csv"), (parquet, "pd.read_parquet")):
        alone, ours = [], []
        for _ in range(2):  # interleaved, the faster of two (the page cache is warm for both)
            alone.append(_numbers(_READ_ONLY.format(reader=reader), str(path)))
            ours.append(_numbers(_READ_AND_TYPE, str(path)))
        (wall_alone, cpu_alone), (wall_ours, cpu_ours) = min(alone), min(ours)
        out = folder / f"run-{path.suffix[1:]}"
        cmd = [sys.executable, "-m", "gradwise", "train", "--data", str(path), "--target", "target", "--epochs", "1",
               "--dtype", "float32", "--out", str(out), "--quiet"]
        peak = _seconds(_PEAK, *cmd)
        n_out = len(json.loads((out / "model.json").read_text())["feature_names"])
        design = 1_000_000 * n_out * 4
        lines.append(f"| {path.name} ({path.stat().st_size / 1e6:.0f} MB, {n_out} encoded columns) | "
                     f"{wall_alone:.2f} | {wall_ours:.2f} | {wall_ours / wall_alone:.2f} | "
                     f"{cpu_alone:.2f} / {cpu_ours:.2f} ({cpu_ours / cpu_alone:.2f}) | {peak / 1e6:.0f} | "
                     f"{design / 1e6:.0f} | {peak / design:.2f} |")
    baseline = _seconds(_PEAK, sys.executable, "-c", "import gradwise.cli.train, pandas, pyarrow")
    lines.append(f"\nA Python process that only imports gradwise's command line, pandas and pyarrow peaks at "
                 f"{baseline / 1e6:.0f} MB; that is included in the peaks above. CPU seconds are the reading "
                 f"process's own (all its threads), less sensitive to a loaded machine than wall-clock.")
    text = "\n".join(lines)
    print("\nscale check (1,000,000 rows × 30 columns + target)\n" + text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="store_true", help="also run the 1,000,000-row check (minutes)")
    parser.add_argument("--scale-only", action="store_true",
                        help="only the 1,000,000-row check; prints its table and writes no report")
    parser.add_argument("--out", default=str(HERE / "TABLES.md"), help="markdown report (default benchmarks/TABLES.md)")
    args = parser.parse_args()
    if args.scale_only:
        with tempfile.TemporaryDirectory() as tmp:
            scale_check(Path(tmp))
        return 0
    report = ["# Real tables: gradwise against scikit-learn", "",
              "`python benchmarks/tables.py" + (" --scale" if args.scale else "") + "` (one run; see the module "
              "docstring for the protocol). Test-split scores; seconds are wall-clock for fit + predict. "
              "How the defaults for tables were chosen (cross-validation on the non-test rows of the first "
              "four tables): `benchmarks/TABLE_DEFAULTS.md`.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        held_out = held_out_tables(work)
        for name, (path, target) in {**real_tables(work), **held_out}.items():
            if name == next(iter(held_out)):
                report += ["# Held-out checks", "", "Tables not looked at when the defaults were chosen.", ""]
            rows = compare(name, path, target, work)
            line = verdict(rows)
            print(line)
            report += [f"## {name} (`{path.name}`, target `{target}`)", "", _markdown(rows), "", line, ""]
        if args.scale:
            report += ["## Scale: 1,000,000 rows × 30 columns", "", scale_check(work), ""]
    from gradwise._atomic import write_text

    write_text(args.out, "\n".join(report))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
