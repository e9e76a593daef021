"""Optimizers: each update against the seeds' formula by hand, exact state save/restore, Adam vs torch."""

import math

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

import gradwise as gw
from gradwise.layers import TRAINING
from gradwise.optim import optimizers as optim

# ------------------------------------------------------------------ the seeds' formulas, written literally


def hand_gd(theta, grads, lr):
    out = [theta.copy()]
    for g in grads:
        theta = theta - lr * g
        out.append(theta)
    return out


def hand_momentum(theta, grads, lr, beta):
    v = np.zeros_like(theta)
    out = [theta.copy()]
    for g in grads:
        v = beta * v + (1 - beta) * g  # V_dW = β V_dW + (1 − β) dW
        theta = theta - lr * v  # W := W − α V_dW
        out.append(theta)
    return out


def hand_rmsprop(theta, grads, lr, beta, eps):
    s = np.zeros_like(theta)
    out = [theta.copy()]
    for g in grads:
        s = beta * s + (1 - beta) * g**2  # S_dW = β₂ S_dW + (1 − β₂) dW²
        theta = theta - lr * g / (np.sqrt(s) + eps)
        out.append(theta)
    return out


def hand_adam(theta, grads, lr, beta1, beta2, eps):
    v = np.zeros_like(theta)
    s = np.zeros_like(theta)
    out = [theta.copy()]
    for t, g in enumerate(grads, start=1):
        v = beta1 * v + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * g**2
        v_hat = v / (1 - beta1**t)  # bias correction with the step count t
        s_hat = s / (1 - beta2**t)
        theta = theta - lr * v_hat / (np.sqrt(s_hat) + eps)  # ε outside the square root
        out.append(theta)
    return out


def fixed_inputs(n=37, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n)
    # gradients of very different scales per coordinate, so RMSprop/Adam's per-coordinate scaling matters
    grads = [rng.standard_normal(n) * np.logspace(-3, 1, n) for _ in range(steps)]
    return theta, grads


def run(opt, theta, grads, lr):
    theta = theta.copy()
    out = [theta.copy()]
    for g in grads:
        opt.step(theta, g.copy(), lr)
        out.append(theta.copy())
    return out


CASES = [
    ("gd", lambda: gw.GD(), lambda th, gs, lr: hand_gd(th, gs, lr)),
    ("momentum", lambda: gw.Momentum(beta=0.8), lambda th, gs, lr: hand_momentum(th, gs, lr, 0.8)),
    ("rmsprop", lambda: gw.RMSprop(beta=0.9, epsilon=1e-2),
     lambda th, gs, lr: hand_rmsprop(th, gs, lr, 0.9, 1e-2)),
    ("adam", lambda: gw.Adam(beta1=0.8, beta2=0.95, epsilon=1e-2),
     lambda th, gs, lr: hand_adam(th, gs, lr, 0.8, 0.95, 1e-2)),
    ("adam-defaults", lambda: gw.Adam(), lambda th, gs, lr: hand_adam(th, gs, lr, 0.9, 0.999, 1e-8)),
]


@pytest.mark.parametrize("name,make,hand", CASES, ids=[c[0] for c in CASES])
def test_update_matches_the_seeds_formula_step_by_step(name, make, hand):
    theta, grads = fixed_inputs()
    ours = run(make(), theta, grads, lr=0.05)
    expected = hand(theta, grads, 0.05)
    for t, (a, b) in enumerate(zip(ours, expected, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=f"{name}, after step {t}")
    assert not np.allclose(ours[-1], theta)  # the steps did move θ


def test_adam_epsilon_is_outside_the_square_root_of_the_corrected_s():
    """With a large ε the placements differ: √ŝ + ε (the seeds) is not √(ŝ + ε) nor √s + ε."""
    theta, grads = fixed_inputs(steps=3)
    ours = run(gw.Adam(epsilon=0.1), theta, grads, lr=0.1)[-1]
    np.testing.assert_allclose(ours, hand_adam(theta, grads, 0.1, 0.9, 0.999, 0.1)[-1], rtol=1e-13)

    def variant(inside):
        v = np.zeros_like(theta)
        s = np.zeros_like(theta)
        th = theta.copy()
        for t, g in enumerate(grads, start=1):
            v = 0.9 * v + 0.1 * g
            s = 0.999 * s + 0.001 * g**2
            vh, sh = v / (1 - 0.9**t), s / (1 - 0.999**t)
            th = th - 0.1 * vh / (np.sqrt(sh + 0.1) if inside else np.sqrt(s) + 0.1)
        return th

    assert not np.allclose(ours, variant(inside=True), rtol=1e-6)
    assert not np.allclose(ours, variant(inside=False), rtol=1e-6)


def test_momentum_is_the_seeds_average_not_torch_sgd_momentum():
    """v = βv + (1−β)dW: a constant gradient g gives v_t = (1 − βᵗ) g, never more than g."""
    theta = np.zeros(3)
    g = np.array([1.0, -2.0, 0.5])
    opt = gw.Momentum(beta=0.9)
    for t in range(1, 6):
        opt.step(theta, g, 1.0)
        np.testing.assert_allclose(opt.state["v"], (1 - 0.9**t) * g, rtol=1e-14)


@pytest.mark.parametrize("name,make,hand", CASES[:4], ids=[c[0] for c in CASES[:4]])
def test_float32_updates_stay_float32_and_follow_the_formula(name, make, hand):
    theta, grads = fixed_inputs(steps=4)
    th32 = theta.astype(np.float32)
    opt = make()
    for g in grads:
        opt.step(th32, g.astype(np.float32), 0.05)
    assert th32.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state.values())
    np.testing.assert_allclose(th32, hand(theta, grads, 0.05)[-1], rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_the_cost_falls_on_a_small_problem(optimizer, blobs):
    X, y = blobs
    model = gw.mlp([2, 8, 1], hidden="tanh", seed=0)
    before = model.cost(X, y)
    lr = {"gd": 0.5, "momentum": 0.5, "rmsprop": 0.01, "adam": 0.01}[optimizer]
    history = model.fit(X, y, epochs=60, batch_size=32, optimizer=optimizer, learning_rate=lr)
    after = model.cost(X, y)
    assert after < 0.6 * before, (optimizer, before, after)
    assert history["cost"][-1] < history["cost"][0]
    assert model.evaluate(X, y)["accuracy"] > 0.9


@pytest.mark.parametrize("make", [lambda: gw.GD(), lambda: gw.Momentum(), lambda: gw.RMSprop(),
                                  lambda: gw.Adam()], ids=["gd", "momentum", "rmsprop", "adam"])
def test_state_dict_save_load_continue_is_bit_identical(make):
    theta0, grads = fixed_inputs(steps=10)
    full = run(make(), theta0, grads, lr=0.03)[-1]

    first = make()
    theta = theta0.copy()
    for g in grads[:6]:
        first.step(theta, g, 0.03)
    state = first.state_dict()
    assert int(state["t"]) == 6
    # plain named arrays: they go through safetensors (no pickle) unchanged
    state = st_load(st_save({k: np.asarray(v) for k, v in state.items()}))
    second = make()
    second.load_state_dict(state)
    for g in grads[6:]:
        second.step(theta, g, 0.03)
    assert np.array_equal(theta, full)


def test_state_dict_is_a_copy_and_names_the_moments():
    opt = gw.Adam()
    theta, grads = fixed_inputs(steps=2)
    run(opt, theta, grads, 0.01)
    state = opt.state_dict()
    assert set(state) == {"v", "s", "t"}
    state["v"][...] = 123.0
    assert not np.any(opt.state["v"] == 123.0)
    assert set(gw.Momentum().state_dict()) == {"t"}  # nothing allocated before the first step
    with pytest.raises(gw.GradwiseValueError, match="missing"):
        gw.Adam().load_state_dict({"v": np.zeros(3), "t": np.array(1)})


def test_adam_agrees_with_torch_step_for_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    n = 64
    a = rng.uniform(0.1, 10.0, n)
    c = rng.standard_normal(n)

    def grad_fn(theta):  # ∇ of Σ a(θ−c)² + Σ sin(3θ): a bumpy, badly scaled function
        return 2 * a * (theta - c) + 3 * np.cos(3 * theta)

    theta = rng.standard_normal(n)
    p = torch.tensor(theta.copy(), dtype=torch.float64, requires_grad=True)
    ref = torch.optim.Adam([p], lr=0.02, betas=(0.9, 0.999), eps=1e-8)
    ours = gw.Adam(learning_rate=0.02)
    for step in range(300):
        g = grad_fn(theta)
        ours.step(theta, g, 0.02)
        p.grad = torch.tensor(grad_fn(p.detach().numpy()), dtype=torch.float64)
        ref.step()
        np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-12, atol=1e-13,
                                   err_msg=f"step {step + 1}")
    state = ref.state[p]
    np.testing.assert_allclose(ours.state["v"], state["exp_avg"].numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ours.state["s"], state["exp_avg_sq"].numpy(), rtol=1e-10, atol=1e-16)


def test_adam_in_a_network_agrees_with_torch(blobs):
    """The whole chain: our backprop + Adam against torch autograd + torch.optim.Adam, mini-batches."""
    torch = pytest.importorskip("torch")
    X, y = blobs
    model = gw.mlp([2, 6, 4, 1], hidden="tanh", seed=5)
    p = {k: v.copy() for k, v in model.parameters().items()}
    net = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.Tanh(),
                              torch.nn.Linear(4, 1)).double()
    with torch.no_grad():
        for i, layer in enumerate([net[0], net[2], net[4]], start=1):
            layer.weight.copy_(torch.from_numpy(p[f"W{i}"]))
            layer.bias.copy_(torch.from_numpy(p[f"b{i}"]))
    ref = torch.optim.Adam(net.parameters(), lr=0.01, eps=1e-8)
    opt = gw.Adam(learning_rate=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.float64)).reshape(-1, 1)
    targets = model.prepare_targets(y, X.shape[0])
    for step in range(60):
        sl = slice((step * 16) % 112, (step * 16) % 112 + 16)
        model.loss_and_gradient(X[sl], targets[sl], TRAINING)
        opt.step(model.theta, model.grad, 0.01)
        ref.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[sl]), yt[sl]).backward()
        ref.step()
    got = model.parameters()
    for i, layer in enumerate([net[0], net[2], net[4]], start=1):
        np.testing.assert_allclose(got[f"W{i}"], layer.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got[f"b{i}"], layer.bias.detach().numpy(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ invalid settings


@pytest.mark.parametrize("bad", [0, -0.1, math.nan, math.inf])
@pytest.mark.parametrize("cls", [gw.GD, gw.Momentum, gw.RMSprop, gw.Adam])
def test_learning_rate_must_be_positive_and_finite(cls, bad):
    with pytest.raises(gw.GradwiseValueError, match=rf"learning_rate.*{bad}"):
        cls(learning_rate=bad)


@pytest.mark.parametrize("bad", [1.0, -0.01, 1.5, math.nan])
@pytest.mark.parametrize("make", [lambda b: gw.Momentum(beta=b), lambda b: gw.RMSprop(beta=b),
                                  lambda b: gw.Adam(beta1=b), lambda b: gw.Adam(beta2=b)],
                         ids=["momentum", "rmsprop", "adam-beta1", "adam-beta2"])
def test_beta_must_be_in_zero_one(make, bad):
    with pytest.raises(gw.GradwiseValueError, match=rf"beta.*{bad}"):
        make(bad)


def test_beta_zero_is_allowed_and_reduces_momentum_to_gd():
    theta, grads = fixed_inputs(steps=3)
    np.testing.assert_array_equal(run(gw.Momentum(beta=0.0), theta, grads, 0.1)[-1],
                                  run(gw.GD(), theta, grads, 0.1)[-1])


@pytest.mark.parametrize("bad", [0.0, -1e-8])
def test_epsilon_must_be_positive(bad):
    with pytest.raises(gw.GradwiseValueError, match="epsilon"):
        gw.Adam(epsilon=bad)
    with pytest.raises(gw.GradwiseValueError, match="epsilon"):
        gw.RMSprop(epsilon=bad)


def test_optimizer_lookup_by_name_config_and_errors():
    assert isinstance(optim.get("ADAM"), gw.Adam)
    assert optim.get("momentum", 0.3).learning_rate == 0.3
    cfg = gw.Adam(beta1=0.5, learning_rate=0.2).get_config()
    again = optim.get(cfg)
    assert isinstance(again, gw.Adam) and again.get_config() == cfg
    with pytest.raises(gw.GradwiseValueError, match="'nadam'"):
        optim.get("nadam")
    with pytest.raises(gw.GradwiseTypeError, match="optimizer"):
        optim.get(3)
    with pytest.raises(gw.GradwiseTypeError, match="optimizer"):
        optim.get({"learning_rate": 0.1})
    assert "Adam(learning_rate=0.2, beta1=0.5" in repr(again)


def test_default_learning_rates():
    assert gw.GD().learning_rate == 0.01 and gw.Momentum().learning_rate == 0.01
    assert gw.RMSprop().learning_rate == 0.001 and gw.Adam().learning_rate == 0.001
