"""Where a study lives, and how trials of dead workers are found and retried.

Storage, by what the user needs
    - one process (the default): a SQLite file ``study.db`` in the output directory — a killed study
      resumes from it with ``load_if_exists``;
    - ``workers=K`` local processes: an Optuna journal file ``study.journal`` (an append-only log with a
      file lock), because SQLite does not take concurrent writers well;
    - several machines: any Optuna RDB URL, e.g. ``postgresql://user:pass@host/db`` (needs the
      ``postgres`` extra, psycopg 3 — the driver SQLAlchemy 2.1 picks for a bare ``postgresql://``, so the
      same URL works in Optuna's own tools — or ``psycopg2-binary``).

Dead workers
    A trial whose worker is killed stays RUNNING forever unless someone notices. Two mechanisms do:
    RDB storages (SQLite, PostgreSQL) get Optuna's *heartbeat*: the worker records a heartbeat every
    `heartbeat` seconds, and trials silent for twice that long are failed by any worker
    (``fail_stale_trials``). Optuna's journal storage has no heartbeat (as of Optuna 5.0), so every trial
    also records its worker's host and process: a RUNNING trial whose process is gone from *this*
    machine is failed at once, on any storage. Either way the failed trial is re-queued with the same
    parameters by Optuna's ``RetryHeartbeatStaleTrialCallback`` (up to 3 times).

    Claiming a ticket (WAITING → RUNNING) and recording who runs it are two writes; a worker killed
    between them leaves a RUNNING trial with neither a worker nor a heartbeat. So a worker first signs
    the ticket as a *claimant* (one attribute per process, so concurrent claimants don't overwrite each
    other), then claims it: a RUNNING trial without a worker whose claimants are all dead here is failed
    at once; one with a claimant elsewhere is failed after this reaper has seen it ownerless for
    `ORPHAN_GRACE` seconds (its own clock: machines' clocks may disagree).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from ..errors import GradwiseValueError

__all__ = ["resolve_storage", "open_storage", "describe", "reap", "Heartbeat", "worker_identity"]

WORKER_ATTR = "gradwise:worker"
CLAIMANT_PREFIX = "gradwise:claimant:"
ORPHAN_GRACE = 120.0
MAX_RETRY = 3
DB_FILE = "study.db"
JOURNAL_FILE = "study.journal"
MEMORY = "memory"


@contextlib.contextmanager
def _quiet():
    """Optuna flags its heartbeat and retry helpers as experimental; the warning is noise to our users."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


# ------------------------------------------------------------------------------------ resolving


def resolve_storage(storage: Any, out: str | Path | None, workers: int) -> Any:
    """Turn the user's `storage` into a spec every worker process can reopen.

    Returns a string: an RDB URL (``sqlite:///…``, ``postgresql://…``, ``mysql://…``), ``journal:PATH`` or
    ``memory``; or the user's own Optuna storage object (one process only).
    """
    if storage is not None and not isinstance(storage, str | os.PathLike):
        from optuna.storages import BaseStorage

        if not isinstance(storage, BaseStorage):
            raise GradwiseValueError(
                f"storage must be an Optuna storage URL, a journal file path or an Optuna storage, "
                f"got {storage!r}")
        if workers > 1:
            raise GradwiseValueError("workers > 1 needs a storage URL or path that other processes can open")
        return storage
    if storage is None:
        if out is None:
            if workers > 1:
                raise GradwiseValueError("workers > 1 needs an output directory (out=) or a storage URL")
            return MEMORY
        out = Path(out).resolve()
        journal, db = out / JOURNAL_FILE, out / DB_FILE
        if journal.exists() or (workers > 1 and not db.exists()):
            return f"journal:{journal}"
        if workers > 1:
            raise GradwiseValueError(
                f"{db} is a SQLite study, which does not take concurrent workers; resume it with "
                f"workers=1 (--workers 1), or share it through --storage postgresql://…")
        return f"sqlite:///{db}"
    text = os.fspath(storage).strip()
    lower = text.lower()
    if lower in (MEMORY, ":memory:"):
        if workers > 1:
            raise GradwiseValueError("an in-memory study cannot be shared by several worker processes")
        return MEMORY
    if lower.startswith("journal:"):
        return f"journal:{Path(text[len('journal:'):]).resolve()}"
    if lower.endswith((".journal", ".log")) and "://" not in lower:
        return f"journal:{Path(text).resolve()}"
    if lower.endswith(".db") and "://" not in lower:
        return f"sqlite:///{Path(text).resolve()}"
    if lower.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://"):]
        lower = text.lower()
    if lower.startswith("postgresql://"):
        return _postgres_driver(text)
    if lower.startswith(("sqlite://", "postgresql+", "mysql://", "mysql+")):
        return text
    raise GradwiseValueError(
        f"storage {storage!r} is not a storage this command knows: give an Optuna RDB URL "
        f"(postgresql://user:password@host:5432/db, sqlite:///path.db, mysql://…) or a journal file "
        f"(PATH.journal)")


def _postgres_driver(url: str) -> str:
    """Name the installed driver in the URL: a bare `postgresql://` means psycopg2 to SQLAlchemy 2.0 but
    psycopg 3 to SQLAlchemy 2.1, so it fails whenever the other one is installed."""
    import importlib.util

    rest = url[len("postgresql://"):]
    if importlib.util.find_spec("psycopg") is not None:
        return "postgresql+psycopg://" + rest
    if importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + rest
    raise GradwiseValueError(
        "a PostgreSQL storage needs a driver: pip install 'gradwise[postgres]' (psycopg 3)")


def describe(spec: Any) -> str:
    """The spec for people: a URL without its password, or the file."""
    if not isinstance(spec, str):
        return type(spec).__name__
    if spec.startswith("journal:"):
        return f"journal file {spec[len('journal:'):]}"
    if spec.startswith("sqlite:///"):
        return f"SQLite file {spec[len('sqlite:///'):]}"
    if spec == MEMORY:
        return "memory (not saved)"
    with contextlib.suppress(Exception):
        from sqlalchemy.engine import make_url

        return make_url(spec).render_as_string(hide_password=True)
    return spec.split("@")[-1]


def open_storage(spec: Any, heartbeat: int | None = 60):
    """An Optuna storage for `spec` (see :func:`resolve_storage`).

    RDB storages get a heartbeat every `heartbeat` seconds (None: off), a grace period of twice that, and
    retry stale trials with Optuna's ``RetryHeartbeatStaleTrialCallback(max_retry=3)``.
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if not isinstance(spec, str):
        return spec
    if spec == MEMORY:
        return optuna.storages.InMemoryStorage()
    if spec.startswith("journal:"):
        path = Path(spec[len("journal:"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    kwargs: dict[str, Any] = {}
    engine: dict[str, Any] = {}
    if spec.startswith("sqlite:///"):
        path = Path(spec[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        engine["creator"] = _sqlite_connector(path)
    else:
        engine["pool_pre_ping"] = True  # a server restart must not kill long-running workers
    if heartbeat:
        kwargs.update(heartbeat_interval=int(heartbeat), grace_period=2 * int(heartbeat),
                      heartbeat_stale_trial_callback=retry_callback())
    try:
        return _create_rdb(spec, engine, kwargs)
    except ModuleNotFoundError as exc:
        raise GradwiseValueError(f"the storage {describe(spec)} needs the Python package {exc.name!r}") \
            from None
    except Exception as exc:  # connection refused, bad credentials, unknown database …
        message = " ".join(str(exc).split())[:300]
        raise GradwiseValueError(f"cannot open the storage {describe(spec)}: {message}") from None


def _create_rdb(spec: str, engine: dict, kwargs: dict):
    """RDBStorage, retried when another worker is creating Optuna's tables in the same empty database at
    the same moment (PostgreSQL then reports a duplicate type or table to the slower one)."""
    import random

    from optuna.storages import RDBStorage
    from sqlalchemy.exc import DBAPIError

    for attempt in range(6):
        try:
            with _quiet():
                return RDBStorage(spec, engine_kwargs=dict(engine), **kwargs)
        except DBAPIError as exc:
            text = str(exc).lower()
            if attempt == 5 or not ("already exists" in text or "duplicate" in text):
                raise
            time.sleep(0.2 + random.random() * 0.5 * (attempt + 1))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")


def _sqlite_connector(path: Path):
    """SQLite connections in WAL mode with synchronous=NORMAL.

    Optuna writes a few rows per epoch (intermediate values for pruning); with SQLite's default rollback
    journal each commit waits for an fsync, which made short trials mostly waiting. In WAL mode with
    synchronous=NORMAL a commit survives the *process* being killed — the case that matters here, a study
    resumed after a crash — and only a power cut could lose the last commits.
    """
    import sqlite3

    def connect():
        # check_same_thread: the heartbeat thread shares the pool; timeout: wait for a lock, don't fail
        connection = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return connect


def retry_callback():
    """Optuna's retry callback, minus the dead worker's signature.

    The retry copies the failed trial's system attributes; a copied worker or claimant would make the
    retry look dead (and be failed again) while its new worker is between claiming and signing it.
    """
    import copy

    from optuna.storages import RetryHeartbeatStaleTrialCallback

    with _quiet():
        retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)

    def callback(study, trial) -> None:
        trial = copy.copy(trial)
        trial.system_attrs = {k: v for k, v in trial.system_attrs.items()
                              if k != WORKER_ATTR and not k.startswith(CLAIMANT_PREFIX)}
        retry(study, trial)

    return callback


# -------------------------------------------------------------------------------- dead workers


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux), to tell a reused pid from ours."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def worker_identity() -> dict[str, Any]:
    """This process as stored in its trials: host name, boot id, pid and start time."""
    return {"host": socket.gethostname(), "boot": _read("/proc/sys/kernel/random/boot_id"),
            "pid": os.getpid(), "start": _process_start(os.getpid())}


def _is_dead_here(worker: Any) -> bool:
    """True if `worker` ran on this machine and its process is gone (or the machine rebooted since)."""
    if not isinstance(worker, dict) or worker.get("host") != socket.gethostname():
        return False  # another machine: only the heartbeat can tell
    me = worker_identity()
    if worker.get("boot") and me["boot"] and worker["boot"] != me["boot"]:
        return True
    pid = worker.get("pid")
    if not isinstance(pid, int):
        return False
    if pid == me["pid"]:  # this process, or an earlier one whose pid it inherited
        return worker.get("start") not in (None, me["start"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    stat = _read(f"/proc/{pid}/stat")
    if stat is not None and stat[stat.rfind(")") + 2:].startswith("Z"):
        return True  # killed, not yet reaped by its parent
    start = worker.get("start")
    return start is not None and _process_start(pid) not in (None, start)


def sign_claim(study, trial_id: int, identity: dict[str, Any]) -> None:
    """Sign a WAITING ticket as about to be claimed by this process (see the module docstring)."""
    key = f"{CLAIMANT_PREFIX}{identity['host']}:{identity['pid']}"
    study._storage.set_trial_system_attr(trial_id, key, identity)


# trials seen RUNNING without a worker and without a claimant known dead: (study, trial id) -> first seen
_ownerless_since: dict[tuple[str, int], float] = {}


def _lost_before_starting(study, trial) -> bool:
    """A RUNNING trial whose worker was killed between claiming it and recording itself."""
    claimants = [v for k, v in trial.system_attrs.items() if k.startswith(CLAIMANT_PREFIX)]
    if claimants and all(_is_dead_here(c) for c in claimants):
        return True
    key = (study.study_name, trial._trial_id)
    first_seen = _ownerless_since.setdefault(key, time.monotonic())
    if time.monotonic() - first_seen < ORPHAN_GRACE:
        return False
    del _ownerless_since[key]  # failed now: nothing more to remember
    return True


def reap(study) -> list[int]:
    """Fail the RUNNING trials of dead workers and re-queue them; return the failed trials' numbers.

    Uses Optuna's heartbeat (RDB storages) and this machine's process table (every storage).
    """
    import optuna
    from optuna.trial import TrialState

    failed = []
    with _quiet():
        before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        optuna.storages.fail_stale_trials(study)
        failed += [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
                   if t.number not in before]
        callback = retry_callback()
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            worker = trial.system_attrs.get(WORKER_ATTR)
            dead = _is_dead_here(worker) if worker is not None else _lost_before_starting(study, trial)
            if not dead:
                continue
            try:
                if not study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                    continue
            except optuna.exceptions.UpdateFinishedTrialError:
                continue  # another worker got there first
            callback(study, study._storage.get_trial(trial._trial_id))
            failed.append(trial.number)
    return failed


class Heartbeat:
    """Record the trial's heartbeat every interval in a thread, for storages that have one (RDB)."""

    def __init__(self, storage, trial_id: int):
        interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _beat(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a lost beat is retried; the trial must go on
                self.storage.record_heartbeat(self.trial_id)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Heartbeat:
        if self.interval:
            self._thread = threading.Thread(target=self._beat, name="gradwise-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
