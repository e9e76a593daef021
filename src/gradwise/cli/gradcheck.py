"""`gradwise gradcheck`: the seeds' gradient check of a network on a few examples of a data set.

Prints the report (difference, per-parameter differences, worst coordinates) and exits with 1 if the check
fails, so it can guard a change to the backward pass in CI.
"""

from __future__ import annotations

import argparse

from ..data import Standardizer
from ..gradcheck import gradcheck
from ..initializers import NAMES as INITS
from ..model import mlp
from . import _common as common

EXAMPLE = """examples:
  gradwise gradcheck
  gradwise gradcheck --dataset moons --layers 5,3 --l2 0.7
  gradwise gradcheck --dataset iris --layers 8 --batchnorm --hidden tanh
"""


def register(subparsers: argparse._SubParsersAction) -> None:

    p = subparsers.add_parser(
        "gradcheck", help="check backpropagation against numerical derivatives",
        description="Gradient checking (the seeds' two-sided difference, in float64): compares the "
                    "backpropagated gradient of J (regularization included, dropout off) with "
                    "(J(θ+ε) − J(θ−ε)) / 2ε. Exit code 1 if the check fails.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="moons", metavar="NAME", help="built-in data set (default moons)")
    p.add_argument("--layers", type=common.layer_sizes, default=[5, 3], metavar="5,3",
                   help="hidden layer sizes (default 5,3)")
    p.add_argument("--hidden", choices=("relu", "leaky_relu", "tanh", "sigmoid"), default="tanh",
                   help="hidden activation (default tanh: smooth, so the check is not disturbed by kinks)")
    p.add_argument("--init", choices=INITS, default="xavier", help="weight initialization (default xavier)")
    p.add_argument("--l2", type=common.non_negative, default=0.0, metavar="λ", help="L2 λ (default 0)")
    p.add_argument("--l1", type=common.non_negative, default=0.0, metavar="λ", help="L1 λ (default 0)")
    p.add_argument("--batchnorm", action="store_true", help="batch norm before each hidden activation")
    p.add_argument("--examples", type=common.positive_int, default=32, metavar="M",
                   help="number of examples in the checked batch (default 32)")
    p.add_argument("--epsilon", type=common.positive, default=1e-7, help="ε of the difference (default 1e-7)")
    p.add_argument("--threshold", type=common.positive, default=1e-7,
                   help="the check passes below this difference (default 1e-7)")
    p.add_argument("--seed", type=common.non_negative_int, default=0, metavar="S", help="default 0")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    ds = common.load_data(args.dataset, None, None, seed=args.seed)
    m = min(args.examples, len(ds.y_train))
    X = Standardizer().fit_transform(ds.X_train)[:m]
    y = ds.y_train[:m]
    output = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}[ds.task]
    model = mlp([ds.n_features, *args.layers, ds.n_outputs], hidden=args.hidden, output=output,
                init=args.init, batchnorm=args.batchnorm, l2=args.l2, l1=args.l1,
                loss="mse" if output == "linear" else None, seed=args.seed)
    report = gradcheck(model, X, y, epsilon=args.epsilon, threshold=args.threshold, seed=args.seed)
    sizes = ",".join(map(str, [ds.n_features, *args.layers, ds.n_outputs]))
    print(f"network {sizes} ({args.hidden}, {output} output{', batch norm' if args.batchnorm else ''}, "
          f"l2={args.l2:g}, l1={args.l1:g}) on {m} examples of {ds.name}")
    print(report)
    return 0 if report.passed else 1
