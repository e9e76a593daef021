"""Preemption: SIGTERM or Ctrl-C asks training to stop after the current step, with a checkpoint.

A scheduler (Slurm, Kubernetes, `docker stop`) sends SIGTERM and kills the process some seconds later; a
user presses Ctrl-C. Either way the work done so far should survive: :class:`Preemption` is a checkpoint
callback that does nothing until :meth:`Preemption.request` is called; the training loop then stops after
the optimizer step in progress and the callback writes a checkpoint holding the whole training state (θ,
optimizer, RNG, history, callback states) and the position inside the epoch (`EpochPosition`: the next
batch, the epoch's permutation, its partial sums). ``fit(..., resume_from=path)`` (``gradwise train
--resume``) then ends with exactly the weights of an uninterrupted run.

The signal handler only sets a flag, which the loop reads after each step (one attribute per step).
`gradwise tune` uses :class:`StopRequest` instead: its trial is returned to the queue, not checkpointed.
:func:`stop_on_signals` installs the handlers for the duration of a block; a second signal acts as it would
without them (Ctrl-C raises KeyboardInterrupt, SIGTERM terminates), for a user who does not want to wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from .callbacks import Callback, Checkpoint
from .checkpoint import save_checkpoint
from .errors import Preempted

__all__ = ["Preemption", "StopRequest", "StopTrial", "stop_on_signals", "PREEMPTED_EXIT_CODE"]

#: exit code of a `gradwise` command stopped by SIGTERM/Ctrl-C after saving its state: EX_TEMPFAIL of
#: sysexits.h ("temporary failure; try again"), distinct from 0 (done), 1 (a bug), 2 (a user mistake)
PREEMPTED_EXIT_CODE = 75


class Preemption(Checkpoint):
    """Write a checkpoint to `path` and stop training after the optimizer step in progress when stopping
    is asked (:meth:`request`).

    The checkpoint records the position inside the epoch (its next batch, its permutation, its partial
    sums; the generator's state is the model's own), so a resumed `fit` finishes that epoch exactly. A
    request during an epoch's last step (and with full-batch training, where an epoch is one step) stops at
    the epoch's end instead, with an ordinary checkpoint; one during the last step of training is ignored.

    Parameters
    ----------
    path : str or PathLike — where the checkpoint goes (``RUN_DIR/checkpoint.safetensors`` in a run)

    Attributes
    ----------
    requested : bool — set by :meth:`request` (from a signal handler)
    preempted_at : int or None — the epochs done when training stopped for the request
    preempted_step : int or None — with it, the steps done of the next epoch (None: stopped at an epoch's end)
    """

    halts_mid_epoch = True

    def __init__(self, path: str | os.PathLike):
        super().__init__(path, every=1)
        self.requested = False
        self.preempted_at: int | None = None
        self.preempted_step: int | None = None

    def request(self) -> None:
        """Ask training to stop after the current step (safe to call from a signal handler)."""
        self.requested = True
        self.halt = True  # read by the training loop after each step

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        # The last epoch, or a stop another callback asked for, ends training normally anyway.
        if not self.requested or self.model.stop_training or epoch + 1 == self._total:
            return
        # Written before stop_training is set: the checkpoint must resume training, not a stopped run.
        save_checkpoint(self.path, self.model, self.trainer_callbacks or [self])
        self.model.stop_training = True
        self.preempted_at = epoch + 1

    def on_train_end(self, logs: dict | None = None) -> None:
        position = (logs or {}).get("position")
        if position is None:  # stopped at an epoch's end (written then) or not at all
            return
        save_checkpoint(self.path, self.model, self.trainer_callbacks or [self], position)
        self.preempted_at, self.preempted_step = position.epoch, position.batch

    def __repr__(self) -> str:
        return f"Preemption({os.fspath(self.path)!r})"


class StopRequest:
    """A flag a signal handler sets and a loop reads at its safe points (``gradwise tune``: between
    trials and at each epoch's end of a trial); :meth:`check` raises `Preempted` once it is set."""

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True

    def check(self, what: str) -> None:
        """Raise ``Preempted(what)`` if a stop was requested."""
        if self.requested:
            raise Preempted(what)


class StopTrial(Callback):
    """A `fit` callback that raises `Preempted` at the end of the epoch in which a stop was requested."""

    def __init__(self, stop: StopRequest):
        super().__init__()
        self.stop = stop

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.stop.check(f"stopped after epoch {epoch + 1}")


@contextlib.contextmanager
def stop_on_signals(preemption: Preemption | StopRequest, command: str = "gradwise",
                    doing: str = "finishing the current step, then writing a checkpoint") -> Iterator[None]:
    """Within the block, the first SIGTERM or SIGINT calls ``preemption.request()`` instead of stopping.

    Prints one line on stderr saying so (`doing`: what happens next); the previous handlers come back after
    that first signal (so a second one stops at once) and when the block ends. Only the main thread can
    install handlers; elsewhere the block runs without them.
    """
    names = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "Ctrl-C (SIGINT)"}
    previous: dict[signal.Signals, Any] = {}

    def restore() -> None:
        for signum, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)

    def handle(signum: int, frame: FrameType | None) -> None:
        restore()
        preemption.request()
        name = names.get(signal.Signals(signum), str(signum))
        print(f"{command}: {name} received: {doing} (send it again to stop at once)", file=sys.stderr,
              flush=True)

    try:
        for signum in names:
            previous[signum] = signal.signal(signum, handle)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        restore()
