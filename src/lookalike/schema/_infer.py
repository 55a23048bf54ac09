"""Infer a schema from a table, and complete a given schema from the data.

Facts read here are marked ``"data"``: they describe the private table and are free only in
non-DP fits. Declared facts always win over what the data says.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import (
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
from lookalike.schema._fakes import FAKE_PREFIX, FAKE_PROVIDERS, detect_fake
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


def with_declared(inferred: Schema, declared: Schema) -> Schema:
    """``inferred`` (a schema read from the data, e.g. by an engine that leaves the rows
    where they live) with the facts ``declared`` declares: each declared fact wins; a column
    whose kind is declared other than the one inferred is taken as declared (its nullability
    from the data unless declared). Columns ``declared`` names that ``inferred`` lacks are
    ignored (the caller checks them).

    >>> from lookalike.schema import Column, Kind, Schema
    >>> found = Schema((Column("code", Kind.INTEGER, nullable=False),))
    >>> given = Schema((Column("code", Kind.CATEGORICAL, categories=("1", "2"),
    ...                        sources={"kind": "declared", "categories": "declared"}),))
    >>> col = with_declared(found, given)["code"]
    >>> col.kind.value, col.categories, col.nullable, col.source("categories")
    ('categorical', ('1', '2'), False, 'declared')
    """
    columns = []
    for col in inferred:
        given = declared[col.name] if col.name in declared else None
        facts = {} if given is None else {
            f: getattr(given, f) for f in _FACTS if given.source(f) == "declared"}
        if "kind" in facts and facts["kind"] is not col.kind:
            assert given is not None
            col = given if "nullable" in facts else given.replace("data", nullable=col.nullable)
        elif facts:
            col = col.replace("declared", **facts)
        columns.append(col)
    return Schema(tuple(columns), inferred.n_rows, inferred.n_rows_source)


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
    warning. A column of one value is modelled as any other (its output holds that value); a
    column entirely missing is categorical with no category, written back entirely missing
    (:func:`no_values`): no column is refused for what it holds.
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"infer_schema needs a pandas DataFrame, got {type(data).__name__}")
    drop = list(drop)
    unknown = [d for d in drop if d not in data.columns]
    if unknown:
        raise ColumnMismatchError(f"cannot drop {unknown}: no such columns in {list(data.columns)}")
    data = data.drop(columns=drop)
    check_table(len(data), len(data.columns))
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
    fmt = None  # an identifier's format, when the rules that chose its kind found it
    if given is not None and given.kind is not None and given.sources.get("kind") == "declared":
        kind = given.kind
        if kind is Kind.TEXT:
            warnings.warn(_free_text(name), stacklevel=3)
    else:
        kind, why, fmt = (Kind.CATEGORICAL, "", None) if len(nonnull) == 0 else \
            _infer_kind(name, s, nonnull, limit)
        if why:
            warnings.warn(why, stacklevel=3)
    facts: dict[str, Any] = {"kind": kind, "nullable": nullable}
    if kind is Kind.DATETIME:
        fmt, pivot = _datetime_format(nonnull, given)
        facts.update(format=fmt, pivot_year=pivot)
        parsed = parse_datetime(nonnull, fmt, pivot).dropna()
        unit = datetime_unit(bool((parsed == parsed.dt.normalize()).all()))
        facts.update(unit=unit, bounds=(_iso(parsed.min(), unit), _iso(parsed.max(), unit)))
    elif kind in (Kind.INTEGER, Kind.FLOAT):
        values = _to_number(nonnull, name)
        facts["bounds"] = (_py(values.min(), kind), _py(values.max(), kind))
    elif kind is Kind.BOOLEAN:
        facts["categories"] = _boolean_tokens(nonnull)
    elif kind is Kind.CATEGORICAL:
        facts["categories"] = tuple(sorted({str(v) for v in nonnull}))
    elif kind is Kind.IDENTIFIER:
        facts["format"] = fmt if fmt is not None else _key_format(nonnull)
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


def _infer_kind(
    name: str, s: pd.Series, nonnull: pd.Series, limit: int
) -> tuple[Kind, str, str | None]:
    """The column's kind, a warning to give with it ("" for none), and an identifier's
    format when the rules for many distinct values found it (else None)."""
    n_distinct = nonnull.nunique()
    why, fmt = "", None
    if pd.api.types.is_bool_dtype(s.dtype):
        kind = Kind.BOOLEAN
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        kind = Kind.DATETIME
    elif _beyond_int64(nonnull):  # e.g. uint64 keys: as text, so that none is rounded
        text = nonnull.astype(str)
        kind, why = _inexact_kind(name, text, _inexact_numbers(text), n_distinct, limit)
    elif pd.api.types.is_numeric_dtype(s.dtype):
        values = _to_number(nonnull, name)
        kind = number_kind(name, len(s), lambda: n_distinct, bool(np.all(np.mod(values, 1) == 0)),
                           values.min(), values.max())
    else:
        kind, why, fmt = _infer_text_kind(name, s, nonnull, n_distinct, limit)
    return kind, why, fmt


# ------------------------------------------------- rules shared with the DuckDB engine
# Each takes what it needs as counts or a few values, so that the DuckDB engine
# (lookalike.marginals.duckdb), which reads a table only through aggregate queries, applies the
# very rules infer_schema applies to a DataFrame: the same kinds, refusals and messages.
def check_table(n_rows: int, n_columns: int) -> None:
    """Refuse a table with no column to model, or fewer than :data:`MIN_ROWS` rows."""
    if n_columns == 0:
        raise EmptyDataError("the table has no columns to model")
    if n_rows < MIN_ROWS:
        raise EmptyDataError(
            f"the table has {n_rows} data row{'s' if n_rows != 1 else ''}; "
            f"lookalike needs at least {MIN_ROWS} rows to model it"
        )


def no_values(name: str) -> Column:
    """A column with no value at all, as inferred: categorical with no category (its nullable
    flag set by the caller), so that every synthesizer writes it back entirely missing. Under DP
    its missing state is measured as any column's: no category is released."""
    return Column(name, Kind.CATEGORICAL, categories=(),
                  sources={"kind": "data", "categories": "data"})


def number_kind(name: str, n_rows: int, n_distinct: Callable[[], int], integral: bool,
                lo: Any, hi: Any) -> Kind:
    """The kind of a numeric column: IDENTIFIER for unique whole numbers named like a key or
    running from ``lo`` to ``hi`` without a gap (``n_rows`` of them, none missing), else
    INTEGER when every value is whole (``1.0`` included), else FLOAT.

    ``n_distinct`` (distinct non-missing values) is called only when the rest holds: in SQL
    it is one more query.
    """
    if integral and n_rows >= MIN_ROWS and (_ID_NAME.search(name) or hi - lo + 1 == n_rows) \
            and n_distinct() == n_rows:
        return Kind.IDENTIFIER
    return Kind.INTEGER if integral else Kind.FLOAT


def datetime_unit(midnight: bool) -> str:
    """A datetime column's unit: days when every value is at midnight, else seconds."""
    return "D" if midnight else "s"


BOOLEAN_WORDS = frozenset().union(*_BOOLEAN_PAIRS)
"""The values (lower case) a text column of booleans is written with."""


def is_boolean_text(values: Iterable[Any]) -> bool:
    """Whether text whose distinct values are ``values`` holds booleans: written with the two
    words of one pair (true/false, yes/no, t/f, y/n) in any case."""
    lowered = {str(v).lower() for v in values}
    return len(lowered) == 2 and any(lowered <= pair for pair in _BOOLEAN_PAIRS)


def mixed_numbers(name: str, share: float,
                  examples: Iterable[tuple[int | None, Any]]) -> MixedTypesError:
    """The refusal of text that is mostly numbers (``share`` of its values, at least half and
    not all); ``examples``: (row, value) of its first text values, row 1 the first data row
    (row None where the source has no row order, e.g. Spark)."""
    shown = ", ".join(f"row {row}: {v!r}" if row is not None else repr(v)
                      for row, v in list(examples)[:3])
    return MixedTypesError(
        f"column {name!r} mixes numbers and text ({share:.0%} of values are numbers; "
        f"text values{' at' if 'row ' in shown else ''} {shown}); clean those values, or declare the column "
        "'categorical' in a schema (CLI: --schema)"
    )


def numbers_as_text(name: str) -> MixedTypesError:
    """The refusal of text whose values are all numbers that a numeric dtype holds exactly."""
    return MixedTypesError(f"column {name!r} holds numbers stored as text; convert it to a "
                           "numeric dtype or declare its kind in a schema")


def non_finite_text(name: str, rows: Iterable[int]) -> NonFiniteError:
    """The refusal of text numbers among which some are infinite (``rows``: where, 1 = first
    data row)."""
    return NonFiniteError(f"column {name!r} holds infinite or NaN values (rows {list(rows)[:5]}); "
                          "write missing values as empty fields and replace infinite values")


def _infer_text_kind(
    name: str, s: pd.Series, nonnull: pd.Series, n_distinct: int, limit: int
) -> tuple[Kind, str, str | None]:
    """The kind of a text column, a warning to give with it ("" for none), and an
    identifier's format (None if not one).

    Many distinct values (more than ``limit``, or more than half the values) are classified
    by :func:`text_kind` rather than refused.
    """
    text = nonnull.astype(str)
    numeric = pd.to_numeric(text, errors="coerce")
    share = float(numeric.notna().mean())
    if share == 1.0 and zero_padded(text):
        share = 0.0  # codes with leading zeros: text, classified as any text is (below)
    if share == 1.0:
        finite = np.isfinite(numeric.to_numpy(dtype=float))
        if not finite.all():
            raise non_finite_text(name, [i + 1 for i in text.index[~finite][:5]])
        inexact = _inexact_numbers(text)
        if inexact is not None:
            return (*_inexact_kind(name, text, inexact, n_distinct, limit), None)
        raise numbers_as_text(name)
    if share >= 0.5:
        raise mixed_numbers(name, share, [(i + 1, v) for i, v in
                                          list(text[numeric.isna()].items())[:3]])
    if _guess_datetime_format(text) is not None:
        return Kind.DATETIME, "", None
    if is_boolean_text(text.unique()):
        return Kind.BOOLEAN, "", None
    if not many_values(len(text), n_distinct, limit):
        return Kind.CATEGORICAL, "", None
    lengths = text.str.len()
    return text_kind(name, TextShape(
        n_rows=len(s), n_values=len(text), n_distinct=n_distinct, shortest=int(lengths.min()),
        longest=int(lengths.max()), mean_length=float(lengths.mean()), values=lambda: text,
        median_words=lambda: float((text.str.count(r"\s+") + 1).median())), limit)


# ------------------------------------------------------------ text with many distinct values
FREE_TEXT_LENGTH = 25
"""Free text is distinct in more than half its values, this many characters long on average
and of at least :data:`FREE_TEXT_WORDS` words (the median)."""
FREE_TEXT_WORDS = 3


@dataclass(frozen=True)
class TextShape:
    """What :func:`text_kind` reads from a text column with many distinct values.

    Counted where the rows are: in pandas by :func:`infer_schema`, in SQL by the DuckDB engine
    (:class:`~lookalike.marginals.duckdb.DuckDBEngine`), so that both classify alike.
    ``values`` gives the column's values, or a sample of its distinct values (at most
    :data:`~lookalike.schema._fakes.SAMPLE`, what :func:`~lookalike.schema._fakes.detect_fake`
    looks at anyway); it and ``median_words`` (a scan of every value: in SQL, one more query)
    are called only when a rule needs them, at most once.
    """

    n_rows: int
    """Rows, missing values included."""
    n_values: int
    """Non-missing values."""
    n_distinct: int
    shortest: int
    """Length of the shortest value (characters)."""
    longest: int
    mean_length: float
    """Mean length of the values (characters), repeats counted."""
    values: Callable[[], pd.Series]
    median_words: Callable[[], float]
    """Median number of words (runs of whitespace plus one), repeats counted."""


def many_values(n_values: int, n_distinct: int, limit: int) -> bool:
    """Whether a text column has enough distinct values for :func:`text_kind` to look past
    categories: more than half its values, or more than ``limit``. Otherwise it is
    categorical, and its shape need not be measured."""
    return n_distinct > 0.5 * n_values or n_distinct > limit


def text_kind(name: str, shape: TextShape, limit: int) -> tuple[Kind, str, str | None]:
    """The kind of a text column with many distinct values, a warning to give with it ("" for
    none), and an identifier's format (None if not one); the one place of these rules.

    In order: unique keys of one fixed-width pattern with room for fresh keys (identifiers in
    that pattern); with more than ``limit`` distinct values, or 20 or more that are more than
    half the values, names, e-mails and the like (identifiers as ``"fake:<provider>"``, see
    :func:`~lookalike.schema._fakes.detect_fake`); free text (long values of several words,
    excluded as text with a warning); at most ``limit`` distinct values (categorical); past
    ``limit``, keys of one pattern that repeat (identifiers); the rest is excluded as text with
    a warning that says how to declare it.
    """
    n_distinct, n_values = shape.n_distinct, shape.n_values
    if not many_values(n_values, n_distinct, limit):
        return Kind.CATEGORICAL, "", None
    values = functools.cache(shape.values)

    @functools.cache
    def keys() -> str | None:
        if shape.shortest != shape.longest:  # one width, checked on every value, not a sample
            return None
        return _fresh_key_pattern(values(), n=n_values)

    unique = n_distinct == n_values and n_values >= MIN_ROWS
    if unique and keys() is not None:
        return Kind.IDENTIFIER, "", keys()
    many = n_distinct > limit or (n_distinct >= 20 and n_distinct > 0.5 * n_values)
    provider = detect_fake(values()) if many else None
    if provider is not None:  # a fixed-width pattern of keys, where there is one, wins
        return Kind.IDENTIFIER, "", keys() or FAKE_PREFIX + provider
    if (n_distinct > 0.5 * n_values and shape.mean_length >= FREE_TEXT_LENGTH
            and shape.median_words() >= FREE_TEXT_WORDS):
        return Kind.TEXT, _free_text(name), None
    if n_distinct <= limit:
        return Kind.CATEGORICAL, "", None
    if keys() is not None:
        return Kind.IDENTIFIER, "", keys()
    return Kind.TEXT, _too_many(name, n_distinct, shape.n_rows, limit), None


def text_columns(stats: Mapping[str, Sequence[Any]], n_rows: int, limit: int,
                 values: Callable[[str], pd.Series], median_words: Callable[[str], float],
                 why: dict[str, str]) -> dict[str, Column]:
    """The columns :func:`text_kind` takes out of categories, from what an engine counted per
    text column with many distinct values (``stats``: values, distinct values, shortest,
    longest and mean length); ``values`` and ``median_words`` read a column's sample of
    distinct values and its median word count when a rule needs them. Warnings go to ``why``.
    The DuckDB and Spark engines both classify through it."""
    out: dict[str, Column] = {}
    for name, (n_values, n_distinct, shortest, longest, mean_length) in stats.items():
        shape = TextShape(
            n_rows=n_rows, n_values=int(n_values), n_distinct=int(n_distinct),
            shortest=int(shortest), longest=int(longest), mean_length=float(mean_length),
            values=functools.partial(values, name), median_words=functools.partial(
                median_words, name))
        kind, warning, fmt = text_kind(name, shape, limit)
        if warning:
            why[name] = warning
        if kind is not Kind.CATEGORICAL:
            out[name] = Column(name, kind, format=fmt, sources={"kind": "data"} | (
                {"format": "data"} if fmt else {}))
    return out


def _too_many(name: str, n_distinct: int, n_rows: int, limit: int) -> str:
    return (
        f"column {name!r} has {n_distinct:,} distinct values in {n_rows:,} rows: too "
        f"many to model as categories (at most {limit:,} here), and they are neither keys of one "
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
ZERO_PADDED = r"0[0-9]+"
"""A whole number written with a leading zero (02134, 007, 00): a column holding one is codes
whose zeros are part of their spelling (postal codes, account numbers, "08" of an hour), read
and kept as text by every reader and engine, never as numbers that would write 2134."""


def zero_padded(text: pd.Series) -> bool:
    """Whether some value of the text column is a whole number with a leading zero."""
    return bool(text.str.fullmatch(ZERO_PADDED).any())
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
