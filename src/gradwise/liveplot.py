"""`LivePlot`: watch a network learn — one figure, redrawn in place while `fit` runs.

In Jupyter the figure is one display output updated through its display id (never appended once per
epoch); anywhere else it can be written to a PNG file you keep open. Redraws are throttled (`every`
epochs and at least `min_interval` seconds apart; the last epoch is always drawn), so watching costs little.
"""

from __future__ import annotations

import io
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import plots
from ._atomic import write_bytes
from ._validation import check_float, check_int
from .callbacks import Callback
from .errors import GradwiseTypeError, GradwiseValueError
from .progress import in_notebook


class LivePlot(Callback):
    """Cost and accuracy (train and dev), the decision boundary for 2-D inputs, and per-layer gradient norms.

    Panels: the cost by epoch (`cost`, `val_cost`); the accuracy (`accuracy`, `val_accuracy`) for
    classifiers; the decision boundary over `boundary=(X, y)` when the inputs are 2-D; with `health=True`
    and a `gw.Monitor` among the callbacks, ‖dW[l]‖_F of the last mini-batch of each epoch the Monitor
    recorded (epoch 0: the starting weights), for each layer l on a log scale — vanishing or exploding
    gradients show as lines that fall or climb with depth. The panel reads the Monitor's records
    (`model.history.layers`): one implementation of the statistics, the one the doctor reads.

    Parameters
    ----------
    every : int, default 1
        Redraw at most every `every` epochs.
    min_interval : float, default 0.5
        Seconds between redraws at least (drawing a figure costs ~50 ms; a fast epoch costs less).
    boundary : (X, y), optional
        X of shape (m, 2) in the model's input units, y of shape (m,) integer labels.
    health : bool, default True
        Draw the per-layer panel when a Monitor records (it runs no statistics of its own).
    path : str or path-like, optional
        Also write each redraw to this PNG (atomically): a live view outside Jupyter.

    Attributes
    ----------
    draws : int — how many times the figure was drawn;  image : bytes — the last PNG
    """

    def __init__(self, every: int = 1, min_interval: float = 0.5, boundary: tuple[Any, Any] | None = None,
                 health: bool = True, path: str | os.PathLike | None = None):
        self.every = check_int("every", every, minimum=1)
        self.min_interval = check_float("min_interval", min_interval, low=0.0)
        self.boundary = _check_boundary(boundary)
        self.health = bool(health)
        if path is not None and not isinstance(path, str | os.PathLike):
            raise GradwiseTypeError(f"path must be a file path or None, got {path!r}")
        self.path = Path(path) if path is not None else None
        self.draws = 0
        self.image: bytes | None = None
        self._logs: dict[str, list[float]] = {}
        self._epochs: list[int] = []
        self._drawn_records = 0  # the Monitor's records the last drawing showed
        self._first, self._total = 0, 0
        self._last_draw = -math.inf
        self._drawn_epoch: int | None = None
        self._handle: Any = None

    def on_train_begin(self, logs=None) -> None:
        logs = logs or {}
        self._first, self._total = int(logs.get("initial_epoch", 0)), int(logs.get("epochs", 0))
        self._logs, self._epochs, self._drawn_records = {}, [], 0
        self._last_draw, self._drawn_epoch, self._handle = -math.inf, None, None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self._epochs.append(epoch + 1)
        for key, value in logs.items():
            self._logs.setdefault(key, []).append(float(value))
        last = epoch + 1 == self._total or self.model.stop_training
        due = (epoch + 1 - self._first) % self.every == 0
        if last or (due and time.perf_counter() - self._last_draw >= self.min_interval):
            self._draw()

    def on_train_end(self, logs=None) -> None:
        # stopped early or diverged: show where it ended; a Monitor after this callback in the list adds
        # the last epoch's record after the last drawing
        if self._epochs and (self._drawn_epoch != self._epochs[-1] or self._records_count() != self._drawn_records):
            self._draw()

    def _draw(self) -> None:
        fig = self._figure()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        self.image = buffer.getvalue()
        self._show(self.image)
        self.draws += 1
        self._last_draw, self._drawn_epoch = time.perf_counter(), self._epochs[-1]
        self._drawn_records = self._records_count()

    def _records_count(self) -> int:
        return len(self.model.history.layers) if self.model.history is not None else 0

    def health_series(self) -> dict[str, tuple[list[int], list[float]]]:
        """{"W1": (epochs, ‖dW1‖ values), …} from the Monitor's records of this fit (`model.history.layers`;
        epoch 0 is the starting weights); empty without a Monitor or with `health=False`."""
        series: dict[str, tuple[list[int], list[float]]] = {}
        history = self.model.history
        if not self.health or history is None:
            return series
        for r in history.layers:
            if int(r["epoch"]) >= self._first - 1 and r.get("grad_norm") is not None:
                epochs, norms = series.setdefault(f"W{r['layer']}", ([], []))
                epochs.append(int(r["epoch"]) + 1)
                norms.append(float(r["grad_norm"]))
        return series

    def _figure(self):
        health = self.health_series()
        panels = ["cost"] + (["accuracy"] if "accuracy" in self._logs else [])
        panels += (["boundary"] if self.boundary is not None else []) + (["health"] if health else [])
        fig, axes = plots.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.0), squeeze=False)
        for ax, panel in zip(axes[0], panels, strict=True):
            if panel == "boundary":
                assert self.boundary is not None
                plots.plot_decision_boundary(ax, self.model, *self.boundary, resolution=80, point_size=8,
                                             title=f"epoch {self._epochs[-1]}")
            elif panel == "health":
                self._lines(ax, health, "‖dW[l]‖ (last batch, Monitor)", log=True)
            else:
                self._lines(ax, {k: (self._epochs, self._logs[k]) for k in (panel, f"val_{panel}")
                                 if k in self._logs}, panel)
        return fig

    def _lines(self, ax, series: dict[str, tuple[list[int], list[float]]], title: str, log: bool = False) -> None:
        for name, (epochs, values) in series.items():
            ax.plot(epochs, values, label=name, linewidth=1.3, marker="." if len(epochs) < len(self._epochs) else None)
        if log and all(v > 0 for _, values in series.values() for v in values):
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")

    def _show(self, png: bytes) -> None:
        if self.path is not None:
            write_bytes(self.path, png)
        if not in_notebook():
            return
        from IPython.display import Image, display  # present whenever a kernel runs

        if self._handle is None:
            self._handle = display(Image(data=png), display_id=True)
        else:
            self._handle.update(Image(data=png))  # the same output, redrawn in place

    def __repr__(self) -> str:
        return f"LivePlot(every={self.every}, min_interval={self.min_interval}, health={self.health})"


def _check_boundary(boundary: Any) -> tuple[np.ndarray, np.ndarray] | None:
    if boundary is None:
        return None
    if not isinstance(boundary, tuple | list) or len(boundary) != 2:
        raise GradwiseTypeError(f"boundary must be a pair (X, y), got {type(boundary).__name__}")
    X, y = np.asarray(boundary[0], dtype=np.float64), np.asarray(boundary[1]).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape[0] != X.shape[0]:
        raise GradwiseValueError(f"boundary needs X of shape (m, 2) and y of shape (m,), got {X.shape} and "
                                 f"{y.shape}")
    return X, y
