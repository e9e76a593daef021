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
    gw.mlp([2, 8, 1], seed=0).fit(X, y, epochs=5, validation_split=0.25, callbacks=[live])
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


def test_health_records_the_gradient_norm_of_every_layer():
    X, y = _moons()
    live = gw.LivePlot(min_interval=3600.0)
    model = gw.mlp([2, 6, 5, 1], seed=0)
    model.fit(X, y, epochs=3, batch_size=30, callbacks=[live])
    assert sorted(live._norms) == ["W1", "W2", "W3"]
    assert live._norms["W3"][-1] == pytest.approx(np.linalg.norm(model.gradients()["W3"]))


def test_bad_arguments_name_themselves():
    with pytest.raises(gw.GradwiseValueError, match="every"):
        gw.LivePlot(every=0)
    with pytest.raises(gw.GradwiseValueError, match=r"boundary needs X of shape \(m, 2\)"):
        gw.LivePlot(boundary=(np.zeros((4, 3)), np.zeros(4)))
    with pytest.raises(gw.GradwiseTypeError, match="path must be a file path or None, got 5"):
        gw.LivePlot(path=5)
