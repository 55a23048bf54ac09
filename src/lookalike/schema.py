"""Column kinds, domains and bounds of a table, each fact marked declared or read from data.

A :class:`Schema` is the contract between a table and every model: which columns exist, what
kind each is, which categories and bounds it may take, whether it may be missing. Each fact
records where it came from (``"declared"`` by the user, ``"data"`` read from the private
table, or a DP release). In DP mode only declared or DP-released facts may shape a model; facts
read from the data are free only for non-DP fits.

The JSON form is meant to be edited: a fact written as a plain value counts as declared, a fact
written as ``{"value": ..., "source": ...}`` keeps its recorded source.

>>> import pandas as pd
>>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62] * 4, "sex": ["F", "M", "M", "F", "M"] * 4})
>>> schema = infer_schema(df)
>>> schema["age"].kind.value, schema["age"].bounds, schema.source("age", "bounds")
('integer', (23, 62), 'data')
>>> Schema.from_json(schema.to_json()) == schema
True
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lookalike._files import atomic_output
from lookalike.errors import (
    ColumnError,
    ColumnMismatchError,
    EmptyDataError,
    MixedTypesError,
    NonFiniteError,
    SchemaError,
)

__all__ = ["Column", "Kind", "Schema", "infer_schema", "MIN_ROWS"]

SCHEMA_FORMAT = "lookalike-schema"
SCHEMA_VERSION = 1
MIN_ROWS = 10
"""Fewest rows a table must have before lookalike will model it."""

_FACTS = ("kind", "nullable", "categories", "bounds", "format", "unit", "pivot_year")


class Kind(StrEnum):
    """What a column holds, and so how it is modelled."""

    CATEGORICAL = "categorical"
    INTEGER = "integer"
    FLOAT = "float"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    IDENTIFIER = "identifier"  # unique keys: never modelled, regenerated in the same format
    TEXT = "text"  # free text: excluded from models, with a warning

    @property
    def modelled(self) -> bool:
        return self not in (Kind.IDENTIFIER, Kind.TEXT)

    @property
    def numeric(self) -> bool:
        """Ordered kinds modelled through numbers (datetimes as time since the epoch)."""
        return self in (Kind.INTEGER, Kind.FLOAT, Kind.DATETIME)


@dataclass(frozen=True)
class Column:
    """One column: its kind and domain, with the source of every fact in ``sources``.

    ``bounds`` are numbers for integer/float columns and ISO strings for datetimes;
    ``format`` is a strftime pattern for datetimes and a regular expression for string
    identifiers; ``unit`` is ``"D"`` or ``"s"`` for datetimes; ``pivot_year`` resolves
    two-digit years (a parsed year after it belongs to the previous century).
    """

    name: str
    kind: Kind
    nullable: bool = False
    categories: tuple | None = None
    bounds: tuple | None = None
    format: str | None = None
    unit: str | None = None
    pivot_year: int | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=True)

    def source(self, fact: str) -> str | None:
        """Where ``fact`` came from: "declared", "data", a DP release, or None if unset."""
        if getattr(self, fact) is None:
            return None
        return self.sources.get(fact, "declared")

    def replace(self, source: str = "declared", **facts: Any) -> Column:
        """A copy with ``facts`` changed, each recorded as coming from ``source``."""
        sources = dict(self.sources)
        sources.update({k: source for k in facts})
        return dataclasses.replace(self, sources=sources, **facts)

    def numeric_bounds(self) -> tuple[float, float] | None:
        """Bounds as floats (datetimes in ``unit`` since 1970-01-01)."""
        if self.bounds is None:
            return None
        if self.kind is Kind.DATETIME:
            lo, hi = (pd.Timestamp(b) for b in self.bounds)
            return datetime_to_number(lo, self.unit), datetime_to_number(hi, self.unit)
        return float(self.bounds[0]), float(self.bounds[1])


@dataclass(frozen=True)
class Schema:
    """An ordered set of columns, plus the row count as an optional fact.

    ``n_rows`` is ``None`` unless known; in DP mode the row count is private unless declared.
    """

    columns: tuple[Column, ...]
    n_rows: int | None = None
    n_rows_source: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaError(f"schema names columns more than once: {dupes}")

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"no column {name!r} in the schema; columns are {self.names}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[Column]:
        """Columns a synthesizer models (not identifiers, not free text)."""
        return [c for c in self.columns if c.kind.modelled]

    def source(self, column: str, fact: str) -> str | None:
        return self[column].source(fact)

    def with_column(self, column: Column) -> Schema:
        """A copy with ``column`` replacing the one of the same name."""
        cols = tuple(column if c.name == column.name else c for c in self.columns)
        return dataclasses.replace(self, columns=cols)

    # ---------------------------------------------------------------- JSON round trip
    def to_dict(self) -> dict:
        cols = []
        for c in self.columns:
            entry: dict[str, Any] = {"name": c.name}
            for fact in _FACTS:
                value = getattr(c, fact)
                if value is None:
                    continue
                if isinstance(value, tuple):
                    value = [_jsonable(v) for v in value]
                entry[fact] = {"value": _jsonable(value), "source": c.source(fact)}
            cols.append(entry)
        out: dict[str, Any] = {"format": SCHEMA_FORMAT, "version": SCHEMA_VERSION}
        if self.n_rows is not None:
            out["n_rows"] = {"value": self.n_rows, "source": self.n_rows_source or "declared"}
        out["columns"] = cols
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping) -> Schema:
        if not isinstance(d, Mapping) or not isinstance(d.get("columns"), list):
            raise SchemaError("a schema is a JSON object with a 'columns' list")
        if d.get("format", SCHEMA_FORMAT) != SCHEMA_FORMAT:
            raise SchemaError(f"not a lookalike schema (format {d.get('format')!r})")
        try:
            version = int(d.get("version", SCHEMA_VERSION))
        except (TypeError, ValueError):
            raise SchemaError(f"schema version must be an integer, got {d['version']!r}") from None
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"schema version {d['version']} is newer than this lookalike understands "
                f"({SCHEMA_VERSION}); upgrade lookalike"
            )
        columns = [_column_from_dict(entry, i) for i, entry in enumerate(d["columns"])]
        n_rows, n_src = _unpack(d.get("n_rows"))
        return cls(tuple(columns), None if n_rows is None else int(n_rows), n_src)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SchemaError(f"schema is not valid JSON: {e}") from None
        return cls.from_dict(d)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Schema:
        p = Path(path)
        if not p.is_file():
            from lookalike.errors import SourceNotFoundError

            raise SourceNotFoundError(f"schema file {p} does not exist")
        return cls.from_json(p.read_text(encoding="utf-8"))

    # ---------------------------------------------------------------- data conformance
    def conform(self, df: pd.DataFrame, *, actions: list[str] | None = None) -> pd.DataFrame:
        """Return ``df`` with the schema's columns, order and types.

        Values outside declared bounds are clipped and unknown categories become missing;
        each such action is appended to ``actions`` (and warned about), never silent.
        """
        missing = [n for n in self.names if n not in df.columns]
        extra = [n for n in df.columns if n not in self]
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
        notes = actions if actions is not None else []
        out = {}
        for col in self.columns:
            out[col.name] = _conform_column(df[col.name], col, notes)
            missing = out[col.name].isna().to_numpy()
            if col.kind.modelled and not col.nullable and missing.any():
                raise SchemaError(
                    f"column {col.name!r} has {int(missing.sum())} missing value(s) (first in "
                    f"row {int(np.flatnonzero(missing)[0]) + 1}) but the schema says it cannot "
                    "be missing; set \"nullable\": true for it in the schema, or fill those values"
                )
        if notes and actions is None:
            for note in notes:
                warnings.warn(note, stacklevel=2)
        return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


# -------------------------------------------------------------------- inference
def as_schema(schema: Schema | Mapping | str | os.PathLike) -> Schema:
    """A Schema from a Schema, its dict form, or the path of its JSON file."""
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, Mapping):
        return Schema.from_dict(schema)
    return Schema.load(schema)


def resolve_schema(
    data: pd.DataFrame, schema: Schema | Mapping | str | os.PathLike | None = None
) -> Schema:
    """The schema to model ``data`` with: inferred, given whole, or completed from the data.

    A given schema (object, dict or JSON file) is used as it is when it describes every
    column completely; when it leaves columns or facts out (a column missing, a categorical
    without categories, ``nullable`` not written) the rest is inferred from the data and
    every declared fact is kept.
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

    Facts read here are marked ``"data"``: they describe the private table and are free only
    in non-DP fits. ``max_categories`` caps the distinct values of a categorical column
    (default: half the rows, at least 20). Raises a :class:`ColumnError` for columns that
    cannot be modelled (entirely missing, constant, too many categories), naming the fix.
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
        declared = Schema.from_dict(declared)
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
    else:
        if len(nonnull) == 0:
            raise ColumnError(
                f"column {name!r} is entirely missing: there is nothing to model; "
                f"drop it (CLI: --drop {name!r})"
            )
        kind = _infer_kind(name, s, nonnull, limit)
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
        facts["format"] = _identifier_format(nonnull)
    elif kind is Kind.TEXT:
        warnings.warn(
            f"column {name!r} looks like free text: it is excluded from the model and from "
            "the synthetic data; declare another kind in the schema to model it",
            stacklevel=3,
        )
    col = Column(name=name, **facts, sources={k: "data" for k, v in facts.items() if v is not None})
    if given is not None:  # declared facts override what the data says
        overrides = {f: getattr(given, f) for f in _FACTS if given.source(f) == "declared"}
        overrides.pop("kind", None)
        if overrides:
            col = col.replace("declared", **overrides)
        col = col.replace("declared", kind=kind) if given.source("kind") == "declared" else col
    return col


_ID_NAME = re.compile(r"(^|[_\W])(id|key|uuid|guid|ssn)$", re.IGNORECASE)


def _infer_kind(name: str, s: pd.Series, nonnull: pd.Series, limit: int) -> Kind:
    n_distinct = nonnull.nunique()
    if pd.api.types.is_bool_dtype(s.dtype):
        kind = Kind.BOOLEAN
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        kind = Kind.DATETIME
    elif pd.api.types.is_numeric_dtype(s.dtype):
        values = _to_number(nonnull, name)
        integral = bool(np.all(np.mod(values, 1) == 0))
        unique = n_distinct == len(s) and len(s) >= MIN_ROWS
        if integral and unique and (_ID_NAME.search(name) or values.max() - values.min() + 1 == len(s)):
            kind = Kind.IDENTIFIER
        else:
            kind = Kind.INTEGER if integral else Kind.FLOAT
    else:
        kind = _infer_text_kind(name, s, nonnull, n_distinct, limit)
    if n_distinct == 1:
        value = nonnull.iloc[0]
        raise ColumnError(
            f"column {name!r} holds the single value {value!r} in every row: it carries no "
            f"information to model; drop it (CLI: --drop {name!r}) or declare its kind and "
            "domain in a schema"
        )
    return kind


def _infer_text_kind(name: str, s: pd.Series, nonnull: pd.Series, n_distinct: int, limit: int) -> Kind:
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
        return Kind.DATETIME
    lowered = set(text.str.lower().unique())
    if any(lowered <= pair for pair in _BOOLEAN_PAIRS) and len(lowered) == 2:
        return Kind.BOOLEAN
    unique = n_distinct == len(nonnull) and len(nonnull) >= MIN_ROWS
    if unique and _identifier_format(text, strict=True) is not None:
        return Kind.IDENTIFIER
    lengths = text.str.len()
    words = text.str.count(r"\s+") + 1
    if n_distinct > 0.5 * len(nonnull) and lengths.mean() >= 25 and words.median() >= 3:
        return Kind.TEXT
    if n_distinct > limit:
        raise ColumnError(
            f"column {name!r} has {n_distinct:,} distinct values in {len(s):,} rows: too many "
            f"categories to model (at most {limit:,} here); declare it 'identifier' or 'text' "
            f"in a schema, or drop it (CLI: --drop {name!r})"
        )
    return Kind.CATEGORICAL


# -------------------------------------------------------------------- datetimes
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def _guess_datetime_format(text: pd.Series) -> str | None:
    sample = text.iloc[:: max(1, len(text) // 2000)]
    if not sample.str.match(_DATE_LIKE).all():
        return None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all() and pd.to_datetime(text, format=fmt, errors="coerce").notna().all():
            return fmt
    return None


def _datetime_format(nonnull: pd.Series, given: Column | None) -> tuple[str | None, int | None]:
    if given is not None and given.format is not None:
        return given.format, given.pivot_year
    if pd.api.types.is_datetime64_any_dtype(nonnull.dtype):
        return None, None
    text = nonnull.astype(str)
    fmt = _guess_datetime_format(text)
    pivot = _two_digit_pivot(text, fmt) if fmt and "%y" in fmt else None
    return fmt, pivot


def _two_digit_pivot(text: pd.Series, fmt: str) -> int:
    """Last year of the 100-year window that two-digit years are read in.

    The window starts after the largest circular gap between the two-digit years seen, and
    is placed in the latest century that puts no date in the future: "47" in a column of
    birth dates from 19 to 98 means 1947, and "19" means 1919.
    """
    years = pd.to_datetime(text, format=fmt, errors="coerce").dt.year.dropna().astype(int)
    seen = np.unique(years.to_numpy() % 100)
    gaps = (np.roll(seen, -1) - seen) % 100
    gaps[gaps == 0] = 100
    start = int(seen[(int(np.argmax(gaps)) + 1) % len(seen)])
    newest = (int(seen.max() if start == seen.min() else seen[seen < start].max()) - start) % 100
    this_year = date.today().year
    for century in (2000, 1900, 1800):
        if century + start + newest <= this_year:
            return century + start + 99
    return 1900 + start + 99


def parse_datetime(s: pd.Series, fmt: str | None, pivot_year: int | None = None) -> pd.Series:
    """Parse ``s`` with strftime ``fmt``; two-digit years after ``pivot_year`` go back 100 years.

    >>> parse_datetime(pd.Series(["4/18/47", "2/6/85"]), "%m/%d/%y", 2026).dt.year.tolist()
    [1947, 1985]
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out.astype("datetime64[ns]")
    out = pd.to_datetime(s, format=fmt, errors="coerce") if fmt else pd.to_datetime(s, errors="coerce")
    if fmt and "%y" in fmt and pivot_year is not None:
        late = out.dt.year > pivot_year
        if late.any():
            out = out.where(~late, out - pd.DateOffset(years=100))
        early = out.dt.year <= pivot_year - 100
        if early.any():
            out = out.where(~early, out + pd.DateOffset(years=100))
    return out.astype("datetime64[ns]")


def datetime_to_number(values: Any, unit: str | None) -> Any:
    """Datetimes to float time since 1970-01-01 in ``unit`` ("D" days or "s" seconds)."""
    scale = 86400.0 if unit == "D" else 1.0
    if isinstance(values, pd.Timestamp):
        return values.value / 1e9 / scale
    v = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]")
    out = v.astype("int64").to_numpy(dtype=float) / 1e9 / scale
    out[v.isna().to_numpy()] = np.nan
    return out


def number_to_datetime(values: np.ndarray, unit: str | None) -> pd.Series:
    """Inverse of :func:`datetime_to_number`; days are rounded to whole days."""
    values = np.asarray(values, dtype=float)
    if unit == "D":
        values = np.round(values) * 86400.0
    else:
        values = np.round(values)
    ns = pd.array(np.where(np.isnan(values), 0, values * 1e9).astype("int64"))
    out = pd.Series(pd.to_datetime(ns, unit="ns"))
    out[np.isnan(values)] = pd.NaT
    return out


def _iso(ts: pd.Timestamp, unit: str) -> str:
    return ts.strftime("%Y-%m-%d") if unit == "D" else ts.isoformat()


# -------------------------------------------------------------------- identifiers, booleans
_BOOLEAN_PAIRS = (
    {"true", "false"},
    {"yes", "no"},
    {"t", "f"},
    {"y", "n"},
)


def _boolean_tokens(nonnull: pd.Series) -> tuple:
    """The two tokens of a boolean column, false first (as written in the data)."""
    if pd.api.types.is_bool_dtype(nonnull.dtype):
        return (False, True)
    tokens = sorted({str(v) for v in nonnull}, key=lambda t: t.lower() in ("true", "yes", "t", "y"))
    return tuple(tokens)


_CLASSES = (("[0-9]", str.isdigit), ("[A-Z]", str.isupper), ("[a-z]", str.islower))


def _identifier_format(values: pd.Series, strict: bool = False) -> str | None:
    """A regular expression of fixed-width character classes matching every value.

    Numeric identifiers return ``"integer"``. With ``strict``, return None unless all values
    share one length and at least one position is a character class (keys, not words).
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "integer"
    text = values.astype(str)
    lengths = text.str.len().unique()
    if len(lengths) != 1 or lengths[0] == 0 or lengths[0] > 64:
        return None if strict else f"[A-Za-z0-9]{{{int(text.str.len().max())}}}"
    arr = np.array([list(v) for v in text.iloc[:20000]])
    parts: list[str] = []
    for pos in range(arr.shape[1]):
        chars = set(arr[:, pos])
        if len(chars) == 1 and not next(iter(chars)).isalnum():
            parts.append(re.escape(next(iter(chars))))
            continue
        cls = [c for c, test in _CLASSES if any(test(ch) for ch in chars)]
        if any(not ch.isalnum() for ch in chars):
            return None
        if cls == ["[0-9]", "[a-z]"] and chars <= set("0123456789abcdef"):
            cls = ["[0-9a-f]"]
        parts.append("[" + "".join(c[1:-1] for c in cls) + "]")
    return _compress(parts)


def _compress(parts: list[str]) -> str:
    out, i = [], 0
    while i < len(parts):
        j = i
        while j + 1 < len(parts) and parts[j + 1] == parts[i]:
            j += 1
        out.append(parts[i] + (f"{{{j - i + 1}}}" if j > i else ""))
        i = j + 1
    return "".join(out)


# -------------------------------------------------------------------- conformance helpers
def _conform_column(s: pd.Series, col: Column, notes: list[str]) -> pd.Series:
    s = s.reset_index(drop=True)
    kind = col.kind
    if kind in (Kind.INTEGER, Kind.FLOAT):
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
        text = s.map(lambda v: None if pd.isna(v) else _category_text(v)).astype(object)
        if col.categories is not None:
            known = set(col.categories)
            unknown = text.notna() & ~text.isin(known)
            if unknown.any():
                _check_unknown(s, unknown, col, notes)
                text = text.where(~unknown, None)
        return text
    # identifiers and text travel as strings or integers, untouched
    return s


def _category_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


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


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, Kind):
        return v.value
    return v


def _unpack(entry: Any) -> tuple[Any, str | None]:
    if isinstance(entry, Mapping) and "value" in entry:
        return entry["value"], str(entry.get("source", "declared"))
    return entry, (None if entry is None else "declared")


def _column_from_dict(entry: Mapping, i: int) -> Column:
    if not isinstance(entry, Mapping) or "name" not in entry:
        raise SchemaError(f"schema column #{i + 1} must be an object with a 'name'")
    name = str(entry["name"])
    unknown = set(entry) - {"name", *_FACTS}
    if unknown:
        raise SchemaError(f"column {name!r}: unknown schema fields {sorted(unknown)}; known: {_FACTS}")
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for fact in _FACTS:
        value, src = _unpack(entry.get(fact))
        if value is None:
            continue
        facts[fact] = value
        sources[fact] = src or "declared"
    if "kind" not in facts:
        raise SchemaError(f"column {name!r} has no 'kind'; one of {[k.value for k in Kind]}")
    try:
        facts["kind"] = Kind(facts["kind"])
    except ValueError:
        raise SchemaError(
            f"column {name!r}: unknown kind {facts['kind']!r}; one of {[k.value for k in Kind]}"
        ) from None
    for fact in ("categories", "bounds"):
        if fact in facts:
            facts[fact] = tuple(facts[fact])
    if "bounds" in facts and (len(facts["bounds"]) != 2):
        raise SchemaError(f"column {name!r}: bounds must be [low, high], got {facts['bounds']}")
    if "bounds" in facts:
        lo, hi = facts["bounds"]
        try:
            ordered = pd.Timestamp(lo) <= pd.Timestamp(hi) if facts["kind"] is Kind.DATETIME else lo <= hi
        except (TypeError, ValueError):
            raise SchemaError(
                f"column {name!r}: bounds [{lo!r}, {hi!r}] are not two {facts['kind'].value} values"
            ) from None
        if not ordered:
            raise SchemaError(f"column {name!r}: bounds [{lo}, {hi}] are not low <= high")
    if "nullable" in facts:
        facts["nullable"] = bool(facts["nullable"])
    else:  # not written: read it from the data (see resolve_schema)
        facts["nullable"], sources["nullable"] = False, "default"
    return Column(name=name, sources=sources, **facts)
