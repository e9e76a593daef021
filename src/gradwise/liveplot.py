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
    classifiers; the decision boundary over `boundary=(X, y)` when the inputs are 2-D; with `health=True`,
    ‖dW[l]‖_F of the epoch's last mini-batch for each layer l on a log scale — vanishing or exploding
    gradients show as lines that fall or climb with depth.

    Parameters
    ----------
    every : int, default 1
        Redraw at most every `every` epochs.
    min_interval : float, default 0.5
        Seconds between redraws at least (drawing a figure costs ~50 ms; a fast epoch costs less).
    boundary : (X, y), optional
        X of shape (m, 2) in the model's input units, y of shape (m,) integer labels.
    health : bool, default True
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
        self._norms: dict[str, list[float]] = {}
        self._epochs: list[int] = []
        self._first, self._total = 0, 0
        self._last_draw = -math.inf
        self._drawn_epoch: int | None = None
        self._handle: Any = None

    def on_train_begin(self, logs=None) -> None:
        logs = logs or {}
        self._first, self._total = int(logs.get("initial_epoch", 0)), int(logs.get("epochs", 0))
        self._logs, self._norms, self._epochs = {}, {}, []
        self._last_draw, self._drawn_epoch, self._handle = -math.inf, None, None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self._epochs.append(epoch + 1)
        for key, value in logs.items():
            self._logs.setdefault(key, []).append(float(value))
        if self.health:
            for name, grad in self.model.gradients().items():
                if name.startswith("W"):
                    self._norms.setdefault(name, []).append(float(np.linalg.norm(grad)))
        last = epoch + 1 == self._total or self.model.stop_training
        due = (epoch + 1 - self._first) % self.every == 0
        if last or (due and time.perf_counter() - self._last_draw >= self.min_interval):
            self._draw()

    def on_train_end(self, logs=None) -> None:
        if self._epochs and self._drawn_epoch != self._epochs[-1]:
            self._draw()  # stopped early or diverged: show where it ended

    def _draw(self) -> None:
        fig = self._figure()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        self.image = buffer.getvalue()
        self._show(self.image)
        self.draws += 1
        self._last_draw, self._drawn_epoch = time.perf_counter(), self._epochs[-1]

    def _figure(self):
        panels = ["cost"] + (["accuracy"] if "accuracy" in self._logs else [])
        panels += (["boundary"] if self.boundary is not None else []) + (["health"] if self._norms else [])
        fig, axes = plots.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.0), squeeze=False)
        for ax, panel in zip(axes[0], panels, strict=True):
            if panel == "boundary":
                assert self.boundary is not None
                plots.plot_decision_boundary(ax, self.model, *self.boundary, resolution=80, point_size=8,
                                             title=f"epoch {self._epochs[-1]}")
            elif panel == "health":
                self._lines(ax, self._norms, "‖dW[l]‖ (last batch)", log=True)
            else:
                self._lines(ax, {k: self._logs[k] for k in (panel, f"val_{panel}") if k in self._logs}, panel)
        return fig

    def _lines(self, ax, series: dict[str, list[float]], title: str, log: bool = False) -> None:
        for name, values in series.items():
            ax.plot(self._epochs, values, label=name, linewidth=1.3)
        if log and all(v > 0 for values in series.values() for v in values):
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
