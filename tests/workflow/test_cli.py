"""The command line end to end, as a user runs it: train on a CSV, evaluate, predict, diagnose.

The main flow runs in subprocesses (`python -m gradwise …`) in a fresh directory; the long list of user
mistakes runs through the same `gradwise.cli.main` in-process (no interpreter start-up each), and a few of
them again as subprocesses to show the process boundary changes nothing: one line on stderr, exit code 2,
never a traceback.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw


def test_train_evaluate_predict_diagnose_on_a_csv(tmp_path, wf):
    data = wf.write_csv(tmp_path / "measurements.csv", m=300)
    new = tmp_path / "new.csv"
    rows = [line.split(",") for line in data.read_text().splitlines()[1:6]]
    # the new file has its columns in another order and no label: matched by name
    new.write_text("c,a,b\n" + "".join(f"{r[2]},{r[0]},{r[1]}\n" for r in rows))

    done = wf.gradwise("train", "--data", "measurements.csv", "--target", "label", "--layers", "16,8",
                    "--epochs", "150", "--batch-size", "32", "--learning-rate", "0.01", "--seed", "1",
                    "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "train/dev/test 180/60/60" in done.stdout
    run = tmp_path / "run"
    for name in ("config.json", "history.csv", "model.safetensors", "model.json", "metrics.json", "cost.png"):
        assert (run / name).exists(), name
    assert not (run / "decision_boundary.png").exists()  # 3 features: no 2-D boundary
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 150 and metrics["task"] == "binary"
    assert metrics["train"]["accuracy"] > 0.9 and metrics["dev"]["accuracy"] > 0.85
    with open(run / "history.csv") as handle:
        history = list(csv.DictReader(handle))
    assert len(history) == 150 and history[0]["epoch"] == "1"
    assert float(history[-1]["cost"]) < float(history[0]["cost"])
    assert {"cost", "accuracy", "val_cost", "val_accuracy", "learning_rate"} <= set(history[0])
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["layers"] == [16, 8] and config["settings"]["data"] == str(data)

    model = gw.load(run)
    assert list(model.classes_) == ["no", "yes"] and list(model.feature_names_in_) == ["a", "b", "c"]
    assert model.standardizer is not None  # fit on the training split, applied by the model

    done = wf.gradwise("evaluate", "--model", "run", "--data", "measurements.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ds = gw.data.load_file(data, target="label")
    expected = model.evaluate(ds.X_train, ds.y_train)["accuracy"]
    assert f"accuracy {100 * expected:6.2f}%" in done.stdout
    assert "confusion matrix" in done.stdout

    done = wf.gradwise("predict", "--model", "run/model.safetensors", "--data", "new.csv", "--output", "out.csv",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out.csv") as handle:
        predicted = list(csv.DictReader(handle))
    X_new = np.array([[float(r[0]), float(r[1]), float(r[2])] for r in rows])
    assert [p["prediction"] for p in predicted] == list(model.classes_[model.predict(X_new)])
    assert np.allclose([float(p["p_yes"]) for p in predicted], model.predict_proba(X_new)[:, 1], atol=1e-6)

    done = wf.gradwise("diagnose", "run", "--human-error", "1%", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "verdict:" in done.stdout and "human-level error 1%" in done.stdout
    assert "per-layer health" in done.stdout
    if metrics["dev"]["error"] > 0.01:  # 60 dev examples cannot resolve 2-point gaps
        assert "the dev set has only 60 examples" in done.stdout
    assert (run / "layers.png").exists()
    diagnosis = json.loads((run / "diagnosis.json").read_text())
    assert diagnosis["train_error"] == pytest.approx(metrics["train"]["error"])
    assert diagnosis["human_error"] == 0.01 and len(diagnosis["health"]["layers"]) == 3


def test_builtin_2d_dataset_run_has_a_decision_boundary_and_predicts_to_stdout(tmp_path, capsys, wf):
    code, out, err = wf.run_main(["train", "--dataset", "moons", "--epochs", "20", "--out", str(tmp_path / "r"),
                               "--quiet"], capsys)
    assert code == 0 and out == "" and err == ""
    assert (tmp_path / "r" / "decision_boundary.png").read_bytes()[:4] == b"\x89PNG"
    np.savez(tmp_path / "X.npz", X=np.array([[0.0, 0.5], [1.0, -0.5], [2.0, 0.0]]))
    code, out, err = wf.run_main(["predict", "--model", str(tmp_path / "r"), "--data", str(tmp_path / "X.npz")],
                              capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "prediction,p_0,p_1" and len(lines) == 4
    code, out, err = wf.run_main(["evaluate", "--model", str(tmp_path / "r"), "--dataset", "moons"], capsys)
    assert code == 0 and "moons, test set" in out


def test_regression_csv_flow(tmp_path, capsys, wf):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 2))
    y = X @ [1.5, -2.0] + 0.1 * rng.standard_normal(150)
    data = tmp_path / "prices.csv"
    data.write_text("u,v,price\n" + "".join(f"{a!r},{b!r},{t!r}\n" for (a, b), t in zip(X.tolist(), y.tolist(),
                                                                                           strict=True)))
    run = tmp_path / "run"
    code, out, err = wf.run_main(["train", "--data", str(data), "--epochs", "100", "--batch-size", "full",
                               "--learning-rate", "0.05", "--out", str(run)], capsys)
    assert code == 0, err
    assert "regression" in out and "rmse" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "regression" and metrics["dev"]["rmse"] < 1.0
    assert not (run / "decision_boundary.png").exists()
    code, out, err = wf.run_main(["evaluate", "--model", str(run), "--data", str(data)], capsys)
    assert code == 0 and "rmse" in out, err
    code, out, err = wf.run_main(["predict", "--model", str(run), "--data", str(data)], capsys)
    assert code == 0, err
    predicted = np.array([float(v) for v in out.splitlines()[1:]])
    assert np.allclose(predicted, gw.load(run).predict(X), rtol=0, atol=1e-12)
    code, out, err = wf.run_main(["diagnose", str(run), "--no-plot"], capsys)
    assert code == 0 and "RMSE / standard deviation" in out, err


def test_datasets_gradcheck_and_help(tmp_path, capsys, wf):
    code, out, _ = wf.run_main(["datasets"], capsys)
    assert code == 0
    for name in ("circles", "moons", "flower", "spirals", "blobs", "xor", "football", "digits", "mnist1d"):
        assert name in out
    code, out, _ = wf.run_main(["gradcheck", "--dataset", "iris", "--layers", "6", "--l2", "0.5"], capsys)
    assert code == 0 and "gradient check PASSED" in out and "W1" in out
    for command in ("train", "evaluate", "predict", "gradcheck", "diagnose", "datasets"):
        code, out, _ = wf.run_main([command, "--help"], capsys)
        assert code == 0 and "example" in out.lower() and f"gradwise {command}" in out


def test_gradcheck_exits_1_when_backprop_is_wrong(capsys, monkeypatch, wf):
    from gradwise.layers import Tanh

    monkeypatch.setattr(Tanh, "backward", lambda self, dA: dA * (1.0 - self._A))  # a wrong derivative
    code, out, _ = wf.run_main(["gradcheck", "--dataset", "xor", "--layers", "4"], capsys)
    assert code == 1 and "FAILED" in out


def test_two_processes_writing_runs_to_the_same_parent(tmp_path, wf):
    import subprocess
    import sys

    wf.write_csv(tmp_path / "d.csv", m=60)
    cmd = [sys.executable, "-m", "gradwise", "train", "--data", "d.csv", "--epochs", "3", "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    for run in runs:
        assert (run / "metrics.json").exists() and (run / "model.safetensors").exists()


def test_run_directory_names_are_unique_across_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from gradwise import runs

    with ThreadPoolExecutor(8) as pool:
        dirs = list(pool.map(lambda _: runs.new_run_dir(tmp_path / "runs"), range(40)))
    assert len(set(dirs)) == 40 and all(d.is_dir() for d in dirs)


def test_config_command_line_reproduces_the_run_bit_for_bit(tmp_path, capsys, wf):
    import shlex

    data = wf.write_csv(tmp_path / "d.csv", m=60)
    code, _, err = wf.run_main(["train", "--data", str(data), "--layers", "5", "--keep-prob", "0.9", "--batchnorm",
                             "--epochs", "6", "--out", str(tmp_path / "a"), "--quiet"], capsys)
    assert code == 0, err
    command = json.loads((tmp_path / "a" / "config.json").read_text())["command_line"]
    argv = shlex.split(command)
    assert argv[:2] == ["gradwise", "train"] and argv[-2:] == ["--out", str(tmp_path / "a")]
    code, _, err = wf.run_main([*argv[1:-1], str(tmp_path / "b"), "--quiet"], capsys)
    assert code == 0, err
    for name in ("model.safetensors", "model.json", "history.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_named_run_directory_is_claimed_by_one_process(tmp_path):
    from gradwise import runs
    from gradwise.errors import GradwiseValueError

    first = runs.claim_run_dir(tmp_path / "shared")
    assert first.is_dir()
    with pytest.raises(GradwiseValueError, match="already exists"):
        runs.claim_run_dir(tmp_path / "shared")  # a second process with the same --out
    empty = tmp_path / "made-by-hand"
    empty.mkdir()
    assert runs.claim_run_dir(empty) == empty  # an empty directory is fine


# ------------------------------------------------------------------------------------ user mistakes
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, wf):
    """A finished run on a 3-feature CSV with labels no/yes, and a directory of broken inputs."""
    base = tmp_path_factory.mktemp("trained")
    data = wf.write_csv(base / "d.csv", m=90)
    from gradwise.cli import main

    assert main(["train", "--data", str(data), "--epochs", "5", "--out", str(base / "run"), "--quiet"]) == 0
    (base / "bad").mkdir()
    files = {k: str(v) for k, v in _bad_files(base / "bad", base / "run").items()}
    return base, files


def _bad_files(d: Path, run: Path) -> dict[str, Path]:
    files = {}
    files["nan"] = d / "nan.csv"
    files["nan"].write_text("a,b,label\n1,2,x\nnan,3,y\n4,5,x\n")
    files["text"] = d / "text.csv"
    files["text"].write_text("a,b,label\n1,red,x\n2,blue,y\n3,red,x\n")
    files["inf"] = d / "inf.csv"
    files["inf"].write_text("a,b,label\n1,2,x\ninf,3,y\n4,5,x\n")
    files["dup"] = d / "dup.csv"
    files["dup"].write_text("a,b,a,label\n1,2,3,x\n4,5,6,y\n")
    files["empty"] = d / "empty.csv"
    files["empty"].write_text("")
    files["header_only"] = d / "header.csv"
    files["header_only"].write_text("a,b,label\n")
    files["two_features"] = d / "two.csv"
    files["two_features"].write_text("p,q\n1,2\n3,4\n")
    files["new_label"] = d / "newlabel.csv"
    files["new_label"].write_text("a,b,c,label\n1,2,3,maybe\n2,3,4,yes\n")
    files["regression"] = d / "reg.csv"
    files["regression"].write_text("a,b,c,label\n" + "".join(f"{i},{i},{i},{i * 0.37}\n" for i in range(120)))
    files["pickled_npz"] = d / "objects.npz"
    np.savez(files["pickled_npz"], X=np.array([[1, 2]], dtype=object), y=np.array([1]))
    files["txt"] = d / "data.txt"
    files["txt"].write_text("1 2 3\n")
    model = run / "model.safetensors"
    data = model.read_bytes()
    files["truncated_model"] = d / "truncated.safetensors"
    files["truncated_model"].write_bytes(data[: len(data) // 2])
    files["corrupted_model"] = d / "corrupted.safetensors"
    files["corrupted_model"].write_bytes(data[:-8] + bytes(b ^ 0xFF for b in data[-8:]))
    files["foreign_model"] = d / "foreign.safetensors"
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(3, dtype=np.float32)}, str(files["foreign_model"]))
    files["text_model"] = d / "notes.safetensors"
    files["text_model"].write_text("these are my notes, not a model" * 3)
    files["killed_run"] = d / "killed"
    files["killed_run"].mkdir()
    (files["killed_run"] / "config.json").write_text("{}")
    files["nonempty"] = d / "nonempty"
    files["nonempty"].mkdir()
    (files["nonempty"] / "keep.txt").write_text("mine")
    return files


MISTAKES = [
    # (argv with {placeholders}, a word the message must contain)
    (["train", "--data", "{d}/missing.csv"], "missing.csv"),
    (["train", "--data", "{d}/d.csv", "--target", "colour"], "colour"),
    # a table's gaps and words are typed by the column plan now (tests/workflow/test_tables.py); these
    # two files are wrong however a column is typed
    (["train", "--data", "{inf}"], "non-finite value inf"),
    (["train", "--data", "{dup}"], "duplicate column name"),
    (["train", "--data", "{empty}"], "empty"),
    (["train", "--data", "{header_only}"], "row"),
    (["train", "--data", "{pickled_npz}"], "objects.npz"),
    (["train", "--data", "{txt}"], ".csv"),
    (["train", "--data", "{d}"], ".parquet or .npz"),
    (["train", "--dataset", "mnist"], "mnist1d"),
    (["train", "--dataset", "moons", "--target", "y"], "--target"),
    (["train"], "--dataset"),
    (["train", "--dataset", "moons", "--data", "{d}/d.csv"], "not allowed"),
    (["train", "--dataset", "moons", "--l2", "-1"], "--l2"),
    (["train", "--dataset", "moons", "--l1", "abc"], "--l1"),
    (["train", "--dataset", "moons", "--keep-prob", "0"], "--keep-prob"),
    (["train", "--dataset", "moons", "--keep-prob", "1.5"], "--keep-prob"),
    (["train", "--dataset", "moons", "--layers", "a,b"], "--layers"),
    (["train", "--dataset", "moons", "--layers", "20,0"], "--layers"),
    (["train", "--dataset", "moons", "--optimizer", "sgd"], "sgd"),
    (["train", "--dataset", "moons", "--hidden", "swish"], "swish"),
    (["train", "--dataset", "moons", "--init", "orthogonal"], "orthogonal"),
    (["train", "--dataset", "moons", "--epochs", "0"], "--epochs"),
    (["train", "--dataset", "moons", "--epochs", "1e9x"], "--epochs"),
    (["train", "--dataset", "moons", "--batch-size", "-3"], "--batch-size"),
    (["train", "--dataset", "moons", "--learning-rate", "0"], "--learning-rate"),
    (["train", "--dataset", "moons", "--learning-rate", "inf"], "--learning-rate"),
    (["train", "--dataset", "moons", "--seed", "-1"], "--seed"),
    (["train", "--dataset", "moons", "--checkpoint-every", "0"], "--checkpoint-every"),
    (["train", "--dataset", "moons", "--out", "{nonempty}"], "not empty"),
    (["train", "--dataset", "moons", "--out", "{d}/d.csv"], "file"),
    (["train", "--dataset", "moons", "--resume"], "--out"),
    (["train", "--out", "{d}/fresh", "--resume"], "cannot resume"),
    (["train", "--out", "{d}/run", "--resume"], "checkpoint"),
    (["train", "--dataset", "moons", "--flag-that-does-not-exist"], "unrecognized"),
    (["evaluate", "--model", "{d}/nothing.safetensors", "--dataset", "moons"], "no such model file"),
    (["evaluate", "--model", "{truncated_model}", "--data", "{d}/d.csv"], "truncated"),
    (["evaluate", "--model", "{corrupted_model}", "--data", "{d}/d.csv"], "corrupted"),
    (["evaluate", "--model", "{foreign_model}", "--data", "{d}/d.csv"], "not one written by gradwise"),
    (["evaluate", "--model", "{text_model}", "--data", "{d}/d.csv"], "safetensors"),
    (["evaluate", "--model", "{killed_run}", "--data", "{d}/d.csv"], "model.safetensors is missing"),
    (["evaluate", "--model", "{d}/run", "--dataset", "moons"], "feature"),
    (["evaluate", "--model", "{d}/run", "--data", "{new_label}"], "maybe"),
    (["evaluate", "--model", "{d}/run", "--data", "{regression}", "--target", "label"], "regression"),
    (["evaluate", "--model", "{d}/run"], "--dataset"),
    (["predict", "--model", "{d}/run", "--data", "{two_features}"], "feature"),
    (["predict", "--model", "{d}/run", "--data", "{d}/missing.csv"], "missing.csv"),
    (["predict", "--model", "{d}/run", "--data", "{txt}"], ".csv"),
    (["predict", "--model", "{d}/run", "--data", "{d}/d.csv", "--output", "{d}"], "is a directory"),
    (["predict", "--model", "{corrupted_model}", "--data", "{d}/d.csv"], "corrupted"),
    (["diagnose", "{d}/nowhere"], "not a directory"),
    (["diagnose", "{killed_run}"], "metrics.json"),
    (["diagnose", "{d}/run", "--human-error", "150%"], "--human-error"),
    (["diagnose", "{d}/run", "--human-error", "abc"], "--human-error"),
    (["gradcheck", "--dataset", "nope"], "nope"),
    (["gradcheck", "--layers", "5,-2"], "--layers"),
    (["nonsense-command"], "invalid choice"),
]


@pytest.mark.parametrize("argv, word", MISTAKES, ids=[" ".join(a)[:60] for a, _ in MISTAKES])
def test_user_mistakes_end_in_one_line_and_exit_2(argv, word, trained_run, capsys, wf):
    base, files = trained_run
    argv = [a.format(d=base, **files) for a in argv]
    code, out, err = wf.run_main(argv, capsys)
    wf.assert_one_line_error(code, err)
    assert word.lower() in err.lower(), err


@pytest.mark.parametrize("argv, word", [
    (["train", "--data", "missing.csv"], "missing.csv"),
    (["train", "--dataset", "moons", "--layers", "a,b"], "--layers"),
    (["train", "--dataset", "moons", "--keep-prob", "0"], "--keep-prob"),
    (["evaluate", "--model", "bad.safetensors", "--data", "d.csv"], "truncated"),
])
def test_user_mistakes_as_a_subprocess(tmp_path, argv, word, wf):
    wf.write_csv(tmp_path / "d.csv", m=30)
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a")
    done = wf.gradwise(*argv, cwd=tmp_path)
    wf.assert_one_line_error(done.returncode, done.stderr)
    assert word in done.stderr
    assert done.stdout == ""
