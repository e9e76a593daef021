"""Train one case of monitor_overhead.py N times, with or without a Monitor: for counting instructions,
which a loaded machine cannot disturb (benchmarks/RESULTS.md, "The Monitor's cost").

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/monitor_instructions.py CASE MODE N

CASE: index into monitor_overhead.CASES (0: moons-size); MODE: none, auto or an integer `every`; N: fits
(N=0 counts the imports alone, to subtract).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import gradwise as gw

sys.path.insert(0, str(Path(__file__).parent))
from monitor_overhead import CASES, _train  # noqa: E402


def main(case: int, mode: str, n: int) -> None:
    _, m, nx, layers, batch, epochs = CASES[case]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, nx))
    y = (X[:, 0] + 0.5 * rng.normal(size=m) > 0).astype(int)
    for _ in range(n):
        monitor = None if mode == "none" else gw.Monitor(every=mode if mode == "auto" else int(mode))
        _train(X, y, layers, batch, epochs, monitor)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
