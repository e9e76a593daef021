"""gw.Monitor: records per layer and epoch, leaves training untouched, JSON-able."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradwise as gw


def _data(m=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 5))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def test_monitor_does_not_change_training():
    X, y = _data()
    thetas = []
    for callbacks in ([], [gw.Monitor()]):
        model = gw.mlp([5, 8, 1], output="sigmoid", seed=0, keep_prob=0.8, batchnorm=True)
        model.fit(X, y, epochs=5, batch_size=32, optimizer="adam", verbose=0, callbacks=callbacks)
        thetas.append(model.theta.copy())
    np.testing.assert_array_equal(thetas[0], thetas[1])


def test_records_every_epoch_and_layer_into_history_layers():
    X, y = _data()
    model = gw.mlp([5, 8, 4, 1], output="sigmoid", seed=0)
    monitor = gw.Monitor(every=2)
    model.fit(X, y, epochs=5, verbose=0, callbacks=[monitor])
    epochs = sorted({r["epoch"] for r in monitor.records})
    assert epochs == [-1, 0, 2, 4]  # the starting weights, every 2nd epoch, the last
    assert len(monitor.records) == 4 * 3 and model.history.layers == monitor.records
    last = [r for r in monitor.records if r["epoch"] == 4]
    W1 = model.parameters()["W1"]
    assert last[0]["weight_norm"] == pytest.approx(np.linalg.norm(W1))
    assert 0.0 <= last[0]["dead_fraction"] <= 1.0 and last[-1]["activation"] == "sigmoid"
    json.dumps(monitor.to_dict(), allow_nan=False)


def test_monitor_rejects_bad_every():
    with pytest.raises(gw.GradwiseValueError, match="every"):
        gw.Monitor(every=0)


class _Clock:
    """A fake time.process_time for the Monitor: epochs and records take the seconds a test says."""

    def __init__(self, epoch_seconds: float, record_seconds: float):
        self.now, self.epoch_seconds, self.record_seconds = 0.0, epoch_seconds, record_seconds

    def process_time(self) -> float:
        return self.now


class _Tick(gw.Callback):
    def __init__(self, clock):
        self.clock = clock

    def on_epoch_end(self, epoch, logs):
        self.clock.now += self.clock.epoch_seconds


def _timed_fit(monkeypatch, epoch_seconds, record_seconds, epochs, callbacks=(), **monitor_kw):
    import gradwise.monitor as monitor_module

    clock = _Clock(epoch_seconds, record_seconds)
    monkeypatch.setattr(monitor_module, "time", clock)
    monitor = gw.Monitor(**monitor_kw)
    measure = monitor.measure

    def timed_measure(*args, **kw):
        clock.now += clock.record_seconds
        return measure(*args, **kw)

    monitor.measure = timed_measure
    X, y = _data(m=64)
    model = gw.mlp([5, 4, 1], output="sigmoid", seed=0)
    model.fit(X, y, epochs=epochs, verbose=0, callbacks=[_Tick(clock), monitor, *callbacks])
    return monitor, sorted({r["epoch"] for r in monitor.records if not r.get("initial")})


def test_auto_schedule_records_every_long_epoch(monkeypatch):
    # a record is 0.01 s: an epoch of at least 2·0.01/budget = 2 s always gets one
    monitor, epochs = _timed_fit(monkeypatch, epoch_seconds=3.0, record_seconds=0.01, epochs=12)
    assert epochs == list(range(12))
    assert monitor.to_dict()["every"] == "auto"


def test_auto_schedule_keeps_a_short_run_within_its_budget(monkeypatch):
    """A record as dear as an epoch: the first and the last epoch, a few spread between, within the 1% budget."""
    monitor, epochs = _timed_fit(monkeypatch, epoch_seconds=0.01, record_seconds=0.01, epochs=2000)
    training = 2000 * 0.01
    assert epochs[0] == 0 and epochs[-1] == 1999
    assert 5 <= len(epochs) <= 25
    assert max(b - a for a, b in zip(epochs, epochs[1:], strict=False)) <= 500  # spread, not bunched
    assert monitor.seconds == pytest.approx(0.01 * (len(epochs) + 1))  # the starting weights' record too
    assert monitor.seconds <= 0.01 * training


def test_auto_schedule_records_where_early_stopping_ended_the_run(monkeypatch):
    stop = gw.EarlyStopping(monitor="cost", patience=0, min_delta=10.0)  # stops after the 2nd epoch
    monitor, epochs = _timed_fit(monkeypatch, epoch_seconds=0.01, record_seconds=0.01, epochs=50,
                                 callbacks=[stop])
    assert epochs == [0, 1]


def test_monitor_rejects_bad_budget():
    with pytest.raises(gw.GradwiseValueError, match="budget"):
        gw.Monitor(budget=0.0)
    with pytest.raises(gw.GradwiseTypeError, match="every"):
        gw.Monitor(every="sometimes")
