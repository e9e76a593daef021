"""Users' data files: CSV with a header row, or NumPy ``.npz`` with ``X`` and ``y`` arrays.

CSV
    A header line of column names, then one example per line; ``,`` ``;`` or tab separated (detected from
    the header). The target is the column named or numbered by `target` (default: the last column). All
    other columns are features and must be numeric. An optional column named ``split`` holding ``train``
    / ``test`` assigns each row to the training or the test set (as in the bundled ``football.csv``);
    without it every row is a training row and the test set is empty, shape (0, n_x) — split it with
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

import csv
import io
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import as_2d_float, check_choice
from ..errors import GradwiseTypeError, GradwiseValueError
from .datasets import Dataset

__all__ = ["load_features", "load_file"]

#: Cells read as a missing value (compared lower-cased, after stripping blanks).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: Integral targets with at most this many classes (or at most 5% of the rows) are classification.
MAX_CLASSES = 50
MAX_CLASS_FRACTION = 0.05
SPLIT_COLUMN = "split"
_SUFFIXES = (".csv", ".npz")


@dataclass(frozen=True)
class Table:
    """A parsed CSV: column names, cells as stripped strings (row-major) and each row's line number."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    source: str
    delimiter: str = ","

    def column(self, j: int) -> list[str]:
        """Cells of column j; in a ';'-separated file a decimal comma is read as a point (1,5 → 1.5)."""
        cells = [row[j] for row in self.rows]
        if self.delimiter == ";":
            cells = [_decimal_point(cell) for cell in cells]
        return cells


def _decimal_point(cell: str) -> str:
    if "," in cell and "." not in cell:
        candidate = cell.replace(",", ".")
        if _is_number(candidate):
            return candidate
    return cell


# ---------------------------------------------------------------------------------------- reading


def _check_path(path: object) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise GradwiseTypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise GradwiseValueError(f"data file not found: {str(p)!r}")
    if p.is_dir():
        raise GradwiseValueError(f"data path is a directory, not a file: {str(p)!r}")
    if p.suffix.lower() not in _SUFFIXES:
        raise GradwiseValueError(
            f"unsupported data file type {p.suffix or '(none)'!r} for {str(p)!r}: use .csv or .npz"
        )
    if p.stat().st_size == 0:
        raise GradwiseValueError(f"data file is empty: {str(p)!r}")
    return p


def read_csv(path: str | os.PathLike) -> Table:
    """Read and parse a CSV file (see :func:`parse_csv_text`)."""
    p = _check_path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GradwiseValueError(
            f"{str(p)!r} is not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise GradwiseValueError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    return parse_csv_text(text, str(p))


def parse_csv_text(text: str, source: str) -> Table:
    """Parse CSV text with a header row into a :class:`Table`; `source` names it in error messages."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise GradwiseValueError(f"data file is empty: {source!r}")
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    header: tuple[str, ...] | None = None
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    try:
        for raw in reader:
            cells = tuple(cell.strip() for cell in raw)
            if not any(cells):
                continue  # blank line
            if header is None:
                header = _check_header(cells, source, reader.line_num)
                continue
            if len(cells) != len(header):
                raise GradwiseValueError(
                    f"{source!r} line {reader.line_num} has {len(cells)} field(s) but the header has "
                    f"{len(header)} column(s) {list(header)}"
                )
            rows.append(cells)
            numbers.append(reader.line_num)
    except csv.Error as exc:
        raise GradwiseValueError(f"{source!r} is not valid CSV at line {reader.line_num}: {exc}") from None
    assert header is not None
    return Table(header, tuple(rows), tuple(numbers), source, delimiter)


def _check_header(cells: tuple[str, ...], source: str, line: int) -> tuple[str, ...]:
    if all(_is_number(cell) for cell in cells):
        example = ",".join(f"x{i + 1}" for i in range(len(cells) - 1)) + ",y"
        raise GradwiseValueError(
            f"{source!r} has no header row: line {line} holds numbers ({','.join(cells)[:60]}); "
            f"add a first line of column names, e.g. {example!r}"
        )
    for i, name in enumerate(cells):
        if not name:
            raise GradwiseValueError(f"{source!r} header: column {i} has no name")
    duplicates = sorted(name for name, count in Counter(cells).items() if count > 1)
    if duplicates:
        raise GradwiseValueError(f"{source!r} header has duplicate column name(s) {duplicates}")
    return cells


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_missing(cell: str) -> bool:
    return cell.lower() in MISSING


def _numeric_column(table: Table, j: int) -> np.ndarray:
    """Column j as float64; errors name the line, the column and the first bad value."""
    values = table.column(j)
    try:
        column = np.array(values, dtype=np.float64)
        ok = bool(np.isfinite(column).all())
    except ValueError:
        ok = False
    if ok:
        return column
    # Slow path, only to build the message: the first bad cell in file order.
    name, source = table.columns[j], table.source
    for r, cell in enumerate(values):
        where = f"at line {table.lines[r]} (data row {r + 1})"
        if _is_missing(cell):
            raise GradwiseValueError(f"{source!r} has a missing value ({cell!r}) {where}, column {name!r}")
        if not _is_number(cell):
            raise GradwiseValueError(f"{source!r}: column {name!r} must be numeric, got {cell!r} {where}")
        if not np.isfinite(float(cell)):
            raise GradwiseValueError(f"{source!r} holds a non-finite value {cell!r} {where}, column {name!r}")
    raise AssertionError("unreachable: a column that numpy rejects has a bad cell")


def _target_index(table: Table, target: object) -> int:
    columns = list(table.columns)
    candidates = [i for i, c in enumerate(columns) if c.lower() != SPLIT_COLUMN]
    if target is None:
        if not candidates:
            raise GradwiseValueError(f"{table.source!r} has no column to use as the target: {columns}")
        return candidates[-1]
    if isinstance(target, str):
        if target in columns:
            return columns.index(target)
        folded = [i for i, c in enumerate(columns) if c.lower() == target.strip().lower()]
        if len(folded) == 1:
            return folded[0]
        try:
            target = int(target)  # `--target 2` on the command line
        except ValueError:
            raise GradwiseValueError(
                f"target column {target!r} not found in {table.source!r}; its columns are {columns}"
            ) from None
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise GradwiseTypeError(f"target must be a column name or index, got {target!r}")
    if not -len(columns) <= target < len(columns):
        raise GradwiseValueError(
            f"target index {target} is out of range for {table.source!r}, "
            f"which has {len(columns)} columns {columns}"
        )
    return int(target) % len(columns)


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
    m = len(values)
    numeric: np.ndarray | None
    if values.dtype.kind in "biuf":
        numeric = values.astype(np.float64)
    elif values.dtype.kind == "U" and all(_is_number(v) for v in values):
        numeric = values.astype(np.float64)
    elif values.dtype.kind in "US":
        numeric = None
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
        classes, y = np.unique(values, return_inverse=True)
        class_names = tuple(str(c) for c in classes)
    if len(classes) < 2:
        raise GradwiseValueError(
            f"target {name!r} in {source!r} has a single class ({class_names[0]!r}): "
            "a classifier needs at least 2"
        )
    k = len(classes)
    return y.reshape(-1).astype(np.int64), "binary" if k == 2 else "multiclass", k, class_names


# ------------------------------------------------------------------------------------- public API


def dataset_from_table(table: Table, target: object = None, *, name: str, task: str | None = None) -> Dataset:
    """Build a :class:`Dataset` from a parsed CSV (the target column, the features, the ``split`` column)."""
    if len(table.rows) < 2:
        raise GradwiseValueError(f"{table.source!r} has {len(table.rows)} data row(s); at least 2 are needed")
    t = _target_index(table, target)
    target_name = table.columns[t]
    split_idx = [i for i, c in enumerate(table.columns) if c.lower() == SPLIT_COLUMN and i != t]
    feature_idx = [i for i in range(len(table.columns)) if i != t and i not in split_idx]
    if not feature_idx:
        raise GradwiseValueError(
            f"{table.source!r} has no feature columns besides the target {target_name!r}: "
            f"{list(table.columns)}"
        )
    X = np.column_stack([_numeric_column(table, j) for j in feature_idx])
    raw = table.column(t)
    for r, cell in enumerate(raw):
        if _is_missing(cell):
            raise GradwiseValueError(
                f"{table.source!r} has a missing target ({cell!r}) "
                f"at line {table.lines[r]} (data row {r + 1}), "
                f"column {target_name!r}"
            )
    y, task_name, n_classes, class_names = encode_target(np.array(raw), target_name, table.source, task)
    is_test = np.zeros(len(table.rows), dtype=bool)
    if split_idx:
        j = split_idx[0]
        for r, cell in enumerate(table.column(j)):
            if cell.lower() not in ("train", "test"):
                raise GradwiseValueError(
                    f"{table.source!r} column {table.columns[j]!r} must hold 'train' or 'test', "
                    f"but line {table.lines[r]} (data row {r + 1}) holds {cell!r}"
                )
            is_test[r] = cell.lower() == "test"
        if is_test.all():
            raise GradwiseValueError(f"{table.source!r}: every row is marked 'test'; no training rows")
    if n_classes is not None and len(np.unique(y[~is_test])) < 2:
        raise GradwiseValueError(
            f"{table.source!r}: the training rows of target {target_name!r} have a single class"
        )
    return Dataset(
        X_train=X[~is_test],
        y_train=y[~is_test],
        X_test=X[is_test],
        y_test=y[is_test],
        name=name,
        task=task_name,
        n_classes=n_classes,
        feature_names=tuple(table.columns[j] for j in feature_idx),
        class_names=class_names,
        description=(
            f"{table.source} ({len(table.rows)} rows, {len(feature_idx)} features, target {target_name!r})"
        ),
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
                f"target= applies to CSV files; {str(p)!r} is an .npz holding X and y arrays"
            )
        return _load_npz(p, task)
    return dataset_from_table(read_csv(p), target, name=p.stem, task=task)


def _check_zip(p: Path) -> None:
    with open(p, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":  # np.load would otherwise try to unpickle it
            raise GradwiseValueError(f"{str(p)!r} is not a valid .npz file (not a zip archive)")


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
        names = tuple(f"x{i + 1}" for i in range(X.shape[1]))
        if columns is not None and len(columns) != X.shape[1]:
            raise GradwiseValueError(f"{str(p)!r}: 'X' has {X.shape[1]} features, expected {len(columns)}")
        return X, tuple(columns) if columns is not None else names
    table = read_csv(p)
    if len(table.rows) < 1:
        raise GradwiseValueError(f"{str(p)!r} has no data rows")
    if columns is None:
        idx = [i for i, c in enumerate(table.columns) if c.lower() != SPLIT_COLUMN]
    else:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise GradwiseValueError(
                f"{str(p)!r} lacks the feature column(s) {missing}; its columns are {list(table.columns)}"
            )
        idx = [table.columns.index(c) for c in columns]
    X = np.column_stack([_numeric_column(table, j) for j in idx])
    return X, tuple(table.columns[j] for j in idx)
