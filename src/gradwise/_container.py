"""The file format of models and checkpoints: safetensors tensors + one JSON document, never pickle.

The JSON lives in the safetensors metadata under the key "gradwise" and carries a format name and
version, the library version, and a SHA-256 checksum of the tensor bytes, so that a truncated,
corrupted or foreign file is recognized and reported as such on load.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ._atomic import write_bytes
from ._version import __version__
from .errors import ModelFileError

FORMAT_VERSION = 1


def _checksum(tensors: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        digest.update(name.encode())
        digest.update(str(arr.dtype).encode())
        digest.update(str(arr.shape).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def write_container(path: str | os.PathLike, kind: str, tensors: dict[str, np.ndarray], meta: dict) -> None:
    """Atomically write `tensors` and the JSON-able `meta` as a gradwise safetensors file of `kind`."""
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    document = {"format": f"gradwise-{kind}", "format_version": FORMAT_VERSION, "gradwise_version": __version__,
                "numpy_version": np.__version__, "checksum": _checksum(tensors), **meta}
    data = st_save(tensors, metadata={"gradwise": json.dumps(document, allow_nan=True)})
    write_bytes(path, data)


def read_container(path: str | os.PathLike, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify a file written by `write_container`; ModelFileError says what is wrong."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no such file: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, expected a .safetensors file")
    data = path.read_bytes()
    if len(data) < 8:
        raise ModelFileError(f"{path} is not a gradwise file (only {len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise ModelFileError(f"{path} is truncated or not a safetensors file (header says {header_len} bytes, "
                             f"file has {len(data) - 8})")
    try:
        header = json.loads(data[8:8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not a safetensors file (unreadable header)") from exc
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a safetensors file (unreadable header)")
    metadata = header.get("__metadata__")
    raw = metadata.get("gradwise") if isinstance(metadata, dict) else None
    if raw is None:
        raise ModelFileError(f"{path} is a safetensors file but not one written by gradwise")
    try:
        meta = json.loads(raw)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} has a corrupted gradwise header") from exc
    if not isinstance(meta, dict):  # a crafted or damaged file: never let it reach meta.get
        raise ModelFileError(f"{path} has a corrupted gradwise header")
    expected = f"gradwise-{kind}"
    if meta.get("format") != expected:
        raise ModelFileError(f"{path} holds a {meta.get('format')!r}, expected a {expected!r}")
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(f"{path} has an unreadable format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by a newer gradwise (format {meta['format_version']}); "
                             f"this one reads format {FORMAT_VERSION}")
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors raises its own error types for torn files
        raise ModelFileError(f"{path} is truncated or corrupted: {exc}") from exc
    if _checksum(tensors) != meta.get("checksum"):
        raise ModelFileError(f"{path} is corrupted: its tensors do not match the checksum written with them")
    return tensors, meta
