"""Pictures of a study: optimization history, sampled values against dev accuracy, parameter importances.

matplotlib is imported lazily, with the Agg backend; every PNG is written atomically.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from .._atomic import write_bytes
from .objective import metric_score
from .space import SearchSpace
from .study import stage_of

__all__ = ["plot_history", "plot_sampled", "plot_importances", "write_plots"]

_COLORS = {1: "tab:blue", 2: "tab:orange"}
_LABELS = {1: "coarse", 2: "fine"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_bytes(path, buffer.getvalue())


def _score(value: float, task: str, metric: str | None = None) -> float:
    """A study's minimized value as the score people read (dev accuracy, RMSE or the chosen metric)."""
    return metric_score(value, metric, task)[1]


def _label(task: str, metric: str | None) -> str:
    if metric is None:
        return "dev accuracy" if task != "regression" else "dev RMSE"
    return f"dev {metric}"


def _finished(study):
    from optuna.trial import TrialState


    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    pruned = [t for t in study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))]
    return complete, pruned, stage_of


def plot_history(study, path: Path, task: str, title: str = "", metric: str | None = None) -> None:
    """Dev accuracy (or RMSE) of every finished trial by trial number, with the best so far as a line."""
    plt = _pyplot()
    complete, pruned, stage_of = _finished(study)
    ylabel = _label(task, metric)
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    try:
        for stage in (1, 2):
            ts = [t for t in complete if stage_of(t) == stage]
            if ts:
                ax.scatter([t.number for t in ts], [_score(t.value, task, metric) for t in ts], s=22,
                           color=_COLORS[stage], label=f"{_LABELS[stage]} trials", zorder=3)
        if complete:
            order = sorted(complete, key=lambda t: t.number)
            best, xs, ys = math.inf, [], []
            for t in order:
                best = min(best, t.value)
                xs.append(t.number)
                ys.append(_score(best, task, metric))
            last = max(t.number for t in complete + pruned)
            if last > xs[-1]:
                xs.append(last)
                ys.append(ys[-1])
            ax.step(xs, ys, where="post", color="black", lw=1.2, label="best so far")
        if pruned:
            low = ax.get_ylim()[0] if complete else 0.0
            ax.scatter([t.number for t in pruned], [low] * len(pruned), marker="x", color="grey",
                       label=f"pruned ({len(pruned)})", zorder=2, clip_on=False)
        ax.set_xlabel("trial number")
        ax.set_ylabel(ylabel)
        ax.set_title(title or "optimization history")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


def _axis_values(name: str, space: SearchSpace, config: dict) -> tuple[float | None, str]:
    """x value and x scale for one hyperparameter of a configuration (1 − β for β)."""
    dim = space[name]
    v = config.get(name)
    if v is None or isinstance(v, bool | str) or (dim.zero and v == 0):
        return None, "linear"
    if dim.scale == "one_minus_log":
        return 1.0 - float(v), "log"
    if dim.scale in ("log", "pow2"):
        return (float(v) if v > 0 else None), ("log2" if dim.scale == "pow2" else "log")
    return float(v), "linear"


def _set_axis(ax, dim, scale: str) -> None:
    """The whole searched range on the sampling scale, labelled at whole decades (or powers of two)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = (1.0 - dim.high, 1.0 - dim.low) if dim.scale == "one_minus_log" else (dim.low, dim.high)
    if scale in ("log", "log2") or dim.scale in ("log", "one_minus_log", "pow2"):
        ax.set_xscale("log", base=2 if dim.scale == "pow2" else 10)
        ax.xaxis.set_minor_formatter(NullFormatter())
        if lo > 0 and hi > lo:
            ax.set_xlim(lo / (hi / lo) ** 0.05, hi * (hi / lo) ** 0.05)
            if dim.scale != "pow2" and hi / lo < 100:
                # less than two decades: label 1-2-5 steps, or the axis would have one label or none
                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    elif hi > lo:
        pad = 0.05 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)


def plot_sampled(study, space: SearchSpace, path: Path, task: str, title: str = "",
                 metric: str | None = None) -> None:
    """One panel per searched numeric hyperparameter: sampled value (log axis where it is sampled on a
    log scale) against dev accuracy — the seeds' picture of random search on the right scale."""
    plt = _pyplot()
    complete, _, stage_of = _finished(study)
    names = [n for n in space.searched if space[n].kind in ("float", "int")]
    if not names:
        names = space.searched[:1]
    cols = min(4, max(1, len(names)))
    rows = math.ceil(len(names) / cols) if names else 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), squeeze=False)
    ylabel = _label(task, metric)
    try:
        best = min(complete, key=lambda t: t.value) if complete else None
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        for ax, name in zip(axes.flat, names, strict=False):
            scale = "linear"
            zeros = 0
            for stage in (1, 2):
                xs, ys = [], []
                for t in complete:
                    if stage_of(t) != stage:
                        continue
                    x, scale_t = _axis_values(name, space, t.user_attrs.get("config", {}))
                    if x is None:
                        zeros += 1
                        continue
                    scale = scale_t if scale_t != "linear" else scale
                    xs.append(x)
                    ys.append(_score(t.value, task, metric))
                if xs:
                    ax.scatter(xs, ys, s=16, color=_COLORS[stage], alpha=0.8, label=_LABELS[stage])
            if best is not None:
                x, _ = _axis_values(name, space, best.user_attrs.get("config", {}))
                if x is not None:
                    ax.scatter([x], [_score(best.value, task, metric)], marker="*", s=160, color="red",
                               edgecolor="black", zorder=4, label="best")
            _set_axis(ax, space[name], scale)
            label = f"1 − {name}" if space[name].scale == "one_minus_log" else name
            if zeros:
                label += f"  ({zeros} at 0, not shown)"
            ax.set_xlabel(label + ("  (log scale)" if scale != "linear" else ""), fontsize=8)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        if names:
            axes.flat[0].legend(fontsize=7, loc="best")
        fig.suptitle(title or "sampled values vs dev score", fontsize=10)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


def importances(study, space: SearchSpace) -> dict[str, float]:
    """Optuna's fANOVA importances of the hyperparameters over the completed trials (a random forest of
    dev score against the parameters; needs scikit-learn). Empty if there is too little to go on.

    Fine trials were sampled from narrower ranges; Optuna's evaluators only use parameters whose
    distribution is the same in every trial, so every trial is re-expressed in the coarse `space`
    (their values lie inside it). A parameter sampled only sometimes (λ when ``l2_zero`` is False) is left
    out by fANOVA; its ``_zero`` flag stands for the choice between 0 and the range.
    """
    import warnings

    import optuna
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.trial import TrialState, create_trial

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 3 or len({t.value for t in complete}) < 2:
        return {}
    coarse = {}
    for dim in space:
        if dim.searched:
            coarse[dim.param_name] = dim.distribution()
            if dim.zero:
                coarse[dim.zero_name] = optuna.distributions.CategoricalDistribution([False, True])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copy = optuna.create_study(direction="minimize")
        for t in complete:
            params = {k: v for k, v in t.params.items() if k in coarse}
            copy.add_trial(create_trial(params=params, distributions={k: coarse[k] for k in params},
                                        value=t.value))
        try:
            values = optuna.importance.get_param_importances(copy, evaluator=FanovaImportanceEvaluator(seed=0))
            return {name: float(v) for name, v in values.items()}
        except (ValueError, RuntimeError):
            return {}


def plot_importances(values: dict[str, float], path: Path, title: str = "") -> None:
    plt = _pyplot()
    names = list(values)[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * max(3, len(names)) + 1.2))
    try:
        ax.barh(names, [values[n] for n in names], color="tab:blue")
        for i, n in enumerate(names):
            ax.text(values[n], i, f" {values[n]:.2f}", va="center", fontsize=8)
        ax.set_xlabel("importance (fANOVA: share of the dev score's variance)")
        ax.set_xlim(0, max(1.0, max(values.values(), default=0) * 1.15))
        ax.set_title(title or "hyperparameter importance")
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


def write_plots(study, space: SearchSpace, directory: Path, task: str, name: str = "",
                metric: str | None = None) -> dict[str, Any]:
    """All three plots into `directory`; returns {"history": path, "sampled": path, "importance": path
    or None, "importances": {param: value}}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    prefix = f"{name}: " if name else ""
    out["history"] = directory / "history.png"
    plot_history(study, out["history"], task, prefix + "optimization history", metric)
    out["sampled"] = directory / "sampled_values.png"
    plot_sampled(study, space, out["sampled"], task, prefix + "sampled values vs dev score", metric)
    values = importances(study, space)
    out["importances"] = values
    out["importance"] = None
    if values:
        out["importance"] = directory / "importance.png"
        plot_importances(values, out["importance"], prefix + "hyperparameter importance")
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}
