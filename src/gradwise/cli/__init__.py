"""The `gradwise` command line (argparse). One module per subcommand, each exposing `register(subparsers)`.

Who is to blame decides how an error ends:

- the user's mistake — a `GradwiseError` (bad flag, bad file content, `UsageError`) or an `OSError` (missing
  file, permission denied, disk full) — is one line on stderr, `gradwise CMD: error: …`, exit code 2;
- anything else is a bug in gradwise: one line that says so and how to report it, exit code 1;
- SIGTERM or Ctrl-C that stopped a command after it saved its state (`Preempted`): one line, exit code 75.

Neither shows a traceback unless `--debug` is given. So a user mistake must raise a `GradwiseError`: a bare
`ValueError` or `TypeError` reaching `main` is treated as our bug, even when NumPy raised it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..errors import GradwiseError, Preempted
from ..preemption import PREEMPTED_EXIT_CODE
from ._common import UsageError

__all__ = ["main", "build_parser", "UsageError"]

#: subcommand modules, in the order `gradwise --help` lists them
SUBCOMMANDS = ("train", "evaluate", "predict", "gradcheck", "diagnose", "datasets", "reproduce", "tune",
               "lrfind")

EXIT_USAGE = 2
EXIT_BUG = 1
#: what a user should do with an internal error
REPORT_HINT = ("please report it at the project's issue tracker with the command you ran; "
               "rerun with --debug for the traceback")


class _Parser(argparse.ArgumentParser):
    """argparse already exits with 2 on bad flags; keep its message to one line plus the usage hint."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The `gradwise` parser with every subcommand of `SUBCOMMANDS` registered."""

    parser = _Parser(
        prog="gradwise",
        description="Train, check, diagnose and tune deep networks the way the course teaches, on your data.",
        epilog="Example: gradwise train --dataset circles --layers 10,5 --init he --epochs 2000 --out runs/he",
    )
    parser.add_argument("--version", action="version", version=f"gradwise {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 1 a bug of ours, 2 a user mistake)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("gradwise: interrupted", file=sys.stderr)
        return 130
    except Preempted as exc:  # SIGTERM / Ctrl-C after the state was saved: try again to continue
        print(f"gradwise {args.command}: {_one_line(exc)}; run the same command again to continue",
              file=sys.stderr)
        return PREEMPTED_EXIT_CODE
    except BrokenPipeError:
        # `gradwise ... | head` closed our stdout: not an error of the user's; leave quietly like cat does.
        _silence_stdout()
        return 0
    except (GradwiseError, OSError) as exc:
        if args.debug:
            raise
        print(f"gradwise {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if args.debug:
            raise
        print(f"gradwise {args.command}: internal error (a bug in gradwise, not your input): "
              f"{type(exc).__name__}: {_one_line(exc)} — {REPORT_HINT}", file=sys.stderr)
        return EXIT_BUG
    return int(result or 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush doesn't raise BrokenPipeError again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (an OSError as `reason: path`)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None:
        text = f"{exc.strerror or text}: {exc.filename}"
    return " ".join(text.split())
