"""The Monitor's cost at its default schedule (every="auto", a 1% budget): training time with and without it.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/monitor_overhead.py [--repeats N] [--every K]

Each case trains the same network on the same data with and without `gw.Monitor()`, interleaved (without,
with, without, …, so that a change of load on a shared machine hits both), and reports

- "wall": the best of `repeats` wall times of each and their ratio (issue 13 allows 5%),
- "cpu": the median over the pairs of the ratio of process CPU times (each run with the Monitor against
  the run without it just before) — what a busy machine disturbs least,
- "own": the Monitor's own CPU time as a share of the training's (`monitor.seconds / (cpu − seconds)`,
  median), and the number of epochs it recorded.

One BLAS thread (`OPENBLAS_NUM_THREADS=1`) keeps the timings of a loaded 2-core machine meaningful.
`--every K` measures a fixed schedule instead (`--every 1`: every epoch, the cost before the budget).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import gradwise as gw

CASES = [  # (name, m, n_x, hidden layers, batch size, epochs)
    ("moons-size (CLI default data: 225 rows, 2-D)", 225, 2, (20, 10), 64, 100),
    ("digits-size (1438 rows, 64 features)", 1438, 64, (64, 32), 64, 30),
    ("mnist1d-size (4000 rows, 40 features)", 4000, 40, (128, 64), 64, 20),
    ("10k rows, 100 features, 3 hidden layers", 10000, 100, (256, 128, 64), 128, 5),
]


def _train(X, y, layers, batch, epochs, monitor: gw.Monitor | None) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one fit."""
    model = gw.mlp([X.shape[1], *layers, 1], output="sigmoid", seed=0)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(X, y, epochs=epochs, batch_size=batch, optimizer="adam", learning_rate=1e-3, verbose=0,
              callbacks=[monitor] if monitor is not None else [])
    return time.perf_counter() - start, time.process_time() - cpu


def main(repeats: int = 7, every: int | str = "auto") -> None:
    rng = np.random.default_rng(0)
    print(f"Monitor(every={every!r}), {repeats} interleaved repeats")
    print(f"{'case':<46}{'without':>9}{'with':>9}{'wall':>8}{'cpu':>8}{'own':>7}{'recorded':>10}")
    for name, m, n, layers, batch, epochs in CASES:
        X = rng.normal(size=(m, n))
        y = (X[:, 0] + 0.5 * rng.normal(size=m) > 0).astype(int)
        without, with_, cpu, own, recorded = [], [], [], [], 0
        _train(X, y, layers, batch, epochs, None)  # warm the caches and buffers once
        for _ in range(repeats):
            plain = _train(X, y, layers, batch, epochs, None)
            monitor = gw.Monitor(every=every)
            watched = _train(X, y, layers, batch, epochs, monitor)
            without.append(plain[0])
            with_.append(watched[0])
            cpu.append(watched[1] / plain[1] - 1)
            own.append(monitor.seconds / (watched[1] - monitor.seconds))
            recorded = len({r["epoch"] for r in monitor.records if not r.get("initial")})
        print(f"{name:<46}{min(without):>8.3f}s{min(with_):>8.3f}s{100 * (min(with_) / min(without) - 1):>7.1f}%"
              f"{100 * statistics.median(cpu):>7.1f}%{100 * statistics.median(own):>6.1f}%"
              f"{recorded:>5}/{epochs}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--every", default="auto", help='"auto" (the default schedule) or an integer')
    args = parser.parse_args()
    main(args.repeats, args.every if args.every == "auto" else int(args.every))
