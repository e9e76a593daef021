"""gradwise.plots: each helper draws into an Axes or writes a PNG file, and refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw
from gradwise import plots

PNG = b"\x89PNG\r\n\x1a\n"


def test_cost_curves_to_a_file_and_into_an_axes(tmp_path):
    path = plots.plot_cost_curves(tmp_path / "c.png", {"a": np.linspace(2, 1, 5000), "b": [3.0, 2.0, 1.5]},
                                  logy=True, title="t")
    assert path.read_bytes()[:8] == PNG
    fig, ax = plots.subplots(1, 1)
    assert plots.plot_cost_curves(ax, {"a": [1.0, 0.5]}, x=[10, 20]) is ax
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [10, 20]
    long = plots.plot_cost_curves(plots.subplots()[1], {"a": np.arange(10_000.0)}, max_points=100)
    xs = long.get_lines()[0].get_xdata()
    assert len(xs) <= 101 and xs[-1] == 9999  # subsampled, the last point kept


def test_decision_boundary_draws_the_models_regions(tmp_path):
    X = np.random.default_rng(0).standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    model = gw.mlp([2, 4, 1], seed=0)
    model.fit(X, y, epochs=200, learning_rate=0.5)
    path = plots.plot_decision_boundary(tmp_path / "b.png", model, X, y, title="boundary")
    assert path.read_bytes()[:8] == PNG
    fig, ax = plots.subplots()
    plots.plot_decision_boundary(ax, model, X, y, resolution=30, class_names=("neg", "pos"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["neg", "pos"]
    with pytest.raises(gw.GradwiseValueError, match=r"\(m, 2\)"):
        plots.plot_decision_boundary(ax, model, np.zeros((5, 3)), np.zeros(5))


def test_layer_bars_and_lines(tmp_path):
    path = plots.plot_layer_bars(tmp_path / "bars.png", {"x": [1, 2, 3], "y": [2, 3, 4]},
                                 layers=["W1", "W2", "W3"], logy=True)
    assert path.read_bytes()[:8] == PNG
    with pytest.raises(gw.GradwiseValueError, match="layer labels"):
        plots.plot_layer_bars(tmp_path / "x.png", {"x": [1, 2]}, layers=["W1"])
    fig, ax = plots.subplots()
    plots.plot_layer_lines(ax, {"std": [1.0, 0.5, 0.25]})
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3]


def test_bad_targets_are_refused():
    with pytest.raises(gw.GradwiseTypeError, match="Axes or a file path"):
        plots.plot_cost_curves(42, {"a": [1.0]})
    with pytest.raises(gw.GradwiseValueError, match="non-empty"):
        plots.plot_cost_curves("x.png", {})
