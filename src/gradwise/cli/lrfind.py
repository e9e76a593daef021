"""`gradwise lrfind`: the learning-rate range test on a data set, for the network `gradwise train` would build."""

from __future__ import annotations

import argparse

from ..lr_find import RULES, LRFindResult, lr_find
from . import _common as common
from . import train

EXAMPLE = """examples:
  gradwise lrfind --dataset moons --layers 16,16 --optimizer adam --plot lr.png
  gradwise lrfind --data measurements.csv --target label --batch-size 32 --rule steepest
then train at the suggestion: gradwise train ... --learning-rate A
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "lrfind", help="the learning-rate range test: suggest α from one short run",
        description="Train the network `gradwise train` would build on the training split for a few hundred "
                    "mini-batches with α growing exponentially from --start-lr to --end-lr, stop when the "
                    "smoothed cost diverges, and suggest α (the rule that chose it is printed). Nothing is "
                    "saved but the optional plot.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_data_flags(p, required=True)
    p.add_argument("--layers", type=common.layer_sizes, metavar="20,10", help="hidden layer sizes (default 20,10)")
    p.add_argument("--hidden", choices=("relu", "leaky_relu", "tanh", "sigmoid"), help="default relu")
    p.add_argument("--optimizer", choices=("gd", "momentum", "rmsprop", "adam"), help="default adam")
    p.add_argument("--batch-size", type=common.batch_size, metavar="B", help="default 64; 'full' for batch GD")
    p.add_argument("--batchnorm", action="store_const", const=True, help="batch norm after each hidden layer")
    p.add_argument("--seed", type=common.non_negative_int, metavar="S", help="default 0")
    p.add_argument("--start-lr", type=common.positive, default=1e-6, metavar="A", help="default 1e-6")
    p.add_argument("--end-lr", type=common.positive, default=10.0, metavar="A", help="default 10")
    p.add_argument("--steps", type=common.positive_int, default=200, metavar="N",
                   help="mini-batch steps at most (default 200)")
    p.add_argument("--rule", choices=RULES, default="minimum",
                   help="minimum: α at the lowest smoothed cost / 10 (default); steepest: α where it falls fastest")
    p.add_argument("--plot", metavar="FILE.png", help="write the curve with the suggestion marked")
    p.add_argument("--quiet", action="store_true", help="print only the suggested α")
    p.set_defaults(func=run)


def range_test(given: dict, **options) -> LRFindResult:
    """The range test on the training split, for the network `gradwise train` builds from `given` settings."""
    settings = {**train.DEFAULTS, **given}
    _, _, parts, model, _ = train.prepare(settings, None)
    batch = None if settings["batch_size"] == "full" else settings["batch_size"]
    return lr_find(model, parts["X_train"], parts["y_train"], batch_size=batch, optimizer=settings["optimizer"],
                   **options)


def run(args: argparse.Namespace) -> int:
    given = {k: getattr(args, k) for k in ("layers", "hidden", "optimizer", "batch_size", "batchnorm", "seed")
             if getattr(args, k) is not None}
    result = range_test({"dataset": args.dataset, "data": args.data, "target": args.target, **given},
                        start_lr=args.start_lr, end_lr=args.end_lr, num_steps=args.steps, rule=args.rule)
    if args.plot:
        result.plot(args.plot)
    if args.quiet:
        print(f"{result.suggestion:.6g}")
        return 0
    ending = "stopped when the smoothed cost diverged" if result.diverged else "reached --end-lr"
    print(f"{len(result.lrs)} steps from α = {result.lrs[0]:.3g} to {result.lrs[-1]:.3g} ({ending})")
    print(f"suggested α = {result.suggestion:.3g}  (rule {result.rule}: {result.explanation})")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0
