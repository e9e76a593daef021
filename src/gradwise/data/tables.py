"""Reading users' tables through pandas: CSV and TSV (delimiter sniffed) and Parquet (pyarrow).

:func:`read_table` returns a :class:`pandas.DataFrame` with pandas' own types (numbers, strings, booleans;
missing cells as NaN) and the file name in ``frame.attrs["source"]``. It only *reads*: deciding what a
column means (a number, a category, an identifier, …) is the job of :mod:`gradwise.data.columns`, fitted
on the training rows.

Text files
    UTF-8 (a byte-order mark is allowed), a header row of column names, then one row per line. The
    delimiter (``,`` ``;`` tab or ``|``) is sniffed with :class:`csv.Sniffer` on the first kilobyte, then
    the file is parsed by pandas' C engine (``sep=None, engine="python"`` would sniff too, at a tenth of
    the speed). Quoted fields may hold delimiters. The cells of :data:`MISSING` are missing values. In a
    ``;``-separated file a decimal comma is read as a point (``1,5`` → 1.5), as spreadsheets write it.
Parquet
    Any Parquet file pyarrow reads; column types come from its schema, text columns as pandas' Arrow-backed
    strings (as a CSV's text columns are read).

Every mistake raises :class:`~gradwise.errors.GradwiseValueError` naming the file and, where it applies,
the line and the column: an empty file, no header, duplicate or empty column names, bytes that are not
UTF-8, a row with more fields than the header (or fewer), a ``.parquet`` that is not one.
"""

from __future__ import annotations

import collections
import csv
import mmap
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import GradwiseTypeError, GradwiseValueError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MISSING", "TABLE_SUFFIXES", "PARQUET_SUFFIXES", "check_path", "read_table", "data_line", "release_memory"]

#: Cells read as a missing value (any capitalisation; blanks around them are ignored).
MISSING = ("", "na", "n/a", "nan", "null", "none", "?")
TEXT_SUFFIXES = (".csv", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_SUFFIXES = TEXT_SUFFIXES + PARQUET_SUFFIXES
#: bytes looked at to find the header row and sniff the delimiter
_HEAD_BYTES = 64 * 1024
_SNIFF_CHARS = 1024
_DELIMITERS = ",;\t|"


def _na_tokens() -> list[str]:
    """pandas compares missing-value tokens exactly: every capitalisation a user is likely to write."""
    tokens = set()
    for word in MISSING:
        tokens |= {word, word.upper(), word.capitalize(), word.title()}
    return sorted(tokens | {"#N/A", "-nan", "-NaN"})


def check_path(path: object, suffixes: tuple[str, ...]) -> Path:
    """`path` as a Path to an existing, non-empty file whose suffix is one of `suffixes`."""
    if not isinstance(path, str | os.PathLike):
        raise GradwiseTypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise GradwiseValueError(f"data file not found: {str(p)!r}")
    if p.is_dir():
        raise GradwiseValueError(f"data path is a directory, not a file: {str(p)!r}")
    if p.suffix.lower() not in suffixes:
        kinds = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"
        raise GradwiseValueError(
            f"unsupported data file type {p.suffix or '(none)'!r} for {str(p)!r}: use {kinds}")
    if p.stat().st_size == 0:
        raise GradwiseValueError(f"data file is empty: {str(p)!r}")
    return p


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a DataFrame (one row per example, one column per field).

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` / ``.tsv`` (delimiter sniffed) or ``.parquet`` / ``.pq``.

    Returns
    -------
    pandas.DataFrame of shape (m, n_columns)
        Columns in file order, named by the header; numbers as int64/float64, text as strings, booleans
        (``True``/``False``) as bool; missing cells as NaN. ``attrs["source"]`` is the file name and
        ``attrs["delimiter"]`` the delimiter (None for Parquet).

    Raises
    ------
    GradwiseValueError
        See the module documentation; each message names the file, and the line where one applies.
    """
    p = check_path(path, TABLE_SUFFIXES)
    frame = _read_parquet(p) if p.suffix.lower() in PARQUET_SUFFIXES else _read_text(p)
    frame.attrs["source"] = str(p)
    return frame


# ------------------------------------------------------------------------------------------ text
def _head_text(p: Path) -> str:
    """The first bytes of the file as text (a multi-byte character cut at the end is dropped)."""
    with open(p, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # a real decoding error, not a character cut by the read
            raise _not_utf8(p, exc) from None
        return head[: exc.start].decode("utf-8-sig")


def _not_utf8(p: Path, exc: UnicodeDecodeError) -> GradwiseValueError:
    line = exc.object[: exc.start].count(b"\n") + 1
    return GradwiseValueError(
        f"{str(p)!r} is not a UTF-8 text file ({exc.reason} at byte {exc.start}, line {line}); "
        f"save it as UTF-8 (e.g. 'Save as… CSV UTF-8') and try again")


def sniff_delimiter(sample: str, suffix: str = ".csv") -> str:
    """The delimiter of a text table: csv.Sniffer on the first kilobyte, else the header's most common one."""
    if suffix == ".tsv":
        return "\t"
    lines = sample[:_SNIFF_CHARS].splitlines()
    if len(sample) > _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the last line is probably cut
    chunk = "\n".join(line for line in lines if line.strip())
    try:
        return csv.Sniffer().sniff(chunk, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = chunk.splitlines()[0] if chunk else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _header(sample: str, delimiter: str, source: str) -> tuple[list[str], int]:
    """The header's column names (stripped) and its line number; checks names are present and unique."""
    lines = sample.splitlines()
    number = next((i for i, line in enumerate(lines) if line.strip()), None)
    if number is None:
        raise GradwiseValueError(f"data file is empty: {source!r}")
    names = [cell.strip() for cell in next(csv.reader([lines[number]], delimiter=delimiter))]
    line = number + 1
    if all(is_number(cell) for cell in names):
        example = ",".join(f"x{i + 1}" for i in range(len(names) - 1)) + ",y"
        raise GradwiseValueError(
            f"{source!r} has no header row: line {line} holds numbers ({delimiter.join(names)[:60]}); "
            f"add a first line of column names, e.g. {example!r}")
    check_names(names, source)
    return names, line


def check_names(names: list[str], source: str) -> None:
    """Column names must be non-empty and distinct."""
    for i, name in enumerate(names):
        if not str(name).strip():
            raise GradwiseValueError(f"{source!r} header: column {i} has no name")
    counts = collections.Counter(names)
    duplicates = sorted(n for n, count in counts.items() if count > 1)
    if duplicates:
        raise GradwiseValueError(f"{source!r} header has duplicate column name(s) {duplicates}")


def is_number(cell: str) -> bool:
    """True for text that float() reads (the header check and numeric columns of text)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_text(p: Path):
    import pandas as pd

    source = str(p)
    sample = _head_text(p)
    if not sample.strip():
        raise GradwiseValueError(f"data file is empty: {source!r}")
    delimiter = sniff_delimiter(sample, p.suffix.lower())
    names, header_line = _header(sample, delimiter, source)
    initial_space = _initial_space(p, delimiter)

    def parse(low_memory: bool) -> pd.DataFrame:
        # "utf-8", not "utf-8-sig": the C parser drops a byte-order mark itself and reads UTF-8 bytes as they
        # are, where a named codec decodes the whole file through Python first (6% more CPU)
        return pd.read_csv(p, sep=delimiter, engine="c", encoding="utf-8", header=0, names=names,
                           index_col=False, skiprows=header_line - 1, na_values=_na_tokens(), keep_default_na=False,
                           skipinitialspace=initial_space, skip_blank_lines=True, low_memory=low_memory)

    try:
        with warnings.catch_warnings():
            # pandas warns (and drops data) when rows are longer than the header: make that an error
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # pandas types a large file in chunks (low_memory): 12% less CPU than typing it whole. A column
            # whose chunks disagree (numbers, then words) would hold both kinds: read such a file whole.
            warnings.simplefilter("error", pd.errors.DtypeWarning)
            try:
                frame = parse(low_memory=True)
            except pd.errors.DtypeWarning:
                frame = parse(low_memory=False)
    except UnicodeDecodeError:
        raise _not_utf8(p, _decode_error(p)) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise _field_count_error(p, delimiter, len(names), str(exc)) from None
    except pd.errors.EmptyDataError:
        raise GradwiseValueError(f"data file is empty: {source!r}") from None
    frame.attrs["delimiter"] = delimiter
    if len(frame) and frame[names[-1]].isna().any():
        # pandas pads a row with too *few* fields with NaN: tell that apart from a real gap (slow path).
        short = _first_bad_row(p, delimiter, len(names), too_many=False)
        if short is not None:
            line, count = short
            raise GradwiseValueError(
                f"{source!r} line {line} has {count} field(s) but the header has {len(names)} column(s) "
                f"{names}")
    if delimiter == ";":
        _decimal_commas(frame)
    return frame


def _initial_space(p: Path, delimiter: str) -> bool:
    """Whether any field starts with a blank (after a delimiter or a line break, or at the very start).

    pandas' skipinitialspace costs about half of the parse of a large file; a scan of the bytes for a
    delimiter or line break followed by a space or tab costs a tenth of that, so it is paid only when needed.
    """
    with open(p, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as whole:
        if whole.find(b" ") < 0 and (delimiter == "\t" or whole.find(b"\t") < 0):
            return False  # no blank anywhere: a search of the mapped file, nothing copied
    with open(p, "rb") as handle:
        last = b"\n"  # the file's first byte follows a "line break"
        while chunk := handle.read(1 << 24):
            if b" " not in chunk and (delimiter == "\t" or b"\t" not in chunk):  # memchr: no blank at all
                last = chunk[-1:]
                continue
            data = np.frombuffer(last + chunk, dtype=np.uint8)
            blank = data[1:] == ord(" ")
            if delimiter != "\t":
                blank |= data[1:] == ord("\t")
            before = data[:-1][blank]
            if ((before == ord(delimiter)) | (before == ord("\n"))).any():
                return True
            last = chunk[-1:]
    return False


def _decode_error(p: Path) -> UnicodeDecodeError:
    try:
        p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return exc
    return UnicodeDecodeError("utf-8", b"", 0, 1, "undecodable bytes")


def _first_bad_row(p: Path, delimiter: str, n: int, too_many: bool) -> tuple[int, int] | None:
    """(line, fields) of the first data row with more (`too_many`) or fewer fields than the header."""
    with open(p, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        header_seen = False
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if not header_seen:
                header_seen = True
                continue
            if (len(row) > n) if too_many else (len(row) < n):
                return reader.line_num, len(row)
    return None


def _field_count_error(p: Path, delimiter: str, n: int, text: str) -> GradwiseValueError:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    bad = (int(found.group(2)), int(found.group(3))) if found else _first_bad_row(p, delimiter, n, True)
    if bad is None:
        return GradwiseValueError(f"{str(p)!r} is not a valid table: {' '.join(text.split())}")
    line, count = bad
    return GradwiseValueError(
        f"{str(p)!r} line {line} has {count} field(s) but the header has {n} column(s): quote fields that "
        f"hold the delimiter {delimiter!r}")


def _decimal_commas(frame) -> None:
    """In a ';'-separated file, text columns such as '1,5' are numbers written with a decimal comma."""
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biufcmMb":
            continue
        present = column.dropna()
        if len(present) == 0 or not present.astype(str).str.contains(",", regex=False).any():
            continue
        converted = pd.to_numeric(present.astype(str).str.replace(",", ".", regex=False), errors="coerce")
        if converted.notna().all():
            frame[name] = pd.to_numeric(column.astype(str).str.replace(",", ".", regex=False), errors="coerce")


def data_line(frame, row: int) -> str:
    """Where data row `row` (0-based) of a table read by :func:`read_table` is, for messages:
    ``line L (data row r)`` in a text file (blank lines counted, as an editor shows them), ``row r`` in
    Parquet. Slow (it scans the file): for error messages only."""
    source, delimiter = frame.attrs.get("source"), frame.attrs.get("delimiter")
    if source is None or delimiter is None:
        return f"row {row + 1}"
    with open(source, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        seen = -1  # the header
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if seen == row:
                    return f"line {reader.line_num} (data row {row + 1})"
                seen += 1
    return f"data row {row + 1}"


# --------------------------------------------------------------------------------------- parquet
def _read_parquet(p: Path):
    import pyarrow.parquet as pq

    source = str(p)
    with open(p, "rb") as handle:
        start = handle.read(4)
        handle.seek(max(0, p.stat().st_size - 4))
        end = handle.read(4)
    if start != b"PAR1" or end != b"PAR1":
        raise GradwiseValueError(f"{source!r} is not a Parquet file (no 'PAR1' marker at its start and end)")
    try:
        # text stays Arrow strings: asking for dictionaries (categoricals) cost 0.9 s more CPU on a million
        # rows with an identifier column than Arrow's own hashing when the column plan factorizes them
        table = pq.read_table(p)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError family for damaged files
        raise GradwiseValueError(f"{source!r} is not a readable Parquet file: {' '.join(str(exc).split())}") \
            from None
    check_names([str(n) for n in table.column_names], source)
    # column by column, each Arrow buffer released once converted: the table and the frame are not both
    # held whole (about 130 MB less at the peak for a million rows of 30 columns)
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    frame.columns = [str(n) for n in frame.columns]
    frame.attrs["delimiter"] = None
    return frame


def column_text(frame, name: str) -> np.ndarray:
    """A column's values as the text of its cells (object array), re-read from the file when it is a text
    file, so that messages quote what the user wrote ('NaN', '') rather than pandas' NaN."""
    import pandas as pd

    source, delimiter = frame.attrs.get("source"), frame.attrs.get("delimiter")
    if source is None or delimiter is None:
        return frame[name].astype(object).to_numpy()
    raw = pd.read_csv(source, sep=delimiter, engine="c", encoding="utf-8-sig", usecols=[name], dtype=str,
                      keep_default_na=False, skipinitialspace=True, skip_blank_lines=True)
    return raw[name].str.strip().to_numpy(dtype=object)



def release_memory() -> None:
    """Give the memory of tables that are gone back to the system.

    Arrow's allocator (mimalloc or jemalloc; pandas' text columns live in Arrow buffers) keeps freed blocks
    for reuse, and glibc's malloc keeps freed blocks below its mmap threshold: a million-row table left
    about 400 MB held after its frame was dropped, through the whole of training. Call it once the frame
    is encoded and dropped.
    """
    import ctypes
    import sys

    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # glibc only; elsewhere there is nothing to call
    except (OSError, AttributeError):
        pass
