"""The tables of an evaluation, checked, conformed to one schema and encoded once.

Every metric reads the same encoding: numeric and datetime columns as floats (datetimes as
time since 1970-01-01 in the schema's unit, NaN for missing), categorical and boolean columns
as integer codes into ``labels`` (-1 for missing). The first ``n_seen`` labels are the
categories seen in the real table, sorted; labels after them occur only in the synthetic
table or the holdout. Identifier and text columns are left out of every metric.

>>> import pandas as pd
>>> real = pd.DataFrame({"n": range(20), "c": list("ab") * 10})
>>> synth = pd.DataFrame({"n": range(20), "c": list("ac") * 10})
>>> tables = prepare(real, synth)
>>> tables["c"].labels, tables["c"].n_seen, tables["c"].synthetic[:4].tolist()
(('a', 'b', 'c'), 2, [0, 2, 0, 2])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import (
    ColumnMismatchError,
    EmptyDataError,
    HoldoutOverlapError,
    LookalikeError,
)
from lookalike.schema import MIN_ROWS, Kind, Schema, as_schema, datetime_to_number, infer_schema

__all__ = ["ColumnData", "Tables", "check_held_out", "prepare", "read"]

ROLES = ("real", "synthetic", "holdout")


@dataclass(frozen=True, eq=False)
class ColumnData:
    """One modelled column on each table: floats (NaN missing) or codes (-1 missing).

    ``labels`` and ``n_seen`` apply to categorical and boolean columns; ``unit`` ("D" days or
    "s" seconds) to datetime columns.

    >>> col = ColumnData("x", Kind.FLOAT, np.array([1.0, np.nan]), np.array([2.0, 3.0]))
    >>> col.numeric, col.missing("real").tolist()
    (True, [False, True])
    """

    name: str
    kind: Kind
    real: np.ndarray
    synthetic: np.ndarray
    holdout: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    n_seen: int = 0
    unit: str | None = None

    @property
    def numeric(self) -> bool:
        """True for integer, float and datetime columns (compared as numbers)."""
        return self.kind.numeric

    def missing(self, side: str) -> np.ndarray:
        """Boolean mask of the missing values of ``side`` ("real", "synthetic", "holdout")."""
        values = getattr(self, side)
        return np.isnan(values) if self.numeric else values < 0


@dataclass(frozen=True, eq=False)
class Tables:
    """The encoded columns of the real, synthetic and (optional) holdout tables.

    >>> t = prepare(pd.DataFrame({"n": [1, 2] * 5}), pd.DataFrame({"n": [1, 2] * 6}))
    >>> t.names, t.n_real, t.n_synthetic, t.n_holdout
    (['n'], 10, 12, None)
    """

    columns: tuple[ColumnData, ...]
    n_real: int
    n_synthetic: int
    n_holdout: int | None
    excluded: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnData:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)


def read(data: Any, role: str) -> pd.DataFrame:
    """``data`` as a DataFrame (anything :func:`lookalike.read_table` reads), never empty.

    >>> read(pd.DataFrame({"a": range(3)}), "synthetic")
    Traceback (most recent call last):
    ...
    lookalike.errors.EmptyDataError: the synthetic table has 3 rows; evaluation needs at least 10
    """
    if isinstance(data, pd.DataFrame):
        df = data
    else:
        from lookalike.io import read_table

        try:
            df = read_table(data)
        except EmptyDataError as e:
            raise EmptyDataError(f"the {role} table is empty: {e}") from None
    if len(df.columns) == 0 or len(df) == 0:
        raise EmptyDataError(
            f"the {role} table has {len(df)} rows and {len(df.columns)} columns; "
            f"evaluation needs at least {MIN_ROWS} rows"
        )
    if len(df) < MIN_ROWS:
        raise EmptyDataError(
            f"the {role} table has {len(df)} rows; evaluation needs at least {MIN_ROWS}"
        )
    return df


def _check_columns(real: pd.DataFrame, other: pd.DataFrame, role: str) -> None:
    names = [str(c) for c in real.columns]
    others = [str(c) for c in other.columns]
    missing = [c for c in names if c not in others]
    extra = [c for c in others if c not in names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from the {role} table: {missing}")
        if extra:
            parts.append(f"in the {role} table but not the real one: {extra}")
        raise ColumnMismatchError(
            f"the {role} table's columns do not match the real table's ("
            + "; ".join(parts)
            + "); evaluate tables with the same columns"
        )


#: a holdout sharing more exact rows with the real table than chance plus this many standard
#: deviations (and a few rows) is refused (see :func:`check_held_out`)
OVERLAP_Z = 4.0


def _row_keys(df: pd.DataFrame, columns: list) -> pd.Series:
    """One hash per row, equal for rows that read equal (numbers compared as floats, so a
    column read as integers in one file and as floats in the other still matches)."""
    parts = {}
    for c in columns:
        s = df[c]
        parts[c] = (s.astype(float) if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
                    else s).astype(str)
    return pd.util.hash_pandas_object(pd.DataFrame(parts), index=False)


def check_held_out(real: pd.DataFrame, holdout: pd.DataFrame) -> None:
    """Refuse a holdout that holds the real (training) rows themselves.

    Counts the holdout rows with an exact twin among the real rows and compares that with
    chance: a fresh row of the population has a twin among the real rows about as often as a
    real row has one among the others (their share of duplicated rows). A holdout that passes
    a copy of the training table, or overlaps it, would make the utility test and every
    membership attack measure the fitted rows against themselves ("no risk beyond chance",
    ratios of nan).

    >>> real = pd.DataFrame({"a": range(100), "b": ["x", "y"] * 50})
    >>> check_held_out(real, real.iloc[:40])
    Traceback (most recent call last):
    ...
    lookalike.errors.HoldoutOverlapError: the holdout shares 40 of its 40 rows with the real table (about 0 would by chance): it is not held out. Give real rows the synthesizer never saw (lookalike synth --holdout-share 0.2 sets them aside before fitting)
    """
    columns = [c for c in real.columns if c in holdout.columns]
    if not len(holdout) or not columns:
        return
    keys = _row_keys(real, columns)
    shared = int(_row_keys(holdout, columns).isin(set(keys.to_numpy())).sum())
    expected = float(keys.duplicated(keep=False).mean()) * len(holdout)
    if shared > expected + OVERLAP_Z * np.sqrt(expected) + 3:
        raise HoldoutOverlapError(
            f"the holdout shares {shared:,} of its {len(holdout):,} rows with the real table "
            f"(about {expected:,.0f} would by chance): it is not held out. Give real rows the "
            "synthesizer never saw (lookalike synth --holdout-share 0.2 sets them aside before "
            "fitting)")


def _as_schema(schema: Schema | Mapping | str | os.PathLike | None, real: pd.DataFrame) -> Schema:
    if schema is None:
        return infer_schema(real)
    found = as_schema(schema)
    missing = [c for c in found.names if c not in real.columns]
    extra = [str(c) for c in real.columns if c not in found]
    if missing or extra:
        raise ColumnMismatchError(
            f"the schema does not match the real table's columns (in the schema only: "
            f"{missing}; in the table only: {extra}); pass a schema for these columns"
        )
    return found


def _lenient(schema: Schema) -> Schema:
    """The schema as evaluation applies it: every column may be missing, and categories
    unknown to the schema are kept (they are counted as unseen, not set to missing)."""
    cols = []
    for c in schema.columns:
        c = replace(c, nullable=True)
        if c.kind is Kind.CATEGORICAL:
            c = replace(c, categories=None)
        cols.append(c)
    return replace(schema, columns=tuple(cols))


def _conform(schema: Schema, df: pd.DataFrame, role: str, notes: list[str]) -> pd.DataFrame:
    actions: list[str] = []
    try:
        out = schema.conform(df[schema.names], actions=actions)
    except LookalikeError as e:
        raise type(e)(f"the {role} table: {e}") from None
    notes.extend(f"{role} table: {a}" for a in actions)
    return out


def _labels(series: list[pd.Series], col: Any) -> tuple[list[pd.Series], tuple[str, ...], int]:
    """Text values of a categorical or boolean column on each table, and the label order."""
    if col.kind is Kind.BOOLEAN:
        tokens = col.categories or (False, True)
        mapping = {False: str(tokens[0]), True: str(tokens[1])}
        series = [s.astype(object).map(mapping) for s in series]
    seen = sorted(series[0].dropna().unique().tolist())
    known = set(seen)
    rest: set[str] = set()
    for s in series[1:]:
        rest.update(v for v in s.dropna().unique().tolist() if v not in known)
    return series, tuple(seen) + tuple(sorted(rest)), len(seen)


def _encode(col: Any, frames: list[pd.DataFrame | None]) -> ColumnData:
    present = [f[col.name] for f in frames if f is not None]
    if col.kind.numeric:
        if col.kind is Kind.DATETIME:
            unit = col.unit or "s"
            arrays = [np.asarray(datetime_to_number(s, unit), dtype=float) for s in present]
        else:
            unit = None
            arrays = [s.to_numpy(dtype=float, na_value=np.nan) for s in present]
        labels, n_seen = (), 0
    else:
        unit = None
        texts, labels, n_seen = _labels(present, col)
        arrays = [pd.Categorical(s, categories=list(labels)).codes.astype(np.int64) for s in texts]
    holdout = arrays[2] if len(arrays) == 3 else None
    return ColumnData(col.name, col.kind, arrays[0], arrays[1], holdout, labels, n_seen, unit)


def prepare(
    real: Any,
    synthetic: Any,
    holdout: Any = None,
    schema: Schema | Mapping | str | os.PathLike | None = None,
) -> Tables:
    """Check the tables share their columns, conform them to ``schema`` and encode them.

    ``schema`` defaults to :func:`lookalike.infer_schema` on the real table. Synthetic values
    outside declared bounds are clipped and unknown boolean tokens become missing; each such
    action is listed in ``notes``. Unknown synthetic categories are kept as labels of their own.

    >>> real = pd.DataFrame({"n": [1, 2] * 5})
    >>> prepare(real, real.assign(n=["x"] * 10))
    Traceback (most recent call last):
    ...
    lookalike.errors.MixedTypesError: the synthetic table: column 'n' is declared integer but holds text, e.g. row 1: 'x'; clean it or change its kind
    """
    real_df = read(real, "real")
    synth_df = read(synthetic, "synthetic")
    hold_df = None if holdout is None else read(holdout, "holdout")
    _check_columns(real_df, synth_df, "synthetic")
    if hold_df is not None:
        _check_columns(real_df, hold_df, "holdout")
        check_held_out(real_df, hold_df)
    full = _as_schema(schema, real_df)
    lenient = _lenient(full)
    notes: list[str] = []
    frames = [
        _conform(lenient, df, role, notes) if df is not None else None
        for df, role in zip((real_df, synth_df, hold_df), ROLES, strict=True)
    ]
    columns = tuple(_encode(c, frames) for c in full.columns if c.kind.modelled)
    excluded = tuple(c.name for c in full.columns if not c.kind.modelled)
    if not columns:
        raise EmptyDataError(
            f"the real table has no columns to evaluate: all of {excluded} are identifiers or text"
        )
    return Tables(
        columns,
        len(real_df),
        len(synth_df),
        None if hold_df is None else len(hold_df),
        excluded,
        tuple(notes),
    )
