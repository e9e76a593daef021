"""Plots of training: cost curves, decision boundaries, per-layer statistics (matplotlib, imported lazily).

Every function takes `ax_or_path` first: a matplotlib `Axes` to draw into (the caller owns the figure), or a
file path, in which case a figure is made, drawn, written atomically as PNG and closed, and the path is
returned. Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never through `pyplot`, so
no global backend or figure state is touched (safe in servers, threads and notebooks alike).

    from gradwise import plots
    plots.plot_cost_curves("cost.png", {"he": history["cost"]}, title="Cost, He initialization")
    fig, axes = plots.subplots(1, 3)
    plots.plot_decision_boundary(axes[0], model, X, y, title="He")
    plots.save_figure(fig, "boundaries.png")
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import write_bytes
from .errors import GradwiseTypeError, GradwiseValueError

#: colours of the two classes in decision-boundary plots (the course's red / blue)
CLASS_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf")
DPI = 100


def _mpl():
    """Import matplotlib lazily (its import is slow) and return (Figure, FigureCanvasAgg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg


def subplots(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None,
             squeeze: bool = True, **kwargs: Any):
    """A `(figure, axes)` pair on the Agg canvas, like `pyplot.subplots` but without global state."""
    Figure, FigureCanvasAgg = _mpl()
    if figsize is None:
        figsize = (4.6 * ncols, 3.6 * nrows)
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **kwargs)
    return fig, axes


def save_figure(fig, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Render `fig` to PNG and write it atomically to `path` (parents created). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    write_bytes(path, buffer.getvalue())
    return path


def _is_path(target: Any) -> bool:
    return isinstance(target, str | os.PathLike)


def _axes(ax_or_path: Any, figsize: tuple[float, float] = (5.4, 3.8)):
    """(figure to save or None, axes) for either kind of target."""
    if _is_path(ax_or_path):
        fig, ax = subplots(1, 1, figsize=figsize)
        return fig, ax
    if not hasattr(ax_or_path, "plot") or not hasattr(ax_or_path, "figure"):
        raise GradwiseTypeError(f"ax_or_path must be a matplotlib Axes or a file path, got {ax_or_path!r}")
    return None, ax_or_path


def _finish(fig, ax, ax_or_path):
    if fig is None:
        return ax
    return save_figure(fig, ax_or_path)


def _integer_ticks(ax) -> None:
    """Epochs, iterations and layers are counted: no 2.5 on their axis."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


# --------------------------------------------------------------------------------------------- curves


def plot_cost_curves(
    ax_or_path: Any,
    curves: Mapping[str, Sequence[float]],
    *,
    x: Mapping[str, Sequence[float] | np.ndarray] | Sequence[float] | np.ndarray | None = None,
    xlabel: str = "iteration",
    ylabel: str = "cost J",
    title: str | None = None,
    logy: bool = False,
    logx: bool = False,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    max_points: int = 2000,
    legend_loc: str = "best",
):
    """One line per named curve, e.g. `{"zeros": history_z["cost"], "he": history_h["cost"]}`.

    Parameters
    ----------
    ax_or_path : matplotlib Axes or path
    curves : mapping label -> sequence of n_label values (a History's `history["cost"]`)
    x : the x values, shared (sequence) or per label (mapping); default 0, 1, 2, …
    logy, logx : logarithmic axes (a cost starting at ~10³, as with large random weights, needs logy)
    styles : per label keyword arguments for `Axes.plot` (colour, linestyle, …)
    max_points : long curves are subsampled evenly to at most this many points (always keeping the last)

    Returns the Axes, or the written path.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise GradwiseValueError("curves must be a non-empty mapping label -> values")
    fig, ax = _axes(ax_or_path)
    integer_x = True
    for label, values in curves.items():
        yv = np.asarray(values, dtype=np.float64).ravel()
        if isinstance(x, Mapping):
            xv = np.asarray(x[label], dtype=np.float64).ravel()
        elif x is not None:
            xv = np.asarray(x, dtype=np.float64).ravel()
        else:
            xv = np.arange(yv.size, dtype=np.float64)
        if xv.size != yv.size:
            raise GradwiseValueError(f"curve {label!r} has {yv.size} values but {xv.size} x values")
        integer_x = integer_x and bool(np.all(np.mod(xv, 1) == 0))
        if yv.size > max_points:
            keep = np.unique(np.r_[np.linspace(0, yv.size - 1, max_points).astype(np.int64), yv.size - 1])
            xv, yv = xv[keep], yv[keep]
        ax.plot(xv, yv, label=str(label), **{"linewidth": 1.4, **dict((styles or {}).get(label, {}))})
    if integer_x and not logx:
        _integer_ticks(ax)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc=legend_loc, fontsize="small")
    return _finish(fig, ax, ax_or_path)


# ---------------------------------------------------------------------------------- decision boundary


def plot_decision_boundary(
    ax_or_path: Any,
    model: Any,
    X: Any,
    y: Any,
    *,
    title: str | None = None,
    resolution: int = 200,
    padding: float = 0.5,
    class_names: Sequence[str] | None = None,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
    point_size: float = 14.0,
):
    """The regions a 2-feature classifier assigns to each class, with the data on top (as the course draws it).

    Parameters
    ----------
    ax_or_path : matplotlib Axes or path
    model : anything with `predict(X) -> labels` (a gradwise Sequential, a scikit-learn classifier);
        a model carrying a `standardizer` applies it itself, so pass X in its original units.
    X : array of shape (m, 2);  y : array of shape (m,) of integer labels
    resolution : grid points per axis;  padding : margin around the data, in data units

    Returns the Axes, or the written path.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise GradwiseValueError(f"a decision boundary needs X of shape (m, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise GradwiseValueError(f"y has {y.shape[0]} labels, X has {X.shape[0]} rows")
    fig, ax = _axes(ax_or_path, figsize=(4.6, 4.0))
    from matplotlib.colors import ListedColormap

    x_min, x_max = X[:, 0].min() - padding, X[:, 0].max() + padding
    y_min, y_max = X[:, 1].min() - padding, X[:, 1].max() + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    Z = np.asarray(model.predict(grid)).reshape(xx.shape)
    classes = np.unique(np.r_[np.unique(y), np.unique(Z)]).astype(np.int64)
    k = int(classes.max()) + 1 if classes.size else 2
    colors = [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(max(k, 2))]
    cmap = ListedColormap(colors)
    ax.contourf(xx, yy, Z, levels=np.arange(-0.5, max(k, 2)), cmap=cmap, alpha=0.25)
    if k <= 2:
        ax.contour(xx, yy, Z, levels=[0.5], colors="k", linewidths=0.8)
    for c in np.unique(y).astype(np.int64):
        name = class_names[c] if class_names is not None and c < len(class_names) else f"y = {c}"
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=point_size, color=colors[c], edgecolors="k", linewidths=0.3,
                   label=name)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="x-small", framealpha=0.8)
    return _finish(fig, ax, ax_or_path)


# ------------------------------------------------------------------------------------- per layer


def plot_layer_bars(
    ax_or_path: Any,
    values: Mapping[str, Sequence[float]],
    *,
    layers: Sequence[str] | None = None,
    ylabel: str = "value",
    title: str | None = None,
    logy: bool = False,
    errors: Mapping[str, Sequence[float]] | None = None,
):
    """Grouped bars: one group per layer (`W1, W2, …`), one bar per named series.

    values : mapping series -> one value per layer;  layers : group labels (default "1", "2", …)
    errors : optional mapping series -> half-width of an error bar per layer
    """
    if not isinstance(values, Mapping) or not values:
        raise GradwiseValueError("values must be a non-empty mapping series -> per-layer values")
    fig, ax = _axes(ax_or_path)
    n_layers = max(len(v) for v in values.values())
    labels = list(layers) if layers is not None else [str(i + 1) for i in range(n_layers)]
    if len(labels) != n_layers:
        raise GradwiseValueError(f"{len(labels)} layer labels for {n_layers} values")
    width = 0.8 / len(values)
    base = np.arange(n_layers)
    for i, (name, vals) in enumerate(values.items()):
        v = np.asarray(vals, dtype=np.float64)
        err = None if errors is None or name not in errors else np.asarray(errors[name], dtype=np.float64)
        ax.bar(base[: v.size] + (i - (len(values) - 1) / 2) * width, v, width, yerr=err, capsize=3,
               label=str(name))
    ax.set_xticks(base, labels)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    return _finish(fig, ax, ax_or_path)


def plot_layer_lines(
    ax_or_path: Any,
    values: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "layer l",
    ylabel: str = "value",
    title: str | None = None,
    logy: bool = True,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    first_layer: int = 1,
):
    """One line per named series of per-layer values (activation spread, gradient norm) against depth."""
    if not isinstance(values, Mapping) or not values:
        raise GradwiseValueError("values must be a non-empty mapping series -> per-layer values")
    fig, ax = _axes(ax_or_path)
    for name, vals in values.items():
        v = np.asarray(vals, dtype=np.float64)
        style = {"marker": "o", "markersize": 3, "linewidth": 1.3, **dict((styles or {}).get(name, {}))}
        ax.plot(np.arange(first_layer, first_layer + v.size), v, label=str(name), **style)
    _integer_ticks(ax)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small")
    return _finish(fig, ax, ax_or_path)


__all__ = [
    "subplots",
    "save_figure",
    "plot_cost_curves",
    "plot_decision_boundary",
    "plot_layer_bars",
    "plot_layer_lines",
]


def plot_lr_find(ax_or_path: Any, lrs: np.ndarray, costs: np.ndarray, smoothed: np.ndarray, suggestion: float,
                 rule: str):
    """The learning-rate range test: cost against α on a log axis, the suggested α marked.

    Parameters
    ----------
    ax_or_path : matplotlib Axes or path
    lrs, costs, smoothed : arrays of shape (n,)
    suggestion : float
    rule : str
        The rule that chose `suggestion` (shown in the legend).
    """
    fig, ax = _axes(ax_or_path)
    ax.plot(lrs, costs, color="0.75", linewidth=0.8, label="mini-batch cost")
    ax.plot(lrs, smoothed, color="C0", label="smoothed")
    ax.axvline(suggestion, color="C3", linestyle="--", label=f"suggested α = {suggestion:.3g} ({rule})")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("cost J")
    top = float(np.max(smoothed[: max(1, int(np.argmin(smoothed))) + 1]))
    ax.set_ylim(top=top * 1.5 if top > 0 else None)
    ax.legend(fontsize=8)
    return _finish(fig, ax, ax_or_path)
