"""`gradwise datasets`: list the built-in data sets."""

from __future__ import annotations

import argparse

from ..data import available

EXAMPLE = """examples:
  gradwise datasets
  gradwise train --dataset flower --layers 4 --hidden tanh --init xavier --epochs 2000
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "datasets", help="list the built-in data sets",
        description="List the built-in data sets (use their names with --dataset); any .csv file with a "
                    "header row or .npz file with X and y works with --data.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    entries = available()
    width = max(len(name) for name, _ in entries)
    for name, description in entries:
        print(f"{name:<{width}}  {description}")
    print("\nor your own data: --data FILE.csv (header row; --target COL, default the last column) "
          "or --data FILE.npz (arrays X and y)")
    return 0
