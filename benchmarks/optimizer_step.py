"""Time one Adam step over the flat θ for several block sizes and thread counts (how BLOCK_BYTES was chosen).

    python benchmarks/optimizer_step.py            # the parameter counts of benchmark cases (b) and (c)
    python benchmarks/optimizer_step.py --sizes 100000,1000000

Prints the best and median of repeated steps per (size, block, threads). Results are bit-identical
across all of them (elementwise work does not depend on where θ is cut); only the time differs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gradwise import _blocked
from gradwise.optim.optimizers import Adam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="235146,6316042", help="parameter counts, comma-separated")
    parser.add_argument("--blocks-kb", default="64,128,256,512,1024", help="block sizes in KB per array")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for n in (int(s) for s in args.sizes.split(",")):
        theta = rng.standard_normal(n, dtype=np.float32)
        grad = rng.standard_normal(n, dtype=np.float32)
        reps = 30 if n < 1_000_000 else 8
        for kb in (int(s) for s in args.blocks_kb.split(",")):
            _blocked.BLOCK_BYTES = kb << 10
            for threads in (1, 2):
                _blocked._n_threads = threads
                _blocked._choosers.clear()
                opt = Adam()
                for _ in range(10):  # state allocated, thread chooser settled
                    opt.step(theta, grad, 1e-3)
                times = []
                for _ in range(reps):
                    start = time.perf_counter()
                    opt.step(theta, grad, 1e-3)
                    times.append(time.perf_counter() - start)
                print(f"n={n:9d} block={kb:5d} KB threads={threads}: best {min(times) * 1e3:8.3f} ms, "
                      f"median {np.median(times) * 1e3:8.3f} ms", flush=True)


if __name__ == "__main__":
    main()
