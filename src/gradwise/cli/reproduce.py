"""`gradwise reproduce`: run every experiment of the seeds and write a report beside the seeds' numbers."""

from __future__ import annotations

import argparse

from ..experiments.runner import NAMES, reproduce

EXAMPLE = """examples:
  gradwise reproduce --out reproduce-report             # course protocols + 3 fresh seeds (< 2 min)
  gradwise reproduce --out /tmp/smoke --quick           # every experiment at reduced size (< 30 s)
  gradwise reproduce --out r --seeds 10 --only regularization,optimization

writes DIR/results.json, DIR/report.md, DIR/report.html (self-contained) and DIR/plots/*.png, first into a
private staging directory beside DIR, then moved in (two runs into one DIR publish one after the other);
progress goes to stderr, one line per training run and per experiment.
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:

    p = subparsers.add_parser(
        "reproduce", help="run the seeds' experiments and write a report (tables, plots, HTML)",
        description="Run the experiments of the course notes — initialization, regularization, gradient "
                    "checking, optimization, batch norm, vanishing gradients, input normalization, mini-batch "
                    "size — under the course's protocols and over fresh seeds, and write results.json, "
                    "report.md, report.html and the plots.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="reproduce-report", metavar="DIR",
                   help="output directory (created; default: reproduce-report)")
    p.add_argument("--seeds", type=_positive, default=None, metavar="N",
                   help="fresh seeds for the statistics (mean and 95%% interval; default 3, 2 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run at reduced iterations: its numbers are not the course's")
    p.add_argument("--jobs", type=_positive, default=None, metavar="K",
                   help="worker processes (default: the usable CPUs, at most 4)")
    p.add_argument("--only", default=None, metavar="NAMES",
                   help=f"comma-separated subset of: {', '.join(NAMES)}")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 if any check disagrees with the seeds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    seeds = args.seeds if args.seeds is not None else (2 if args.quick else 3)
    only = None if args.only is None else [name.strip() for name in args.only.split(",") if name.strip()]
    results = reproduce(args.out, seeds=seeds, quick=args.quick, workers=args.jobs, only=only)
    return 1 if args.strict and results["summary"]["disagree"] else 0
