"""Infer a schema from a table, and complete a given schema from the data.

Facts read here are marked ``"data"``: they describe the private table and are free only in
non-DP fits. Declared facts always win over what the data says.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import (
    ColumnError,
    ColumnMismatchError,
    EmptyDataError,
    MixedTypesError,
    NonFiniteError,
    SchemaError,
)
from lookalike.schema._columns import _FACTS, MIN_ROWS, Column, Kind
from lookalike.schema._datetimes import (
    _datetime_format,
    _guess_datetime_format,
    _iso,
    parse_datetime,
)
from lookalike.schema._fakes import FAKE_PROVIDERS, detect_fake
from lookalike.schema._formats import (
    _BOOLEAN_PAIRS,
    _boolean_tokens,
    _fresh_key_pattern,
    _key_format,
)
from lookalike.schema._schema import Schema


def as_schema(schema: Schema | Mapping | str | os.PathLike) -> Schema:
    """A Schema from a Schema (kept as it is), or the user's declaration as a dict or JSON file.

    A dict or file is a declaration: every fact it states counts as declared public, whatever
    source it records (a file written by ``lookalike inspect`` says "data"; once handed back,
    it is the user's word). To fix kinds only, state only the kinds: the facts left out are
    read from the data, or discovered under DP. A :class:`Schema` object keeps the sources it
    records (an inferred one says "data"); :meth:`Schema.as_declared` declares it whole.

    >>> as_schema({"columns": [{"name": "age", "kind": "integer",
    ...            "bounds": {"value": [0, 120], "source": "data"}}]}).source("age", "bounds")
    'declared'
    """
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, Mapping):
        return Schema.from_dict(schema).as_declared()
    if not isinstance(schema, str | os.PathLike):
        raise SchemaError(
            f"a schema is a Schema, its dict form or the path of its JSON file, not a "
            f"{type(schema).__name__}"
        )
    return Schema.load(schema).as_declared()


def resolve_schema(
    data: pd.DataFrame, schema: Schema | Mapping | str | os.PathLike | None = None
) -> Schema:
    """The schema to model ``data`` with: inferred, given whole, or completed from the data.

    A given schema (object, dict or JSON file, read by :func:`as_schema`: a dict or file is
    declared whole) is used as it is when it describes every column completely; when it
    leaves columns or facts out (a column missing, a categorical without categories,
    ``nullable`` not written) the rest is inferred from the data and every declared fact is
    kept.
    """
    if schema is None:
        return infer_schema(data)
    declared = as_schema(schema)
    missing = [c for c in declared.names if c not in data.columns]
    if missing:
        raise ColumnMismatchError(f"the schema names columns that are not in the data: {missing}")
    incomplete = any(c not in declared for c in data.columns) or any(
        (c.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) and c.categories is None)
        or c.sources.get("nullable") == "default"
        for c in declared
    )
    return infer_schema(data, declared=declared) if incomplete else declared


def infer_schema(
    data: pd.DataFrame,
    *,
    declared: Schema | Mapping | None = None,
    drop: Iterable[str] = (),
    max_categories: int | None = None,
) -> Schema:
    """Infer each column's kind and domain from ``data``; declared facts win.

    ``declared`` is a Schema (its declared facts win) or a dict (a declaration: all its
    facts win, see :func:`as_schema`). Facts read here are marked ``"data"``: they describe
    the private table and are free only in non-DP fits. ``max_categories`` caps the distinct
    values of a categorical column (default: half the rows, at least 20).

    Text with more distinct values than that never stops inference: keys of one pattern become
    identifiers regenerated in that pattern; person names, e-mail addresses, phone numbers,
    street addresses and company names become identifiers regenerated as fakes of the same
    kind (format ``"fake:<provider>"``); free text and anything else is excluded as text, with
    a warning that names the column and how to declare it. Numbers that no numeric dtype holds
    exactly are identifiers (unique keys), exact categories (few values) or floats, with a
    warning. Raises a
    :class:`ColumnError` only for columns with nothing to model (entirely missing, constant),
    naming the fix.
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"infer_schema needs a pandas DataFrame, got {type(data).__name__}")
    drop = list(drop)
    unknown = [d for d in drop if d not in data.columns]
    if unknown:
        raise ColumnMismatchError(f"cannot drop {unknown}: no such columns in {list(data.columns)}")
    data = data.drop(columns=drop)
    if len(data.columns) == 0:
        raise EmptyDataError("the table has no columns to model")
    if len(data) < MIN_ROWS:
        raise EmptyDataError(
            f"the table has {len(data)} data row{'s' if len(data) != 1 else ''}; "
            f"lookalike needs at least {MIN_ROWS} rows to model it"
        )
    if declared is not None and not isinstance(declared, Schema):
        declared = as_schema(declared)
    limit = max_categories or max(20, len(data) // 2)
    columns = []
    for name in data.columns:
        given = declared[name] if declared is not None and name in declared else None
        columns.append(_infer_column(str(name), data[name], given, limit))
    return Schema(tuple(columns), len(data), "data")


def _infer_column(name: str, s: pd.Series, given: Column | None, limit: int) -> Column:
    nonnull = s.dropna()
    nullable = bool(s.isna().any())
    if given is not None and given.kind is not None and given.sources.get("kind") == "declared":
        kind = given.kind
        if kind is Kind.TEXT:
            warnings.warn(_free_text(name), stacklevel=3)
    else:
        if len(nonnull) == 0:
            raise ColumnError(
                f"column {name!r} is entirely missing: there is nothing to model; "
                f"drop it (CLI: --drop {name!r})"
            )
        kind, why = _infer_kind(name, s, nonnull, limit)
        if why:
            warnings.warn(why, stacklevel=3)
    facts: dict[str, Any] = {"kind": kind, "nullable": nullable}
    if kind is Kind.DATETIME:
        fmt, pivot = _datetime_format(nonnull, given)
        facts.update(format=fmt, pivot_year=pivot)
        parsed = parse_datetime(nonnull, fmt, pivot).dropna()
        unit = "D" if (parsed == parsed.dt.normalize()).all() else "s"
        facts.update(unit=unit, bounds=(_iso(parsed.min(), unit), _iso(parsed.max(), unit)))
    elif kind in (Kind.INTEGER, Kind.FLOAT):
        values = _to_number(nonnull, name)
        facts["bounds"] = (_py(values.min(), kind), _py(values.max(), kind))
    elif kind is Kind.BOOLEAN:
        facts["categories"] = _boolean_tokens(nonnull)
    elif kind is Kind.CATEGORICAL:
        facts["categories"] = tuple(sorted({str(v) for v in nonnull}))
    elif kind is Kind.IDENTIFIER:
        facts["format"] = _key_format(nonnull)
    col = Column(name=name, **facts, sources={k: "data" for k, v in facts.items() if v is not None})
    if given is not None:  # declared facts override what the data says
        overrides = {f: getattr(given, f) for f in _FACTS if given.source(f) == "declared"}
        overrides.pop("kind", None)
        if overrides:
            col = col.replace("declared", **overrides)
        col = col.replace("declared", kind=kind) if given.source("kind") == "declared" else col
    return col


def _free_text(name: str) -> str:
    return (f"column {name!r} looks like free text: it is excluded from the model and from "
            "the synthetic data; declare another kind in the schema to model it")


_ID_NAME = re.compile(r"(^|[_\W])(id|key|uuid|guid|ssn)$", re.IGNORECASE)


def _infer_kind(name: str, s: pd.Series, nonnull: pd.Series, limit: int) -> tuple[Kind, str]:
    """The column's kind, and a warning to give with it ("" for none)."""
    n_distinct = nonnull.nunique()
    why = ""
    if pd.api.types.is_bool_dtype(s.dtype):
        kind = Kind.BOOLEAN
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        kind = Kind.DATETIME
    elif _beyond_int64(nonnull):  # e.g. uint64 keys: as text, so that none is rounded
        text = nonnull.astype(str)
        kind, why = _inexact_kind(name, text, _inexact_numbers(text), n_distinct, limit)
    elif pd.api.types.is_numeric_dtype(s.dtype):
        values = _to_number(nonnull, name)
        integral = bool(np.all(np.mod(values, 1) == 0))
        unique = n_distinct == len(s) and len(s) >= MIN_ROWS
        if integral and unique and (_ID_NAME.search(name) or values.max() - values.min() + 1 == len(s)):
            kind = Kind.IDENTIFIER
        else:
            kind = Kind.INTEGER if integral else Kind.FLOAT
    else:
        kind, why = _infer_text_kind(name, s, nonnull, n_distinct, limit)
    if n_distinct == 1:
        value = nonnull.iloc[0]
        raise ColumnError(
            f"column {name!r} holds the single value {value!r} in every row: it carries no "
            f"information to model; drop it (CLI: --drop {name!r}) or declare its kind and "
            "domain in a schema"
        )
    return kind, why


def _infer_text_kind(
    name: str, s: pd.Series, nonnull: pd.Series, n_distinct: int, limit: int
) -> tuple[Kind, str]:
    """The kind of a text column, and a warning to give with it ("" for none).

    Many distinct values (more than ``limit``, or more than half the values) are classified
    rather than refused: unique keys of one pattern, then names, e-mails and the like (fakes),
    then free text; past ``limit``, keys of one pattern that are not unique are identifiers
    too, and the rest is excluded as text with a warning that says how to declare it.
    """
    text = nonnull.astype(str)
    numeric = pd.to_numeric(text, errors="coerce")
    share = float(numeric.notna().mean())
    if share == 1.0:
        finite = np.isfinite(numeric.to_numpy(dtype=float))
        if not finite.all():
            rows = (np.flatnonzero(~finite)[:5] + 1).tolist()
            raise NonFiniteError(
                f"column {name!r} holds infinite or NaN values (rows {rows}); "
                "write missing values as empty fields and replace infinite values"
            )
        inexact = _inexact_numbers(text)
        if inexact is not None:
            return _inexact_kind(name, text, inexact, n_distinct, limit)
        raise MixedTypesError(
            f"column {name!r} holds numbers stored as text; convert it to a numeric dtype "
            "or declare its kind in a schema"
        )
    if share >= 0.5:
        bad = text[numeric.isna()]
        examples = ", ".join(f"row {i + 1}: {v!r}" for i, v in list(bad.items())[:3])
        raise MixedTypesError(
            f"column {name!r} mixes numbers and text ({share:.0%} of values are numbers; "
            f"text values at {examples}); clean those values, or declare the column "
            "'categorical' in a schema (CLI: --schema)"
        )
    fmt = _guess_datetime_format(text)
    if fmt is not None:
        return Kind.DATETIME, ""
    lowered = set(text.str.lower().unique())
    if any(lowered <= pair for pair in _BOOLEAN_PAIRS) and len(lowered) == 2:
        return Kind.BOOLEAN, ""
    unique = n_distinct == len(nonnull) and len(nonnull) >= MIN_ROWS
    keys = _fresh_key_pattern(text) if unique or n_distinct > limit else None
    if unique and keys is not None:
        return Kind.IDENTIFIER, ""
    many = n_distinct > limit or (n_distinct >= 20 and n_distinct > 0.5 * len(nonnull))
    if many and detect_fake(text) is not None:
        return Kind.IDENTIFIER, ""
    lengths = text.str.len()
    words = text.str.count(r"\s+") + 1
    if n_distinct > 0.5 * len(nonnull) and lengths.mean() >= 25 and words.median() >= 3:
        return Kind.TEXT, _free_text(name)
    if n_distinct <= limit:
        return Kind.CATEGORICAL, ""
    if keys is not None:
        return Kind.IDENTIFIER, ""
    return Kind.TEXT, (
        f"column {name!r} has {n_distinct:,} distinct values in {len(s):,} rows: too many to "
        f"model as categories (at most {limit:,} here), and they are neither keys of one "
        "pattern nor names, e-mails, phone numbers, addresses or companies; it is excluded "
        "from the model and from the synthetic data as text. To keep it, declare it in a "
        "schema (CLI: --schema): 'categorical' to model its values, or 'identifier' with a "
        'format (a regular expression, or "fake:<provider>" with a provider among '
        + ", ".join(FAKE_PROVIDERS)
        + f") to regenerate it; or drop it (CLI: --drop {name!r})"
    )


def _to_number(s: pd.Series, name: str) -> np.ndarray:
    values = s.to_numpy(dtype=float, na_value=np.nan)
    if not np.all(np.isfinite(values[~np.isnan(values)])):
        rows = (np.flatnonzero(np.isinf(values))[:5] + 1).tolist()
        raise NonFiniteError(
            f"column {name!r} holds infinite values (rows {rows}); replace them or mark them missing"
        )
    return values[~np.isnan(values)]


def _py(v: Any, kind: Kind) -> Any:
    return int(v) if kind is Kind.INTEGER else float(v)


# -------------------------------------------------------------------- numbers no dtype holds
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_INT64 = (-(2**63), 2**63 - 1)


def _beyond_int64(nonnull: pd.Series) -> bool:
    """Whether an integer column holds values outside int64 (only uint64 can)."""
    return pd.api.types.is_unsigned_integer_dtype(nonnull.dtype) and bool(
        len(nonnull) and nonnull.max() > _INT64[1]
    )


def _inexact_numbers(text: pd.Series) -> pd.Series | None:
    """The values of an all-numeric text column that no numeric dtype holds exactly, or None.

    Integers beyond int64 would be rounded as floats; decimals with more significant digits
    than a float keeps (about 16) would lose them.
    """
    integers = text.str.fullmatch(_INTEGER)
    if integers.all():
        big = text[text.map(lambda v: not _INT64[0] <= int(v) <= _INT64[1])]
    else:
        big = text[text.map(lambda v: not _exact_float(v))]
    return big if len(big) else None


def _exact_float(v: str) -> bool:
    try:
        return Decimal(v) == Decimal(repr(float(v)))
    except (InvalidOperation, ValueError):
        return True  # not a plain decimal: left to the caller's message


def _inexact_kind(
    name: str, text: pd.Series, inexact: pd.Series, n_distinct: int, limit: int
) -> tuple[Kind, str]:
    """IDENTIFIER for unique keys that are fixed-width or named like a key; otherwise
    CATEGORICAL (at most ``limit`` distinct values) or FLOAT, with a warning.

    Keys and categories keep every digit, as text. Anything else is a number that no numeric
    dtype holds exactly: it is modelled as a float, rounded to about 16 significant digits
    (what a model of numbers needs anyway). The warning names the other kinds to declare.
    """
    integers = bool(text.str.fullmatch(_INTEGER).all())
    unique = n_distinct == len(text) and len(text) >= MIN_ROWS
    fixed = text.str.len().nunique() == 1
    if integers and unique and (fixed or _ID_NAME.search(name)):
        return Kind.IDENTIFIER, ""
    row, value = next(iter(inexact.items()))
    return inexact_kind(name, integers, row + 1, value, n_distinct, limit)


def inexact_kind(
    name: str, integers: bool, row: int, value: Any, n_distinct: int, limit: int
) -> tuple[Kind, str]:
    """The kind of numbers no numeric dtype holds exactly that are not keys, and its warning.

    CATEGORICAL (each value kept exactly) for at most ``limit`` distinct values, else FLOAT
    (rounded to about 16 significant digits). ``row`` (1 = first data row) and ``value``: the
    first such number, for the warning. Shared with the DuckDB engine, so both say the same.
    """
    what = ("integers beyond the 64-bit range" if integers
            else "decimals with more digits than a float keeps")
    if n_distinct <= limit:
        kind, how = Kind.CATEGORICAL, (
            "categories, each value kept exactly; declare it 'float' in a schema (CLI: "
            "--schema) to model it as numbers, rounded")
    else:
        kind, how = Kind.FLOAT, (
            "floats, rounded to about 16 significant digits; declare it 'identifier' (unique "
            "keys), 'categorical' or 'text' in a schema (CLI: --schema) to keep it exact")
    return kind, (f"column {name!r} holds {what} (e.g. row {row}: {value}): it is "
                  f"modelled as {how}, or drop it (CLI: --drop {name!r})")
