"""Training checkpoints: everything needed to continue a run with bit-identical results.

A checkpoint holds θ, the batch-norm buffers, the optimizer state (and step count), the RNG state
(so shuffles and dropout masks continue the same sequence), the epoch, the history and the state of
callbacks such as EarlyStopping. It is written atomically.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from . import _random
from ._container import read_container, write_container
from .errors import ModelFileError

if TYPE_CHECKING:
    from .callbacks import Callback
    from .model import Sequential
    from .training import History


def save_checkpoint(path: str | os.PathLike, model: Sequential, callbacks: list[Callback] | tuple = ()) -> None:
    tensors = {"theta": model.theta, "buffer": model.buffer}
    opt = model.optimizer
    opt_meta = None
    if opt is not None:
        state = opt.state_dict()
        opt_meta = {"config": opt.get_config(), "t": int(state.pop("t"))}
        tensors.update({f"optimizer.{k}": v for k, v in state.items()})
    cb_meta = []
    for i, cb in enumerate(callbacks):
        scalars, arrays = cb.get_state()
        cb_meta.append({"type": type(cb).__name__, "state": scalars})
        tensors.update({f"callback{i}.{k}": v for k, v in arrays.items()})
    meta = {
        "model": model.get_config(),
        "epoch": model.epochs_trained,
        "optimizer": opt_meta,
        "rng": _random.get_state(model.rng),
        "history": model.history.to_dict() if model.history is not None else None,
        "callbacks": cb_meta,
    }
    write_container(path, "checkpoint", tensors, meta)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    return read_container(path, "checkpoint")


def restore_checkpoint(model: Sequential, checkpoint: tuple[dict, dict], callbacks=()) -> History:
    """Put a checkpoint's state into `model` (and callbacks); return the history it recorded."""
    from .optim import optimizers
    from .training import History

    tensors, meta = checkpoint
    if not model.built:
        model.build(meta["model"]["input_dim"])
    if tensors["theta"].shape != model.theta.shape:
        raise ModelFileError(f"the checkpoint holds {tensors['theta'].size} parameters, the model has "
                             f"{model.theta.size}: it was written for another architecture")
    model.theta[...] = tensors["theta"]
    model.buffer[...] = tensors["buffer"]
    _random.set_state(model.rng, meta["rng"])
    model.epochs_trained = int(meta["epoch"])
    if meta["optimizer"] is not None:
        opt = model.optimizer
        if opt is None or opt.get_config() != meta["optimizer"]["config"]:
            opt = optimizers.get(meta["optimizer"]["config"])
        state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith("optimizer.")}
        state["t"] = meta["optimizer"]["t"]
        opt.load_state_dict(state)
        model.optimizer = opt
    for i, (cb, saved) in enumerate(zip(callbacks, meta.get("callbacks", []), strict=False)):
        if type(cb).__name__ == saved["type"]:
            prefix = f"callback{i}."
            cb.set_state(saved["state"], {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    history = History.from_dict(meta["history"]) if meta.get("history") else History()
    model.history = History.from_dict(history.to_dict())
    return history
