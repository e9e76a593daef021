"""`gradwise train --ensemble K`: K networks trained on the run's split and saved as one ensemble.

The data, its split and the Standardizer come from `--seed S` as for a single network; member k is the
network `gradwise train --seed S+k` would build (initialization, shuffles and dropout masks from seed S+k),
trained with the same settings and each watching its own dev cost (`--early-stopping`). The run directory
holds the ensemble as its model (`gradwise evaluate`/`predict` take it), `metrics.json` with the ensemble's
scores and each member's (`members`), `history.csv` with one row per member and epoch (columns
`epoch`, `member`, …),
and the cost curves of every member.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import runs
from ..ensemble import Ensemble
from ..errors import TrainingDivergedError
from ..history import History
from ..metrics import confusion_lines, metric_lines
from . import _common as common
from ._common import UsageError

#: flags that follow one network through its training and have no meaning for K of them at once
_REFUSED = (("resume", "--resume (an ensemble run keeps no checkpoint: train it again)"),
            ("checkpoint_every", "--checkpoint-every (one checkpoint file holds one network)"),
            ("tensorboard", "--tensorboard (its event files follow one network; train a member alone to watch "
                            "it)"))


def check_flags(args: argparse.Namespace) -> None:
    """Refuse --ensemble together with flags that follow a single network."""
    for name, what in _REFUSED:
        if getattr(args, name, None):
            raise UsageError(f"--ensemble {args.ensemble} cannot be combined with {what}")


def another_member(first: Any, build: Any, seed: int) -> Any:
    """The network `gradwise train --seed <seed>` builds, with the run's column plan and a copy of its
    Standardizer (fitted on the run's training split)."""
    model = build(seed)
    model.preprocessor = first.preprocessor
    model.standardizer = copy.deepcopy(first.standardizer)
    return model


def workers(k: int) -> int:
    """Processes to train the members in: one per member, at most the CPUs this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(k, cpus))


def train_and_write(ensemble: Ensemble, settings: dict, ds: Any, parts: dict, run_dir: Path, notes: list[str],
                    fit_arguments: dict, quiet: bool) -> int:
    """Train the members, then write the run: history, model, plots, metrics (last). Exit code 0, or 1 when
    a member diverged (the run directory then holds only its config)."""
    n = workers(len(ensemble))
    if not quiet:
        print(f"  ensemble of {len(ensemble)} (seeds {settings['seed']}…{settings['seed'] + len(ensemble) - 1}), "
              f"trained in {n} process(es)")
    start = time.perf_counter()
    try:
        ensemble.fit(parts["X_train"], parts["y_train"], workers=n,
                     **{**fit_arguments, "verbose": 0 if quiet or n > 1 else "auto"})
    except TrainingDivergedError as exc:
        print(f"gradwise train: a member of the ensemble diverged: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    for member in ensemble.members:
        if ds.class_names is not None:
            member.classes_ = np.asarray(ds.class_names)
        member.feature_names_in_ = list(ds.feature_names)
    ensemble.metadata = {"task": ds.task, "dataset": settings["dataset"], "data": settings["data"],
                         "target": settings["target"], "seed": settings["seed"], "ensemble": len(ensemble)}
    metrics = _metrics(ensemble, ds, parts, seconds, notes, settings["seed"])
    _write_history(run_dir, ensemble)
    runs.write_model(run_dir, ensemble)
    _plot(run_dir, ensemble, ds, parts)
    runs.write_metrics(run_dir, metrics)  # last: marks the run as finished
    if not quiet:
        _print_summary(run_dir, ensemble, metrics, seconds)
    return 0


def _metrics(ensemble: Ensemble, ds: Any, parts: dict, seconds: float, notes: list[str], seed: int) -> dict:
    """metrics.json: the ensemble's scores on train, dev and test, then each member's."""
    names = ds.class_names

    def scores(model: Any) -> dict:
        return {split: common.score(model, parts[f"X_{split}"], parts[f"y_{split}"], names) or None
                for split in ("train", "dev", "test")}

    metrics: dict[str, Any] = {**scores(ensemble), "task": ds.task, "ensemble": len(ensemble),
                               "n_parameters": ensemble.n_parameters, "train_seconds": seconds, "warnings": notes}
    metrics["members"] = [{"seed": seed + k, "epochs_trained": m.epochs_trained, **scores(m)}
                          for k, m in enumerate(ensemble.members)]
    if ds.task == "regression":
        metrics["target_std"] = float(np.std(ds.y_train))
    return metrics


def _write_history(run_dir: Path, ensemble: Ensemble) -> None:
    """history.csv: `member`, `epoch` (1-based) and the recorded quantities, one row per member and epoch."""
    merged = History()
    for k, member in enumerate(ensemble.members):
        data = (member.history or History()).to_dict()
        for i, epoch in enumerate(data.pop("epoch", [])):
            merged.append(int(epoch), {"member": float(k), **{key: values[i] for key, values in data.items()}})
    runs.write_history(run_dir, merged)


def _plot(run_dir: Path, ensemble: Ensemble, ds: Any, parts: dict) -> None:
    """Every member's training and dev cost by epoch; the ensemble's decision boundary for 2-D inputs."""
    from .. import plots

    curves = {}
    for k, member in enumerate(ensemble.members):
        history = (member.history or History()).to_dict()
        curves[f"member {k}, training"] = history.get("cost", [])
        if "val_cost" in history:
            curves[f"member {k}, dev"] = history["val_cost"]
    plots.plot_cost_curves(run_dir / runs.COST_PLOT, curves, xlabel="epoch",
                           title=f"{ds.name}: cost by epoch of each of the {len(ensemble)} members")
    if ds.n_features == 2 and ds.task != "regression":
        runs.plot_decision_boundary(ensemble, parts["X_train"], parts["y_train"], run_dir / runs.BOUNDARY_PLOT,
                                    title=f"{ds.name}: the ensemble's decision boundary (training set)",
                                    class_names=ds.class_names)


def _print_summary(run_dir: Path, ensemble: Ensemble, metrics: dict, seconds: float) -> None:
    """The ensemble's scores, one test line per member, and what was written."""
    print(f"  {len(ensemble)} members trained in {seconds:.2f}s")
    for name in ("train", "dev", "test"):
        if metrics[name]:
            print("  " + common.format_scores(name, metrics[name]))
    if metrics["test"]:
        lines = metric_lines(metrics["test"])
        if "confusion_matrix" in metrics["test"]:
            lines += confusion_lines(metrics["test"]["confusion_matrix"], ensemble.classes_)
        print("\n".join("  test   " + line for line in lines))
    for member in metrics["members"]:
        split = "test" if member["test"] else "dev"
        print(f"  member seed {member['seed']}: " + common.format_scores(split, member[split]))
    print(f"  wrote {run_dir}/ (config.json, history.csv, model.safetensors, model.json, metrics.json, plots)")
