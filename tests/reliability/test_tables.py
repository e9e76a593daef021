"""Bad tables on the command line (issue 12): one line on stderr naming the file (and the column and row where
they apply), exit code 2, and no run directory left behind; warnings are one line each and in metrics.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _table(m: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(m)
    return pd.DataFrame({"id": [f"c{i:04d}" for i in range(m)], "x": x,
                         "colour": rng.choice(["red", "green", "blue"], m),
                         "label": np.where(x > 0, "yes", "no")})


def _write(root: Path) -> None:
    good = _table()
    good.to_csv(root / "good.csv", index=False)
    (root / "empty.csv").write_bytes(b"")
    (root / "header.csv").write_text("x,colour,label\n")
    (root / "dup.csv").write_text("x,x,label\n1,2,a\n3,4,b\n")
    good.assign(gone=np.nan).to_csv(root / "allmissing.csv", index=False)
    good.assign(label="yes").to_csv(root / "oneclass.csv", index=False)
    (root / "latin1.csv").write_bytes("x,label\n1,caf\xe9\n2,the\n".encode("latin-1"))
    (root / "fake.parquet").write_text("x,label\n1,a\n")
    lines = (root / "good.csv").read_text().splitlines()
    lines[5] += ",surplus"
    (root / "wide.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tables")
    _write(root)
    return root


BAD = [
    ("empty", ["--data", "empty.csv"], r"data file is empty: '.*empty\.csv'$"),
    ("header-only", ["--data", "header.csv"], r"'.*header\.csv' has 0 data row\(s\); at least 2 are needed$"),
    ("duplicate-names", ["--data", "dup.csv"], r"'.*dup\.csv' header has duplicate column name\(s\) \['x'\]$"),
    ("all-missing", ["--data", "allmissing.csv", "--target", "label"],
     r"'.*allmissing\.csv': column 'gone' has no value in any of its 40 rows"),
    ("one-class", ["--data", "oneclass.csv"], r"target 'label' in '.*oneclass\.csv' has a single class \('yes'\)"),
    ("unknown-target", ["--data", "good.csv", "--target", "churned"],
     r"target column 'churned' not found in '.*good\.csv'; its columns are \['id', 'x', 'colour', 'label'\]"),
    ("not-utf8", ["--data", "latin1.csv"],
     r"'.*latin1\.csv' is not a UTF-8 text file \(invalid continuation byte at byte 13, line 2\)"),
    ("not-parquet", ["--data", "fake.parquet"], r"'.*fake\.parquet' is not a Parquet file"),
    ("too-many-fields", ["--data", "wide.csv"],
     r"'.*wide\.csv' line 6 has 5 field\(s\) but the header has 4 column\(s\)"),
]


@pytest.mark.parametrize("argv, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_table_is_one_line_exit_2_and_no_run_dir(argv, message, tables, cli, monkeypatch):
    monkeypatch.chdir(tables)
    before = sorted(p.name for p in tables.iterdir())
    code, out, err = cli("train", *argv, "--out", "run", "--epochs", "2")
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search("^gradwise train: error: " + message, lines[0]), lines[0]
    assert sorted(p.name for p in tables.iterdir()) == before  # no run directory, no temporary file


def test_mixed_column_trains_with_a_warning(tmp_path, cli):
    frame = _table(60)
    values = [f"{v:.3f}" for v in frame["x"] * 3]
    values[4] = "unknown"  # 1 word in 60 numbers: numbers, the word read as missing
    frame["reading"] = values
    frame["mostly_words"] = ["a", "b", "c", "7"] * 15  # words with a number: categories
    frame[["reading", "mostly_words", "colour", "label"]].to_csv(tmp_path / "mixed.csv", index=False)
    code, _, err = cli("train", "--data", tmp_path / "mixed.csv", "--out", tmp_path / "run", "--epochs", "3",
                       "--quiet")
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    kinds = {c["name"]: c["kind"] for c in json.loads((tmp_path / "run" / "model.json").read_text())
             ["preprocessor"]["columns"]}
    assert kinds == {"reading": "numeric", "mostly_words": "category", "colour": "category"}
    warned = [w for w in metrics["warnings"] if "'reading' mixes numbers and words" in w]
    if warned:  # the word may fall in the dev or test rows: then the plan does not see it in training
        assert "'unknown'" in warned[0]


def test_warnings_are_one_line_each_and_in_metrics_json(tables, tmp_path, cli):
    code, _, err = cli("train", "--data", tables / "good.csv", "--out", tmp_path / "run", "--epochs", "3",
                       "--quiet")
    assert code == 0, err
    lines = err.strip().splitlines()
    assert lines == ["gradwise train: warning: column 'id' left out: an identifier (one distinct value per row)"]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["warnings"] == ["column 'id' left out: an identifier (one distinct value per row)"]
    new = _table(5, seed=1).drop(columns=["label"])
    new.loc[[1, 3], "colour"] = "purple"
    new.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = cli("predict", "--model", tmp_path / "run", "--data", tmp_path / "new.csv")
    assert code == 0, err
    assert err.strip().splitlines() == [
        "gradwise predict: warning: column 'colour': 2 row(s) hold a category unseen in training "
        "(e.g. 'purple' at data row 2), encoded as all zeros"]
    assert out.splitlines()[0] == "prediction,p_no,p_yes" and len(out.splitlines()) == 6
    code, _, err = cli("predict", "--model", tmp_path / "run", "--data", tables / "dup.csv")
    assert code == 2 and "duplicate column name" in err
    new.drop(columns=["colour"]).to_csv(tmp_path / "lacking.csv", index=False)
    code, _, err = cli("predict", "--model", tmp_path / "run", "--data", tmp_path / "lacking.csv")
    assert code == 2
    assert re.search(r"'.*lacking\.csv' lacks the model's feature column\(s\) \['colour'\]", err), err
