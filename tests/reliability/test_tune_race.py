"""Two `gradwise tune` processes with the same --out: the final run is written by one at a time.

The race of issue 17 (one process's replacement of ``best/`` removed the other's temporary file, exit 2)
is reproduced deterministically: worker A is held inside its final write (its `runs.write_metrics` waits
for a file), worker B is started and observed blocked on the lock (``/proc/locks``), then A is released.
"""

from __future__ import annotations

import json
import subprocess
import sys

import gradwise as gw

from .conftest import blocked_on, held_script, subprocess_env, wait_for

ARGS = ["tune", "--dataset", "moons", "--trials", "2", "--fine-trials", "0", "--epochs", "3",
        "--hidden-units", "4:8", "--layers", "1:1", "--seed", "0"]

HELD = held_script("gradwise.runs", "write_metrics")


def test_second_tune_with_the_same_out_waits_and_reuses_the_final_run(tmp_path):
    out = tmp_path / "tune"
    inside, release = tmp_path / "inside", tmp_path / "release"
    argv = [*ARGS, "--out", str(out)]
    env = subprocess_env()
    a = subprocess.Popen([sys.executable, "-c", HELD, str(inside), str(release), *argv], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        wait_for(lambda: inside.exists() or a.poll() is not None, "worker A inside its final write")
        assert a.poll() is None, a.communicate()
        b = subprocess.Popen([sys.executable, "-m", "gradwise", *argv], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        wait_for(lambda: blocked_on(out / ".final.lock") or b.poll() is not None,
                  "worker B waiting for the final run")
        assert b.poll() is None, b.communicate()  # B waits: it did not write into A's directory
        release.write_text("go")
        out_a, err_a = a.communicate(timeout=180)
        out_b, err_b = b.communicate(timeout=180)
    finally:
        release.write_text("go")
        a.kill()
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    assert err_b == "" or "error" not in err_b
    assert f"already trained and tested by another worker -> {out / 'best'}" in out_b
    assert not [p.name for p in out.iterdir() if ".staging-" in p.name or ".old-" in p.name]
    model = gw.load(out / "best" / "model.safetensors")
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    summary_b = json.loads((out / "summary.json").read_text())
    assert model.epochs_trained == metrics["epochs_trained"]
    assert summary_b["final"][0]["test"] == metrics["test"]  # B reports the result A wrote
