"""Hyperparameter tuning on Optuna, the seeds' way: random values on the right scale, coarse to fine.

- :func:`tune` (module :mod:`~gradwise.tuning.driver`): the whole procedure, from data to tested model;
- :class:`SearchSpace`, :class:`Dimension` (module :mod:`~gradwise.tuning.space`): ranges and scales;
- :mod:`~gradwise.tuning.study`: the study's plan, its queue of trials and the worker loop;
- :mod:`~gradwise.tuning.storage`: SQLite / journal / PostgreSQL storage, dead workers' trials retried;
- :mod:`~gradwise.tuning.objective`: one trial (train on train, score on dev, prune);
- :mod:`~gradwise.tuning.final`: the best configuration retrained and tested once;
- :mod:`~gradwise.tuning.plots`: optimization history, sampled values vs dev accuracy, importances.
"""

from .driver import TuneResult, prepare_data, tune
from .objective import TuningData
from .space import DEFAULT_SPACE, HYPERPARAMETERS, Dimension, SearchSpace, parse_dimension

__all__ = [
    "tune",
    "TuneResult",
    "SearchSpace",
    "Dimension",
    "DEFAULT_SPACE",
    "HYPERPARAMETERS",
    "parse_dimension",
    "prepare_data",
    "TuningData",
]
