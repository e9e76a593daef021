"""Concurrency: processes writing runs into the same parent directory at the same time never clash.

Unnamed runs get unique directories (time, pid, random bits, `mkdir(exist_ok=False)`); a named run
directory is claimed exclusively (O_EXCL marker), so two processes given the same `--out` cannot both
write into it. Tested through `gradwise.runs` with several processes started together, and through the
command line (`gradwise train` without `--out`, twice at once).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gradwise as gw

from .conftest import subprocess_env

WORKER = r"""
import json, sys, time
from pathlib import Path
from gradwise import runs
from gradwise.errors import GradwiseValueError

parent, go, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
created = [str(runs.new_run_dir(parent)) for _ in range(count)]
try:
    claimed = str(runs.claim_run_dir(parent / "shared"))
except GradwiseValueError as exc:
    claimed = "refused: " + str(exc)
print(json.dumps({"created": created, "claimed": claimed}))
"""


@pytest.fixture(scope="module")
def started_together(tmp_path_factory) -> tuple[Path, list[dict]]:
    """3 processes released at once: each creates 30 unnamed runs, then all claim the same named one."""
    root = tmp_path_factory.mktemp("concurrent")
    go = root / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(root / "runs"), str(go), "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        for _ in range(3)
    ]
    time.sleep(1.0)  # let them import and wait at the barrier
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    return root, results


def test_many_processes_creating_unnamed_runs_get_distinct_directories(started_together):
    root, results = started_together
    paths = [p for r in results for p in r["created"]]
    assert len(paths) == 90 and len(set(paths)) == 90
    for path in map(Path, paths):
        assert path.parent == root / "runs" and path.is_dir()
        assert (path / ".gradwise-run").read_text().strip().isdigit()  # claimed by its creator's pid
    pids = [{Path(p).name.split("-")[2] for p in r["created"]} for r in results]
    assert all(len(s) == 1 for s in pids) and len(set().union(*pids)) == 3  # each its own pid


def test_one_named_run_directory_is_claimed_by_exactly_one_process(started_together):
    _, results = started_together
    outcomes = [r["claimed"] for r in results]
    winners = [o for o in outcomes if not o.startswith("refused")]
    assert len(winners) == 1, outcomes
    for loser in (o for o in outcomes if o.startswith("refused")):
        assert "being written by another process" in loser or "already exists and is not empty" in loser


def test_two_cli_trainings_into_the_same_runs_folder(tmp_path):
    """Two users (or a script) run `gradwise train` at the same moment in one directory, no --out."""
    code = "import runpy, sys; sys.argv[0] = 'gradwise'; runpy.run_module('gradwise', run_name='__main__')"
    argv = ["train", "--dataset", "xor", "--layers", "3", "--epochs", "2", "--batch-size", "full", "--quiet"]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, *argv, "--seed", str(seed)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        for seed in (1, 2)
    ]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert "Traceback" not in err
    run_dirs = sorted((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 2
    seeds = set()
    for run in run_dirs:
        config = json.loads((run / "config.json").read_text())
        seeds.add(config["settings"]["seed"])
        metrics = json.loads((run / "metrics.json").read_text())
        model = gw.load(run)
        assert model.epochs_trained == metrics["epochs_trained"] == 2
        assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
    assert seeds == {1, 2}
