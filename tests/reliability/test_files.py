"""Files: model files carry a format version and a checksum; truncated, corrupted and foreign files are
named as such on load; every write in the package is atomic; no pickle in any load path (issue 8).

The last two are proven by scanning the source tree (AST, not grep), with a self-test showing the
scanners do flag what they are meant to flag.
"""

from __future__ import annotations

import ast
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

import gradwise as gw
from gradwise.checkpoint import load_checkpoint, save_checkpoint
from gradwise.errors import ModelFileError

from .conftest import SRC

PACKAGE = SRC / "gradwise"


@pytest.fixture
def model_file(tmp_path):
    model = gw.mlp([3, 5, 3], output="softmax", batchnorm=True, seed=4)
    return gw.save(model, tmp_path / "model.safetensors"), model


def _header_length(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def _load_copy(tmp_path: Path, content: bytes, name: str = "copy.safetensors"):
    path = tmp_path / name
    path.write_bytes(content)
    return gw.load(path)


# --------------------------------------------------------------------------------- what is written
def test_model_file_carries_format_version_checksum_and_versions(model_file):
    path, model = model_file
    data = path.read_bytes()
    header = json.loads(data[8 : 8 + _header_length(data)])
    meta = json.loads(header["__metadata__"]["gradwise"])
    assert meta["format"] == "gradwise-model" and meta["format_version"] == 1
    assert len(meta["checksum"]) == 64 and meta["gradwise_version"] == gw.__version__
    assert json.loads(path.with_suffix(".json").read_text())["checksum"] == meta["checksum"]
    loaded = gw.load(path)
    X = np.random.default_rng(0).standard_normal((7, 3))
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ------------------------------------------------------------------------------ bad files on load
@pytest.mark.parametrize("keep", [0, 4, 8, 20, "half", "all-but-one"])
def test_truncated_file(model_file, tmp_path, keep):
    path, _ = model_file
    data = path.read_bytes()
    n = {"half": len(data) // 2, "all-but-one": len(data) - 1}.get(keep, keep)
    with pytest.raises(ModelFileError, match=r"copy\.safetensors (is truncated|is not a gradwise file)"):
        _load_copy(tmp_path, data[:n])


@pytest.mark.parametrize("where", ["first tensor byte", "last byte", "middle of the data"])
def test_flipped_byte_in_tensor_data_fails_the_checksum(model_file, tmp_path, where):
    path, _ = model_file
    data = bytearray(path.read_bytes())
    start = 8 + _header_length(data)
    offset = {
        "first tensor byte": start,
        "last byte": len(data) - 1,
        "middle of the data": (start + len(data)) // 2,
    }[where]
    data[offset] ^= 0x01  # one bit: the file still parses, only the checksum can tell
    with pytest.raises(ModelFileError, match=r"is corrupted: its tensors do not match the checksum"):
        _load_copy(tmp_path, bytes(data))


def test_flipped_byte_in_header(model_file, tmp_path):
    path, _ = model_file
    data = bytearray(path.read_bytes())
    data[9] ^= 0xFF
    with pytest.raises(ModelFileError, match=r"is not a safetensors file \(unreadable header\)"):
        _load_copy(tmp_path, bytes(data))


def test_edited_checksum_is_caught(model_file, tmp_path):
    """Weights swapped for another model's, header kept: the checksum no longer matches."""
    path, _ = model_file
    other = gw.save(gw.mlp([3, 5, 3], output="softmax", batchnorm=True, seed=5), tmp_path / "o.safetensors")
    a, b = path.read_bytes(), other.read_bytes()
    ha, hb = _header_length(a), _header_length(b)
    assert len(a) - ha == len(b) - hb
    with pytest.raises(ModelFileError, match="do not match the checksum"):
        _load_copy(tmp_path, a[: 8 + ha] + b[8 + hb :])


def test_foreign_safetensors_file(tmp_path):
    save_file({"weight": np.ones((2, 2), dtype=np.float32)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(
        ModelFileError,
        match=r"foreign\.safetensors is a safetensors file but not one written "
        r"by gradwise",
    ):
        gw.load(tmp_path / "foreign.safetensors")


def test_foreign_safetensors_with_a_gradwise_key(tmp_path):
    save_file({"a": np.ones(2)}, str(tmp_path / "f.safetensors"), metadata={"gradwise": "{not json"})
    with pytest.raises(ModelFileError, match=r"has a corrupted gradwise header"):
        gw.load(tmp_path / "f.safetensors")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello\n",
        b"x" * 7,
        json.dumps({"W1": [1, 2]}).encode(),
        os.urandom(512),
        b"PK\x03\x04" + os.urandom(100),
    ],
    ids=["empty", "text", "7-bytes", "json", "random", "zip"],
)
def test_not_a_model_at_all(tmp_path, content):
    with pytest.raises(ModelFileError, match=r"copy\.safetensors (is not|is truncated or not)"):
        _load_copy(tmp_path, content)


def test_directory_and_missing_paths(tmp_path):
    with pytest.raises(ModelFileError, match=r"no model in '.*': model\.safetensors is missing$"):
        gw.load(tmp_path)
    (tmp_path / "checkpoint.safetensors").write_bytes(b"x")
    with pytest.raises(ModelFileError, match=r"it holds a checkpoint: the run did not finish"):
        gw.load(tmp_path)
    with pytest.raises(ModelFileError, match=r"no such model file"):
        gw.load(tmp_path / "absent.safetensors")
    (tmp_path / "model.safetensors").mkdir()  # a directory where the file should be
    with pytest.raises(ModelFileError, match=r"no model in '.*model\.safetensors': model\.safetensors is missing"):
        gw.load(tmp_path / "model.safetensors")


def test_checkpoint_and_model_are_not_confused(model_file, tmp_path):
    path, model = model_file
    save_checkpoint(tmp_path / "c.safetensors", model)
    with pytest.raises(ModelFileError, match=r"holds a 'gradwise-checkpoint', expected a 'gradwise-model'"):
        gw.load(tmp_path / "c.safetensors")
    with pytest.raises(ModelFileError, match=r"holds a 'gradwise-model', expected a 'gradwise-checkpoint'"):
        load_checkpoint(path)


def test_newer_format_version_is_refused(tmp_path):
    from gradwise._container import write_container

    write_container(tmp_path / "new.safetensors", "model", {"a": np.ones(1)}, {})
    data = bytearray((tmp_path / "new.safetensors").read_bytes())
    text = data.decode("latin-1").replace('\\"format_version\\": 1', '\\"format_version\\": 9')
    (tmp_path / "new.safetensors").write_bytes(text.encode("latin-1"))
    with pytest.raises(ModelFileError, match=r"written by a newer gradwise \(format 9\)"):
        gw.load(tmp_path / "new.safetensors")


def test_json_sibling_of_another_model_or_corrupted(model_file, tmp_path):
    path, _ = model_file
    other = gw.save(gw.mlp([3, 5, 3], output="softmax", batchnorm=True, seed=9), tmp_path / "other.safetensors")
    path.with_suffix(".json").write_text(other.with_suffix(".json").read_text())
    with pytest.raises(ModelFileError, match=r"does not describe the weights next to it \(different checksum"):
        gw.load(path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelFileError, match=r"model\.json' is corrupted \(not valid JSON"):
        gw.load(path)
    path.with_suffix(".json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ModelFileError, match=r"is corrupted"):
        gw.load(path)
    path.with_suffix(".json").unlink()
    assert gw.load(path).n_parameters > 0  # the JSON is for people; the weights file alone suffices


def test_weights_missing_next_to_json(model_file):
    path, _ = model_file
    path.unlink()
    with pytest.raises(ModelFileError, match=r"no such file: .*model\.safetensors$"):
        gw.load(path.with_suffix(".json"))


def test_architecture_that_does_not_match_the_tensors(tmp_path):
    """A well-formed file whose description lies about the tensors (edited by hand, another tool)."""
    from gradwise._container import write_container
    from gradwise.io import model_to_state

    tensors, document = model_to_state(gw.mlp([3, 4, 1], seed=0))
    path = tmp_path / "m.safetensors"
    write_container(path, "model", {**tensors, "W1": np.ones((5, 3))}, document)
    with pytest.raises(ModelFileError, match=r"tensor .W1. has shape \(5, 3\), the architecture needs \(4, 3\)$"):
        gw.load(path)
    write_container(path, "model", {**tensors, "W1": np.ones((3, 4))}, document)
    with pytest.raises(ModelFileError, match=r"tensor .W1. has shape \(3, 4\), the architecture needs \(4, 3\)$"):
        gw.load(path)
    renamed = {("X1" if k == "W1" else k): v for k, v in tensors.items()}
    write_container(path, "model", renamed, document)
    with pytest.raises(ModelFileError, match=r"missing tensors \['W1'\], unexpected tensors \['X1'\]"):
        gw.load(path)
    for key, value in [("input_dim", 10**12), ("input_dim", -3), ("input_dim", "3"), ("layers", "Dense")]:
        # a damaged description must be reported before anything is allocated from it
        broken = {**document, "architecture": {**document["architecture"], key: value}}
        write_container(path, "model", tensors, broken)
        damaged = r"(does not match its architecture|invalid model description|the architecture needs)"
        with pytest.raises(ModelFileError, match=damaged):
            gw.load(path)
    evil = {**document["architecture"], "layers": [{**document["architecture"]["layers"][0], "type": "Evil"}]}
    write_container(path, "model", tensors, {**document, "architecture": evil})
    with pytest.raises(ModelFileError, match=r"unknown layer type 'Evil'"):
        gw.load(path)


@pytest.mark.parametrize(
    "raw",
    [
        "[1]",
        '"text"',
        "3",
        '{"format": "gradwise-model", "format_version": "1"}',
        '{"format": "gradwise-model", "format_version": null}',
        '{"format": "gradwise-model"}',
    ],
)
def test_crafted_gradwise_headers(tmp_path, raw):
    """Foreign tools (or damage) can put anything under the "gradwise" key: always a ModelFileError."""
    save_file({"W1": np.ones((1, 2))}, str(tmp_path / "f.safetensors"), metadata={"gradwise": raw})
    with pytest.raises(
        ModelFileError,
        match=r"f\.safetensors (has a corrupted gradwise header|has an unreadable "
        r"format version|has an invalid model description|is corrupted)",
    ):
        gw.load(tmp_path / "f.safetensors")


@pytest.mark.parametrize(
    "field,value",
    [("feature_names", 5), ("epochs_trained", "x"), ("metadata", [1]), ("standardizer", [1]), ("classes", [1, 2]),
     ("preprocessor", [1]), ("preprocessor", {"type": "Preprocessor", "columns": [{"name": "a"}]})],
)
def test_damaged_optional_fields(tmp_path, field, value):
    from gradwise._container import write_container
    from gradwise.io import model_to_state

    tensors, document = model_to_state(gw.mlp([2, 1], seed=0))
    write_container(tmp_path / "m.safetensors", "model", tensors, {**document, field: value})
    with pytest.raises(ModelFileError, match=r"m\.safetensors"):
        gw.load(tmp_path / "m.safetensors")


def test_class_labels_cannot_smuggle_objects(tmp_path):
    from gradwise._container import write_container
    from gradwise.io import model_to_state

    tensors, document = model_to_state(gw.mlp([3, 4, 1], seed=0))
    document["classes"] = {"values": ["a", "b"], "dtype": "|O"}
    write_container(tmp_path / "m.safetensors", "model", tensors, document)
    with pytest.raises(ModelFileError, match=r"unreadable class labels: dtype object is not allowed"):
        gw.load(tmp_path / "m.safetensors")


def test_written_files_get_normal_permissions(tmp_path, run_dir):
    """Atomic writes go through mkstemp (0600); the result must be what open() gives: 0666 & ~umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    path = gw.save(gw.mlp([2, 1], seed=0), tmp_path / "m.safetensors")
    for p in (path, path.with_suffix(".json")):
        assert p.stat().st_mode & 0o777 == 0o666 & ~umask, oct(p.stat().st_mode)
    for p in run_dir.iterdir():
        if p.is_file() and not p.name.startswith("."):
            assert p.stat().st_mode & 0o777 == 0o666 & ~umask, (p.name, oct(p.stat().st_mode))
    os.chmod(path, 0o640)
    gw.save(gw.mlp([2, 1], seed=1), path)  # replacing a file keeps its permissions
    assert path.stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------------------- source-tree scans
def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20, "the scan must see the package"
    return files


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _kw(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


UNSAFE_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "dill",
    "cloudpickle",
    "joblib",
    "shelve",
    "marshal",
    "torch",
}


def pickle_violations(source: str, filename: str = "<src>") -> list[str]:
    """Every way a load path could unpickle (or execute) data from a file."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"{where} from {node.module} import …")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            allow = _kw(node, "allow_pickle")
            if allow is not None and not (isinstance(allow, ast.Constant) and allow.value is False):
                found.append(f"{where} {name}(allow_pickle=…) not literally False")
            if name.split(".")[-1] in ("load", "loads") and name.split(".")[0] in UNSAFE_MODULES:
                found.append(f"{where} {name}()")
            if name in ("np.load", "numpy.load") and allow is None:
                found.append(f"{where} np.load without allow_pickle=False")
            if name in ("eval", "exec", "__import__"):
                found.append(f"{where} {name}()")
            if name.endswith("Unpickler") or name.endswith("pickle.load"):
                found.append(f"{where} {name}()")
    return found


WRITE_MODES = set("wax+")


def write_violations(source: str, filename: str = "<src>") -> list[str]:
    """File writes that do not go through gradwise._atomic (atomic_open/write_bytes/write_text/write_json).

    Allowed: writing into a handle bound by `with atomic_open(...) as h` (np.save(h), json.dump(x, h),
    fig.savefig(h, format=...)), and savefig into an in-memory buffer (then write_bytes).
    """
    tree = ast.parse(source, filename)
    atomic_handles: set[str] = set()
    buffers: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With):
            for item in node.items:
                if (
                    isinstance(item.context_expr, ast.Call)
                    and _dotted(item.context_expr.func).endswith("atomic_open")
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    atomic_handles.add(item.optional_vars.id)
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and _dotted(node.value.func).split(".")[-1] in ("BytesIO", "StringIO")
        ):
            buffers.update(t.id for t in node.targets if isinstance(t, ast.Name))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.split(".")[-1]
        where = f"{filename}:{node.lineno} {name}()"
        first = node.args[0] if node.args else None
        first_name = first.id if isinstance(first, ast.Name) else None
        if last == "open" and not name.startswith("os."):
            mode = node.args[1] if len(node.args) > 1 else _kw(node, "mode")
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and WRITE_MODES & set(mode.value):
                found.append(where + f" mode {mode.value!r}")
            elif mode is not None and not isinstance(mode, ast.Constant):
                found.append(where + " with a computed mode")
        elif last == "fdopen":
            mode = node.args[1] if len(node.args) > 1 else _kw(node, "mode")
            if isinstance(mode, ast.Constant) and WRITE_MODES & set(str(mode.value)):
                found.append(where + f" mode {mode.value!r}")
        elif isinstance(node.func, ast.Attribute) and last in ("write_text", "write_bytes"):
            found.append(where)
        elif last == "savefig":
            if _kw(node, "format") is None or first_name not in atomic_handles | buffers:
                found.append(where + " (save into an atomic_open handle or a BytesIO, with format=)")
        elif (
            name in ("np.save", "np.savez", "np.savez_compressed", "np.savetxt", "numpy.save", "numpy.savez")
            or last == "tofile"
        ):
            if first_name not in atomic_handles:
                found.append(where + " not into an atomic_open handle")
        elif name == "json.dump":
            target = node.args[1] if len(node.args) > 1 else _kw(node, "fp")
            if not (isinstance(target, ast.Name) and target.id in atomic_handles | buffers):
                found.append(where + " not into an atomic_open handle")
        elif name in ("shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "os.rename"):
            found.append(where)
    return found


#: Deliberate exceptions, each with the reason it is not a torn-file risk.
WRITE_EXCEPTIONS = {
    # runs._claim: an exclusive marker created with O_CREAT | O_EXCL, holding only the owner's pid; its
    # existence (not its content) is what claims a run directory between processes.
    ("runs.py", "os.fdopen"),
    # tuning.driver._spawn: the live log of a worker subprocess (its stdout), an append-only stream;
    # a log may end in a torn line, and nothing ever loads it back.
    ("driver.py", "open"),
    # tracking.CSVLogger: history.csv appended one flushed row per epoch so a running or killed run
    # shows its progress (its rewrite at the start of a fit is atomic); a torn last row is dropped on resume.
    ("tracking.py", "open"),
}


def test_scanners_flag_what_they_should():
    bad_loads = """
import pickle
from joblib import load
import numpy as np
np.load(path)
np.load(path, allow_pickle=True)
np.load(path, allow_pickle=flag)
torch.load(path)
eval(text)
"""
    assert len(pickle_violations(bad_loads)) == 7, pickle_violations(bad_loads)
    assert pickle_violations("import numpy as np\nnp.load(p, allow_pickle=False)\n") == []
    bad_writes = """
import json, numpy as np
open(path, "w").write(text)
open(path, mode="ab")
Path(path).write_text(text)
path.write_bytes(data)
fig.savefig(path)
fig.savefig("x.png", format="png")
np.save(path, arr)
np.savez(handle, a=arr)
json.dump(obj, open(path, "w"))
shutil.copy(a, b)
"""
    assert len(write_violations(bad_writes)) == 11, write_violations(bad_writes)
    good_writes = """
with atomic_open(path, "wb") as h:
    np.savez(h, a=arr)
    json.dump(obj, h)
    fig.savefig(h, format="png")
buffer = io.BytesIO()
fig.savefig(buffer, format="png")
open(path, "rb")
write_json(path, obj)
"""
    assert write_violations(good_writes) == []


def test_no_pickle_in_any_load_path():
    found = [v for path in _sources() for v in pickle_violations(path.read_text(), str(path.relative_to(SRC)))]
    assert found == [], "pickle (or code execution) reachable from a file:\n" + "\n".join(found)


def test_every_file_write_is_atomic():
    found = []
    for path in _sources():
        if path.name == "_atomic.py":
            continue
        for v in write_violations(path.read_text(), str(path.relative_to(SRC))):
            if not any(path.name == f and f"{name}()" in v for f, name in WRITE_EXCEPTIONS):
                found.append(v)
    assert found == [], "non-atomic writes (use gradwise._atomic):\n" + "\n".join(found)
