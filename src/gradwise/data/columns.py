"""The column plan: what each column of a table means, learned on the training rows only.

:class:`Preprocessor` (``gw.Preprocessor``) looks at each column of the training rows once and decides:

numbers
    int/float columns (and text columns whose values are all numbers): the training **median** fills the
    gaps, and a missing-indicator column ``name:missing`` (1 where the value was missing) is added when
    at least `min_frequency` training rows had gaps — like a rare level, a gap seen once or twice is no
    pattern to learn, and the network would learn it anyway (on the Palmer penguins one training row
    without measurements made its indicators mean "Adelie" with near certainty). With
    ``standardize=True`` the values (not the indicators) are then standardized with a
    :class:`~gradwise.data.Standardizer` fitted on the training rows.
booleans
    bool columns and two-valued text ``yes/no``, ``true/false``, ``y/n``, ``t/f`` (any capitalisation):
    one 0/1 column (gaps as numbers: most frequent value plus an indicator, on the same rule).
categories
    other text: one-hot, one column ``name=level`` per level seen at least `min_frequency` times in
    training (at most `max_levels` of them, the most frequent); rarer levels share one ``name:other``
    column; gaps get a ``name:missing`` column (when at least `min_frequency` training rows have them;
    otherwise a gap encodes as all zeros). A level never seen in training encodes as all zeros and is
    counted in a :class:`~gradwise.errors.DataWarning`.
names (encoded by their words)
    a text column of short values of several words that are mostly distinct — a car's model
    ("chevrolet chevelle malibu"), a product or a job title — has too many levels to one-hot, but its
    words repeat: one 0/1 column ``name~word`` per word (letters and digits, lower-cased) found in at
    least `min_frequency` training rows (at most :data:`MAX_WORDS`, the most frequent), 1 where the value
    holds the word; gaps get a ``name:missing`` column (on the same rule as categories). Words unseen in
    training are ignored.
left out, with a note (a DataWarning at fit)
    **identifiers** (a text column with one distinct value per row, or an integer column counting up or
    down row by row: a serial number, not a measurement that happens to be distinct), **constant** columns, **free
    text** (mostly distinct values of :data:`FREE_TEXT_WORDS` words or more: sentences), columns missing
    on every training row, categories none of whose levels is frequent enough, and names none of whose
    words is.

Mixed columns: a text column in which at least 90% of the values are numbers is a column of numbers
whose words are read as missing values (with a warning naming the first word and its row); below that it
is a column of categories. Nothing in a column makes fitting fail except a non-finite number (``inf``).

The plan is JSON (:meth:`Preprocessor.get_config` / :meth:`Preprocessor.from_config`): it is saved with
a model by :func:`gradwise.save` and in run directories, never pickled.
"""

from __future__ import annotations

import math
import mmap
import re
import warnings
from collections import Counter
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_int
from ..errors import DataWarning, GradwiseTypeError, GradwiseValueError
from .standardize import Standardizer

__all__ = ["Preprocessor", "is_dataframe", "numeric_standardizer"]

#: a text column is numeric when at least this share of its values are numbers (the rest read as missing)
NUMERIC_SHARE = 0.9
#: tables shorter than this are too small to call a column an identifier or free text
MIN_ROWS_TO_JUDGE = 20
#: mostly distinct text: more than this share of the present training rows hold distinct values
FREE_TEXT_DISTINCT = 0.5
#: mostly distinct text whose values have a median of at least this many words is free text (sentences),
#: left out; with 2 to FREE_TEXT_WORDS - 1 words it is a column of names, encoded by their words
FREE_TEXT_WORDS = 5
#: at most this many word columns for a column of names (the words found in the most training rows)
MAX_WORDS = 50
#: a word: a run of letters and digits (so "(sw)" is "sw" and "2+2" is "2", "2")
WORD = re.compile(r"[^\W_]+")
#: text values looked at before parsing a whole column as numbers
SAMPLE = 1000
#: values in the strided sample whose order statistics bound a median (see _median_in_place)
MEDIAN_SAMPLE = 4096
BOOLEAN_PAIRS = ({"yes", "no"}, {"true", "false"}, {"y", "n"}, {"t", "f"})
TRUE_WORDS = {"yes", "true", "y", "t"}
KINDS = ("numeric", "boolean", "category", "words", "dropped")


def is_dataframe(X: object) -> bool:
    """Whether `X` is a pandas DataFrame (without importing pandas when it is not loaded)."""
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(X, pandas.DataFrame)


def _where(index: Any, position: int) -> str:
    label = index[position]
    return f"data row {int(label) + 1}" if isinstance(label, int | np.integer) else f"row {label!r}"


def _as_text(column):
    """A column's present values as text; integral floats print without '.0' (pandas reads '1' and a gap
    as 1.0), so the same cell gives the same level whatever else its file holds."""
    if column.dtype.kind == "f":
        return column.map(lambda v: str(int(v)) if float(v).is_integer() else repr(float(v)))
    if column.dtype.kind in "mM":
        return column.astype(str)
    return column.astype(str).str.strip()


def _codes(column, memo: dict | None = None) -> tuple[np.ndarray, Any]:
    """Each row's code into the column's distinct texts: (codes (m,) signed ints, -1 for a gap; texts (k,)).

    The column is factorized once and only its distinct values are turned into text (:func:`_as_text`;
    values equal after stripping share one code): a million rows of a few words cost one hash pass, not
    a million string operations. With a `memo` (one per fit/transform of one frame) a column is factorized
    once for both; the codes are kept in the smallest integer type that holds them.

    `texts` is an object array of str, or pandas' Arrow string array when the column is one already (an
    identifier's million distinct texts are not made into Python strings); both index, iterate and convert
    alike.
    """
    import pandas as pd

    if memo is not None and column.name in memo:
        return memo[column.name]
    raw, uniques = pd.factorize(column, use_na_sentinel=True)
    result: tuple[np.ndarray, Any]
    if len(uniques) == 0:
        result = np.full(len(column), -1, dtype=np.int8), np.empty(0, dtype=object)
    else:
        as_read = pd.Series(uniques)
        as_text = _as_text(as_read)
        small = np.int8 if len(uniques) < 127 else np.int16 if len(uniques) < 32767 else np.int32
        if bool((as_text == as_read).all()):  # each text is its (distinct) value: nothing to merge
            arrow = isinstance(as_text.dtype, pd.StringDtype) and as_text.dtype.storage == "pyarrow"
            result = raw.astype(small), as_text.array if arrow else as_text.to_numpy(dtype=object)
        else:
            merged, texts = pd.factorize(as_text.to_numpy(dtype=object))
            lookup = np.append(merged, -1).astype(small)  # code -1 (a gap) picks the -1 at the end
            result = lookup[raw], np.asarray(texts, dtype=object)
    if memo is not None:
        memo[column.name] = result
    return result


def _parse_numbers(texts: np.ndarray) -> np.ndarray:
    """float64 of each text (NaN where it is not a number)."""
    import pandas as pd

    return pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


# --------------------------------------------------------------------------------------- fitting
def _median_in_place(x: np.ndarray, n: int | None = None) -> float:
    """np.nanmedian(x): the middle of the `n` values that are not NaN (counted when not given; the mean of
    the two middle ones for even `n`), exactly, without sorting.

    Floyd and Rivest's selection: two bounds read off a strided sample of `x` bracket the middle; one pass
    counts the values below the lower bound and gathers those between the bounds (a tenth of them), and
    only those are partitioned. When the bounds miss the middle (an unlucky sample) `x` itself is
    partitioned in place (NumPy's partition puts NaN last). Both ways give the same order statistics.
    """
    n = len(x) - int(np.isnan(x).sum()) if n is None else n
    k = n // 2
    ranks = [k] if n % 2 else [k - 1, k]  # the 0-based ranks of the middle value(s) among the present ones
    between, below = _bracket_middle(x, k / n) if len(x) >= MEDIAN_SAMPLE * 4 else (None, 0)
    if between is not None and below <= ranks[0] and ranks[-1] < below + len(between):
        at = [r - below for r in ranks]
        between.partition(at)
        middle = between[at]
    else:
        x.partition(ranks)
        middle = x[ranks]
    return float(middle[0]) if n % 2 else float((middle[0] + middle[1]) / 2)


def _bracket_middle(x: np.ndarray, share: float) -> tuple[np.ndarray | None, int]:
    """(the values of `x` between two bounds around its `share` quantile, how many values lie below the
    lower bound); the bounds are six standard deviations of a sample's rank apart, so they miss only when
    the sample is far from typical (None when the sample holds no value)."""
    sample = x[:: len(x) // MEDIAN_SAMPLE]
    sample = np.sort(sample[~np.isnan(sample)])
    if not len(sample):
        return None, 0
    spread = 3 * np.sqrt(len(sample))
    centre = share * len(sample)
    low = sample[max(0, int(centre - spread))]
    high = sample[min(len(sample) - 1, int(centre + spread))]
    return x[(x >= low) & (x <= high)], int(np.count_nonzero(x < low))


def _fit_numeric(name: str, arr: np.ndarray, index: Any, source: str, min_frequency: int, words: int = 0,
                 example: str = "") -> dict:
    """arr: the column as float64 (NaN for gaps) on the training rows, `index` their row labels; `arr` is the
    caller's own copy, reordered here."""
    bad = np.isinf(arr)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise GradwiseValueError(f"{source!r}: column {name!r} holds a non-finite value {arr[r]} at "
                                 f"{_where(index, r)}")
    gaps = int(np.isnan(arr).sum())
    spec = {"name": name, "kind": "numeric", "median": _median_in_place(arr, len(arr) - gaps),
            "indicator": gaps >= min_frequency}
    if words:
        warnings.warn(f"column {name!r} mixes numbers and words: {words} word(s) such as {example} read as "
                      f"missing values", DataWarning, stacklevel=4)
    return spec


def _fit_boolean(name: str, arr: np.ndarray, min_frequency: int) -> dict:
    """arr: 1.0 / 0.0 / NaN per training row."""
    present = arr[~np.isnan(arr)]
    fill = float(present.mean() >= 0.5)
    return {"name": name, "kind": "boolean", "fill": fill, "indicator": len(arr) - len(present) >= min_frequency}


def _dropped(name: str, reason: str) -> dict:
    return {"name": name, "kind": "dropped", "reason": reason}


def _text_numbers(texts: np.ndarray, codes: np.ndarray) -> tuple[float, np.ndarray]:
    """(share of the present rows `codes` that are numbers, number per distinct text with NaN for words).

    Parsing a million words to learn that they are words costs more than reading the file: the first
    SAMPLE rows decide when they are mostly words (a column that is >= 90% numbers cannot look so)."""
    parsed = np.full(len(texts), np.nan)
    sample = codes[:SAMPLE]
    looked = np.unique(sample)
    parsed[looked] = _parse_numbers(texts[looked])
    share = float(np.mean(~np.isnan(parsed[sample])))
    if len(codes) <= SAMPLE:
        return share, parsed
    if share < 0.5:
        return 0.0, parsed
    rest = np.setdiff1d(np.unique(codes), looked, assume_unique=True)
    parsed[rest] = _parse_numbers(texts[rest])
    return float(np.mean(~np.isnan(parsed[codes]))), parsed


def _fit_text(name: str, column, source: str, max_levels: int, min_frequency: int, rows: Any,
              memo: dict | None = None) -> dict:
    """A text column: booleans, numbers written as text, identifiers, free text or categories.

    `rows` (positions, or None for all) are the training rows; the column is not copied for them — unless
    its first training rows are distinct words: an identifier, free text or names, which the plan mostly
    leaves out, is factorized on its training rows alone (hashing a million distinct texts is most of its
    cost; a kept one is factorized again over all rows when it is encoded). The plan is the same either way."""

    if rows is not None and len(rows) > SAMPLE and _first_rows_distinct_words(column, rows):
        return _fit_text(name, column.iloc[rows], source, max_levels, min_frequency, None)
    all_codes, texts = _codes(column, memo)
    codes = (all_codes if rows is None else all_codes[rows]).astype(np.intp)
    present = codes >= 0
    m, k = len(codes), int(present.sum())
    if k == 0:
        return _dropped(name, "missing on every training row")
    tally = np.bincount(codes[present], minlength=len(texts))
    seen = np.flatnonzero(tally)
    if len(seen) == 2 and {str(texts[t]).lower() for t in seen} in BOOLEAN_PAIRS:
        truth = np.array([1.0 if str(t).lower() in TRUE_WORDS else 0.0 for t in texts])
        return _fit_boolean(name, np.where(present, truth[codes], np.nan), min_frequency)
    share, parsed = _text_numbers(texts, codes[present])
    if share >= NUMERIC_SHARE:
        values = np.where(present, parsed[codes], np.nan)
        words = present & np.isnan(values)
        index = column.index if rows is None else column.index[rows]
        example = ""
        if words.any():
            r = int(np.argmax(words))
            example = f"{texts[codes[r]]!r} at {_where(index, r)}"
        return _fit_numeric(name, values, index, source, min_frequency, int(words.sum()), example)
    if len(seen) == 1 and k == m:
        return _dropped(name, f"constant (every training row holds {texts[seen[0]]!r})")
    missing = m - k >= min_frequency  # a column for the gaps, as for a level: when they are not rare
    if m >= MIN_ROWS_TO_JUDGE and len(seen) > FREE_TEXT_DISTINCT * k:
        return _fit_distinct_text(name, texts, codes[present], tally, gaps=k < m, missing=missing,
                                  min_frequency=min_frequency, max_levels=max_levels)
    return _fit_levels(name, _level_counts(texts, tally), missing=missing, max_levels=max_levels,
                       min_frequency=min_frequency)


def _first_rows_distinct_words(column, rows: np.ndarray) -> bool:
    """Whether the first SAMPLE training rows of a text column hold SAMPLE distinct values, mostly words
    (as an identifier, free text or names do; numbers written as text are kept, and so factorized anyway)."""
    sample = rows[:SAMPLE]
    first = column.iloc[:int(sample.max()) + 1].iloc[sample]  # a slice first: Arrow's take on the whole
    # column would join its chunks (a copy of every text) to pick a thousand
    if first.nunique(dropna=False) < SAMPLE:
        return False
    return bool(np.isnan(_parse_numbers(first.to_numpy(dtype=object))).mean() > 0.5)


def _level_counts(texts: Any, tally: np.ndarray):
    """Training rows per text, for the texts seen in training (a Series indexed by the text)."""
    import pandas as pd

    seen = np.flatnonzero(tally)
    return pd.Series(tally[seen], index=pd.Index(np.asarray(texts[seen], dtype=object), dtype=object))


def _arrow_texts(texts: Any):
    import pyarrow as pa

    return pa.array(texts, type=pa.large_string()) if isinstance(texts, np.ndarray) else pa.array(texts)


def _median_words(texts: Any, codes: np.ndarray) -> float:
    """The median number of words (runs of non-blanks, as str.split finds them: Arrow's split agrees on
    every Unicode blank) over the rows of `codes`; `texts` an Arrow string array (no Python string per text)."""
    import pyarrow.compute as pc

    counts = np.asarray(pc.list_value_length(pc.utf8_split_whitespace(texts)), dtype=np.int64)
    return _median_in_place(counts[codes], len(codes))


def _median_bytes(texts: Any, codes: np.ndarray) -> float:
    """The median length in UTF-8 bytes over the rows of `codes` (read off the Arrow array's offsets)."""
    import pyarrow.compute as pc

    return _median_in_place(np.asarray(pc.binary_length(texts), dtype=np.int64)[codes], len(codes))


def _fit_distinct_text(name: str, texts: Any, codes: np.ndarray, tally: np.ndarray, *, gaps: bool, missing: bool,
                       min_frequency: int, max_levels: int) -> dict:
    """Mostly distinct text (`codes`: the present training rows' codes into `texts`, `tally`: rows per text;
    `gaps`: whether some training rows have none, `missing`: whether enough for a column of their own):
    free text, an identifier, a column of names (several words) or, with one word per value, rare
    categories.

    A text of w words holds at least 2w - 1 bytes: when the median text is shorter than
    2 * FREE_TEXT_WORDS - 1 bytes the column is not free text, and an identifier's words are not counted."""
    distinct = int(np.count_nonzero(tally))
    arrow = _arrow_texts(texts)  # once, for the lengths and the words
    could_be_prose = _median_bytes(arrow, codes) >= 2 * FREE_TEXT_WORDS - 1
    median_words = _median_words(arrow, codes) if could_be_prose else None
    if median_words is not None and median_words >= FREE_TEXT_WORDS:
        return _dropped(name, f"free text ({distinct} distinct values in {len(codes)} rows)")
    if distinct == len(codes) and not gaps:
        return _dropped(name, "an identifier (one distinct value per row)")
    if median_words is None:  # short texts: counted only now that an identifier is ruled out
        median_words = _median_words(arrow, codes)
    if median_words >= 2:
        return _fit_words(name, texts, codes, missing=missing, min_frequency=min_frequency)
    return _fit_levels(name, _level_counts(texts, tally), missing=missing, max_levels=max_levels,
                       min_frequency=min_frequency)


def _words_of(text: object) -> set[str]:
    return set(WORD.findall(str(text).lower()))


def _fit_words(name: str, texts: np.ndarray, codes: np.ndarray, *, missing: bool, min_frequency: int) -> dict:
    """A column of names: its words found in at least `min_frequency` training rows (ties broken by the
    word, so the plan does not depend on row order)."""
    tally = np.bincount(codes, minlength=len(texts))
    rows_with: Counter[str] = Counter()
    for t in np.flatnonzero(tally):
        for word in _words_of(texts[t]):
            rows_with[word] += int(tally[t])
    order = sorted(rows_with.items(), key=lambda item: (-item[1], item[0]))
    kept = [w for w, c in order if c >= min_frequency][:MAX_WORDS]
    if not kept:
        return _dropped(name, f"names none of whose words is seen in {min_frequency} rows "
                              f"({len(tally.nonzero()[0])} distinct values in {len(codes)} rows)")
    return {"name": name, "kind": "words", "words": kept, "missing": missing}


def _fit_levels(name: str, counts, *, missing: bool, max_levels: int, min_frequency: int) -> dict:
    """One-hot levels: the frequent ones (ties broken by name, so the plan does not depend on row order)."""
    order = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    levels = [str(v) for v, c in order if c >= min_frequency][:max_levels]
    rare = [str(v) for v, _ in order if str(v) not in set(levels)]
    if not levels:
        return _dropped(name, f"a category none of whose {len(rare)} levels is seen {min_frequency} times")
    return {"name": name, "kind": "category", "levels": levels, "rare": rare, "other": bool(rare),
            "missing": missing}


def _fit_column(name: str, column, source: str, max_levels: int, min_frequency: int, rows: Any = None,
                memo: dict | None = None) -> dict:
    kind = column.dtype.kind
    if kind not in "biuf":
        return _fit_text(name, column, source, max_levels, min_frequency, rows, memo)
    # numbers: the training rows taken from the column's own array (float64 is not copied first)
    whole = column.to_numpy(dtype=np.float64, na_value=np.nan)
    values = whole.copy() if rows is None else whole[rows]
    present = len(values) - int(np.isnan(values).sum())
    if present == 0:
        return _dropped(name, "missing on every training row")
    if kind == "b":
        return _fit_boolean(name, values, min_frequency)
    # min == max and strict monotonicity answer "constant?" and "a serial number?" without hashing every value
    if present == len(values) and np.min(values) == np.max(values):
        held = column.iloc[0 if rows is None else rows[0]]
        return _dropped(name, f"constant (every training row holds {getattr(held, 'item', lambda: held)()!r})")
    if kind in "iu" and len(values) >= MIN_ROWS_TO_JUDGE and present == len(values):
        exact = column.to_numpy(dtype=np.int64 if kind == "i" else np.uint64)  # ids past 2**53 stay distinct
        steps = np.diff(exact if rows is None else exact[np.sort(rows)])  # a split may shuffle rows
        if (steps > 0).all() or (steps < 0).all():  # distinct and counting: an identifier
            return _dropped(name, "an identifier (a distinct number per row, counting row by row)")
    return _fit_numeric(name, values, column.index if rows is None else column.index[rows], source, min_frequency)


# ------------------------------------------------------------------------------------ encoding
def _output_names(spec: dict) -> list[str]:
    name, kind = spec["name"], spec["kind"]
    if kind in ("numeric", "boolean"):
        return [name] + ([f"{name}:missing"] if spec["indicator"] else [])
    if kind == "category":
        return ([f"{name}={level}" for level in spec["levels"]] + ([f"{name}:other"] if spec["other"] else [])
                + ([f"{name}:missing"] if spec["missing"] else []))
    if kind == "words":
        return [f"{name}~{word}" for word in spec["words"]] + ([f"{name}:missing"] if spec["missing"] else [])
    return []


def _warn(message: str) -> None:
    warnings.warn(message, DataWarning, stacklevel=4)


def _numbers(column, name: str, source: str, memo: dict | None = None):
    """(values, codes, mask of words) of a column meant to hold numbers: float64 values with NaN for gaps
    and words — one per row (a float64 column's own array, not copied; codes None), or one per distinct text
    with `codes` (m,) into them (-1, a gap, picks a NaN appended at the end)."""
    if column.dtype == np.float64:
        values, codes = column.to_numpy(), None  # read only: gaps are filled where they are written
    elif column.dtype.kind in "iufb":
        values, codes = column.to_numpy(dtype=np.float64, na_value=np.nan, copy=True), None
    else:
        codes, texts = _codes(column, memo)
        values = np.append(_parse_numbers(texts), np.nan)
    per_row = values if codes is None else values[codes]
    words = np.zeros(len(column), dtype=bool) if codes is None else (codes >= 0) & np.isnan(per_row)
    if np.isinf(values).any():
        r = int(np.flatnonzero(np.isinf(per_row))[0])
        raise GradwiseValueError(f"{source!r}: column {name!r} holds a non-finite value {per_row[r]} at "
                                 f"{_where(column.index, r)}")
    return values, codes, words


class _Filled(NamedTuple):
    """A column of numbers to write: output column `j`, `values` (NaN: a gap, written as `fill`) per row, or
    per distinct text with `codes` per row; its missing indicator (column j + 1) when `indicator`."""

    j: int
    values: np.ndarray
    codes: np.ndarray | None
    fill: float
    indicator: bool


class _Numbers:
    """Writes all the columns of numbers (:class:`_Filled`) into row blocks at once: a block's values are
    gathered into a (columns, rows) buffer, filled, and written by two 2-d assignments (values, indicators)
    rather than two strided writes per column."""

    def __init__(self, columns: list[_Filled]):
        self.columns = columns
        self.at = np.array([c.j for c in columns], dtype=np.intp)
        self.flagged = np.array([i for i, c in enumerate(columns) if c.indicator], dtype=np.intp)
        self.flags_at = self.at[self.flagged] + 1  # a column's indicator follows its values
        self.fills = np.array([[c.fill] for c in columns])
        self.buffer = np.empty((len(columns), 0))

    def write(self, block: np.ndarray, rows: Any) -> None:
        if self.buffer.shape[1] < len(block):
            self.buffer = np.empty((len(self.columns), len(block)))
        values = self.buffer[:, :len(block)]
        for i, c in enumerate(self.columns):
            values[i] = c.values[rows] if c.codes is None else c.values[c.codes[rows]]
        gaps = np.isnan(values)
        block[:, self.flags_at] = gaps[self.flagged].T
        np.copyto(values, self.fills, where=gaps)
        block[:, self.at] = values.T


class _OneHot:
    """Writes one-hot columns into row blocks of a zeroed matrix: `offsets` (m,) the column of each row's 1
    (-1: all zeros), so only the ones are written."""

    def __init__(self, j: int, offsets: np.ndarray):
        self.j, self.offsets = j, offsets

    def write(self, block: np.ndarray, rows: Any) -> None:
        k = self.offsets[rows]
        # each row's 1 as a flat position in the block; k (small ints) is added last, to an intp array, so
        # it is widened (adding the column j to k first would wrap past 127)
        at = (np.arange(len(k)) * block.shape[1] + self.j) + k
        np.put(block, at[k >= 0], 1)  # one flat scatter: cheaper than a 2-d fancy assignment


def _encode_numeric(spec: dict, column, j: int, source: str, memo: dict | None) -> _Filled:
    values, codes, words = _numbers(column, spec["name"], source, memo)
    if words.any():
        r = int(np.flatnonzero(words)[0])
        _warn(f"column {spec['name']!r}: {int(words.sum())} value(s) that are not numbers (e.g. "
              f"{str(column.iloc[r])!r} at {_where(column.index, r)}) read as missing")
    fill = spec["median"] if spec["kind"] == "numeric" else spec["fill"]
    return _Filled(j, values, codes, fill, spec["indicator"])


def _encode_boolean(spec: dict, column, j: int, source: str, memo: dict | None) -> _Filled:
    if column.dtype.kind in "biuf":
        return _encode_numeric(spec, column, j, source, memo)
    codes, texts = _codes(column, memo)
    lowered = [str(t).lower() for t in texts]
    answers = TRUE_WORDS | {w for pair in BOOLEAN_PAIRS for w in pair}
    truth_of = np.array([(1.0 if t in TRUE_WORDS else 0.0) if t in answers else np.nan for t in lowered] + [np.nan])
    unknown = (codes >= 0) & np.isnan(truth_of[codes])  # code -1 (a gap) picks the NaN at the end
    if unknown.any():
        r = int(np.argmax(unknown))
        _warn(f"column {spec['name']!r}: {int(unknown.sum())} value(s) that are not yes/no or true/false "
              f"(e.g. {lowered[codes[r]]!r}) read as missing")
    return _Filled(j, truth_of, codes, spec["fill"], spec["indicator"])


def _encode_category(spec: dict, column, j: int, source: str, memo: dict | None) -> _OneHot:
    import pandas as pd

    levels = spec["levels"]
    width = len(_output_names(spec))
    text_codes, texts = _codes(column, memo)
    level_of = pd.Index(levels + spec["rare"]).get_indexer(pd.Index(texts, dtype=object))
    unseen = np.flatnonzero(np.append(level_of, -2)[text_codes] == -1)  # a gap's code -1 picks the -2
    if len(unseen):
        _warn(f"column {spec['name']!r}: {len(unseen)} row(s) hold a category unseen in training (e.g. "
              f"{str(column.iloc[unseen[0]])!r} at {_where(column.index, int(unseen[0]))}), encoded as all zeros")
    # the output column of each distinct text: its level, the shared "other" column for a rare level, none
    # (-1) for an unseen one; then the gap's column ("missing"), or none
    offset = np.where(level_of >= len(levels), len(levels), level_of) if spec["other"] else \
        np.where(level_of >= len(levels), -1, level_of)
    gap = width - 1 if spec["missing"] else -1
    small = np.int8 if width < 127 else np.int32
    return _OneHot(j, np.append(offset, gap).astype(small)[text_codes])


class _Table:
    """Writes columns looked up per distinct value: row t of `table` (k + 1, width) for the rows of code t,
    its last row for a gap (code -1)."""

    def __init__(self, j: int, table: np.ndarray, codes: np.ndarray):
        self.j, self.table, self.codes = j, table, codes

    def write(self, block: np.ndarray, rows: Any) -> None:
        block[:, self.j:self.j + self.table.shape[1]] = self.table[self.codes[rows]]


def _encode_words(spec: dict, column, j: int, source: str, memo: dict | None) -> _Table:
    """One 0/1 column per known word (then the gap's column), found once per distinct value, not per row."""
    words = spec["words"]
    position = {w: i for i, w in enumerate(words)}
    text_codes, texts = _codes(column, memo)
    table = np.zeros((len(texts) + 1, len(words) + bool(spec["missing"])), dtype=np.int8)
    for t, text in enumerate(texts):
        for word in _words_of(text):
            if word in position:
                table[t, position[word]] = 1
    if spec["missing"]:
        table[-1, len(words)] = 1
    return _Table(j, table, text_codes)


_ENCODERS: dict[str, Any] = {"numeric": _encode_numeric, "boolean": _encode_boolean, "category": _encode_category,
                             "words": _encode_words}
#: rows per block when encoding: a block of the output matrix stays in the cache while every column is
#: written into it (a column at a time over the whole matrix would stride through all of it per column)
_BLOCK_BYTES = 1 << 20
#: matrices at least this large are mapped with small pages (see _zeroed_matrix)
_SMALL_PAGES_FROM_BYTES = 1 << 26


def _zeroed_matrix(shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """A zeroed (m, n) matrix; a large one is an anonymous map populated in one call, with small pages.

    The kernel zeroes pages as they are first touched. On a virtual machine a fresh transparent huge page
    costs whatever the host spends backing it: the first writes into a new 316 MB matrix (the million-row
    table's) took 0.03 s to 0.7 s, run to run, on this project's CI machine. With 4 KB pages they cost a
    steady 0.25 s as page faults, 0.15 s populated by the map itself (MAP_POPULATE; small pages wherever
    huge ones are only given on request, madvise, the default here and on most distributions). The matrix
    is written once, block by block; training's mini-batch gathers lose ~0.02 s per million rows an epoch
    to the smaller pages.
    """
    nbytes = shape[0] * shape[1] * dtype.itemsize
    if nbytes < _SMALL_PAGES_FROM_BYTES or not hasattr(mmap, "MAP_POPULATE"):
        return np.zeros(shape, dtype=dtype)  # calloc: zeroed as its pages are first touched
    pages = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    # zero-filled, and unmapped when the array (its only user) is freed
    return np.frombuffer(pages, dtype=dtype).reshape(shape)


def _check_rows(rows: object, m: int) -> np.ndarray | None:
    """`rows` as an int array of positions in 0..m-1 (None stays None)."""
    if rows is None:
        return None
    order = np.asarray(rows)
    if order.ndim != 1 or order.dtype.kind not in "iu":
        raise GradwiseTypeError(f"rows must be a 1-D array of integer row positions, got {order.dtype} of shape "
                                f"{order.shape}")
    if len(order) and (order.min() < 0 or order.max() >= m):
        raise GradwiseValueError(f"rows must be positions in 0..{m - 1}, got values from {order.min()} to "
                                 f"{order.max()}")
    return order.astype(np.intp, copy=False)


def _check_frame(X: Any, method: str) -> Any:
    if not is_dataframe(X):
        raise GradwiseTypeError(f"Preprocessor.{method} needs a pandas DataFrame (named columns), got "
                                f"{type(X).__name__}")
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise GradwiseValueError(f"X has duplicate column name(s) {duplicates}")
    if len(X) == 0:
        raise GradwiseValueError(f"Preprocessor.{method} got a DataFrame with no rows")
    if any(not isinstance(c, str) for c in X.columns):
        X = X.set_axis(names, axis=1)
    return X


class Preprocessor:
    """The column plan of a table as a scikit-learn-style transformer (usable in a ``Pipeline``).

    Parameters
    ----------
    max_levels : int, default 20
        At most this many one-hot columns per category (the most frequent levels).
    min_frequency : int, default 3
        Levels seen fewer times in training share the ``name:other`` column.
    standardize : bool, default True
        Standardize the numeric columns (not the 0/1 columns) with the training mean and std.

    Attributes
    ----------
    columns_ : list of dict
        One spec per input column: ``{"name", "kind": "numeric"|"boolean"|"category"|"dropped", …}``.
    notes_ : list of str
        Why each left-out column was left out (also issued as DataWarnings by :meth:`fit`).
    standardizer_ : Standardizer or None
        Fitted on the numeric output columns of the training rows.
    feature_names_in_ : ndarray of str, shape (n_columns,);  n_features_in_ : int

    Examples
    --------
    >>> pre = gw.Preprocessor().fit(train_frame)           # training rows only
    >>> X_dev = pre.transform(dev_frame)                    # ndarray (m_dev, n_out), float64
    >>> pre.get_feature_names_out()                         # ['age', 'age:missing', 'plan=pro', …]
    """

    def __init__(self, max_levels: int = 20, min_frequency: int = 3, standardize: bool = True) -> None:
        self.max_levels = max_levels
        self.min_frequency = min_frequency
        self.standardize = standardize
        self.columns_: list[dict] | None = None
        self.standardizer_: Standardizer | None = None

    def __repr__(self) -> str:
        if self.columns_ is None:
            return (f"Preprocessor(max_levels={self.max_levels}, min_frequency={self.min_frequency}, "
                    f"standardize={self.standardize})")
        return f"Preprocessor({self.n_features_in_} columns -> {len(self.get_feature_names_out())} features)"

    def get_params(self, deep: bool = True) -> dict:
        return {"max_levels": self.max_levels, "min_frequency": self.min_frequency,
                "standardize": self.standardize}

    def set_params(self, **params) -> Preprocessor:
        unknown = sorted(set(params) - set(self.get_params()))
        if unknown:
            raise GradwiseValueError(f"Preprocessor has no parameter(s) {unknown}; it has "
                                     f"{sorted(self.get_params())}")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    @property
    def is_fitted(self) -> bool:
        return self.columns_ is not None

    @property
    def notes_(self) -> list[str]:
        self._require_fitted("notes_")
        return [f"column {s['name']!r} left out: {s['reason']}" for s in self._columns if s["kind"] == "dropped"]

    @property
    def feature_names_in_(self) -> np.ndarray:
        self._require_fitted("feature_names_in_")
        return np.asarray([s["name"] for s in self._columns], dtype=object)

    @property
    def n_features_in_(self) -> int:
        return len(self.feature_names_in_)

    @property
    def _columns(self) -> list[dict]:
        """The fitted plan's column specs (callers check `_require_fitted` first)."""
        assert self.columns_ is not None, "Preprocessor used before fit"
        return self.columns_

    def _require_fitted(self, what: str) -> None:
        if self.columns_ is None:
            raise GradwiseValueError(f"Preprocessor.{what} needs a fitted plan: call fit(training_frame) first")

    def fit(self, X: object, y: object = None, *, rows: object = None, memo: dict | None = None) -> Preprocessor:
        """Learn the plan from the training rows.

        Parameters
        ----------
        X : pandas.DataFrame of shape (m, n_columns)
            Training rows only (fitting on dev or test rows would leak them into the plan).
        y : ignored
        rows : array of int, shape (m_train,), optional
            Fit on these row positions of `X` only — ``fit(X.iloc[rows])`` without copying the frame (the
            command line fits a whole file's training split this way).
        memo : dict, optional
            Filled with each kept text column's codes; :meth:`fit_transform` passes it on to the encoding so
            that every column is factorized once (valid for this frame only).

        Returns
        -------
        self
        """

        max_levels = check_int("max_levels", self.max_levels, minimum=1)
        min_frequency = check_int("min_frequency", self.min_frequency, minimum=1)
        frame = _check_frame(X, "fit")
        order = _check_rows(rows, len(frame))
        source = frame.attrs.get("source", "X")
        memo = {} if memo is None else memo
        self.columns_ = [_fit_column(name, frame[name], source, max_levels, min_frequency, order, memo)
                         for name in frame.columns]
        for spec in self.columns_:  # the codes of a column the plan leaves out are not needed again
            if spec["kind"] == "dropped":
                memo.pop(spec["name"], None)
        for note in self.notes_:
            _warn(note)
        self.standardizer_ = None
        numeric = self._numeric_outputs()
        if self.standardize and len(numeric):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)  # already said once, above
                raw = self._encode(frame, np.dtype(np.float64), standardized=False, order=order, memo=memo)
            self.standardizer_ = Standardizer().fit(raw[:, numeric])
        return self

    def numeric_outputs(self) -> np.ndarray:
        """Indices of the output columns that hold numbers (standardized), not 0/1 codes."""
        self._require_fitted("numeric_outputs")
        return self._numeric_outputs()

    def _numeric_outputs(self) -> np.ndarray:
        index, start = [], 0
        for spec in self._columns:
            if spec["kind"] == "numeric":
                index.append(start)
            start += len(_output_names(spec))
        return np.asarray(index, dtype=np.intp)

    def transform(self, X: object, dtype: Any = np.float64, *, rows: object = None,
                  memo: dict | None = None) -> np.ndarray:
        """Encode rows with the fitted plan.

        Parameters
        ----------
        X : pandas.DataFrame of shape (m, n_columns')
            Rows with (at least) the training columns, in any order; other columns are ignored.
        dtype : float64 or float32
        rows : array of int, shape (m_rows,), optional
            Encode these row positions of `X`, in this order — ``transform(X.iloc[rows])`` without copying
            the frame: one preallocated matrix whose consecutive blocks can be the splits.
        memo : dict, optional
            The codes :meth:`fit` kept for this same frame (see :meth:`fit_transform`).

        Returns
        -------
        ndarray of shape (m, n_out), or (m_rows, n_out) with `rows`
            ``n_out = len(get_feature_names_out())``.

        Raises
        ------
        GradwiseValueError
            A column the plan uses is missing (named), or a number is infinite.
        """
        self._require_fitted("transform")
        frame = _check_frame(X, "transform")
        have = set(frame.columns)
        missing = [s["name"] for s in self._columns if s["kind"] != "dropped" and s["name"] not in have]
        if missing:
            source = repr(frame.attrs["source"]) if "source" in frame.attrs else "X"
            raise GradwiseValueError(
                f"{source} lacks the model's feature column(s) {missing[:5]}{' …' if len(missing) > 5 else ''}"
                f"; its columns are {list(frame.columns)[:10]}")
        return self._encode(frame, np.dtype(dtype), standardized=True, order=_check_rows(rows, len(frame)),
                            memo=memo)

    def _encode(self, frame, dtype: np.dtype, standardized: bool, order: np.ndarray | None = None,
                memo: dict | None = None) -> np.ndarray:
        """The output matrix, written block of rows by block of rows (each block in the cache while every
        column is written into it), standardized block by block in place (no second (m, n_out) array)."""
        source = frame.attrs.get("source", "X")
        names = self.get_feature_names_out()
        # zeroed by the kernel (calloc, or an anonymous map) at no cost over np.empty: the one-hot writers only
        # set their ones
        out = _zeroed_matrix((len(frame) if order is None else len(order), len(names)), dtype)
        writers: list[_OneHot | _Table | _Numbers] = []
        numbers: list[_Filled] = []
        j = 0
        for spec in self._columns:
            if spec["kind"] != "dropped":
                writer = _ENCODERS[spec["kind"]](spec, frame[spec["name"]], j, source, memo)
                (numbers if isinstance(writer, _Filled) else writers).append(writer)
            j += len(_output_names(spec))
        if numbers:
            writers.append(_Numbers(numbers))
        st = self.standardizer_
        mean, scale = (st.mean_, st.scale_) if standardized and st is not None else (None, None)
        numeric = self._numeric_outputs()
        step = max(64, _BLOCK_BYTES // max(1, out.shape[1] * out.itemsize))
        for start in range(0, out.shape[0], step):
            rows = slice(start, start + step) if order is None else order[start:start + step]
            block = out[start:start + step]
            for writer in writers:
                writer.write(block, rows)
            if mean is not None and scale is not None:
                for k, col in enumerate(numeric):
                    block[:, col] -= mean[k]
                    block[:, col] /= scale[k]
        return out

    def fit_transform(self, X: object, y: object = None, *, rows: object = None, encode_rows: object = None,
                      dtype: Any = np.float64) -> np.ndarray:
        """``fit(X, rows=rows)`` then ``transform(X, dtype, rows=encode_rows)``, factorizing each text column
        once for both: the encoded rows `encode_rows` (default all), shape (m_rows, n_out)."""
        memo: dict = {}
        self.fit(X, rows=rows, memo=memo)
        return self.transform(X, dtype, rows=encode_rows, memo=memo)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns: ``age``, ``age:missing``, ``plan=pro``, ``plan:other``, …"""
        self._require_fitted("get_feature_names_out")
        return np.asarray([n for spec in self._columns for n in _output_names(spec)], dtype=object)

    # ---------------------------------------------------------------------------------- persistence
    def get_config(self) -> dict[str, Any]:
        """The fitted plan as JSON-able data (what :func:`gradwise.save` writes)."""
        self._require_fitted("get_config")
        return {"type": "Preprocessor", **self.get_params(), "columns": [dict(s) for s in self._columns],
                "standardizer": self.standardizer_.to_dict() if self.standardizer_ is not None else None}

    @classmethod
    def from_config(cls, config: object) -> Preprocessor:
        """Rebuild a fitted plan from :meth:`get_config`'s output (checked: a damaged file is an error)."""
        if not isinstance(config, dict) or config.get("type") != "Preprocessor":
            raise GradwiseValueError(f"not a Preprocessor description: {str(config)[:60]}")
        columns = config.get("columns")
        if not isinstance(columns, list) or not columns:
            raise GradwiseValueError("Preprocessor description has no 'columns' list")
        for i, spec in enumerate(columns):
            _check_spec(i, spec)
        obj = cls(**{k: config[k] for k in ("max_levels", "min_frequency", "standardize") if k in config})
        obj.columns_ = [dict(s) for s in columns]
        if config.get("standardizer") is not None:
            obj.standardizer_ = Standardizer.from_dict(config["standardizer"])
            if obj.standardizer_.n_features_in_ != len(obj._numeric_outputs()):
                raise GradwiseValueError("Preprocessor description: the Standardizer does not match the "
                                         "numeric columns")
        return obj


def numeric_standardizer(plan: Preprocessor, X_train: np.ndarray) -> Standardizer:
    """A Standardizer over all of a plan's outputs that standardizes its numeric columns only.

    μ and σ of the numeric output columns of the training rows `X_train` (m, n_out), encoded by a plan
    with ``standardize=False``; the 0/1 columns (booleans, one-hot levels, missing indicators) get μ = 0
    and σ = 1, so they stay 0/1. This is how ``gradwise train`` standardizes a table: the model's own
    Standardizer, as for arrays, so the model also takes already encoded arrays.
    """
    numeric = plan.numeric_outputs()
    mean, scale = np.zeros(X_train.shape[1]), np.ones(X_train.shape[1])
    for col in numeric:  # a column at a time: float64 copies of one column, not of all numeric ones
        fitted = Standardizer().fit(X_train[:, col:col + 1])
        assert fitted.mean_ is not None and fitted.scale_ is not None  # fitted
        mean[col], scale[col] = fitted.mean_[0], fitted.scale_[0]
    return Standardizer.from_dict({"type": "Standardizer", "mean": mean.tolist(), "scale": scale.tolist()})


_REQUIRED: dict[str, dict[str, type]] = {
    "numeric": {"median": float, "indicator": bool},
    "boolean": {"fill": float, "indicator": bool},
    "category": {"levels": list, "rare": list, "other": bool, "missing": bool},
    "words": {"words": list, "missing": bool},
    "dropped": {"reason": str},
}


def _check_spec(i: int, spec: Any) -> None:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or spec.get("kind") not in KINDS:
        raise GradwiseValueError(f"Preprocessor description: column {i} is not a valid spec: {str(spec)[:60]}")
    for key, kind in _REQUIRED[spec["kind"]].items():
        value = spec.get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) \
            if kind is float else isinstance(value, kind)
        if not ok:
            raise GradwiseValueError(f"Preprocessor description: column {spec['name']!r} needs {key!r} of type "
                                     f"{kind.__name__}, got {value!r}")
    if spec["kind"] == "category" and not all(isinstance(v, str) for v in spec["levels"] + spec["rare"]):
        raise GradwiseValueError(f"Preprocessor description: levels of {spec['name']!r} must be strings")
    if spec["kind"] == "words" and not all(isinstance(v, str) and v for v in spec["words"]):
        raise GradwiseValueError(f"Preprocessor description: words of {spec['name']!r} must be non-empty "
                                 f"strings")
