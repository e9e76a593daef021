"""Optimizer steps run block by block, on one thread or several (gradwise._blocked): same bits as
whole-vector passes, whatever the split, and the thread count is chosen by timing both."""

from __future__ import annotations

import numpy as np
import pytest

from gradwise import _blocked


def _axpy(theta, grad, work):
    np.multiply(grad, 0.5, out=work)
    theta -= work


@pytest.mark.parametrize("n", [10, 40_000, 300_001])
def test_blocked_and_threaded_updates_equal_whole_vector_passes(n, monkeypatch):
    rng = np.random.default_rng(n)
    theta, grad = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    expected = theta.copy()
    _axpy(expected, grad, np.empty_like(grad))
    for threads in (1, 2, 3):
        monkeypatch.setattr(_blocked, "n_threads", lambda t=threads: t)
        for _ in range(8):  # through the trial calls of the chooser and past its decision
            got = theta.copy()
            _blocked.run_blocked(_axpy, (got, grad, np.empty_like(grad)))
            np.testing.assert_array_equal(got, expected)
            got = theta.copy()  # the work array supplied per thread, one block long
            _blocked.run_blocked(_axpy, (got, grad), scratch=1)
            np.testing.assert_array_equal(got, expected)


def test_the_chooser_keeps_the_faster_thread_count():
    chooser = _blocked._Chooser()
    for _ in range(_blocked._Chooser.TRIALS):
        threads = chooser.pick(2)
        chooser.record(threads, 1.0 if threads == 1 else 3.0)
    assert chooser.choice == 1
    assert all(chooser.pick(2) == 1 for _ in range(50))
