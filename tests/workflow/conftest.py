"""Helpers for the workflow tests: run the command line as a user would, and small data files.

Test modules reach them through the `wf` fixture (a namespace), which works whatever pytest's import mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def gradwise(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m gradwise ARGS` in `cwd`, as a user runs it (non-interactive: no progress display)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "gradwise", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    """The same command in-process (`gradwise.cli.main`): exit code, stdout, stderr.

    Used for the long list of user mistakes, so that each costs no interpreter start-up; the subprocess
    tests show that the process boundary adds nothing (the same main is the entry point of both).
    """
    from gradwise.cli import main

    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str) -> None:
    assert code == 2, f"exit code {code}, stderr: {err!r}"
    assert "Traceback" not in err, err
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {err!r}"
    assert "error" in lines[0]


def write_csv(path: Path, m: int = 240, seed: int = 0, labels=("no", "yes")) -> Path:
    """A 3-feature CSV with a text target: `label` = yes iff a + b² > 0.5 (learnable, non-linear)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 3))
    y = np.where(X[:, 0] + X[:, 1] ** 2 > 0.5, labels[1], labels[0])
    lines = ["a,b,c,label"]
    lines += [",".join([*(repr(float(v)) for v in row), str(t)]) for row, t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def wf() -> SimpleNamespace:
    return SimpleNamespace(gradwise=gradwise, run_main=run_main, assert_one_line_error=assert_one_line_error,
                           write_csv=write_csv)
