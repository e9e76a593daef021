"""The experiments of the seeds, one module each, and the runner that writes their report.

    from gradwise.experiments import reproduce
    reproduce("reproduce-report", seeds=3)          # what `gradwise reproduce` runs

Modules: `initialization`, `regularization`, `gradient_checking`, `optimization`, `batchnorm`, `vanishing`,
`normalization`, `minibatch`. Each exposes `KEY`, `TITLE`, `jobs(settings)` (independent training runs) and
`finish(settings, outputs, plot_dir)` (tables, plots and checks).
"""

from .runner import EXPERIMENTS, NAMES, reproduce

__all__ = ["EXPERIMENTS", "NAMES", "reproduce"]
