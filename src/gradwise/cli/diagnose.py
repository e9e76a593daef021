"""`gradwise diagnose RUN_DIR`: bias/variance verdict of a finished run, the recipe, per-layer health.

Reads the run's metrics (training and dev error), compares them with the human-level error you give,
prints the verdict and concrete next steps for this model, then measures one training batch layer by
layer (activations, dead/saturated units, gradient norms, update/weight ratios) and writes
RUN_DIR/diagnosis.json and RUN_DIR/layers.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import _common as common

EXAMPLE = """examples:
  gradwise diagnose runs/moons
  gradwise diagnose runs/digits --human-error 0.5%
"""

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
    p.add_argument("--no-plot", action="store_true", help="do not write layers.png")
    p.set_defaults(func=run)


def _errors(metrics: dict) -> tuple[float, float, str]:
    """(train error, dev error, what they are) from metrics.json."""
    train, dev = metrics.get("train") or {}, metrics.get("dev") or {}
    if "error" in train and "error" in dev:
        return float(train["error"]), float(dev["error"]), "error rates (1 − accuracy)"
    if "rmse" in train and "rmse" in dev and metrics.get("target_std"):
        # Regression: RMSE relative to the spread of the targets (√(1 − R²)-like), capped at 1.
        std = float(metrics["target_std"])
        what = "RMSE / standard deviation of the training targets (regression)"
        return min(1.0, train["rmse"] / std), min(1.0, dev["rmse"] / std), what
    raise common.GradwiseValueError("metrics.json lacks training and dev errors: was the run finished?")


def run(args: argparse.Namespace) -> int:
    from .. import runs
    from .._atomic import write_json
    from ..diagnose import DEFAULT_THRESHOLD, diagnose, layer_health, noise_threshold, plot_layer_health

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise common.GradwiseValueError(
            f"RUN_DIR {str(run_dir)!r} is not a directory written by gradwise train")
    config = runs.read_json(run_dir / runs.CONFIG, "run configuration")
    metrics = runs.read_json(run_dir / runs.METRICS, "run metrics")
    model = common.load_model(str(run_dir))
    train_error, dev_error, what = _errors(metrics)
    settings = dict(config.get("settings") or {})
    notes = []
    if args.threshold is not None:
        threshold = args.threshold
    else:
        m_dev = int((metrics.get("dev") or {}).get("examples") or 0)
        threshold = noise_threshold(dev_error, m_dev) if m_dev else DEFAULT_THRESHOLD
        if threshold > DEFAULT_THRESHOLD:
            notes.append(f"the dev set has only {m_dev} examples: gaps below {100 * threshold:.3g} points "
                         f"(two standard errors) are not called high (set --threshold to override)")
    result = diagnose(train_error, dev_error, args.human_error, model=model, threshold=threshold,
                      training=settings)
    print(f"{run_dir}: errors are {what}")
    print(result)

    try:
        ds = common.load_data(settings.get("dataset"), settings.get("data"), settings.get("target"),
                              settings.get("seed", 0))
    except (common.GradwiseValueError, OSError) as exc:
        ds = None
        notes.append(f"per-layer health skipped: the run's data cannot be loaded ({exc})")
    if ds is not None:
        parts = common.training_split(ds, settings.get("seed", 0))
        X = common.check_features(model, parts["X_train"][:HEALTH_BATCH])
        y = parts["y_train"][:HEALTH_BATCH]
        health = layer_health(model, X, y, optimizer=_optimizer(run_dir, settings))
        result.health = health
        print(health)
        if not args.no_plot:
            plot_layer_health(health, run_dir / "layers.png")
            print(f"wrote {run_dir / 'layers.png'} and {run_dir / 'diagnosis.json'}")
    for note in notes:
        print(f"note: {note}")
    payload = result.to_dict()
    payload["notes"] = payload["notes"] + notes
    write_json(run_dir / "diagnosis.json", payload)
    return 0


def _optimizer(run_dir: Path, settings: dict):
    """The optimizer of the run: its state at the last checkpoint if there is one, else a fresh one."""
    from .. import runs
    from ..checkpoint import load_checkpoint
    from ..errors import ModelFileError
    from ..optim import optimizers

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
