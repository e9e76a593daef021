"""LivePlot outside a kernel: throttled redraws, the panels it promises, a PNG file kept up to date."""

from __future__ import annotations

import io

import numpy as np
import pytest

import gradwise as gw


def _moons(m=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 2))
    return X, (X[:, 0] ** 2 + X[:, 1] > 0.3).astype(np.int64)


def _panels(png: bytes) -> int:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png)).shape[1]  # width grows with the number of panels


def test_every_epoch_without_throttle_draws_each_epoch_and_writes_the_file(tmp_path):
    X, y = _moons()
    live = gw.LivePlot(every=1, min_interval=0.0, boundary=(X, y), path=tmp_path / "live.png")
    gw.mlp([2, 8, 1], seed=0).fit(X, y, epochs=5, validation_split=0.25, callbacks=[gw.Monitor(), live])
    assert live.draws == 5
    assert (tmp_path / "live.png").read_bytes() == live.image and live.image.startswith(b"\x89PNG")
    # cost, accuracy, boundary, health: four panels of 3.6 in at 80 dpi
    assert _panels(live.image) == pytest.approx(4 * 3.6 * 80, abs=2)


def test_throttle_keeps_the_first_and_the_last_draw():
    X, y = _moons()
    live = gw.LivePlot(every=1, min_interval=3600.0, health=False)
    gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=30, callbacks=[live])
    assert live.draws == 2  # the first epoch, then nothing for an hour, then the last epoch
    assert _panels(live.image) == pytest.approx(2 * 3.6 * 80, abs=2)  # cost and accuracy only
    every = gw.LivePlot(every=10, min_interval=0.0, health=False)
    gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=30, callbacks=[every])
    assert every.draws == 3


def test_health_panel_draws_the_monitors_records():
    """One implementation: the panel's norms are the Monitor's grad_norm records, whatever the order of the
    callbacks (a Monitor after the LivePlot adds the last record after the last epoch's drawing)."""
    X, y = _moons()
    for order in ("live first", "monitor first"):
        live, monitor = gw.LivePlot(min_interval=3600.0), gw.Monitor(every=2)
        model = gw.mlp([2, 6, 5, 1], seed=0)
        model.fit(X, y, epochs=5, batch_size=30,
                  callbacks=[live, monitor] if order == "live first" else [monitor, live])
        series = live.health_series()
        assert sorted(series) == ["W1", "W2", "W3"]
        for layer in (1, 2, 3):
            mine = [(r["epoch"] + 1, r["grad_norm"]) for r in monitor.records if r["layer"] == layer]
            assert list(zip(*series[f"W{layer}"], strict=True)) == mine
        assert series["W3"][0] == [0, 1, 3, 5]  # the starting weights, epochs 1, 3 and the last
        assert series["W3"][1][-1] == pytest.approx(np.linalg.norm(model.gradients()["W3"]))
        assert live.draws == 3 if order == "live first" else 2  # first, last, and once more for the record
        assert _panels(live.image) == pytest.approx(3 * 3.6 * 80, abs=2)  # cost, accuracy, health


def test_no_monitor_no_health_panel():
    X, y = _moons()
    live = gw.LivePlot(min_interval=3600.0)
    gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=2, callbacks=[live])
    assert live.health_series() == {} and _panels(live.image) == pytest.approx(2 * 3.6 * 80, abs=2)


def test_bad_arguments_name_themselves():
    with pytest.raises(gw.GradwiseValueError, match="every"):
        gw.LivePlot(every=0)
    with pytest.raises(gw.GradwiseValueError, match=r"boundary needs X of shape \(m, 2\)"):
        gw.LivePlot(boundary=(np.zeros((4, 3)), np.zeros(4)))
    with pytest.raises(gw.GradwiseTypeError, match="path must be a file path or None, got 5"):
        gw.LivePlot(path=5)
