"""`gradwise train`: train a network on a built-in data set or a user's file and write a run directory.

The data are split into train/dev(/test) with `gw.split`; the model's `Standardizer` is fit on the
training split only (unless --no-standardize) and applied by the model to every input; the network is
trained and the run written atomically (see `gradwise.runs`). `--checkpoint-every K` keeps a checkpoint
in the run; `--resume` continues a killed run from it and ends with exactly the weights an uninterrupted
run would have. SIGTERM or Ctrl-C finishes the optimizer step in progress, writes the checkpoint (with the
position inside the epoch) and exits with code 75 (`gradwise.preemption`); `--resume` continues from there.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import runs
from .._atomic import write_json
from ..callbacks import Callback, Checkpoint, EarlyStopping
from ..data import Dataset, Standardizer, load_table
from ..data.columns import numeric_standardizer
from ..data.tables import release_memory
from ..doctor import examine, json_safe, run_facts
from ..ensemble import Ensemble
from ..errors import GradwiseValueError, TrainingDivergedError
from ..history import History
from ..initializers import NAMES as INITS
from ..metrics import confusion_lines, metric_lines
from ..model import mlp
from ..monitor import Monitor
from ..optim.optimizers import OPTIMIZERS
from ..preemption import PREEMPTED_EXIT_CODE, Preemption, stop_on_signals
from . import _common as common
from . import _controls as controls
from . import _ensemble as ensemble_run
from ._common import UsageError

EXAMPLE = """examples:
  gradwise train --dataset moons --layers 20,3 --optimizer adam --epochs 200 --out runs/moons
  gradwise train --data measurements.csv --target label --l2 0.7 --keep-prob 0.86 --early-stopping 20
  gradwise train --dataset digits --epochs 1000 --checkpoint-every 50 --out runs/digits
  gradwise train --out runs/digits --resume            # after a crash: continue from the checkpoint
  gradwise train --dataset moons --ensemble 5 --out runs/moons-ensemble   # 5 networks, averaged

SIGTERM or Ctrl-C: the optimizer step in progress finishes, RUN_DIR/checkpoint.safetensors is written (with
the position inside the epoch) and train exits with code 75; --resume then ends with exactly the weights of
an uninterrupted run.
"""

#: defaults of the training flags; the parser's defaults are None so a resume can tell what was given
DEFAULTS: dict[str, Any] = {
    "layers": [20, 10], "hidden": "relu", "init": "he", "optimizer": "adam", "learning_rate": None,
    "epochs": 100, "batch_size": 64, "l2": 0.0, "l1": 0.0, "keep_prob": 1.0, "batchnorm": False,
    "decay": 0.0, "early_stopping": None, "seed": 0, "standardize": True, "checkpoint_every": None,
    "dtype": "float64", "class_weight": None, **controls.DEFAULTS,
}
#: a table (--data .csv/.tsv/.parquet) without --epochs or --early-stopping: train up to TABLE_EPOCHS
#: epochs and stop when the dev cost has not improved for TABLE_PATIENCE, keeping the best weights — a
#: network that generalizes without tuning; --epochs N alone still means exactly N epochs
TABLE_EPOCHS = 300
TABLE_PATIENCE = 30
#: a table without --layers: one hidden layer of 100 ReLU units (scikit-learn's MLP default). Chosen by
#: 5-fold cross-validation on the non-test rows of the four tables of benchmarks/tables.py against 20,10,
#: 64,32 and variations of epochs, patience and batch size (protocol: benchmarks/table_defaults_cv.py;
#: numbers: benchmarks/TABLE_DEFAULTS.md): 100 scored best or within one row of the best on each table,
#: and 20,10 lost 0.027 of ROC AUC on the seattle weather's five imbalanced classes
TABLE_LAYERS = [100]
#: settings that define the run: on --resume they come from config.json and must not be contradicted
RUN_KEYS = tuple(k for k in DEFAULTS if k != "checkpoint_every") + ("dataset", "data", "target")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="train a network and write a run directory",
        description="Train a fully connected network on a built-in data set or your own CSV/NPZ file. "
                    "Writes config.json, history.csv, model.safetensors + model.json, metrics.json, "
                    "monitor.json (per-layer statistics at the first and last epoch and as often between as 1% "
                    "of the training time allows, for gradwise diagnose) and plots into the "
                    "run directory. A run that diverges keeps its directory (the last finite weights) and "
                    "exits 1.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_data_flags(p, required=False)

    p.add_argument("--layers", type=common.layer_sizes, metavar="20,10",
                   help="hidden layer sizes, comma-separated (default 20,10, or 100 for a table; '' for none)")
    p.add_argument("--hidden", choices=("relu", "leaky_relu", "tanh", "sigmoid"),
                   help="hidden activation (default relu)")
    p.add_argument("--init", choices=INITS, help="weight initialization (default he)")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), help="default adam")
    p.add_argument("--learning-rate", type=common.positive, metavar="A",
                   help="α (default: 0.01 for gd/momentum, 0.001 for rmsprop/adam)")
    p.add_argument("--epochs", type=common.positive_int, metavar="N",
                   help="passes over the training set (default 100; a table: up to 300, stopping early after 30 "
                        "epochs without a better dev cost)")
    p.add_argument("--batch-size", type=common.batch_size, metavar="B",
                   help="mini-batch size, or 'full' for batch gradient descent (default 64)")
    p.add_argument("--l2", type=common.non_negative, metavar="λ", help="L2 regularization λ (default 0)")
    p.add_argument("--l1", type=common.non_negative, metavar="λ", help="L1 regularization λ (default 0)")
    p.add_argument("--keep-prob", type=common.probability, metavar="P",
                   help="dropout keep probability of the hidden layers (default 1: no dropout)")
    p.add_argument("--batchnorm", action="store_const", const=True,
                   help="batch norm before each hidden activation")
    p.add_argument("--decay", type=common.non_negative, metavar="R",
                   help="learning-rate decay α = α0 / (1 + R·epoch), the inverse-time schedule (default 0)")
    controls.add_flags(p)
    p.add_argument("--early-stopping", type=common.non_negative_int, metavar="PATIENCE",
                   help="stop when the dev cost has not improved for PATIENCE epochs; keep the best weights")
    p.add_argument("--seed", type=common.non_negative_int, metavar="S",
                   help="seeds the data, the split, the initialization, shuffling and dropout (default 0)")
    p.add_argument("--no-standardize", dest="standardize", action="store_const", const=False,
                   help="feed the raw inputs (default: standardize with the training split's mean and std)")
    p.add_argument("--class-weight", choices=("balanced",),
                   help="weigh each class's examples m/(K·count) in the cost, for imbalanced classes "
                        "(default: every example weighs 1)")
    p.add_argument("--dtype", choices=("float64", "float32"),
                   help="precision of the network and its inputs (default float64; float32 halves the memory)")
    p.add_argument("--out", metavar="RUN_DIR",
                   help="run directory (default: a new runs/<time>-<pid>-<random>)")
    p.add_argument("--checkpoint-every", type=common.positive_int, metavar="K",
                   help="write RUN_DIR/checkpoint.safetensors every K epochs")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (same settings; --epochs "
                        "may grow)")
    p.add_argument("--tensorboard", action="store_true",
                   help="write TensorBoard event files (per-epoch scalars, per-layer weight and gradient "
                        "histograms) under RUN_DIR/tensorboard/; needs the tensorboard extra")
    p.add_argument("--ensemble", type=common.positive_int, metavar="K",
                   help="train K networks and save them as one ensemble that averages their probabilities: "
                        "member k is the network of --seed S+k (initialization, shuffles, dropout), all on the "
                        "split of --seed S; metrics.json scores the ensemble and each member")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


# ------------------------------------------------------------------------------------- settings
def _given(args: argparse.Namespace) -> dict[str, Any]:
    keys = (*DEFAULTS, "dataset", "data", "target")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _is_int(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_real(low: float, high: float = math.inf, *, low_open: bool = False) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                and (v > low if low_open else v >= low) and v <= high)
    return check


def _or_none(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _is_text(v: Any) -> bool:
    return isinstance(v, str)


def _is_flag(v: Any) -> bool:
    return isinstance(v, bool)


#: what each saved setting must be (what `gradwise train` writes into config.json), and how to say so
SETTING_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "layers": (lambda v: isinstance(v, list) and all(map(_is_int(1), v)), "a list of integers >= 1"),
    "hidden": (_is_text, "a name"),
    "init": (_is_text, "a name"),
    "optimizer": (_is_text, "a name"),
    "learning_rate": (_or_none(_is_real(0, low_open=True)), "null or a number > 0"),
    "epochs": (_is_int(1), "an integer >= 1"),
    "batch_size": (lambda v: v == "full" or _is_int(1)(v), "'full' or an integer >= 1"),
    "l2": (_is_real(0), "a number >= 0"),
    "l1": (_is_real(0), "a number >= 0"),
    "keep_prob": (_is_real(0, 1, low_open=True), "a number in (0, 1]"),
    "batchnorm": (_is_flag, "true or false"),
    "decay": (_is_real(0), "a number >= 0"),
    "early_stopping": (_or_none(_is_int(0)), "null or an integer >= 0"),
    "seed": (_is_int(0), "an integer >= 0"),
    "standardize": (_is_flag, "true or false"),
    "checkpoint_every": (_or_none(_is_int(1)), "null or an integer >= 1"),
    "dataset": (_or_none(_is_text), "null or a data set name"),
    "data": (_or_none(_is_text), "null or a file path"),
    "target": (_or_none(_is_text), "null or a column"),
    "schedule": (_or_none(lambda v: v in controls.SCHEDULE_NAMES), f"null or one of {controls.SCHEDULE_NAMES}"),
    "decay_factor": (_or_none(_is_real(0, 1, low_open=True)), "null or a number in (0, 1]"),
    "step_size": (_or_none(_is_int(1)), "null or an integer >= 1"),
    "warmup_epochs": (_or_none(_is_int(0)), "null or an integer >= 0"),
    "min_lr": (_or_none(_is_real(0)), "null or a number >= 0"),
    "max_lr": (_or_none(_is_real(0, low_open=True)), "null or a number > 0"),
    "clip_norm": (_or_none(_is_real(0, low_open=True)), "null or a number > 0"),
    "ensemble": (_or_none(_is_int(1)), "null or an integer >= 1"),
}
#: settings a run may lack (written only by the runs that use them)
OPTIONAL_SETTINGS = ("ensemble",)


def saved_settings(config: dict, path: Path, *, complete: bool) -> dict[str, Any]:
    """The `settings` of a run's config.json, checked against `SETTING_RULES`.

    Parameters
    ----------
    config : dict
        The run's config.json, as `runs.read_json` returns it.
    path : Path
        The file it came from (named in the errors).
    complete : bool
        True: every setting of a run must be there (to continue it); False: missing ones are allowed
        (an empty dict if there are no settings at all).

    Raises
    ------
    GradwiseValueError
        If the settings are not a JSON object, lack a setting (`complete`), or hold a value of the wrong
        kind: the file was not written by `gradwise train`, or was edited by hand.
    """
    settings = config.get("settings")
    if settings is None and not complete:
        return {}
    if not isinstance(settings, dict):
        raise GradwiseValueError(f"{str(path)!r} has no settings object: it was not written by gradwise train")
    missing = [key for key in SETTING_RULES
               if key not in settings and key not in controls.DEFAULTS and key not in OPTIONAL_SETTINGS]
    if complete and missing:
        raise GradwiseValueError(f"{str(path)!r} lacks the setting(s) {missing}: it was not written by "
                                 f"gradwise train")
    for key, value in settings.items():
        check, what = SETTING_RULES.get(key, (None, ""))
        if check is not None and not check(value):
            raise GradwiseValueError(f"{str(path)!r}: setting {key} must be {what}, got {value!r} "
                                     f"(was the file edited by hand?)")
    return dict(settings)


def _settings(args: argparse.Namespace) -> tuple[dict, dict | None]:
    """(settings, the resumed run's config or None)."""
    given = _given(args)
    if not args.resume:
        if args.dataset is None and args.data is None:
            raise UsageError("give the data: --dataset NAME or --data FILE.csv|.npz")
        settings = {**DEFAULTS, "dataset": None, "data": None, "target": None, **given}
        if settings["data"] is not None:
            settings["data"] = str(Path(settings["data"]).resolve())
        if common.is_table(settings["data"]):
            _table_defaults(settings, given)
        return settings, None
    if args.out is None:
        raise UsageError("--resume needs --out RUN_DIR, the run to continue")

    runs.claim_run_dir(args.out, resume=True)  # checks there is a checkpoint to resume from
    path = Path(args.out) / runs.CONFIG
    config = runs.read_json(path, "run configuration")
    saved = saved_settings(config, path, complete=True)
    if "data" in given:
        given["data"] = str(Path(given["data"]).resolve())
    return _resumed_settings(saved, given), config


def _table_defaults(settings: dict, given: dict) -> None:
    """A table's defaults where no flag says otherwise: TABLE_LAYERS, and TABLE_EPOCHS with early stopping
    after TABLE_PATIENCE (unless --epochs or --early-stopping is given)."""
    if "layers" not in given:
        settings["layers"] = list(TABLE_LAYERS)
    if "epochs" not in given and "early_stopping" not in given:
        settings["epochs"], settings["early_stopping"] = TABLE_EPOCHS, TABLE_PATIENCE


def _resumed_settings(saved: dict, given: dict) -> dict:
    """The run's saved settings; of the flags given, only --epochs (growing) and --checkpoint-every apply."""
    for key, value in given.items():
        if key in ("epochs", "checkpoint_every"):
            continue
        if saved.get(key, DEFAULTS.get(key)) != value:
            flag = "--" + key.replace("_", "-")
            raise UsageError(
                f"{flag} {value} differs from the run's {key}={saved[key]!r} (config.json); --resume "
                f"continues the same run, only --epochs and --checkpoint-every may change")
    settings = {**DEFAULTS, **saved}
    if "epochs" in given:
        if given["epochs"] < saved["epochs"]:
            raise UsageError(f"--epochs {given['epochs']} is below the run's {saved['epochs']}")
        settings["epochs"] = given["epochs"]
    if "checkpoint_every" in given:
        settings["checkpoint_every"] = given["checkpoint_every"]
    return settings


def _data(settings: dict):
    """(data set, sha256 of the file, train/dev/test arrays, column plan or None, DataWarnings): everything is
    read, typed and split before the run directory is created, so bad data leaves nothing behind."""
    if not common.is_table(settings["data"]):
        ds = common.load_data(settings["dataset"], settings["data"], settings["target"], settings["seed"])
        parts = common.training_split(ds, settings["seed"])
        plan, notes = None, []
    else:

        common.check_data_suffix(settings["data"])
        table = load_table(settings["data"], target=common.target_arg(settings["target"]))
        parts, plan, notes = common.table_parts(table, settings["seed"], settings["dtype"])
        ds = Dataset(X_train=parts["X_train"], y_train=parts["y_train"], X_test=parts["X_test"],
                     y_test=parts["y_test"], name=table.name, task=table.task, n_classes=table.n_classes,
                     feature_names=tuple(plan.get_feature_names_out()), class_names=table.class_names,
                     description=f"{table.source} (target {table.target!r})")
        del table  # the frame: only the encoded matrix is needed from here on
        release_memory()
    digest = common.file_digest(settings["data"]) if settings["data"] else None
    return ds, digest, parts, plan, notes


def build_model(settings: dict, ds: Any):

    output = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}[ds.task]
    sizes = [ds.n_features, *settings["layers"], ds.n_outputs]
    return mlp(sizes, hidden=settings["hidden"], output=output, init=settings["init"],
               keep_prob=settings["keep_prob"], batchnorm=settings["batchnorm"], l2=settings["l2"],
               l1=settings["l1"], loss="mse" if output == "linear" else None, seed=settings["seed"],
               dtype=settings.get("dtype", "float64"))


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
    if settings.get("ensemble"):
        parts += ["--ensemble", str(settings["ensemble"])]
    return " ".join(shlex.quote(p) for p in [*parts, "--out", str(run_dir)])


# ------------------------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    """Train as the flags say (or continue a run) and write the run directory."""

    if args.ensemble is not None:
        return _run_ensemble(args)
    settings, resumed = _settings(args)
    ds, digest, parts, model, notes = prepare(settings, resumed)
    run_dir = runs.claim_run_dir(args.out, resume=True) if resumed is not None else (
        runs.claim_run_dir(args.out) if args.out else runs.new_run_dir())
    try:  # the run is this process's until it is written (another --resume of it is refused meanwhile)
        return _train_into(run_dir, args, settings, resumed, ds, digest, parts, model, notes)
    finally:
        runs.release_run_dir(run_dir)


def _train_into(run_dir: Path, args: argparse.Namespace, settings: dict, resumed: dict | None, ds: Any,
                digest: str | None, parts: dict, model: Any, notes: list[str]) -> int:
    """Train into the claimed `run_dir` and write the run; the exit code."""
    # written on --resume too: --epochs may have grown
    runs.write_config(run_dir, _config(settings, run_dir, ds, digest, parts))
    if not args.quiet:
        _print_start(settings, ds, parts, run_dir, resumed is not None)
    start = time.perf_counter()
    monitor = Monitor()
    preemption = Preemption(run_dir / runs.CHECKPOINT)
    with stop_on_signals(preemption, "gradwise train"):  # a checkpoint after the step in progress, exit 75
        diverged = _fit_or_diverge(model, settings, parts, run_dir, resumed is not None, args.quiet,
                                   monitor, preemption, args.tensorboard)
    if preemption.preempted_at is not None:
        return _preempted(run_dir, preemption.preempted_at, preemption.preempted_step)
    history = model.history or History()
    seconds = time.perf_counter() - start
    if ds.class_names is not None:
        model.classes_ = np.asarray(ds.class_names)
    model.feature_names_in_ = list(ds.feature_names)
    in_place = _in_place(settings)
    metrics = _metrics(model, ds, parts, seconds, notes, in_place)
    metrics["diverged"] = diverged is not None
    write_json(run_dir / runs.MONITOR, json_safe(monitor.to_dict()))
    _write_results(run_dir, model, history, metrics, settings, ds, parts, in_place)
    if diverged is not None:
        print(f"gradwise train: {diverged} The run directory {run_dir} holds the history to the divergence "
              f"and those weights: see gradwise diagnose {run_dir}", file=sys.stderr)
        return 1
    if not args.quiet:
        _print_summary(run_dir, model, history, metrics, seconds)
        _print_hint(run_dir, monitor, history, metrics)
    return 0


def _run_ensemble(args: argparse.Namespace) -> int:
    """`--ensemble K`: K members on the split of --seed S, member k built as --seed S+k builds it."""
    ensemble_run.check_flags(args)
    settings, _ = _settings(args)
    settings["ensemble"] = args.ensemble
    ds, digest, parts, first, notes = prepare(settings, None)
    members = [first, *(ensemble_run.another_member(first, lambda s: build_model({**settings, "seed": s}, ds),
                                                    settings["seed"] + k) for k in range(1, args.ensemble))]
    run_dir = runs.claim_run_dir(args.out) if args.out else runs.new_run_dir()
    runs.write_config(run_dir, _config(settings, run_dir, ds, digest, parts))
    if not args.quiet:
        _print_start(settings, ds, parts, run_dir, False)
    callbacks: list[Callback] = []
    if settings["early_stopping"] is not None:  # each member watches its own dev cost
        callbacks.append(EarlyStopping(monitor="val_cost", patience=settings["early_stopping"]))
    return ensemble_run.train_and_write(Ensemble(members), settings, ds, parts, run_dir, notes,
                                        {**_fit_arguments(settings, parts), "callbacks": callbacks}, args.quiet)


def _fit_or_diverge(model: Any, settings: dict, parts: dict, run_dir: Path, resuming: bool, quiet: bool,
                    monitor: Monitor, preemption: Preemption, tensorboard: bool) -> TrainingDivergedError | None:
    """Train with the Monitor; a divergence is returned (the model holds the last finite weights), not raised,
    so the run directory is still written and can be diagnosed."""
    try:
        _fit(model, settings, parts, run_dir, resuming, quiet, preemption, tensorboard, monitor)
    except TrainingDivergedError as exc:
        return exc
    return None


def _print_hint(run_dir: Path, monitor: Monitor, history: Any, metrics: dict) -> None:
    """One line naming the doctor's first finding, if it has one."""
    found = examine(run_facts(monitor.to_dict(), history.to_dict(), metrics))
    if found:
        first = found[0]
        since = f" since epoch {first.epoch}" if first.epoch else ""
        print(f"  diagnose: {first.code.replace('_', ' ')}{since} — see gradwise diagnose {run_dir}")


def prepare(settings: dict, resumed: dict | None):
    """(data set, its file's digest, the train/dev/test arrays, the untrained model, DataWarnings)."""

    ds, digest, parts, plan, notes = _data(settings)
    if resumed is not None and resumed.get("data_sha256") != digest:
        raise GradwiseValueError(f"the data file {settings['data']} changed since the run started; "
                                 f"a resumed run must see the same data")
    model = build_model(settings, ds)
    _schedule(settings, parts)  # a bad schedule setting fails before the run directory exists
    common.print_warnings("train", notes)
    if plan is not None:
        model.preprocessor = plan  # raw rows (DataFrames) are typed by the plan fitted on the training rows
    if plan is not None and settings["standardize"]:

        model.standardizer = numeric_standardizer(plan, parts["X_train"])  # numeric columns only
    elif settings["standardize"]:
        # The model applies its Standardizer to every input (train, dev, test, predict) and saves it;
        # μ and σ come from the training split only.
        model.standardizer = Standardizer().fit(parts["X_train"])
    return ds, digest, parts, model, notes


def _config(settings: dict, run_dir: Path, ds: Any, digest: str | None, parts: dict) -> dict:
    """config.json: the settings, the command that reproduces them, the data and its split sizes."""
    return {
        "command": "train",
        "command_line": command_line(settings, run_dir),
        "settings": settings,
        "data_sha256": digest,
        "task": ds.task,
        "dataset_name": ds.name,
        "sizes": {"train": len(parts["y_train"]), "dev": len(parts["y_dev"]), "test": len(parts["y_test"])},
    }


def _print_start(settings: dict, ds: Any, parts: dict, run_dir: Path, resuming: bool) -> None:
    """Two lines: the data and its split, the network and how it is trained."""
    action = "resuming" if resuming else "training"
    print(f"{action} {ds.name} ({ds.task}, {ds.n_features} features; train/dev/test "
          f"{len(parts['y_train'])}/{len(parts['y_dev'])}/{len(parts['y_test'])}) -> {run_dir}")
    print(f"  network {ds.n_features},{','.join(map(str, settings['layers'])) or '-'},{ds.n_outputs} "
          f"{settings['hidden']}/{settings['init']}, {settings['optimizer']}, "
          f"{settings['epochs']} epochs")


def _fit(model: Any, settings: dict, parts: dict, run_dir: Path, resuming: bool, quiet: bool,
         preemption: Preemption, tensorboard: bool = False, monitor: Monitor | None = None):
    """Train on the training split, watching the dev split; returns the History."""

    callbacks: list[Callback] = [monitor] if monitor is not None else []
    if settings["early_stopping"] is not None:
        callbacks.append(EarlyStopping(monitor="val_cost", patience=settings["early_stopping"]))
    if settings["checkpoint_every"]:
        callbacks.append(Checkpoint(run_dir / runs.CHECKPOINT, every=settings["checkpoint_every"]))
    callbacks += runs.tracking_callbacks(run_dir, tensorboard=tensorboard)
    callbacks.append(preemption)  # after the Checkpoint: it writes last, with the run not yet stopped
    return model.fit(parts["X_train"], parts["y_train"], callbacks=callbacks, verbose=0 if quiet else "auto",
                     resume_from=run_dir / runs.CHECKPOINT if resuming else None, copy_X=not _in_place(settings),
                     **_fit_arguments(settings, parts))


def _fit_arguments(settings: dict, parts: dict) -> dict[str, Any]:
    """fit's arguments that the settings define (the same for a single network and each ensemble member)."""
    return {"epochs": settings["epochs"],
            "batch_size": None if settings["batch_size"] == "full" else settings["batch_size"],
            "optimizer": controls.optimizer_of(settings), "learning_rate": settings["learning_rate"],
            "schedule": _schedule(settings, parts), "validation_data": (parts["X_dev"], parts["y_dev"]),
            "class_weight": settings.get("class_weight")}


def _in_place(settings: dict) -> bool:
    """True for a table: its encoded matrix is this command's own, so `fit` standardizes the train and dev
    rows in place (copy_X=False) rather than holding a standardized copy of them (253 MB for 1M rows × 79
    float32 columns); afterwards those rows are scored through `_standardized_already`. A single network
    only: the members of --ensemble K each fit on the same arrays, so they keep copying."""
    return common.is_table(settings["data"])


@contextlib.contextmanager
def _standardized_already(model: Any, in_place: bool):
    """While scoring rows `fit` standardized in place: the model's Standardizer set aside (it has been
    applied, element by element as it would be again, so the scores are those of the raw rows)."""
    saved = model.standardizer
    if in_place:
        model.standardizer = None
    try:
        yield
    finally:
        model.standardizer = saved


def _schedule(settings: dict, parts: dict):
    """The schedule of --schedule/--decay; step-wise ones count the mini-batches of the training split."""
    m, size = parts["X_train"].shape[0], settings["batch_size"]
    steps = 1 if size == "full" else -(-m // min(size, m))
    return controls.schedule_of(settings, steps)


def _preempted(run_dir: Path, epochs: int, steps: int | None) -> int:
    """One line on stderr saying where the state is and how to continue; the preemption exit code."""
    where = f"epoch {epochs}" if steps is None else f"step {steps} of epoch {epochs + 1}"
    print(f"gradwise train: stopped after {where}; checkpoint written to "
          f"{run_dir / runs.CHECKPOINT}; continue with: gradwise train --out {shlex.quote(str(run_dir))} "
          f"--resume", file=sys.stderr)
    return PREEMPTED_EXIT_CODE


def _metrics(model: Any, ds: Any, parts: dict, seconds: float, notes: list[str], in_place: bool = False) -> dict:
    """metrics.json: the scores on train, dev and test, what the training cost, and the data's warnings."""
    names = ds.class_names
    with _standardized_already(model, in_place):  # train and dev only: fit never saw the test rows
        train = common.score(model, parts["X_train"], parts["y_train"], names)
        dev = common.score(model, parts["X_dev"], parts["y_dev"], names)
    metrics = {
        "train": train,
        "dev": dev,
        "test": common.score(model, parts["X_test"], parts["y_test"], names) or None,
        "task": ds.task,
        "epochs_trained": model.epochs_trained,
        "n_parameters": model.n_parameters,
        "train_seconds": seconds,
        "warnings": notes,
    }
    if ds.task == "regression":
        metrics["target_std"] = float(np.std(ds.y_train))
    return metrics


def _write_results(run_dir: Path, model: Any, history: Any, metrics: dict, settings: dict, ds: Any,
                   parts: dict, in_place: bool = False) -> None:
    """history.csv, the model, the plots, and metrics.json last (it marks the run as finished)."""

    metadata = {"task": ds.task, "dataset": settings["dataset"], "data": settings["data"],
                "target": settings["target"], "seed": settings["seed"]}
    runs.write_history(run_dir, history)
    runs.write_model(run_dir, model, metadata=metadata)
    runs.plot_cost_curves(history, run_dir / runs.COST_PLOT, title=f"{ds.name}: cost by epoch")
    if ds.n_features == 2 and ds.task != "regression":
        X_train = parts["X_train"]  # drawn in the raw units the model takes
        if in_place and model.standardizer is not None:
            X_train = model.standardizer.inverse_transform(X_train)
        runs.plot_decision_boundary(model, X_train, parts["y_train"], run_dir / runs.BOUNDARY_PLOT,
                                    title=f"{ds.name}: decision boundary (training set)",
                                    class_names=ds.class_names)
    runs.write_metrics(run_dir, metrics)  # last: marks the run as finished


def _print_summary(run_dir: Path, model: Any, history: Any, metrics: dict, seconds: float) -> None:
    """How long it took, the scores, and what was written."""
    print(f"  {len(history)} epochs in {seconds:.2f}s (epochs trained: {model.epochs_trained})")
    for name in ("train", "dev", "test"):
        if metrics[name]:
            print("  " + common.format_scores(name, metrics[name]))
    if metrics["test"]:  # the test set's table metrics: per-class scores and the confusion matrix too
        lines = metric_lines(metrics["test"])
        if "confusion_matrix" in metrics["test"]:
            lines += confusion_lines(metrics["test"]["confusion_matrix"], model.classes_)
        print("\n".join("  test   " + line for line in lines))
    print(f"  wrote {run_dir}/ (config.json, history.csv, model.safetensors, model.json, "
          f"metrics.json, monitor.json, plots)")
