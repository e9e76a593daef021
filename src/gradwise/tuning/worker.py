"""A tuning worker process: ``python -m gradwise.tuning.worker JOB.json`` (started by ``tune(workers=K)``).

The job file names the storage, the study, the plan and an ``.npz`` holding the train and dev splits —
a worker never receives the test set.
"""

from __future__ import annotations

import sys

from .driver import run_job


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gradwise.tuning.worker JOB.json", file=sys.stderr)
        return 2

    return run_job(args[0])


if __name__ == "__main__":
    sys.exit(main())
