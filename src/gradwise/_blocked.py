"""Cache-blocked, optionally multi-threaded elementwise work over the flat parameter vector θ.

An optimizer step is about a dozen elementwise passes over θ-sized arrays. Run pass after pass over a
25 MB vector and every pass streams θ, dθ and the state from main memory; run all the passes on one
block of ~128 KB per array at a time and the block stays in the L2 cache — the same arithmetic, a
fraction of the memory traffic (3× faster on the 6.3M-parameter benchmark network). NumPy releases the
GIL inside its ufunc loops, so threads working on disjoint parts of θ run in parallel.

Elementwise operations do not depend on where the vector is cut, so the results are bit-identical to
whole-vector passes, whatever the block size or the number of threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: bytes of each array handled per block: 5 arrays × 128 KB stay inside a 1 MB L2 cache
BLOCK_BYTES = 1 << 17
#: vectors shorter than this are updated by one thread (handing work to a thread costs ~20 µs)
PARALLEL_MIN = 1 << 19

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def _env_threads() -> int | None:
    """The thread count the user asked BLAS/OpenMP for, if any (gradwise follows the same limit)."""
    for key in ("GRADWISE_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(key, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def n_threads() -> int:
    """Threads for elementwise work: the environment's limit, else the CPUs this process may use."""
    requested = _env_threads()
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(requested or available, available))


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(workers, thread_name_prefix="gradwise"), workers
        return _pool


def _forget_pool() -> None:  # a forked child must not use the parent's threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_blocked(fn: Callable[..., None], arrays: tuple[np.ndarray, ...]) -> None:
    """Call `fn(*blocks)` on consecutive blocks of the equally long 1-D `arrays` until all are covered.

    `fn` must be elementwise (block i of its outputs depends only on block i of its inputs).
    """
    n = arrays[0].size
    block = max(1024, BLOCK_BYTES // arrays[0].itemsize)
    if n <= block:
        fn(*arrays)
        return
    threads = n_threads() if n >= PARALLEL_MIN else 1
    if threads == 1:
        _walk(fn, arrays, 0, n, block)
        return
    # contiguous spans, one per thread, each walked block by block; the caller takes the first
    per = -(-n // threads)
    per = -(-per // block) * block
    spans = [(lo, min(lo + per, n)) for lo in range(0, n, per)]
    pool = _get_pool(len(spans) - 1)
    futures = [pool.submit(_walk, fn, arrays, lo, hi, block) for lo, hi in spans[1:]]
    try:
        _walk(fn, arrays, spans[0][0], spans[0][1], block)
    finally:
        for f in futures:
            f.result()


def _walk(fn: Callable[..., None], arrays: tuple[np.ndarray, ...], lo: int, hi: int, block: int) -> None:
    for start in range(lo, hi, block):
        stop = min(start + block, hi)
        fn(*[a[start:stop] for a in arrays])
