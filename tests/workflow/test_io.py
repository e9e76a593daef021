"""gw.save / gw.load: safetensors + JSON, bit-identical round trip, clear errors, never pickle."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw
from gradwise.errors import GradwiseValueError, ModelFileError


def _trained(batchnorm=True, keep_prob=0.8, dtype="float64", output="softmax", k=3, standardize=True):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4)) * [1, 5, 0.1, 30] + [0, 3, -1, 100]
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 3) if k == 3 else (X[:, 0] > 0).astype(int)
    model = gw.mlp([4, 7, 5, k if output == "softmax" else 1], output=output, batchnorm=batchnorm,
                   keep_prob=keep_prob, l2=0.1, seed=1, dtype=dtype)
    if standardize:
        model.standardizer = gw.Standardizer()
    model.fit(X, y, epochs=5, batch_size=32, optimizer="adam")
    return model, X, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_round_trip_gives_identical_predictions(tmp_path, dtype, batchnorm):
    model, X, _ = _trained(batchnorm=batchnorm, dtype=dtype)
    model.classes_ = np.array(["cat", "dog", "emu"])
    model.feature_names_in_ = ["w", "x", "y", "z"]
    path = gw.save(model, tmp_path / "m.safetensors")
    assert path == tmp_path / "m.safetensors"
    assert (tmp_path / "m.json").exists()
    loaded = gw.load(path)
    assert loaded.dtype == model.dtype
    for name, value in {**model.parameters(), **model.buffers()}.items():
        got = {**loaded.parameters(), **loaded.buffers()}[name]
        assert got.dtype == value.dtype and np.array_equal(got, value), name
    # bit for bit, the standardizer included (the model applies it to raw inputs)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert list(loaded.classes_) == ["cat", "dog", "emu"]
    assert loaded.feature_names_in_ == ["w", "x", "y", "z"]  # a list, as fit leaves it
    assert np.array_equal(loaded.standardizer.mean_, model.standardizer.mean_)
    assert loaded.epochs_trained == 5
    assert loaded.get_config() == model.get_config()


def test_binary_and_numeric_classes_and_regression(tmp_path):
    model, X, _ = _trained(output="sigmoid", k=2, batchnorm=False, keep_prob=1.0)
    model.classes_ = np.array([3, 7])
    loaded = gw.load(gw.save(model, tmp_path / "b.safetensors"))
    assert loaded.classes_.dtype == model.classes_.dtype and list(loaded.classes_) == [3, 7]
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))

    reg = gw.mlp([2, 4, 1], output="linear", seed=0)
    Xr = np.random.default_rng(1).standard_normal((30, 2))
    reg.fit(Xr, Xr @ [1.0, -2.0], epochs=3)
    back = gw.load(gw.save(reg, tmp_path / "r.safetensors"))
    assert back.loss == "mse" and getattr(back, "classes_", None) is None
    assert np.array_equal(back.predict(Xr), reg.predict(Xr))


def test_json_sibling_is_readable_and_matches(tmp_path):
    model, *_ = _trained()
    gw.save(model, tmp_path / "m.safetensors", metadata={"note": "first try"})
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["format"] == "gradwise-model" and doc["format_version"] >= 1
    assert doc["gradwise_version"] == gw.__version__
    assert doc["architecture"]["layers"][0] == {"type": "Dense", "units": 7, "init": "he", "use_bias": False}
    assert doc["standardizer"]["type"] == "Standardizer"
    assert doc["metadata"] == {"note": "first try"}
    assert gw.load(tmp_path / "m.json").metadata == {"note": "first try"}  # the .json path works too


def test_save_into_directory_and_load_run_directory(tmp_path):
    model, X, _ = _trained()
    gw.save(model, tmp_path)
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "model.json").exists()
    assert np.array_equal(gw.load(tmp_path).predict(X), model.predict(X))


def test_bad_save_arguments(tmp_path):
    model, *_ = _trained()
    with pytest.raises(GradwiseValueError, match=r"\.safetensors"):
        gw.save(model, tmp_path / "model.pkl")
    with pytest.raises(GradwiseValueError, match="not built"):
        gw.save(gw.Sequential([gw.Dense(1), gw.Sigmoid()]), tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="Sequential"):
        gw.save("not a model", tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="metadata"):
        gw.save(model, tmp_path / "x.safetensors", metadata=["a"])


# ------------------------------------------------------------------------------------ broken files
@pytest.fixture
def saved(tmp_path):
    model, X, _ = _trained()
    return gw.save(model, tmp_path / "m.safetensors")


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        gw.load(tmp_path / "nothing.safetensors")
    with pytest.raises(ModelFileError, match="model.safetensors is missing"):
        gw.load(tmp_path)


def test_truncated_file(saved):
    data = saved.read_bytes()
    for cut in (4, 100, len(data) // 2, len(data) - 3):
        saved.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated|not a gradwise|not a safetensors"):
            gw.load(saved)


def test_corrupted_weights(saved):
    data = bytearray(saved.read_bytes())
    data[-5] ^= 0xFF  # a flipped byte inside the last tensor
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupted"):
        gw.load(saved)


def test_foreign_files(tmp_path):
    from safetensors.numpy import save_file

    other = tmp_path / "other.safetensors"
    save_file({"weight": np.zeros((2, 2), dtype=np.float32)}, str(other))
    with pytest.raises(ModelFileError, match="not one written by gradwise"):
        gw.load(other)
    text = tmp_path / "notes.safetensors"
    text.write_text("hello, this is not a model at all, just some text that is long enough")
    with pytest.raises(ModelFileError, match="not a safetensors|truncated"):
        gw.load(text)
    # a gradwise checkpoint is a gradwise file, but not a model
    model, X, y = _trained()
    model.fit(X, y, epochs=1, callbacks=[gw.Checkpoint(tmp_path / "ck.safetensors")])
    with pytest.raises(ModelFileError, match="gradwise-checkpoint"):
        gw.load(tmp_path / "ck.safetensors")


def test_torn_or_mixed_pair_is_refused(tmp_path):
    a, *_ = _trained()
    b, *_ = _trained(batchnorm=False)
    gw.save(a, tmp_path / "a.safetensors")
    gw.save(b, tmp_path / "b.safetensors")
    (tmp_path / "a.json").write_text((tmp_path / "b.json").read_text())
    with pytest.raises(ModelFileError, match="does not describe the weights"):
        gw.load(tmp_path / "a.safetensors")
    (tmp_path / "a.json").write_text("{ broken")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        gw.load(tmp_path / "a.safetensors")
    (tmp_path / "a.json").unlink()  # the safetensors file alone is enough
    assert gw.load(tmp_path / "a.safetensors").get_config() == a.get_config()


def test_weights_that_do_not_fit_the_architecture(tmp_path):
    from gradwise._container import write_container
    from gradwise.io import model_to_state

    model, *_ = _trained(batchnorm=False)
    tensors, doc = model_to_state(model)
    tensors["W1"] = np.ascontiguousarray(tensors["W1"].T)  # same numbers, transposed shape
    write_container(tmp_path / "bad.safetensors", "model", tensors, doc)
    with pytest.raises(ModelFileError, match="W1"):
        gw.load(tmp_path / "bad.safetensors")
    tensors["W9"] = tensors.pop("W1")
    write_container(tmp_path / "bad.safetensors", "model", tensors, doc)
    with pytest.raises(ModelFileError, match=r"missing tensors \['W1'\]"):
        gw.load(tmp_path / "bad.safetensors")
    del tensors["W9"]
    write_container(tmp_path / "bad.safetensors", "model", tensors, doc)
    with pytest.raises(ModelFileError, match="does not match its architecture"):
        gw.load(tmp_path / "bad.safetensors")
    doc["architecture"]["layers"][0]["type"] = "Conv2D"
    write_container(tmp_path / "bad.safetensors", "model", model_to_state(model)[0], doc)
    with pytest.raises(ModelFileError, match="Conv2D"):
        gw.load(tmp_path / "bad.safetensors")
    doc = model_to_state(model)[1]
    doc["classes"] = {"values": ["x"], "dtype": "|O"}  # object arrays would need pickle: refused
    write_container(tmp_path / "bad.safetensors", "model", model_to_state(model)[0], doc)
    with pytest.raises(ModelFileError, match="class labels"):
        gw.load(tmp_path / "bad.safetensors")


# ---------------------------------------------------------------------------------------- no pickle
_FORBIDDEN = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|dill|cloudpickle|shelve|marshal)\b"
                        r"|\bpickle\.(load|loads|dump|dumps|Unpickler|Pickler)\b"
                        r"|allow_pickle\s*=\s*True|\btorch\.load\(|\bjoblib\.(load|dump)\(", re.M)


def test_no_pickle_in_the_package_source():
    src = Path(gw.__file__).resolve().parent
    offenders = []
    for path in sorted(src.rglob("*.py")):
        for match in _FORBIDDEN.finditer(path.read_text(encoding="utf-8")):
            line = path.read_text(encoding="utf-8")[: match.start()].count("\n") + 1
            offenders.append(f"{path.relative_to(src)}:{line}: {match.group(0).strip()}")
    assert not offenders, "pickle in gradwise: " + "; ".join(offenders)


def test_the_scan_would_catch_pickle():
    for bad in ("import pickle", "y = pickle.loads(b)", "np.load(p, allow_pickle=True)", "import dill"):
        assert _FORBIDDEN.search(bad), bad


def test_save_and_load_never_call_pickle(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was called in the save/load path")

    for name in ("load", "loads", "dump", "dumps", "Pickler", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    model, X, _ = _trained()
    model.classes_ = np.array(["a", "b", "c"])
    loaded = gw.load(gw.save(model, tmp_path / "m.safetensors"))
    assert np.array_equal(loaded.predict(X), model.predict(X))
