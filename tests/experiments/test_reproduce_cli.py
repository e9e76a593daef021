"""`gradwise reproduce --quick` end to end: files, results.json structure, progress on stderr."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from gradwise.experiments.runner import NAMES

ACCURACY_SECTIONS = {
    "initialization": ("zeros", "random", "he"),
    "regularization": ("none", "l2", "dropout"),
    "optimization": ("gd", "momentum", "adam"),
}


def test_exits_cleanly_and_writes_every_file(quick_run):
    assert quick_run.returncode == 0, quick_run.stderr
    for name in ("results.json", "report.md", "report.html"):
        assert (quick_run.out / name).stat().st_size > 0
    pngs = sorted((quick_run.out / "plots").glob("*.png"))
    assert len(pngs) >= 12
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def test_progress_is_reported_per_run_and_per_experiment(quick_run):
    lines = quick_run.stderr.splitlines()
    n = len(NAMES)
    assert lines[0].startswith(f"gradwise reproduce: {n} experiments")
    assert sum(line.startswith("[") and f"/{n}]" in line for line in lines) == n
    assert any("initialization/he/course:" in line for line in lines)
    assert lines[-1].startswith("done in ")


@pytest.mark.parametrize("section", sorted(ACCURACY_SECTIONS))
def test_accuracies_and_statistics(quick_run, section):
    results = quick_run.results
    for key in ACCURACY_SECTIONS[section]:
        entry = results[section][key]
        for metric in ("train_accuracy", "test_accuracy"):
            assert 0.0 <= entry[metric] <= 1.0, (section, key, metric)
            stat = entry["statistics"][metric]
            assert stat["n"] == 2 and len(stat["values"]) == 2
            assert all(0.0 <= v <= 1.0 for v in stat["values"])
            assert stat["low"] <= stat["mean"] <= stat["high"]
            assert math.isclose(stat["mean"], sum(stat["values"]) / 2)


def test_gradient_checking_names_the_planted_bugs(quick_run):
    gc = quick_run.results["gradient_checking"]
    assert gc["1d"]["difference"] < 1e-7 and gc["1d"]["passed"]
    assert gc["nd"]["difference"] < 1e-7 and gc["nd"]["passed"]
    assert gc["nd_buggy"]["difference"] > 1e-7 and not gc["nd_buggy"]["passed"]
    # the report lists blamed parameters in the network's order (W1, b1, W2, …)
    assert gc["nd_buggy"]["flagged"] == ["b1", "W2"]


def test_sections_for_experiments_5_to_8(quick_run):
    results = quick_run.results
    assert set(results["batchnorm"]) >= {"relu", "sigmoid", "protocol"}
    for hidden in ("relu", "sigmoid"):
        for tag in ("plain", "batchnorm"):
            assert "largest_learning_rate_that_trains" in results["batchnorm"][hidden][tag]
    lin = results["vanishing"]["linear"]
    assert lin["1.5"]["measured_growth_per_layer"] == pytest.approx(1.5, rel=1e-9)
    assert lin["0.5"]["measured_growth_per_layer"] == pytest.approx(0.5, rel=1e-9)
    assert set(results["vanishing"]["deep"]) == {"relu", "tanh"}
    norm = results["normalization"]["linear"]
    assert norm["std"]["condition_number"] < norm["raw"]["condition_number"]
    mb = results["minibatch"]
    assert {"batch", "stochastic", "minibatch"} <= set(mb)
    m = mb["stochastic"]["updates_per_epoch"]
    assert m > 1000 and mb["batch"]["updates_per_epoch"] == 1
    assert mb["minibatch"]["updates_per_epoch"] == -(-m // 64)


def test_report_lists_every_experiment_and_the_quick_warning(quick_run):
    md = (quick_run.out / "report.md").read_text(encoding="utf-8")
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    for title in ("Initialization", "Regularization", "Gradient checking", "Optimization", "Batch normalization",
                  "Vanishing", "Normalizing inputs", "Mini-batch size"):
        assert any(title in h for h in headings), title
    assert "QUICK run" in md
    assert "](plots/initialization_boundaries.png)" in md
    assert "| seeds train |" in md or "seeds train" in md
    summary = quick_run.results["summary"]
    assert summary["checks"] == summary["agree"] + summary["disagree"] > 10


def test_bad_arguments_are_one_line_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gradwise", "reproduce", "--seeds", "0", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--seeds" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gradwise", "reproduce", "--only", "nonsense", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "nonsense" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


#: the experiments issue 14 added, each with checked claims in results.json
ISSUE_14 = ("l1_sparsity", "early_stopping", "augmentation", "ensembles", "hyperparameter_importance",
            "batchnorm_regularization", "l2_linear_regime")


def test_the_seven_new_experiments_have_their_keys_and_claims(quick_run):
    results = quick_run.results
    for key in ISSUE_14:
        assert key in results and results[key]["seconds"] >= 0, key
        assert any(c["experiment"] == key for c in results["checks"]), key
    assert len(results["checks"]) >= 55  # every claim of the seeds that an experiment shows
    hp = results["hyperparameter_importance"]
    assert set(hp["importance"]) == {"learning_rate", "one_minus_beta", "hidden_units", "log2_batch_size",
                                     "layers", "decay"}
    assert sum(hp["importance"].values()) == pytest.approx(1.0)
    assert sorted(hp["rank"].values()) == [1, 2, 3, 4, 5, 6]
