"""Experiment 15 — tuning priorities (seed 003, "What are the parameters more important in DL and have to be
tuned?": the learning rate α first; then the momentum β, the hidden units and the mini-batch size; then the
number of layers and the learning-rate decay).

Protocol: per fresh seed one Optuna study of random search (`RandomSampler`, seeded from the fresh seed) over
six hyperparameters, each on the scale the seeds recommend — α log-uniform in [1e-4, 1] (the course's
r = −4·rand, α = 10^r), β through 1 − β log-uniform in [0.001, 0.1] (β from 0.9 to 0.999), hidden units
log-uniform in [16, 128], the mini-batch size a power of two from 32 to 512, 1 to 4 hidden layers, the
inverse-time decay rate log-uniform in [0.001, 1] (α_t = α / (1 + rate·epoch)). Each trial trains a ReLU/softmax
network on the 8×8 digits' training split (1,438 images, standardized) with momentum gradient descent for
20 epochs — the same budget of epochs for every configuration, as a tuning run gives — and scores the error
on the held-out split (359 images) as the dev error. Optuna's fANOVA evaluator (a random forest over the
trials, with a fixed seed) splits the variance of the dev error among the hyperparameters; the claims are
read from the importances averaged over the fresh seeds' studies.

Chosen after measuring: with 100 trials per study the first two places changed between two seeds; with 200
(at 20 epochs) α and the mini-batch size stayed the top two in both studies, in either order. A study costs
~20 s of CPU on this machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..data import Standardizer
from ..data import load as load_dataset
from ..errors import TrainingDivergedError
from ..model import mlp
from ..optim import InverseTimeDecay, Momentum
from ._common import (
    Check,
    Figure,
    Job,
    Section,
    Settings,
    Table,
    mean_interval,
    pct,
    plot_path,
    seeds_of,
    streams,
    trained,
)

KEY = "hyperparameter_importance"
TITLE = "15. Tuning priorities: which hyperparameters matter most (Optuna, fANOVA)"
TRIALS, QUICK_TRIALS = 200, 16  # per fresh seed
EPOCHS, QUICK_EPOCHS = 20, 2
CHUNKS, QUICK_CHUNKS = 4, 2  # jobs per fresh seed (the trials of a study are independent)
#: the fANOVA evaluator's random forest is seeded too: the same trials give the same importances
EVALUATOR_SEED = 0
#: the hyperparameters in the seeds' order: (Optuna parameter, label, the seeds' tier)
HYPERPARAMETERS = (("learning_rate", "α (learning rate)", 1), ("one_minus_beta", "β (momentum)", 2),
                   ("hidden_units", "hidden units", 2), ("log2_batch_size", "mini-batch size", 2),
                   ("layers", "number of layers", 3), ("decay", "learning-rate decay", 3))
LABEL = {name: label for name, label, _ in HYPERPARAMETERS}
TIER = {name: tier for name, _, tier in HYPERPARAMETERS}
RANGES = {"learning_rate": "1e-4 … 1, log", "one_minus_beta": "β 0.9 … 0.999 (1 − β log)",
          "hidden_units": "16 … 128, log", "log2_batch_size": "32, 64, …, 512",
          "layers": "1 … 4", "decay": "1e-3 … 1, log"}
LESSON = ("Some hyperparameters matter more than others, so a tuning budget is spent on them first: the seeds "
          "put the learning rate α first; then momentum's β, the hidden units and the mini-batch size; then the "
          "number of layers and the learning-rate decay. A random search samples every hyperparameter at once "
          "(no grid: each trial tries a new value of each), and a functional ANOVA of its results says how much "
          "of the dev error's variance each one explains.")


def distributions() -> dict[str, Any]:
    """The search space as Optuna distributions (α, 1 − β and the decay log-uniform; the batch size by log2)."""
    from optuna.distributions import FloatDistribution, IntDistribution

    return {"learning_rate": FloatDistribution(1e-4, 1.0, log=True),
            "one_minus_beta": FloatDistribution(1e-3, 1e-1, log=True),
            "hidden_units": IntDistribution(16, 128, log=True),
            "log2_batch_size": IntDistribution(5, 9),
            "layers": IntDistribution(1, 4),
            "decay": FloatDistribution(1e-3, 1.0, log=True)}


def study(seed: int, trials: int) -> tuple[Any, list[Any]]:
    """The fresh seed's study and its `trials` asked trials (a seeded RandomSampler: the same trials in every
    process that asks them)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s_sampler, _ = streams(KEY, seed, 2)
    created = optuna.create_study(direction="minimize",
                                  sampler=optuna.samplers.RandomSampler(seed=seeds_of(s_sampler)[0]))
    space = distributions()
    return created, [created.ask(space) for _ in range(trials)]


def train(seed: int, first: int, count: int, trials: int, epochs: int) -> dict:
    """Trials first … first+count−1 of the fresh seed's study: their parameters and dev errors."""
    _, asked = study(seed, trials)
    _, s_init = streams(KEY, seed, 2)
    init_seeds = seeds_of(s_init, trials)
    data = load_dataset("digits", seed=seed)
    scaler = Standardizer().fit(data.X_train)
    X, Xd = scaler.transform(data.X_train), scaler.transform(data.X_test)
    out: dict[str, list] = {"params": [], "dev_error": [], "train_error": [], "diverged": []}
    for i in range(first, first + count):
        p = asked[i].params
        model = mlp([X.shape[1], *[p["hidden_units"]] * p["layers"], 10], output="softmax", seed=init_seeds[i])
        diverged = False
        try:
            model.fit(X, data.y_train, epochs=epochs, batch_size=2 ** p["log2_batch_size"],
                      optimizer=Momentum(beta=1.0 - p["one_minus_beta"]), learning_rate=p["learning_rate"],
                      schedule=InverseTimeDecay(p["decay"]), verbose=0)
        except TrainingDivergedError:
            diverged = True  # the model holds its last finite weights: scored as they are
        out["params"].append(dict(p))
        out["dev_error"].append(1.0 - model.evaluate(Xd, data.y_test)["accuracy"])
        out["train_error"].append(1.0 - model.evaluate(X, data.y_train)["accuracy"])
        out["diverged"].append(diverged)
    return out


def _chunks(trials: int, n: int) -> list[tuple[int, int]]:
    """(first, count) of n nearly equal consecutive parts of range(trials)."""
    bounds = np.linspace(0, trials, n + 1).round().astype(int)
    return [(int(a), int(b - a)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def jobs(settings: Settings) -> list[Job]:
    trials, epochs = settings.n(TRIALS, QUICK_TRIALS), settings.n(EPOCHS, QUICK_EPOCHS)
    return [Job(f"{KEY}/seed{seed}/part{k}", train,
                {"seed": seed, "first": first, "count": count, "trials": trials, "epochs": epochs},
                cost=count * epochs * 5000)  # ~0.1 s per 20-epoch trial
            for seed in settings.fresh_seeds()
            for k, (first, count) in enumerate(_chunks(trials, settings.n(CHUNKS, QUICK_CHUNKS)))]


def importances(seed: int, trials: int, runs: list[dict]) -> tuple[dict[str, float], Any]:
    """Tell the study its trials' dev errors (in order) and ask Optuna's fANOVA for the importances."""
    import optuna

    created, asked = study(seed, trials)
    params = [p for run in runs for p in run["params"]]
    errors = [e for run in runs for e in run["dev_error"]]
    for trial, p, error in zip(asked, params, errors, strict=True):
        if trial.params != p:
            raise RuntimeError(f"trial {trial.number}: a job trained other parameters than the study asked")
        created.tell(trial, error)
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=EVALUATOR_SEED)
    found = optuna.importance.get_param_importances(created, evaluator=evaluator)
    return {name: float(found[name]) for name, _, _ in HYPERPARAMETERS}, created


def finish(settings: Settings, outputs: dict[str, dict], plot_dir: Path) -> Section:
    """Importances per study and averaged, ranks against the seeds' tiers, the claims, two plots."""
    seeds, trials = settings.fresh_seeds(), settings.n(TRIALS, QUICK_TRIALS)
    parts = len(_chunks(trials, settings.n(CHUNKS, QUICK_CHUNKS)))
    runs = {s: [outputs[f"{KEY}/seed{s}/part{k}"] for k in range(parts)] for s in seeds}
    per_seed = {s: importances(s, trials, runs[s])[0] for s in seeds}
    mean = {name: float(np.mean([per_seed[s][name] for s in seeds])) for name in LABEL}
    order = sorted(LABEL, key=lambda name: -mean[name])
    rank = {name: order.index(name) + 1 for name in LABEL}
    table = Table(f"fANOVA importance of each hyperparameter for the dev error ({trials} trials per study)",
                  ["hyperparameter", "range", "seeds' tier", *[f"seed {s}" for s in seeds], "mean", "our rank"],
                  [[LABEL[n], RANGES[n], str(TIER[n]), *[f"{per_seed[s][n]:.3f}" for s in seeds], f"{mean[n]:.3f}",
                    str(rank[n])] for n in LABEL])
    best = _best_trials(runs, seeds)
    checks = _checks(settings, seeds, per_seed, mean, rank)
    results = {"seeds": seeds, "trials_per_study": trials, "importance": {n: mean[n] for n in LABEL},
               "importance_per_seed": {str(s): per_seed[s] for s in seeds}, "rank": rank,
               "best_dev_error": mean_interval([b["dev_error"] for b in best]),
               "diverged_share": float(np.mean([d for s in seeds for r in runs[s] for d in r["diverged"]])),
               "protocol": {"trials": trials, "epochs": settings.n(EPOCHS, QUICK_EPOCHS), "ranges": RANGES,
                            "evaluator": "optuna FanovaImportanceEvaluator", "evaluator_seed": EVALUATOR_SEED}}
    best_table = Table("The best trial of each study (lowest dev error)",
                       ["seed", "dev error", "α", "β", "hidden units", "mini-batch", "layers", "decay"],
                       [[str(s), pct(b["dev_error"]), f"{b['learning_rate']:.3g}", f"{1 - b['one_minus_beta']:.4f}",
                         str(b["hidden_units"]), str(2 ** b["log2_batch_size"]), str(b["layers"]),
                         f"{b['decay']:.3g}"] for s, b in zip(seeds, best, strict=True)])
    figures = [_plot_importance(per_seed, mean, seeds, plot_dir), _plot_alpha(runs, seeds, plot_dir)]
    return Section(KEY, TITLE, LESSON, _protocol(settings, seeds), results, tables=[table, best_table],
                   figures=figures, checks=checks)


def _best_trials(runs: dict[int, list[dict]], seeds: list[int]) -> list[dict]:
    best = []
    for s in seeds:
        params = [p for run in runs[s] for p in run["params"]]
        errors = [e for run in runs[s] for e in run["dev_error"]]
        i = int(np.argmin(errors))
        best.append({**params[i], "dev_error": errors[i]})
    return best


def _above(mean: dict[str, float], name: str, others: tuple[str, ...]) -> bool:
    return all(mean[name] > mean[o] for o in others)


def _checks(settings: Settings, seeds: list[int], per_seed: dict[int, dict[str, float]], mean: dict[str, float],
            rank: dict[str, int]) -> list[Check]:
    """α first; α and each of the second tier above both of the third tier (mean importances)."""
    def shown(name: str) -> str:
        return (f"{LABEL[name]} {mean[name]:.3f} (per seed "
                f"{', '.join(f'{per_seed[s][name]:.3f}' for s in seeds)})")

    third = ("layers", "decay")
    bottom = f"layers {mean['layers']:.3f}, decay {mean['decay']:.3f}"
    first_in = sum(max(per_seed[s].items(), key=lambda item: item[1])[0] == "learning_rate" for s in seeds)
    checks = [Check("α is the most important hyperparameter (highest mean fANOVA importance)",
                    "α first", f"{shown('learning_rate')}: rank {rank['learning_rate']} of 6, first in "
                    f"{first_in}/{len(seeds)} studies", trained(settings, rank["learning_rate"] == 1))]
    for name, claim in (("learning_rate", "α ranks above the number of layers and the learning-rate decay"),
                        ("one_minus_beta", "momentum's β ranks above the number of layers and the decay"),
                        ("hidden_units", "the number of hidden units ranks above the number of layers and the decay"),
                        ("log2_batch_size", "the mini-batch size ranks above the number of layers and the decay")):
        checks.append(Check(claim, "then β, hidden units, mini-batch size; then layers, decay",
                            f"{shown(name)} vs {bottom}", trained(settings, _above(mean, name, third))))
    return checks


def _plot_importance(per_seed: dict[int, dict[str, float]], mean: dict[str, float], seeds: list[int],
                     plot_dir: Path) -> Figure:
    """Mean importance per hyperparameter (bars, coloured by the seeds' tier) and each study's (dots)."""
    path, rel = plot_path(plot_dir, "hyperparameter_importance.png")
    fig, ax = plots.subplots(figsize=(7.0, 3.8))
    colours = {1: "tab:red", 2: "tab:orange", 3: "tab:gray"}
    names = list(LABEL)
    for i, name in enumerate(names):
        ax.bar(i, mean[name], color=colours[TIER[name]], alpha=0.8,
               label=f"seeds' tier {TIER[name]}" if name in ("learning_rate", "one_minus_beta", "layers") else None)
        ax.scatter([i] * len(seeds), [per_seed[s][name] for s in seeds], color="black", s=12, zorder=3,
                   label="one study" if i == 0 else None)
    ax.set_xticks(range(len(names)), [LABEL[n].split(" (")[0] for n in names], rotation=20)
    ax.set_ylabel("fANOVA importance (share of variance)")
    ax.set_title("Which hyperparameters explain the dev error")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    plots.save_figure(fig, path)
    return Figure(rel, "Importance of each hyperparameter for the dev error: the mean over the studies (bars, "
                       "coloured by the seeds' priority) and each study (dots).")


def _plot_alpha(runs: dict[int, list[dict]], seeds: list[int], plot_dir: Path) -> Figure:
    """Every trial's dev error against its α, coloured by its mini-batch size."""
    path, rel = plot_path(plot_dir, "hyperparameter_importance_alpha.png")
    params = [p for s in seeds for run in runs[s] for p in run["params"]]
    errors = [e for s in seeds for run in runs[s] for e in run["dev_error"]]
    fig, ax = plots.subplots(figsize=(6.0, 3.8))
    points = ax.scatter([p["learning_rate"] for p in params], 100 * np.asarray(errors),
                        c=[2 ** p["log2_batch_size"] for p in params], cmap="viridis", norm="log", s=10)
    fig.colorbar(points, ax=ax, label="mini-batch size")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("dev error (%)")
    ax.set_title(f"{len(params)} trials of random search")
    ax.grid(True, alpha=0.3)
    plots.save_figure(fig, path)
    return Figure(rel, "Each trial's dev error against its learning rate (colour: mini-batch size): too small an "
                       "α learns little in the budget of epochs, too large an α diverges.")


def _protocol(settings: Settings, seeds: list[int]) -> list[str]:
    trials, epochs = settings.n(TRIALS, QUICK_TRIALS), settings.n(EPOCHS, QUICK_EPOCHS)
    return [f"8×8 digits: the training split (1,438 images, standardized) to train, the held-out split (359) as "
            f"the dev set; one study per fresh seed ({', '.join(map(str, seeds))})",
            f"random search (Optuna RandomSampler seeded per study), {trials} trials per study, each a ReLU/"
            f"softmax network trained {epochs} epochs by momentum gradient descent; ranges: "
            + "; ".join(f"{LABEL[n]} {RANGES[n]}" for n in LABEL),
            f"importance: optuna.importance.get_param_importances with FanovaImportanceEvaluator(seed="
            f"{EVALUATOR_SEED}) per study; the claims use the mean over the studies"]
