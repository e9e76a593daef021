"""Atomic file writes: a crash at any moment leaves either the old file or the new one, never a torn one.

The data goes to a temporary file in the same directory, is flushed and fsync'ed, then `os.replace`d over
the target (atomic on POSIX), and the directory is fsync'ed so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of `path` for writing; on success it replaces `path` atomically."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # mkdir's own message ("File exists: out") hides why
        raise NotADirectoryError(f"cannot write {str(target)!r}: a file stands where its directory "
                                 f"should be ({str(target.parent)!r} or one of its parents)") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # a read-only or full directory: name the file the user asked for
        raise _naming(exc, target) from None
    try:
        # mkstemp creates the file 0600; give it the permissions a plain open() would (0666 & ~umask), or
        # keep those of the file it replaces, so models and reports stay readable by whoever could read them.
        with contextlib.suppress(OSError):
            os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, mode, encoding="utf-8" if mode == "w" else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):
            raise _naming(exc, target) from None  # "No space left on device" alone does not say where
        raise
    _fsync_directory(target.parent)


def _naming(exc: OSError, target: Path) -> OSError:
    """The same error (same errno, so the same OSError subclass) naming the file being written."""
    return OSError(exc.errno, exc.strerror or str(exc), str(target))


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        pass
    return 0o666 & ~_umask()


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):  # Linux: read it without changing it (thread-safe)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    umask = os.umask(0o022)  # elsewhere: set and restore, the only portable way to read it
    os.umask(umask)
    return umask


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse O_RDONLY on directories
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def swap_in_directory(staging: str | os.PathLike, target: str | os.PathLike, old: str | os.PathLike) -> None:
    """Put the complete directory `staging` in place of `target` by renames (the previous `target`, if
    any, is moved to `old`, which the caller removes): readers see the whole old or the whole new one.

    A directory cannot be replaced in one `os.replace` when the target exists and is not empty, hence
    the two renames; between them `target` is briefly absent, never half-written.
    """
    target = Path(target)
    if target.exists():
        os.rename(target, old)
    os.rename(staging, target)
    _fsync_directory(target.parent)


def publish_entries(staging: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move every entry of the complete directory `staging` into the directory `target` (created), each by
    renames: a file by `os.replace`, a directory by :func:`swap_in_directory`. Entries of `target` that
    `staging` does not hold are left alone (a report written into a folder with the user's own files).
    The caller removes `staging` and the `.old-*` directories left beside the swapped ones, and serializes
    concurrent publishers (a lock): each entry is then whole, and all of them come from one publisher.
    """
    staging, target = Path(staging), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(staging.iterdir()):
        if entry.is_dir():
            swap_in_directory(entry, target / entry.name, staging / f".old-{entry.name}")
        else:
            os.replace(entry, target / entry.name)
    _fsync_directory(target)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")
