"""Experiment 7 — normalizing inputs (seeds 001, 003, 004): x := (x − μ)/σ with the training set's μ, σ.

The seeds' picture: with features on very different scales the cost's level sets are elongated, gradient
descent needs a small learning rate and many steps; normalized, they are round and it goes straight down.

1. A 2-parameter model (linear, no intercept, J = (1/2m)Σ(w·x − y)²) on two features whose scales differ by a
   factor 10: the cost contours and gradient descent's path, raw vs standardized (`gw.Standardizer`), and the
   iterations needed at each one's best learning rate.
2. A network on real data whose features span six orders of magnitude (scikit-learn's breast cancer: 30
   features, standard deviations from 0.003 to 570), raw vs standardized: iterations to a target cost.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..callbacks import Callback
from ..data import Standardizer, load
from ..errors import TrainingDivergedError
from ..layers import Dense, Linear
from ..model import Sequential, mlp
from ._common import Check, Figure, Job, Section, Settings, Table, fewer, first_reaching, save_plot

KEY = "normalization"
TITLE = "7. Normalizing inputs"
SCALES = (1.0, 10.0)
TRUE_W = (2.0, -0.1)
M = 200
TOLERANCE = 1e-4  # converged when J − J* ≤ TOLERANCE·(J(0) − J*)
LINEAR_RATES = tuple(10.0 ** np.arange(-4.0, 1.01, 0.25))
LINEAR_CAP = 3000
NET_LAYERS = [30, 16, 8, 1]
NET_RATES = (1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0)
NET_ITERATIONS = 500
QUICK_NET_ITERATIONS = 60
NET_TARGET = 0.15


def linear_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    Z = rng.standard_normal((M, 2))
    X = Z * np.asarray(SCALES)
    y = X @ np.asarray(TRUE_W) + 0.1 * rng.standard_normal(M)
    return X, y


class _Path(Callback):
    """Records θ after every full-batch iteration and stops once J is within tolerance of J*."""

    def __init__(self, X: np.ndarray, y: np.ndarray, j_star: float, j0: float):
        self.X, self.y = X, y
        self.j_star, self.j0 = j_star, j0
        self.path: list[list[float]] = []
        self.converged_at: int | None = None
        self.diverged = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        w = self.model.theta.copy()
        self.path.append(w.tolist())
        # history["cost"][i] is J before iteration i's update: evaluate the point reached after it
        with np.errstate(over="ignore", invalid="ignore"):
            J = float(np.mean((self.X @ w - self.y) ** 2) / 2)
        if not np.isfinite(J) or J > 1e6 * self.j0:
            self.diverged = True  # too large a learning rate: no need to wait for an overflow
            self.model.stop_training = True
        elif J - self.j_star <= TOLERANCE * (self.j0 - self.j_star):
            self.converged_at = epoch + 1
            self.model.stop_training = True


def _linear_model() -> Sequential:
    return Sequential([Dense(1, init="zeros", use_bias=False), Linear()], input_dim=2, loss="mse", seed=0)


def linear_runs(standardize: bool, cap: int) -> dict:
    """Gradient descent from w = 0 at every learning rate of the grid; the fastest one's path is kept."""
    X, y = linear_data()
    if standardize:
        X = Standardizer().fit(X).transform(X)
    w_star, *_ = np.linalg.lstsq(X, y, rcond=None)
    j_star = float(np.mean((X @ w_star - y) ** 2) / 2)
    j0 = float(np.mean(y ** 2) / 2)
    hessian = X.T @ X / M
    eig = np.linalg.eigvalsh(hessian)
    runs: dict[str, int | None] = {}
    best = None
    for lr in LINEAR_RATES:
        model = _linear_model()
        rec = _Path(X, y, j_star, j0)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                model.fit(X, y, epochs=cap, learning_rate=float(lr), callbacks=[rec], verbose=0)
        except TrainingDivergedError:
            rec.diverged = True
        if rec.diverged:
            runs[f"{lr:.4g}"] = None
            continue
        runs[f"{lr:.4g}"] = rec.converged_at
        if rec.converged_at is not None and (best is None or rec.converged_at < best[0]):
            best = (rec.converged_at, float(lr), [[0.0, 0.0]] + rec.path)
    return {"w_star": w_star.tolist(), "j_star": j_star, "eigenvalues": eig.tolist(),
            "condition_number": float(eig[-1] / eig[0]), "iterations_by_learning_rate": runs,
            "best_iterations": None if best is None else best[0],
            "best_learning_rate": None if best is None else best[1],
            "path": [] if best is None else best[2], "X": X, "y": y}


def net_run(standardize: bool, learning_rate: float, iterations: int) -> dict:
    data = load("breast_cancer", seed=0)
    X, Xt = data.X_train, data.X_test
    if standardize:
        scaler = Standardizer().fit(X)  # μ, σ of the training set, applied to both
        X, Xt = scaler.transform(X), scaler.transform(Xt)
    model = mlp(NET_LAYERS, hidden="relu", output="sigmoid", init="he", seed=1)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = model.fit(X, data.y_train, epochs=iterations, learning_rate=learning_rate, verbose=0)
    except TrainingDivergedError:
        return {"diverged": True, "cost": [], "test_accuracy": None}
    return {"diverged": False, "cost": [float(c) for c in history["cost"]],
            "test_accuracy": model.evaluate(Xt, data.y_test)["accuracy"]}


def jobs(settings: Settings) -> list[Job]:
    cap = LINEAR_CAP if not settings.quick else 600
    n = settings.n(NET_ITERATIONS, QUICK_NET_ITERATIONS)
    out = [Job(f"{KEY}/linear/{'std' if s else 'raw'}", linear_runs, {"standardize": s, "cap": cap},
               cost=cap * 200 * 4) for s in (False, True)]
    out += [Job(f"{KEY}/net/{'std' if s else 'raw'}/{lr:g}", net_run,
                {"standardize": s, "learning_rate": lr, "iterations": n}, cost=n * 455)
            for s in (False, True) for lr in NET_RATES]
    return out


LESSON = ("Subtract the mean and divide by the standard deviation of each feature (μ, σ from the training "
          "set, reused for dev and test): the cost becomes a round bowl instead of an elongated valley, so "
          "a larger learning rate works and gradient descent needs far fewer steps.")


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Raw against standardized inputs: the linear model's conditioning and steps, the network's iterations."""
    n = settings.n(NET_ITERATIONS, QUICK_NET_ITERATIONS)
    lin = {tag: outputs[f"{KEY}/linear/{tag}"] for tag in ("raw", "std")}
    results: dict = {"linear": {}, "network": {}}
    for tag, r in lin.items():
        results["linear"][tag] = {k: r[k] for k in ("w_star", "eigenvalues", "condition_number",
                                                    "best_iterations", "best_learning_rate",
                                                    "iterations_by_learning_rate")}
    net = {tag: _network_summary(outputs, tag) for tag in ("raw", "std")}
    results["network"] = net
    results["protocol"] = {"linear": {"scales": list(SCALES), "true_w": list(TRUE_W), "m": M,
                                      "tolerance": TOLERANCE, "learning_rates": [float(x) for x in LINEAR_RATES]},
                           "network": {"data": "breast_cancer (scikit-learn), 80/20", "layers": NET_LAYERS,
                                       "iterations": n, "learning_rates": list(NET_RATES), "target_cost": NET_TARGET}}
    raw, std = results["linear"]["raw"], results["linear"]["std"]
    table = Table("Raw vs standardized inputs",
                  ["model", "condition number raw", "standardized", "iterations raw (best α)",
                   "iterations standardized (best α)"], _rows(raw, std, net))
    return Section(KEY, TITLE, LESSON, _protocol(n), results, tables=[table],
                   figures=_plots(lin, net, outputs, plot_dir), checks=_checks(settings, raw, std, net))


def _network_summary(outputs: dict[str, dict], tag: str) -> dict:
    """The network's α sweep on raw or standardized ("std") inputs: iterations to the target, best final cost."""
    runs = {f"{lr:g}": outputs[f"{KEY}/net/{tag}/{lr:g}"] for lr in NET_RATES}
    to_target = {k: first_reaching(r["cost"], NET_TARGET) for k, r in runs.items()}
    reached = [(v, k) for k, v in to_target.items() if v is not None]
    finals = {k: (r["cost"][-1] if r["cost"] else None) for k, r in runs.items()}
    best_final = min((v, k) for k, v in finals.items() if v is not None) if any(
        v is not None for v in finals.values()) else None
    return {
        "iterations_to_target": to_target,
        "fewest_iterations": min(reached)[0] if reached else None,
        "at_learning_rate": float(min(reached)[1]) if reached else None,
        "best_final_cost": None if best_final is None else best_final[0],
        "best_final_cost_learning_rate": None if best_final is None else float(best_final[1]),
        "test_accuracy_at_best": None if best_final is None else runs[best_final[1]]["test_accuracy"],
        "final_cost_by_learning_rate": finals,
    }


def _checks(settings: Settings, raw: dict, std: dict, net: dict) -> list[Check]:
    """Standardizing rounds the level sets; both models need fewer iterations."""
    checks = [
        Check("standardizing rounds the cost's level sets (condition number of the Hessian)",
              "elongated → round", f"{raw['condition_number']:.1f} raw → {std['condition_number']:.2f} standardized",
              std["condition_number"] < raw["condition_number"] / 10),
        Check("gradient descent converges in fewer iterations (each at its best α)", "faster optimization",
              f"{_it(raw['best_iterations'])} raw vs {_it(std['best_iterations'])} standardized",
              fewer(std["best_iterations"], raw["best_iterations"])),
        Check(f"network on breast cancer reaches J ≤ {NET_TARGET} in fewer iterations standardized",
              "faster optimization",
              f"{_it(net['raw']['fewest_iterations'])} raw vs {_it(net['std']['fewest_iterations'])} standardized",
              fewer(net["std"]["fewest_iterations"], net["raw"]["fewest_iterations"])),
    ]
    if settings.quick and net["std"]["fewest_iterations"] is None:
        checks[2].passed = None  # a quick run's few iterations may not reach the target at all
    return checks


def _rows(raw: dict, std: dict, net: dict) -> list[list[str]]:
    """The table: condition numbers and iterations at the best α, raw against standardized."""
    return [
        ["2-parameter linear model", f"{raw['condition_number']:.1f}", f"{std['condition_number']:.2f}",
         f"{_it(raw['best_iterations'])} (α = {_lr(raw['best_learning_rate'])})",
         f"{_it(std['best_iterations'])} (α = {_lr(std['best_learning_rate'])})"],
        [f"network {'-'.join(map(str, NET_LAYERS))} on breast cancer (to J ≤ {NET_TARGET})", "—", "—",
         f"{_it(net['raw']['fewest_iterations'])}" + (f" (α = {net['raw']['at_learning_rate']:g})"
                                                       if net["raw"]["at_learning_rate"] else
                                                       f"; best J {_cost(net['raw']['best_final_cost'])}"),
         f"{_it(net['std']['fewest_iterations'])}" + (f" (α = {net['std']['at_learning_rate']:g})"
                                                       if net["std"]["at_learning_rate"] else "")],
    ]


def _plots(lin: dict, net: dict, outputs: dict[str, dict], plot_dir: Path) -> list[Figure]:
    """Cost contours with gradient descent's path, raw and standardized; the network's cost curves."""
    fig, axes = plots.subplots(1, 2, figsize=(12.0, 5.0))
    for ax, tag, title in ((axes[0], "raw", "raw features (scales 1 and 10)"), (axes[1], "std", "standardized")):
        _contours(ax, lin[tag], title)
    fig.suptitle("Cost contours J(w1, w2) and gradient descent from w = 0 at its best learning rate")
    cont_rel = save_plot(fig, plot_dir, "normalization_contours.png")

    curves = {}
    for tag, label in (("raw", "raw features"), ("std", "standardized")):
        lr = net[tag]["at_learning_rate"] or net[tag]["best_final_cost_learning_rate"]
        if lr is not None:
            curves[f"{label}, α = {lr:g}"] = outputs[f"{KEY}/net/{tag}/{lr:g}"]["cost"]
    fig, ax = plots.subplots(1, 1, figsize=(6.4, 4.0))
    plots.plot_cost_curves(ax, curves, logy=True, xlabel="iteration (full-batch gradient descent)",
                           ylabel="training cost J (log scale)",
                           title="Breast cancer, 30-16-8-1: each at its best α")
    ax.axhline(NET_TARGET, color="gray", linestyle=":", linewidth=0.8)
    net_rel = save_plot(fig, plot_dir, "normalization_network.png")
    return [Figure(cont_rel, "Raw features: an elongated valley; gradient descent must use a small α "
                             "(set by the steep direction) and crawls along the flat one. Standardized: round "
                             "contours, a nearly straight path."),
            Figure(net_rel, "On real data with features spanning 10⁻³ to 10³: raw, the best α "
                            f"({_lr(net['raw']['best_final_cost_learning_rate'])}) ends at J = "
                            f"{_cost(net['raw']['best_final_cost'])}; standardized, J ≤ {NET_TARGET} after "
                            f"{_it(net['std']['fewest_iterations'])} iterations.")]


def _protocol(n: int) -> list[str]:
    return [
        f"2-parameter model ŷ = w1·x1 + w2·x2 (mse), {M} examples, x1 ~ N(0, {SCALES[0]:g}²), "
        f"x2 ~ N(0, {SCALES[1]:g}²), y = {TRUE_W[0]:g}·x1 {TRUE_W[1]:+g}·x2 + noise; gradient descent from w = 0, "
        f"α on a grid 10^-4 … 10 (×10^¼), converged when J − J* ≤ {TOLERANCE:g}·(J(0) − J*)",
        f"network {'-'.join(map(str, NET_LAYERS))} ReLU/He on breast cancer (scikit-learn, 80/20), full-batch "
        f"gradient descent, {n} iterations, α ∈ {{{', '.join(f'{x:g}' for x in NET_RATES)}}}",
    ]


def _contours(ax, run: dict, title: str) -> None:
    X, y = run["X"], run["y"]
    w_star = np.asarray(run["w_star"])
    path = np.asarray(run["path"]) if run["path"] else np.zeros((1, 2))
    pts = np.vstack([path, w_star, [0.0, 0.0]])
    centre = (pts.max(axis=0) + pts.min(axis=0)) / 2
    half = 0.65 * max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]), 0.5)
    g1 = np.linspace(centre[0] - half, centre[0] + half, 240)
    g2 = np.linspace(centre[1] - half, centre[1] + half, 240)
    W1, W2 = np.meshgrid(g1, g2)
    W = np.stack([W1.ravel(), W2.ravel()], axis=1)
    J = (np.mean((X @ W.T - y[:, None]) ** 2, axis=0) / 2).reshape(W1.shape)
    levels = run["j_star"] + (J.max() - run["j_star"]) * np.linspace(0.0, 1.0, 16)[1:] ** 2
    cs = ax.contour(W1, W2, J, levels=levels, cmap="viridis", linewidths=0.9)
    ax.clabel(cs, cs.levels[:6], fontsize=6, fmt="%.2g")
    if run["path"]:
        ax.plot(path[:, 0], path[:, 1], "-o", color="#d62728", markersize=2.5, linewidth=0.9,
                label=f"gradient descent, α = {run['best_learning_rate']:.3g}: {run['best_iterations']} iterations")
    ax.plot(*w_star, "k*", markersize=11, label="minimum w*")
    ax.set_aspect("equal")
    ax.set_xlim(g1[0], g1[-1])
    ax.set_ylim(g2[0], g2[-1])
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(f"{title}\ncondition number {run['condition_number']:.1f}")
    ax.legend(fontsize="x-small", loc="lower left")


def _it(n: int | None) -> str:
    return "not reached" if n is None else str(n)


def _lr(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def _cost(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"
