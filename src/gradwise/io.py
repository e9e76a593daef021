"""Saving and loading models: safetensors weights plus a JSON description, never pickle.

`save(model, "model.safetensors")` writes two files, each atomically (temporary file, fsync, rename):

- ``model.safetensors``: one tensor per parameter and buffer (``W1``, ``b1``, ``gamma1``, ``beta1``,
  ``running_mean1``, …, in the model's dtype), and in its metadata the JSON document below, with a
  SHA-256 checksum of the tensors, the format version and the library versions;
- ``model.json``: the same document, indented, for people to read (and `diff`).

The document holds the architecture (`model.get_config()`), the input `Standardizer` and the column plan
(`model.preprocessor`, a `gw.Preprocessor`, for models trained on a table) if any, the class
labels (`model.classes_`, so predictions can be reported in the user's own labels), the feature names
(`model.feature_names_in_`), the number of epochs trained and a free `metadata` dictionary.

Either file alone verifies the other: `load` reads the safetensors file (the source of truth, checked
against its checksum) and, when the sibling JSON exists, checks that it describes the same model, so a
pair torn by a crash between the two writes, or a JSON copied from another model, is reported instead of
silently used. Nothing in this path can execute code from a file: safetensors holds raw arrays, JSON holds
data, and class labels are restored from a list of numbers or strings with an explicit dtype.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._atomic import write_bytes, write_json
from ._container import read_container, write_container
from .data import Standardizer
from .data.columns import Preprocessor
from .ensemble import Ensemble
from .errors import GradwiseTypeError, GradwiseValueError, ModelFileError
from .layers import Dense
from .model import Sequential

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["save", "load", "model_to_state", "model_from_state", "resolve_model_path"]

#: the `kind` of model files in the container format ("gradwise-model")
KIND = "model"
#: file names inside a run directory written by the command line
RUN_MODEL = "model.safetensors"
SUFFIX = ".safetensors"
#: keys of the document that describe the model; the sibling JSON must agree with the safetensors on these
_COMPARED = ("checksum", "architecture", "standardizer", "preprocessor", "classes", "feature_names",
             "epochs_trained", "metadata", "members")


# ---------------------------------------------------------------------------------------- paths
def _as_path(path: Any, argument: str = "path") -> Path:
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise GradwiseTypeError(f"{argument} must be a file path, got {type(path).__name__}")
    return Path(path)


def _save_target(path: Path) -> Path:
    """Where `save` writes the weights: `path` itself if it ends in .safetensors, or DIR/model.safetensors."""
    if path.is_dir():
        return path / RUN_MODEL
    if path.suffix.lower() != SUFFIX:
        raise GradwiseValueError(
            f"path must end with {SUFFIX!r} (the JSON sibling is written next to it) or be an existing "
            f"directory, got {str(path)!r}")
    return path


def resolve_model_path(path: Any) -> Path:
    """The .safetensors file `load` reads for `path`: the file itself, its .json sibling's weights, or the
    model of a run directory."""
    p = _as_path(path)
    if p.is_dir():
        target = p / RUN_MODEL
        if not target.exists():
            hint = ""
            if (p / "checkpoint.safetensors").exists():
                hint = (" (it holds a checkpoint: the run did not finish; continue it with "
                        f"`gradwise train --out {p} --resume`)")
            raise ModelFileError(f"no model in {str(p)!r}: {RUN_MODEL} is missing{hint}")
        return target
    if p.suffix.lower() == ".json":
        return p.with_suffix(SUFFIX)
    if not p.exists():
        raise ModelFileError(f"no such model file: {str(p)!r}")
    return p


# --------------------------------------------------------------------------------- in-memory state
def _classes_to_json(classes: Any) -> dict | None:
    """Class labels as {"values": [...], "dtype": "..."}; numbers, booleans and strings only."""
    if classes is None:
        return None
    arr = np.asarray(classes)
    if arr.ndim != 1:
        raise GradwiseValueError(f"model.classes_ must be 1-D, got shape {arr.shape}")
    if arr.dtype == object:
        kinds = {type(v) for v in arr.tolist()}
        if kinds <= {str}:
            arr = arr.astype(str)
        elif all(isinstance(v, int | float | bool | np.number | np.bool_) for v in arr.tolist()):
            arr = np.asarray(arr.tolist())
        else:
            names = sorted(k.__name__ for k in kinds)
            raise GradwiseTypeError(
                f"model.classes_ must hold numbers or strings to be saved, got types {names}")
    if arr.dtype.kind not in "biufU":
        raise GradwiseTypeError(
            f"model.classes_ must hold numbers or strings to be saved, got dtype {arr.dtype}")
    values = arr.tolist()
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise GradwiseValueError("model.classes_ must be finite to be saved")
    return {"values": values, "dtype": arr.dtype.str}


def _classes_from_json(data: Any, source: str) -> np.ndarray | None:
    if data is None:
        return None
    try:
        dtype = np.dtype(data["dtype"])
        if dtype.kind not in "biufU":
            raise ValueError(f"dtype {dtype} is not allowed")
        return np.asarray(data["values"], dtype=dtype)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{source} has unreadable class labels: {exc}") from None


def model_to_state(model: Sequential, metadata: dict | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """A trained model as (tensors, JSON-able document): what `save` writes and `model_from_state` reads.

    Tensors are copies of the parameters and buffers by name (`W1`, `b1`, …, `running_mean1`, …).
    """

    if not isinstance(model, Sequential):
        raise GradwiseTypeError(f"model must be a gradwise Sequential, got {type(model).__name__}")
    if not model.built:
        raise GradwiseValueError("the model is not built yet (no weights to save): fit it or give input_dim=")
    if metadata is not None and not isinstance(metadata, dict):
        raise GradwiseTypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    tensors = {name: np.array(v, copy=True) for name, v in {**model.parameters(), **model.buffers()}.items()}
    standardizer = model.standardizer
    feature_names = model.feature_names_in_
    document = {
        "architecture": model.get_config(),
        "parameters": list(model.parameters()),
        "buffers": list(model.buffers()),
        "standardizer": standardizer.to_dict() if standardizer is not None else None,
        "preprocessor": model.preprocessor.get_config() if model.preprocessor is not None else None,
        "classes": _classes_to_json(model.classes_),
        "feature_names": [str(f) for f in feature_names] if feature_names is not None else None,
        "epochs_trained": int(model.epochs_trained),
        "metadata": metadata if metadata is not None else dict(model.metadata),
    }
    try:  # fail now, before anything is written, if metadata is not JSON
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        error = GradwiseTypeError if isinstance(exc, TypeError) else GradwiseValueError
        raise error(f"metadata must be JSON-able (numbers, strings, lists, dicts; no NaN): {exc}") from None
    return tensors, document


def model_from_state(tensors: dict[str, np.ndarray], document: dict, source: str = "the model file") -> Sequential:
    """Rebuild a model from `model_to_state`'s output; ModelFileError if the two do not fit together."""

    try:
        config = document["architecture"]
        model = Sequential.from_config({**config, "input_dim": None}, seed=0)
        if config.get("input_dim") is None:
            raise ModelFileError(f"{source} describes a model without input_dim")
        # Compare the tensors with the shapes the description implies *before* allocating them: a damaged
        # or crafted description (input_dim = 10**12) must be reported, not exhaust the memory.
        # (Names as Sequential.build gives them: W1, b1, gamma1, … numbered by Dense layer.)
        shapes, dim, dense = {}, config["input_dim"], 0
        for layer in model.layers:
            dense += isinstance(layer, Dense)
            for spec in layer.param_specs(dim) + layer.buffer_specs(dim):
                shapes[f"{spec.kind}{dense}"] = tuple(spec.shape)
            dim = layer.output_dim(dim)
        missing = sorted(set(shapes) - set(tensors))
        extra = sorted(set(tensors) - set(shapes))
        if missing or extra:
            raise ModelFileError(f"{source} does not match its architecture: missing tensors {missing}, "
                                 f"unexpected tensors {extra}")
        for name, shape in shapes.items():
            if tensors[name].shape != shape:
                raise ModelFileError(f"{source}: tensor {name!r} has shape {tensors[name].shape}, the "
                                     f"architecture needs {shape}")
        model.build(config["input_dim"])  # the initial draw is overwritten below
        expected = {**model.parameters(), **model.buffers()}
        for name, target in expected.items():
            value = tensors[name]
            if value.shape != target.shape or value.dtype != target.dtype:
                raise ModelFileError(f"{source}: tensor {name!r} has shape {value.shape} and dtype "
                                     f"{value.dtype}, the architecture needs {target.shape} {target.dtype}")
            target[...] = value
        if document.get("standardizer") is not None:
            model.standardizer = Standardizer.from_dict(document["standardizer"])
            if model.standardizer.n_features_in_ != model.input_dim:
                raise ModelFileError(f"{source}: the Standardizer has {model.standardizer.n_features_in_} "
                                     f"features, the model {model.input_dim}")
        _restore_preprocessor(model, document.get("preprocessor"), source)
        classes = _classes_from_json(document.get("classes"), source)
        if classes is not None:
            model.classes_ = classes
        names = document.get("feature_names")
        if names is not None:
            if not isinstance(names, list) or len(names) != model.input_dim:
                raise ModelFileError(f"{source}: feature names {str(names)[:60]} for {model.input_dim} inputs")
            model.feature_names_in_ = list(names)  # a list, as Sequential declares it and fit sets it
        model.epochs_trained = int(document.get("epochs_trained", 0))
        model.metadata = dict(document.get("metadata") or {})
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a damaged or hand-edited description
        raise ModelFileError(f"{source} has an invalid model description: {exc}") from None
    return model


def _restore_preprocessor(model, config: Any, source: str) -> None:
    """The column plan saved with a model trained on a table (JSON, checked like the rest)."""
    if config is None:
        return

    model.preprocessor = Preprocessor.from_config(config)
    n_out = len(model.preprocessor.get_feature_names_out())
    if n_out != model.input_dim:
        raise ModelFileError(f"{source}: the column plan gives {n_out} features, the model takes {model.input_dim}")


# ------------------------------------------------------------------------------------- save / load
def save(model: Sequential | Ensemble, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Save a model as `path` (.safetensors) plus its `.json` sibling; never pickle.

    Parameters
    ----------
    model : Sequential or Ensemble
        Built (trained) model, or an ensemble of them (one file: each member's tensors under
        ``member<i>.``, each member's description in ``members``). Also saved when set:
        `model.standardizer`, `model.classes_` (labels of the outputs 0..K-1, numbers or strings),
        `model.feature_names_in_`, `model.metadata` (JSON-able).
    path : str or path-like
        A file name ending in ``.safetensors`` (``model.json`` is written next to ``model.safetensors``),
        or an existing directory (then ``DIR/model.safetensors`` and ``DIR/model.json``).
    metadata : dict, optional
        JSON-able notes stored with the model (overrides `model.metadata`).

    Returns
    -------
    Path of the .safetensors file.

    Examples
    --------
    >>> gw.save(model, "moons.safetensors")      # also writes moons.json
    >>> model = gw.load("moons.safetensors")     # or gw.load("runs/my-run")
    """
    target = _save_target(_as_path(path))
    if isinstance(model, Ensemble):
        tensors, document = ensemble_to_state(model, metadata)
    else:
        tensors, document = model_to_state(model, metadata)
    # Two files cannot be replaced in one atomic step. Removing the old JSON first means a crash at any
    # point leaves a loadable pair: old weights (+ old or no JSON) or new weights (+ no or new JSON),
    # never new weights next to the old description (which `load` would refuse as torn).
    sibling = target.with_suffix(".json")
    previous = None
    if sibling.exists():  # False (not an error) when the directory itself is missing: atomic_open says why
        previous = sibling.read_bytes()
        sibling.unlink(missing_ok=True)
    try:
        write_container(target, KIND, tensors, document)
    except OSError:
        # a full disk or a lost permission: the old weights stand, so their description goes back (the
        # space it held was just freed)
        if previous is not None:
            with contextlib.suppress(OSError):
                write_bytes(sibling, previous)
        raise
    # The JSON sibling repeats exactly what went into the safetensors metadata (checksum and versions too).
    _, written = read_container(target, KIND)
    write_json(target.with_suffix(".json"), written)
    return target


def load(path: str | os.PathLike) -> Sequential | Ensemble:
    """Load a model saved by `save` (the .safetensors file, its .json sibling, or a run directory).

    Returns
    -------
    Sequential (or Ensemble, for a file `save` wrote from one)
        With its weights, batch-norm running averages, `standardizer`, `classes_`, `feature_names_in_`,
        `epochs_trained` and `metadata` as saved; predictions are bit-identical to the saved model's.

    Raises
    ------
    ModelFileError
        Missing, truncated, corrupted or foreign file, or a .json sibling that describes another model.
    """
    target = resolve_model_path(path)
    tensors, document = read_container(target, KIND)
    sibling = target.with_suffix(".json")
    if sibling.exists():
        _check_sibling(sibling, document)
    elif _as_path(path).suffix.lower() == ".json":
        raise ModelFileError(f"no such model file: {str(target)!r} (the weights of {str(path)!r})")
    if document.get("members") is not None:
        return ensemble_from_state(tensors, document, source=str(target))
    return model_from_state(tensors, document, source=str(target))


def ensemble_to_state(ensemble: Ensemble, metadata: dict | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """An ensemble as (tensors `member<i>.<name>`, a document whose `members` are the members' documents)."""
    tensors: dict[str, np.ndarray] = {}
    members = []
    for i, member in enumerate(ensemble.members):
        member_tensors, member_document = model_to_state(member)
        tensors.update({f"member{i}.{name}": value for name, value in member_tensors.items()})
        members.append(member_document)
    if metadata is not None and not isinstance(metadata, dict):
        raise GradwiseTypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    return tensors, {"members": members, "metadata": ensemble.metadata if metadata is None else metadata}


def ensemble_from_state(tensors: dict[str, np.ndarray], document: dict, source: str) -> Ensemble:
    """Rebuild an ensemble from `ensemble_to_state`'s output; ModelFileError if they do not fit together."""
    members = document["members"]
    if not isinstance(members, list) or not members:
        raise ModelFileError(f"{source} describes an ensemble without members")
    models = []
    for i, member_document in enumerate(members):
        prefix = f"member{i}."
        own = {name[len(prefix):]: value for name, value in tensors.items() if name.startswith(prefix)}
        if not isinstance(member_document, dict):
            raise ModelFileError(f"{source}: member {i} has an invalid description")
        models.append(model_from_state(own, member_document, source=f"{source} (member {i})"))
    prefixes = tuple(f"member{i}." for i in range(len(members)))
    stray = [name for name in tensors if not name.startswith(prefixes)]
    if stray:
        raise ModelFileError(f"{source}: tensors {stray[:5]} belong to no member")
    metadata = document.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{source}: the ensemble's metadata is not a JSON object")
    try:
        ensemble = Ensemble(models)
    except (GradwiseValueError, GradwiseTypeError) as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    ensemble.metadata = metadata
    return ensemble


def _check_sibling(sibling: Path, document: dict) -> None:
    try:
        other = json.loads(sibling.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{str(sibling)!r} is corrupted (not valid JSON: {exc})") from None
    if not isinstance(other, dict) or other.get("format") != f"gradwise-{KIND}":
        raise ModelFileError(f"{str(sibling)!r} is not a gradwise model description")
    differ = [key for key in _COMPARED if other.get(key) != document.get(key)]
    if differ:
        raise ModelFileError(
            f"{str(sibling)!r} does not describe the weights next to it (different {', '.join(differ)}): "
            f"the pair was torn by an interrupted save or mixed up; save the model again")
