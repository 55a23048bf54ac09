"""Conform a table to a schema: its columns, order and types, clipping to declared bounds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lookalike.errors import (
    ColumnError,
    ColumnMismatchError,
    MixedTypesError,
    NonFiniteError,
    SchemaError,
)
from lookalike.schema._columns import Column, Kind, category_text
from lookalike.schema._datetimes import datetime_to_number, number_to_datetime, parse_datetime

if TYPE_CHECKING:
    from lookalike.schema._schema import Schema


def conform_frame(schema: Schema, df: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """``df`` with ``schema``'s columns, order and types; each action is appended to ``notes``."""
    missing = [n for n in schema.names if n not in df.columns]
    extra = [n for n in df.columns if n not in schema]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from the data: {missing}")
        if extra:
            parts.append(f"not in the schema: {extra}")
        raise ColumnMismatchError(
            "the data's columns do not match the schema (" + "; ".join(parts) + "); "
            "drop or add columns, or infer a new schema"
        )
    out = {}
    for col in schema.columns:
        out[col.name] = _conform_column(df[col.name], col, notes)
        missing = out[col.name].isna().to_numpy()
        if col.kind.modelled and not col.nullable and missing.any():
            raise SchemaError(
                f"column {col.name!r} has {int(missing.sum())} missing value(s) (first in "
                f"row {int(np.flatnonzero(missing)[0]) + 1}) but the schema says it cannot "
                "be missing; set \"nullable\": true for it in the schema, or fill those values"
            )
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def _conform_column(s: pd.Series, col: Column, notes: list[str]) -> pd.Series:
    s = s.reset_index(drop=True)
    kind = col.kind
    if kind in (Kind.INTEGER, Kind.FLOAT):
        original = s
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            num = pd.to_numeric(s, errors="coerce")
            bad = s[num.isna() & s.notna()]
            if len(bad):
                raise MixedTypesError(
                    f"column {col.name!r} is declared {kind.value} but holds text, e.g. "
                    f"row {bad.index[0] + 1}: {bad.iloc[0]!r}; clean it or change its kind"
                )
            s = num
        values = s.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(values).any():
            rows = (np.flatnonzero(np.isinf(values))[:5] + 1).tolist()
            raise NonFiniteError(
                f"column {col.name!r} holds infinite values (rows {rows}); replace them or "
                "mark them missing"
            )
        values = _clip(values, col, notes)
        if kind is Kind.INTEGER and (big := np.abs(values) >= 2.0**63).any():
            i = int(np.flatnonzero(big)[0])
            raise ColumnError(
                f"column {col.name!r} is declared integer but holds values beyond the 64-bit "
                f"range (e.g. row {i + 1}: {original.iloc[i]}); declare it 'float' to model it "
                "rounded, or 'identifier', 'categorical' or 'text' to keep it exactly"
            )
        if kind is Kind.INTEGER:
            frac = np.mod(values[~np.isnan(values)], 1) != 0
            if frac.any():
                notes.append(f"column {col.name!r}: {int(frac.sum())} non-integer values rounded")
            return pd.Series(np.round(values)).astype("Int64")
        return pd.Series(values, dtype="float64")
    if kind is Kind.DATETIME:
        parsed = parse_datetime(s, col.format, col.pivot_year)
        bad = parsed.isna() & s.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise MixedTypesError(
                f"column {col.name!r} holds {int(bad.sum())} values that are not dates in "
                f"format {col.format!r}, e.g. row {i + 1}: {s.iloc[i]!r}"
            )
        if col.bounds is not None:
            nums = _clip(datetime_to_number(parsed, col.unit), col, notes)
            if notes and notes[-1].startswith(f"column {col.name!r}: "):
                return number_to_datetime(nums, col.unit)
        return parsed
    if kind is Kind.BOOLEAN:
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("boolean")
        tokens = col.categories or ("False", "True")
        mapping = {str(tokens[0]).lower(): False, str(tokens[1]).lower(): True}
        mapped = s.map(lambda v: mapping.get(str(v).lower()) if pd.notna(v) else None)
        _check_unknown(s, mapped.isna() & s.notna(), col, notes)
        return mapped.astype("boolean")
    if kind is Kind.CATEGORICAL:
        text = s.map(lambda v: None if pd.isna(v) else category_text(v)).astype(object)
        if col.categories is not None:
            known = set(col.categories)
            unknown = text.notna() & ~text.isin(known)
            if unknown.any():
                _check_unknown(s, unknown, col, notes)
                text = text.where(~unknown, None)
        return text
    # identifiers and text travel as strings or integers, untouched
    return s


def _clip(values: np.ndarray, col: Column, notes: list[str]) -> np.ndarray:
    b = col.numeric_bounds()
    if b is None or col.source("bounds") == "data":
        return values
    lo, hi = b
    n_out = int(np.sum((values < lo) | (values > hi)))
    if n_out:
        notes.append(
            f"column {col.name!r}: {n_out} value(s) outside the declared bounds "
            f"{list(col.bounds)} were clipped to them"
        )
        values = np.clip(values, lo, hi)
    return values


def _check_unknown(s: pd.Series, unknown: pd.Series, col: Column, notes: list[str]) -> None:
    if not unknown.any():
        return
    examples = sorted({str(v) for v in s[unknown]})[:5]
    notes.append(
        f"column {col.name!r}: {int(unknown.sum())} value(s) not among the schema's categories "
        f"(e.g. {examples}) were set to missing"
    )
