"""One `gradwise reproduce --quick` run in a subprocess, shared by the end-to-end and browser tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class QuickRun:
    out: Path
    returncode: int
    stderr: str
    seconds: float

    @property
    def results(self) -> dict:
        return json.loads((self.out / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory) -> QuickRun:
    out = tmp_path_factory.mktemp("reproduce") / "report"
    env = {**os.environ, "GRADWISE_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gradwise", "reproduce", "--quick", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    return QuickRun(out, proc.returncode, proc.stderr, time.perf_counter() - start)
