"""`History`: what `fit` records, one entry per epoch (Keras' History), shared by training, callbacks,
checkpoints and the model without any of them importing the others."""

from __future__ import annotations

from . import _html
from .errors import GradwiseTypeError


class History:
    """Per-epoch records of training, Keras-style.

    `history["cost"]`, `["accuracy"]` (classification), `["val_cost"]`, `["val_accuracy"]` or
    `["val_rmse"]` (with validation data), `["learning_rate"]`: lists with one float per epoch;
    `epoch`: the global (0-based) epoch numbers, which keep counting across successive `fit` calls.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.layers: list[dict] = []  # per-layer statistics a Monitor records (not in to_dict: not per epoch)

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def extend(self, other: History) -> None:
        for i, epoch in enumerate(other.epoch):
            self.append(epoch, {k: v[i] for k, v in other.history.items()})

    def pop(self) -> None:
        """Forget the last epoch (training rolled back over it after a divergence)."""
        self.epoch.pop()
        for values in self.history.values():
            values.pop()

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict[str, list]:
        """`{"epoch": [...], "cost": [...], ...}`: JSON-able, exact (floats round-trip through JSON)."""
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        if not isinstance(data, dict):
            raise GradwiseTypeError(f"History.from_dict expects a dict, got {type(data).__name__}")
        h = cls()
        h.epoch = [int(e) for e in data.get("epoch", [])]
        h.history = {k: [float(x) for x in v] for k, v in data.items() if k != "epoch"}
        return h

    def _repr_html_(self) -> str:
        """Jupyter's display: the cost and accuracy curves (train and dev) and the last epoch's values."""
        groups = {"cost": ("cost", "val_cost"), "accuracy": ("accuracy", "val_accuracy"), "rmse": ("val_rmse",)}
        plots = "".join(_html.curves({k: self.history[k] for k in keys if k in self.history}, title)
                        for title, keys in groups.items())
        last = [(k, f"{v[-1]:.6g}") for k, v in self.history.items() if v]
        return (_html.heading(f"History: {len(self)} epochs") + f"<div>{plots}</div>"
                + _html.table(["last epoch", "value"], last))

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"
