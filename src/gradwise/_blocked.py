"""Cache-blocked, optionally multi-threaded elementwise work over the flat parameter vector θ.

An optimizer step is about a dozen elementwise passes over θ-sized arrays. Run pass after pass over a
large vector and every pass streams θ, dθ and the state from main memory; run all the passes on one
block of ~256 KB per array at a time and the block stays in the cache — the same arithmetic, a
fraction of the memory traffic (measurements: benchmarks/RESULTS.md, "Engine notes"). NumPy releases
the GIL inside its ufunc loops, so threads working on disjoint parts of θ run in parallel.

Elementwise operations do not depend on where the vector is cut, so the results are bit-identical to
whole-vector passes, whatever the block size or the number of threads.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: bytes of each array handled per block: a little more than the L2 cache holds for 5 arrays, yet faster
#: than smaller blocks, whose extra NumPy calls cost more than the misses they save (benchmarks/RESULTS.md)
BLOCK_BYTES = 1 << 18
#: vectors shorter than this are updated by one thread (a hand-off to a thread costs more than it saves);
#: above it, `_Chooser` measures whether the threads actually pay on this machine, now
PARALLEL_MIN = 1 << 17

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


_n_threads: int | None = None


def n_threads() -> int:
    """Threads for elementwise work: the environment's limit, else the CPUs this process may use.

    Read once (a system call and four environment lookups are not free at every optimizer step).
    """
    global _n_threads
    if _n_threads is None:
        requested = _env_threads()
        try:
            available = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            available = os.cpu_count() or 1
        _n_threads = max(1, min(requested or available, available))
    return _n_threads


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(workers, thread_name_prefix="gradwise"), workers
        return _pool


def _forget_pool() -> None:  # a forked child must not use the parent's threads (and may have fewer CPUs)
    global _pool, _pool_size, _n_threads
    _pool, _pool_size, _n_threads = None, 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


class _Chooser:
    """Picks one thread or several for a kind of update, by timing both on the first calls.

    Whether a second thread pays depends on the machine *and its load*: on an idle machine it speeds up
    a step over millions of parameters; on a machine busy with other work it only adds a hand-off. So
    the first `TRIALS` calls alternate between the two and the faster median wins; the trial is repeated
    every `RETRY` calls, as the load changes. Results are bit-identical either way.
    """

    TRIALS = 6
    RETRY = 2000

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {}
        self.calls = 0
        self.choice = 0  # 0 while trying

    def pick(self, threads: int) -> int:
        self.calls += 1
        if self.choice and self.calls % self.RETRY:
            return self.choice
        if self.choice:  # start a new trial
            self.times, self.choice = {}, 0
        return 1 if self.calls % 2 else threads

    def record(self, threads: int, seconds: float) -> None:
        if self.choice:
            return
        self.times.setdefault(threads, []).append(seconds)
        if len(self.times) == 2 and all(len(t) >= self.TRIALS // 2 for t in self.times.values()):
            self.choice = min(self.times, key=lambda k: sorted(self.times[k])[len(self.times[k]) // 2])


_choosers: dict[tuple, _Chooser] = {}


_local = threading.local()


def _scratch(length: int, dtype: np.dtype, count: int) -> list[np.ndarray]:
    """`count` work arrays of `length` elements, owned by the calling thread and reused call after call
    (a θ-sized work array would cost θ's size in memory and stream through DRAM like θ itself)."""
    if not count:
        return []
    cache = getattr(_local, "scratch", None)
    if cache is None:
        cache = _local.scratch = {}
    arrays = cache.get(dtype)
    if arrays is None or len(arrays) < count or arrays[0].size < length:
        size = max(length, max(1024, BLOCK_BYTES // dtype.itemsize))
        arrays = cache[dtype] = [np.empty(size, dtype) for _ in range(max(count, len(arrays or ())))]
    return [a[:length] for a in arrays[:count]]


def run_blocked(fn: Callable[..., None], arrays: tuple[np.ndarray, ...], scratch: int = 0) -> None:
    """Call `fn(*blocks, *work)` on consecutive blocks of the equally long 1-D `arrays` until all are covered.

    `fn` must be elementwise (block i of its outputs depends only on block i of its inputs). It receives
    `scratch` extra work arrays as long as the block, private to the thread running it.
    """
    n = arrays[0].size
    block = max(1024, BLOCK_BYTES // arrays[0].itemsize)
    if n <= block:
        fn(*arrays, *_scratch(n, arrays[0].dtype, scratch))
        return
    available = n_threads() if n >= PARALLEL_MIN else 1
    if available == 1:
        _walk(fn, arrays, 0, n, block, scratch)
        return
    key = (getattr(fn, "__qualname__", None), n, arrays[0].dtype, len(arrays), available)
    chooser = _choosers.get(key)
    if chooser is None:
        if len(_choosers) > 64:
            _choosers.clear()
        chooser = _choosers[key] = _Chooser()
    threads = chooser.pick(available)
    start = time.perf_counter()
    if threads == 1:
        _walk(fn, arrays, 0, n, block, scratch)
    else:
        _parallel(fn, arrays, n, block, threads, scratch)
    chooser.record(threads, time.perf_counter() - start)


def _parallel(fn: Callable[..., None], arrays: tuple[np.ndarray, ...], n: int, block: int, threads: int,
              scratch: int) -> None:
    # contiguous spans, one per thread, each walked block by block; the caller takes the first
    per = -(-n // threads)
    per = -(-per // block) * block
    spans = [(lo, min(lo + per, n)) for lo in range(0, n, per)]
    if len(spans) == 1:
        _walk(fn, arrays, 0, n, block, scratch)
        return
    pool = _get_pool(len(spans) - 1)
    futures = [pool.submit(_walk, fn, arrays, lo, hi, block, scratch) for lo, hi in spans[1:]]
    try:
        _walk(fn, arrays, spans[0][0], spans[0][1], block, scratch)
    finally:
        for f in futures:
            f.result()


def _walk(fn: Callable[..., None], arrays: tuple[np.ndarray, ...], lo: int, hi: int, block: int,
          scratch: int = 0) -> None:
    work = _scratch(block, arrays[0].dtype, scratch)
    for start in range(lo, hi, block):
        stop = min(start + block, hi)
        if stop - start < block:
            work = [w[:stop - start] for w in work]
        fn(*[a[start:stop] for a in arrays], *work)
