"""Count queries pushed down into DuckDB: GROUP BY counts over a file or table, rows stay out.

:class:`DuckDBEngine` answers the :class:`~lookalike.marginals.engine.Engine` queries over a CSV
or Parquet file (or a glob of them), a DuckDB database table or query, or a table on an open
connection. A temporary view types each column the way :func:`lookalike.read_table` followed
by :meth:`Schema.conform <lookalike.schema.Schema.conform>` would, and every query against it
is an aggregate, so only counts come back to Python; the answers equal
:class:`~lookalike.marginals.engine.NumpyEngine`'s (tested). Encoder codes are compiled to SQL:
categories through an ENUM cast, bins through a binary-search ``CASE`` (depth log2 of the bin
count); histograms use DuckDB's ``histogram`` aggregate, which bins by binary search too.

Without a schema the engine infers one as :func:`~lookalike.schema.infer_schema` infers it from
``read_table``'s frame, by the same rules (:mod:`lookalike.schema._infer`), from aggregate
queries: kinds, formats and units, each column's ``nullable`` (source ``"data"``, as in memory),
booleans written yes/no, Y/N, t/f or true/false with the words as written (the output spells
them so), whole numbers as integers and running or key-named ones as identifiers, and the same
refusals (a column of numbers mixed with text) and warnings, in column order; a column entirely
missing is categorical with no category, as in memory. No categories or bounds: those would be
facts read from the private data (DP discovery supplies them). Integers beyond int64 stay exact
text, as in ``read_table``: unique keys become identifiers, the others exact categories or
rounded floats, with a warning. Text
with many distinct values is classified by ``infer_schema``'s rules (keys of one pattern, names
and e-mails become identifiers regenerated as keys or fakes; free text is excluded with a
warning): from counts, and a bounded sample of distinct values read to choose the kind. Values
rather than counts leave DuckDB only there, as a boolean's words (a handful), and as the first
values (at most five) of a refused column, for its message; in a typed
source's text of numbers only, values of 16 digits or more go through ``infer_schema``'s
exactness test in Python inside the query, and only a count comes back. ``drop`` leaves
columns out unread. Dates past 2262 (such as 9999-12-31) count in microseconds, as conform
holds them. :meth:`DuckDBEngine.conform_notes` says what conforming did (clipped, rounded,
unknown values), in ``Schema.conform``'s words.

>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "t.parquet"
>>> pd.DataFrame({"sex": ["F", "M", "M", None] * 5, "age": [20, 35, 50, 65] * 5}).to_parquet(path)
>>> engine = DuckDBEngine(path)
>>> [(c.name, c.kind.value) for c in engine.schema]
[('sex', 'categorical'), ('age', 'integer')]
>>> engine.value_counts("sex")
{'F': 5, 'M': 10}
>>> engine.histogram("age", [30.0, 60.0]).tolist()
[5, 10, 5]
"""

from __future__ import annotations

import functools
import os
import re
import uuid
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from lookalike._storage import MAX_DECIMALS, WRITTEN_TOLERANCE, fixed_of, written_facts
from lookalike.errors import (
    ColumnError,
    ColumnMismatchError,
    ConfigError,
    DataError,
    LookalikeError,
    NonFiniteError,
    SourceNotFoundError,
    UnknownFormatError,
)
from lookalike.io import (
    DECIMAL_COMMA,
    ISO_EXACT,
    ISO_STAMP,
    NA_TOKENS,
    PLACEHOLDER,
    check_decimal,
    decimal_comma_warning,
    number_format,
    number_regex,
    placeholder_warning,
)
from lookalike.marginals._duckdb_sql import (
    INT64_LIMIT,
    StampScale,
    as_read,
    code_sql,
    conform_sql,
    conformed_number,
    conformed_stamp,
    declared_bounds,
    note_checks,
    number_sql,
    stamp_base,
)
from lookalike.marginals._duckdb_sql import ident as _ident
from lookalike.marginals._duckdb_sql import text as _text
from lookalike.marginals.engine import marginal_request
from lookalike.schema import Column, Kind, Schema
from lookalike.schema._columns import MIN_ROWS
from lookalike.schema._datetimes import _DATE_FORMATS as DATE_FORMATS
from lookalike.schema._datetimes import (
    _DATE_LIKE,
    _PER_SECOND,
    date_regex,
    pivot_year_of,
    unpadded_format,
)
from lookalike.schema._fakes import SAMPLE as FAKE_SAMPLE
from lookalike.schema._formats import _boolean_tokens
from lookalike.schema._infer import (
    _ID_NAME,
    BOOLEAN_WORDS,
    ZERO_PADDED,
    _exact_float,
    check_table,
    datetime_unit,
    inexact_kind,
    is_boolean_text,
    many_values,
    mixed_numbers,
    no_values,
    non_finite_text,
    number_kind,
    numbers_as_text,
    text_columns,
)
from lookalike.transform.encoder import TableEncoder

__all__ = ["DuckDBEngine", "schema_from_duckdb"]

_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
_PARQUET = (".parquet", ".pq")
_DATABASE = (".duckdb", ".ddb", ".db")
_CLASSES = (("int", r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?"), ("float", r"FLOAT|DOUBLE|REAL|DECIMAL.*"),
            ("date", "DATE"), ("stamp", "TIMESTAMP.*"), ("bool", "BOOLEAN"), ("text", "VARCHAR|ENUM.*"))
_WS = " \t\n\r\f\v\u00a0"
# a run of whitespace as Python's \s+ finds it in text (RE2's \s is ASCII only), what
# infer_schema counts words by; no whitespace lies above U+3000
_SPACES = "[" + "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if re.fullmatch(r"\s", chr(c))) + "]+"
_INT_RE = r"[+-]?[0-9]+"
_FLOAT_RE = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_NONFINITE_RE = r"(?i)[+-]?(nan|inf|infinity)"
_DATE_RE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
# a value pandas.to_numeric reads as a number (NaN aside: it counts as not one)
_NUMBER_RE = rf"{_FLOAT_RE}|(?i:[+-]?inf(inity)?)"
_BOOLEAN_RE = "|".join(sorted(BOOLEAN_WORDS))
_STAMP_RE = _DATE_RE + r"[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
# What a CSV text value could be, as bits: 1 int64, 2 float, 4 non-finite, 8 date, 16 date or
# timestamp, 32 true/false, 64 an integer of any size, 128 a date in another format (4/18/47,
# found in DuckDBEngine._date_columns); bit_and over a column says what all its values are (an
# integer column with a value beyond int64 stays text, as in read_table).
_PLACEHOLDER_BIT = 512
#: a placeholder (``?``, ``.``, ``-``) has every number bit, so that it leaves a column of numbers
#: numbers, and bit 512, so that a column of nothing else stays text (read_table's rule)
_PLACEHOLDER_CLASS = 1 | 2 | 64 | 256 | _PLACEHOLDER_BIT
_ISO_BIT, _ISO_EXACT_BIT = 1024, 2048
_NUMBER_BIT = 4096  # a formatted number ($1,234.50, 12.5%), or plain one: io.number_regex
#: an ISO timestamp with seconds (also a timestamp, 16); with a fraction of a second or a UTC
#: offset, bit 2048 too: a column of ISO timestamps with one of those is read as timestamps,
#: in UTC (read_table's rule, io._iso_stamps)
_ISO_CLASS = (f"CASE WHEN regexp_matches($t, {_text(ISO_EXACT)}) "
              f"THEN {16 | _ISO_BIT | _ISO_EXACT_BIT} ELSE {16 | _ISO_BIT} END")
_ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_CLASS_MASK = (
    "CASE WHEN $t IS NULL THEN NULL"
    f" WHEN regexp_full_match($t, {_text(PLACEHOLDER)}) THEN {_PLACEHOLDER_CLASS}"
    f" WHEN regexp_full_match($t, {_text(ISO_STAMP)}) AND TRY_CAST($t AS TIMESTAMPTZ) IS NOT NULL"
    f" THEN {_ISO_CLASS}"
    f" WHEN regexp_full_match($t, '{ZERO_PADDED}') THEN 0"
    f" WHEN regexp_full_match($t, '{_INT_RE}') THEN"
    " CASE WHEN TRY_CAST($t AS BIGINT) IS NULL THEN 66 ELSE 67 END"
    f" WHEN regexp_full_match($n, '{_FLOAT_RE}') THEN 2"
    f" WHEN regexp_full_match($t, '{_NONFINITE_RE}') THEN 6"
    f" WHEN regexp_full_match($t, '{_DATE_RE}') AND TRY_CAST($t AS DATE) IS NOT NULL THEN 24"
    f" WHEN regexp_full_match($t, '{_STAMP_RE}') AND TRY_CAST($t AS TIMESTAMP) IS NOT NULL"
    " THEN 16 WHEN lower($t) = 'true' OR lower($t) = 'false' THEN 32"
    f" WHEN regexp_full_match($t, {_text(_DATE_LIKE.pattern.strip('^$'))}) THEN 128"
    f" WHEN regexp_full_match($t, {_text(DECIMAL_COMMA.strip('^$'))}) THEN 256 ELSE 0 END"
)
# A whole number with a leading zero (02134) is text (0) and makes its column text: codes whose
# spelling is kept (read_table's rule). Bit 256: a number written with a decimal comma (96,87), read as text without decimal=",";
# an integer counts too (bit 256 added to its code when the decimal is "."), so that a column
# of 96,87 and 12 is found. With decimal=",", $n swaps "," and "." in the value: 96,87 passes
# the float pattern, 96.87 no longer does (read_table's rule, io._type_text).


def schema_from_duckdb(source: Any = None, *, table: str | None = None, query: str | None = None,
                       connection: Any = None, drop: Iterable[str] = ()) -> Schema:
    """The schema :func:`lookalike.infer_schema` gives ``read_table(source)`` less ``drop``,
    found by aggregate queries inside DuckDB, without categories or bounds (free).

    Kinds, formats, units and ``nullable`` as ``infer_schema`` reads them, with its refusals
    and warnings (see the module): text as :func:`lookalike.read_table` types it, booleans of
    any pair of words with their spelling, whole floats as integers, integers running without
    a gap or named like a key as identifiers, text with many distinct values kinded by its
    rules (keys, names and e-mails are identifiers; free text is excluded, with a warning).
    Columns in ``drop`` are neither read nor inferred.
    """
    with DuckDBEngine(source, table=table, query=query, connection=connection,
                      drop=drop) as engine:
        return engine.schema


@dataclass
class _Profile:
    """One column as :meth:`DuckDBEngine._profile` counts it."""

    n_values: int
    low: Any = None  # the smallest value
    high: Any = None  # the largest (numbers)
    integral: bool = False  # numbers: every value whole
    midnight: bool = False  # timestamps: every one at midnight
    numbers: int = 0  # text: values that are numbers
    words: int = 0  # text: values that are boolean words (yes, N, true, ...)
    word_values: list = field(default_factory=list)  # ... those words as written
    dates: int = 0  # text: values that look like dates (_DATE_LIKE)
    distinct: int = 0  # text: distinct values
    lengths: tuple = ()  # text: the values' shortest, longest and mean length


class DuckDBEngine:
    """Exact count queries run inside DuckDB over a file, database table or query.

    ``source``: a CSV (optionally .gz) or Parquet path or glob, a DuckDB database file (with
    ``table=`` or ``query=``), or a DuckDB connection (or pass it as ``connection=``). ``schema``
    fixes the kinds (as declared); it defaults to :func:`schema_from_duckdb`. ``drop``: columns
    to leave out, never read (nor fingerprinted: the ledger sees the table the fit reads, as
    when pandas reads it and drops them). ``threads`` and
    ``memory_limit`` (e.g. ``"2GB"``) are DuckDB settings (of the given connection, if one is
    given). Use as a context manager, or :meth:`close` it.

    Each query scans the source again: Parquet is fast, CSV text is parsed and typed anew each
    time. Known differences from ``read_table`` + ``conform``: NaN in a float column counts as
    missing (``read_table`` refuses it); text that is not a number, in a column declared
    numeric, counts as missing (``conform`` refuses it); a missing value in a column declared
    not nullable counts as missing (``conform`` refuses it); DuckDB keeps timestamps to the
    microsecond unless the file stores nanoseconds; clipping a datetime column to declared
    bounds rounds it to whole units in counts (as ``conform`` does) but not in
    :meth:`value_counts`.
    """

    def __init__(self, source: Any = None, schema: Schema | None = None, *, table: str | None = None,
                 query: str | None = None, connection: Any = None, threads: int | None = None,
                 memory_limit: str | None = None, drop: Iterable[str] = (),
                 decimal: str | None = None, delimiter: str | None = None) -> None:
        # a CSV path with its read options (lookalike.io.CsvFile) brings them along
        self._decimal = check_decimal(decimal if decimal is not None
                                      else getattr(source, "decimal", None))
        self.delimiter: str | None = delimiter if delimiter is not None \
            else getattr(source, "delimiter", None)
        self._view = _ident(f"__lookalike_{uuid.uuid4().hex[:12]}")
        self._functions: list[str] = []  # made on the connection by _exact, dropped by close
        self._con, self._owned, self._from, csv = _open(source, table, query, connection)
        if self._owned:  # DuckDB draws progress bars on long scans: ours report progress
            self._con.execute("SET enable_progress_bar = false")
        self._csv = csv
        # a CSV's formatted numbers ($1,234.50): their formats and plain number text (SQL),
        # found by _csv_bases
        self._formats: dict[str, dict[str, Any]] = {}
        self._number_text: dict[str, str] = {}
        self.label = str(source) if isinstance(source, str | os.PathLike) else "the DuckDB source"
        if threads is not None:
            self._con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self._con.execute(f"SET memory_limit = {_text(memory_limit)}")
        names = self._csv_names() if csv else [n for n, *_ in self._describe()]
        drop = [str(d) for d in drop]
        unknown = [d for d in drop if d not in names]
        if unknown:
            raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are {names}")
        if schema is not None:
            missing = [c.name for c in schema if c.name not in names]
            if missing:
                raise ColumnMismatchError(f"the schema names columns that are not in {self.label}: "
                                          f"{missing}; columns there: {names}")
            if drop:
                schema = Schema(tuple(c for c in schema if c.name not in drop), schema.n_rows,
                                schema.n_rows_source)
        read = schema.names if schema is not None else [n for n in names if n not in drop]
        bases = self._csv_bases(read) if csv else self._typed_bases(read)
        if schema is None:
            schema = self._schema_of(bases)
        self.schema = schema
        self._bases = {c.name: bases[c.name][:2] for c in schema}
        self._wide = {n for n, b in bases.items() if b[2] == "wide"}
        self._check_int64()
        cols = ", ".join(f"{conform_sql(c, *self._bases[c.name])} AS {_ident(c.name)}" for c in schema)
        self._run(f"CREATE TEMP VIEW {self._view} AS SELECT {cols} FROM {self._from}")
        self._bound: dict[str, tuple[str, str, int]] | None = None
        self._scales: dict[str, StampScale] | None = None
        self._written_found: tuple[dict[str, int], dict[str, str]] | None = None

    # ------------------------------------------------------------------ source and types
    def _run(self, sql: str, params: list | None = None) -> list[tuple]:
        """Run one statement; data queries are all aggregates (see :meth:`_counts`), but for
        :meth:`_distinct_samples` and the boolean words of :meth:`_profile` in schema inference,
        and :meth:`_first_row` and :meth:`_first_rows` for messages."""
        try:
            return self._con.execute(sql, params).fetchall()
        except duckdb.Error as e:
            raise DataError(f"DuckDB could not read {self.label}: {e}") from e

    def _describe(self) -> list[tuple]:
        return self._run(f"DESCRIBE SELECT * FROM {self._from}")

    def _typed_bases(self, read: list[str]) -> dict[str, tuple[str, str, str | None]]:
        """Classes from DuckDB's types of the columns ``read``; integers beyond int64 as exact
        text, as read_table has them."""
        rows = [r for r in self._describe() if r[0] in set(read)]
        rows.sort(key=lambda r: read.index(r[0]))
        bases: dict[str, tuple[str, str, str | None]] = {
            n: (f"timezone('UTC', {_ident(n)})" if "TIME ZONE" in t else _ident(n), _class_of(t), None)
            for n, t, *_ in rows}
        for n, t, *_ in rows:  # a length of time: its seconds, as read_table holds it
            if t.upper() == "INTERVAL":
                bases[n] = (f"epoch({_ident(n)})", "float", None)
        for n, per_second in self._parquet_durations().items():  # (DuckDB reads the count)
            if n in bases:
                bases[n] = (f"CAST({_ident(n)} AS DOUBLE) / {per_second}", "float", None)
        # read_table: wider integers that all fit int64 are integers; DECIMAL(p, 0) beyond a
        # float's 15 digits is a float when every value is exact as one, else as those integers
        wide = {n: t.upper() for n, t, *_ in rows if re.fullmatch(r"UBIGINT|U?HUGEINT|DECIMAL\(("
                                                                 r"1[6-9]|[23][0-9]),0\)", t.upper())}
        if not wide:
            return bases
        fits = "bool_and({0} BETWEEN -9223372036854775808 AND 9223372036854775807)"
        exact = "bool_and(coalesce(TRY_CAST(CAST({0} AS DOUBLE) AS {1}) = {0}, false))"
        aggs = ", ".join(f"{fits.format(_ident(n))}, {exact.format(_ident(n), t)}"
                         for n, t in wide.items())
        flags = self._run(f"SELECT count(*), {aggs} FROM {self._from}")[0][1:]
        for (name, typ), fit, is_exact in zip(wide.items(), flags[::2], flags[1::2], strict=True):
            if typ.startswith("DECIMAL") and is_exact is not False:
                continue  # a float, as before
            if fit is False:
                bases[name] = (f"CAST({_ident(name)} AS VARCHAR)", "text", "wide")
            else:
                bases[name] = (f"CAST({_ident(name)} AS BIGINT)", "int", None)
        return bases

    def _parquet_durations(self) -> dict[str, int]:
        """The duration columns of a Parquet file (which DuckDB reads as integer counts of
        their unit) and each one's count per second; none for another source."""
        path = Path(self.label)
        if not (path.name.lower().endswith(_PARQUET) and path.is_file()):
            return {}
        import pyarrow.parquet as pq

        try:
            fields = pq.read_schema(path)
        except (pa.ArrowException, OSError):
            return {}
        return {f.name: int(_PER_SECOND[f.type.unit]) for f in fields if pa.types.is_duration(f.type)}

    def _csv_names(self) -> list[str]:
        """The CSV file's column names; from then on it is read as text, every column VARCHAR
        (with the ``delimiter`` given, else the one DuckDB sniffs)."""
        given = "" if self.delimiter is None else f", delim = {_text(self.delimiter)}"
        (delim, columns), = self._run(f"SELECT Delimiter, Columns FROM sniff_csv({self._from}, "
                                      f"header = true, all_varchar = true{given})")
        self.delimiter = delim
        names = [c["name"] for c in columns]
        types = ", ".join(f"{_text(n)}: 'VARCHAR'" for n in names)
        self._from = (f"read_csv({self._from}, auto_detect = false, header = true, delim = "
                      f"{_text(delim)}, quote = '\"', escape = '\"', columns = {{{types}}})")
        return names

    def _csv_bases(self, names: list[str]) -> dict[str, tuple[str, str, str | None]]:
        """Type the CSV columns ``names`` as read_table does, in one aggregate pass: int,
        float or text (with a hint of what the text holds: ISO dates or timestamps, true/false,
        other dates, for :meth:`_schema_of`).

        Integers beyond int64 stay text, exactly as written (hint "wide"): never rounded.
        With a decimal comma, floats are written 96,87 (and a value with a "." is text); with
        a decimal point, text columns of numbers written with a decimal comma are warned of.
        """
        if not names:
            return {}
        na = _text("|".join(re.escape(t) for t in NA_TOKENS))  # IN (...) would plan a join
        texts = [f"CASE WHEN regexp_full_match(trim({_ident(n)}, {_text(_WS)}), {na}) THEN NULL "
                 f"ELSE trim({_ident(n)}, {_text(_WS)}) END" for n in names]
        comma = self._decimal == ","
        mask = _CLASS_MASK if comma else _CLASS_MASK.replace("THEN 66 ELSE 67 END",
                                                             "THEN 322 ELSE 323 END")
        swap = "translate({0}, ',.', '.,')" if comma else "{0}"
        number = _text(number_regex(self._decimal))  # a formatted number ($1,234.50): bit 4096
        masks = ", ".join(f"({mask.replace('$n', swap.format(t)).replace('$t', t)}) | (CASE WHEN "
                          f"regexp_full_match({t}, {number}) THEN {_NUMBER_BIT} ELSE 0 END) AS m{i}"
                          for i, t in enumerate(texts))
        aggs = ", ".join(f"bit_and(m{i}), bit_or(m{i})" for i in range(len(names)))
        flags = self._run(f"SELECT {aggs} FROM (SELECT {masks} FROM {self._from})")[0]
        bases: dict[str, tuple[str, str, str | None]] = {}
        commas: list[str] = []
        placeholders: dict[str, str] = {}
        formatted: dict[str, str] = {}
        grouped: list[str] = []  # every value a formatted number: 22,026 may be thousands
        for name, t, all_of, any_of in zip(names, texts, flags[::2], flags[1::2], strict=True):
            all_of = 0 if all_of is None else all_of  # an empty column: text
            if all_of & _NUMBER_BIT and not all_of & (1 | 2 | 64):  # perhaps formatted numbers
                formatted[name] = t
                grouped.append(name)
            all_of &= ~_NUMBER_BIT
            if all_of & _ISO_BIT and any_of & _ISO_EXACT_BIT:  # ISO timestamps, in UTC
                bases[name] = (f"CASE WHEN regexp_matches({t}, {_text(_ZONE)}) THEN "
                               f"timezone('UTC', CAST({t} AS TIMESTAMPTZ)) "
                               f"ELSE CAST({t} AS TIMESTAMP) END", "stamp", None)
                continue
            if all_of & _PLACEHOLDER_BIT:  # nothing but placeholders: text, as they are
                all_of = 0
            elif all_of and any_of & _PLACEHOLDER_BIT:  # numbers: the placeholders missing
                placeholders[name] = t
                t = f"CASE WHEN regexp_full_match({t}, {_text(PLACEHOLDER)}) THEN NULL ELSE {t} END"
            if all_of & 2 and any_of & 4:
                raise NonFiniteError(f"column {name!r} in {self.label} has NaN or infinite values; "
                                     "write missing values as empty fields and replace them")
            if all_of & 1:
                bases[name] = (f"CAST({t} AS BIGINT)", "int", None)
            elif all_of & 64:
                bases[name] = (t, "text", "wide")
            elif all_of & 2:
                number = f"replace({t}, ',', '.')" if comma else t
                bases[name] = (f"CAST({number} AS DOUBLE)", "float", None)
            else:
                if all_of & 256:
                    commas.append(name)
                hint = next((h for bit, h in ((8, "date"), (16, "stamp"), (32, "bool"),
                                              (128, "datelike")) if all_of & bit), None)
                bases[name] = (t, "text", hint)
        for name, (fmt, expr, integer) in self._formatted(formatted).items():
            bases[name] = (f"CAST({expr} AS {'BIGINT' if integer else 'DOUBLE'})",
                           "int" if integer else "float", None)
            self._formats[name], self._number_text[name] = fmt, expr
        commas = [n for n in commas if n not in self._formats]
        if placeholders:
            warnings.warn(placeholder_warning(self.label, self._placeholders(placeholders)),
                          stacklevel=4)
        if commas:
            warnings.warn(decimal_comma_warning(self.label, commas, grouped), stacklevel=4)
        return bases

    def _formatted(self, texts: Mapping[str, str]) -> dict[str, tuple[dict[str, Any], str, bool]]:
        """Of text columns (SQL ``texts``) every value of which reads as a formatted number
        (:func:`~lookalike.io.number_regex`), those :func:`~lookalike.io.formatted_numbers`
        takes as numbers, each with its format, the SQL of its plain number text, and whether
        it holds whole numbers only: one aggregate query (none without such columns)."""
        if not texts:
            return {}
        rx, group = _text(number_regex(self._decimal)), _text("," if self._decimal == "." else ".")

        def part(t: str, k: int) -> str:
            return f"regexp_extract({t}, {rx}, {k})"

        aggs = []
        for t in texts.values():
            marks = f"length({part(t, 4)}) - length(replace({part(t, 4)}, {group}, ''))"
            aggs += [f"count({t})", f"list(DISTINCT {part(t, 2)})", f"list(DISTINCT {part(t, 6)})",
                     f"count(*) FILTER (WHERE {marks} > 0)", f"count(*) FILTER (WHERE {marks} > 1)",
                     f"count(*) FILTER (WHERE {part(t, 5)} <> '')",
                     f"count(*) FILTER (WHERE {part(t, 1)} = '-')",
                     f"count(*) FILTER (WHERE {part(t, 3)} = '-')"]
        row = self._run(f"SELECT {', '.join(aggs)} FROM {self._from}")[0]
        out = {}
        for i, (name, t) in enumerate(texts.items()):
            n, pre, suf, *counts = row[8 * i: 8 * i + 8]
            fmt = number_format(int(n), sorted(pre or ()), sorted(suf or ()),
                                *(int(c) for c in counts))
            if fmt is None:
                continue  # (separators alone that may be a decimal comma, 1,234: text)
            frac = counts[2]
            expr = (f"{part(t, 1)} || {part(t, 3)} || replace({part(t, 4)}, {group}, '') || "
                    f"replace({part(t, 5)}, {_text(self._decimal)}, '.')")
            out[name] = (fmt, expr, not frac)
        return out

    def number_formats(self) -> dict[str, dict[str, Any]]:
        """How the CSV file wrote each column of formatted numbers (read with it: no query)."""
        return dict(self._formats)

    def _placeholders(self, texts: Mapping[str, str]) -> dict[str, tuple[int, list[str]]]:
        """Per column of numbers (SQL text ``texts``), how many of its values are placeholders
        and which: one aggregate query, for the warning."""
        tests = [f"regexp_full_match({t}, {_text(PLACEHOLDER)})" for t in texts.values()]
        aggs = ", ".join(f"count(*) FILTER (WHERE {test}), "
                         f"list(DISTINCT {t} ORDER BY {t}) FILTER (WHERE {test})"
                         for t, test in zip(texts.values(), tests, strict=True))
        row = self._run(f"SELECT {aggs} FROM {self._from}")[0]
        return {name: (int(row[2 * i]), list(row[2 * i + 1]))
                for i, name in enumerate(texts)}

    def _schema_of(self, bases: dict[str, tuple[str, str, str | None]]) -> Schema:
        """The schema of a source given without one, as ``infer_schema`` infers it from
        ``read_table``'s frame: the same rules (:mod:`lookalike.schema._infer`), applied to
        what aggregate queries count.

        Column by column, as ``infer_schema`` goes: a column of numbers mixed with text (or, in
        a typed source, all numbers stored as text) is refused (one entirely missing is
        categorical with no category: :func:`~lookalike.schema._infer.no_values`), with the warnings of the columns before it given first; the columns after it
        are not looked at. Then kinds: integers beyond int64 (:meth:`_key_columns`), booleans
        written with a pair of words (kept as written, for the output), dates in text
        (:meth:`_date_columns`), text with many distinct values (:meth:`_text_columns`),
        whole numbers (integers, or identifiers when they run without a gap or are named like
        a key), datetimes in days when all at midnight; every column ``nullable`` as the data
        says (source ``"data"``). The warnings come in column order.
        """
        profile, n_rows = self._profile(bases)
        check_table(n_rows, len(bases))
        why: dict[str, str] = {}
        found: dict[str, Column] = {}  # kinds settled while looking for refusals
        refusal: LookalikeError | None = None
        names: list[str] = []
        for name, (x, cls, hint) in bases.items():
            p = profile[name]
            try:
                if p.n_values == 0:
                    found[name] = no_values(name)
                    names.append(name)
                    continue
                if cls == "text" and hint != "wide" and p.numbers:
                    if p.numbers == p.n_values:  # a typed source's text: all numbers
                        self._numeric_text(name, bases, n_rows, found, why)
                    elif p.numbers >= 0.5 * p.n_values:
                        raise mixed_numbers(name, p.numbers / p.n_values, self._first_rows(
                            f"{x} IS NOT NULL AND NOT regexp_full_match({x}, {_text(_NUMBER_RE)})",
                            x, 3))
            except LookalikeError as e:
                refusal = e
                break
            names.append(name)
        bases_in = {n: bases[n] for n in names}
        wide = {n: b[0] for n, b in bases_in.items() if b[2] == "wide"}
        found |= self._key_columns(wide, n_rows, why) if wide else {}
        texts = [n for n, b in bases_in.items() if b[1] == "text" and n not in found]
        for name in texts:
            p = profile[name]
            if p.words == p.n_values and is_boolean_text(p.word_values):
                found[name] = Column(name, Kind.BOOLEAN, categories=_boolean_tokens(pd.Series(
                    p.word_values, dtype=object)), sources={"kind": "data", "categories": "data"})
        # dates: text whose every value looks like one (counted per distinct value above);
        # the formats are then tried on every cell (at 10^7 Adult rows, trying them on all 9
        # text columns took 43.6 s)
        dates = {n: bases[n][0] for n in texts if n not in found
                 and profile[n].dates == profile[n].n_values}
        found |= self._date_columns(dates) if dates else {}
        rest = {n: bases[n][0] for n in texts if n not in found}
        found |= self._text_columns(rest, why, {n: profile[n] for n in rest}, n_rows) \
            if rest else {}
        columns = []
        for name, base in bases_in.items():
            p = profile[name]
            col = found.get(name) or self._typed_column(name, base, p, n_rows)
            columns.append(col.replace("data", nullable=p.n_values < n_rows))
        for name in names:
            if name in why:
                warnings.warn(why[name], stacklevel=4)
        if refusal is not None:
            raise refusal
        return Schema(tuple(columns), n_rows, "data")

    def _profile(self, bases: dict[str, tuple[str, str, str | None]]
                 ) -> tuple[dict[str, _Profile], int]:
        """What :meth:`_schema_of` needs of every column, in one aggregate query: values,
        smallest and largest (one value: refused), whole numbers, datetimes at midnight, and,
        in text, how many values are numbers and how many boolean words (with the words as
        written: a handful of distinct values at most), distinct values and lengths
        and values that look like dates (:meth:`_text_profile`, one more query). Also the row
        count."""
        texts = [n for n, (_, cls, hint) in bases.items() if cls == "text" and hint != "wide"]
        typed = {n: b for n, b in bases.items() if n not in texts}
        cols = {n: f"c{i}" for i, n in enumerate(typed)}
        src = ("(SELECT " + (", ".join(f"{b[0]} AS {cols[n]}" for n, b in typed.items()) or "1")
               + f" FROM {self._from})")
        aggs, sizes = [], {}
        for name, (_, cls, _hint) in typed.items():
            c = cols[name]
            part = [f"count({c})"]
            if cls != "other":
                part.append(f"min({c})")
            if cls in ("int", "float"):
                part += [f"bool_and({c} = trunc({c}))" if cls == "float" else "true", f"max({c})"]
            elif cls == "stamp":
                part.append(f"bool_and({c} = date_trunc('day', {c}))")
            aggs += part
            sizes[name] = len(part)
        found = self._run(f"SELECT count(*){''.join(', ' + a for a in aggs)} FROM {src}")[0]
        n_rows, pos, out = int(found[0]), 1, {}
        for name, (_, cls, _hint) in typed.items():
            got = found[pos: pos + sizes[name]]
            pos += sizes[name]
            p = _Profile(n_values=int(got[0]))
            if cls != "other":
                p.low = got[1]
            if cls in ("int", "float"):
                p.integral, p.high = bool(got[2]), got[3]
            elif cls == "stamp":
                p.midnight = bool(got[2])
            out[name] = p
        out |= self._text_profile({n: bases[n][0] for n in texts})
        return {n: out[n] for n in bases}, n_rows

    def _text_profile(self, texts: dict[str, str]) -> dict[str, _Profile]:
        """The profile of text columns (text SQL by name), from their distinct values with each
        one's count: values, numbers, boolean words (as
        written), distinct values, and the values' shortest, longest and mean length.

        One query: each column's values counted (``GROUP BY GROUPING SETS``, one set per
        column), then summarised per column, so that the patterns run once per distinct value,
        not once per cell, and one hash aggregate replaces a count of distinct values per
        column. On Adult resampled to 10^8 rows (9 text columns, 2 threads) the two queries
        this replaces took 92 s and 338 s; the cells unpivoted to (column, value) and grouped
        took 243 s; grouping sets take a tenth of that (10^7 rows: 0.5 s against 4.9 s)."""
        if not texts:
            return {}
        refs = {n: f"c{i}" for i, n in enumerate(texts)}
        cells = ", ".join(f"CAST({t} AS VARCHAR) AS {refs[n]}" for n, t in texts.items())
        number = f"regexp_full_match(v, {_text(_NUMBER_RE)})"
        word = f"regexp_full_match(lower(v), {_text(_BOOLEAN_RE)})"
        listed, k = ", ".join(refs.values()), len(refs)
        # grouping_id sets the bit of each column not grouped, the first column's highest
        masks = {ref: ((1 << k) - 1) ^ (1 << (k - 1 - i)) for i, ref in enumerate(refs.values())}
        which = " ".join(f"WHEN {m} THEN '{ref}'" for ref, m in masks.items())
        value = " ".join(f"WHEN {m} THEN {ref}" for ref, m in masks.items())
        sets = ", ".join(f"({ref})" for ref in refs.values())
        values = (f"SELECT CASE g {which} END AS c, CASE g {value} END AS v, n FROM (SELECT "
                  f"{listed}, grouping_id({listed}) AS g, count(*) AS n FROM (SELECT {cells} "
                  f"FROM {self._from}) GROUP BY GROUPING SETS ({sets})) WHERE CASE g {value} "
                  "END IS NOT NULL")
        found = self._run(
            f"SELECT c, sum(n), sum(n) FILTER (WHERE {number}), "
            f"sum(n) FILTER (WHERE {word}), list(v) FILTER (WHERE {word}), count(*), "
            f"min(length(v)), max(length(v)), sum(n * length(v)) / sum(n), sum(n) FILTER "
            f"(WHERE regexp_full_match(v, {_text(_DATE_LIKE.pattern.strip('^$'))})) "
            f"FROM ({values}) GROUP BY c")
        by_ref = {row[0]: row[1:] for row in found}
        out = {}
        for name, ref in refs.items():  # a column without a value has no row: n_values 0
            g = by_ref.get(ref)
            out[name] = _Profile(n_values=0) if g is None else _Profile(
                n_values=int(g[0]), numbers=int(g[1] or 0), words=int(g[2] or 0),
                word_values=list(g[3] or ()), distinct=int(g[4]), lengths=tuple(g[5:8]),
                dates=int(g[8] or 0))
        return out

    def _typed_column(self, name: str, base: tuple[str, str, str | None], p: _Profile,
                      n_rows: int) -> Column:
        """A column kinded by its class (what the text rules left): numbers by
        :func:`~lookalike.schema._infer.number_kind` (identifiers, integers, floats), DATE in
        days, TIMESTAMP in days or seconds, BOOLEAN with (False, True), VARCHAR categorical."""
        x, cls = base[0], base[1]
        data = {"kind": "data"}
        if cls in ("int", "float"):
            kind = number_kind(name, n_rows, functools.partial(self._distinct, x), p.integral,
                               p.low, p.high)
            if kind is Kind.IDENTIFIER:
                return Column(name, kind, format="integer", sources=data | {"format": "data"})
            return Column(name, kind, sources=data)
        if cls in ("date", "stamp"):
            unit = datetime_unit(cls == "date" or p.midnight)
            return Column(name, Kind.DATETIME, unit=unit, sources=data | {"unit": "data"})
        if cls == "bool":
            return Column(name, Kind.BOOLEAN, categories=(False, True),
                          sources=data | {"categories": "data"})
        return Column(name, Kind.CATEGORICAL if cls == "text" else Kind.TEXT, sources=data)

    def _distinct(self, x: str) -> int:
        """How many distinct values the column (SQL ``x``) holds: one aggregate query."""
        return int(self._run(f"SELECT count(DISTINCT {x}) FROM {self._from}")[0][0])

    def _numeric_text(self, name: str, bases: dict[str, tuple[str, str, str | None]],
                      n_rows: int, found: dict[str, Column], why: dict[str, str]) -> None:
        """A typed source's text column whose values are all numbers, as ``infer_schema``
        takes it: refused if some are infinite; integers beyond int64 go on as exact text
        (marked "wide" in ``bases``, for :meth:`_key_columns`); decimals a float does not
        hold exactly become exact categories or rounded floats, with a warning (in ``found``
        and ``why``); a column with a whole number written with a leading zero stays text
        (codes); anything else is refused as numbers stored as text.

        Aggregate queries; a value with 16 digits or more, or an exponent, is checked for
        exactness by the test ``infer_schema`` uses, in Python, called by DuckDB on such
        values only.
        """
        x = bases[name][0]
        number = f"TRY_CAST({x} AS DOUBLE)"
        integer = f"regexp_full_match({x}, {_text(_INT_RE)})"
        long = f"(length(regexp_replace({x}, '[^0-9]', '', 'g')) >= 16 OR {x} ILIKE '%e%')"
        padded = f"regexp_full_match({x}, {_text(ZERO_PADDED)})"
        (infinite, integers, wide, distinct, longs, codes), = [r[1:] for r in self._run(
            f"SELECT count(*), count(*) FILTER (WHERE NOT isfinite({number})), bool_and({integer}), "
            f"count(*) FILTER (WHERE {integer} AND TRY_CAST({x} AS BIGINT) IS NULL), "
            f"count(DISTINCT {x}), count(*) FILTER (WHERE {long}), bool_or({padded}) "
            f"FROM {self._from}")]
        if codes:
            return  # codes with leading zeros (02134): text, as infer_schema keeps them
        if infinite:
            rows = [r for r, _ in self._first_rows(f"NOT isfinite({number})", x, 5)]
            raise non_finite_text(name, rows)
        if integers:
            if not wide:
                raise numbers_as_text(name)
            bases[name] = (x, "text", "wide")
            return
        inexact = f"NOT {self._exact()}({x})"
        if longs and self._run(f"SELECT count(*) FILTER (WHERE {long} AND {inexact}) "
                               f"FROM {self._from}")[0][0]:
            row, value = self._first_row(f"{long} AND {inexact}", x)
            kind, why[name] = inexact_kind(name, False, row, value, int(distinct),
                                           max(20, n_rows // 2))
            found[name] = Column(name, kind, sources={"kind": "data"})
            return
        raise numbers_as_text(name)

    def _exact(self) -> str:
        """The name of a DuckDB function, made once per engine, telling whether a number
        written as text is exactly the float it reads as (``infer_schema``'s test)."""
        name = self._view.strip('"') + "_exact"
        if name not in self._functions:
            self._con.create_function(name, _exact_float, ["VARCHAR"], "BOOLEAN",
                                      side_effects=False)
            self._functions.append(name)
        return name

    def _first_rows(self, where: str, value: str, k: int) -> list[tuple[int, Any]]:
        """The first ``k`` rows (1 = first data row, in file order) where ``where`` holds, with
        ``value`` there: an aggregate, for an error message."""
        rows = f"(SELECT *, row_number() OVER () AS __lookalike_row FROM {self._from})"
        (found,), = self._run(
            f"SELECT arg_min({{'r': __lookalike_row, 'v': {value}}}, __lookalike_row, {int(k)}) "
            f"FILTER (WHERE {where}) FROM {rows}")
        return [(int(d["r"]), d["v"]) for d in found or ()]

    def _date_columns(self, texts: dict[str, str]) -> dict[str, Column]:
        """Datetime columns among text ones (text SQL by name), found as ``infer_schema`` finds
        them: every value looks like a date and parses in one of its formats (the first that
        fits, e.g. ``%m/%d/%y``); two-digit years read in the window of the years seen (its
        pivot year); days when every time is midnight, else seconds. Two aggregate queries.
        """
        formats = [(f, rx[0]) for f in DATE_FORMATS if (rx := date_regex(f)) is not None]
        like = _text(_DATE_LIKE.pattern.strip("^$"))
        aggs = [f"bool_and(CASE WHEN regexp_full_match({t}, {like}) THEN regexp_full_match({t}, "
                f"{_text(rx)}) AND try_strptime({t}, {_text(f)}) IS NOT NULL ELSE false END) "
                f"FILTER (WHERE {t} IS NOT NULL)"  # missing values are not text
                for t in texts.values() for f, rx in formats]
        fits = self._run(f"SELECT count(*), {', '.join(aggs)} FROM {self._from}")[0][1:]
        found, k = {}, len(formats)
        for i, name in enumerate(texts):
            fmt = next((f for (f, _), ok in zip(formats, fits[i * k:(i + 1) * k], strict=True)
                        if ok), None)
            if fmt is not None:
                found[name] = fmt
        if not found:
            return {}
        aggs = []
        for name, fmt in found.items():
            p = f"try_strptime({texts[name]}, {_text(fmt)})"
            aggs += [f"list(DISTINCT year({p}) % 100) FILTER (WHERE {p} IS NOT NULL)"
                     if "%y" in fmt else "NULL",
                     f"bool_and({p} = date_trunc('day', {p}))"]
        stats = self._run(f"SELECT count(*), {', '.join(aggs)} FROM {self._from}")[0][1:]
        out = {}
        for i, (name, fmt) in enumerate(found.items()):
            years, midnight = stats[2 * i: 2 * i + 2]
            pivot = pivot_year_of(years) if years else None
            facts = {"kind": "data", "unit": "data", "format": "data"}
            out[name] = Column(name, Kind.DATETIME, format=fmt,
                               unit=datetime_unit(bool(midnight)), pivot_year=pivot,
                               sources=facts | ({"pivot_year": "data"} if pivot else {}))
        return out

    def date_spellings(self) -> dict[str, str]:
        """How each text datetime column with a format writes its dates: the format, with
        ``%-m`` (``%-d``, ``%-H``) where the values write those below 10 with one digit and
        never with a leading zero ("4/18/47"), as :func:`~lookalike.schema._datetimes.
        spelled_format` reads them in memory. One aggregate query (none without such columns).
        """
        cols = {c.name: (c.format, date_regex(c.format)) for c in self.schema
                if c.kind is Kind.DATETIME and c.format and self._bases[c.name][1] == "text"}
        checks = []
        for name, (_, found) in cols.items():
            if found is None:
                continue
            rx, fields = found
            x = self._bases[name][0]
            for k, letter in enumerate(fields, 1):
                if letter in ("m", "d", "H"):
                    part = f"regexp_extract({x}, {_text('^' + rx + '$')}, {k})"
                    checks.append((name, letter, f"bool_or(length({part}) = 1), "
                                                 f"bool_or({part} LIKE '0_')"))
        if not checks:
            return {n: fmt for n, (fmt, _) in cols.items()}
        found_flags = self._run(f"SELECT count(*), {', '.join(c for *_, c in checks)} "
                                f"FROM {self._from}")[0][1:]
        unpadded: dict[str, set[str]] = {n: set() for n in cols}
        for i, (name, letter, _) in enumerate(checks):
            one_digit, zero_led = found_flags[2 * i: 2 * i + 2]
            if one_digit and not zero_led:
                unpadded[name].add(letter)
        return {n: unpadded_format(fmt, unpadded[n]) for n, (fmt, _) in cols.items()}

    def fixed_decimals(self) -> dict[str, int]:
        """The float columns of a CSV file written with a fixed number of decimals, trailing
        zeros included ("12.50"), and that number, as :func:`lookalike.read_table` reads them
        (:func:`~lookalike._storage.fixed_of`): one aggregate query over the text (none
        without float columns)."""
        floats = [c.name for c in self.schema
                  if c.kind is Kind.FLOAT and self._bases[c.name][1] == "float"]
        if not floats:
            return {}
        aggs = []
        numbers = self._number_text
        for name in floats:
            x, valid = f"trim({_ident(name)}, {_text(_WS)})", f"{self._bases[name][0]} IS NOT NULL"
            x, sep = (numbers[name], re.escape(".")) if name in numbers else (x, re.escape(self._decimal))
            aggs.append(f"count(*) FILTER (WHERE {valid})")
            for k in range(1, MAX_DECIMALS + 1):
                aggs.append(f"count(*) FILTER (WHERE {valid} AND "
                            f"regexp_matches({x}, {_text(sep + '[0-9]{' + str(k) + '}$')}))")
                aggs.append(f"count(*) FILTER (WHERE {valid} AND "
                            f"regexp_matches({x}, {_text(sep + '[0-9]{' + str(k - 1) + '}0$')}))")
        row = self._run(f"SELECT {', '.join(aggs)} FROM {self._from}")[0]
        out: dict[str, int] = {}
        width = 1 + 2 * MAX_DECIMALS
        for i, name in enumerate(floats):
            part = row[i * width:(i + 1) * width]
            fixed = fixed_of(int(part[0]), [int(v) for v in part[1::2]], [int(v) for v in part[2::2]])
            if fixed is not None:
                out[name] = fixed
        return out

    def float_stored(self) -> list[str]:
        """Integer columns the source stores as floats (a CSV's "1.0", a DOUBLE column):
        ``read_table`` has them as float64, and outputs keep them so. No query."""
        return [c.name for c in self.schema
                if c.kind is Kind.INTEGER and self._bases.get(c.name, ("", ""))[1] == "float"]

    def written_decimals(self) -> dict[str, int]:
        """The decimals each float column's values are written with, as
        :func:`~lookalike._storage.written_decimals` reads them in memory (columns written at
        a float's full precision are left out): with :meth:`written_steps`, one aggregate
        query (none without float or datetime columns)."""
        return self._written()[0]

    def written_steps(self) -> dict[str, str]:
        """The calendar unit each datetime column's values sit on the start of, as
        :func:`~lookalike._storage.written_step` reads them in memory: with
        :meth:`written_decimals`, one aggregate query."""
        return self._written()[1]

    def _written(self) -> tuple[dict[str, int], dict[str, str]]:
        if self._written_found is not None:
            return self._written_found
        floats = [c for c in self.schema if c.kind is Kind.FLOAT]
        stamps = [c for c in self.schema if c.kind is Kind.DATETIME]
        tol, aggs = WRITTEN_TOLERANCE, []
        for c in floats:
            x = conform_sql(c, *self._bases[c.name])  # the view's value, read from the source
            for k in range(MAX_DECIMALS + 1):
                scaled = f"(({x}) * {10.0**k!r})"
                aggs.append(f"avg(CASE WHEN abs({scaled} - round({scaled})) <= {tol!r} * "
                            f"greatest(1.0, abs({scaled})) THEN 1.0 ELSE 0.0 END) "
                            f"FILTER (WHERE isfinite({x}))")
        for c in stamps:
            t = stamp_base(c, *self._bases[c.name])
            midnight = f"{t} = date_trunc('day', {t})"
            first = f"{midnight} AND day({t}) = 1"
            for on in (f"{first} AND month({t}) = 1", first, midnight):
                aggs.append(f"avg(CASE WHEN {on} THEN 1.0 ELSE 0.0 END) "
                            f"FILTER (WHERE {t} IS NOT NULL)")
        row = self._run(f"SELECT {', '.join(aggs)} FROM {self._from}")[0] if aggs else ()
        self._written_found = written_facts(row, floats, stamps)
        return self._written_found

    def _text_columns(self, texts: dict[str, str], why: dict[str, str],
                      profile: dict[str, _Profile], n_rows: int) -> dict[str, Column]:
        """Text columns with many distinct values (text SQL by name), classified by the rules
        ``infer_schema`` follows (:func:`~lookalike.schema._infer.text_kind`): keys of one
        pattern and names, e-mails and the like become identifiers regenerated in that
        pattern or as fakes; free text and labels of no pattern are excluded as text, with the
        same warning (put in ``why``). Columns with few distinct values stay categorical (not
        returned).

        Each column's values, distinct values and lengths come from its ``profile`` (of
        ``n_rows`` rows); one query reads a sample of the distinct values of the columns with many
        (:meth:`_distinct_samples`); a column of long values has its words counted in one more
        (:meth:`_median_words`). What is read decides only the kind and format (source
        ``"data"``, as in ``infer_schema``: named in a DP release sheet as not covered).
        """
        refs = {n: f"c{i}" for i, n in enumerate(texts)}
        src = ("(SELECT " + ", ".join(f"CAST({t} AS VARCHAR) AS {refs[n]}" for n, t in texts.items())
               + f" FROM {self._from})")
        total = n_rows
        stats = {n: (profile[n].n_values, profile[n].distinct, *profile[n].lengths) for n in texts}
        limit = max(20, total // 2)  # infer_schema's default
        many = {n: s for n, s in stats.items() if many_values(int(s[0]), int(s[1]), limit)}
        if not many:
            return {}
        samples = self._distinct_samples({refs[n]: int(s[1]) for n, s in many.items()}, src)
        return text_columns(many, total, limit, lambda n: samples[refs[n]],
                            lambda n: self._median_words(refs[n], src), why)

    def _distinct_samples(self, columns: dict[str, int], src: str) -> dict[str, pd.Series]:
        """Per text column of ``src`` (its name there: its count of distinct values), at most
        :data:`~lookalike.schema._fakes.SAMPLE` of its distinct non-missing values: all of them
        when it has no more, else those of smallest hash, a sample fixed by the values
        themselves (equal runs read equal samples). One scan: each column keeps the values
        whose hash falls below a cut expected to pass twice the sample (about 2 × SAMPLE
        values at most come back, whatever the column's size).

        The one query that returns values rather than counts: schema inference reads them to
        choose a kind and format (what ``infer_schema`` does with every value in memory), and
        they are dropped then; no value reaches the model, the engine or its schema.
        """
        aggs = []
        for c, n_distinct in columns.items():
            cut = "" if n_distinct <= 2 * FAKE_SAMPLE else (
                f" AND hash({c}) < {2**64 * 2 * FAKE_SAMPLE // n_distinct}::UBIGINT")
            aggs.append(f"list(DISTINCT {{'h': hash({c}), 'v': {c}}}) FILTER (WHERE {c} IS NOT "
                        f"NULL{cut})")
        found = self._run(f"SELECT count(*), {', '.join(aggs)} FROM {src}")[0][1:]
        out = {}
        for c, kept in zip(columns, found, strict=True):
            first = sorted((d["h"], d["v"]) for d in kept or ())[:FAKE_SAMPLE]
            out[c] = pd.Series([v for _, v in first], dtype=object)
        return out

    def _median_words(self, column: str, src: str) -> float:
        """The median number of words of a text column of ``src`` (by name), as ``infer_schema``
        counts them (runs of whitespace plus one): one aggregate query."""
        words = f"len(regexp_extract_all({column}, {_text(_SPACES)})) + 1"
        return float(self._run(f"SELECT median({words}) FROM {src}")[0][0])

    def _key_columns(self, texts: dict[str, str], n_rows: int, why: dict[str, str]
                     ) -> dict[str, Column]:
        """The columns of integers beyond int64 (text SQL by name), kinded as ``infer_schema``
        kinds them: unique keys are identifiers; the others exact categories (few distinct
        values) or rounded floats, with the same warning (:func:`~lookalike.schema._infer.
        inexact_kind`, put in ``why``)."""
        aggs = ", ".join(f"count({t}), count(DISTINCT {t}), min(length({t})), max(length({t})), "
                         f"bool_and(regexp_full_match({t}, '[0-9]+')), bool_and(starts_with({t}, "
                         f"'-')), bool_and(starts_with({t}, '+'))" for t in texts.values())
        stats = self._run(f"SELECT count(*), {aggs} FROM {self._from}")[0][1:]
        out: dict[str, Column] = {}
        for i, name in enumerate(texts):
            n, distinct, short, long, digits, minus, plus = stats[7 * i: 7 * i + 7]
            if n == distinct and n >= MIN_ROWS and (short == long or _ID_NAME.search(name)):
                fmt = _key_format(short, long, digits, minus, plus)
                out[name] = Column(name, Kind.IDENTIFIER, format=fmt, sources={"kind": "data"} | (
                    {"format": "data"} if fmt else {}))
                continue
            t = texts[name]
            row, value = self._first_row(f"TRY_CAST({t} AS BIGINT) IS NULL AND {t} IS NOT NULL", t)
            kind, why[name] = inexact_kind(name, True, row, value, int(distinct), max(20, n_rows // 2))
            out[name] = Column(name, kind, sources={"kind": "data"})
        return out

    def _first_row(self, where: str, value: str) -> tuple[int, Any]:
        """The first row (1 = first data row, in file order) where ``where`` holds, and ``value``
        there: an aggregate, for an error message."""
        rows = f"(SELECT *, row_number() OVER () AS __lookalike_row FROM {self._from})"
        (row, shown, _), = self._run(
            f"SELECT min(__lookalike_row) FILTER (WHERE {where}), arg_min({value}, "
            f"__lookalike_row) FILTER (WHERE {where}), count(*) FROM {rows}")
        return row, shown

    def _check_int64(self) -> None:
        """Refuse, as ``Schema.conform`` does, an integer column holding values beyond int64."""
        cols = [c for c in self.schema if c.kind is Kind.INTEGER
                and (self._bases[c.name][1] == "float" or c.name in self._wide)]
        if not cols:
            return
        big = [f"abs({conformed_number(c, *self._bases[c.name])}) >= {INT64_LIMIT}" for c in cols]
        counts = self._run(f"SELECT count(*), {', '.join(f'count(*) FILTER (WHERE {b})' for b in big)} "
                           f"FROM {self._from}")[0][1:]
        for col, where, n in zip(cols, big, counts, strict=True):
            if n:
                row, value = self._first_row(where, as_read(*self._bases[col.name]))
                raise ColumnError(
                    f"column {col.name!r} is declared integer but holds values beyond the 64-bit "
                    f"range (e.g. row {row}: {value}); declare it 'float' to model it rounded, or "
                    "'identifier', 'categorical' or 'text' to keep it exactly")

    # ------------------------------------------------------------------ queries
    def _column(self, column: str) -> Column:
        if column not in self.schema:
            raise ColumnError(f"no column {column!r} in the table; columns: {self.schema.names}")
        return self.schema[column]

    def _counts(self, select: str, source: str = "", where: str = "", group: str = "",
                sql: bool = False) -> Any:
        """Every query that reads the data: counts (aggregates) per group, never rows."""
        query = f"SELECT {select}, count(*) AS n FROM {source or self._view} {where} {group}"
        return query if sql else self._run(query)

    def n_rows(self) -> int:
        """The exact number of rows (an aggregate, run once: a CSV's count is a pass over the
        file; private in DP fits)."""
        if getattr(self, "_counted", None) is None:
            self._counted = int(self._run(f"SELECT count(*) FROM {self._view}")[0][0])
        return self._counted

    def missing_counts(self) -> dict[str, int]:
        """Missing values of each column of the schema, as conformed (what ``inspect``
        shows): one aggregate query."""
        names = self.schema.names
        counts = ", ".join(f"count(*) - count({_ident(n)})" for n in names)
        got = self._run(f"SELECT {counts or 0} FROM {self._view}")[0]
        return {n: int(v) for n, v in zip(names, got, strict=True)}

    def value_counts(self, column: str) -> dict:
        """Count of each distinct non-missing value of a column (str keys for categorical)."""
        col, ref = self._column(column), _ident(column)
        rows = self._counts(f"{ref} AS v", where=f"WHERE {ref} IS NOT NULL", group="GROUP BY v")
        convert = _value_type(col)
        return {convert(v): int(n) for v, n in rows}

    def value_counts_many(self, columns: Iterable[str]) -> dict[str, dict]:
        """Value counts of many columns from one scan (``{column: counts}``, each as
        :meth:`value_counts` gives it): ``GROUP BY GROUPING SETS``, one set per column.

        Measured on Adult's 9 categorical columns at 10^6 rows: from CSV (parsed anew by
        each statement) 5 s against 16-22 s column by column; from Parquet 0.10-0.15 s
        against 0.16 s (one ``histogram(x)`` map per column in one statement: 0.16-0.21 s,
        and a hash aggregate, unlike a map, can spill to disk).
        """
        names = list(dict.fromkeys(columns))
        cols = [self._column(name) for name in names]
        if len(names) < 2:
            return {name: self.value_counts(name) for name in names}
        refs = ", ".join(_ident(name) for name in names)
        sets = ", ".join(f"({_ident(name)})" for name in names)
        rows = self._counts(f"{refs}, grouping_id({refs}) AS g",
                            group=f"GROUP BY GROUPING SETS ({sets})")
        k = len(names)
        # grouping_id sets the bit of each column not grouped, the first column's highest
        which = {((1 << k) - 1) ^ (1 << (k - 1 - i)): i for i in range(k)}
        out: list[dict] = [{} for _ in names]
        for row in rows:
            i = which[int(row[k])]
            if row[i] is not None:  # (the group of a column's missing values)
                out[i][_value_type(cols[i])(row[i])] = int(row[k + 1])
        return dict(zip(names, out, strict=True))

    def histogram(self, column: str, edges: Iterable[float]) -> np.ndarray:
        """Counts of a numeric/datetime column's non-missing values in ``len(edges) + 1`` cells.

        Cell 0 holds values below ``edges[0]``, cell ``i`` values in ``[edges[i-1], edges[i])``,
        the last values at or above ``edges[-1]``; datetimes in the column's unit since 1970.
        """
        return self.histograms({column: edges})[column]

    def histograms(self, requests: Mapping[str, Iterable[float]]) -> dict[str, np.ndarray]:
        """Histograms of many columns (``{column: edges}``) from one scan: ``{column:
        counts}``, each as :meth:`histogram` gives it (one ``histogram`` aggregate and one
        count per column, in one statement)."""
        asked = []
        for column, edges in requests.items():
            col, ref = self._column(column), _ident(column)
            e = np.asarray(list(edges), dtype=float)
            if not col.kind.numeric:
                raise ColumnError(f"column {column!r} is {col.kind.value}, not numeric: no histogram")
            if not np.all(np.isfinite(e)) or np.any(np.diff(e) < 0):
                raise ConfigError(f"histogram edges for {column!r} must be finite and sorted")
            # histogram(x, b) counts x under the smallest boundary b >= x, and v < e <=> v <= prev(e)
            uniq = np.unique(e)
            cells = dict(zip(np.nextafter(uniq, -np.inf).tolist(),
                             np.searchsorted(e, uniq, side="left").tolist(), strict=True))
            asked.append((column, e, cells, f"histogram({self._number(ref, col)}, ?::DOUBLE[]), "
                                            f"count({ref})"))
        if not asked:
            return {}
        found = self._run(f"SELECT {', '.join(a[3] for a in asked)} FROM {self._view}",
                          [list(cells) or [0.0] for _, _, cells, _ in asked])[0]
        out = {}
        for (column, e, cells, _), hist, total in zip(asked, found[::2], found[1::2], strict=True):
            counts = np.zeros(len(e) + 1, dtype=np.int64)
            for bound, n in (hist or {}).items() if len(e) else ():
                counts[cells.get(bound, len(e))] += int(n)
            counts[-1] += int(total) - int(counts.sum())  # values beyond the last boundary
            out[column] = counts
        return out

    def bind(self, encoder: TableEncoder) -> None:
        """Compile the encoder's codes to SQL, for :meth:`marginal` and :meth:`marginals`."""
        codes = {}
        for j, codec in enumerate(encoder.codecs):
            self._column(codec.column.name)
            col = codec.column  # its unit and kind, as ColumnCodec.encode uses them
            x = self._number(_ident(col.name), col) if codec.bins is not None else _ident(col.name)
            codes[col.name] = (x, code_sql(codec, col, f"x{j}"), codec.size)
        self._bound = codes

    def marginal(self, attrs: tuple[str, ...]) -> np.ndarray:
        """Counts of the bound encoder's codes of ``attrs``: an int64 array, one axis per attr."""
        return self.marginals([tuple(attrs)])[tuple(attrs)]

    def marginals(self, attr_sets: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], np.ndarray]:
        """Many marginals from one scan: ``{attrs: counts}``, each as :meth:`marginal` gives it.

        The joint counts of all the codes involved go to a temporary DuckDB table (far fewer
        groups than rows, as a rule), and each marginal is summed from it.
        """
        if self._bound is None:
            raise RuntimeError("bind an encoder before asking for marginals")
        names = list(self._bound)
        wanted, sets = marginal_request(attr_sets, names)
        used = [a for a in names if any(a in s for s in sets)]
        c = {a: f"c{names.index(a)}" for a in used}
        numbers = ", ".join(f"{self._bound[a][0]} AS x{c[a][1:]}" for a in used) or "1 AS one"
        codes = ", ".join(f"{self._bound[a][1]} AS {c[a]}" for a in used) or "1 AS one"
        source, total = f"(SELECT {codes} FROM (SELECT {numbers} FROM {self._view}))", "count(*)"
        joint = self._view[:-1] + '_joint"'
        if len(sets) > 1:  # one scan of the data into joint counts, then a sum per marginal
            cols = ", ".join(c.values()) or "1 AS one"
            self._run(f"CREATE OR REPLACE TEMP TABLE {joint} AS "
                      f"{self._counts(cols, source, group='GROUP BY ALL', sql=True)}")
            source, total = joint, "sum(n)"
        tables = {}
        try:
            for s in sets:
                members = [a for a in used if a in s]
                group = f", {total} FROM {source} GROUP BY ALL" if members else f" FROM {source}"
                rows = self._run(f"SELECT {', '.join([c[a] for a in members] or [total])}{group}")
                counts = np.array(rows, dtype=np.int64).reshape(-1, len(members) + 1)
                codes_seen, n = counts[:, :-1], counts[:, -1]
                if (codes_seen < 0).any():
                    bad = members[int(np.flatnonzero((codes_seen < 0).any(0))[0])]
                    raise ValueError(f"column {bad!r} has missing values but no missing state")
                tables[s] = np.zeros([self._bound[a][2] for a in members], dtype=np.int64)
                tables[s][tuple(codes_seen.T)] = n if members else n.sum()
        finally:
            if len(sets) > 1:
                self._run(f"DROP TABLE IF EXISTS {joint}")
        out = {}
        for attrs in wanted:
            order = [a for a in used if a in attrs]
            out[attrs] = tables[frozenset(attrs)].transpose([order.index(a) for a in attrs])
        return out

    def conform_notes(self) -> list[str]:
        """What conforming the rows to the schema did: ``Schema.conform``'s notes, same words.

        Values outside declared bounds (clipped), non-integers in an integer column (rounded),
        values outside declared categories (set to missing): counted by one aggregate query,
        with up to five examples of the unknown categories, as the in-memory conform reports.
        """
        checks = [note for c in self.schema for note in note_checks(c, *self._bases[c.name])]
        if not checks:
            return []
        aggs = ", ".join(f"{n.count}, {n.examples or 'NULL'}" for n in checks)
        found = self._run(f"SELECT count(*), {aggs} FROM {self._from}")[0][1:]
        return [note.text(n, examples) for note, n, examples
                in zip(checks, found[::2], found[1::2], strict=True) if n]

    def _number(self, ref: str, col: Column) -> str:
        """SQL of a conformed column as the encoder's numbers (datetimes in ``col``'s unit)."""
        if col.kind is not Kind.DATETIME:
            return number_sql(ref, col)
        return number_sql(ref, col, self._stamp_scales()[col.name])

    def _stamp_scales(self) -> dict[str, StampScale]:
        """How conform holds each datetime column (ns, or us past 2262; rounded if clipped).

        One aggregate query, on first use: each column's smallest and largest value in
        microseconds, before and after clipping, and how many values were clipped.
        """
        if self._scales is None:
            cols = [c for c in self.schema if c.kind is Kind.DATETIME]
            aggs = []
            for c in cols:
                pre, post = stamp_base(c, *self._bases[c.name]), conformed_stamp(c, *self._bases[c.name])
                aggs += [f"min(epoch_us({pre})), max(epoch_us({pre}))",
                         f"min(epoch_us({post})), max(epoch_us({post}))",
                         f"count(*) FILTER (WHERE {pre} <> {post})" if declared_bounds(c) else "0"]
            found = self._run(f"SELECT count(*), {', '.join(aggs)} FROM {self._from}")[0][1:] \
                if cols else ()
            self._scales = {}
            for i, c in enumerate(cols):
                lo, hi, clipped_lo, clipped_hi, n_clipped = found[5 * i: 5 * i + 5]
                self._scales[c.name] = StampScale.of(c, (lo, hi), n_clipped > 0,
                                                     (clipped_lo, clipped_hi))
        return self._scales

    def fingerprint(self) -> Any:
        """The content fingerprint of the columns the engine reads, as stored (aggregates only).

        Equals :func:`~lookalike.privacy.fingerprint.fingerprint_frame` of ``read_table`` of the
        same file less the dropped columns (or those the given schema leaves out): the privacy
        ledger recognises the data whichever engine reads it, and no other column is read.
        """
        from lookalike.privacy.fingerprint import fingerprint_duckdb

        source = self._from
        floats = [n for n in self.schema.names if self._bases[n][1] == "float"]
        if self._csv and self._decimal == "," and floats:  # 96,87 is the number read_table reads
            swap = ", ".join(f"replace({_ident(n)}, ',', '.') AS {_ident(n)}" for n in floats)
            source = f"(SELECT * REPLACE ({swap}) FROM {self._from})"
        return fingerprint_duckdb(self._con, source, self.schema.names, label=self.label)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Drop the view, and close the connection if the engine opened it."""
        if self._con is not None:
            self._con.execute(f"DROP VIEW IF EXISTS {self._view}")
            for name in self._functions:
                self._con.remove_function(name)
            if self._owned:
                self._con.close()
            self._con = None

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _value_type(col: Column) -> Any:
    """The Python type :meth:`DuckDBEngine.value_counts` gives a value of ``col``."""
    return {Kind.INTEGER: int, Kind.FLOAT: float, Kind.DATETIME: pd.Timestamp,
            Kind.BOOLEAN: bool}.get(col.kind, lambda v: v)


def _open(source, table, query, connection) -> tuple[Any, bool, str, bool]:
    """(connection, whether we own it, FROM clause, whether the source is CSV text)."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        source, connection = None, source
    if source is None:
        if (table is None) == (query is None):
            raise ConfigError("a DuckDB connection needs exactly one of table='name' or "
                              "query='SELECT ...'")
        owned = connection is None
        con = duckdb.connect() if owned else connection
        if table is not None:
            return con, owned, ".".join(_ident(p) for p in table.split(".")), False
        return con, owned, f"({query}) AS src", False
    if isinstance(source, pd.DataFrame):  # in memory: DuckDB scans it where it is
        if connection is not None or table is not None or query is not None:
            raise ConfigError("a DataFrame source takes no connection=, table= or query=")
        con = duckdb.connect()
        con.register("__lookalike_frame", source)
        return con, True, "__lookalike_frame", False
    if not isinstance(source, str | os.PathLike):
        raise UnknownFormatError(f"DuckDBEngine reads a file path or a DuckDB connection, not a "
                                 f"{type(source).__name__}; use NumpyEngine for in-memory tables")
    path = Path(source).expanduser()
    name = path.name.lower()
    if not any(ch in str(path) for ch in "*?[") and not path.is_file():
        raise SourceNotFoundError(f"input file {path} does not exist")
    if name.endswith(_DATABASE):
        if connection is not None:
            raise ConfigError(f"open {path} yourself and pass that connection, not both")
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as e:
            raise DataError(f"{path} could not be opened as a DuckDB database ({e})") from e
        return (con, True, *_open(con, table, query, None)[2:])
    if table is not None or query is not None:
        raise ConfigError(f"table= and query= apply to databases, not to {path}")
    owned = connection is None
    con = duckdb.connect() if owned else connection
    if name.endswith(_CSV):
        return con, owned, _text(str(path)), True  # typed in DuckDBEngine._csv_bases
    if name.endswith(_PARQUET):
        return con, owned, f"read_parquet({_text(str(path))})", False
    raise UnknownFormatError(f"cannot tell the format of {path}: DuckDBEngine reads "
                             f"{', '.join(_CSV + _PARQUET + _DATABASE)}")


def _class_of(typ: str) -> str:
    """int, float, date, stamp, bool, text or other, from a DuckDB type name."""
    return next((cls for cls, pattern in _CLASSES if re.fullmatch(pattern, typ.upper())), "other")


def _key_format(short: int, long: int, digits: bool, minus: bool, plus: bool) -> str | None:
    """The identifier format ``infer_schema`` gives integer keys of these lengths and signs."""
    if short == long and long <= 64:  # one width: a class per position, signs escaped
        sign = "" if digits else "\\-" if minus else "\\+" if plus else None
        if sign is None:
            return None  # signed and unsigned mixed: no fixed-width pattern
        width = long if digits else long - 1
        return sign + ("[0-9]" if width == 1 else f"[0-9]{{{width}}}")
    if long > 1 and digits:
        return f"[1-9][0-9]{{{long - 1}}}"
    return f"[A-Za-z0-9]{{{long}}}"
