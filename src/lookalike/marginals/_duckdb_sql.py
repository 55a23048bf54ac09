"""SQL for one column of a DuckDB source, as ``read_table`` + ``Schema.conform`` would see it.

Each function takes a column expression ``x`` and its class (int, float, date, stamp, bool, text
or other: what :class:`~lookalike.marginals.duckdb.DuckDBEngine` read the stored values as) and
returns SQL text: the conformed value (:func:`conform_sql`), the conform actions to count
(:func:`note_checks`, worded as :mod:`lookalike.schema._conform` words them), the value as the
encoder's numbers (:func:`number_sql`) and codes (:func:`code_sql`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from lookalike.errors import ConfigError
from lookalike.schema import Column, Kind
from lookalike.schema._datetimes import _DATE_SECONDS, _NS_SECONDS
from lookalike.transform.encoder import ColumnCodec

INT64_LIMIT = "9223372036854775808.0"  # 2**63: a DOUBLE at or beyond it is no int64
_NS = (-(2**63 - 1), 2**63 - 1)  # what datetime64[ns] holds, in nanoseconds since 1970


def ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def double(x: float) -> str:
    """An exact DOUBLE literal (the shortest repr parsed by DuckDB's correctly rounded reader)."""
    return f"CAST('{float(x)!r}' AS DOUBLE)"


def declared_bounds(col: Column) -> bool:
    """Whether conform clips the column: bounds the user declared (not read from the data)."""
    return col.bounds is not None and col.source("bounds") != "data"


# ---------------------------------------------------------------------- conformed values
def as_text(x: str, cls: str) -> str:
    """A value as the text ``Schema.conform`` makes of it for a categorical column."""
    if cls == "int":
        return f"CAST({x} AS VARCHAR)"
    if cls == "float":
        d = f"CAST({x} AS DOUBLE)"
        return (f"CASE WHEN isnan({d}) THEN NULL WHEN {d} = trunc({d}) AND abs({d}) < 1e38 "
                f"THEN CAST(CAST({d} AS HUGEINT) AS VARCHAR) ELSE CAST({d} AS VARCHAR) END")
    if cls == "bool":
        return f"CASE {x} WHEN true THEN 'True' WHEN false THEN 'False' END"
    if cls == "date":
        return f"strftime({x}, '%Y-%m-%d 00:00:00')"
    if cls == "stamp":
        return (f"CASE WHEN date_trunc('second', {x}) = {x} THEN strftime({x}, '%Y-%m-%d %H:%M:%S') "
                f"ELSE strftime({x}, '%Y-%m-%d %H:%M:%S.%f') END")
    return x if cls == "text" else f"CAST({x} AS VARCHAR)"


def as_read(x: str, cls: str) -> str:
    """A value as ``str()`` writes what ``read_table`` gives (the examples in a conform note)."""
    return f"CAST({x} AS VARCHAR)" if cls in ("int", "float") else as_text(x, cls)


def clip(x: str, lo: str, hi: str) -> str:
    return f"CASE WHEN {x} < {lo} THEN {lo} WHEN {x} > {hi} THEN {hi} ELSE {x} END"


def number_base(x: str, cls: str) -> str:
    """A value as the DOUBLE a numeric column holds before clipping (NaN as missing)."""
    if cls not in ("int", "float", "bool", "text"):
        return "NULL::DOUBLE"
    d = f"{'TRY_' if cls == 'text' else ''}CAST({x} AS DOUBLE)"
    return f"CASE WHEN isnan({d}) THEN NULL ELSE {d} END" if cls in ("float", "text") else d


def number_limits(col: Column) -> tuple[str, str]:
    """A column's declared bounds as DOUBLE literals (it has bounds: see declared_bounds)."""
    lo, hi = cast(tuple[float, float], col.numeric_bounds())
    return double(lo), double(hi)


def conformed_number(col: Column, x: str, cls: str) -> str:
    """A numeric column's DOUBLE as conform has it before rounding integers: clipped if declared."""
    d = number_base(x, cls)
    return clip(d, *number_limits(col)) if declared_bounds(col) else d


def stamp_base(col: Column, x: str, cls: str) -> str:
    """A value as the TIMESTAMP a datetime column holds before clipping."""
    if cls != "text":
        return {"date": f"CAST({x} AS TIMESTAMP)", "stamp": x}.get(cls, "NULL::TIMESTAMP")
    fmt = col.format
    t = f"try_strptime({x}, {text(fmt)})" if fmt else f"TRY_CAST({x} AS TIMESTAMP)"
    if fmt and "%y" in fmt and col.pivot_year is not None:
        p = col.pivot_year
        t = (f"CASE WHEN year({t}) > {p} THEN {t} - INTERVAL 100 YEAR WHEN year({t}) <= "
             f"{p - 100} THEN {t} + INTERVAL 100 YEAR ELSE {t} END")
    return t


def stamp_limits(col: Column) -> tuple[str, str]:
    """A datetime column's declared bounds as TIMESTAMP literals (it has bounds)."""
    lo, hi = (f"CAST({text(pd.Timestamp(b).isoformat())} AS TIMESTAMP)" for b in col.bounds or ())
    return lo, hi


def conformed_stamp(col: Column, x: str, cls: str) -> str:
    t = stamp_base(col, x, cls)
    return clip(t, *stamp_limits(col)) if declared_bounds(col) else t


def known_category(t: str, col: Column) -> str | None:
    """SQL true where the text ``t`` is one of the declared categories (None: none is text)."""
    cats = [text(c) for c in col.categories or () if isinstance(c, str)]
    return f"TRY_CAST({t} AS ENUM({', '.join(cats)})) IS NOT NULL" if cats else None  # a hash lookup


def boolean_sql(col: Column, x: str, cls: str) -> str:
    if cls == "bool":
        return x
    no, yes = (text(str(tok).lower()) for tok in (col.categories or ("False", "True"))[:2])
    return f"CASE lower({as_text(x, cls)}) WHEN {no} THEN false WHEN {yes} THEN true END"


def conform_sql(col: Column, x: str, cls: str) -> str:
    """The column as ``Schema.conform`` types it: text, DOUBLE, TIMESTAMP or BOOLEAN."""
    if col.kind is Kind.CATEGORICAL:
        t = as_text(x, cls)
        if col.categories is None:
            return t
        known = known_category(t, col)
        return f"CASE WHEN {known} THEN {t} END" if known else "NULL::VARCHAR"
    if col.kind in (Kind.INTEGER, Kind.FLOAT):
        d = conformed_number(col, x, cls)
        return f"round_even({d}, 0)" if col.kind is Kind.INTEGER else d
    if col.kind is Kind.DATETIME:
        return conformed_stamp(col, x, cls)
    if col.kind is Kind.BOOLEAN:
        return boolean_sql(col, x, cls)
    return x


# ---------------------------------------------------------------------- conform notes
@dataclass(frozen=True)
class Note:
    """One conform action to count over the source: its aggregates and the note it makes.

    ``action`` is "clipped" (values outside declared bounds), "rounded" (non-integers in an
    integer column) or "missing" (values outside the categories); ``count`` and ``examples``
    (the five smallest affected values, as read) are SQL aggregates.
    """

    column: Column
    action: str
    count: str
    examples: str | None = None

    def text(self, n: int, examples: list | None) -> str:
        """``Schema.conform``'s words for the action (see lookalike/schema/_conform.py)."""
        name = self.column.name
        if self.action == "clipped":
            return (f"column {name!r}: {n} value(s) outside the declared bounds "
                    f"{list(self.column.bounds or ())} were clipped to them")
        if self.action == "rounded":
            return f"column {name!r}: {n} non-integer values rounded"
        return (f"column {name!r}: {n} value(s) not among the schema's categories "
                f"(e.g. {[str(v) for v in examples or []]}) were set to missing")


def _count(where: str) -> str:
    return f"count(*) FILTER (WHERE {where})"


def _missing(col: Column, x: str, cls: str, unknown: str) -> Note:
    shown = as_read(x, cls)
    examples = f"list_slice(list(DISTINCT {shown} ORDER BY {shown}) FILTER (WHERE {unknown}), 1, 5)"
    return Note(col, "missing", _count(unknown), examples)


def note_checks(col: Column, x: str, cls: str) -> list[Note]:
    """What conforming the column does to some values, in ``Schema.conform``'s order."""
    notes = []
    if col.kind in (Kind.INTEGER, Kind.FLOAT):
        d = number_base(x, cls)
        if declared_bounds(col):
            lo, hi = number_limits(col)
            notes.append(Note(col, "clipped", _count(f"{d} < {lo} OR {d} > {hi}")))
            d = clip(d, lo, hi)
        if col.kind is Kind.INTEGER and cls in ("float", "text"):
            notes.append(Note(col, "rounded", _count(f"{d} <> trunc({d})")))
    elif col.kind is Kind.DATETIME and declared_bounds(col):
        t = stamp_base(col, x, cls)
        lo, hi = stamp_limits(col)
        notes.append(Note(col, "clipped", _count(f"{t} < {lo} OR {t} > {hi}")))
    elif col.kind is Kind.BOOLEAN and cls != "bool":
        notes.append(_missing(col, x, cls, f"{x} IS NOT NULL AND {boolean_sql(col, x, cls)} IS NULL"))
    elif col.kind is Kind.CATEGORICAL and col.categories is not None:
        t = as_text(x, cls)
        known = known_category(t, col)
        notes.append(_missing(col, x, cls, f"{t} IS NOT NULL" + (f" AND NOT {known}" if known else "")))
    return notes


# ---------------------------------------------------------------------- numbers and codes
@dataclass(frozen=True)
class StampScale:
    """How conform's datetimes of one column become numbers (``datetime_to_number``).

    ``per_second``: 1e9 when every value fits ``datetime64[ns]`` (1677 .. 2262), else 1e6
    (microseconds: a date such as 9999-12-31). ``rounded``: when clipping to declared bounds
    made ``number_to_datetime`` round the column to whole ``unit`` seconds (86400: days), the
    resolution it gave the column; else None.
    """

    per_second: float = 1e9
    rounded: float | None = None
    unit: float = 1.0

    @classmethod
    def of(cls, col: Column, span: tuple[int | None, int | None], clipped: bool = False,
           clipped_span: tuple[int | None, int | None] = (None, None)) -> StampScale:
        """From the column's smallest and largest value in microseconds since 1970 (``span``),
        whether clipping changed any value, and the span after clipping."""
        lo_us, hi_us = span
        fits = lo_us is None or hi_us is None or (_NS[0] <= lo_us * 1000 and hi_us * 1000 <= _NS[1])
        per = 1e9 if fits else 1e6
        if not clipped:
            return cls(per)
        unit, (lo, hi) = _unit(col), _date_range(_unit(col))
        ends = [min(max(round(_seconds(us, per) / unit), lo), hi) * unit
                for us in clipped_span if us is not None]
        return cls(per, 1e9 if all(abs(s) < _NS_SECONDS for s in ends) else 1e6, unit)


def _unit(col: Column) -> float:
    return 86400.0 if col.unit == "D" else 1.0


def _date_range(unit: float) -> tuple[float, float]:
    """The years 1 .. 9999 in units of ``unit`` seconds, as ``number_to_datetime`` clips."""
    return math.ceil(_DATE_SECONDS[0] / unit), math.floor(_DATE_SECONDS[1] / unit)


def _seconds(us: int, per: float) -> float:
    """Seconds since 1970 as ``datetime_to_number`` computes them at ``per`` ticks a second."""
    return float(us * 1000) / 1e9 if per == 1e9 else float(us) / 1e6


def _ticks(ref: str, per: float, unit: float) -> str:
    """``datetime_to_number``: the column's ticks as DOUBLE, per second, per unit."""
    x = f"CAST({'epoch_ns' if per == 1e9 else 'epoch_us'}({ref}) AS DOUBLE) / {double(per)}"
    return f"{x} / {double(unit)}" if unit != 1.0 else x


def number_sql(ref: str, col: Column, scale: StampScale | None = None) -> str:
    """A conformed column as DOUBLE, datetimes as ``to_numbers`` makes them (same IEEE steps).

    ``col`` gives the unit of the numbers (the codec's column); ``scale`` how conform held the
    datetimes (:meth:`DuckDBEngine._stamp_scales`).
    """
    if col.kind is not Kind.DATETIME:
        return ref
    scale = scale or StampScale()
    if scale.rounded is None:
        return _ticks(ref, scale.per_second, _unit(col))
    unit, (lo, hi) = scale.unit, _date_range(scale.unit)  # number_to_datetime's steps
    x = _ticks(ref, scale.per_second, unit)
    seconds = f"least(greatest(round_even({x}, 0), {double(lo)}), {double(hi)}) * {double(unit)}"
    ticks = f"CAST(CAST(trunc({seconds} * {double(scale.rounded)}) AS BIGINT) AS DOUBLE)"
    x = f"{ticks} / {double(scale.rounded)}"
    return f"{x} / {double(_unit(col))}" if col.unit == "D" else x


def search_sql(x: str, t: np.ndarray, lo: int, hi: int, op: str = ">") -> str:
    """SQL counting the sorted thresholds ``t[lo:hi]`` below ``x`` (``op`` ">=": at or below),
    plus ``lo``: a binary search of nested CASEs, standard SQL that DuckDB and Spark both run."""
    if lo >= hi:
        return str(lo)
    mid = (lo + hi) // 2
    return (f"CASE WHEN {x} {op} {double(t[mid])} THEN {search_sql(x, t, mid + 1, hi, op)} "
            f"ELSE {search_sql(x, t, lo, mid, op)} END")


def bin_code_sql(codec: ColumnCodec, x: str) -> str:
    """SQL for the bin code of the (numbered) column ``x``: min(#(upper < x), n_bins - 1)."""
    upper = np.asarray(codec.bins.upper if codec.bins is not None else [], dtype=float)
    if np.any(np.diff(upper) < 0) or np.isnan(upper).any():
        raise ConfigError(f"bins of column {codec.column.name!r} are not in increasing order")
    return search_sql(x, upper[:-1], 0, len(upper) - 1)


def code_sql(codec: ColumnCodec, col: Column, x: str) -> str:
    """SQL for ``codec.encode`` of the (numbered) column ``x``; -1 where that would raise."""
    missing = codec.n_values if codec.has_missing else -1
    if codec.bins is not None:
        code = bin_code_sql(codec, x)
    elif col.kind is Kind.BOOLEAN:
        code = f"CAST({x} AS INTEGER)"
    elif col.kind is Kind.CATEGORICAL:
        unknown = codec.fallback if codec.fallback is not None else missing
        named = [(i, c) for i, c in enumerate(codec.categories or ()) if isinstance(c, str)]
        code = str(unknown)
        if named:
            code = f"enum_code(TRY_CAST({x} AS ENUM({', '.join(text(c) for _, c in named)})))"
            if [i for i, _ in named] != list(range(len(named))):
                code = f"[{', '.join(str(i) for i, _ in named)}][{code} + 1]"
            code = f"coalesce({code}, {unknown})"
    else:
        raise ConfigError(f"column {col.name!r} is {col.kind.value}: categories cannot code it")
    return f"CAST(CASE WHEN {x} IS NULL THEN {missing} ELSE {code} END AS INTEGER)"
