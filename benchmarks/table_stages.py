"""Where reading and typing a large table spends its CPU, stage by stage (the least of several processes).

    python benchmarks/table_stages.py              # the generated 1,000,000-row table of tables.py --scale
    python benchmarks/table_stages.py FILE.csv --target COLUMN --runs 5

Each run is a fresh process that does what `gradwise train --data FILE` does before training —
`load_table` then `table_parts` — one step at a time, timing each with `time.process_time()` (the
process's CPU, all threads). Printed: the least and the most CPU seconds of each stage over the runs.
The numbers quoted in TABLES.md ("Where gradwise's CPU goes") come from this script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

_PANDAS_ALONE = "import sys, time, pandas as pd; c = time.process_time(); pd.{reader}(sys.argv[1]); " \
                "print(time.process_time() - c)"
_ONE_RUN = r'''
import sys, time, warnings
import numpy as np
import pandas  # imported before any clock starts, as for pandas alone: the import is not the reading
from pathlib import Path
from gradwise.cli._common import split_indices
from gradwise.data import columns, files, tables
warnings.simplefilter("ignore")
path, target = Path(sys.argv[1]), sys.argv[2]
spent = {}
def timed(stage, step):
    start = time.process_time()
    result = step()
    spent[stage] = spent.get(stage, 0.0) + time.process_time() - start
    return result
frame = timed("read (pandas' parser, the blank scan)", lambda: tables.read_table(path))
source = str(path)
target_col, is_test, features = files._columns_of(frame, target, source)
y = timed("target and checks", lambda: ([frame[c].isna().all() for c in features],
          files.encode_target(files.target_values(frame, target_col), target_col, source)[0]))[1]
index = timed("split", lambda: split_indices(y, is_test, 0))
memo, specs = {}, []
for name in features:
    column = frame[name]
    kind = "numbers" if column.dtype.kind in "biuf" else "text"
    specs.append(timed(f"fit: {kind} columns", lambda: columns._fit_column(name, column, source, 20, 3,
                                                                            index["train"], memo)))
plan = columns.Preprocessor(standardize=False)
plan.columns_ = specs
timed("give freed memory back", tables.release_memory)
order = np.concatenate(list(index.values()))
timed("encode the matrix", lambda: plan._encode(frame, np.dtype("float32"), standardized=False, order=order,
                                                memo=memo))
for stage, seconds in spent.items():
    print(f"{stage}\t{seconds:.4f}")
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", help="a CSV/Parquet table (default: generate tables.py's scale table)")
    parser.add_argument("--target", default="target")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path
        if path is None:
            sys.path.insert(0, str(HERE))
            from tables import make_scale_table

            path = str(make_scale_table(Path(tmp))[0])
        runs: list[dict[str, float]] = []
        alone: list[float] = []
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        reader = "read_parquet" if Path(path).suffix in (".parquet", ".pq") else "read_csv"
        for _ in range(args.runs):  # interleaved with pandas alone, so both see the same machine
            done = subprocess.run([sys.executable, "-c", _PANDAS_ALONE.format(reader=reader), path],
                                  capture_output=True, text=True, check=True, env=env)
            alone.append(float(done.stdout))
            done = subprocess.run([sys.executable, "-c", _ONE_RUN, path, args.target], capture_output=True,
                                  text=True, check=True, env=env)
            runs.append({k: float(v) for k, v in (line.split("\t") for line in done.stdout.splitlines())})
    print(f"{path}: CPU seconds per stage, least / most of {args.runs} runs")
    print(f"  {'pd.' + reader + ' alone (for scale)':42s} {min(alone):6.3f} / {max(alone):6.3f}")
    for stage in runs[0]:
        values = [run[stage] for run in runs]
        print(f"  {stage:42s} {min(values):6.3f} / {max(values):6.3f}")
    print(f"  {'total':42s} {min(sum(r.values()) for r in runs):6.3f} / {max(sum(r.values()) for r in runs):6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
