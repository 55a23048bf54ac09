"""Group keys between the user's spelling and the engine's typed view.

A query reads the relation the fits read: booleans as BOOLEAN, integers as DOUBLE, dates as
TIMESTAMP (the marginal engines' conformed view). An analyst writes and reads keys as the
input has them, so keys cross that line twice: declared keys (``keys=``, a schema's declared
categories) go into the view's values before they are counted, else ``"yes"`` never matches
the view's ``true`` and every declared group counts zero; and the released keys come back out
as the input wrote them: a boolean's own tokens (``yes``/``no``, ``Y``/``N``), integers without
``.0``, dates as text in the input's spelling or as datetimes, in the input column's dtype.

Privacy: only keys of plain columns are respelled, from the column's kind, its boolean tokens
and its storage dtype. A categorical dtype's category list is read from the data (a rare,
unreleased value included), so the answers' categories are the released keys only, in the
dtype's order (as :meth:`lookalike._storage.Storage.for_model` keeps a DP model's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lookalike.query._sql import Key
from lookalike.schema import Column, Kind, Schema
from lookalike.schema._columns import category_text as _text  # a category as text: 1.0 is "1"

__all__ = ["KeySpelling"]


@dataclasses.dataclass(frozen=True)
class KeySpelling:
    """How the plain-column keys of one source are written: its schema and input storage."""

    schema: Schema
    storage: Any  # lookalike._storage.Storage, or None where the input's dtypes are unknown

    def _column(self, key: Key) -> Column | None:
        return self.schema[key.column] if key.column and key.column in self.schema else None

    def to_view(self, key: Key, values: Sequence[Any]) -> list[Any]:
        """Declared values of ``key`` as the view holds them (values it cannot read as the
        column's kind pass as given, and then match no row)."""
        col = self._column(key)
        if col is None:
            return list(values)
        if col.kind is Kind.BOOLEAN:
            return [_flag(v, col) for v in values]
        if col.kind in (Kind.INTEGER, Kind.FLOAT):
            return [_number(v) for v in values]
        if col.kind is Kind.DATETIME:
            return [_stamp(v, col) for v in values]
        if col.kind is Kind.CATEGORICAL:
            return [_text(v) for v in values]
        return list(values)

    def spell(self, frame: pd.DataFrame, keys: Sequence[Key]) -> pd.DataFrame:
        """``frame`` with each plain-column key column written as the input wrote it. Takes
        the view's values and spelled ones alike (a reused answer read back from JSON)."""
        out = frame.copy()
        for key in keys:
            col = self._column(key)
            if col is None or key.name not in out.columns:
                continue
            out[key.name] = self._spelled(out[key.name], col)
        return out

    def _spelled(self, values: pd.Series, col: Column) -> pd.Series:
        if col.kind is Kind.BOOLEAN:
            flags = [_flag(v, col) for v in values]
            tokens = col.categories or (False, True)
            canonical = pd.Series([None if f is None or not isinstance(f, bool | np.bool_)
                                   else tokens[int(f)] for f in flags], index=values.index,
                                  dtype=object if isinstance(tokens[0], str) else "boolean")
        elif col.kind is Kind.INTEGER:
            nums = pd.to_numeric(values, errors="coerce")
            if (nums.notna() | values.isna()).all() and (nums.dropna() % 1 == 0).all():
                canonical = nums.round().astype("Int64")
            else:
                return values
        elif col.kind is Kind.FLOAT:
            canonical = pd.to_numeric(values, errors="coerce").astype("float64")
        elif col.kind is Kind.DATETIME:
            canonical = pd.Series([_stamp(v, col) for v in values], index=values.index)
            canonical = pd.to_datetime(canonical, errors="coerce")
        elif col.kind is Kind.CATEGORICAL:
            canonical = pd.Series([None if v is None else _text(v) for v in values],
                                  index=values.index, dtype=object)
        else:
            return values
        return self._stored(canonical, col)

    def _stored(self, canonical: pd.Series, col: Column) -> pd.Series:
        """The canonical key column in the input column's dtype; a categorical dtype lists the
        released keys only (see the module's privacy note)."""
        from lookalike._storage import _model_categories

        ct = None if self.storage is None else self.storage.columns.get(col.name)
        if ct is None:
            if col.kind is Kind.DATETIME and col.format:  # a text date: its own spelling
                from lookalike.schema._datetimes import format_dates

                return pd.Series(format_dates(canonical, col.format), index=canonical.index,
                                 dtype=object)
            return canonical
        if ct.dtype == "category" or ct.enum:
            if not ct.categories:  # an order not recorded (a Parquet footer has none): not claimed
                ct = dataclasses.replace(ct, ordered=False)
            released = tuple(dict.fromkeys(v for v in canonical if v is not None and v == v))
            ct = _model_categories(ct, col.replace(categories=released))
        frame = pd.DataFrame({col.name: canonical.reset_index(drop=True)})
        pandas = dataclasses.replace(self.storage, container="pandas", csv=None,
                                     columns={col.name: ct})
        restored = pandas.restore(frame, Schema((col,)))[col.name]
        restored.index = canonical.index
        return restored


def _flag(v: Any, col: Column) -> Any:
    """A boolean key as the view's bool: the column's tokens in any case, or a bool."""
    if v is None or isinstance(v, bool | np.bool_):
        return None if v is None else bool(v)
    tokens = [str(t).lower() for t in (col.categories or ())[:2]]
    word = str(v).strip().lower()
    if word in tokens:
        return tokens.index(word) == 1
    return {"false": False, "true": True, "0": False, "1": True}.get(word, v)


def _number(v: Any) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _stamp(v: Any, col: Column) -> Any:
    """A date key as a Timestamp: parsed in the column's format, else as ISO text."""
    if v is None or isinstance(v, pd.Timestamp):
        return v
    if not isinstance(v, str):
        try:
            return pd.Timestamp(v)
        except (TypeError, ValueError):
            return v
    from lookalike.schema._datetimes import parse_datetime

    if col.format:
        parsed = parse_datetime(pd.Series([v]), col.format, col.pivot_year).iloc[0]
        if pd.notna(parsed):
            return pd.Timestamp(parsed)
    try:
        return pd.Timestamp(v)
    except (TypeError, ValueError):
        return v
