"""Users' data files as arrays: a table (CSV, TSV, Parquet) of numbers, or NumPy ``.npz`` with ``X`` and ``y``.

Tables
    Read by :func:`gradwise.data.tables.read_table` (pandas; delimiter sniffed). The target is the column
    named or numbered by `target` (default: the last column). All other columns are features and must be
    numeric here: :func:`load_file` returns plain arrays. A table with categories, missing values or
    identifiers goes through a column plan instead (:func:`gradwise.data.columns.load_table`, what
    ``gradwise train --data`` uses). An optional column named ``split`` holding ``train`` / ``test``
    assigns each row to the training or the test set (as in the bundled ``football.csv``); without it
    every row is a training row and the test set is empty, shape (0, n_x) — split it with
    :func:`gradwise.data.split.split`.
NPZ
    ``np.savez(path, X=X, y=y)``, optionally with ``X_test`` and ``y_test``. Loaded with
    ``allow_pickle=False``: a file cannot run code.

Target encoding (both formats): text labels, or integral numbers with few distinct values (at most 50, or
at most 5% of the rows), are class labels, encoded ``0..K-1`` in sorted order with the original labels
kept in ``Dataset.class_names``; anything else is a regression target (float64). ``task=`` overrides.

Every mistake raises a :class:`~gradwise.errors.GradwiseValueError` whose message names the file and,
where it applies, the line, the column and the offending value.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import as_2d_float, check_choice
from ..errors import GradwiseTypeError, GradwiseValueError
from .dataset import Dataset
from .tables import MISSING, TABLE_SUFFIXES, check_path, column_text, data_line, is_number, read_table

__all__ = ["TableData", "load_features", "load_file", "load_table", "encode_target", "target_name", "split_rows"]

#: Integral targets with at most this many classes (or at most 5% of the rows) are classification.
MAX_CLASSES = 50
MAX_CLASS_FRACTION = 0.05
SPLIT_COLUMN = "split"
_SUFFIXES = (*TABLE_SUFFIXES, ".npz")


# ---------------------------------------------------------------------------------------- reading


def _check_path(path: object) -> Path:
    return check_path(path, _SUFFIXES)




def _is_missing(cell: object) -> bool:
    return str(cell).strip().lower() in MISSING


def numeric_column(frame, name: str) -> np.ndarray:
    """Column `name` as float64; errors name the line, the column and the first bad value."""
    column = frame[name]
    if column.dtype.kind in "biuf":
        values = column.to_numpy(dtype=np.float64)
        if np.isfinite(values).all():
            return values
    elif column.dtype.kind == "b":
        return column.to_numpy(dtype=np.float64)
    # Slow path, only to build the message: the first bad cell in file order, as the user wrote it.
    source = frame.attrs.get("source", "the table")
    for r, cell in enumerate(column_text(frame, name)):
        where = f"at {data_line(frame, r)}"
        text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        if _is_missing(text):
            raise GradwiseValueError(f"{source!r} has a missing value ({text!r}) {where}, column {name!r}")
        if not is_number(text):
            raise GradwiseValueError(f"{source!r}: column {name!r} must be numeric, got {text!r} {where}")
        if not np.isfinite(float(text)):
            raise GradwiseValueError(f"{source!r} holds a non-finite value {text!r} {where}, column {name!r}")
    raise AssertionError("unreachable: a column that is not finite numbers has a bad cell")


def target_name(columns: list[str], target: object, source: str) -> str:
    """The target column's name: given by name (case-insensitive if unambiguous) or index, default the last
    column other than ``split``."""
    candidates = [c for c in columns if c.lower() != SPLIT_COLUMN]
    if target is None:
        if not candidates:
            raise GradwiseValueError(f"{source!r} has no column to use as the target: {columns}")
        return candidates[-1]
    if isinstance(target, str):
        if target in columns:
            return target
        folded = [c for c in columns if c.lower() == target.strip().lower()]
        if len(folded) == 1:
            return folded[0]
        try:
            target = int(target)  # `--target 2` on the command line
        except ValueError:
            raise GradwiseValueError(
                f"target column {target!r} not found in {source!r}; its columns are {columns}"
            ) from None
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise GradwiseTypeError(f"target must be a column name or index, got {target!r}")
    if not -len(columns) <= target < len(columns):
        raise GradwiseValueError(
            f"target index {target} is out of range for {source!r}, which has {len(columns)} columns {columns}"
        )
    return columns[int(target) % len(columns)]


# -------------------------------------------------------------------------------- target encoding


def encode_target(values: np.ndarray, name: str, source: str, task: str | None = None):
    """Encode a target column; returns ``(y, task, n_classes, class_names)``.

    Parameters
    ----------
    values : ndarray of shape (m,)
        Numbers, or strings (the cells of a CSV column).
    task : {"classification", "regression"}, optional
        Overrides the automatic choice.
    """
    import pandas as pd

    m = len(values)
    numeric: np.ndarray | None = None
    labels: tuple[np.ndarray, np.ndarray] | None = None  # text: (codes, sorted distinct labels)
    if values.dtype.kind in "biuf":
        numeric = values.astype(np.float64)
    elif values.dtype.kind in "USO":
        # factorize hashes the labels once; np.unique would sort a million strings (same sorted classes)
        try:
            codes, uniques = pd.factorize(values, sort=True)
            odd = [v for v in uniques if not isinstance(v, str | bytes)]
        except TypeError:  # unhashable or unorderable objects
            odd = [next(v for v in values if not isinstance(v, str | bytes))]
        if odd:
            raise GradwiseTypeError(f"target {name!r} in {source!r} must hold numbers or text, got a "
                                    f"{type(odd[0]).__name__} ({odd[0]!r})")
        texts = np.asarray(uniques, dtype=str)
        if all(is_number(t) for t in texts):  # labels written as numbers ('1', '2.5'): their values count
            numeric = texts.astype(np.float64)[codes]
        else:
            labels = codes, texts
    else:
        raise GradwiseTypeError(
            f"target {name!r} in {source!r} must hold numbers or text, got dtype {values.dtype}"
        )
    if numeric is not None and not np.isfinite(numeric).all():
        r = int(np.flatnonzero(~np.isfinite(numeric))[0])
        raise GradwiseValueError(
            f"target {name!r} in {source!r} holds a non-finite value at data row {r + 1}"
        )
    if task is None:
        if numeric is None:
            task = "classification"
        else:
            distinct = len(np.unique(numeric))
            integral = bool((numeric == np.round(numeric)).all())
            few = distinct <= MAX_CLASSES or distinct <= MAX_CLASS_FRACTION * m
            task = "classification" if integral and few else "regression"
    if task == "regression":
        if numeric is None:
            raise GradwiseValueError(
                f"target {name!r} in {source!r} holds text, so it cannot be a regression target"
            )
        return numeric, "regression", None, None
    if numeric is not None:
        classes, y = np.unique(numeric, return_inverse=True)
        class_names = tuple(str(int(c)) if c == int(c) else repr(float(c)) for c in classes)
    else:
        assert labels is not None  # text that is not all numbers
        y, classes = labels
        class_names = tuple(str(c) for c in classes)
    if len(classes) < 2:
        raise GradwiseValueError(
            f"target {name!r} in {source!r} has a single class ({class_names[0]!r}): "
            "a classifier needs at least 2"
        )
    k = len(classes)
    return y.reshape(-1).astype(np.int64), "binary" if k == 2 else "multiclass", k, class_names


# ------------------------------------------------------------------------------------- public API


def target_values(frame, name: str) -> np.ndarray:
    """The target column as an array for :func:`encode_target`; a missing target is an error naming the
    line. Shape (m,): numbers, booleans, or strings (object, or pandas' string array as read)."""
    import pandas as pd

    column = frame[name]
    missing = column.isna().to_numpy()
    if missing.any():
        r = int(np.flatnonzero(missing)[0])
        cell = column_text(frame, name)[r]
        cell = "" if not isinstance(cell, str) else cell
        raise GradwiseValueError(
            f"{frame.attrs.get('source', 'the table')!r} has a missing target ({cell!r}) at "
            f"{data_line(frame, r)}, column {name!r}")
    if column.dtype.kind in "biuf":
        return column.to_numpy()
    if isinstance(column.dtype, pd.StringDtype):  # pandas' own strings: hashed as they are, not as objects
        return column.array
    return column.astype(str).to_numpy(dtype=object)


def split_rows(frame, exclude: str) -> tuple[np.ndarray, str | None]:
    """(is_test mask of shape (m,), the ``split`` column's name or None) from a ``split`` column."""
    source = frame.attrs.get("source", "the table")
    names = [c for c in frame.columns if c.lower() == SPLIT_COLUMN and c != exclude]
    is_test = np.zeros(len(frame), dtype=bool)
    if not names:
        return is_test, None
    name = names[0]
    cells = frame[name].astype(str).str.strip().str.lower().to_numpy(dtype=object)
    bad = np.flatnonzero((cells != "train") & (cells != "test"))
    if len(bad):
        r = int(bad[0])
        raise GradwiseValueError(
            f"{source!r} column {name!r} must hold 'train' or 'test', but {data_line(frame, r)} holds "
            f"{str(frame[name].iloc[r])!r}")
    is_test = cells == "test"
    if is_test.all():
        raise GradwiseValueError(f"{source!r}: every row is marked 'test'; no training rows")
    return is_test, name


def _columns_of(frame: Any, target: object, source: str) -> tuple[str, np.ndarray, list[str]]:
    """(the target column, which rows are test rows, the feature columns) of a table of at least 2 rows."""
    if len(frame) < 2:
        raise GradwiseValueError(f"{source!r} has {len(frame)} data row(s); at least 2 are needed")
    columns = [str(c) for c in frame.columns]
    target_col = target_name(columns, target, source)
    is_test, split_col = split_rows(frame, target_col)
    features = [c for c in columns if c not in (target_col, split_col)]
    if not features:
        raise GradwiseValueError(
            f"{source!r} has no feature columns besides the target {target_col!r}: {columns}")
    return target_col, is_test, features


def dataset_from_frame(frame, target: object = None, *, name: str, task: str | None = None) -> Dataset:
    """A :class:`Dataset` of arrays from an all-numeric table (the target column, the features, ``split``)."""
    source = frame.attrs.get("source", "the table")
    target_col, is_test, features = _columns_of(frame, target, source)
    X = np.column_stack([numeric_column(frame, c) for c in features])
    y, task_name, n_classes, class_names = encode_target(target_values(frame, target_col), target_col, source,
                                                         task)
    if n_classes is not None and len(np.unique(y[~is_test])) < 2:
        raise GradwiseValueError(f"{source!r}: the training rows of target {target_col!r} have a single class")
    return Dataset(
        X_train=X[~is_test], y_train=y[~is_test], X_test=X[is_test], y_test=y[is_test], name=name,
        task=task_name, n_classes=n_classes, feature_names=tuple(features), class_names=class_names,
        description=f"{source} ({len(frame)} rows, {len(features)} features, target {target_col!r})",
    )


def load_file(
    path: str | os.PathLike, target: str | int | None = None, *, task: str | None = None
) -> Dataset:
    """Load a user's ``.csv`` or ``.npz`` file as a :class:`Dataset`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv`` file with a header row, or an ``.npz`` with arrays ``X`` (m, n_x) and ``y`` (m,) (and
        optionally ``X_test``, ``y_test``).
    target : str or int, optional
        CSV only: the target column's name (case-insensitive if unambiguous) or index (negative counts
        from the end); default the last column (other than ``split``).
    task : {"classification", "regression"}, optional
        Force the kind of target instead of the automatic rule (text or integral with ≤ 50 distinct values
        or ≤ 5% of rows → classification).

    Returns
    -------
    Dataset
        Training rows in ``X_train`` (m_train, n_x), ``y_train`` (m_train,); the test set from a CSV
        ``split`` column or the npz's ``X_test``/``y_test``, else empty (0, n_x). Class labels are encoded
        ``0..K-1`` (int64) with the original labels in ``class_names``.

    Raises
    ------
    GradwiseValueError
        Missing or empty file, no header, duplicate columns, non-numeric features, missing values, unknown
        target column, a target with a single class, fewer than 2 rows — each message names the file, line
        and column involved.
    """
    if task is not None:
        task = check_choice("task", task, ("classification", "regression"))
    p = _check_path(path)
    if p.suffix.lower() == ".npz":
        if target is not None:
            raise GradwiseValueError(
                f"target= applies to CSV files and other tables; {str(p)!r} is an .npz holding X and y arrays"
            )
        return _load_npz(p, task)
    return dataset_from_frame(read_table(p), target, name=p.stem, task=task)


def _check_zip(p: Path) -> None:
    """Refuse what `np.load` must not see: a non-zip (it would try to unpickle it), and array headers
    that do not match their data (a header claiming 10¹² elements makes NumPy allocate them first)."""
    with open(p, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            raise GradwiseValueError(f"{str(p)!r} is not a valid .npz file (not a zip archive)")
    try:
        with zipfile.ZipFile(p) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    with archive.open(info) as member:
                        _check_npy_header(p, info, member)
    except GradwiseValueError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: a damaged flag says "encrypted"; NotImplementedError: an unknown compression method
        raise GradwiseValueError(f"{str(p)!r} is not a valid .npz file: {exc}") from None


def _check_npy_header(p: Path, info: zipfile.ZipInfo, member: Any) -> None:
    """The shape and dtype an .npy header declares must account for exactly the bytes stored after it,
    and fit in memory, before anything is allocated."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise GradwiseValueError(f"{str(p)!r}: {info.filename} uses .npy format {version}, which is not read")
    if dtype.hasobject:
        raise GradwiseValueError(f"{str(p)!r} holds arrays that cannot be loaded safely: Object arrays "
                                 f"cannot be loaded when allow_pickle=False")  # NumPy's words, said first
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python ints: no overflow
    stored = info.file_size - member.tell()
    if nbytes != stored:
        raise GradwiseValueError(f"{str(p)!r}: {info.filename} declares shape {shape} of {dtype} ({nbytes} bytes) "
                                 f"but holds {stored} bytes of data")
    if nbytes > _available_memory():
        raise GradwiseValueError(f"{str(p)!r}: {info.filename} holds {nbytes} bytes, more than the memory "
                                 f"available")


def _available_memory() -> int:
    """Bytes of physical memory free now (no limit where the system does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _load_npz(p: Path, task: str | None) -> Dataset:
    _check_zip(p)
    try:
        with np.load(p, allow_pickle=False) as archive:
            keys = list(archive.files)
            missing = [k for k in ("X", "y") if k not in keys]
            if missing:
                raise GradwiseValueError(
                    f"{str(p)!r} must hold arrays 'X' and 'y'; missing {missing}, found {keys}"
                )
            if ("X_test" in keys) != ("y_test" in keys):
                raise GradwiseValueError(
                    f"{str(p)!r} must hold both 'X_test' and 'y_test' or neither; found {keys}"
                )
            arrays = {k: archive[k] for k in ("X", "y", "X_test", "y_test") if k in keys}
    except GradwiseValueError:
        raise
    except (zipfile.BadZipFile, EOFError) as exc:
        raise GradwiseValueError(f"{str(p)!r} is not a valid .npz file: {exc}") from None
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise GradwiseValueError(f"{str(p)!r} holds arrays that cannot be loaded safely: {exc}") from None
    X = as_2d_float("X", arrays["X"], np.dtype(np.float64))
    y = _npz_target(arrays["y"], "y", len(X), p)
    X_test, y_test = np.empty((0, X.shape[1])), y[:0]
    if "X_test" in arrays:
        X_test = as_2d_float("X_test", arrays["X_test"], np.dtype(np.float64), n_features=X.shape[1])
        y_test = _npz_target(arrays["y_test"], "y_test", len(X_test), p)
    if len(X) < 2:
        raise GradwiseValueError(f"{str(p)!r} has {len(X)} training example(s); at least 2 are needed")
    if y.dtype.kind in "biuf" and y_test.dtype.kind in "biuf":
        both = np.concatenate([y.astype(np.float64), y_test.astype(np.float64)])
    else:
        both = np.concatenate([y.astype(str), y_test.astype(str)])
    encoded, task_name, n_classes, class_names = encode_target(both, "y", str(p), task)
    y_enc, y_test_enc = encoded[: len(y)], encoded[len(y) :]
    if n_classes is not None and len(np.unique(y_enc)) < 2:
        raise GradwiseValueError(f"{str(p)!r}: the training labels 'y' have a single class")
    return Dataset(
        X_train=X,
        y_train=y_enc,
        X_test=X_test,
        y_test=y_test_enc,
        name=p.stem,
        task=task_name,
        n_classes=n_classes,
        feature_names=tuple(f"x{i + 1}" for i in range(X.shape[1])),
        class_names=class_names,
        description=f"{p} ({len(X)} training and {len(X_test)} test examples, {X.shape[1]} features)",
    )


def _npz_target(y: np.ndarray, key: str, m: int, p: Path) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise GradwiseValueError(f"{str(p)!r}: {key!r} must have shape (m,) or (m, 1), got {y.shape}")
    if len(y) != m:
        raise GradwiseValueError(f"{str(p)!r}: {key!r} has {len(y)} labels for {m} examples")
    if y.dtype.kind == "S":
        y = y.astype(str)
    return y


def load_features(path: str | os.PathLike, columns: list[str] | tuple[str, ...] | None = None):
    """Read only the features of a file, e.g. to predict with a trained model.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` with a header row, or ``.npz`` with an ``X`` array.
    columns : sequence of str, optional
        CSV: the feature columns to read, in this order (a trained model's feature names; any other
        column, such as the target, is ignored). Default: every column except ``split``.

    Returns
    -------
    X : ndarray of shape (m, n_x), float64
    feature_names : tuple of str, length n_x
    """
    p = _check_path(path)
    if p.suffix.lower() == ".npz":
        _check_zip(p)
        try:
            with np.load(p, allow_pickle=False) as archive:
                if "X" not in archive.files:
                    raise GradwiseValueError(
                        f"{str(p)!r} must hold an array 'X'; found {list(archive.files)}"
                    )
                X = as_2d_float("X", archive["X"], np.dtype(np.float64))
        except (zipfile.BadZipFile, EOFError) as exc:
            raise GradwiseValueError(f"{str(p)!r} is not a valid .npz file: {exc}") from None
        except ValueError as exc:  # a damaged array that passed the header check
            if isinstance(exc, GradwiseValueError):
                raise
            raise GradwiseValueError(f"{str(p)!r} holds arrays that cannot be loaded safely: {exc}") from None
        generic = tuple(f"x{i + 1}" for i in range(X.shape[1]))
        if columns is not None and len(columns) != X.shape[1]:
            raise GradwiseValueError(f"{str(p)!r}: 'X' has {X.shape[1]} features, expected {len(columns)}")
        return X, tuple(columns) if columns is not None else generic
    frame = read_table(p)
    if len(frame) < 1:
        raise GradwiseValueError(f"{str(p)!r} has no data rows")
    header = [str(c) for c in frame.columns]
    names: list[str]
    if columns is None:
        names = [c for c in header if c.lower() != SPLIT_COLUMN]
    else:
        missing = [c for c in columns if c not in header]
        if missing:
            raise GradwiseValueError(
                f"{str(p)!r} lacks the feature column(s) {missing}; its columns are {header}"
            )
        names = list(columns)
    X = np.column_stack([numeric_column(frame, c) for c in names])
    return X, tuple(names)


# ------------------------------------------------------------------------------------------ tables


@dataclass(frozen=True, eq=False)
class TableData:
    """A table read for training or scoring: raw feature columns (typed later, by a column plan fitted on
    the training rows) and the encoded target.

    Attributes
    ----------
    frame : pandas.DataFrame of shape (m, n_columns)
        The feature columns as read (the target and ``split`` columns removed), index 0..m-1 = data rows.
    y : ndarray of shape (m,)
        int64 labels 0..K-1 (classification) or float64 values (regression).
    is_test : ndarray of bool, shape (m,)
        Rows marked ``test`` in a ``split`` column (all False without one).
    task : {"binary", "multiclass", "regression"};  n_classes : int or None
    class_names : tuple of str or None;  target : str;  name : str;  source : str
    """

    frame: Any
    y: np.ndarray
    is_test: np.ndarray
    task: str
    n_classes: int | None
    class_names: tuple[str, ...] | None
    target: str
    name: str
    source: str


def load_table(path: str | os.PathLike, target: str | int | None = None, *, task: str | None = None
               ) -> TableData:
    """Read a CSV/TSV/Parquet table for a column plan: its features as read, its target encoded.

    Parameters
    ----------
    path : str or os.PathLike
    target : str or int, optional
        The target column's name or index (default: the last column other than ``split``).
    task : {"classification", "regression"}, optional
        Overrides the automatic choice (text, booleans or few distinct integers → classification).

    Raises
    ------
    GradwiseValueError
        Everything :func:`~gradwise.data.tables.read_table` refuses, and: fewer than 2 rows, an unknown
        target, no feature column, a column with no value at all, a target with one class or a missing
        target — each naming the file, and the column and line where they apply.
    """
    if task is not None:
        task = check_choice("task", task, ("classification", "regression"))
    frame = read_table(path)
    source = frame.attrs["source"]
    target_col, is_test, features = _columns_of(frame, target, source)
    empty = [c for c in features if frame[c].isna().all()]
    if empty:
        raise GradwiseValueError(f"{source!r}: column {empty[0]!r} has no value in any of its {len(frame)} rows; "
                                 f"remove it or fill it in")
    for c in features:
        column = frame[c]
        if column.dtype.kind == "f" and np.isinf(column.to_numpy()).any():
            r = int(np.flatnonzero(np.isinf(column.to_numpy()))[0])
            raise GradwiseValueError(f"{source!r}: column {c!r} holds a non-finite value {column.iloc[r]} at "
                                     f"{data_line(frame, r)}")
    y, task_name, n_classes, class_names = encode_target(target_values(frame, target_col), target_col, source, task)
    if n_classes is not None and len(np.unique(y[~is_test])) < 2:
        raise GradwiseValueError(f"{source!r}: the training rows of target {target_col!r} have a single class")
    features_frame = frame[features]
    features_frame.attrs["source"] = source
    features_frame.attrs["delimiter"] = frame.attrs.get("delimiter")
    return TableData(features_frame, y, is_test, task_name, n_classes, class_names, target_col,
                     Path(source).stem, source)
