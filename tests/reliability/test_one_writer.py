"""One writer for `reproduce --out DIR` and for run directories, proven with deterministic holds.

`reproduce`: each process writes its report into a private staging directory and moves it into DIR under
an flock of ``DIR/.reproduce.lock``. Process A is held inside that move (lock taken), B is started, computes
its own report and is seen waiting for the lock in ``/proc/locks``; A is released. Both exit 0 and say where
the report is; DIR holds one complete report, no staging directory is left.

Run directories: a `gradwise train --out RUN` holds RUN's claim file flock'ed while it lives. Held inside its
third epoch, a `--resume` of RUN is refused at once in one line naming the writer's pid (exit 2; a user
expects an error, not an hours-long wait nor two writers interleaving history.csv); once the writer has
finished, the same `--resume` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import blocked_on, held_script, subprocess_env, wait_for

REPRODUCE = ["reproduce", "--quick", "--only", "gradient_checking", "--jobs", "1", "--seeds", "1"]

HELD_PUBLISHING = held_script("gradwise.experiments.runner", "publish_entries")

HELD_TRAINING = r"""
import sys, time
from pathlib import Path
from gradwise.tracking import CSVLogger
from gradwise.cli import main

inside, release = Path(sys.argv[1]), Path(sys.argv[2])
real = CSVLogger.on_epoch_end

def held(self, epoch, logs):
    real(self, epoch, logs)
    if epoch == 2:
        inside.write_text("in")
        while not release.exists():
            time.sleep(0.02)

CSVLogger.on_epoch_end = held
sys.exit(main(sys.argv[3:]))
"""


def _popen(*argv: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *argv], env=subprocess_env(), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_reproduce_into_one_directory_publish_one_after_the_other(tmp_path):
    out, inside, release = tmp_path / "report", tmp_path / "inside", tmp_path / "release"
    first = _popen("-c", HELD_PUBLISHING, str(inside), str(release), *REPRODUCE, "--out", str(out), cwd=tmp_path)
    second = None
    try:
        wait_for(inside.exists, "the first report to be ready to publish", [first])
        second = _popen("-m", "gradwise", *REPRODUCE, "--out", str(out), cwd=tmp_path)
        wait_for(lambda: blocked_on(out / ".reproduce.lock"), "the second to wait for the lock", [second])
        release.write_text("go")
        results = [p.communicate(timeout=300) for p in (first, second)]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    for proc, (_, err) in zip((first, second), results, strict=True):
        assert proc.returncode == 0, err
        assert err.strip().splitlines()[-1].endswith(f"Report: {out / 'report.html'}")
    assert sorted(p.name for p in out.iterdir()) == [".reproduce.lock", "plots", "report.html", "report.md",
                                                      "results.json"]
    assert "gradient_checking" in json.loads((out / "results.json").read_text())
    assert "Gradient checking" in (out / "report.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inside", "release", "report"]  # no staging left


def test_resuming_a_run_that_another_process_still_writes_is_refused(tmp_path):
    run, inside, release = tmp_path / "run", tmp_path / "inside", tmp_path / "release"
    train = ["train", "--dataset", "moons", "--layers", "4", "--epochs", "5", "--checkpoint-every", "1",
             "--seed", "1", "--quiet", "--out", str(run)]
    writer = _popen("-c", HELD_TRAINING, str(inside), str(release), *train, cwd=tmp_path)
    try:
        wait_for(inside.exists, "the training to reach its third epoch", [writer])
        before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
        refused = subprocess.run([sys.executable, "-m", "gradwise", "train", "--out", str(run), "--resume",
                                  "--epochs", "8", "--quiet"], env=subprocess_env(), cwd=tmp_path,
                                 capture_output=True, text=True, timeout=180)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip() == (f"gradwise train: error: run directory '{run}' is being written by "
                                          f"another process (pid {writer.pid}); wait for it to end, or choose "
                                          f"another --out")
        assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
        release.write_text("go")
        _, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err
    finally:
        if writer.poll() is None:
            writer.kill()
    resumed = subprocess.run([sys.executable, "-m", "gradwise", "train", "--out", str(run), "--resume",
                              "--epochs", "8", "--quiet"], env=subprocess_env(), cwd=tmp_path,
                             capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run / "metrics.json").read_text())["epochs_trained"] == 8
