"""`gradwise tune`: random search on the right scales, coarse to fine, on an Optuna study.

The study lives in a SQLite file in the output directory (a killed study resumes when the same command is
run again), in a journal file when `--workers K` processes share it, or in any Optuna storage URL
(`--storage postgresql://…`) when several machines do. The best configuration is retrained, saved as a
run directory (`OUT/best`) and evaluated once on the test set. `--metric NAME` chooses what the study
optimizes on dev; a table (`--data FILE.csv|.tsv|.parquet`) has its column plan fitted on the training split
and saved with `OUT/best`, so `gradwise predict --model OUT/best` takes raw rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import GradwiseValueError
from ..tuning import SearchSpace, tune
from ..tuning.objective import TUNE_METRICS
from ..tuning.space import parse_dimension
from . import _common as common
from .lrfind import range_test

EXAMPLE = """examples:
  gradwise tune --dataset moons --trials 30 --epochs 50 --out tune/moons
  gradwise tune --dataset mnist1d --trials 40 --learning-rate 1e-3:1e-1 --batchnorm true --shift 0:6
  gradwise tune --data mine.csv --target label --space space.toml --sampler tpe --workers 2
  gradwise tune --data penguins.csv --target species --metric balanced_accuracy --class-weight balanced
  gradwise tune --dataset digits --storage postgresql://me:pw@db.lan/tuning --study digits   # each machine

ranges (flags and the [space] table of --space FILE.toml):
  LOW:HIGH          a range on the hyperparameter's own scale: log for --learning-rate, --hidden-units,
                    --l2, --decay; 1-x log for --beta1/--beta2 (0.9:0.999); powers of two for
                    --batch-size (32:512); linear otherwise
  LOW:HIGH:SCALE    with scale linear, log, one_minus_log or pow2
  0|LOW:HIGH        0, or a value in the range (e.g. --l2 0|1e-4:1)
  a,b,c             choices (e.g. --optimizer adam,momentum)
  VALUE             fixed (e.g. --batchnorm true, --epochs 60)
"""

#: command-line flag → hyperparameter
RANGE_FLAGS = {
    "learning_rate": "α (default 1e-4:1e-1, log)",
    "beta1": "β of momentum / Adam's β1 (default 0.9:0.999, sampled as 1-β on a log scale)",
    "beta2": "Adam's β2 / RMSprop's β (default 0.999)",
    "batch_size": "mini-batch size (default 32:512, powers of two)",
    "hidden_units": "units per hidden layer (default 16:512, log)",
    "layers": "number of hidden layers (default 1:3)",
    "decay": "learning-rate decay α0/(1+rate·epoch) (default 0|1e-3:1)",
    "keep_prob": "dropout keep_prob (default 0.5:1)",
    "l2": "L2 λ (default 0|1e-4:1)",
    "batchnorm": "batch norm (default false)",
    "optimizer": "gd, momentum, rmsprop, adam (default adam)",
    "shift": "augmentation: random shift of 1-D signals, in samples (default 0)",
    "noise": "augmentation: Gaussian noise std (default 0)",
    "hidden": "hidden activation (default relu)",
    "init": "weight initialization (default he)",
}


def _range(name: str):
    def parse(text: str):

        try:
            return parse_dimension(name, text)
        except GradwiseValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "range"
    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tune", help="tune hyperparameters (Optuna; random search on log scales, coarse to fine)",
        description="Search hyperparameters the seeds' way: random values (not a grid) on the right scale "
                    "(log for α, 1-β on a log scale for β), coarse then fine around the best trials, "
                    "hopeless trials pruned from their dev cost. Trials train on a training split and are "
                    "scored on a dev split; the best configuration is retrained, saved as OUT/best and "
                    "tested once. Writes summary.json, trials.csv and plots/ into OUT. A table (--data "
                    "FILE.csv|.tsv|.parquet) may hold categories and gaps: its column plan is fitted on the "
                    "training split only and saved with OUT/best, which then predicts on raw rows.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_data_flags(p, required=True)
    p.add_argument("--trials", type=common.positive_int, default=20, metavar="N",
                   help="coarse trials (default 20)")
    p.add_argument("--fine-trials", type=common.non_negative_int, metavar="M",
                   help="fine trials around the best coarse ones (default N/2; 0: no fine stage)")
    p.add_argument("--top-fraction", type=common.share, default=0.2, metavar="F",
                   help="the fine ranges span the best F of the coarse trials (default 0.2)")
    p.add_argument("--epochs", type=_range("epochs"), metavar="N",
                   help="epochs per trial (default 30; a range LOW:HIGH searches it)")
    p.add_argument("--space", metavar="FILE.toml", help="ranges in a TOML [space] table")
    for name, text in RANGE_FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), dest=f"range_{name}", type=_range(name),
                       metavar="RANGE", help=text)
    p.add_argument("--metric", choices=tuple(TUNE_METRICS), metavar="NAME",
                   help="what to optimize on the dev split, and prune on: " + ", ".join(TUNE_METRICS) +
                        " (maximized or minimized as each requires; default: the dev error, or the dev RMSE "
                        "for regression, pruned on the dev cost)")
    p.add_argument("--class-weight", choices=("balanced",),
                   help="weigh each class's examples m/(K·count) in every trial's and the final models' "
                        "cost, for imbalanced classes (default: every example weighs 1)")
    p.add_argument("--sampler", choices=("random", "tpe"), default="random",
                   help="random search (default, the seeds' advice) or Optuna's TPE")
    p.add_argument("--pruner", choices=("median", "none"), default="median",
                   help="prune trials whose dev cost is worse than the median at the same epoch (default)")
    p.add_argument("--storage", metavar="URL",
                   help="an Optuna storage: postgresql://user:pw@host/db to share the study between "
                        "machines, sqlite:///file.db, or FILE.journal (default: OUT/study.db, "
                        "OUT/study.journal with --workers > 1)")
    p.add_argument("--study", metavar="NAME", help="study name (default gradwise-<data>); the same name "
                                                   "resumes or joins the study")
    p.add_argument("--workers", type=common.positive_int, default=1, metavar="K",
                   help="local worker processes on the study, this one included (default 1)")
    p.add_argument("--out", metavar="DIR", help="output directory (default tune-<data>)")
    p.add_argument("--seed", type=common.non_negative_int, default=0, metavar="S",
                   help="seed of the split, the sampler and the networks (default 0)")
    p.add_argument("--dev-fraction", type=common.open_fraction, default=0.25, metavar="F",
                   help="share of the training data used as the dev split (default 0.25)")
    p.add_argument("--no-standardize", dest="standardize", action="store_false",
                   help="feed raw inputs (default: standardize with the training split's μ, σ)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="precision of the networks (default float64)")
    p.add_argument("--final-seeds", type=common.non_negative_int, default=1, metavar="N",
                   help="retrain the best configuration with N seeds and test each once, and (N >= 2) the N "
                        "models averaged as one ensemble (default 1)")
    p.add_argument("--final-data", choices=("train+dev", "train"), default="train+dev",
                   help="what the final models train on (default train+dev)")
    p.add_argument("--heartbeat", type=common.positive_int, default=60, metavar="SECONDS",
                   help="RDB storages: a trial silent for 2×SECONDS lost its worker and is retried "
                        "(default 60)")
    p.add_argument("--threads", type=common.non_negative_int, default=1, metavar="N",
                   help="BLAS threads per worker while training (default 1; 0 leaves them alone)")
    p.add_argument("--worker-only", action="store_true",
                   help="run trials and exit, without the final models and plots (extra machines)")
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the plots")
    p.add_argument("--lr-from-lrfind", action="store_true",
                   help="search α from a tenth to ten times the suggestion of a learning-rate range test "
                        "(gradwise lrfind, Adam, the default network) instead of 1e-4:1e-1")
    p.add_argument("--tensorboard", action="store_true",
                   help="each trial writes TensorBoard event files (scalars, per-layer weight and gradient "
                        "histograms) under OUT/tensorboard/trial-N; needs the tensorboard extra")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def _lrfind_range(args: argparse.Namespace) -> str:
    """`gradwise tune`'s α range, LOW:HIGH around the range test's suggestion (a decade either side)."""
    if args.range_learning_rate is not None:
        raise GradwiseValueError("give --learning-rate RANGE or --lr-from-lrfind, not both")
    result = range_test({"dataset": args.dataset, "data": args.data, "target": args.target, "seed": args.seed,
                         "optimizer": "adam", "standardize": args.standardize, "dtype": args.dtype})
    low, high = result.suggestion / 10, min(result.suggestion * 10, 1.0)
    if not args.quiet:
        print(f"lrfind: suggested α = {result.suggestion:.3g} ({result.explanation}); "
              f"searching α in {low:.3g}:{high:.3g}")
    return f"{low:.6g}:{high:.6g}"


def run(args: argparse.Namespace) -> int:

    space = SearchSpace.from_toml(args.space) if args.space else SearchSpace.default()
    overrides = {name: getattr(args, f"range_{name}") for name in RANGE_FLAGS
                 if getattr(args, f"range_{name}") is not None}
    if args.lr_from_lrfind:
        overrides["learning_rate"] = parse_dimension("learning_rate", _lrfind_range(args))
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    space = space.override(overrides)
    common.check_data_flags(args.data, args.target)
    source = args.dataset if args.dataset is not None else args.data
    stem = args.dataset if args.dataset is not None else Path(args.data).stem
    out = args.out or f"tune-{stem}"
    target = common.target_arg(args.target)
    tune(dataset=source, target=target, trials=args.trials, fine_trials=args.fine_trials,
         top_fraction=args.top_fraction, space=space, sampler=args.sampler, pruner=args.pruner,
         storage=args.storage, study_name=args.study, workers=args.workers, out=out, seed=args.seed,
         dev_fraction=args.dev_fraction, standardize=args.standardize, dtype=args.dtype,
         final_seeds=args.final_seeds, final_data=args.final_data, heartbeat=args.heartbeat,
         worker_only=args.worker_only, plots=args.plots, threads=args.threads or None,
         metric=args.metric, class_weight=args.class_weight, verbose=not args.quiet, tensorboard=args.tensorboard)
    return 0
