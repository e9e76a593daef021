"""The Monitor's cost at its default frequency (every=1): training time with and without it.

    PYTHONPATH=src python benchmarks/monitor_overhead.py

Each case trains the same network on the same data with and without `gw.Monitor()`, alternating, and
reports the best of `repeats` wall times of each and their ratio. The budget (issue 13) is 5%.
"""

from __future__ import annotations

import time

import numpy as np

import gradwise as gw

CASES = [  # (name, m, n_x, hidden layers, batch size, epochs)
    ("moons-size (CLI default data: 225 rows, 2-D)", 225, 2, (20, 10), 64, 100),
    ("digits-size (1438 rows, 64 features)", 1438, 64, (64, 32), 64, 30),
    ("mnist1d-size (4000 rows, 40 features)", 4000, 40, (128, 64), 64, 20),
    ("10k rows, 100 features, 3 hidden layers", 10000, 100, (256, 128, 64), 128, 5),
]


def _train(X, y, layers, batch, epochs, monitor: bool) -> float:
    model = gw.mlp([X.shape[1], *layers, 1], output="sigmoid", seed=0)
    callbacks = [gw.Monitor()] if monitor else []
    start = time.perf_counter()
    model.fit(X, y, epochs=epochs, batch_size=batch, optimizer="adam", learning_rate=1e-3, verbose=0,
              callbacks=callbacks)
    return time.perf_counter() - start


def main(repeats: int = 5) -> None:
    rng = np.random.default_rng(0)
    print(f"{'case':<48}{'without':>10}{'with':>10}{'overhead':>10}")
    for name, m, n, layers, batch, epochs in CASES:
        X = rng.normal(size=(m, n))
        y = (X[:, 0] + 0.5 * rng.normal(size=m) > 0).astype(int)
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeats):
            for monitor in (False, True):
                times[monitor].append(_train(X, y, layers, batch, epochs, monitor))
        without, with_ = min(times[False]), min(times[True])
        print(f"{name:<48}{without:>9.3f}s{with_:>9.3f}s{100 * (with_ / without - 1):>9.1f}%")


if __name__ == "__main__":
    main()
