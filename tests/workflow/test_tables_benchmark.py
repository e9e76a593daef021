"""The logic of benchmarks/tables.py (the benchmark itself is not a test): the summary over splits, the
verdict on the means, and the check that a CLI run was scored on the benchmark's own split."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("benchmark_tables", ROOT / "benchmarks" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmark_tables"] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    yield module
    del sys.modules["benchmark_tables"]


def _split(t, ours: float, mlp: float, auc_ours: float = 0.99, auc_mlp: float = 0.99) -> dict:
    def row(acc, auc):
        return {"accuracy": acc, "balanced_accuracy": acc - 0.01, "roc_auc": auc, "seconds": 1.0}
    return {t.GRADWISE: row(ours, auc_ours), t.MLP: row(mlp, auc_mlp), t.HGB: row(0.5, 0.5)}


def test_summary_means_stds_and_the_ahead_tied_behind_count(tables):
    t = tables
    # 67/69 reached two ways (a float tie must count as a tie), one split ahead, two behind
    splits = [_split(t, 67 / 69, 1 - 2 / 69), _split(t, 68 / 69, 67 / 69), _split(t, 66 / 69, 67 / 69),
              _split(t, 65 / 69, 68 / 69)]
    s = t.summarize(splits)
    assert s["count"] == {"ahead": 1, "tied": 1, "behind": 2} and s["splits"] == 4
    ours = np.array([67, 68, 66, 65]) / 69
    assert s["mean"][t.GRADWISE]["accuracy"] == pytest.approx(ours.mean())
    assert s["std"][t.GRADWISE]["accuracy"] == pytest.approx(ours.std())
    assert s["mean"][t.MLP]["balanced_accuracy"] == pytest.approx((67 + 68 + 67 + 67) / 69 / 4 - 0.01)
    assert s["std"][t.HGB]["roc_auc"] == 0.0


def test_the_goal_is_judged_on_the_means_with_a_margin_of_0_01(tables):
    t = tables
    # behind on one split by 0.0145 (one row of 69), ahead on the other: the means are level
    level = t.summarize([_split(t, 0.9710, 0.9855), _split(t, 1.0, 0.9855)])
    assert t.goal_met(level) and "met (accuracy" in t.verdict(level) and "NOT" not in t.verdict(level)
    assert t.gaps(level)["accuracy"] == pytest.approx((0.9710 + 1.0) / 2 - 0.9855)
    behind = t.summarize([_split(t, 0.97, 0.985), _split(t, 0.97, 0.985)])
    assert not t.goal_met(behind) and "NOT met (accuracy -0.0150" in t.verdict(behind)
    auc_behind = t.summarize([_split(t, 0.99, 0.98, auc_ours=0.90, auc_mlp=0.92)])
    assert not t.goal_met(auc_behind)
    within = t.summarize([_split(t, 0.99, 0.98, auc_ours=0.911, auc_mlp=0.92)])
    assert t.goal_met(within)


def test_a_run_is_checked_against_the_benchmarks_split(tables, tmp_path, wf):
    palmerpenguins = pytest.importorskip("palmerpenguins")
    t = tables
    data = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    done = wf.gradwise("train", "--data", str(data), "--target", "species", "--seed", "3", "--epochs", "5",
                       "--out", "run", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    table = t.load_table(data, target="species")
    t.check_same_split(tmp_path / "run", table, t.split_indices(table.y, table.is_test, seed=3), written)
    with pytest.raises(RuntimeError, match="not this benchmark's split"):  # same sizes, other rows
        t.check_same_split(tmp_path / "run", table, t.split_indices(table.y, table.is_test, seed=4), written)
    index = t.split_indices(table.y, table.is_test, seed=3)
    index["test"] = index["test"][:-1]
    with pytest.raises(RuntimeError, match="the CLI split"):
        t.check_same_split(tmp_path / "run", table, index, written)
