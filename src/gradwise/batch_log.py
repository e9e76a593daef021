"""BatchLog: the cost of every mini-batch (the seeds' noisy mini-batch cost curve)."""

from __future__ import annotations

from .callbacks import Callback


class BatchLog(Callback):
    """Record J and α of every mini-batch step of `fit` (through the `on_batch_end` hook).

    Attributes
    ----------
    costs : list of float
        J of each mini-batch, in training order across epochs (noisy with mini-batches, smooth with full batch).
    learning_rates : list of float
    epochs : list of int
        The epoch of each step.
    """

    def __init__(self) -> None:
        self.costs: list[float] = []
        self.learning_rates: list[float] = []
        self.epochs: list[int] = []

    def on_batch_end(self, batch: int, logs: dict) -> None:
        self.costs.append(float(logs["cost"]))
        self.learning_rates.append(float(logs["learning_rate"]))
        self.epochs.append(int(logs["epoch"]))

    def __repr__(self) -> str:
        return f"BatchLog({len(self.costs)} steps)"


__all__ = ["BatchLog"]
