"""`gradwise train`: train a network on a built-in data set or a user's file and write a run directory.

The data are split into train/dev(/test) with `gw.split`; the model's `Standardizer` is fit on the
training split only (unless --no-standardize) and applied by the model to every input; the network is
trained and the run written atomically (see `gradwise.runs`). `--checkpoint-every K` keeps a checkpoint
in the run; `--resume` continues a killed run from it and ends with exactly the weights an uninterrupted
run would have.
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradwiseValueError
from . import _common as common

EXAMPLE = """examples:
  gradwise train --dataset moons --layers 20,3 --optimizer adam --epochs 200 --out runs/moons
  gradwise train --data measurements.csv --target label --l2 0.7 --keep-prob 0.86 --early-stopping 20
  gradwise train --dataset digits --epochs 1000 --checkpoint-every 50 --out runs/digits
  gradwise train --out runs/digits --resume            # after a crash: continue from the checkpoint
"""

#: defaults of the training flags; the parser's defaults are None so a resume can tell what was given
DEFAULTS: dict[str, Any] = {
    "layers": [20, 10], "hidden": "relu", "init": "he", "optimizer": "adam", "learning_rate": None,
    "epochs": 100, "batch_size": 64, "l2": 0.0, "l1": 0.0, "keep_prob": 1.0, "batchnorm": False,
    "decay": 0.0, "early_stopping": None, "seed": 0, "standardize": True, "checkpoint_every": None,
}
#: settings that define the run: on --resume they come from config.json and must not be contradicted
RUN_KEYS = tuple(k for k in DEFAULTS if k != "checkpoint_every") + ("dataset", "data", "target")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="train a network and write a run directory",
        description="Train a fully connected network on a built-in data set or your own CSV/NPZ file. "
                    "Writes config.json, history.csv, model.safetensors + model.json, metrics.json and "
                    "plots into the run directory.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_data_flags(p, required=False)
    from ..initializers import NAMES as INITS
    from ..optim.optimizers import OPTIMIZERS

    p.add_argument("--layers", type=common.layer_sizes, metavar="20,10",
                   help="hidden layer sizes, comma-separated (default 20,10; '' for none)")
    p.add_argument("--hidden", choices=("relu", "leaky_relu", "tanh", "sigmoid"),
                   help="hidden activation (default relu)")
    p.add_argument("--init", choices=INITS, help="weight initialization (default he)")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), help="default adam")
    p.add_argument("--learning-rate", type=common.positive, metavar="A",
                   help="α (default: 0.01 for gd/momentum, 0.001 for rmsprop/adam)")
    p.add_argument("--epochs", type=common.positive_int, metavar="N",
                   help="passes over the training set (default 100)")
    p.add_argument("--batch-size", type=common.batch_size, metavar="B",
                   help="mini-batch size, or 'full' for batch gradient descent (default 64)")
    p.add_argument("--l2", type=common.non_negative, metavar="λ", help="L2 regularization λ (default 0)")
    p.add_argument("--l1", type=common.non_negative, metavar="λ", help="L1 regularization λ (default 0)")
    p.add_argument("--keep-prob", type=common.probability, metavar="P",
                   help="dropout keep probability of the hidden layers (default 1: no dropout)")
    p.add_argument("--batchnorm", action="store_const", const=True,
                   help="batch norm before each hidden activation")
    p.add_argument("--decay", type=common.non_negative, metavar="R",
                   help="learning-rate decay α = α0 / (1 + R·epoch) (default 0)")
    p.add_argument("--early-stopping", type=common.non_negative_int, metavar="PATIENCE",
                   help="stop when the dev cost has not improved for PATIENCE epochs; keep the best weights")
    p.add_argument("--seed", type=common.non_negative_int, metavar="S",
                   help="seeds the data, the split, the initialization, shuffling and dropout (default 0)")
    p.add_argument("--no-standardize", dest="standardize", action="store_const", const=False,
                   help="feed the raw inputs (default: standardize with the training split's mean and std)")
    p.add_argument("--out", metavar="RUN_DIR",
                   help="run directory (default: a new runs/<time>-<pid>-<random>)")
    p.add_argument("--checkpoint-every", type=common.positive_int, metavar="K",
                   help="write RUN_DIR/checkpoint.safetensors every K epochs")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (same settings; --epochs "
                        "may grow)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


# ------------------------------------------------------------------------------------- settings
def _given(args: argparse.Namespace) -> dict[str, Any]:
    keys = (*DEFAULTS, "dataset", "data", "target")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _settings(args: argparse.Namespace) -> tuple[dict, dict | None]:
    """(settings, the resumed run's config or None)."""
    given = _given(args)
    if not args.resume:
        if args.dataset is None and args.data is None:
            raise GradwiseValueError("give the data: --dataset NAME or --data FILE.csv|.npz")
        settings = {**DEFAULTS, "dataset": None, "data": None, "target": None, **given}
        if settings["data"] is not None:
            settings["data"] = str(Path(settings["data"]).resolve())
        return settings, None
    if args.out is None:
        raise GradwiseValueError("--resume needs --out RUN_DIR, the run to continue")
    from .. import runs

    runs.claim_run_dir(args.out, resume=True)  # checks there is a checkpoint to resume from
    config = runs.read_json(Path(args.out) / runs.CONFIG, "run configuration")
    saved = config.get("settings")
    if not isinstance(saved, dict):
        raise GradwiseValueError(
            f"{args.out}/config.json has no settings: it was not written by gradwise train")
    if "data" in given:
        given["data"] = str(Path(given["data"]).resolve())
    for key, value in given.items():
        if key in ("epochs", "checkpoint_every"):
            continue
        if saved.get(key) != value:
            flag = "--" + key.replace("_", "-")
            raise GradwiseValueError(
                f"{flag} {value} differs from the run's {key}={saved.get(key)!r} (config.json); --resume "
                f"continues the same run, only --epochs and --checkpoint-every may change")
    settings = {**DEFAULTS, **saved}
    if "epochs" in given:
        if given["epochs"] < saved.get("epochs", 0):
            raise GradwiseValueError(f"--epochs {given['epochs']} is below the run's {saved['epochs']}")
        settings["epochs"] = given["epochs"]
    if "checkpoint_every" in given:
        settings["checkpoint_every"] = given["checkpoint_every"]
    return settings, config


def _data(settings: dict):
    ds = common.load_data(settings["dataset"], settings["data"], settings["target"], settings["seed"])
    digest = common.file_digest(settings["data"]) if settings["data"] else None
    return ds, digest


def build_model(settings: dict, ds: Any):
    from ..model import mlp

    output = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}[ds.task]
    sizes = [ds.n_features, *settings["layers"], ds.n_outputs]
    return mlp(sizes, hidden=settings["hidden"], output=output, init=settings["init"],
               keep_prob=settings["keep_prob"], batchnorm=settings["batchnorm"], l2=settings["l2"],
               l1=settings["l1"], loss="mse" if output == "linear" else None, seed=settings["seed"])


def command_line(settings: dict, run_dir: Path) -> str:
    """The `gradwise train` command that reproduces this run (every setting spelled out)."""
    parts = ["gradwise", "train"]
    parts += ["--dataset", settings["dataset"]] if settings["dataset"] else ["--data", settings["data"]]
    if settings["target"] is not None:
        parts += ["--target", str(settings["target"])]
    for key in DEFAULTS:
        value = settings[key]
        flag = "--" + key.replace("_", "-")
        if key == "batchnorm":
            parts += [flag] if value else []
        elif key == "standardize":
            parts += [] if value else ["--no-standardize"]
        elif value is not None:
            parts += [flag, ",".join(map(str, value)) if key == "layers" else str(value)]
    return " ".join(shlex.quote(p) for p in [*parts, "--out", str(run_dir)])


# ------------------------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    from .. import runs
    from ..callbacks import Callback, Checkpoint, EarlyStopping
    from ..data import Standardizer
    from ..optim import InverseTimeDecay

    settings, resumed = _settings(args)
    ds, digest = _data(settings)
    if resumed is not None and resumed.get("data_sha256") != digest:
        raise GradwiseValueError(f"the data file {settings['data']} changed since the run started; "
                                 f"a resumed run must see the same data")
    parts = common.training_split(ds, settings["seed"])
    model = build_model(settings, ds)
    if settings["standardize"]:
        # The model applies its Standardizer to every input (train, dev, test, predict) and saves it;
        # μ and σ come from the training split only.
        model.standardizer = Standardizer().fit(parts["X_train"])

    run_dir = runs.claim_run_dir(args.out, resume=True) if resumed is not None else (
        runs.claim_run_dir(args.out) if args.out else runs.new_run_dir())
    callbacks: list[Callback] = []
    if settings["early_stopping"] is not None:
        callbacks.append(EarlyStopping(monitor="val_cost", patience=settings["early_stopping"]))
    if settings["checkpoint_every"]:
        callbacks.append(Checkpoint(run_dir / runs.CHECKPOINT, every=settings["checkpoint_every"]))
    config = {
        "command": "train",
        "command_line": command_line(settings, run_dir),
        "settings": settings,
        "data_sha256": digest,
        "task": ds.task,
        "dataset_name": ds.name,
        "sizes": {"train": len(parts["y_train"]), "dev": len(parts["y_dev"]), "test": len(parts["y_test"])},
    }
    runs.write_config(run_dir, config)  # on --resume too: --epochs may have grown
    if not args.quiet:
        action = "resuming" if resumed is not None else "training"
        print(f"{action} {ds.name} ({ds.task}, {ds.n_features} features; train/dev/test "
              f"{len(parts['y_train'])}/{len(parts['y_dev'])}/{len(parts['y_test'])}) -> {run_dir}")
        print(f"  network {ds.n_features},{','.join(map(str, settings['layers'])) or '-'},{ds.n_outputs} "
              f"{settings['hidden']}/{settings['init']}, {settings['optimizer']}, "
              f"{settings['epochs']} epochs")

    batch = None if settings["batch_size"] == "full" else settings["batch_size"]
    start = time.perf_counter()
    history = model.fit(
        parts["X_train"], parts["y_train"], epochs=settings["epochs"], batch_size=batch,
        optimizer=settings["optimizer"], learning_rate=settings["learning_rate"],
        schedule=InverseTimeDecay(settings["decay"]) if settings["decay"] else None,
        validation_data=(parts["X_dev"], parts["y_dev"]), callbacks=callbacks,
        verbose=0 if args.quiet else "auto",
        resume_from=run_dir / runs.CHECKPOINT if resumed is not None else None)
    seconds = time.perf_counter() - start

    if ds.class_names is not None:
        model.classes_ = np.asarray(ds.class_names)
    model.feature_names_in_ = list(ds.feature_names)
    metrics = {
        "train": common.score(model, parts["X_train"], parts["y_train"]),
        "dev": common.score(model, parts["X_dev"], parts["y_dev"]),
        "test": common.score(model, parts["X_test"], parts["y_test"]) or None,
        "task": ds.task,
        "epochs_trained": model.epochs_trained,
        "n_parameters": model.n_parameters,
        "train_seconds": seconds,
    }
    if ds.task == "regression":
        metrics["target_std"] = float(np.std(ds.y_train))
    metadata = {"task": ds.task, "dataset": settings["dataset"], "data": settings["data"],
                "target": settings["target"], "seed": settings["seed"]}
    runs.write_history(run_dir, history)
    runs.write_model(run_dir, model, metadata=metadata)
    runs.plot_cost_curves(history, run_dir / runs.COST_PLOT, title=f"{ds.name}: cost by epoch")
    if ds.n_features == 2 and ds.task != "regression":
        runs.plot_decision_boundary(model, parts["X_train"], parts["y_train"], run_dir / runs.BOUNDARY_PLOT,
                                    title=f"{ds.name}: decision boundary (training set)",
                                    class_names=ds.class_names)
    runs.write_metrics(run_dir, metrics)  # last: marks the run as finished
    if not args.quiet:
        print(f"  {len(history)} epochs in {seconds:.2f}s (epochs trained: {model.epochs_trained})")
        for name in ("train", "dev", "test"):
            if metrics[name]:
                print("  " + common.format_scores(name, metrics[name]))
        print(f"  wrote {run_dir}/ (config.json, history.csv, model.safetensors, model.json, "
              f"metrics.json, plots)")
    return 0
