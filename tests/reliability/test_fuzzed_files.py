"""Fuzzed files: every file gradwise reads, damaged by hypothesis, ends in a clean refusal or a good read.

Each reader gets a valid file, then truncated, bit-flipped, with bytes inserted, with wrong dtypes or
absurd shapes in its headers, or with JSON/TOML values of the wrong type. The rule checked by `_read`:
the reader returns, or raises a `GradwiseError` or `OSError` whose message is one line (what the command
line prints, exit 2); anything else (KeyError, MemoryError, a NumPy error...) would be reported as a bug of
ours and fails the test. `tracemalloc` bounds the memory a read may take, so a header claiming 10¹²
elements must be refused before anything is allocated.

The example counts (`max_examples`, derandomized so runs are repeatable) are listed in
docs/reliability.md.
"""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gradwise as gw
from gradwise._container import read_container, write_container
from gradwise.checkpoint import load_checkpoint, save_checkpoint
from gradwise.cli.train import saved_settings
from gradwise.data import load_features, load_file, load_table
from gradwise.errors import GradwiseError
from gradwise.tuning import SearchSpace

MEMORY_LIMIT = 64 * 2**20  # bytes a read of these small files may allocate at its peak


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _read(call: Callable[[], Any]) -> str:
    """Run a reader: 'read' or 'refused' (one-line GradwiseError/OSError); anything else propagates."""
    tracemalloc.start()
    try:
        call()
        outcome = "read"
    except (GradwiseError, OSError) as exc:
        message = str(exc)
        assert message and "\n" not in message, f"not one line: {message!r}"
        outcome = "refused"
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"the read took {peak / 2**20:.0f} MiB"
    event(outcome)
    return outcome


def _mutate(data: st.DataObject, content: bytes) -> bytes:
    """Truncate, flip bits, insert or delete bytes (one to three damages)."""
    b = bytearray(content)
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        how = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        at = data.draw(st.integers(0, max(len(b) - 1, 0)))
        if how == "truncate":
            b = b[:at]
        elif how == "flip" and b:
            b[at] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "insert":
            b[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif b:
            del b[at:at + data.draw(st.integers(1, 8))]
    return bytes(b)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                    | st.text(max_size=8), lambda kids: st.lists(kids, max_size=3)
                    | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=6)

# --------------------------------------------------------------------------------------- tables
CSV = ("bill_length,island,sex,body_mass,species\n39.1,Torgersen,male,3750,Adelie\n"
       "46.5,Dream,female,3500,Chinstrap\n,Biscoe,,5000,Gentoo\n38.9,Dream,female,3625,Adelie\n"
       "50.0,Biscoe,male,5700,Gentoo\n45.2,Dream,female,3450,Chinstrap\n")


@fuzz(60)
@given(data=st.data(), sep=st.sampled_from([",", "\t", ";"]))
def test_damaged_csv_and_tsv_tables(tmp_path_factory, data, sep):
    path = tmp_path_factory.mktemp("csv") / ("t.tsv" if sep == "\t" else "t.csv")
    path.write_bytes(_mutate(data, CSV.replace(",", sep).encode()))
    _read(lambda: load_table(path))
    _read(lambda: load_features(path))


@fuzz(40)
@given(text=st.text(alphabet=',;\t\n"\'0123456789.-eE+abcNA \r\x00é', max_size=200))
def test_made_up_csv_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("csv") / "made.csv"
    path.write_text(text, encoding="utf-8")
    _read(lambda: load_table(path))
    _read(lambda: load_file(path))


@pytest.fixture(scope="module")
def parquet_bytes(tmp_path_factory) -> bytes:
    pytest.importorskip("pyarrow")
    path = tmp_path_factory.mktemp("pq") / "t.parquet"
    pd.read_csv(io.StringIO(CSV)).to_parquet(path)
    return path.read_bytes()


@fuzz(40)
@given(data=st.data())
def test_damaged_parquet_tables(tmp_path_factory, parquet_bytes, data):
    path = tmp_path_factory.mktemp("pq") / "t.parquet"
    path.write_bytes(_mutate(data, parquet_bytes))
    _read(lambda: load_table(path))


# ------------------------------------------------------------------------------------------ NPZ
def _npy(shape: tuple, descr: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


def _npz(members: dict[str, bytes], path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


@pytest.fixture(scope="module")
def npz_bytes() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    np.savez(buffer, X=rng.standard_normal((12, 3)), y=np.arange(12) % 2)
    return buffer.getvalue()


@fuzz(60)
@given(data=st.data())
def test_damaged_npz(tmp_path_factory, npz_bytes, data):
    path = tmp_path_factory.mktemp("npz") / "d.npz"
    path.write_bytes(_mutate(data, npz_bytes))
    _read(lambda: load_file(path))
    _read(lambda: load_features(path))


@fuzz(50)
@given(shape=st.lists(st.integers(0, 10**12), min_size=0, max_size=3).map(tuple),
       descr=st.sampled_from(["<f8", "<f4", "<i8", "|u1", "|b1", "<c16", "<U3", "|S2", "<M8[s]", "|O", "<f2"]),
       payload=st.binary(max_size=96))
def test_npz_headers_with_absurd_shapes_and_wrong_dtypes(tmp_path_factory, shape, descr, payload):
    """A header claiming 10¹² elements over a few bytes of data must be refused, not allocated."""
    path = tmp_path_factory.mktemp("npz") / "h.npz"
    _npz({"X.npy": _npy(shape, descr, payload), "y.npy": _npy((len(payload) // 8,), "<i8", payload)}, path)
    _read(lambda: load_file(path))
    _read(lambda: load_features(path))


def test_a_header_claiming_a_trillion_elements_is_refused_by_name(tmp_path):
    path = tmp_path / "huge.npz"
    _npz({"X.npy": _npy((10**6, 10**6), "<f8", bytes(64)), "y.npy": _npy((8,), "<i8", bytes(64))}, path)
    with pytest.raises(gw.errors.GradwiseValueError, match=r"X.npy declares shape \(1000000, 1000000\) of "
                                                           r"float64 \(8000000000000 bytes\) but holds 64"):
        load_file(path)


# ------------------------------------------------------------------------- models and checkpoints
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained model's pair (model.safetensors, model.json) and a checkpoint of its training, as bytes."""
    where = tmp_path_factory.mktemp("model")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    model = gw.mlp([2, 4, 3, 1], seed=0, batchnorm=True)
    model.fit(X, y, epochs=2, optimizer="adam", callbacks=[gw.EarlyStopping(patience=5)], verbose=0,
              validation_data=(X, y))
    gw.save(model, where / "model.safetensors")
    save_checkpoint(where / "ckpt.safetensors", model, [])
    return {"weights": (where / "model.safetensors").read_bytes(), "json": (where / "model.json").read_text(),
            "checkpoint": (where / "ckpt.safetensors").read_bytes(), "X": X, "y": y}


@fuzz(50)
@given(data=st.data(), which=st.sampled_from(["weights", "json", "both"]))
def test_damaged_model_pair(tmp_path_factory, saved, data, which):
    where = tmp_path_factory.mktemp("pair")
    weights, text = saved["weights"], saved["json"].encode()
    if which in ("weights", "both"):
        weights = _mutate(data, weights)
    if which in ("json", "both"):
        text = _mutate(data, text)
    (where / "model.safetensors").write_bytes(weights)
    (where / "model.json").write_bytes(text)
    _read(lambda: gw.load(where))
    _read(lambda: gw.load(where / "model.json"))


def _replace_somewhere(data: st.DataObject, document: Any) -> Any:
    """`document` with one value somewhere inside replaced by arbitrary JSON (the wrong type, mostly)."""
    if isinstance(document, dict) and document and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(document)))
        return {**document, key: _replace_somewhere(data, document[key])}
    if isinstance(document, list) and document and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(document) - 1))
        return [*document[:i], _replace_somewhere(data, document[i]), *document[i + 1:]]
    return data.draw(JSON, label="new value")


def _edit_a_field(data: st.DataObject, document: dict) -> dict:
    """`document` (a JSON object) with one of its fields, or a value inside one, replaced."""
    key = data.draw(st.sampled_from(sorted(document)), label="field")
    return {**document, key: _replace_somewhere(data, document[key])}


@fuzz(60)
@given(data=st.data())
def test_model_headers_with_wrong_json_types(tmp_path_factory, saved, data):
    """Hand-edited headers, checksum intact: the architecture, standardizer, classes... of the wrong type."""
    where = tmp_path_factory.mktemp("hdr")
    (where / "in.safetensors").write_bytes(saved["weights"])
    tensors, meta = read_container(where / "in.safetensors", "model")
    body = {k: v for k, v in meta.items() if k not in ("format", "format_version", "checksum")}
    write_container(where / "model.safetensors", "model", tensors, _edit_a_field(data, body))
    _read(lambda: gw.load(where / "model.safetensors"))


@fuzz(40)
@given(data=st.data(), edit=st.booleans())
def test_damaged_or_edited_checkpoints_before_resuming(tmp_path_factory, saved, data, edit):
    where = tmp_path_factory.mktemp("ckpt")
    path = where / "ckpt.safetensors"
    if edit:
        (where / "in.safetensors").write_bytes(saved["checkpoint"])
        tensors, meta = read_container(where / "in.safetensors", "checkpoint")
        body = {k: v for k, v in meta.items() if k not in ("format", "format_version", "checksum")}
        write_container(path, "checkpoint", tensors, _edit_a_field(data, body))
    else:
        path.write_bytes(_mutate(data, saved["checkpoint"]))

    def resume():
        load_checkpoint(path)
        model = gw.mlp([2, 4, 3, 1], seed=0, batchnorm=True)
        model.fit(saved["X"], saved["y"], epochs=3, optimizer="adam", verbose=0, resume_from=path,
                  callbacks=[gw.EarlyStopping(patience=5)], validation_data=(saved["X"], saved["y"]))

    _read(resume)


# ---------------------------------------------------------------------- config.json and TOML
CONFIG = {"command": "train", "settings": {
    "layers": [8], "hidden": "relu", "init": "he", "keep_prob": 1.0, "batchnorm": False, "l2": 0.0, "l1": 0.0,
    "optimizer": "adam", "learning_rate": 0.01, "epochs": 3, "batch_size": 64, "decay": 0.0,
    "early_stopping": None, "seed": 0, "standardize": True, "checkpoint_every": 1, "dataset": "moons",
    "data": None, "target": None}}


@fuzz(60)
@given(data=st.data(), damage=st.booleans())
def test_config_json_damaged_or_with_wrong_types(tmp_path_factory, data, damage):
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    text = json.dumps(_replace_somewhere(data, CONFIG))  # the whole document may become a non-object
    path.write_bytes(_mutate(data, text.encode()) if damage else text.encode())

    def read():
        config = gw.runs.read_json(path, "run configuration")
        saved_settings(config, path, complete=True)

    _read(read)


SPACE = ('[space]\nlearning_rate = "1e-4:1e-1 log"\nhidden_units = "16:64"\nlayers = "1:3"\n'
         'optimizer = ["adam", "momentum"]\nkeep_prob = "0.5:1"\nbatch_size = [32, 64]\n')
TOML_VALUE = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True), st.booleans(),
                       st.text(alphabet="0123456789.:e-+ logintabc", max_size=14),
                       st.lists(st.integers(-5, 300) | st.text(max_size=4), max_size=4))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value == float("inf") else
                                              "-inf" if value == float("-inf") else repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


@fuzz(60)
@given(data=st.data(), damage=st.booleans())
def test_search_space_toml_damaged_or_with_wrong_types(tmp_path_factory, data, damage):
    path = tmp_path_factory.mktemp("space") / "space.toml"
    key = data.draw(st.sampled_from(["learning_rate", "hidden_units", "layers", "optimizer", "keep_prob",
                                     "batch_size", "l2", "epochs", "beta1", "made_up"]))
    text = SPACE + f"{key} = {_toml(data.draw(TOML_VALUE))}\n" if key not in SPACE else SPACE.replace(
        SPACE.split(f"{key} = ")[1].split("\n")[0], _toml(data.draw(TOML_VALUE)))
    path.write_bytes(_mutate(data, text.encode()) if damage else text.encode())
    _read(lambda: SearchSpace.from_toml(path))
