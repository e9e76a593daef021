"""Learning-rate decay: hand-computed arrays, the course's fixed-interval scheduling, use inside fit."""

import math

import numpy as np
import pytest

import gradwise as gw
from gradwise.optim import schedules


def values(schedule, epochs, lr0):
    return np.array([schedule(e, lr0) for e in epochs])


def test_inverse_time_decay_is_alpha0_over_one_plus_rate_epoch():
    epochs = np.arange(12)
    got = values(gw.InverseTimeDecay(decay_rate=0.5), epochs, 0.2)
    np.testing.assert_allclose(got, 0.2 / (1 + 0.5 * epochs), rtol=1e-15)
    assert got[0] == 0.2


def test_inverse_time_decay_without_staircase_is_continuous():
    epochs = np.arange(0, 3000, 250)
    got = values(gw.InverseTimeDecay(decay_rate=1, decay_steps=1000), epochs, 0.1)
    np.testing.assert_allclose(got, 0.1 / (1 + epochs / 1000), rtol=1e-15)


def test_staircase_gives_the_course_fixed_interval_values():
    """The course's schedule_lr_decay: α0 / (1 + decay_rate · floor(epoch_num / time_interval))."""
    lr0, rate, interval = 0.1, 1.0, 1000
    epochs = np.array([0, 1, 999, 1000, 1001, 1999, 2000, 2500, 9999, 10000])
    got = values(gw.InverseTimeDecay(decay_rate=rate, decay_steps=interval, staircase=True), epochs, lr0)
    course = [lr0 / (1 + rate * np.floor(e / interval)) for e in epochs]
    np.testing.assert_allclose(got, course, rtol=1e-15)
    np.testing.assert_allclose(got[:7], [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.1 / 3], rtol=1e-15)


def test_exponential_decay_is_095_power_epoch():
    epochs = np.arange(30)
    got = values(gw.ExponentialDecay(0.95), epochs, 0.3)
    np.testing.assert_allclose(got, 0.95**epochs * 0.3, rtol=1e-14)
    stairs = values(gw.ExponentialDecay(0.5, decay_steps=10, staircase=True), epochs, 1.0)
    np.testing.assert_allclose(stairs, 0.5 ** (epochs // 10), rtol=1e-15)


def test_step_decay_drops_by_factor_every_step_size_epochs():
    got = values(gw.StepDecay(factor=0.1, step_size=3), np.arange(10), 2.0)
    np.testing.assert_allclose(got, [2, 2, 2, 0.2, 0.2, 0.2, 0.02, 0.02, 0.02, 0.002], rtol=1e-14)


@pytest.mark.parametrize("schedule", [gw.InverseTimeDecay(2.0, 5, True), gw.ExponentialDecay(0.9, 2),
                                      gw.StepDecay(0.3, 4)])
def test_schedules_roundtrip_through_their_config(schedule):
    again = schedules.get(schedule.get_config())
    assert type(again) is type(schedule)
    np.testing.assert_array_equal(values(again, range(20), 0.1), values(schedule, range(20), 0.1))


def test_bad_schedule_settings_name_the_value():
    with pytest.raises(gw.GradwiseValueError, match="decay_rate.*-1"):
        gw.InverseTimeDecay(decay_rate=-1)
    with pytest.raises(gw.GradwiseValueError, match="decay_steps.*0"):
        gw.InverseTimeDecay(decay_steps=0)
    with pytest.raises(gw.GradwiseValueError, match="decay_rate.*1.5"):
        gw.ExponentialDecay(decay_rate=1.5)
    with pytest.raises(gw.GradwiseValueError, match="factor.*0"):
        gw.StepDecay(factor=0)
    with pytest.raises(gw.GradwiseValueError, match="step_size.*-2"):
        gw.StepDecay(step_size=-2)
    with pytest.raises(gw.GradwiseValueError, match="'cosine'"):
        schedules.get({"name": "cosine"})
    with pytest.raises(gw.GradwiseValueError, match="bogus"):
        schedules.get({"name": "step", "bogus": 1})
    with pytest.raises(gw.GradwiseTypeError, match="schedule.*'fast'"):
        schedules.get("fast")


def test_fit_records_the_rate_it_used_and_the_epoch_continues_across_fits(blobs):
    X, y = blobs
    sched = gw.InverseTimeDecay(decay_rate=1.0, decay_steps=2, staircase=True)
    model = gw.mlp([2, 4, 1], seed=0)
    h1 = model.fit(X, y, epochs=5, optimizer="gd", learning_rate=0.4, schedule=sched)
    h2 = model.fit(X, y, epochs=3, schedule=sched)
    expected = [0.4 / (1 + math.floor(e / 2)) for e in range(8)]
    np.testing.assert_allclose(h1["learning_rate"] + h2["learning_rate"], expected, rtol=1e-15)
    assert h2.epoch == [5, 6, 7]


def test_the_scheduled_rate_is_the_one_applied(blobs):
    """One full-batch epoch of GD with a scheduled α equals θ − α(epoch)·dθ computed by hand."""
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=1)
    model.fit(X, y, epochs=4, learning_rate=0.5, schedule=gw.StepDecay(0.1, 3))
    theta = model.theta.copy()
    model.loss_and_gradient(model.prepare_inputs(X), model.prepare_targets(y, len(y)), gw.layers.CHECKING)
    expected = theta - 0.05 * model.grad  # epoch 4: α = 0.5 · 0.1^⌊4/3⌋
    model.fit(X, y, epochs=1, schedule=gw.StepDecay(0.1, 3))
    np.testing.assert_allclose(model.theta, expected, rtol=1e-13)
    assert model.history["learning_rate"][-1] == pytest.approx(0.05, rel=1e-15)


@pytest.mark.parametrize("bad", [-1.0, math.nan, "x"])
def test_a_callable_schedule_returning_an_invalid_rate_is_refused(blobs, bad):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    with pytest.raises(gw.GradwiseValueError, match="learning rate"):
        model.fit(X, y, epochs=3, schedule=lambda epoch, lr0: lr0 if epoch < 1 else bad)
    assert model.epochs_trained == 1  # the first epoch ran with a valid rate


def test_a_schedule_that_decays_to_zero_keeps_training_without_moving():
    X = np.linspace(-1, 1, 40).reshape(-1, 2)
    y = (X[:, 0] > 0).astype(int)
    model = gw.mlp([2, 3, 1], seed=0)
    history = model.fit(X, y, epochs=1200, schedule=gw.ExponentialDecay(0.5), learning_rate=0.1)
    assert history["learning_rate"][-1] == 0.0  # 0.5**1199 underflows
    assert len(history["cost"]) == 1200
    assert history["cost"][-1] == history["cost"][-2]
