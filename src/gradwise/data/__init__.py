"""Data: built-in data sets, users' files, train/dev/test splits, input standardization, augmentation.

- :func:`load` / :func:`available` (module :mod:`~gradwise.data.datasets`): named data sets and files;
- :func:`load_file` (module :mod:`~gradwise.data.files`): a user's ``.csv`` / ``.npz``;
- :func:`split` / :func:`split_rule` (module :mod:`~gradwise.data.split`): the seeds' train/dev/test rule;
- :class:`Standardizer` (module :mod:`~gradwise.data.standardize`): ``(x − μ)/σ`` fitted on train only;
- :func:`read_table` (module :mod:`~gradwise.data.tables`): CSV/TSV/Parquet through pandas;
- :class:`Preprocessor` (module :mod:`~gradwise.data.columns`): the column plan of a table;
- :mod:`augment`: ``shift``, ``noise``, ``flip``, ``compose``.
"""

from . import augment
from .columns import Preprocessor
from .dataset import Dataset
from .datasets import available, course_circles, course_flower, course_moons, load
from .files import load_features, load_file, load_table
from .split import Split, split, split_rule
from .standardize import Standardizer
from .tables import read_table

__all__ = [
    "Dataset",
    "Preprocessor",
    "Split",
    "Standardizer",
    "augment",
    "available",
    "course_circles",
    "course_flower",
    "course_moons",
    "load",
    "load_features",
    "load_file",
    "load_table",
    "read_table",
    "split",
    "split_rule",
]
