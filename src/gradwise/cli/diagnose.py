"""`gradwise diagnose RUN_DIR`: bias/variance verdict of a finished run, the recipe, per-layer health.

Reads the run's metrics (training and dev error), compares them with the human-level error you give,
prints the verdict and concrete next steps for this model, then measures one training batch layer by
layer (activations, dead/saturated units, gradient norms, update/weight ratios) and writes
RUN_DIR/diagnosis.json and RUN_DIR/layers.png. With the run's monitor.json (gradwise train keeps one), the
training doctor's findings come first, root cause first (codes in docs/doctor.md), and
RUN_DIR/training_health.png shows per-layer heat maps over epochs and the cost curves with each onset.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from .. import runs
from .._atomic import write_json
from ..checkpoint import load_checkpoint
from ..diagnose import (
    DEFAULT_THRESHOLD,
    diagnose,
    layer_health,
    noise_threshold,
    plot_layer_health,
    plot_training_health,
)
from ..doctor import run_facts
from ..errors import GradwiseError, ModelFileError
from ..optim import optimizers
from . import _common as common
from .train import saved_settings

EXAMPLE = """examples:
  gradwise diagnose runs/moons
  gradwise diagnose runs/digits --human-error 0.5%
"""

#: the Monitor's heat maps over epochs and the cost curves with each finding's onset
TRAINING_PLOT = "training_health.png"
#: examples of the training split measured by the per-layer health check
HEALTH_BATCH = 256


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "diagnose", help="bias/variance verdict, next steps and per-layer health of a run",
        description="Compare a run's training and dev errors with the human-level (Bayes) error: avoidable "
                    "bias = train − human, variance = dev − train; then suggest the basic recipe's next "
                    "steps and check each layer's activations and gradients on a training batch.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by gradwise train")
    p.add_argument("--human-error", type=common.fraction, default=0.0, metavar="E",
                   help="human-level error, e.g. 0.01 or 1%% (default 0)")
    p.add_argument("--threshold", type=common.fraction, default=None, metavar="T",
                   help="a gap above T is 'high' (default 0.02, i.e. 2 points, raised to two standard "
                        "errors of the dev error for small dev sets)")
    p.add_argument("--no-plot", action="store_true", help="do not write layers.png and training_health.png")
    p.set_defaults(func=run)


def _scores(metrics: dict, part: str, path: Path) -> dict:
    """The scores of one split ("train", "dev") in metrics.json at `path`: an object, empty if missing."""
    scores = metrics.get(part)
    if scores is None:
        return {}
    if not isinstance(scores, dict):
        raise common.GradwiseValueError(f"{str(path)!r}: {part} must be an object of scores, got {scores!r}")
    return scores


def _number(scores: dict, key: str, name: str, path: Path) -> float | None:
    """`scores[key]` as a finite number >= 0, None if missing; `name` is its place in the file `path`."""
    value = scores.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise common.GradwiseValueError(f"{str(path)!r}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _errors(metrics: dict, path: Path) -> tuple[float, float, str]:
    """(train error, dev error, what they are) from the run's metrics.json at `path`."""
    train, dev = _scores(metrics, "train", path), _scores(metrics, "dev", path)
    train_error = _number(train, "error", "train.error", path)
    dev_error = _number(dev, "error", "dev.error", path)
    if train_error is not None and dev_error is not None:
        return train_error, dev_error, "error rates (1 − accuracy)"
    train_rmse, dev_rmse = _number(train, "rmse", "train.rmse", path), _number(dev, "rmse", "dev.rmse", path)
    std = _number(metrics, "target_std", "target_std", path)
    if train_rmse is not None and dev_rmse is not None and std:
        # Regression: RMSE relative to the spread of the targets (√(1 − R²)-like), capped at 1.
        what = "RMSE / standard deviation of the training targets (regression)"
        return min(1.0, train_rmse / std), min(1.0, dev_rmse / std), what
    raise common.GradwiseValueError("metrics.json lacks training and dev errors: was the run finished?")


def _threshold(args: argparse.Namespace, metrics: dict, path: Path, dev_error: float, notes: list[str]) -> float:
    """--threshold, or the default raised to two standard errors of the dev error (noted if raised)."""

    if args.threshold is not None:
        return args.threshold
    m_dev = int(_number(_scores(metrics, "dev", path), "examples", "dev.examples", path) or 0)
    threshold = noise_threshold(dev_error, m_dev) if m_dev else DEFAULT_THRESHOLD
    if threshold > DEFAULT_THRESHOLD:
        notes.append(f"the dev set has only {m_dev} examples: gaps below {100 * threshold:.3g} points "
                     f"(two standard errors) are not called high (set --threshold to override)")
    return threshold


def run(args: argparse.Namespace) -> int:

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise common.GradwiseValueError(
            f"RUN_DIR {str(run_dir)!r} is not a directory written by gradwise train")
    config = runs.read_json(run_dir / runs.CONFIG, "run configuration")
    metrics = runs.read_json(run_dir / runs.METRICS, "run metrics")
    model = common.load_single_model(str(run_dir), "diagnose")
    train_error, dev_error, what = _errors(metrics, run_dir / runs.METRICS)
    settings = saved_settings(config, run_dir / runs.CONFIG, complete=False)
    notes: list[str] = []
    threshold = _threshold(args, metrics, run_dir / runs.METRICS, dev_error, notes)
    monitor = _monitor(run_dir, notes)
    history = runs.read_history(run_dir / runs.HISTORY) if (run_dir / runs.HISTORY).exists() else None
    result = diagnose(train_error, dev_error, args.human_error, model=model, threshold=threshold,
                      training=settings, facts=run_facts(monitor, history, metrics))
    if monitor is not None and not args.no_plot:
        plot_training_health(monitor, history or {}, result.findings, run_dir / TRAINING_PLOT)
    print(f"{run_dir}: errors are {what}")
    print(result)
    result.health = _layer_health(args, run_dir, model, settings, notes)
    for note in notes:
        print(f"note: {note}")
    payload = result.to_dict()
    payload["notes"] = payload["notes"] + notes
    write_json(run_dir / "diagnosis.json", payload)
    return 0


def _monitor(run_dir: Path, notes: list[str]) -> dict | None:
    """monitor.json of the run (per-layer statistics through training), None with a note when absent."""
    path = run_dir / runs.MONITOR
    if not path.exists():
        notes.append("no monitor.json (a run from before gradwise kept one): the doctor sees only the cost "
                     "curves and the scores")
        return None
    return runs.read_json(path, "per-layer statistics")


def _layer_health(args: argparse.Namespace, run_dir: Path, model: Any, settings: dict, notes: list[str]):
    """Per-layer statistics on a training batch of the run's data (None, with a note, without the data)."""

    try:
        ds = common.load_data(settings.get("dataset"), settings.get("data"), settings.get("target"),
                              settings.get("seed", 0))
    except (GradwiseError, OSError) as exc:
        notes.append(f"per-layer health skipped: the run's data cannot be loaded ({exc})")
        return None
    parts = common.training_split(ds, settings.get("seed", 0))
    X = common.check_features(model, parts["X_train"][:HEALTH_BATCH])
    y = parts["y_train"][:HEALTH_BATCH]
    health = layer_health(model, X, y, optimizer=_optimizer(run_dir, settings))
    print(health)
    if not args.no_plot:
        plot_layer_health(health, run_dir / "layers.png")
        print(f"wrote {run_dir / 'layers.png'} and {run_dir / 'diagnosis.json'}")
    return health


def _optimizer(run_dir: Path, settings: dict):
    """The optimizer of the run: its state at the last checkpoint if there is one, else a fresh one."""

    path = run_dir / runs.CHECKPOINT
    if path.exists():
        try:
            tensors, meta = load_checkpoint(path)
            if meta.get("optimizer"):
                opt = optimizers.get(meta["optimizer"]["config"])
                state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith("optimizer.")}
                state["t"] = meta["optimizer"]["t"]
                opt.load_state_dict(state)
                return opt
        except (ModelFileError, KeyError, ValueError):
            pass  # an unreadable checkpoint only costs the optimizer's state
    return optimizers.get(settings.get("optimizer") or "gd", settings.get("learning_rate"))
