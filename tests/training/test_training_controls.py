"""Training controls against PyTorch: cosine and one-cycle rates, ReduceLROnPlateau replayed through
torch's scheduler, a clipped optimizer step vs clip_grad_norm_/clip_grad_value_ + the same step; batch
hooks, checkpoint resume with a plateau callback, and one clear error per bad setting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwise as gw
from gradwise.errors import GradwiseValueError


def _torch_rates(scheduler_factory, steps, lr0=0.1):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr0)
    sched = scheduler_factory(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(rates)


@pytest.mark.parametrize("min_lr", [0.0, 0.003])
def test_cosine_decay_equals_torch_cosine_annealing(min_lr):
    T = 17
    ours = np.array([gw.CosineDecay(T, min_lr=min_lr)(e, 0.1) for e in range(T + 1)])
    theirs = _torch_rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T, eta_min=min_lr), T + 1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert gw.CosineDecay(T, min_lr=min_lr)(T + 5, 0.1) == min_lr  # stays at the floor afterwards


def test_cosine_warmup_is_linear_then_torch_cosine():
    sched = gw.CosineDecay(20, min_lr=0.001, warmup_epochs=4)
    np.testing.assert_allclose([sched(e, 0.1) for e in range(5)], [0.02, 0.04, 0.06, 0.08, 0.1], rtol=1e-15)
    theirs = _torch_rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=16, eta_min=0.001), 17)
    np.testing.assert_allclose([sched(e, 0.1) for e in range(4, 21)], theirs, rtol=1e-12)


@pytest.mark.parametrize("pct_start,div,final", [(0.3, 25.0, 1e4), (0.25, 10.0, 100.0)])
def test_one_cycle_equals_torch_one_cycle_per_step(pct_start, div, final):
    epochs, spe = 6, 7
    sched = gw.OneCycle(0.5, epochs, spe, pct_start=pct_start, div_factor=div, final_div_factor=final)
    theirs = _torch_rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.5, epochs=epochs, steps_per_epoch=spe, pct_start=pct_start, div_factor=div,
        final_div_factor=final, anneal_strategy="cos", cycle_momentum=False), epochs * spe)
    np.testing.assert_allclose([sched(s, 0.0) for s in range(epochs * spe)], theirs, rtol=1e-12, atol=1e-17)


def test_one_cycle_in_fit_updates_every_step_and_records_each_epochs_first(blobs):
    X, y = blobs  # 120 rows, batches of 32: 4 steps per epoch
    model = gw.mlp([2, 4, 1], seed=0)
    log = gw.BatchLog()
    sched = gw.OneCycle(0.3, epochs=5, steps_per_epoch=4)
    history = model.fit(X, y, epochs=5, batch_size=32, schedule=sched, callbacks=[log])
    theirs = _torch_rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.3, epochs=5, steps_per_epoch=4, cycle_momentum=False), 20)
    np.testing.assert_allclose(log.learning_rates, theirs, rtol=1e-12)
    np.testing.assert_allclose(history["learning_rate"], theirs[::4], rtol=1e-12)
    assert len(log.costs) == 20 and log.epochs == [e for e in range(5) for _ in range(4)]
    assert np.std(log.costs) > 0  # mini-batch costs are noisy, one per step


def test_batch_log_costs_average_to_the_epoch_cost(blobs):
    X, y = blobs
    log = gw.BatchLog()
    history = gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=2, batch_size=50, callbacks=[log])
    sizes = [50, 50, 20]
    for e in range(2):
        mean = np.dot(log.costs[3 * e:3 * e + 3], sizes) / 120
        assert mean == pytest.approx(history["cost"][e], rel=1e-12)


def test_one_cycle_that_does_not_match_the_batches_is_refused(blobs):
    X, y = blobs
    with pytest.raises(GradwiseValueError, match="steps_per_epoch=5.*4 mini-batches"):
        gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=2, batch_size=32, schedule=gw.OneCycle(0.1, 2, 5))
    with pytest.raises(GradwiseValueError, match="3 epochs"):
        gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=3, batch_size=32, schedule=gw.OneCycle(0.1, 2, 4))


@pytest.mark.parametrize("patience,cooldown,min_lr", [(2, 0, 0.0), (3, 2, 1e-4), (1, 1, 0.0)])
def test_reduce_on_plateau_replayed_through_torch(blobs, patience, cooldown, min_lr):
    X, y = blobs
    model = gw.mlp([2, 8, 1], seed=1)
    plateau = gw.ReduceLROnPlateau("val_cost", factor=0.5, patience=patience, min_delta=1e-3,
                                   cooldown=cooldown, min_lr=min_lr)
    history = model.fit(X[:90], y[:90], epochs=40, batch_size=16, optimizer="adam", learning_rate=0.05,
                        validation_data=(X[90:], y[90:]), callbacks=[plateau])
    assert plateau.reductions, "the run must reach a plateau for the test to mean something"
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.05)
    torch_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=max(patience - 1, 0), threshold=1e-3, threshold_mode="abs",
        cooldown=max(cooldown - 1, 0), min_lr=min_lr)
    expected = []
    for val_cost in history["val_cost"]:
        expected.append(opt.param_groups[0]["lr"])
        torch_sched.step(val_cost)
    assert history["learning_rate"] == pytest.approx(expected, rel=1e-15)


def test_reduce_on_plateau_restores_best_weights_when_reducing(blobs):
    X, y = blobs
    seen = {}

    class Spy(gw.Callback):
        def on_epoch_end(self, epoch, logs):
            if plateau.reductions and plateau.reductions[-1][0] == epoch:
                seen[epoch] = (self.model.theta.copy(), best["theta"].copy())

    plateau = gw.ReduceLROnPlateau("val_cost", factor=0.5, patience=2, restore_best=True)
    best = {}

    class Best(gw.Callback):
        def on_epoch_end(self, epoch, logs):
            if logs["val_cost"] < best.get("cost", np.inf) - 1e-4:
                best.update(cost=logs["val_cost"], theta=self.model.theta.copy())

    gw.mlp([2, 8, 1], seed=1).fit(X[:90], y[:90], epochs=30, batch_size=16, optimizer="adam", learning_rate=0.05,
                                  validation_data=(X[90:], y[90:]), callbacks=[Best(), plateau, Spy()])
    assert seen  # each reduction put back the weights of the best epoch so far
    for after_reduction, best_so_far in seen.values():
        np.testing.assert_array_equal(after_reduction, best_so_far)


def test_reduce_on_plateau_resumes_bit_identically(tmp_path, blobs):
    X, y = blobs

    def run(epochs, resume=None, crash_at=None):
        model = gw.mlp([2, 8, 1], seed=1)
        plateau = gw.ReduceLROnPlateau("val_cost", factor=0.5, patience=2, restore_best=True)
        cbs = [plateau, gw.Checkpoint(tmp_path / "ck.safetensors")]
        h = model.fit(X[:90], y[:90], epochs=epochs, batch_size=16, optimizer="adam", learning_rate=0.05,
                      validation_data=(X[90:], y[90:]), callbacks=cbs, resume_from=resume)
        return model, h, plateau

    full, h_full, p_full = run(24)
    assert p_full.reductions
    run(9)
    resumed, _, p_res = run(24, resume=tmp_path / "ck.safetensors")
    np.testing.assert_array_equal(full.theta, resumed.theta)
    assert resumed.history["learning_rate"] == h_full["learning_rate"]
    assert p_res.reductions == p_full.reductions


def _torch_mlp(model):
    """A torch copy of a [n, h, 1] gradwise mlp: the same W1, b1, W2, b2 (float64)."""
    W1, b1, W2, b2 = (torch.tensor(model.layers[i].params[k], dtype=torch.float64, requires_grad=True)
                      for i, k in ((0, "W"), (0, "b"), (2, "W"), (2, "b")))
    return [W1, b1, W2, b2]


@pytest.mark.parametrize("name,torch_opt", [("gd", torch.optim.SGD), ("adam", torch.optim.Adam)])
@pytest.mark.parametrize("clip", [{"clipnorm": 0.05}, {"clipvalue": 0.01}])
def test_one_clipped_step_equals_torch_clip_then_step(name, torch_opt, clip):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    model = gw.Sequential([gw.Dense(5), gw.Tanh(), gw.Dense(1)], input_dim=3, loss="mse", seed=0)
    X_p, y_p = model.prepare_inputs(X), model.prepare_targets(y, 40)
    theta0 = model.theta.copy()
    model.loss_and_gradient(X_p, y_p)
    grad = model.grad.copy()
    opt = gw.optim.OPTIMIZERS[name](learning_rate=0.1, **clip)
    opt.step(model.theta, model.grad, 0.1)
    assert opt.clipped_steps == 1
    # torch: the same flat θ as one parameter, its gradient set to ours, clipped, then the same step
    p = torch.nn.Parameter(torch.tensor(theta0))
    p.grad = torch.tensor(grad)
    if "clipnorm" in clip:
        torch.nn.utils.clip_grad_norm_([p], clip["clipnorm"])
    else:
        torch.nn.utils.clip_grad_value_([p], clip["clipvalue"])
    torch_opt([p], lr=0.1).step()
    np.testing.assert_allclose(model.theta, p.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_clipping_is_recorded_and_gradient_checks_are_unaffected(blobs):
    X, y = blobs
    model = gw.mlp([2, 6, 1], seed=0)
    opt = gw.Adam(learning_rate=0.01, clipnorm=1e-3)
    history = model.fit(X, y, epochs=3, batch_size=40, optimizer=opt)
    assert history["clipped_steps"] == [3.0, 3.0, 3.0]  # every step's gradient is longer than 1e-3
    assert gw.gradcheck(model, X[:10], y[:10]).passed
    loose = gw.mlp([2, 6, 1], seed=0)
    h = loose.fit(X, y, epochs=2, batch_size=40, optimizer=gw.GD(learning_rate=0.01, clipnorm=1e6))
    assert h["clipped_steps"] == [0.0, 0.0]
    assert "clipped_steps" not in gw.mlp([2, 6, 1], seed=0).fit(X, y, epochs=1).history


@pytest.mark.parametrize("make,message", [
    (lambda: gw.Adam(clipnorm=-1.0), "clipnorm"),
    (lambda: gw.GD(clipvalue=0.0), "clipvalue"),
    (lambda: gw.ReduceLROnPlateau(factor=1.0), "factor"),
    (lambda: gw.ReduceLROnPlateau(patience=-1), "patience"),
    (lambda: gw.CosineDecay(10, warmup_epochs=10), "warmup_epochs=10"),
    (lambda: gw.OneCycle(0.1, 1, 2, pct_start=0.3), "pct_start"),
])
def test_bad_settings_are_one_clear_error_each(make, message):
    with pytest.raises(GradwiseValueError, match=message):
        make()


def test_plateau_on_an_unrecorded_metric_fails_before_training(blobs):
    X, y = blobs
    with pytest.raises(GradwiseValueError, match="validation_data"):
        gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=1, callbacks=[gw.ReduceLROnPlateau()])
