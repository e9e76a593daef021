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

    Failing a trial and queueing its retry are two writes too, and a reaper killed between them left a
    failed ticket that nobody retried (the chaos test's one unexplained failure; two reapers recovering
    such a trial at once would queue it twice). So every FAIL-and-retry runs under one lock per storage —
    a PostgreSQL advisory lock (MySQL: ``GET_LOCK``) or an ``flock`` beside a SQLite/journal file, both
    released by the server or the kernel if their holder dies — and the rule is stated on the study
    itself: a FAIL trial without an ``error`` attribute (killed, silent, preempted) has exactly one retry,
    within its retry budget. Any reaper, under the lock, queues the missing one.

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import GradwiseValueError

__all__ = ["resolve_storage", "open_storage", "describe", "reap", "requeue", "Heartbeat", "worker_identity",
           "awaits_retry"]

WORKER_ATTR = "gradwise:worker"
CLAIMANT_PREFIX = "gradwise:claimant:"
#: set on a trial its own worker returned to the queue (SIGTERM, Ctrl-C): retried whatever its budget
REQUEUED_ATTR = "gradwise:requeued"
#: a trial that raised is failed with this user attribute and is not retried (it would fail again)
ERROR_ATTR = "error"
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

    RDB storages get a heartbeat every `heartbeat` seconds (None: off) and a grace period of twice that;
    :func:`reap` retries the stale trials with Optuna's ``RetryHeartbeatStaleTrialCallback(max_retry=3)``.
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
        # no stale-trial callback: Optuna would queue the retry outside our lock (see `reap`)
        kwargs.update(heartbeat_interval=int(heartbeat), grace_period=2 * int(heartbeat))
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


def retry_callback(max_retry: int | None = MAX_RETRY):
    """Optuna's retry callback, minus the dead worker's signature.

    The retry copies the failed trial's system attributes; a copied worker or claimant would make the
    retry look dead (and be failed again) while its new worker is between claiming and signing it. The
    retry history is copied too, not shared with the failed trial (Optuna appends to the list it copied).
    """
    import copy

    from optuna.storages import RetryHeartbeatStaleTrialCallback

    with _quiet():
        retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retry)

    def callback(study, trial) -> None:
        trial = copy.copy(trial)
        trial.system_attrs = {k: copy.deepcopy(v) for k, v in trial.system_attrs.items()
                              if k not in (WORKER_ATTR, REQUEUED_ATTR) and not k.startswith(CLAIMANT_PREFIX)}
        retry(study, trial)

    return callback


def retried_from(trial) -> int | None:
    """The number of the trial that `trial` retries (the last of its retry history), or None."""
    history = trial.system_attrs.get("retry_history")
    return history[-1] if isinstance(history, list) and history else None


def awaits_retry(trial, retried: set[int]) -> bool:
    """True if `trial` failed for a reason that is not its own (killed, silent, preempted), is within its
    retry budget, and no trial retries it yet (`retried`: the numbers that have a retry)."""
    from optuna.trial import TrialState

    if trial.state != TrialState.FAIL or ERROR_ATTR in trial.user_attrs or trial.number in retried:
        return False
    if trial.system_attrs.get(REQUEUED_ATTR):
        return True
    return len(trial.system_attrs.get("retry_history", [])) < MAX_RETRY


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
    first_seen = _ownerless_since.setdefault((study.study_name, trial._trial_id), time.monotonic())
    return time.monotonic() - first_seen >= ORPHAN_GRACE


def reap(study) -> list[int]:
    """Fail the RUNNING trials of dead workers and queue each failed trial's retry; return the numbers of
    the trials this call failed.

    Dead: silent past the heartbeat's grace period (RDB storages) or gone from this machine's process
    table (every storage). Looked for without the lock (nearly always nothing is found); failed and
    retried under it, after a fresh read.
    """
    import optuna
    from optuna.trial import TrialState

    with _quiet():
        before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        optuna.storages.fail_stale_trials(study)  # FAIL only: no callback is configured (see open_storage)
    failed = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
              if t.number not in before]
    if not _work_for_reaper(study):
        return failed
    with study_lock(study):
        trials = study.get_trials(deepcopy=False)
        for trial in trials:
            if trial.state == TrialState.RUNNING and _lost(study, trial) and _fail(study, trial._trial_id):
                failed.append(trial.number)
                _ownerless_since.pop((study.study_name, trial._trial_id), None)  # nothing more to remember
        _queue_missing_retries(study)
    return failed


def _lost(study, trial) -> bool:
    worker = trial.system_attrs.get(WORKER_ATTR)
    return _is_dead_here(worker) if worker is not None else _lost_before_starting(study, trial)


def _work_for_reaper(study) -> bool:
    """A RUNNING trial of a dead worker, or a failed trial awaiting its retry (a cheap look, no lock)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {n for n in map(retried_from, trials) if n is not None}
    return any(awaits_retry(t, retried) or (t.state == TrialState.RUNNING and _lost(study, t)) for t in trials)


def _fail(study, trial_id: int) -> bool:
    """RUNNING → FAIL, atomically; False if another process finished or failed it first."""
    import optuna
    from optuna.trial import TrialState

    try:
        return bool(study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL))
    except optuna.exceptions.UpdateFinishedTrialError:
        return False


def _queue_missing_retries(study) -> None:
    """Queue the retry of every failed trial that awaits one (call under `study_lock`)."""
    trials = study.get_trials(deepcopy=False)
    retried = {n for n in map(retried_from, trials) if n is not None}
    for trial in trials:
        if awaits_retry(trial, retried):
            fresh = study._storage.get_trial(trial._trial_id)
            retry_callback(None if fresh.system_attrs.get(REQUEUED_ATTR) else MAX_RETRY)(study, fresh)


def requeue(study, trial_id: int, reason: str) -> None:
    """Return a RUNNING trial of this process to the queue: failed (not an error: `reason` is recorded)
    and retried with the same parameters, whatever its retry budget (a preemption is not the trial's
    fault). Under the reaper's lock, so a reaper never queues the same retry."""
    with study_lock(study):
        study._storage.set_trial_system_attr(trial_id, REQUEUED_ATTR, reason)
        _fail(study, trial_id)
        _queue_missing_retries(study)


# ------------------------------------------------------------------------------------- the lock


@contextlib.contextmanager
def study_lock(study) -> Iterator[None]:
    """One process at a time in the block, among all processes using the study's storage.

    PostgreSQL: a session advisory lock; MySQL: ``GET_LOCK``; SQLite and journal files: ``flock`` on a
    ``.reap.lock`` file beside them. Each is released by the server or the kernel when its holder dies.
    In-memory and foreign storages (one process): a lock of this process.
    """
    backend = getattr(study._storage, "_backend", study._storage)  # Optuna wraps RDB storages in a cache
    engine = getattr(backend, "engine", None)
    if engine is not None and engine.dialect.name in ("postgresql", "mysql"):
        with _database_lock(engine, study.study_name):
            yield
        return
    path = _lock_file(backend, engine)
    if path is None:
        with _LOCAL:
            yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # a lock file: nothing is written into it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


_LOCAL = threading.Lock()


def _lock_file(backend, engine) -> Path | None:
    """The `.reap.lock` beside a SQLite database or a journal file; None for other storages."""
    if engine is not None and engine.dialect.name == "sqlite" and engine.url.database:
        return Path(f"{engine.url.database}.reap.lock")
    journal = getattr(backend, "_file_path", None)  # a JournalStorage's backend: JournalFileBackend
    return Path(f"{journal}.reap.lock") if journal else None


@contextlib.contextmanager
def _database_lock(engine, name: str) -> Iterator[None]:
    """A lock held by one database connection for the block (the server drops it with the connection)."""
    import hashlib

    from sqlalchemy import text

    key = int.from_bytes(hashlib.sha256(f"gradwise-reap:{name}".encode()).digest()[:8], "big", signed=True)
    postgres = engine.dialect.name == "postgresql"
    take = "SELECT pg_advisory_lock(:k)" if postgres else "SELECT GET_LOCK(:k, -1)"
    give = "SELECT pg_advisory_unlock(:k)" if postgres else "SELECT RELEASE_LOCK(:k)"
    param = key if postgres else f"gradwise-reap-{key & 0xFFFFFFFF:x}"
    with engine.connect() as connection:
        connection.execute(text(take), {"k": param})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text(give), {"k": param})
            connection.commit()


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
