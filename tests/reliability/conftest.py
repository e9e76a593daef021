"""Fixtures for the reliability tests: small data, a trained run directory, and a CLI runner.

`cli(*argv)` runs `gradwise.cli.main` in-process (as the console script does) and returns
`(exit_code, stdout, stderr)`; an exception escaping `main` fails the test, because a user would have
seen a traceback.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


def small_data(m: int = 24, n: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = (X[:, 0] + 0.3 * rng.standard_normal(m) > 0).astype(np.int64)
    return X, y


@pytest.fixture
def data():
    """X (24, 3) float64, binary labels y (24,), and 3-class labels y3 (24,)."""
    X, y = small_data()
    return types.SimpleNamespace(X=X, y=y, y3=np.arange(24) % 3)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    from gradwise.cli import main

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse exits on bad flags
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli():
    return run_cli


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTHONWARNINGS", None)
    return env


def held_script(module: str, name: str) -> str:
    """`python -c SCRIPT INSIDE RELEASE ARGV…` runs `gradwise.cli.main(ARGV)` with `module.name` held: on its
    call it writes the file INSIDE, waits until the file RELEASE exists, then makes the real call."""
    return f"""
import importlib, sys, time
from pathlib import Path
from gradwise.cli import main

inside, release = Path(sys.argv[1]), Path(sys.argv[2])
module = importlib.import_module({module!r})
real = getattr(module, {name!r})

def held(*args, **kwargs):
    inside.write_text("in")
    while not release.exists():
        time.sleep(0.02)
    return real(*args, **kwargs)

setattr(module, {name!r}, held)
sys.exit(main(sys.argv[3:]))
"""


def wait_for(condition, what: str, procs=(), timeout: float = 180) -> None:
    """Poll `condition()` until true; fail naming `what` (and the stderr of any of `procs` that died)."""
    deadline = time.monotonic() + timeout
    while not condition():
        dead = [p for p in procs if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise AssertionError(f"waiting for {what}: " + "; ".join(p.communicate()[1][-2000:] for p in dead))
        time.sleep(0.05)


def blocked_on(lock: Path) -> bool:
    """True when some process waits for an flock on `lock` (Linux: '->' lines of /proc/locks)."""
    if not lock.exists():
        return False
    inode = os.stat(lock).st_ino
    text = Path("/proc/locks").read_text()
    return any("->" in line and line.split()[-3].endswith(f":{inode}") for line in text.splitlines())


def run_python(code: str, *args: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -c code args…` with the package importable, capturing text output."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """A finished `gradwise train` run on 2-D data (moons), trained for 2 epochs."""
    path = tmp_path_factory.mktemp("runs") / "moons"
    code, _, err = run_cli("train", "--dataset", "moons", "--layers", "4", "--epochs", "2", "--seed", "1",
                           "--out", path, "--quiet")
    assert code == 0, err
    return path


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory) -> tuple[Path, gw.Sequential]:
    """(path, model): a small softmax model saved with `gw.save`."""
    model = gw.mlp([3, 5, 3], output="softmax", seed=4)
    path = gw.save(model, tmp_path_factory.mktemp("models") / "model.safetensors")
    return path, model
