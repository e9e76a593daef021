"""gw.lr_find: the range test's suggestion against a 7-point log grid on three data sets, the model left
bit-identical, stopping on divergence, the plot, and its bad settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw
from gradwise.errors import GradwiseValueError

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "lr_find_grid.py"


def _grid_protocol():
    spec = importlib.util.spec_from_file_location("lr_find_grid", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_at_the_suggestion_is_within_two_points_of_the_best_grid_rate():
    rows = _grid_protocol().table()
    assert [r[0] for r in rows] == ["moons", "circles", "spirals"]
    for name, lr, accuracy, best, grid in rows:
        assert len(grid) == 7
        assert accuracy >= best - 0.02, (name, lr, accuracy, best, grid)
        assert 1e-4 < lr < 1.0, (name, lr)


def test_the_model_is_left_bit_identical(blobs):
    X, y = blobs
    model = gw.mlp([2, 8, 8, 1], seed=3, batchnorm=True, keep_prob=0.8)
    model.fit(X, y, epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01)
    before = (model.theta.copy(), model.buffer.copy(), model.rng.bit_generator.state,
              {k: v.copy() for k, v in model.optimizer.state_dict().items()}, model.epochs_trained,
              list(model.history["cost"]))
    result = gw.lr_find(model, X, y, num_steps=80)
    assert np.array_equal(model.theta, before[0]) and np.array_equal(model.buffer, before[1])
    assert model.rng.bit_generator.state == before[2]
    after = model.optimizer.state_dict()
    assert all(np.array_equal(after[k], v) for k, v in before[3].items())
    assert model.epochs_trained == before[4] and model.history["cost"] == before[5]
    assert len(result.lrs) == len(result.costs) == len(result.smoothed) <= 80
    # and training continues exactly as if lr_find had not run
    twin = gw.mlp([2, 8, 8, 1], seed=3, batchnorm=True, keep_prob=0.8)
    twin.fit(X, y, epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01)
    model.fit(X, y, epochs=2, batch_size=16)
    twin.fit(X, y, epochs=2, batch_size=16)
    assert np.array_equal(model.theta, twin.theta)


def test_it_stops_when_the_cost_diverges_and_rates_grow_exponentially(blobs):
    X, y = blobs
    result = gw.lr_find(gw.mlp([2, 8, 1], seed=0), X, y, start_lr=1e-4, end_lr=1e4, num_steps=100,
                        optimizer="gd")
    assert result.diverged and len(result.lrs) < 100
    ratios = result.lrs[1:] / result.lrs[:-1]
    np.testing.assert_allclose(ratios, (1e8) ** (1 / 99), rtol=1e-12)
    assert np.all(np.isfinite(result.smoothed))
    best = result.lrs[int(np.argmin(result.smoothed))]
    assert result.suggestion == pytest.approx(best / 10) and "tenth" in result.explanation
    steep = gw.lr_find(gw.mlp([2, 8, 1], seed=0), X, y, start_lr=1e-4, end_lr=1e4, num_steps=100,
                       optimizer="gd", rule="steepest")
    assert steep.rule == "steepest" and steep.suggestion <= best


def test_plot_writes_a_png(tmp_path, blobs):
    X, y = blobs
    result = gw.lr_find(gw.mlp([2, 8, 1], seed=0), X, y, num_steps=40)
    path = result.plot(tmp_path / "lr.png")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.plot() is not None  # a new figure


@pytest.mark.parametrize("kwargs,message", [
    ({"start_lr": 1.0, "end_lr": 0.1}, "inverted"),
    ({"num_steps": 2}, "num_steps"),
    ({"smoothing": 1.0}, "smoothing"),
    ({"rule": "valley"}, "rule"),
])
def test_bad_settings_are_one_clear_error_each(blobs, kwargs, message):
    X, y = blobs
    with pytest.raises(GradwiseValueError, match=message):
        gw.lr_find(gw.mlp([2, 4, 1], seed=0), X, y, **kwargs)
