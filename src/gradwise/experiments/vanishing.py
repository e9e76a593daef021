"""Experiment 6 — vanishing / exploding gradients (seeds 001, 003, 004) and initialization for deep networks.

1. The seeds' deep linear network: g(z) = z, b = 0, every W^[l] = 1.5·I or 0.5·I (2 units per layer), so
   ŷ = W^[L]·(1.5·I)^(L−1)·x ∝ 1.5^L (or 0.5^L): activations, and gradients, grow or shrink exponentially
   with depth.
2. A deep ReLU / tanh network (20 hidden layers of 100 units) on standard-normal inputs, initialized with
   small random (×0.01), the course's large random (×10), Xavier (√(1/n)) and He (√(2/n)): the spread of
   each layer's activations and the norm of each layer's weight gradient, by layer. One forward and backward
   pass each (no training): this is the state the optimizer starts from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..initializers import Initializer
from ..layers import Dense, Linear
from ..layers.base import Mode
from ..model import Sequential, mlp
from ._common import Check, Figure, Job, Section, Settings, Table, save_plot

KEY = "vanishing"
TITLE = "6. Vanishing and exploding gradients"
LINEAR_DEPTH = 40
LINEAR_FACTORS = (1.5, 0.5)
DEEP_DEPTH = 20
DEEP_WIDTH = 100
DEEP_EXAMPLES = 500
INITS = {"random ×0.01": Initializer("random", 0.01), "random ×10 (course)": Initializer("random", 10.0),
         "xavier √(1/n)": Initializer("xavier"), "he √(2/n)": Initializer("he")}
PASS = Mode(training=True, dropout=False, update_stats=False)


def _trace(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict:
    """Forward and backward once, recording per layer l: the std and the root-mean-square norm per example of
    its activation A^[l], and ‖dW^[l]‖_F."""
    X = model.prepare_inputs(X)
    t = model.prepare_targets(y, X.shape[0])
    # every layer knows the number of the Dense layer it belongs to (`index`): A^[l] is the output of
    # the last layer of block l (the Dense itself when no activation follows it)
    last_output, out = {}, X
    for layer in model.layers:
        out = layer.forward(out, PASS)
        last_output[layer.index] = out
    n_dense = max(last_output)
    acts = [last_output[l] for l in range(1, n_dense + 1)]
    model.clear_cache()
    model.loss_and_gradient(X, t, PASS)
    grads = model.gradients()
    return {
        "activation_std": [float(a.std()) for a in acts],
        "activation_norm": [float(np.linalg.norm(a) / np.sqrt(a.shape[0])) for a in acts],
        "gradient_norm": [float(np.linalg.norm(grads[f"W{l}"])) for l in range(1, n_dense + 1)],
    }


def deep_linear(factor: float, depth: int) -> dict:
    """The seeds' network: `depth` layers W = factor·I (2×2), b = 0, g(z) = z, x = (1, 1), y = 0 (J = ½ŷ²)."""
    layers = []
    for _ in range(depth):
        layers += [Dense(2, init="zeros", use_bias=False), Linear()]
    model = Sequential(layers, input_dim=2, loss="mse", seed=0)
    model.set_parameters({f"W{l}": factor * np.eye(2) for l in range(1, depth + 1)})
    x = np.ones((1, 2))
    trace = _trace(model, x, np.zeros((1, 2)))
    # The whole stack for every depth L ≤ depth: ŷ(L) = ‖a^[L]‖, and the gradient of the first layer.
    output_by_depth = trace["activation_norm"]
    first_layer_gradient = []
    for L in range(1, depth + 1, max(1, depth // 20)):
        sub = Sequential([layer for _ in range(L) for layer in (Dense(2, init="zeros", use_bias=False), Linear())],
                         input_dim=2, loss="mse", seed=0)
        sub.set_parameters({f"W{l}": factor * np.eye(2) for l in range(1, L + 1)})
        first_layer_gradient.append((L, _trace(sub, x, np.zeros((1, 2)))["gradient_norm"][0]))
    return {"factor": factor, "activation_norm": output_by_depth, "gradient_norm": trace["gradient_norm"],
            "first_layer_gradient_by_depth": first_layer_gradient}


def deep_network(hidden: str, init_name: str) -> dict:
    rng = np.random.default_rng(7)
    X = rng.standard_normal((DEEP_EXAMPLES, DEEP_WIDTH))
    y = (rng.random(DEEP_EXAMPLES) < 0.5).astype(np.int64)
    model = mlp([DEEP_WIDTH] * (DEEP_DEPTH + 1) + [1], hidden=hidden, output="sigmoid", init=INITS[init_name],
                seed=11)
    with np.errstate(over="ignore", under="ignore"):
        trace = _trace(model, X, y)
    return {"hidden": hidden, "init": init_name, **trace}


def run_all(linear_depth: int) -> dict:
    out = {"linear": {f"{f:g}": deep_linear(f, linear_depth) for f in LINEAR_FACTORS}}
    out["deep"] = {h: {name: deep_network(h, name) for name in INITS} for h in ("relu", "tanh")}
    return out


def jobs(settings: Settings) -> list[Job]:
    return [Job(f"{KEY}/all", run_all, {"linear_depth": LINEAR_DEPTH}, cost=1e6)]


LESSON = ("In a deep network activations and gradients are products of many layers, so they grow or shrink "
          "exponentially with depth (W = 1.5·I: ∝ 1.5^L; 0.5·I: ∝ 0.5^L). A partial cure is to initialize "
          "W with variance 2/n (ReLU, He) or 1/n (tanh, Xavier), which keeps each layer's output on the "
          "scale of its input.")


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """The deep linear network against f^L, the deep network by initialization, the claims and the plots."""
    out = outputs[f"{KEY}/all"]
    linear, rows, checks = _linear(out["linear"])
    deep, deep_rows = _deep(out["deep"])
    results: dict = {"linear": linear, "deep": deep}
    checks += _deep_claims(deep)
    results["protocol"] = {"linear_depth": LINEAR_DEPTH, "deep_depth": DEEP_DEPTH, "deep_width": DEEP_WIDTH,
                           "examples": DEEP_EXAMPLES, "inputs": "standard normal", "labels": "random 0/1"}
    tables = [
        Table("Deep linear network", ["weights", "seeds", "measured growth per layer", "‖a^[10]‖",
                                      f"‖a^[{LINEAR_DEPTH}]‖", f"‖dW^[1]‖ at depth {LINEAR_DEPTH}"], rows),
        Table(f"Deep network at initialization (layer 1 vs layer {DEEP_DEPTH})",
              ["hidden", "init", "std A^[1]", f"std A^[{DEEP_DEPTH}]", "ratio", "‖dW^[1]‖",
               f"‖dW^[{DEEP_DEPTH}]‖"], deep_rows),
    ]
    figures = [Figure(_plot_linear(out["linear"], plot_dir),
                      "Left: activations follow 1.5^l and 0.5^l exactly. Right: the first layer's "
                      "gradient explodes or vanishes with the depth of the network."),
               Figure(_plot_deep(deep, plot_dir),
                      "He (ReLU) and Xavier (tanh) keep activations and gradients on one scale; "
                      "×0.01 vanishes, ×10 explodes (ReLU) or saturates (tanh).")]
    return Section(KEY, TITLE, LESSON, _protocol(), results, tables=tables, figures=figures, checks=checks)


def _linear(lin: dict) -> tuple[dict, list[list[str]], list[Check]]:
    """(results, table rows, checks) of the deep linear network: is ‖a^[L]‖ = f^L·‖x‖ for each factor f?"""
    results, rows, checks = {}, [], []
    for f in LINEAR_FACTORS:
        r = lin[f"{f:g}"]
        norms = np.asarray(r["activation_norm"])
        L = np.arange(1, norms.size + 1)
        expected = f ** L * np.sqrt(2.0)  # ‖(f·I)^L x‖ with x = (1, 1)
        rel = float(np.max(np.abs(norms - expected) / expected))
        slope = float(np.polyfit(L, np.log(norms), 1)[0])
        results[f"{f:g}"] = {
            "activation_norm_by_layer": r["activation_norm"], "measured_growth_per_layer": float(np.exp(slope)),
            "max_relative_error_vs_factor_power_L": rel,
            "first_layer_gradient_by_depth": [{"depth": d, "norm": g} for d, g in r["first_layer_gradient_by_depth"]],
        }
        checks.append(Check(f"linear net, W = {f:g}·I: ‖a^[L]‖ = {f:g}^L·‖x‖ for L = 1…{LINEAR_DEPTH}",
                            f"activations ∝ {f:g}^L", f"growth per layer {np.exp(slope):.6f}, max rel. error {rel:.1e}",
                            rel < 1e-9))
        rows.append([f"W = {f:g}·I", f"{f:g}^L", f"{np.exp(slope):.6f}", f"{norms[9]:.4g}", f"{norms[-1]:.4g}",
                     f"{r['first_layer_gradient_by_depth'][-1][1]:.4g}"])
    return results, rows, checks


def _deep(deep: dict) -> tuple[dict, list[list[str]]]:
    """(results, table rows) of the deep network: activation spread and gradient norm, layer 1 vs the last."""
    results: dict = {}
    rows = []
    for hidden in ("relu", "tanh"):
        results[hidden] = {}
        for name in INITS:
            r = deep[hidden][name]
            std = r["activation_std"]
            results[hidden][name] = {"activation_std": std, "gradient_norm": r["gradient_norm"]}
            ratio_std = std[DEEP_DEPTH - 1] / std[0] if std[0] > 0 else float("nan")
            g = r["gradient_norm"]
            rows.append([hidden, name, f"{std[0]:.3g}", f"{std[DEEP_DEPTH - 1]:.3g}", f"{ratio_std:.3g}",
                         f"{g[0]:.3g}", f"{g[DEEP_DEPTH - 1]:.3g}"])
    return results, rows


def _deep_claims(deep: dict) -> list[Check]:
    """He (ReLU) and Xavier (tanh) keep the spread; small weights vanish, large ones explode."""
    relu, tanh = deep["relu"], deep["tanh"]

    def spread(d: dict) -> float:
        s = d["activation_std"][:DEEP_DEPTH]
        return max(s) / min(s)

    def growth(d: dict) -> float:
        return d["activation_std"][DEEP_DEPTH - 1] / d["activation_std"][0]

    small, large = growth(relu["random ×0.01"]), growth(relu["random ×10 (course)"])
    return [
        Check("ReLU + He keeps the activations' spread within a factor 3 over 20 layers",
              "He: Var(w) = 2/n for ReLU", f"max/min std over layers {spread(relu['he √(2/n)']):.2f}",
              spread(relu["he √(2/n)"]) < 3.0),
        Check("tanh + Xavier keeps the activations' spread within one order of magnitude over 20 "
              "layers", "Xavier: Var(w) = 1/n for tanh",
              f"max/min std {spread(tanh['xavier √(1/n)']):.2f}", spread(tanh["xavier √(1/n)"]) < 10.0),
        Check("ReLU with small random weights vanishes, with large ones explodes (layer 20 vs 1)",
              "too small → vanish, too large → explode", f"×0.01: {small:.1e}, ×10: {large:.1e}",
              small < 1e-6 and large > 1e6),
    ]


def _plot_linear(lin: dict, plot_dir: Path) -> str:
    """Activations by layer against the seeds' f^l, and the first layer's gradient against depth."""
    fig, axes = plots.subplots(1, 2, figsize=(11.5, 4.0))
    curves = {}
    styles: dict[str, dict] = {}
    for f in LINEAR_FACTORS:
        norms = lin[f"{f:g}"]["activation_norm"]
        curves[f"measured, W = {f:g}·I"] = norms
        styles[f"measured, W = {f:g}·I"] = {"markersize": 5}
    for f in LINEAR_FACTORS:
        label = f"${f:g}^l\\,\\|x\\|$ (the seeds)"
        curves[label] = [f ** l * np.sqrt(2.0) for l in range(1, len(norms) + 1)]
        styles[label] = {"linestyle": "--", "color": "k", "marker": "", "linewidth": 1.0}
    plots.plot_layer_lines(axes[0], curves, ylabel="$\\|a^{[l]}\\|$ (log scale)", styles=styles,
                           title=f"Deep linear network: activations by layer (L = {LINEAR_DEPTH})")
    grads = {f"W = {f:g}·I": [g for _, g in lin[f"{f:g}"]["first_layer_gradient_by_depth"]] for f in LINEAR_FACTORS}
    depths = [d for d, _ in lin[f"{LINEAR_FACTORS[0]:g}"]["first_layer_gradient_by_depth"]]
    plots.plot_cost_curves(axes[1], grads, x=depths, logy=True, xlabel="depth L of the network",
                           ylabel="$\\|dJ/dW^{[1]}\\|$ (log scale)",
                           title="Gradient of the first layer against depth")
    return save_plot(fig, plot_dir, "vanishing_linear.png")


def _plot_deep(deep: dict, plot_dir: Path) -> str:
    """Activation spread and weight-gradient norm by layer, per hidden activation and initialization."""
    fig, axes = plots.subplots(2, 2, figsize=(11.5, 8.0))
    for row, hidden in enumerate(("relu", "tanh")):
        d = deep[hidden]
        plots.plot_layer_lines(axes[row][0], {n: d[n]["activation_std"][:DEEP_DEPTH] for n in INITS},
                               ylabel="std of $A^{[l]}$ (log scale)",
                               title=f"{hidden}: activation spread by layer")
        plots.plot_layer_lines(axes[row][1], {n: d[n]["gradient_norm"][:DEEP_DEPTH + 1] for n in INITS},
                               ylabel="$\\|dW^{[l]}\\|_F$ (log scale)",
                               title=f"{hidden}: weight-gradient norm by layer")
    fig.suptitle(f"Deep network, {DEEP_DEPTH} hidden layers of {DEEP_WIDTH} units, at initialization")
    return save_plot(fig, plot_dir, "vanishing_deep.png")


def _protocol() -> list[str]:
    return [
        f"linear network: {LINEAR_DEPTH} layers of 2 units, g(z) = z, b = 0, W = 1.5·I or 0.5·I, x = (1, 1), "
        "J = ½ŷ²",
        f"deep network: {DEEP_DEPTH} hidden layers of {DEEP_WIDTH} units, sigmoid output, {DEEP_EXAMPLES} "
        "standard-normal inputs with random labels; one forward and backward pass at initialization",
    ]
