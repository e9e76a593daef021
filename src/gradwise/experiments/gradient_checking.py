"""Experiment 3 — gradient checking (seeds 001/002, "Gradient Checking"), 1-D and N-D, with planted bugs.

difference = ‖grad − gradapprox‖₂ / (‖grad‖₂ + ‖gradapprox‖₂),  gradapprox_i = (J(θ+εe_i) − J(θ−εe_i)) / 2ε,
ε = 1e-7; below 1e-7 the backward pass is trusted.

- 1-D: J(θ) = θx with x = 2, θ = 4, dJ/dθ = x.
- N-D: the course's LINEAR→RELU→LINEAR→RELU→LINEAR→SIGMOID network; after `np.random.seed(1)` the course
  draws x (4, 3), then W1 (5, 4), b1 (5, 1), W2 (3, 5), b2 (3, 1), W3 (1, 3), b3 (1, 1); y = [1, 1, 0].
- N-D with the course's two planted bugs: `dW2 = 1/m·dZ2·A1ᵀ·2` and `db1 = 4/m·Σ dZ1`. The check must fail
  and its per-parameter report must blame W2 and b1 ("look at components to identify the bug").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..gradcheck import gradcheck, gradcheck_fn
from ..layers import CHECKING, Dense, ReLU, Sigmoid
from ..model import Sequential
from ._common import Check, Figure, Job, Section, Settings, Table, plot_path

KEY = "gradient_checking"
TITLE = "3. Gradient checking: 1-D, N-D, and a planted bug"
EPSILON = 1e-7
THRESHOLD = 1e-7

#: the course notebook's printed differences (not in the seeds, which give the 1e-7 threshold): for
#: comparison only, nothing below depends on them
COURSE = {"1d": 2.919335883291695e-10, "nd_buggy": 0.2850931567761623, "nd_course_cost": 1.1890913024229996e-07}


class BuggyDense(Dense):
    """A Dense layer whose backward pass multiplies dW by `w_factor` and db by `b_factor` (a planted bug)."""

    def __init__(self, units: int, w_factor: float = 1.0, b_factor: float = 1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.w_factor, self.b_factor = float(w_factor), float(b_factor)

    def backward(self, dZ: np.ndarray) -> np.ndarray | None:
        dX = super().backward(dZ)
        self.grads["W"] *= self.w_factor
        if self.use_bias:
            self.grads["b"] *= self.b_factor
        return dX


def course_case() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """`gradient_check_n_test_case()`: X (3 examples, 4 features), y, and the parameters, drawn in order."""
    rs = np.random.RandomState(1)
    x = rs.randn(4, 3)  # the course's (n_x, m) layout
    y = np.array([1, 1, 0])
    shapes = [("W1", (5, 4)), ("b1", (5, 1)), ("W2", (3, 5)), ("b2", (3, 1)), ("W3", (1, 3)), ("b3", (1, 1))]
    params = {name: rs.randn(*shape) for name, shape in shapes}
    return x.T, y, params


def network(buggy: bool = False) -> Sequential:
    """The course's 3-layer network; `buggy` plants dW2 ×2 and db1 ×4 (the course's `4./m * Σ dZ1`)."""
    first = BuggyDense(5, b_factor=4.0) if buggy else Dense(5)
    second = BuggyDense(3, w_factor=2.0) if buggy else Dense(3)
    return Sequential([first, ReLU(), second, ReLU(), Dense(1), Sigmoid()], input_dim=4, seed=0)


def check_all() -> dict:
    """Run the three checks of the course, plus the N-D check on the course's own cost formula."""
    one_d = gradcheck_fn(lambda theta: theta * 2.0, 4.0, 2.0, epsilon=EPSILON, threshold=THRESHOLD)
    X, y, params = course_case()
    correct, buggy = network(False), network(True)
    correct.set_parameters(params)
    buggy.set_parameters(params)
    nd = gradcheck(correct, X, y, epsilon=EPSILON, threshold=THRESHOLD)
    nd_buggy = gradcheck(buggy, X, y, epsilon=EPSILON, threshold=THRESHOLD)

    # The course computes J = −(1/m)Σ[y log a + (1 − y) log(1 − a)] from a = sigmoid(z); gradwise computes it
    # from the logits z. The same gradient checked against the course's formula shows what that costs.
    probe = network(False)
    probe.set_parameters(params)
    theta0 = probe.theta.copy()
    probe.loss_and_gradient(probe.prepare_inputs(X), probe.prepare_targets(y, X.shape[0]), mode=CHECKING)
    analytic = probe.grad.copy()

    def course_cost(theta: np.ndarray) -> float:
        probe.theta[...] = theta
        a = probe.forward(X)[:, 0]
        return float(np.mean(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    nd_course = gradcheck_fn(course_cost, theta0, analytic, epsilon=EPSILON, threshold=THRESHOLD)
    return {"1d": one_d.to_dict(), "nd": nd.to_dict(), "nd_buggy": nd_buggy.to_dict(),
            "nd_course_cost": nd_course.to_dict(), "text_buggy": str(nd_buggy)}


def jobs(settings: Settings) -> list[Job]:
    return [Job(f"{KEY}/all", check_all, {}, cost=1.0)]


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    out = outputs[f"{KEY}/all"]
    keep = ("difference", "passed", "threshold", "epsilon", "per_parameter", "flagged", "worst", "n_checked")
    results = {name: {k: out[name][k] for k in keep if k in out[name]}
               for name in ("1d", "nd", "nd_buggy", "nd_course_cost")}
    for name in ("1d", "nd_course_cost"):
        results[name].pop("per_parameter", None)
        results[name].pop("flagged", None)
    results["nd_buggy"]["report"] = out["text_buggy"]
    buggy = results["nd_buggy"]
    checks = [
        Check("1-D: J = θx passes (difference < 1e-7)", "< 1e-7 (course notebook 2.919e-10)",
              f"{results['1d']['difference']:.4g}", results["1d"]["passed"]),
        Check("N-D, correct backward pass: passes", "< 1e-7", f"{results['nd']['difference']:.4g}",
              results["nd"]["passed"]),
        Check("N-D with the planted bugs: fails", "> 1e-7 (course notebook 0.2851)",
              f"{buggy['difference']:.4g}", not buggy["passed"]),
        Check("the report names the buggy parameters", "dW2 and db1", ", ".join(buggy["flagged"]) or "none",
              sorted(buggy["flagged"]) == ["W2", "b1"]),
    ]
    rows = [
        ["1-D: J(θ) = θx, x = 2, θ = 4", f"{COURSE['1d']:.6g}", f"{results['1d']['difference']:.6g}",
         "pass" if results["1d"]["passed"] else "FAIL", "—"],
        ["N-D, correct backward pass", f"{COURSE['nd_course_cost']:.6g}*", f"{results['nd']['difference']:.6g}",
         "pass" if results["nd"]["passed"] else "FAIL", ", ".join(results["nd"]["flagged"]) or "—"],
        ["N-D, correct backward, the course's cost formula (log of sigmoid)", f"{COURSE['nd_course_cost']:.6g}",
         f"{results['nd_course_cost']['difference']:.6g}",
         "pass" if results["nd_course_cost"]["passed"] else "FAIL", "—"],
        ["N-D with dW2 ×2 and db1 ×4", f"{COURSE['nd_buggy']:.6g}", f"{buggy['difference']:.6g}",
         "pass" if buggy["passed"] else "FAIL", ", ".join(buggy["flagged"]) or "—"],
    ]
    per_rows = [[name, f"{results['nd']['per_parameter'][name]:.3g}", f"{buggy['per_parameter'][name]:.3g}",
                 "look here" if name in buggy["flagged"] else ""] for name in buggy["per_parameter"]]

    names = list(buggy["per_parameter"])
    floor = 1e-17  # an exact zero cannot be drawn on a log axis
    fig, ax = plots.subplots(1, 1, figsize=(6.4, 3.9))
    plots.plot_layer_bars(ax, {"correct backward": [max(results["nd"]["per_parameter"][n], floor) for n in names],
                               "planted bugs": [max(buggy["per_parameter"][n], floor) for n in names]},
                          layers=names, logy=True, ylabel="relative difference (log scale)",
                          title="Gradient check per parameter (course's 3-layer network)")
    ax.axhline(THRESHOLD, color="k", linestyle="--", linewidth=1.0)
    ax.text(len(names) - 0.5, THRESHOLD * 2, "threshold 1e-7", ha="right", va="bottom", fontsize="small")
    abs_path, rel_path = plot_path(plot_dir, "gradient_checking.png")
    plots.save_figure(fig, abs_path)

    return Section(
        key=KEY,
        title=TITLE,
        lesson=("Backpropagation is verified against the two-sided difference (J(θ+ε) − J(θ−ε))/2ε; if the "
                "relative difference exceeds 1e-7 there is a bug, and the components (per-parameter "
                "differences) say where to look."),
        protocol=[
            f"ε = {EPSILON:g}, threshold {THRESHOLD:g}; every coordinate checked",
            "N-D: the course's `gradient_check_n_test_case` — `np.random.seed(1)`, then x (4, 3), W1, b1, W2, b2, "
            "W3, b3 drawn in that order, y = [1, 1, 0]; set with `set_parameters`",
            "bugs planted by subclassing Dense (`BuggyDense`) in a copy of the network: dW2 doubled, db1 = 4/m·Σ dZ1",
        ],
        results=results,
        tables=[
            Table("Differences (the course notebook's printed values for comparison; the seeds give the 1e-7 "
                  "threshold)", ["check", "course notebook", "ours", "verdict", "blamed"], rows),
            Table("Per-parameter difference of the N-D check", ["parameter", "correct", "with bugs", ""], per_rows),
        ],
        figures=[Figure(rel_path, "Only W2 and b1 exceed the threshold when the bugs are planted.")],
        checks=checks,
        notes=[
            "* The course notebook's correct N-D difference (1.19e-7) is computed with its cost "
            "−Σ[y log a + (1−y) log(1−a)] on sigmoid outputs a; gradwise computes the loss from the logits z. "
            f"Checking our gradient against the course's formula gives "
            f"{results['nd_course_cost']['difference']:.3g}, against ours "
            f"{results['nd']['difference']:.3g}: the rounding of log(sigmoid(z)), not the gradient, is what "
            "the course's value measures.",
            "A parameter is blamed when its own difference exceeds the threshold and its disagreement alone "
            "would fail the whole check.",
        ],
    )
