"""The input's physical column types: recorded when a table is read, restored on every output.

:func:`lookalike.read_table` converts every source to a few canonical pandas dtypes (``Int64``,
``float64``, ``object`` text, naive ``datetime64``). What the input held is recorded here as a
:class:`Storage`: each column's dtype (an ``int16`` or ``uint8`` width, a pandas or Arrow
categorical with its categories and order, a time zone and resolution, an Arrow ``date32``,
text dates with their spelling such as ``%-m/%-d/%y``) and whether the table was a pandas,
polars or Arrow one. A fitted synthesizer keeps it (in its model file too) and
:meth:`~lookalike.synthesizers.Synthesizer.sample` returns rows stored as the input was: a
polars frame for a polars input, an Arrow table for an Arrow one, integers without ``.0``
(nullable ``Int16`` where an ``int16`` column gains missing values), dates as dates.

Privacy: dtypes, time zones and date spellings describe how a table is stored, not who is in
it. A categorical dtype's category list, though, can be read from the data (``astype(
"category")`` lists every value seen, a rare one included), so a differentially private model
keeps only its own categories (declared or DP-discovered) in the dtype's order, never the
dtype's list (:meth:`Storage.for_model`): the output's categories are then post-processing
of what was released.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lookalike.schema import Column, Kind, Schema
from lookalike.schema._columns import category_text
from lookalike.schema._datetimes import format_dates, parse_datetime, spelled_format

__all__ = ["ATTR", "CSV_ATTR", "FIXED_ATTR", "NUMBERS_ATTR", "TEXT_DATES_ATTR", "ColumnType", "Storage", "container_of",
           "input_storage", "recorded"]

CSV_ATTR = "lookalike.csv"
TEXT_DATES_ATTR = "lookalike.text_dates"
"""The frame attribute naming the date columns a typed source held as text (see
:func:`held_as_text`): a Parquet output keeps them text."""
"""Key of ``DataFrame.attrs`` recording a CSV input's decimal comma and delimiter (JSON);
:mod:`lookalike.io` writes and reads it."""
FIXED_ATTR = "lookalike.fixed_decimals"
"""Key of ``DataFrame.attrs`` naming the float columns a CSV file wrote with a fixed number of
decimals, trailing zeros included ("12.50"), with that number (JSON ``{column: decimals}``):
:func:`lookalike.read_table` records it, synthetic rows carry it, CSV outputs write it."""
NUMBERS_ATTR = "lookalike.number_formats"
"""Key of ``DataFrame.attrs`` recording how a CSV file wrote formatted numbers (JSON ``{column:
{"prefix": "$", "suffix": "", "group": true, "sign": "before"}}``: ``$1,234.50``), so that CSV
outputs write them the same way."""
FIXED_ZEROS = 0.01
"""Share of a column's values that must end in a written zero ("12.50") for its decimals to
count as fixed: a writer that trims zeros never writes one."""
ATTR = "lookalike.storage"
"""Key of ``DataFrame.attrs`` under which :func:`lookalike.read_table` records the input's types."""

CONTAINERS = ("pandas", "arrow", "polars")
MAX_DECIMALS = 6
"""Most decimals a float column is rounded to (:func:`written_decimals`)."""
WRITTEN_SHARE = 0.99
"""Share of a float column's values its recorded decimals write exactly."""
WRITTEN_TOLERANCE = 8 * float(np.finfo(float).eps)
"""Relative tolerance within which a value scaled by 10**k counts as written with k decimals."""
STEPS = ("year", "month", "day")
"""Calendar units a datetime column's values may all sit on the start of (:func:`written_step`),
coarsest first."""
_STEP_CODES = {"year": "Y", "month": "M", "day": "D"}  # their numpy datetime64 units
_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
_PARQUET = (".parquet", ".pq")


@dataclass(frozen=True)
class ColumnType:
    """How one input column was stored.

    ``dtype``: the pandas dtype to return it as ("int16", "category", "datetime64[ms, UTC]",
    "date32[day][pyarrow]", "object", "str"; None: lookalike's canonical dtype). ``arrow``: the
    Arrow type it had (Arrow, polars, Parquet and DuckDB inputs). ``ordered`` and
    ``categories``: a categorical dtype's order flag and categories (see the module's privacy
    note). ``spelling``: the strftime pattern text dates were written in. ``enum``: a polars
    ``Enum``. ``decimals``: the decimals a float column's values were written with
    (:func:`written_decimals`; None: as many as a float holds). ``fixed``: the decimals a CSV
    file wrote every value of a float column with, trailing zeros included (:func:`fixed_of`;
    None: as few as each value needs). ``step``: the calendar unit whose starts a datetime
    column's values sit on ("year", "month", "day"; :func:`written_step`; None: any instant).
    ``number``: how a CSV file wrote a column of formatted numbers (``NUMBERS_ATTR``'s entry
    as JSON text: currency or percent sign, thousands separators, sign place).
    """

    dtype: str | None = None
    arrow: str | None = None
    ordered: bool = False
    categories: tuple | None = None
    spelling: str | None = None
    enum: bool = False
    decimals: int | None = None
    step: str | None = None
    fixed: int | None = None
    number: str | None = None

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if v is not None and v is not False}
        if self.categories is not None:
            d["categories"] = list(self.categories)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> ColumnType:
        """Read back :meth:`to_dict`; a damaged entry raises ValueError or TypeError."""
        unknown = set(d) - {"dtype", "arrow", "ordered", "categories", "spelling", "enum",
                            "decimals", "step", "fixed", "number"}
        if unknown:
            raise ValueError(f"unknown storage fields {sorted(unknown)}")
        cats = d.get("categories")
        if cats is not None and (not isinstance(cats, list) or not all(map(_scalar, cats))):
            raise ValueError(f"storage categories must be a list of texts or numbers, got {cats!r}")
        if d.get("number") is not None and not _number_format(d["number"]):
            raise ValueError(f"storage number must be a number format, got {d['number']!r}")
        for key in ("dtype", "arrow", "spelling"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise TypeError(f"storage {key} must be a text, got {d[key]!r}")
        decimals, fixed = d.get("decimals"), d.get("fixed")
        for key, k in (("decimals", decimals), ("fixed", fixed)):
            if k is not None and (type(k) is not int or not 0 <= k <= MAX_DECIMALS):
                raise ValueError(f"storage {key} must be an integer 0-{MAX_DECIMALS}, got {k!r}")
        step = d.get("step")
        if step is not None and step not in STEPS:
            raise ValueError(f"storage step must be one of {STEPS}, got {step!r}")
        return cls(d.get("dtype"), d.get("arrow"), bool(d.get("ordered", False)),
                   None if cats is None else tuple(cats), d.get("spelling"),
                   bool(d.get("enum", False)), decimals, step, fixed, d.get("number"))


@dataclass(frozen=True)
class Storage:
    """How the input table was held: ``container`` ("pandas", "arrow" or "polars") and a
    :class:`ColumnType` per column (a column without one comes back in its canonical dtype).

    >>> import pandas as pd
    >>> from lookalike.schema import infer_schema
    >>> df = pd.DataFrame({"n": pd.array([1, 2, 3] * 5, dtype="int16")})
    >>> schema = infer_schema(df)
    >>> st = input_storage(df, df, "pandas").for_model(schema, dp=False)
    >>> st.restore(pd.DataFrame({"n": pd.array([2, None], dtype="Int64")}), schema).dtypes["n"]
    Int16Dtype()
    """

    container: str = "pandas"
    columns: Mapping[str, ColumnType] = field(default_factory=dict)
    #: a CSV input's decimal comma and delimiter ({"decimal": ",", "delimiter": ";"}), for
    #: CSV outputs written the same way; None for a decimal point (the default dialect)
    csv: Mapping[str, str] | None = None

    def to_dict(self) -> dict:
        d = {"container": self.container,
             "columns": {n: t.to_dict() for n, t in self.columns.items()}}
        return d if self.csv is None else d | {"csv": dict(self.csv)}

    @classmethod
    def from_dict(cls, d: Any) -> Storage | None:
        """Read back :meth:`to_dict` (None for a model file written before storage was kept)."""
        if d is None:
            return None
        if not isinstance(d, Mapping) or d.get("container") not in CONTAINERS \
                or not isinstance(d.get("columns"), Mapping):
            raise ValueError(f"storage must name a container {CONTAINERS} and its columns")
        columns = {str(n): ColumnType.from_dict(t) for n, t in d["columns"].items()}
        return cls(d["container"], columns, _dialect(d.get("csv")))

    def for_model(self, schema: Schema, *, dp: bool) -> Storage:
        """The storage a model fitted with ``schema`` keeps: its output columns only; under DP
        (``dp``) the categories of a categorical dtype are the model's own, in the dtype's order.

        A DP model's categories are declared or paid for; the dtype's list may hold values
        read from the private rows (a rare category the DP model dropped), so it is not kept.
        A column the model does not categorise keeps no category list under DP: its output
        categories are the values sampled (post-processing of the release).
        """
        kept = {}
        for col in schema.columns:
            ct = self.columns.get(col.name)
            if ct is None or col.kind is Kind.TEXT:
                continue
            if ct.dtype == "category" or ct.enum:
                ct = _model_categories(ct, col) if dp else ct
            kept[col.name] = ct
        return replace(self, columns=kept)

    def numbers(self, schema: Schema) -> dict[str, dict]:
        """The numeric columns of ``schema`` a CSV input wrote as formatted numbers, and how."""
        return {n: _number_format(ct.number) for n, ct in self.columns.items()
                if ct.number is not None and n in schema and schema[n].kind in (Kind.INTEGER, Kind.FLOAT)}

    def fixed(self, schema: Schema) -> dict[str, int]:
        """The float columns of ``schema`` a CSV input wrote with fixed decimals, and how many."""
        return {n: ct.fixed for n, ct in self.columns.items()
                if ct.fixed is not None and n in schema and schema[n].kind is Kind.FLOAT}

    def csv_attrs(self, schema: Schema) -> dict[str, str]:
        """The ``DataFrame.attrs`` by which a CSV output writes rows of ``schema`` as the CSV
        input was written: its decimal comma and delimiter, fixed decimals, formatted numbers."""
        attrs = {}
        if self.csv is not None:
            attrs[CSV_ATTR] = json.dumps(dict(self.csv))
        if fixed := self.fixed(schema):
            attrs[FIXED_ATTR] = json.dumps(fixed)
        if numbers := self.numbers(schema):
            attrs[NUMBERS_ATTR] = json.dumps(numbers)
        return attrs

    def restore(self, frame: pd.DataFrame, schema: Schema) -> Any:
        """``frame`` (a sample in canonical dtypes) stored as the input was: a pandas frame, an
        Arrow table or a polars frame, each column in its input dtype where its values fit it
        (an integer outside an ``int8``'s range stays ``Int64``)."""
        out = {}
        for name in frame.columns:
            ct, v = self.columns.get(name), frame[name]
            if ct is not None and ct.decimals is not None and schema[name].kind is Kind.FLOAT:
                v = v.round(ct.decimals)
            out[name] = _pandas_column(v, schema[name], ct) if ct is not None else v
        df = pd.DataFrame(out, index=frame.index)
        if self.container == "pandas":
            df.attrs.update(self.csv_attrs(schema))  # write_table writes them as the input was
            texts = [n for n in df.columns if held_as_text(self.columns.get(n))]
            if texts:  # and a Parquet output keeps these text, as the input held them
                df.attrs[TEXT_DATES_ATTR] = json.dumps(texts)
            return df
        table = _arrow_table(df, self.columns)
        if self.container == "arrow":
            return table
        import polars as pl

        result: Any = pl.from_arrow(table)  # a DataFrame, from a Table
        enums = {n: pl.Enum([str(c) for c in self.columns[n].categories or ()])
                 for n in df.columns if n in self.columns and self.columns[n].enum}
        return result.cast(enums) if enums else result


def held_as_text(ct: ColumnType | None) -> bool:
    """Whether a typed source (Parquet, Arrow, polars, DuckDB) held this date column as text:
    then a Parquet output writes it as text in its spelling, as the input did, rather than as
    the dates a CSV input's text becomes (a CSV has no types to keep)."""
    return ct is not None and ct.spelling is not None and ct.arrow is not None


# ---------------------------------------------------------------------- reading the input
def container_of(data: Any) -> str:
    """"polars" or "arrow" for those tables, else "pandas" (a DataFrame, a file, a database)."""
    module, kind = type(data).__module__, type(data).__name__
    if module.startswith("polars") and kind in ("DataFrame", "LazyFrame"):
        return "polars"
    if isinstance(data, pa.Table | pa.RecordBatch):
        return "arrow"
    return "pandas"


def pandas_types(df: pd.DataFrame) -> dict[str, ColumnType]:
    """Each column's pandas dtype (a categorical with its order and categories)."""
    return {str(n): _pandas_type(s.dtype) for n, s in df.items()}


def arrow_types(table: pa.Table, enums: frozenset[str] = frozenset()) -> dict[str, ColumnType]:
    """Each column's Arrow type and the pandas dtype that stores it (``enums``: polars Enums)."""
    out = {}
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        ct = ColumnType(_pandas_of_arrow(t), str(t))
        if pa.types.is_dictionary(t):
            chunks = col.unify_dictionaries().chunks if hasattr(col, "unify_dictionaries") \
                else col.chunks
            cats = chunks[0].dictionary.to_pylist() if chunks else None
            ct = replace(ct, ordered=bool(t.ordered), enum=name in enums,
                         categories=_jsonable(cats))
        out[name] = ct
    return out


def record(frame: pd.DataFrame, types: Mapping[str, ColumnType]) -> pd.DataFrame:
    """``frame`` (as read) with the input's ``types`` in ``frame.attrs`` (JSON text, so that
    pandas and pyarrow copy and store it as they do any attribute)."""
    entries = {n: t.to_dict() | {"read_as": str(frame[n].dtype)} for n, t in types.items()
               if n in frame.columns}
    frame.attrs[ATTR] = json.dumps(entries, default=str)
    return frame


def recorded(frame: pd.DataFrame) -> dict[str, ColumnType]:
    """Each column's input type: recorded by ``read_table`` while the column still has the
    dtype it was read as, else the dtype the frame holds now."""
    try:
        entries = json.loads(frame.attrs.get(ATTR) or "{}")
    except (TypeError, ValueError):
        entries = {}
    out = {}
    for name, s in frame.items():
        entry = entries.get(str(name)) if isinstance(entries, dict) else None
        try:
            if isinstance(entry, dict) and entry.pop("read_as", None) == str(s.dtype):
                out[str(name)] = ColumnType.from_dict(entry)
                continue
        except (TypeError, ValueError):
            pass
        out[str(name)] = _pandas_type(s.dtype)
    return out


def input_storage(data: Any, raw: pd.DataFrame | None, container: str, *,
                  schema: Schema | None = None, engine: Any = None,
                  decimals: bool = True) -> Storage:
    """The storage of a fit's input: ``raw`` (the rows as read, when in memory) or ``data``.

    Rows left in an engine: a DataFrame gives its dtypes, a Parquet file its Arrow schema (its
    footer only; and its text dates' spelling), a CSV file its text dates' spelling (``engine.date_spellings()``, one
    aggregate query), a Spark source its Spark types (``engine.arrow_schema()``), any source
    left in DuckDB its integer columns stored as floats (``engine.float_stored()``); other
    columns come back in their canonical dtypes. With ``decimals``, float columns record the
    decimals their values were written with (:func:`written_decimals`) and datetime columns
    the calendar unit their values sit on (:func:`written_step`; rows left in DuckDB or Spark:
    the engine's ``written_decimals`` and ``written_steps``, aggregate queries).
    """
    frame = raw if raw is not None else data if isinstance(data, pd.DataFrame) else None
    if frame is not None:
        read = recorded(frame)
        if schema is not None:
            read = _spell_dates(read, frame, schema)
            read = _written(read, frame, schema) if decimals else read
        for n, f in numbers_attr(frame.attrs.get(NUMBERS_ATTR)).items():  # $1,234.50
            read[n] = replace(read.get(n, ColumnType()), number=json.dumps(f))
        return Storage(container, read, _dialect(frame.attrs.get(CSV_ATTR)))
    types: dict[str, ColumnType] = {}
    dialect = None
    if getattr(data, "decimal", ".") != ".":  # a CSV file left in DuckDB (io.CsvFile)
        dialect = _dialect({"decimal": data.decimal, "delimiter": data.delimiter or ";"})
    if engine is not None and hasattr(engine, "arrow_schema"):  # a Spark source: its types
        types = arrow_types(engine.arrow_schema().empty_table())
    elif isinstance(data, str | os.PathLike):
        name = Path(data).name.lower()
        if name.endswith(_PARQUET) and Path(data).is_file():
            import pyarrow.parquet as pq

            try:
                types = arrow_types(pq.read_schema(data).empty_table())
            except (pa.ArrowException, OSError):
                types = {}
            if engine is not None and hasattr(engine, "date_spellings"):  # its text dates
                types |= {n: replace(types[n], spelling=fmt)
                          for n, fmt in engine.date_spellings().items() if n in types}
        elif name.endswith(_CSV) and engine is not None and hasattr(engine, "date_spellings"):
            types = {n: ColumnType("object", spelling=fmt)
                     for n, fmt in engine.date_spellings().items()}
            if decimals and hasattr(engine, "fixed_decimals"):  # "12.50": its fixed decimals
                types |= {n: ColumnType(fixed=k) for n, k in engine.fixed_decimals().items()}
            if hasattr(engine, "number_formats"):  # "$1,234.50": its formatted numbers
                for n, f in engine.number_formats().items():
                    types[n] = replace(types.get(n, ColumnType()), number=json.dumps(f))
            if dialect is not None and getattr(engine, "delimiter", None):
                dialect = {**dialect, "delimiter": engine.delimiter}
    if hasattr(engine, "float_stored"):  # rows left in DuckDB: whole numbers stored as floats
        for n in engine.float_stored():
            ct = types.get(n, ColumnType())
            if ct.dtype is None:
                types[n] = replace(ct, dtype="float64")
    if decimals and hasattr(engine, "written_decimals"):  # rows left in DuckDB or Spark
        for n, k in engine.written_decimals().items():
            types[n] = replace(types.get(n, ColumnType()), decimals=k)
        for n, unit in engine.written_steps().items():
            types[n] = replace(types.get(n, ColumnType()), step=unit)
    return Storage(container, types, dialect)


def _dialect(d: Any) -> dict[str, str] | None:
    """A recorded CSV dialect ({"decimal": ",", "delimiter": ";"}), checked: JSON text (as
    ``df.attrs`` holds it) or a mapping (a model file); None when absent or unreadable.

    Privacy: how numbers and fields are written (a user's option, a sniffed delimiter)
    describes the file, not who is in it, as a date spelling does; a DP model keeps it."""
    d = _json_mapping(d)
    if d is None:
        return None
    decimal, delimiter = d.get("decimal"), d.get("delimiter")
    if decimal not in (".", ",") or not isinstance(delimiter, str) or len(delimiter) != 1:
        return None
    return None if decimal == "." else {"decimal": decimal, "delimiter": delimiter}


def _spell_dates(types: dict[str, ColumnType], raw: pd.DataFrame, schema: Schema
                 ) -> dict[str, ColumnType]:
    """Text dates with the spelling their values were written in (``%-m`` for "4/18/47")."""
    out = dict(types)
    for col in schema.columns:
        ct = out.get(col.name)
        if col.kind is Kind.DATETIME and col.format and ct is not None and _texty(ct.dtype) \
                and col.name in raw.columns:
            out[col.name] = replace(ct, spelling=spelled_format(raw[col.name], col.format))
    return out


def _written(types: dict[str, ColumnType], raw: pd.DataFrame, schema: Schema
             ) -> dict[str, ColumnType]:
    """Float columns with the decimals their values were written with
    (:func:`written_decimals`), datetime columns with the calendar unit their values sit on
    (:func:`written_step`, in the wall time of a time zone: 1 January in Paris); float
    columns of a CSV file with the fixed decimals it wrote them with (``FIXED_ATTR``)."""
    out = dict(types)
    fixed = _fixed_attr(raw.attrs.get(FIXED_ATTR))
    for col in schema.columns:
        if col.name not in raw.columns:
            continue
        values, ct = raw[col.name], out.get(col.name, ColumnType())
        if col.kind is Kind.FLOAT:
            k = written_decimals(np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float))
            if k is not None:
                out[col.name] = replace(ct, decimals=k, fixed=fixed.get(col.name))
        elif col.kind is Kind.DATETIME:
            if getattr(getattr(values, "dt", None), "tz", None) is not None:
                values = values.dt.tz_localize(None)
            unit = written_step(parse_datetime(values, col.format, col.pivot_year), col.unit)
            if unit is not None:
                out[col.name] = replace(ct, step=unit)
    return out


def _json_mapping(d: Any) -> Mapping | None:
    """A mapping recorded as JSON text (``df.attrs``) or as itself (a model file); None when
    it is neither."""
    if isinstance(d, str):
        try:
            d = json.loads(d)
        except ValueError:
            return None
    return d if isinstance(d, Mapping) else None


def _number_format(d: Any) -> dict[str, Any]:
    """A recorded number format, checked ({} when unreadable): JSON text or a mapping."""
    d = _json_mapping(d)
    if d is None or set(d) != {"prefix", "suffix", "group", "sign"} \
            or not all(isinstance(d[k], str) and len(d[k]) <= 2 for k in ("prefix", "suffix")) \
            or not isinstance(d["group"], bool) or d["sign"] not in ("before", "after"):
        return {}
    return dict(d)


def numbers_attr(text: Any) -> dict[str, dict[str, Any]]:
    """``NUMBERS_ATTR`` as recorded ({} when absent or unreadable)."""
    d = _json_mapping(text) if isinstance(text, str) else None
    return {str(n): f for n, v in (d or {}).items() if (f := _number_format(v))}


def _fixed_attr(text: Any) -> dict[str, int]:
    """``FIXED_ATTR`` as recorded ({} when absent or unreadable)."""
    d = _json_mapping(text) if isinstance(text, str) else None
    return {str(n): k for n, k in (d or {}).items() if type(k) is int and 0 < k <= MAX_DECIMALS}


def fixed_of(n: int, exact: Sequence[int], zeros: Sequence[int]) -> int | None:
    """The decimals (1 to ``MAX_DECIMALS``) a CSV wrote a float column with, trailing zeros
    included, or None: ``exact[k - 1]`` of its ``n`` written values have exactly k digits after
    the point, ``zeros[k - 1]`` of those end in 0. Fixed where ``WRITTEN_SHARE`` of the values
    have k digits and ``FIXED_ZEROS`` end in a zero. In memory and in every engine.

    Privacy: as :func:`written_decimals`, how the file writes numbers; shares decide it.

    >>> fixed_of(100, [0, 100, 0, 0, 0, 0], [0, 9, 0, 0, 0, 0]), fixed_of(100, [60, 40, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])
    (2, None)
    """
    if n <= 0:
        return None
    return next((k + 1 for k, (e, z) in enumerate(zip(exact, zeros, strict=True))
                 if e >= WRITTEN_SHARE * n and z >= FIXED_ZEROS * n), None)


def decimals_of(shares: Sequence[float | None]) -> int | None:
    """The fewest decimals whose share of exactly written values (``shares[k]``: k decimals)
    reaches ``WRITTEN_SHARE``; None where none does. In memory and in every engine."""
    return next((k for k, share in enumerate(shares)
                 if share is not None and share >= WRITTEN_SHARE), None)


def step_of(shares: Sequence[float | None], unit: str | None = None) -> str | None:
    """The coarsest of :data:`STEPS` whose share of values at its starts (``shares``, in
    that order) reaches ``WRITTEN_SHARE``; None where none does, or where it is "day" and the
    column holds days anyway (``unit`` "D"). In memory and in every engine."""
    step = next((u for u, share in zip(STEPS, shares, strict=True)
                 if share is not None and share >= WRITTEN_SHARE), None)
    return None if step == "day" and unit == "D" else step


def written_facts(row: Sequence[float | None], floats: Sequence[Column], stamps: Sequence[Column]
                  ) -> tuple[dict[str, int], dict[str, str]]:
    """(decimals per float column, calendar unit per datetime column) from an engine's one
    aggregate row: per float column, the shares of values written with 0 ... ``MAX_DECIMALS``
    decimals, then per datetime column, the shares at the starts of :data:`STEPS`; columns
    with neither left out."""
    width = MAX_DECIMALS + 1
    decimals = {c.name: decimals_of(row[i * width:(i + 1) * width]) for i, c in enumerate(floats)}
    base = len(floats) * width
    steps = {c.name: step_of(row[base + 3 * i:base + 3 * i + 3], c.unit) for i, c in enumerate(stamps)}
    return ({n: k for n, k in decimals.items() if k is not None},
            {n: u for n, u in steps.items() if u is not None})


def _starts(x: np.ndarray, step: str) -> tuple[np.ndarray, np.ndarray]:
    """The start of ``step`` (one of :data:`STEPS`) at or before each datetime of ``x``, and
    the next one, in ``x``'s resolution."""
    lo = x.astype(f"datetime64[{_STEP_CODES[step]}]")
    return lo.astype(x.dtype), (lo + 1).astype(x.dtype)


def written_step(values: pd.Series, unit: str | None = None) -> str | None:
    """The coarsest calendar unit ("year", "month", "day") at whose start ``WRITTEN_SHARE`` of
    the datetime ``values`` sit (midnight, the 1st of a month, 1 January); None where none
    does, or where it is "day" and the column holds days anyway (``unit`` "D").

    Synthetic datetimes come back on that unit (:func:`snap_dates`): model years written
    1970-01-01 ... 1982-01-01 came out of DP models as 1976-07-19, their bins being cut at
    round numbers of days.

    Privacy: as :func:`written_decimals`, how a column is written; a share decides it.

    >>> written_step(pd.Series(pd.to_datetime(["1970-01-01", "1982-01-01", None])))
    'year'
    >>> written_step(pd.Series(pd.to_datetime(["2020-03-01", "2021-11-01"]))), written_step(
    ...     pd.Series(pd.to_datetime(["2020-03-01 00:00", "2021-11-05 00:00"])), "D")
    ('month', None)
    """
    v = pd.Series(values).dropna()
    if not len(v) or not pd.api.types.is_datetime64_any_dtype(v.dtype):
        return None
    x = v.to_numpy()
    return step_of([float(np.mean(_starts(x, step)[0] == x)) for step in STEPS], unit)


def snap_dates(values: pd.Series, step: str, bounds: tuple | None = None) -> pd.Series:
    """Datetimes (naive, any resolution) moved to the nearest start of ``step`` (one of
    :data:`STEPS`) within ``bounds`` (the column's, declared or discovered: the other
    neighbour where the nearest lies past them); missing values stay missing.

    >>> snap_dates(pd.Series(pd.to_datetime(["1976-07-19", "1972-06-30", None])), "year").tolist()
    [Timestamp('1977-01-01 00:00:00'), Timestamp('1972-01-01 00:00:00'), NaT]
    >>> snap_dates(pd.Series(pd.to_datetime(["1982-09-30"])), "year", ("1970-01-01", "1982-12-31")).tolist()
    [Timestamp('1982-01-01 00:00:00')]
    """
    x = values.to_numpy()
    if not np.issubdtype(x.dtype, np.datetime64):
        return values
    start, end = _starts(x, step)
    up = end - x < x - start
    if bounds is not None:
        try:
            first, last = (pd.Timestamp(b).to_datetime64().astype(x.dtype) for b in bounds)
            up = (up & (end <= last)) | (start < first)
        except (ValueError, TypeError, OverflowError):
            pass  # bounds this resolution cannot hold: the nearest start, as without bounds
    snapped = np.where(up, end, start)
    return pd.Series(np.where(np.isnat(x), x, snapped), index=values.index, name=values.name)


def written_inside(values: pd.Series, col: Column, ct: ColumnType | None,
                   allowed: Callable[[pd.Series], np.ndarray]) -> pd.Series:
    """``values`` (canonical dtype) already written as :meth:`Storage.restore` writes them
    (a float column's decimals, a datetime column's calendar unit) where the nearest written
    value is not ``allowed`` (a condition of conditional sampling) and the one on the other
    side is: a mileage of 19.97 asked under 20 is written 19.9, not 20.0; a model year of
    1974-08-01 asked before 1975 is 1974-01-01, not 1975-01-01. Values whose both written
    neighbours fall outside stay as drawn (restore then writes the nearest)."""
    if ct is None or values.isna().all():
        return values
    if col.kind is Kind.FLOAT and ct.decimals is not None:
        x = values.to_numpy(dtype=float)
        near = np.round(x, ct.decimals)
        step = 10.0 ** -ct.decimals
        other = np.round(np.where(near > x, near - step, near + step), ct.decimals)
        near_s, other_s = pd.Series(near, index=values.index), pd.Series(other, index=values.index)
    elif col.kind is Kind.DATETIME and ct.step is not None and getattr(values.dt, "tz", None) is None:
        tz = _tz_of(ct)  # (a time zone's unit starts in its wall time, as restore moves them)
        try:
            wall = values if tz is None else _wall(values, tz)
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            return values
        lo, hi = _starts(wall.to_numpy(), ct.step)
        near_s = _snapped(values, ct, col)
        near_wall = (near_s if tz is None else _wall(near_s, tz)).to_numpy()
        other_s = pd.Series(np.where(near_wall == lo, hi, lo), index=values.index)
        if tz is not None:
            other_s = _utc(other_s, tz)
    else:
        return values
    ok_near, ok_other = allowed(near_s), allowed(other_s)
    out = values.copy()
    swap = ~ok_near & ok_other & values.notna().to_numpy()
    out[swap] = other_s[swap].to_numpy()
    keep = ok_near & values.notna().to_numpy()
    out[keep] = near_s[keep].to_numpy()
    return out


def _tz_of(ct: ColumnType) -> Any:
    """The time zone of the input's dtype (None: naive, or no datetime dtype)."""
    try:
        return getattr(pd.api.types.pandas_dtype(ct.dtype), "tz", None) if ct.dtype else None
    except (TypeError, ValueError):
        return None


def _wall(v: pd.Series, tz: Any) -> pd.Series:
    """Naive UTC datetimes as naive wall times of ``tz``."""
    return v.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)


def _utc(v: pd.Series, tz: Any) -> pd.Series:
    """Naive wall times of ``tz`` as naive UTC datetimes."""
    return v.dt.tz_localize(tz, ambiguous=False, nonexistent="shift_forward") \
        .dt.tz_convert("UTC").dt.tz_localize(None)


def written_decimals(values: np.ndarray) -> int | None:
    """The fewest decimals (0 to ``MAX_DECIMALS``) that write ``WRITTEN_SHARE`` of the finite
    ``values`` exactly; None where none do (measurements or ratios at a float's full precision).

    Synthetic values come back rounded to them: miles per gallon read as ``18.0`` and ``27.5``
    came out as ``9.630330612211083``.

    Privacy: how many decimals a column is written with describes how the table is stored, as
    a date spelling does; the share (not every value) decides it, so that no single row sets it.

    >>> written_decimals(np.array([18.0, 27.5, 31.9, np.nan])), written_decimals(np.array([0.1234567891]))
    (1, None)
    """
    v = values[np.isfinite(values)]
    if not len(v):
        return None
    shares = []
    for k in range(MAX_DECIMALS + 1):
        scaled = v * 10.0**k
        exact = np.abs(scaled - np.round(scaled)) <= WRITTEN_TOLERANCE * np.maximum(1.0, np.abs(scaled))
        shares.append(float(exact.mean()))
    return decimals_of(shares)


def _pandas_type(dtype: Any) -> ColumnType:
    if isinstance(dtype, pd.CategoricalDtype):
        cats = None if dtype.categories is None else _jsonable(dtype.categories.tolist())
        return ColumnType("category", ordered=bool(dtype.ordered), categories=cats)
    text = str(dtype)
    try:
        ok = pd.api.types.pandas_dtype(text) == dtype
    except (TypeError, ValueError, NotImplementedError):
        ok = False
    return ColumnType(text if ok else None)


def _pandas_of_arrow(t: pa.DataType) -> str | None:
    """The pandas dtype that holds an Arrow type as read (None: the canonical one)."""
    if pa.types.is_dictionary(t):
        return "category"
    if pa.types.is_integer(t):
        return str(t)  # int8 .. uint64: the numpy names
    if pa.types.is_floating(t):
        return "float64" if t == pa.float64() else "float32"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date32(t):
        return "date32[day][pyarrow]"
    if pa.types.is_date64(t):
        return "date64[ms][pyarrow]"
    if pa.types.is_timestamp(t):
        return f"datetime64[{t.unit}, {t.tz}]" if t.tz else f"datetime64[{t.unit}]"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return "object"
    return None


def _scalar(v: Any) -> bool:
    return isinstance(v, str | bool | int) or (isinstance(v, float) and math.isfinite(v))


def _jsonable(values: Any) -> tuple | None:
    """Categories as a tuple of texts and numbers, or None when some are not (dates, ...)."""
    if values is None:
        return None
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    return tuple(values) if all(map(_scalar, values)) else None


def _model_categories(ct: ColumnType, col: Column) -> ColumnType:
    """``ct`` with the model's categories of ``col`` (none when it has none), in ``ct``'s order."""
    arrow = ct.arrow
    if arrow and arrow.startswith("dictionary<"):  # the index width follows the model, not the data
        arrow = re.sub(r"indices=\w+", "indices=int32", arrow)
    if col.kind not in (Kind.CATEGORICAL, Kind.BOOLEAN) or not col.categories:
        return replace(ct, categories=None, arrow=arrow)
    model = [category_text(c) for c in col.categories]
    listed = [c for c in ct.categories or () if category_text(c) in set(model)]
    seen = {category_text(c) for c in listed}
    return replace(ct, arrow=arrow, categories=tuple(listed + [c for c in model if c not in seen]))


# ---------------------------------------------------------------------- restoring a column
def _texty(dtype: str | None) -> bool:
    return dtype is not None and (dtype in ("object", "str", "string")
                                  or dtype.startswith(("string[", "large_string[")))


def _pandas_column(v: pd.Series, col: Column, ct: ColumnType) -> pd.Series:
    """One sampled column (canonical dtype) in the input's dtype, where its values fit; on
    the calendar unit the input's datetimes sat on (:func:`snap_dates`)."""
    if ct.step is not None and col.kind is Kind.DATETIME \
            and pd.api.types.is_datetime64_any_dtype(v.dtype) and getattr(v.dt, "tz", None) is None:
        v = _snapped(v, ct, col)
    if ct.dtype == "category" or ct.enum:
        return _categorical(v, ct)
    if ct.arrow is not None and ct.arrow.startswith("duration[") and ct.dtype in (None, "float64"):
        return _as_type(v, f"timedelta64[{ct.arrow[len('duration['):-1]}]")  # seconds, back
    if ct.dtype is None:
        return v
    try:
        target = pd.api.types.pandas_dtype(ct.dtype)
    except (TypeError, ValueError, NotImplementedError):
        return v
    try:
        if _texty(ct.dtype):
            if col.kind is Kind.DATETIME and pd.api.types.is_datetime64_any_dtype(v.dtype):
                v = format_dates(v, ct.spelling or col.format or _iso_format(v, col))
            return _as_type(v, target)
        if isinstance(target, pd.ArrowDtype):
            return _via_arrow(v, target)
        if pd.api.types.is_datetime64_any_dtype(target):
            return _stamps(v, target)
        if pd.api.types.is_bool_dtype(target):
            flags = v.astype("boolean")
            return flags.astype(bool) if _numpy(target) and not flags.isna().any() else flags
        if pd.api.types.is_integer_dtype(target):
            return _integers(v, target)
        if pd.api.types.is_float_dtype(target):
            # whole numbers the input stored as floats (a CSV's "1.0", a float64 frame's
            # codes) stay floats: an integer input stays integers, without ".0" (above)
            return v.astype(target)
        if pd.api.types.is_timedelta64_dtype(target):  # durations, from their seconds
            return _as_type(v, target)
    except (TypeError, ValueError, OverflowError, pa.ArrowException):
        return v
    return v


def _snapped(v: pd.Series, ct: ColumnType, col: Column) -> pd.Series:
    """Naive UTC datetimes on ``ct.step`` (:func:`snap_dates`), in the wall time of the input's
    time zone where it had one (there without the bounds, which are UTC)."""
    tz = _tz_of(ct)
    if tz is None:
        return snap_dates(v, ct.step or "day", col.bounds)
    try:
        return _utc(snap_dates(_wall(v, tz), ct.step or "day"), tz)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return v


def _numpy(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype)


def _iso_format(v: pd.Series, col: Column) -> str:
    present = v.dropna()
    if col.unit == "D" or (present == present.dt.normalize()).all():
        return "%Y-%m-%d"
    return "%Y-%m-%dT%H:%M:%S"


def _as_type(v: pd.Series, target: Any) -> pd.Series:
    if pd.api.types.is_timedelta64_dtype(target):  # seconds, as read_table holds durations
        return pd.to_timedelta(pd.to_numeric(v, errors="coerce"), unit="s").astype(target)
    if pd.api.types.is_object_dtype(target):
        return pd.Series(np.where(v.isna(), None, v.astype(object)), index=v.index, dtype=object)
    return v.astype(target)


def _integers(v: pd.Series, target: Any) -> pd.Series:
    """Integers in ``target``'s width (nullable where missing); as they are when they are not
    all whole numbers or some fall outside the width."""
    nums = pd.to_numeric(v.astype(object) if v.dtype == object else v, errors="coerce")
    if (nums.isna() & v.notna()).any():
        return v
    present = nums.dropna().to_numpy(dtype=float)
    numpy_type = target if _numpy(target) else target.numpy_dtype
    info = np.iinfo(numpy_type)
    if len(present) and (np.any(present % 1 != 0) or present.min() < info.min
                         or present.max() > info.max):
        return v
    nullable = pd.api.types.pandas_dtype(numpy_type.name.capitalize().replace("Ui", "UI"))
    if _numpy(target) and not nums.isna().any():
        return nums.astype(nullable).astype(target)
    return nums.astype(nullable)


def _stamps(v: pd.Series, target: Any) -> pd.Series:
    """Naive UTC datetimes in ``target``'s resolution (kept finer where a value needs it) and
    time zone."""
    if not pd.api.types.is_datetime64_any_dtype(v.dtype):
        return v
    unit = getattr(target, "unit", None) or np.datetime_data(target)[0]
    try:
        v = v.astype(f"datetime64[{unit}]")
    except (pd.errors.OutOfBoundsDatetime, ValueError):
        pass
    tz = getattr(target, "tz", None)
    return v.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else v


def _via_arrow(v: pd.Series, target: pd.ArrowDtype) -> pd.Series:
    arr = pa.array(v, from_pandas=True).cast(target.pyarrow_dtype, safe=False)
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=v.index)


def _categorical(v: pd.Series, ct: ColumnType) -> pd.Series:
    """A pandas categorical with ``ct``'s categories and order; a sampled value it does not
    list (a DP model's "other") is added after them."""
    cats = list(ct.categories or ())
    lookup = {category_text(c): c for c in cats}
    values = v.astype(object).where(v.notna(), None)
    seen = {x: lookup.get(category_text(x), x) for x in pd.unique(values.dropna())}
    extra = sorted({x for x in seen.values() if category_text(x) not in lookup}, key=category_text)
    dtype = pd.CategoricalDtype(cats + extra, ordered=ct.ordered)
    return pd.Series(pd.Categorical(values.map(seen), dtype=dtype), index=v.index)


# ---------------------------------------------------------------------- Arrow and polars
def _arrow_table(df: pd.DataFrame, types: Mapping[str, ColumnType]) -> pa.Table:
    """``df`` as an Arrow table, each column cast to the Arrow type the input had (if any)."""
    arrays, fields = [], []
    for name, s in df.items():
        arr = as_input_arrow(_arrow_column(s), types.get(str(name)))
        arrays.append(arr)
        fields.append(pa.field(str(name), arr.type, nullable=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def as_input_arrow(arr: pa.Array, ct: ColumnType | None) -> pa.Array:
    """``arr`` (one restored column, as Arrow) cast to the Arrow type the input had, where it
    had one and the values fit it."""
    target = _parse_arrow(ct.arrow) if ct is not None and ct.arrow else None
    if target is not None and target != arr.type:
        try:
            arr = _cast(arr, target)
        except (pa.ArrowException, ValueError, TypeError):
            pass
    return arr


def _arrow_column(s: pd.Series) -> pa.Array:
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = np.asarray(s.cat.codes, dtype=np.int32)
        return pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=codes < 0), pa.array(s.cat.categories.to_list()),
            ordered=bool(s.dtype.ordered))
    return pa.Array.from_pandas(s)


def _cast(arr: pa.Array, target: pa.DataType) -> pa.Array:
    if pa.types.is_dictionary(target) and pa.types.is_dictionary(arr.type):
        return pa.DictionaryArray.from_arrays(
            arr.indices.cast(target.index_type), arr.dictionary.cast(target.value_type),
            ordered=target.ordered)
    if pa.types.is_dictionary(target):
        return arr.cast(target.value_type).dictionary_encode().cast(target)
    return arr.cast(target, safe=not pa.types.is_date(target))


_DICT = re.compile(r"^dictionary<values=(.+), indices=(\w+), ordered=([01])>$")
_DECIMAL = re.compile(r"^decimal(32|64|128|256)\((\d+), (-?\d+)\)$")


def _parse_arrow(text: str) -> pa.DataType | None:
    """An Arrow type from its ``str()`` (None when it is not one this module rebuilds)."""
    if text in ("string", "utf8"):
        return pa.string()
    if m := _DICT.match(text):
        values, index = _parse_arrow(m.group(1)), _parse_arrow(m.group(2))
        if values is None or index is None:
            return None
        return pa.dictionary(index, values, ordered=m.group(3) == "1")
    if m := _DECIMAL.match(text):
        return getattr(pa, f"decimal{m.group(1)}")(int(m.group(2)), int(m.group(3)))
    try:
        return pd.ArrowDtype.construct_from_string(f"{text}[pyarrow]").pyarrow_dtype
    except (TypeError, ValueError, NotImplementedError, pa.ArrowException):
        return None
