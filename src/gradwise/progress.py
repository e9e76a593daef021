"""Progress that fits the place: a tqdm bar in a Jupyter kernel, the rewritten line in a terminal.

`verbose="auto"` turns progress on when someone watches — stderr is a terminal, or the code runs in a
Jupyter kernel (where `sys.stderr.isatty()` is false) — and leaves logs and CI quiet.
"""

from __future__ import annotations

import sys
from typing import Any

from .callbacks import Callback, ProgressLogger


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where a widget bar can be displayed."""
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False  # never import IPython here: a plain script must not pay for it
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def someone_watches() -> bool:
    """What `verbose="auto"` asks: a terminal on stderr or a notebook."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty is not None and isatty()) or in_notebook()


class ProgressBar(Callback):
    """One tqdm bar over the epochs (`tqdm.auto`: a widget in Jupyter, text elsewhere).

    The bar's postfix shows the last epoch's metrics (cost, accuracy, val_cost, …); it is closed at the end
    of training, leaving the final values on screen.
    """

    def __init__(self) -> None:
        self._bar: Any = None

    def on_train_begin(self, logs=None) -> None:
        from tqdm.auto import tqdm  # tqdm.auto imports IPython's display machinery in a kernel

        logs = logs or {}
        first, total = int(logs.get("initial_epoch", 0)), int(logs.get("epochs", 0))
        self._bar = tqdm(total=total, initial=first, unit="epoch", desc="fit", dynamic_ncols=True,
                         mininterval=0.1)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self._bar is None:
            return
        self._bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k != "learning_rate"}, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs=None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_callback(verbose: int) -> Callback:
    """The display for `verbose` 1 or 2: a bar in a notebook at 1, the Keras-like lines otherwise."""
    return ProgressBar() if verbose == 1 and in_notebook() else ProgressLogger(verbose)


class UnitProgress:
    """A bar over `total` units of work (reproduce's runs, tune's trials) when someone watches, else nothing.

    The lines the caller logs go through `say`, which keeps them above the bar (tqdm's external write mode)
    instead of breaking it; `advance()` counts one finished unit.

    Parameters
    ----------
    total : int;  desc : str — the bar's label;  unit : str — "run", "trial";  initial : int — already done
    enabled : bool — False never shows a bar (quiet runs)
    """

    def __init__(self, total: int, desc: str, unit: str, initial: int = 0, enabled: bool = True):
        self._bar: Any = None
        if enabled and someone_watches():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True)

    def say(self, log: Any) -> Any:
        """`log` wrapped so its lines print above the bar."""
        def write(line: str) -> None:
            if self._bar is None:
                log(line)
                return
            with self._bar.external_write_mode():
                log(line)
        return write

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
