"""Training checkpoints: everything needed to continue a run with bit-identical results.

A checkpoint holds θ, the batch-norm buffers, the optimizer state (and step count), the RNG state
(so shuffles and dropout masks continue the same sequence), the epoch, the history, whether a callback
asked training to stop, the state of callbacks such as EarlyStopping, and the model's Standardizer; one
written inside an epoch (a preemption after a step) also holds that epoch's position: the next batch, the
epoch's permutation (`position.order`: restored, not redrawn), its partial cost sum and accuracy predictions.
It is a gradwise container file (safetensors tensors + JSON, never pickle) written atomically:
temporary file, fsync, `os.replace`, so a crash at any moment leaves the previous checkpoint or the new one.

Tensors: `theta`, `buffer`, `optimizer.<name>` (e.g. `optimizer.v`, `optimizer.s`),
`callback.<Type><k>.<name>` (k-th callback of that type, e.g. `callback.EarlyStopping0.best_theta`),
`position.order`, `position.predictions`.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _random
from ._container import read_container, write_container
from .batches import EpochPosition
from .data.standardize import Standardizer
from .errors import GradwiseTypeError, GradwiseValueError, ModelFileError
from .history import History
from .optim import optimizers

if TYPE_CHECKING:
    from .callbacks import Callback
    from .model import Sequential

#: a checkpoint as read from its file: (tensors by name, JSON metadata)
CheckpointData = tuple[dict[str, np.ndarray], dict]


def _callback_keys(callbacks) -> list[tuple[str, Callback]]:
    """A stable name per callback, `<Type><k>`, that does not depend on unrelated callbacks (progress)."""
    seen: dict[str, int] = {}
    keys = []
    for cb in callbacks:
        name = type(cb).__name__
        keys.append((f"{name}{seen.get(name, 0)}", cb))
        seen[name] = seen.get(name, 0) + 1
    return keys


def save_checkpoint(path: str | os.PathLike, model: Sequential,
                    callbacks: list[Callback] | tuple = (), position: EpochPosition | None = None) -> None:
    """Atomically write the full training state of `model` (and of `callbacks`) to `path`.

    `position`: where training stopped inside an epoch (a preemption after a step); the epoch's
    permutation and partial sums are stored with it, so a resumed `fit` finishes that very epoch.
    """
    tensors = {"theta": model.theta, "buffer": model.buffer}
    position_meta = None
    if position is not None:
        position_meta = {"epoch": int(position.epoch), "batch": int(position.batch),
                         "cost_sum": float(position.cost_sum), "clipped": int(position.clipped),
                         "size": int(position.size)}
        tensors.update({f"position.{k}": v for k, v in (("order", position.order),
                                                        ("predictions", position.predictions)) if v is not None})
    opt = model.optimizer
    opt_meta = None
    if opt is not None:
        state = opt.state_dict()
        opt_meta = {"config": opt.get_config(), "t": int(state.pop("t"))}
        tensors.update({f"optimizer.{k}": v for k, v in state.items()})
    cb_meta = {}
    for key, cb in _callback_keys(callbacks):
        scalars, arrays = cb.get_state()
        if scalars or arrays:
            cb_meta[key] = scalars
            tensors.update({f"callback.{key}.{k}": v for k, v in arrays.items()})
    meta = {
        "model": model.get_config(),
        "epoch": int(model.epochs_trained),
        "optimizer": opt_meta,
        "rng": _random.get_state(model.rng),
        "history": model.history.to_dict() if model.history is not None else None,
        "stop_training": bool(model.stop_training),
        "standardizer": _standardizer_dict(model),
        "callbacks": cb_meta,
        "position": position_meta,
    }
    write_container(path, "checkpoint", tensors, meta)


def read_position(checkpoint: CheckpointData | None) -> EpochPosition | None:
    """The position inside an epoch a checkpoint was written at, or None (written at an epoch's end)."""
    if checkpoint is None or checkpoint[1].get("position") is None:
        return None
    tensors, meta = checkpoint
    saved = meta["position"]
    return EpochPosition(epoch=saved["epoch"], batch=saved["batch"], order=tensors.get("position.order"),
                         cost_sum=float(saved["cost_sum"]), predictions=tensors.get("position.predictions"),
                         clipped=saved["clipped"], size=saved["size"])


def _standardizer_dict(model: Sequential) -> dict | None:
    st = model.standardizer
    if st is None or getattr(st, "mean_", None) is None:
        return None
    return st.to_dict()


def restore_standardizer(model: Sequential, checkpoint: CheckpointData) -> None:
    """Give `model` the Standardizer (training μ, σ) the checkpointed run used.

    A model without one (or with an unfitted one) adopts the checkpoint's; a model with a different
    fitted one is refused, since resuming on differently normalized inputs cannot reproduce the run.
    """
    saved = checkpoint[1].get("standardizer")
    if saved is None:
        return
    st = model.standardizer
    if st is None or getattr(st, "mean_", None) is None:
        model.standardizer = Standardizer.from_dict(saved)
    elif st.to_dict() != saved:
        raise GradwiseValueError("the model's Standardizer (μ, σ) differs from the one the checkpointed run "
                                 "used; resume with the same training data or without setting one")


def load_checkpoint(path: str | os.PathLike) -> CheckpointData:
    """(tensors, meta) of a checkpoint file; `ModelFileError` if missing, truncated, foreign, or if a field
    of its header has the wrong type (the checksum covers the tensors only: a flipped digit or a hand edit
    in the JSON header must be caught here, not as a TypeError deep inside `fit`)."""
    tensors, meta = read_container(path, "checkpoint")
    bad = _bad_fields(meta)
    if bad:
        raise ModelFileError(f"{os.fspath(path)} is damaged: its header field(s) {', '.join(bad)} do not "
                             f"hold what a checkpoint writes")
    return tensors, meta


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_history(v: Any) -> bool:
    if v is None:
        return True
    if not isinstance(v, dict) or not all(isinstance(c, list) for c in v.values()):
        return False
    lengths = {len(c) for c in v.values()}
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for c in v.values() for x in c)
    return numbers and len(lengths) <= 1 and all(_is_int(e) for e in v.get("epoch", []))


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _is_rng_state(v: Any) -> bool:
    """A generator state NumPy accepts (tried on a throwaway generator of the same kind)."""
    if not isinstance(v, dict) or v.get("kind") not in ("RandomState", "Generator"):
        return False
    inner = v.get("bit_generator")
    if v["kind"] == "Generator" and not (isinstance(inner, dict) and inner.get("bit_generator") in _BIT_GENERATORS):
        return False
    try:
        _random.set_state(_random.rng_from_state(v), v)
    except (TypeError, ValueError, OverflowError, KeyError, IndexError):
        return False
    return True


def _is_position(v: Any, epoch: Any) -> bool:
    if v is None:
        return True
    return (isinstance(v, dict) and all(_is_int(v.get(k)) for k in ("epoch", "batch", "clipped", "size"))
            and v["epoch"] == epoch and v["batch"] >= 1 and isinstance(v.get("cost_sum"), int | float)
            and not isinstance(v.get("cost_sum"), bool))


def _bad_fields(meta: dict) -> list[str]:
    """The header fields of a checkpoint whose type is not what `save_checkpoint` writes."""
    model, opt, rng = meta.get("model"), meta.get("optimizer"), meta.get("rng")
    checks = {
        "model": isinstance(model, dict) and _is_int(model.get("input_dim")),
        "epoch": _is_int(meta.get("epoch")),
        "optimizer": opt is None or (isinstance(opt, dict) and isinstance(opt.get("config"), dict)
                                     and _is_int(opt.get("t"))),
        "rng": _is_rng_state(rng),
        "history": _is_history(meta.get("history")),
        "stop_training": isinstance(meta.get("stop_training", False), bool),
        "standardizer": meta.get("standardizer") is None or isinstance(meta.get("standardizer"), dict),
        "callbacks": isinstance(meta.get("callbacks", {}), dict)
                     and all(isinstance(c, dict) for c in meta.get("callbacks", {}).values()),
        "position": _is_position(meta.get("position"), meta.get("epoch")),
    }
    return [name for name, ok in checks.items() if not ok]


def restore_training_state(model: Sequential, checkpoint: CheckpointData, optimizer=None) -> History:
    """Put θ, buffers, RNG state, epoch count, optimizer and history of `checkpoint` into `model`.

    `optimizer` (the one the resuming call asked for) receives the saved state if its settings equal
    the checkpoint's; otherwise the checkpoint's optimizer is rebuilt from its config. Everything is
    checked before the model is touched, so a refused checkpoint leaves the model as it was.
    Returns the History the checkpoint recorded (every epoch trained so far).
    """
    tensors, meta = checkpoint
    saved = meta["model"]
    if not model.built:
        model.build(saved["input_dim"])
    # Compare through JSON, as the checkpoint stores it (tuples become lists and so on).
    mine = json.loads(json.dumps(model.get_config(), default=str))
    keys = ("layers", "input_dim", "loss", "l2", "l1", "dtype")
    different = [k for k in keys if mine.get(k) != saved.get(k)]
    if different or tensors["theta"].shape != model.theta.shape:
        raise ModelFileError(
            f"the checkpoint was written for another model (differs in {different or ['parameter count']}): "
            f"checkpoint {saved}, model {mine}")
    rng_kind = "RandomState" if isinstance(model.rng, np.random.RandomState) else "Generator"
    if meta["rng"].get("kind") != rng_kind:
        raise GradwiseTypeError(f"the checkpoint holds a {meta['rng'].get('kind')} random state but the "
                                f"model uses a {rng_kind}; build the model with the same kind of seed/rng")
    opt = None
    if meta["optimizer"] is not None:
        config = meta["optimizer"]["config"]
        candidates = [o for o in (optimizer, model.optimizer) if o is not None and o.get_config() == config]
        opt = candidates[0] if candidates else optimizers.get(config)
        state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith("optimizer.")}
        state["t"] = meta["optimizer"]["t"]
        opt.load_state_dict(state)
    history = History.from_dict(meta["history"]) if meta.get("history") else History()

    _random.set_state(model.rng, meta["rng"])
    model.theta[...] = tensors["theta"]
    model.buffer[...] = tensors["buffer"]
    model.epochs_trained = int(meta["epoch"])
    if opt is not None:
        model.optimizer = opt
    model.history = History.from_dict(history.to_dict())
    return history


def restore_callback_states(callbacks, checkpoint: CheckpointData) -> None:
    """Give each callback the state its namesake had when the checkpoint was written."""
    tensors, meta = checkpoint
    saved = meta.get("callbacks") or {}
    for key, cb in _callback_keys(callbacks):
        if key in saved:
            prefix = f"callback.{key}."
            cb.set_state(saved[key], {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})


__all__ = ["save_checkpoint", "load_checkpoint", "restore_training_state", "restore_callback_states",
           "restore_standardizer", "read_position", "CheckpointData"]
