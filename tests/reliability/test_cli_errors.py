"""User mistakes on the command line: one line on stderr, exit code 2, never a traceback (issue 8).

The cases run `gradwise.cli.main` in-process (what the console script calls) from a directory holding
the user's files; two more run real subprocesses (`python -m gradwise`) to prove the same from outside,
and that `--debug` does show the traceback. A bug of ours (any exception that is neither a GradwiseError
nor an OSError) is one line too, but says it is a bug and exits with 1 (issue 11).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from .conftest import run_python


class CliCase(NamedTuple):
    id: str
    argv: tuple[str, ...]
    message: str  # regex the single stderr line must match


def _write_files(root: Path, run_dir: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 2))
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(a > 0)}" for a, b in X)
    (root / "points.csv").write_text("x1,x2,label\n" + rows + "\n")
    (root / "points_nan.csv").write_text("x1,x2,label\n0.1,nan,0\n0.2,0.3,1\n")
    (root / "three.csv").write_text("a,b,c,label\n1,2,3,0\n3,4,5,1\n")
    np.savez(root / "three.npz", X=np.ones((2, 3)))
    np.savez(root / "objects.npz", X=np.array([[1, "a"], [2, "b"]], dtype=object), y=np.array([0, 1]))
    np.savez(root / "no_x.npz", A=np.ones((3, 2)), y=np.array([0, 1, 0]))
    np.savez(root / "nan.npz", X=np.array([[1.0, np.nan], [2, 3], [4, 5]]), y=np.array([0, 1, 0]))
    (root / "garbage.npz").write_bytes(bytes(range(200)))
    (root / "fake_zip.npz").write_bytes(b"PK\x03\x04" + bytes(200))
    (root / "text.csv").write_text("x1,x2,label\n1,abc,0\n3,4,1\n")
    (root / "inf.csv").write_text("x1,x2,label\n" + rows + "\n1,inf,0\n")
    (root / "gapcol.csv").write_text("x1,x2,label\n" + "\n".join(f"{a:.3f},,{int(a > 0)}" for a, _ in X) + "\n")
    (root / "single_class.csv").write_text("x1,x2,label\n1,2,0\n3,4,0\n5,6,0\n")
    (root / "one_row.csv").write_text("x1,x2,label\n1,2,0\n")
    (root / "unseen.csv").write_text("x1,x2,label\n1,2,cat\n3,4,dog\n5,6,cat\n")
    (root / "regression.csv").write_text("x1,x2,value\n" + "\n".join(f"{a},{b},{a * 0.37 + b}" for a, b in X))
    (root / "empty.csv").write_bytes(b"")
    (root / "noise.csv").write_bytes(bytes(range(256)) * 4)
    (root / "points.txt").write_text("x1,x2,label\n1,2,0\n")
    (root / "latin1.toml").write_bytes("[space]\n# caf\xe9\n".encode("latin-1"))
    (root / "text.safetensors").write_text("this is not a model\n")
    (root / "emptydir").mkdir()
    (root / "afile").write_text("x")
    flipped = bytearray((run_dir / "model.safetensors").read_bytes())
    flipped[-3] ^= 0xFF  # inside the tensor data: only the checksum can tell
    (root / "flipped.safetensors").write_bytes(bytes(flipped))


CASES = [
    # ------------------------------------------------------------------------------- train
    CliCase("train-no-data", ("train",),
            r"^gradwise train: error: give the data: --dataset NAME or --data FILE"),
    CliCase("train-unknown-dataset", ("train", "--dataset", "nope"),
            r"^gradwise train: error: unknown data set 'nope'; available: "),
    CliCase("train-epochs-zero", ("train", "--dataset", "moons", "--epochs", "0"),
            r"^gradwise train: error: argument --epochs: must be >= 1, got 0"),
    CliCase("train-epochs-text", ("train", "--dataset", "moons", "--epochs", "abc"),
            r"^gradwise train: error: argument --epochs: expected an integer, got 'abc'"),
    CliCase("train-learning-rate-nan", ("train", "--dataset", "moons", "--learning-rate", "nan"),
            r"^gradwise train: error: argument --learning-rate: expected a finite number, got 'nan'"),
    CliCase("train-learning-rate-negative", ("train", "--dataset", "moons", "--learning-rate", "-1"),
            r"^gradwise train: error: argument --learning-rate: must be > 0, got -1"),
    CliCase("train-l2-negative", ("train", "--dataset", "moons", "--l2", "-1"),
            r"^gradwise train: error: argument --l2: must be >= 0, got -1"),
    CliCase("train-keep-prob-zero", ("train", "--dataset", "moons", "--keep-prob", "0"),
            r"^gradwise train: error: argument --keep-prob: must be in \(0, 1\] .*got 0"),
    CliCase("train-keep-prob-above-one", ("train", "--dataset", "moons", "--keep-prob", "1.5"),
            r"^gradwise train: error: argument --keep-prob: must be in \(0, 1\] .*got 1\.5"),
    CliCase("train-layers-text", ("train", "--dataset", "moons", "--layers", "a,b"),
            r"^gradwise train: error: argument --layers: expected hidden layer sizes like 20,3 .*got 'a,b'"),
    CliCase("train-layers-zero", ("train", "--dataset", "moons", "--layers", "0"),
            r"^gradwise train: error: argument --layers: layer sizes must be >= 1, got '0'"),
    CliCase("train-batch-size-zero", ("train", "--dataset", "moons", "--batch-size", "0"),
            r"^gradwise train: error: argument --batch-size: must be >= 1, got 0"),
    CliCase("train-optimizer-unknown", ("train", "--dataset", "moons", "--optimizer", "sgd"),
            r"^gradwise train: error: argument --optimizer: invalid choice: 'sgd'"),
    CliCase("train-init-unknown", ("train", "--dataset", "moons", "--init", "kaiming"),
            r"^gradwise train: error: argument --init: invalid choice: 'kaiming'"),
    CliCase("train-seed-negative", ("train", "--dataset", "moons", "--seed", "-1"),
            r"^gradwise train: error: argument --seed: must be >= 0, got -1"),
    CliCase("train-decay-negative", ("train", "--dataset", "moons", "--decay", "-1"),
            r"^gradwise train: error: argument --decay: must be >= 0, got -1"),
    CliCase("train-checkpoint-every-zero", ("train", "--dataset", "moons", "--checkpoint-every", "0"),
            r"^gradwise train: error: argument --checkpoint-every: must be >= 1, got 0"),
    CliCase("train-data-missing", ("train", "--data", "missing.csv"),
            r"^gradwise train: error: data file not found: '.*missing\.csv'$"),
    # Words and gaps in a table are typed by its column plan now (tests/reliability/test_tables.py); what
    # stays an error is what no plan can type: an infinite number, a column with no value at all.
    CliCase("train-data-infinite", ("train", "--data", "inf.csv"),
            r"^gradwise train: error: '.*inf\.csv': column 'x2' holds a non-finite value inf at line 14 "
            r"\(data row 13\)$"),
    CliCase("train-data-all-missing", ("train", "--data", "gapcol.csv"),
            r"^gradwise train: error: '.*gapcol\.csv': column 'x2' has no value in any of its 12 rows"),
    CliCase("train-data-empty", ("train", "--data", "empty.csv"),
            r"^gradwise train: error: data file is empty: '.*empty\.csv'$"),
    CliCase("train-data-binary-garbage", ("train", "--data", "noise.csv"),
            r"^gradwise train: error: '.*noise\.csv' is not a UTF-8 text file"),
    CliCase("train-data-suffix", ("train", "--data", "points.txt"),
            r"^gradwise train: error: --data must be a \.csv, \.tsv, \.parquet or \.npz file, got '.*points\.txt'$"),
    CliCase("train-data-single-class", ("train", "--data", "single_class.csv"),
            r"^gradwise train: error: .*single_class\.csv.*(single class|one class|only one)"),
    CliCase("train-data-one-row", ("train", "--data", "one_row.csv"),
            r"^gradwise train: error: '.*one_row\.csv' has 1 data row\(s\); at least 2 are needed$"),
    CliCase("train-npz-object-arrays", ("train", "--data", "objects.npz"),
            r"^gradwise train: error: '.*objects\.npz' holds arrays that cannot be loaded safely: Object arrays "
            r"cannot be loaded when allow_pickle=False$"),
    CliCase("train-npz-without-X", ("train", "--data", "no_x.npz"),
            r"^gradwise train: error: '.*no_x\.npz' must hold arrays 'X' and 'y'; missing \['X'\]"),
    CliCase("train-npz-not-a-zip", ("train", "--data", "garbage.npz"),
            r"^gradwise train: error: '.*garbage\.npz' is not a valid \.npz file \(not a zip archive\)$"),
    CliCase("train-npz-broken-zip", ("train", "--data", "fake_zip.npz"),
            r"^gradwise train: error: '.*fake_zip\.npz' is not a valid \.npz file"),
    CliCase("train-npz-nan", ("train", "--data", "nan.npz"),
            r"^gradwise train: error: .*must be finite, got nan at row 0, column 1$"),
    CliCase("train-target-unknown", ("train", "--data", "points.csv", "--target", "zzz"),
            r"^gradwise train: error: target column 'zzz' not found in '.*points\.csv'; its columns are"),
    CliCase("train-target-index", ("train", "--data", "points.csv", "--target", "9"),
            r"^gradwise train: error: target index 9 is out of range for"
            r" '.*points\.csv', which has 3 columns"),
    CliCase("train-target-superscript-digit", ("train", "--data", "points.csv", "--target", "²"),
            r"^gradwise train: error: target column '²' not found in '.*points\.csv'"),
    CliCase("train-dataset-and-data", ("train", "--dataset", "moons", "--data", "points.csv"),
            r"^gradwise train: error: argument --data: not allowed with argument --dataset"),
    CliCase("train-target-with-dataset", ("train", "--dataset", "moons", "--target", "x"),
            r"^gradwise train: error: --target applies to --data FILE\.csv, not to built-in data sets$"),
    CliCase("train-resume-without-out", ("train", "--dataset", "moons", "--resume"),
            r"^gradwise train: error: --resume needs --out RUN_DIR"),
    CliCase("train-out-is-a-file", ("train", "--dataset", "moons", "--out", "afile"),
            r"^gradwise train: error: --out 'afile' is a file, not a directory$"),
    CliCase("train-out-not-empty", ("train", "--dataset", "moons", "--out", "{run}"),
            r"^gradwise train: error: run directory '.*' already exists and is not empty"),
    CliCase("train-resume-without-checkpoint", ("train", "--out", "emptydir", "--resume"),
            r"^gradwise train: error: cannot resume: 'emptydir' has no checkpoint\.safetensors"),
    # ------------------------------------------------------------------------------ evaluate
    CliCase("evaluate-model-missing", ("evaluate", "--model", "nope", "--dataset", "moons"),
            r"^gradwise evaluate: error: no such model file: 'nope'$"),
    CliCase("evaluate-model-not-safetensors",
            ("evaluate", "--model", "text.safetensors", "--dataset", "moons"),
            r"^gradwise evaluate: error: text\.safetensors is truncated or not a safetensors file"),
    CliCase("evaluate-model-corrupted",
            ("evaluate", "--model", "flipped.safetensors", "--dataset", "moons"),
            r"^gradwise evaluate: error: flipped\.safetensors is corrupted: its"
            r" tensors do not match the checksum"),
    CliCase("evaluate-model-csv", ("evaluate", "--model", "points.csv", "--dataset", "moons"),
            r"^gradwise evaluate: error: points\.csv is truncated or not a safetensors file"),
    CliCase("evaluate-empty-dir", ("evaluate", "--model", "emptydir", "--dataset", "moons"),
            r"^gradwise evaluate: error: no model in 'emptydir': model\.safetensors is missing$"),
    CliCase("evaluate-feature-count", ("evaluate", "--model", "{run}", "--dataset", "iris"),
            r"^gradwise evaluate: error: the data lacks the model's feature column\(s\) \['x1', 'x2'\]: "
            r"the model was trained on 2 features, the data has 4$"),
    CliCase("evaluate-columns-missing", ("evaluate", "--model", "{run}", "--data", "three.csv"),
            r"^gradwise evaluate: error: the data lacks the model's feature column"),
    CliCase("evaluate-unseen-labels", ("evaluate", "--model", "{run}", "--data", "unseen.csv"),
            r"^gradwise evaluate: error: the data holds class label\(s\) \['cat',"
            r" 'dog'\] that the model never saw"),
    CliCase("evaluate-regression-data", ("evaluate", "--model", "{run}", "--data", "regression.csv"),
            r"^gradwise evaluate: error: the model does classification but the data's target is regression$"),
    CliCase("evaluate-no-data", ("evaluate", "--model", "{run}"),
            r"^gradwise evaluate: error: one of the arguments --dataset --data is required"),
    # ------------------------------------------------------------------------------- predict
    CliCase("predict-columns-missing", ("predict", "--model", "{run}", "--data", "three.csv"),
            r"^gradwise predict: error: 'three\.csv' lacks the model's feature column\(s\) \['x1', 'x2'\]"),
    CliCase("predict-feature-count", ("predict", "--model", "{run}", "--data", "three.npz"),
            r"^gradwise predict: error: the data has 3 features, but the model expects 2$"),
    CliCase("predict-nan", ("predict", "--model", "{run}", "--data", "points_nan.csv"),
            r"^gradwise predict: error: '.*points_nan\.csv' has a missing value \('nan'\) at line 2"),
    CliCase("predict-data-missing", ("predict", "--model", "{run}", "--data", "missing.csv"),
            r"^gradwise predict: error: data file not found: '.*missing\.csv'$"),
    CliCase("predict-data-empty", ("predict", "--model", "{run}", "--data", "empty.csv"),
            r"^gradwise predict: error: data file is empty: '.*empty\.csv'$"),
    CliCase("predict-output-is-a-directory", ("predict", "--model", "{run}", "--data", "points.csv",
                                              "--output", "emptydir"),
            r"^gradwise predict: error: .*emptydir"),
    CliCase("predict-output-unwritable", ("predict", "--model", "{run}", "--data", "points.csv",
                                          "--output", "afile/predictions.csv"),
            r"^gradwise predict: error: cannot write 'afile/predictions\.csv': a file stands where its directory"),
    CliCase("predict-model-corrupted", ("predict", "--model", "flipped.safetensors", "--data", "points.csv"),
            r"^gradwise predict: error: flipped\.safetensors is corrupted"),
    # ----------------------------------------------------------------- gradcheck / diagnose / misc
    CliCase("gradcheck-unknown-dataset", ("gradcheck", "--dataset", "nope"),
            r"^gradwise gradcheck: error: unknown data set 'nope'"),
    CliCase("gradcheck-layers-text", ("gradcheck", "--layers", "x"),
            r"^gradwise gradcheck: error: argument --layers: expected hidden layer sizes"),
    CliCase("gradcheck-l2-negative", ("gradcheck", "--l2", "-2"),
            r"^gradwise gradcheck: error: argument --l2: must be >= 0, got -2"),
    CliCase("diagnose-not-a-directory", ("diagnose", "nope"),
            r"^gradwise diagnose: error: RUN_DIR 'nope' is not a directory written by gradwise train$"),
    CliCase("diagnose-empty-directory", ("diagnose", "emptydir"),
            r"^gradwise diagnose: error: 'emptydir/config\.json' does not exist"),
    CliCase("diagnose-human-error-range", ("diagnose", "{run}", "--human-error", "2"),
            r"^gradwise diagnose: error: argument --human-error: must be a fraction in \[0, 1\] .*got 2"),
    CliCase("diagnose-human-error-text", ("diagnose", "{run}", "--human-error", "abc"),
            r"^gradwise diagnose: error: argument --human-error: expected a number, got 'abc'"),
    CliCase("tune-trials-zero", ("tune", "--dataset", "moons", "--trials", "0"),
            r"^gradwise tune: error: argument --trials: must be >= 1, got 0"),
    CliCase("tune-workers-negative", ("tune", "--dataset", "moons", "--workers", "-1"),
            r"^gradwise tune: error: argument --workers: must be >= 1, got -1"),
    CliCase("tune-storage-unknown",
            ("tune", "--dataset", "moons", "--storage", "bogus://x", "--trials", "1", "--out", "../tune-out"),
            r"^gradwise tune: error: storage 'bogus://x' is not a storage this command knows"),
    # a table's words are categories now (its column plan is fitted on the training split): what is left
    # to refuse is a table too small to split, or a target it does not have
    CliCase("tune-table-too-few-rows", ("tune", "--data", "text.csv"),
            r"^gradwise tune: error: too few samples to split: 2 example\(s\) cannot fill 3 non-empty parts"),
    CliCase("tune-table-unknown-target", ("tune", "--data", "text.csv", "--target", "nope"),
            r"^gradwise tune: error: target column 'nope' not found in '.*text\.csv'; its columns are"),
    CliCase("tune-metric-unknown", ("tune", "--dataset", "moons", "--metric", "speed"),
            r"^gradwise tune: error: argument --metric: invalid choice: 'speed' \(choose from 'cost', 'accuracy', "
            r"'balanced_accuracy'"),
    CliCase("tune-space-not-utf8", ("tune", "--dataset", "moons", "--space", "latin1.toml"),
            r"^gradwise tune: error: latin1\.toml is not a UTF-8 text file \(invalid continuation byte at byte 13\)$"),
    CliCase("reproduce-seeds-zero", ("reproduce", "--seeds", "0"),
            r"^gradwise reproduce: error: argument --seeds: expected a positive integer, got 0"),
    CliCase("datasets-unknown-flag", ("datasets", "--bogus"),
            r"^gradwise: error: unrecognized arguments: --bogus"),
    CliCase("unknown-command", ("bogus",), r"^gradwise: error: argument COMMAND: invalid choice: 'bogus'"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, run_dir):
    root = tmp_path_factory.mktemp("cli-user")
    _write_files(root, run_dir)
    return root


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_mistake(case: CliCase, cli, workdir, run_dir, monkeypatch):
    monkeypatch.chdir(workdir)
    before = sorted(p.name for p in workdir.iterdir())
    argv = [a.replace("{run}", str(run_dir)) for a in case.argv]
    code, out, err = cli(*argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.search(case.message, lines[0]), f"{lines[0]!r} does not match {case.message!r}"
    # A failed command leaves nothing behind in the user's directory (no half-made run, no temp file).
    assert sorted(p.name for p in workdir.iterdir()) == before


def test_reproduce_out_is_a_file(cli, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    code, _, err = cli("reproduce", "--quick", "--out", "afile")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(r"afile.* (is a file|not a directory)", err), err


def test_tune_with_a_bad_storage_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("tune", "--dataset", "moons", "--storage", "bogus://x", "--trials", "1")
    assert code == 2 and "bogus://x" in err
    assert list(tmp_path.iterdir()) == []


def test_no_arguments_prints_help_and_exits_2(cli):
    code, out, err = cli()
    assert code == 2 and "usage: gradwise" in err and "Traceback" not in err


def _env_one_line(proc) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_python_m_gradwise_reports_one_line_and_debug_shows_the_traceback(workdir):
    """From outside: exit code 2 and one stderr line; with --debug the traceback (for bug reports)."""
    code = "import runpy, sys; sys.argv[0] = 'gradwise'; runpy.run_module('gradwise', run_name='__main__')"
    proc = run_python(code, "evaluate", "--model", "flipped.safetensors", "--dataset", "moons", cwd=workdir)
    assert proc.returncode == 2
    assert re.match(r"gradwise evaluate: error: flipped\.safetensors is corrupted", _env_one_line(proc))
    proc = run_python(code, "--debug", "evaluate", "--model", "flipped.safetensors", "--dataset", "moons",
                      cwd=workdir)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "ModelFileError" in proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_console_script_is_installed_and_reports_one_line(workdir):
    script = Path(sys.executable).with_name("gradwise")
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    import subprocess

    from .conftest import subprocess_env

    proc = subprocess.run([str(script), "train", "--data", "noise.csv"], cwd=workdir, env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "is not a UTF-8 text file" in _env_one_line(proc)
    assert not (workdir / "runs").exists() or not any((workdir / "runs").iterdir())
    assert os.access(script, os.X_OK)


# ------------------------------------------------------------------- hand-edited files of a run
@pytest.fixture(scope="module")
def resumable_run(tmp_path_factory) -> Path:
    """A `gradwise train` run with a checkpoint (so it can be resumed), 2 epochs of moons."""
    from .conftest import run_cli

    path = tmp_path_factory.mktemp("resumable") / "run"
    code, _, err = run_cli("train", "--dataset", "moons", "--layers", "3", "--epochs", "2",
                           "--checkpoint-every", "1", "--out", path, "--quiet")
    assert code == 0, err
    return path


def _edit_json(path: Path, keys: tuple[str, ...], value) -> None:
    document = json.loads(path.read_text())
    target = document
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    path.write_text(json.dumps(document))


EDITED_RUNS = [
    # (command, file, keys, value, regex of the message)
    ("resume", "config.json", ("settings", "layers"), 1.5,
     r"config\.json': setting layers must be a list of integers >= 1, got 1\.5"),
    ("resume", "config.json", ("settings", "epochs"), "x", r"setting epochs must be an integer >= 1, got 'x'"),
    ("resume", "config.json", ("settings", "data"), 3, r"setting data must be null or a file path, got 3"),
    ("resume", "config.json", ("settings",), {"seed": 0}, r"lacks the setting\(s\) \['layers', "),
    ("resume", "config.json", ("settings",), [1], r"config\.json' has no settings object"),
    ("diagnose", "config.json", ("settings", "learning_rate"), "fast",
     r"setting learning_rate must be null or a number > 0, got 'fast'"),
    ("diagnose", "config.json", ("settings", "layers"), True, r"setting layers must be a list of integers"),
    ("diagnose", "config.json", ("settings",), "x", r"config\.json' has no settings object"),
    ("diagnose", "metrics.json", ("dev", "error"), "x", r"metrics\.json': dev\.error must be a finite number"),
    ("diagnose", "metrics.json", ("train", "error"), None, r"metrics\.json lacks training and dev errors"),
    ("diagnose", "metrics.json", ("dev", "examples"), [75], r"dev\.examples must be a finite number >= 0, got \[75\]"),
    ("diagnose", "metrics.json", ("train",), 1, r"metrics\.json': train must be an object of scores, got 1"),
]


@pytest.mark.parametrize("command, name, keys, value, message", EDITED_RUNS,
                         ids=[f"{c}-{'.'.join(k)}={v!r}" for c, _, k, v, _ in EDITED_RUNS])
def test_hand_edited_run_files_are_the_users_mistake(command, name, keys, value, message, cli, resumable_run,
                                                     tmp_path):
    """A run's JSON files are the user's files: a damaged value is named (exit 2), not taken for our bug."""
    run = tmp_path / "run"
    shutil.copytree(resumable_run, run)
    _edit_json(run / name, keys, value)
    argv = ("train", "--out", run, "--resume", "--quiet") if command == "resume" else ("diagnose", run)
    code, _, err = cli(*argv)
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err


# --------------------------------------------------------------------------------- our own bugs
BUGS = [ValueError("boom"), TypeError("unsupported operand"), ZeroDivisionError("division by zero"),
        np.linalg.LinAlgError("Singular matrix"), KeyError("W1"), AttributeError("no attribute 'x'")]


@pytest.mark.parametrize("bug", BUGS, ids=[type(b).__name__ for b in BUGS])
def test_a_bug_of_ours_is_one_line_saying_so_and_exit_1(bug, cli, monkeypatch):
    """An exception that is neither a GradwiseError nor an OSError is ours, even a ValueError from NumPy."""
    import gradwise.cli.datasets

    def broken():
        raise bug

    monkeypatch.setattr(gradwise.cli.datasets, "available", broken)  # the name the subcommand calls
    code, out, err = cli("datasets")
    assert code == 1, (code, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gradwise datasets: internal error (a bug in gradwise, not your input): "
                               f"{type(bug).__name__}: "), lines[0]
    assert "please report it" in lines[0] and "--debug" in lines[0]


def test_debug_raises_a_bug_of_ours_for_the_traceback(cli, monkeypatch):
    import gradwise.cli.datasets

    def broken():
        raise ValueError("boom")

    monkeypatch.setattr(gradwise.cli.datasets, "available", broken)
    with pytest.raises(ValueError, match="boom"):
        cli("--debug", "datasets")


def test_python_m_gradwise_reports_a_bug_in_one_line_and_debug_shows_the_traceback(tmp_path):
    """From outside: exit code 1 and one line naming the bug; with --debug Python's traceback."""
    code = ("import sys, gradwise.data; gradwise.data.available = lambda: 1 / 0; sys.argv[0] = 'gradwise'; "
            "from gradwise.cli import main; sys.exit(main())")
    proc = run_python(code, "datasets", cwd=tmp_path)
    assert proc.returncode == 1
    line = _env_one_line(proc)
    assert re.match(r"gradwise datasets: internal error \(a bug in gradwise, not your input\): "
                    r"ZeroDivisionError: division by zero — please report it", line), line
    proc = run_python(code, "--debug", "datasets", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ZeroDivisionError" in proc.stderr


def test_a_missing_subcommand_module_is_an_import_error_not_skipped(monkeypatch):
    """Every subcommand exists: a missing module is a broken install or a bug, so the ImportError surfaces."""
    import gradwise.cli

    monkeypatch.setattr(gradwise.cli, "SUBCOMMANDS", (*gradwise.cli.SUBCOMMANDS, "not_a_subcommand"))
    with pytest.raises(ModuleNotFoundError, match="not_a_subcommand"):
        gradwise.cli.build_parser()
