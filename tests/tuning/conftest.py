"""Fixtures of the tuning tests: a real PostgreSQL server on loopback, and command-line helpers."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL server (initdb into a temporary directory, started on a free loopback port).

    initdb refuses to run as root, so as root the server runs as the `postgres` user of Debian's package.
    """
    pytest.importorskip("psycopg", reason="psycopg 3 (the postgres extra) is needed to talk to PostgreSQL")
    bindir = _postgres_bin()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                    "`apt-get install postgresql` (.ci/run does it) enables this test")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="gradwise-pg-"))
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else None
        if prefix is None:
            pytest.skip("running as root without runuser to drop privileges for initdb")
    data, port = base / "data", _free_port()

    def run(*cmd: str | os.PathLike) -> None:
        subprocess.run([*prefix, *map(str, cmd)], check=True, capture_output=True, timeout=120)

    try:
        run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run(bindir / "pg_ctl", "-D", data, "-l", base / "server.log", "-w", "-t", "60", "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        run(bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gradwise")
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr!r} {log[-2000:]}") from exc
    # If this test process is killed (a CI timeout), the finally below never runs: a watchdog stops the
    # server and removes its files once this process is gone.
    stop = " ".join(shlex.quote(str(a)) for a in [*prefix, bindir / "pg_ctl", "-D", data, "-m", "immediate",
                                                  "stop"])
    watchdog = subprocess.Popen(
        ["sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; {stop}; "
                     f"rm -rf {shlex.quote(str(base))}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/gradwise"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
        watchdog.kill()
        watchdog.wait()


class Gradwise:
    """Start `python -m gradwise …` processes (one BLAS thread each, this checkout's sources)."""

    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.env["OPENBLAS_NUM_THREADS"] = "1"
        self.env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + self.env.get("PYTHONPATH", "")
        self.started: list[subprocess.Popen] = []

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "gradwise", *map(str, args)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
        self.started.append(proc)
        return proc

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gradwise", *map(str, args)], env=self.env,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def gradwise_cli():
    helper = Gradwise()
    yield helper
    for proc in helper.started:  # only the processes this test started
        if proc.poll() is None:
            proc.kill()
            proc.wait()
