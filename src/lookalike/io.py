"""Read any supported table source into one canonical pandas DataFrame, and write tables safely.

Every source (CSV, Parquet, DuckDB, SQL databases, pandas, polars, Arrow) goes through
:func:`_canonicalize`, so downstream code sees the same dtypes whatever the input:

* integers -> ``Int64`` (nullable); floats -> ``float64`` (missing = NaN); durations
  (``timedelta64``, Arrow ``duration``) -> ``float64`` seconds, stored back as durations;
  booleans -> ``boolean``; dates and timestamps -> ``datetime64[ns]`` (time-zone-aware values are
  converted to UTC and made naive), or ``datetime64[us]`` when a value lies outside
  1677-09-22 .. 2262-04-11 (a sentinel such as 9999-12-31 is kept as it is);
  decimals -> ``float64`` when every value is exact as a float;
* numbers that no numeric dtype holds exactly (integers beyond the 64-bit range, decimals with
  more digits than a float keeps) -> ``object`` text, exactly as written: never rounded
  (:func:`lookalike.schema.infer_schema` then models unique fixed-width ones as identifiers and
  names the column otherwise);
* everything else -> ``object`` holding Python ``str``, missing as ``None``.

Missing values must be empty/null; NaN and infinity in a numeric column of a file or database
raise :class:`~lookalike.errors.NonFiniteError`. For pandas and polars input NaN *is* the missing
value marker, but infinity still raises.

What the canonical form loses (integer widths, categorical dtypes, time zones, Arrow dates) is
recorded in ``df.attrs`` (:mod:`lookalike._storage`), so that a model fitted on the frame
samples rows stored as the input was; :func:`write_table` writes them back with their types.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import gzip
import io
import json
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lookalike._files import atomic_output
from lookalike._storage import (
    ATTR,
    CSV_ATTR,
    FIXED_ATTR,
    MAX_DECIMALS,
    NUMBERS_ATTR,
    TEXT_DATES_ATTR,
    _fixed_attr,
    arrow_types,
    fixed_of,
    numbers_attr,
    pandas_types,
    record,
)
from lookalike.errors import (
    ConfigError,
    DataError,
    DuplicateColumnError,
    EmptyDataError,
    EncodingError,
    LookalikeError,
    NonFiniteError,
    SourceNotFoundError,
    SourceReadError,
    UnknownFormatError,
)
from lookalike.schema._datetimes import _PER_SECOND
from lookalike.schema._infer import ZERO_PADDED

__all__ = ["CSV_ATTR", "DECIMAL_COMMA", "SUPPORTED_INPUTS", "SUPPORTED_OUTPUTS", "CsvFile",
           "TableWriter", "arrow_output", "check_decimal", "decimal_comma_warning", "read_table", "table_writer",
           "write_table"]

SUPPORTED_INPUTS = (
    "CSV (.csv .tsv .txt, optionally .gz)", "Parquet (.parquet .pq)",
    "DuckDB (.duckdb .ddb)", "SQLite (.sqlite .sqlite3 .db)", "SQLAlchemy URL",
    "pandas DataFrame", "polars DataFrame/LazyFrame", "pyarrow Table/RecordBatch",
)
SUPPORTED_OUTPUTS = ("csv", "csv.gz", "tsv", "tsv.gz", "parquet")

NA_TOKENS = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "#N/A")
_CSV_EXT = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
_PARQUET_EXT = (".parquet", ".pq")
_DB_EXT = (".duckdb", ".ddb", ".sqlite", ".sqlite3", ".db")
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024
_DATE_SECONDS = (-62135596800, 253402300799)  # 0001-01-01 .. 9999-12-31T23:59:59, from 1970
_COMMON_ENCODINGS = ("cp1252", "latin_1", "iso8859_15", "cp1251", "cp1250", "iso8859_2",
                     "cp932", "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr", "cp949")


# ----------------------------------------------------------------------------- reading


class CsvFile(os.PathLike):
    """A CSV file's path with how to read it (``delimiter``, ``decimal``): what a fit that
    leaves the rows in DuckDB (``engine="duckdb"``) is handed, so that DuckDB reads the file
    as :func:`read_table` would with those options. Usable wherever a path is.

    >>> f = CsvFile("prices.csv", decimal=",")
    >>> (os.fspath(f), f.decimal, f.delimiter)
    ('prices.csv', ',', None)
    """

    def __init__(self, path: str | os.PathLike, *, delimiter: str | None = None,
                 decimal: str | None = None) -> None:
        self.path = os.fspath(path)
        self.delimiter = None if delimiter is None else _check_delimiter(delimiter)
        self.decimal = check_decimal(decimal)

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"CsvFile({self.path!r}, delimiter={self.delimiter!r}, decimal={self.decimal!r})"


def read_table(
    source: Any = None,
    *,
    table: str | None = None,
    query: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Read a file, database table/query or in-memory frame into a canonical DataFrame.

    ``source`` is a path (CSV, Parquet, DuckDB or SQLite file), an SQLAlchemy URL such as
    ``"sqlite:///my.db"``, a DuckDB connection, or a pandas/polars/pyarrow table; databases need
    ``table=`` or ``query=``. With ``source=None``, ``query`` runs in an in-memory DuckDB, e.g.
    ``"SELECT * FROM 'data.parquet'"``. CSV options: ``encoding`` (None = BOM or strict UTF-8,
    ``"detect"`` = accept a guessed encoding with a warning), ``delimiter`` (None = sniff
    among ``, ; tab |``) and ``decimal`` (``"."``, the default, or ``","``: ``96,87`` is the
    number 96.87 and a value written ``96.87`` is text; a column whose values all read as
    numbers with a decimal comma, read without it, stays text with a warning naming it).
    CSV fields are read as text, whitespace-stripped, and typed per column as Int64, float64
    or text; dates stay text here. A CSV read with a decimal comma records it (and its
    delimiter) in ``df.attrs``: :func:`write_table` and a model fitted on the frame write
    their CSV output the same way. See the module docstring for dtypes; the
    input's own dtypes are recorded in ``df.attrs`` for the synthesizers' output.

    >>> read_table(pd.DataFrame({"n": [1, 2], "s": ["a", None]})).dtypes.astype(str).tolist()
    ['Int64', 'object']
    >>> read_table(query="SELECT 1.5 AS x, 'b' AS y").dtypes.astype(str).tolist()
    ['float64', 'object']
    """
    if source is None:
        if query is None:
            raise ConfigError("read_table needs a source, or query= with DuckDB SQL to run")
        import duckdb

        with duckdb.connect() as con:
            return _read_duckdb(con, None, query, "in-memory DuckDB")
    if isinstance(source, pd.DataFrame):
        return record(_canonicalize(source, "the DataFrame", nan_is_missing=True),
                      pandas_types(source))
    if isinstance(source, pa.RecordBatch):
        source = pa.Table.from_batches([source])
    if isinstance(source, pa.Table):
        return _typed(source, "the Arrow table", nan_is_missing=False)
    module = type(source).__module__
    kind = type(source).__name__
    if module.startswith("polars") and kind in ("DataFrame", "LazyFrame"):
        frame = source.collect() if kind == "LazyFrame" else source
        enums = frozenset(n for n, t in frame.schema.items() if type(t).__name__ == "Enum")
        return _typed(frame.to_arrow(), "the polars frame", nan_is_missing=True, enums=enums)
    if "duckdb" in module and kind == "DuckDBPyRelation":
        return _typed(_duck_arrow(source), "the DuckDB relation", nan_is_missing=False)
    if "duckdb" in module:
        return _read_duckdb(source, table, query, "the DuckDB connection")
    if isinstance(source, str) and "://" in source:
        return _read_sql(source, table, query)
    if not isinstance(source, str | os.PathLike):
        raise UnknownFormatError(
            f"cannot read a {type(source).__name__}; supported sources: "
            + ", ".join(SUPPORTED_INPUTS))
    decimal = check_decimal(decimal)
    return _read_path(Path(source).expanduser(), table, query, encoding, delimiter, decimal)


def _read_path(path: Path, table, query, encoding, delimiter, decimal: str) -> pd.DataFrame:
    _check_readable(path)
    try:
        return _read_file(path, table, query, encoding, delimiter, decimal)
    except OSError as e:
        if isinstance(e, LookalikeError):
            raise
        raise SourceReadError(f"cannot read {path}: {e.strerror or e}; check that the file is "
                              "readable by this user (permissions) and on a mounted disk") from e


def _check_readable(path: Path) -> None:
    """Refuse, by name, a path that is missing, a folder, or not a regular file."""
    try:
        path.stat()
    except FileNotFoundError:
        hint = f" (folder {path.parent} does not exist either)"
        if path.parent.is_dir():
            close = difflib.get_close_matches(path.name, os.listdir(path.parent), n=1)
            hint = f"; did you mean {path.parent / close[0]}?" if close else ""
        elif _first_file_above(path) is not None:
            hint = f" ({_first_file_above(path)} is a file, not a folder)"
        raise SourceNotFoundError(f"input file {path} does not exist{hint}") from None
    except NotADirectoryError:
        raise SourceNotFoundError(f"input file {path} does not exist ({_first_file_above(path)} "
                                  "is a file, not a folder)") from None
    except OSError as e:
        raise SourceReadError(f"cannot open {path}: {e.strerror or e}; check the path and its "
                              "folders' permissions") from e
    if path.is_dir():
        raise UnknownFormatError(f"{path} is a folder; give the path of a file inside it")
    if not path.is_file():
        raise SourceReadError(f"{path} is not a regular file (a pipe, socket or device); save "
                              "the table to a file and read that")


def _first_file_above(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` that is a regular file, if any."""
    for parent in path.parents:
        if parent.is_file():
            return parent
    return None


def _read_file(path: Path, table, query, encoding, delimiter, decimal: str) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(_DB_EXT):
        with open(path, "rb") as f:
            if f.read(16) == b"SQLite format 3\x00":
                return _read_sql(f"sqlite:///{path}", table, query)
        return _read_duckdb_file(path, table, query)
    if table is not None or query is not None:
        raise ConfigError(
            f"table= and query= apply to databases, not to {path}; to run SQL on a file use "
            f"read_table(query=\"SELECT ... FROM '{path}'\")")
    if name.endswith(_CSV_EXT):
        return _read_csv(path, encoding, delimiter, decimal)
    if name.endswith(_PARQUET_EXT):
        import pyarrow.parquet as pq

        try:
            tbl = pq.read_table(path)
        except (pa.ArrowException, OSError) as e:
            raise DataError(f"{path} could not be read as Parquet ({e}); is it a complete "
                            "Parquet file?") from e
        keep = [c for c in tbl.column_names if not c.startswith("__index_level_")]
        return _typed(tbl.select(keep), str(path), nan_is_missing=False)
    raise UnknownFormatError(
        f"cannot tell the format of {path} from its extension; supported inputs: "
        + ", ".join(SUPPORTED_INPUTS) + " (rename the file, or save it as CSV or Parquet)")


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, decimal: str = "."
              ) -> pd.DataFrame:
    import pyarrow.csv as pcsv

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path} is not a valid gzip file ({e}); is it truncated?") from e
    if encoding in (None, "detect"):
        _check_text(data, path)
    text = _decode(data, path, encoding).removeprefix("\ufeff")
    if not text.strip():
        raise EmptyDataError(f"{path} is empty; it needs a header line and data rows")
    delim = _sniff(text[:_SNIFF_CHARS]) if delimiter is None else _check_delimiter(delimiter)
    n = len(next(csv.reader(_lines(text.lstrip("\r\n")[: 1 << 20]), delimiter=delim)))
    names = [f"c{i}" for i in range(n)]
    try:
        tbl = pcsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                            ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as e:
        raise DataError(f"{path}: {_bad_record(text, delim, n) or e}") from e
    if text.count('"') % 2 and (problem := _bad_record(text, delim, n)):
        raise DataError(f"{path}: {problem}")
    header = [str(tbl.column(i)[0]).strip() or f"Unnamed: {i}" for i in range(n)]
    _check_duplicates(header, str(path))
    if tbl.num_rows < 2:
        raise EmptyDataError(f"{path} has a header ({n} columns) but no data rows")
    tbl = tbl.slice(1)
    typed, placeholders, fixed, formats = [], {}, {}, {}
    for name, col in zip(header, tbl.columns, strict=True):
        arr = _type_text(col, decimal)
        if _is_text(arr) and (found := _numbers_with_placeholders(col, decimal)) is not None:
            arr, placeholders[name] = found
        written, sep = col, decimal
        if _is_text(arr) and (number := formatted_numbers(arr, decimal)) is not None:
            written, sep = pa.chunked_array([number[0]]), "."
            arr, formats[name] = _type_text(written, "."), number[1]
        if pa.types.is_floating(arr.type) and (k := _fixed_decimals(written, arr, sep)):
            fixed[name] = k
        typed.append(arr)
    if placeholders:
        warnings.warn(placeholder_warning(str(path), placeholders), stacklevel=5)
    if decimal == ".":
        _warn_decimal_comma(header, typed, path)
    else:
        _warn_decimal_point(header, typed, path)
    df = _canonicalize(pa.table(typed, names=header), str(path), nan_is_missing=False)
    if decimal != ".":  # outputs look like inputs: write_table keeps the decimal comma
        df.attrs[CSV_ATTR] = json.dumps({"delimiter": delim, "decimal": decimal})
    if fixed:  # and the fixed decimals of money and measures (12.50)
        df.attrs[FIXED_ATTR] = json.dumps(fixed)
    if formats:  # and the signs and separators of formatted numbers ($1,234.50)
        df.attrs[NUMBERS_ATTR] = json.dumps(formats)
    return df


CURRENCY = "$€£¥"


def number_regex(decimal: str, named: bool = False) -> str:
    """A number written with a currency sign, a percent sign or thousands separators, in
    groups (1) sign, (2) prefix, (3) sign, (4) whole part, (5) fraction, (6) suffix:
    ``$1,234.50``, ``-$5``, ``12.5%``, ``1.234,50 €`` (with ``decimal=","``); ``named``: the
    groups named s1, pre, s2, num, frac and suf (as Arrow's ``extract_regex`` needs them)."""
    group, dec = re.escape("," if decimal == "." else "."), re.escape(decimal)

    def part(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"({body})"

    return ("^" + part("s1", "-?") + part("pre", f"[{CURRENCY}]?") + part("s2", "-?")
            + part("num", f"[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+")
            + part("frac", f"(?:{dec}[0-9]+)?") + part("suf", f"(?: ?[%{CURRENCY}])?") + "$")


NUMBER_SHARE = 0.01
"""Share of a column's values that must show thousands separators (or a sign after the
currency sign, $-5) for CSV outputs to write them so: how a file writes numbers, decided by a
share, so that no single row sets it (``_storage.fixed_of``'s rule)."""


def number_format(n: int, prefixes: list[str], suffixes: list[str], grouped: int, doubled: int,
                  fractions: int, before: int, after: int) -> dict[str, Any] | None:
    """How a column of ``n`` values that all read as formatted numbers (``number_regex``) was
    written, or None where it does not read as numbers: its one prefix and one suffix, whether
    ``grouped`` values (those with a separator; ``doubled``: two or more) are many enough to
    write separators, and the sign's place (``before``/``after`` the currency sign: values
    written -$5 and $-5). Separators alone count only where they cannot be a decimal comma: a
    fraction after the decimal point, or two of them (1,234.5; 1,234,567), not 1,234. Shared
    by read_table and the DuckDB engine."""
    if len(prefixes) != 1 or len(suffixes) != 1 or (before and after):
        return None
    prefix, suffix = prefixes[0], suffixes[0]
    if not (prefix or suffix) and not (grouped and (fractions or doubled)):
        return None
    return {"prefix": prefix, "suffix": suffix, "group": grouped >= NUMBER_SHARE * n,
            "sign": "after" if after >= NUMBER_SHARE * n else "before"}


def formatted_numbers(arr: pa.Array, decimal: str) -> tuple[pa.Array, dict[str, Any]] | None:
    """A text column of numbers written with one currency or percent sign, or with thousands
    separators (``number_regex``), as plain number text ("-1234.50"), and how it was written
    (``{"prefix", "suffix", "group", "sign"}``: what CSV outputs write back); None for any
    other column. Separators alone count only where they cannot be a decimal comma: a
    fraction after the decimal point, or two of them (1,234.5; 1,234,567), not 1,234."""
    present = arr.drop_null()
    rx = number_regex(decimal)
    if not len(present) or not pc.all(pc.match_substring_regex(present.slice(0, 1000), rx)).as_py() \
            or not pc.all(pc.match_substring_regex(present, rx)).as_py():
        return None  # (a first thousand values probed: most text columns stop there)
    named = number_regex(decimal, named=True)
    parts = pc.extract_regex(present, named)
    s1, pre, s2, num, frac, suf = (parts.field(k) for k in ("s1", "pre", "s2", "num", "frac", "suf"))
    group = "," if decimal == "." else "."
    marks = pc.subtract(pc.utf8_length(num), pc.utf8_length(pc.replace_substring(num, group, "")))

    def count(mask: pa.Array) -> int:
        return int(pc.sum(mask).as_py() or 0)

    fmt = number_format(len(present), sorted(set(pre.to_pylist())), sorted(set(suf.to_pylist())),
                        count(pc.greater(marks, 0)), count(pc.greater(marks, 1)),
                        count(pc.not_equal(frac, "")), count(pc.equal(s1, "-")),
                        count(pc.equal(s2, "-")))
    if fmt is None:
        return None
    full = pc.extract_regex(arr, named)  # (null where the value is)
    text = pc.binary_join_element_wise(
        full.field("s1"), full.field("s2"), pc.replace_substring(full.field("num"), group, ""),
        pc.replace_substring(full.field("frac"), decimal, "."), "")
    return pc.if_else(arr.is_valid(), text, pa.scalar(None, pa.string())), fmt


def _fixed_decimals(col: pa.ChunkedArray, typed: pa.Array, decimal: str) -> int | None:
    """The decimals the text ``col`` (read as the floats ``typed``) writes every value with,
    trailing zeros included (``_storage.fixed_of``), or None."""
    text = pc.filter(pc.utf8_trim_whitespace(col.combine_chunks()), typed.is_valid())
    # the digits after the decimal mark, where a value ends in them (1.50: "50"; 2, 1e-05: none)
    digits = pc.extract_regex(text, f"{re.escape(decimal)}(?P<f>[0-9]+)$").field("f")
    found = digits.drop_null()
    length = np.asarray(pc.utf8_length(found), dtype=np.int64)
    zero = np.asarray(pc.ends_with(found, "0"), dtype=bool)
    exact = np.bincount(length, minlength=MAX_DECIMALS + 1)[1:MAX_DECIMALS + 1]
    zeros = np.bincount(length[zero], minlength=MAX_DECIMALS + 1)[1:MAX_DECIMALS + 1]
    return fixed_of(len(text), exact.tolist(), zeros.tolist())


PLACEHOLDER = r"[?.*-]{1,3}|[–—]"
"""A value that stands for a missing number in a column of numbers: ``?`` (UCI files), ``.``
(SAS and Stata exports), ``-`` or ``--`` (spreadsheets), ``*``. Among numbers such a value is
read as missing, with a warning (:func:`placeholder_warning`); in a column of text it is a value
like any other."""


def _is_text(arr: pa.Array) -> bool:
    return pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)


def _numbers_with_placeholders(col: pa.ChunkedArray, decimal: str
                               ) -> tuple[pa.Array, tuple[int, list[str]]] | None:
    """``col`` typed as numbers with its placeholders (``PLACEHOLDER``) missing, and (how many
    values were placeholders, which ones), where every other value is a number; else None."""
    arr = pc.utf8_trim_whitespace(col.combine_chunks())
    marked = pc.match_substring_regex(arr, f"^({PLACEHOLDER})$")
    count = pc.sum(marked).as_py() or 0
    if not count or count == len(arr) - arr.null_count:
        return None
    typed = _type_text(pa.chunked_array([pc.if_else(marked, pa.scalar(None, arr.type), arr)]),
                       decimal)
    if not (pa.types.is_integer(typed.type) or pa.types.is_floating(typed.type)):
        return None
    tokens = sorted(set(pc.filter(arr, marked).to_pylist()))
    return typed, (int(count), tokens)


def placeholder_warning(where: str, found: Mapping[str, tuple[int, list[str]]]) -> str:
    """The warning for columns of numbers whose placeholders (``?``, ``.``, ``-``) were read as
    missing values (both readers)."""
    parts = [f"{name!r} ({count} of {', '.join(repr(t) for t in tokens)})"
             for name, (count, tokens) in found.items()]
    return (f"{where}: placeholders among numbers read as missing values in column"
            f"{'s' if len(parts) > 1 else ''} {', '.join(parts)}")


#: a number written with a decimal comma (96,87; -0,5; ,5; 12), what ``decimal=","`` reads
DECIMAL_COMMA = r"^[+-]?([0-9]+(,[0-9]*)?|,[0-9]+)([eE][+-]?[0-9]+)?$"


def check_decimal(decimal: str | None) -> str:
    """The decimal separator asked for: "." (None) or ","."""
    if decimal is None or decimal == ".":
        return "."
    if decimal == ",":
        return ","
    raise ConfigError(f"decimal={decimal!r} must be '.' or ',' (the character between a number's "
                      "whole part and its fraction: ',' reads 96,87 as 96.87; CLI: --decimal)")


def _warn_decimal_comma(header: list[str], typed: list[pa.Array], path: Path) -> None:
    """Warn of text columns that read as numbers with a decimal comma: without ``decimal=","``
    they are modelled as categories (every distinct value a category of its own)."""
    found, grouped = [], []
    for name, arr in zip(header, typed, strict=True):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            continue
        present = arr.drop_null()
        if len(present) and pc.all(pc.match_substring_regex(present, DECIMAL_COMMA)).as_py() \
                and pc.any(pc.match_substring(present, ",")).as_py():  # not integers kept as text
            found.append(name)
            if pc.all(pc.match_substring_regex(present, number_regex("."))).as_py():
                grouped.append(name)
    if found:
        warnings.warn(decimal_comma_warning(str(path), found, grouped), stacklevel=5)


def _warn_decimal_point(header: list[str], typed: list[pa.Array], path: Path) -> None:
    """Warn of text columns of numbers written with a decimal point when ``decimal=","`` was
    given: 1.5 is then not a number (1.234 may mean 1234), and the column stays text."""
    found = []
    for name, arr in zip(header, typed, strict=True):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            continue
        present = arr.drop_null()
        if len(present) and pc.all(pc.match_substring_regex(
                present, r"^[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")).as_py():
            found.append(repr(name))
    if found:
        warnings.warn(f"{path}: column{'s' if len(found) > 1 else ''} {', '.join(found[:5])} "
                      f"hold{'' if len(found) > 1 else 's'} numbers written with a decimal point "
                      "(1.5), read as text since decimal=',' was given (CLI: --decimal ,); write "
                      "them with a comma, or read the file with the default decimal point",
                      stacklevel=5)


def decimal_comma_warning(where: str, names: list[str], grouped: Iterable[str] = ()) -> str:
    """The warning for text columns of numbers written with a decimal comma (both readers);
    those of ``grouped`` (every comma followed by three digits: 22,026) may as well hold
    thousands separators, and the warning says so."""
    shown = ", ".join(repr(n) for n in names[:5]) + (
        f" and {len(names) - 5} more" if len(names) > 5 else "")
    text = (f"{where}: column{'s' if len(names) > 1 else ''} {shown} "
            f"look{'' if len(names) > 1 else 's'} like numbers written with a decimal comma "
            "(96,87), read here as text (categories); pass decimal=',' (CLI: --decimal ,) to "
            "read them as numbers")
    either = [n for n in names if n in set(grouped)]
    if either:
        text += (f"; in {', '.join(repr(n) for n in either[:5])} every comma is followed by "
                 "three digits (22,026): if they separate thousands, do not pass it, remove them "
                 "instead (separators are read as such only where they cannot be a decimal "
                 "comma: 1,234.5, 1,234,567, $1,234)")
    return text


_MAGIC = ((b"PAR1", "a Parquet file: name it .parquet"),
          (b"PK\x03\x04", "a zip archive or an Excel workbook: export the sheet as CSV"),
          (b"SQLite format 3\x00", "an SQLite database: name it .sqlite"),
          (b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF document"))


def _check_text(data: bytes, path: Path) -> None:
    """Refuse a binary file given as CSV (NUL bytes without a UTF-16 byte order mark)."""
    head = data[:_SNIFF_CHARS]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" not in head:
        return
    what = next((w for magic, w in _MAGIC if head.startswith(magic)), None)
    raise DataError(f"{path} is a binary file, not CSV text ({what or 'it holds NUL bytes'}); "
                    "give a CSV, Parquet or database file, or pass encoding='utf-16' if it is "
                    "UTF-16 text without a byte order mark")


def _type_text(col: pa.ChunkedArray, decimal: str = ".") -> pa.Array:
    """Strip a text column, mark NA tokens null, and cast to int64 or float64 if all values fit.

    Integers beyond the 64-bit range stay text, exactly as written: a float would round them;
    so does a column with a whole number written with a leading zero (``ZERO_PADDED``: codes).
    With ``decimal=","`` a float is written 96,87; a value with a "." (96.87, 1.234,5) is
    then not a number, and its column stays text (as DuckDB's reader has it, ``marginals``).
    """
    arr = pc.utf8_trim_whitespace(col.combine_chunks())
    arr = pc.if_else(pc.is_in(arr, value_set=pa.array(NA_TOKENS)), pa.scalar(None, arr.type), arr)
    present = arr.drop_null()
    # Arrow's integer cast accepts hex ("0x1F"); no decimal number contains an "x".
    if len(present) == 0 or pc.any(pc.match_substring(present, "x", ignore_case=True)).as_py():
        return arr
    signed = arr
    if pc.any(pc.starts_with(present, "+")).as_py():
        signed = pc.replace_substring_regex(arr, r"^\+", "")  # Arrow's int cast rejects "+5"
    led = pc.filter(present, pc.starts_with(present, "0"))  # (a cheap filter before the regex)
    if len(led) and pc.any(pc.match_substring_regex(led, f"^{ZERO_PADDED}$")).as_py():
        return arr  # codes with leading zeros (02134): their spelling is kept, as text
    head = signed.drop_null().slice(0, 1000)  # failed casts are slow: probe a few values first
    try:
        pc.cast(head, pa.int64())
        return pc.cast(signed, pa.int64())
    except pa.ArrowInvalid:
        if pc.all(pc.match_substring_regex(signed.drop_null(), r"^-?[0-9]+$")).as_py():
            return arr  # integers, some beyond int64: kept exactly as text
    if (stamps := _iso_stamps(arr, present)) is not None:
        return stamps
    if decimal != ".":
        if pc.any(pc.match_substring(present, ".")).as_py():
            return arr
        signed = pc.replace_substring(signed, decimal, ".")
        head = signed.drop_null().slice(0, 1000)
    try:
        pc.cast(head, pa.float64())
        return pc.cast(signed, pa.float64())
    except pa.ArrowInvalid:
        return arr


ISO_STAMP = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
             r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?")
"""An ISO 8601 timestamp, with its fraction of a second and UTC offset where written."""
ISO_EXACT = r"(\.[0-9]{1,9}|Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
"""The end of an ISO timestamp that a date format does not read: a fraction of a second
(``05:00:00.123``) or a UTC offset (``+01:00``, ``Z``)."""


def _iso_stamps(arr: pa.Array, present: pa.Array) -> pa.Array | None:
    """A text column of ISO 8601 timestamps with fractions of a second or UTC offsets
    (``2021-03-01T05:00:00.123+01:00``) as timestamps, in UTC where offsets are written (the
    canonical form: time zones become UTC); None for any other column. Plain timestamps
    (``2021-03-01 05:00:00``) stay text, read later as dates in their spelling."""
    stamp = f"^{ISO_STAMP}$"
    if not len(present) or not pc.all(pc.match_substring_regex(present.slice(0, 1000), stamp)).as_py() \
            or not pc.all(pc.match_substring_regex(present, stamp)).as_py() \
            or not pc.any(pc.match_substring_regex(present, ISO_EXACT)).as_py():
        return None  # (a first thousand values probed: number columns stop there)
    values = pd.Series(arr.to_pylist(), dtype=object)
    try:
        stamps = pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, OverflowError):
        return None
    return pa.array(stamps.dt.tz_localize(None), type=pa.timestamp("ns"))


def _decode(data: bytes, path: Path, encoding: str | None) -> str:
    if encoding not in (None, "detect"):
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"unknown encoding {encoding!r}; pass a Python codec name such as "
                              "'utf-8', 'cp1252' or 'latin-1', or encoding='detect'") from None
        return _strict_decode(data, path, encoding, "")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _strict_decode(data, path, enc, "")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        guesses = _guess_encodings(data)
    if encoding == "detect" and guesses:
        warnings.warn(f"{path} is not UTF-8; reading it as {guesses[0]} (detected)", stacklevel=5)
        return data.decode(guesses[0])
    enc = guesses[0] if guesses else "cp1252"
    hint = (f"it looks like {enc}: pass encoding='{enc}' (CLI: --encoding {enc}), or "
            "encoding='detect' to accept the detected encoding") if guesses else (
            "pass its encoding, e.g. encoding='cp1252' (CLI: --encoding cp1252)")
    return _strict_decode(data, path, "utf-8", hint)


def _strict_decode(data: bytes, path: Path, enc: str, hint: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        after = data[max(0, e.start - 20): e.start].decode(enc, "replace").split("\n")[-1]
        hint = hint or "pass the right encoding, or encoding='detect' to guess it"
        raise EncodingError(
            f"{path} is not valid {enc}: byte 0x{data[e.start]:02x} on line {line} (after "
            f"{after!r}) cannot be decoded; {hint}") from None


def _guess_encodings(data: bytes) -> list[str]:
    """Encodings charset_normalizer finds plausible that decode all of ``data``, common first."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return []
    near = [m for m in matches if m.chaos <= matches[0].chaos + 0.1]
    names = [enc for m in near for enc in [m.encoding, *m.could_be_from_charset]]
    names = sorted(dict.fromkeys(names), key=lambda e: (
        _COMMON_ENCODINGS.index(e) if e in _COMMON_ENCODINGS else len(_COMMON_ENCODINGS)))
    ok = []
    for enc in [*names[:8], matches[0].encoding]:
        try:
            data.decode(enc)
            ok.append(enc)
        except (UnicodeDecodeError, LookupError):
            pass
    return list(dict.fromkeys(ok))


def _sniff(sample: str) -> str:
    """Pick the delimiter giving >1 fields per row, most consistently, then most fields."""
    lines = _lines(sample).readlines()
    if len(sample) >= _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # probably cut short
    best, best_key = ",", None
    for rank, d in enumerate(_DELIMITERS):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        except csv.Error:
            continue
        if counts and counts[0] > 1:
            key = (sum(c == counts[0] for c in counts) / len(counts), counts[0], -rank)
            if best_key is None or key > best_key:
                best, best_key = d, key
    return best


def _lines(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


def _check_delimiter(delimiter: str) -> str:
    d = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if len(d) != 1 or d in "\"\r\n":
        raise ConfigError(f"delimiter={delimiter!r} must be one character such as ',' ';' "
                          "'|' or '\\t' (CLI: --delimiter)")
    return d


def _bad_record(text: str, delim: str, n: int) -> str | None:
    """Describe the first ragged or badly quoted record (a slow scan, run only on trouble)."""
    reader = csv.reader(_lines(text), delimiter=delim, strict=True)
    start = 1
    try:
        for row in reader:
            if row and len(row) != n:
                return (f"line {start} has {_n(len(row), 'field')} but the header has {n}; quote "
                        f"values that contain {delim!r}, or fix the row")
            start = reader.line_num + 1
    except csv.Error:
        return (f"the quoted field starting on line {start} is not closed properly; check that "
                'row for a stray double quote (")')
    return None


def _read_duckdb_file(path: Path, table, query) -> pd.DataFrame:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        raise DataError(f"{path} could not be opened as a DuckDB database ({e})") from e
    with con:
        return _read_duckdb(con, table, query, str(path))


def _read_duckdb(con, table: str | None, query: str | None, where: str) -> pd.DataFrame:
    import duckdb

    _need_table_or_query(table, query, where)
    rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                       "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')").fetchall()
    available = sorted({n if s == "main" else f"{s}.{n}" for s, n in rows})
    if table is not None:
        match = [(s, n) for s, n in rows if table.lower() in (n.lower(), f"{s}.{n}".lower())]
        if not match:
            raise _no_table(table, where, available)
        query = "SELECT * FROM " + ".".join('"' + p.replace('"', '""') + '"' for p in match[0])
    label = f"table {table!r} in {where}" if table else f"query on {where}"
    try:
        rel = con.sql(query)
        if rel is None:
            raise ConfigError(f"query on {where} returned no rows to read; pass a SELECT query")
        arrow = _duck_arrow(rel)
    except duckdb.CatalogException as e:
        raise SourceNotFoundError(f"{label} failed: {e}; available tables: "
                                  f"{', '.join(available) or 'none'}") from e
    except duckdb.IOException as e:
        raise SourceNotFoundError(f"{label} failed: {e}") from e
    except duckdb.ParserException as e:
        raise ConfigError(f"query on {where} is not valid SQL: {e}") from e
    except duckdb.Error as e:
        raise DataError(f"{label} failed: {e}") from e
    return _typed(arrow, label, nan_is_missing=False)


def _duck_arrow(rel) -> pa.Table:
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()


def _read_sql(url: str, table: str | None, query: str | None) -> pd.DataFrame:
    import sqlalchemy as sa

    try:
        u = sa.engine.make_url(url)
    except sa.exc.ArgumentError as e:
        raise ConfigError(f"{url!r} is not a valid database URL ({e})") from e
    shown = u.render_as_string(hide_password=True)
    _need_table_or_query(table, query, shown)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") \
            and not u.database.startswith("file:") and not Path(u.database).exists():
        raise SourceNotFoundError(f"SQLite database file {u.database} does not exist")
    try:
        engine = sa.create_engine(u)
    except (sa.exc.NoSuchModuleError, ImportError) as e:
        raise ConfigError(f"cannot connect to {shown}: {e}; install the database driver") from e
    label = f"table {table!r} in {shown}" if table else f"query on {shown}"
    available: list[str] = []
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            available = sorted(insp.get_table_names() + insp.get_view_names())
            if table is not None:
                match = [n for n in available if n.lower() == table.lower()]
                if not match:
                    raise _no_table(table, shown, available)
                query = f"SELECT * FROM {conn.dialect.identifier_preparer.quote(match[0])}"
            result = conn.execute(sa.text(query))
            names, rows = [str(k) for k in result.keys()], result.fetchall()
    except sa.exc.SQLAlchemyError as e:
        msg = str(getattr(e, "orig", None) or e)
        if "no such table" in msg or "does not exist" in msg:
            raise SourceNotFoundError(f"{label} failed: {msg}; available tables: "
                                      f"{', '.join(available) or 'none'}") from e
        raise ConfigError(f"{label} failed: {msg}") from e
    finally:
        engine.dispose()
    _check_duplicates(names, label)
    columns = list(zip(*rows, strict=True)) or [()] * len(names)
    arrays = [_py_array(list(c), from_pandas=False) for c in columns]  # keep NaN apart from NULL
    return _canonicalize(pa.table(arrays, names=names), label, nan_is_missing=False)


def _need_table_or_query(table, query, where: str) -> None:
    if (table is None) == (query is None):
        raise ConfigError(f"reading from {where} needs exactly one of table='name' or "
                          "query='SELECT ...' (CLI: --table / --query)")


def _no_table(table: str, where: str, available: list[str]) -> SourceNotFoundError:
    return SourceNotFoundError(f"no table {table!r} in {where}; available tables: "
                               f"{', '.join(available) or 'none (the database is empty)'}")


def _py_array(values: list, from_pandas: bool = True) -> pa.Array:
    """An Arrow array from Python values, falling back to text for mixed types."""
    try:
        return pa.array(values, from_pandas=from_pandas)
    except (pa.ArrowException, OverflowError, TypeError):
        return pa.array([None if _is_missing(v) else str(v) for v in values], pa.string())


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


# ----------------------------------------------------------------------------- canonical form


def _typed(table: pa.Table, where: str, *, nan_is_missing: bool,
           enums: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The canonical frame of an Arrow table, with its Arrow types recorded (``_storage``)."""
    return record(_canonicalize(table, where, nan_is_missing=nan_is_missing),
                  arrow_types(table, enums))


def _canonicalize(data: pd.DataFrame | pa.Table, where: str, *, nan_is_missing: bool
                  ) -> pd.DataFrame:
    """Convert a pandas frame or Arrow table to lookalike's canonical dtypes (module docstring).

    ``nan_is_missing``: NaN counts as missing (pandas/polars) rather than raising. ``where``
    names the source in error messages.
    """
    if isinstance(data, pd.DataFrame):
        names = [str(c) for c in data.columns]
        _check_duplicates(names, where)
        arrays = [_py_array(list(s)) if s.dtype == object else _pandas_to_arrow(s)
                  for _, s in data.items()]
    else:
        names = list(data.column_names)
        _check_duplicates(names, where)
        arrays = [c.combine_chunks() for c in data.columns]
    if not names:
        raise EmptyDataError(f"{where} has no columns")
    if len(arrays[0]) == 0:
        raise EmptyDataError(f"{where} has {_n(len(names), 'column')} but no data rows")
    out = {n: _column(a, n, where, nan_is_missing) for n, a in zip(names, arrays, strict=True)}
    return pd.DataFrame(out)


def _pandas_to_arrow(s: pd.Series) -> pa.Array:
    try:
        return pa.array(s, from_pandas=True)
    except (pa.ArrowException, TypeError):
        return _py_array(list(s))


def _column(arr: pa.Array, name: str, where: str, nan_is_missing: bool) -> pd.Series:
    t = arr.type
    if pa.types.is_dictionary(t):
        return _column(arr.dictionary_decode(), name, where, nan_is_missing)
    if pa.types.is_integer(t):
        try:
            return pd.Series(pd.Int64Dtype().__from_arrow__(arr.cast(pa.int64())))
        except pa.ArrowInvalid:  # uint64 beyond int64: exact as text, never rounded
            return pd.Series(arr.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    if pa.types.is_decimal(t):
        return _decimal(arr)
    if pa.types.is_floating(t):
        values = arr.cast(pa.float64(), safe=False)
        _check_finite(values, name, where, nan_is_missing)
        return pd.Series(values.to_numpy(zero_copy_only=False), dtype="float64")
    if pa.types.is_boolean(t):
        return pd.Series(pd.BooleanDtype().__from_arrow__(arr))
    if pa.types.is_duration(t):  # a length of time: its seconds (the input's type is recorded)
        seconds = pc.divide(arr.cast(pa.int64()).cast(pa.float64()), _PER_SECOND[t.unit])
        return pd.Series(seconds.to_numpy(zero_copy_only=False), dtype="float64")
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        stamps = arr.cast(pa.timestamp(t.unit if pa.types.is_timestamp(t) else "s"))
        try:
            return stamps.cast(pa.timestamp("ns")).to_pandas().astype("datetime64[ns]")
        except pa.ArrowInvalid:  # a date beyond 1677 .. 2262, e.g. 9999-12-31: microseconds
            pass
        first, last = pc.min_max(stamps.cast(pa.int64())).values()
        unit_s = int(_PER_SECOND[stamps.type.unit])
        if first.as_py() < _DATE_SECONDS[0] * unit_s or last.as_py() > _DATE_SECONDS[1] * unit_s:
            raise DataError(f"column {name!r} in {where} has dates outside the years 1 .. 9999, "
                            "which cannot be written as dates; replace them with missing values")
        return stamps.cast(pa.timestamp("us")).to_pandas().astype("datetime64[us]")
    if pa.types.is_null(t):
        return pd.Series([None] * len(arr), dtype=object)
    try:
        text = arr.cast(pa.large_string()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        text = [None if v is None else v.decode("utf-8", "replace") if isinstance(v, bytes)
                else str(v) for v in arr.to_pylist()]
    return pd.Series(text, dtype=object)


def _decimal(arr: pa.Array) -> pd.Series:
    """A decimal column as float64 if every value is exact as a float, else Int64 or exact text.

    Exact: the float, written back at the column's scale, gives the same decimal (0.10 is, a
    20-digit value is not).
    """
    floats = arr.cast(pa.float64(), safe=False)
    try:
        exact = arr.type.precision <= 15 or pc.all(pc.equal(floats.cast(arr.type, safe=False),
                                                            arr)).as_py() is not False
    except pa.ArrowInvalid:  # the float rounds past the column's precision
        exact = False
    if exact:
        return pd.Series(floats.to_numpy(zero_copy_only=False), dtype="float64")
    if arr.type.scale <= 0:
        try:
            return pd.Series(pd.Int64Dtype().__from_arrow__(arr.cast(pa.int64())))
        except pa.ArrowInvalid:
            pass
    return pd.Series(arr.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def _check_finite(values: pa.Array, name: str, where: str, nan_is_missing: bool) -> None:
    nan = pc.fill_null(pc.is_nan(values), False).to_numpy(zero_copy_only=False)
    inf = pc.fill_null(pc.is_inf(values), False).to_numpy(zero_copy_only=False)
    bad = inf if nan_is_missing else nan | inf
    if not bad.any():
        return
    rows = np.flatnonzero(bad) + 1
    kinds = " or ".join(k for k, m in (("NaN", nan & bad), ("infinite", inf)) if m.any())
    shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
    fix = ("replace infinite values, e.g. df.replace([np.inf, -np.inf], np.nan)" if nan_is_missing
           else "write missing values as empty fields (null), not NaN, and replace or remove "
           "infinite values")
    raise NonFiniteError(f"column {name!r} in {where} has {_n(len(rows), kinds + ' value')} "
                         f"(data {'rows' if len(rows) > 1 else 'row'} {shown}, 1 = first data "
                         f"row); {fix}")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _check_duplicates(names: list[str], where: str) -> None:
    positions: dict[str, list[int]] = {}
    for i, n in enumerate(names, 1):
        positions.setdefault(n, []).append(i)
    dups = {n: p for n, p in positions.items() if len(p) > 1}
    if dups:
        listed = "; ".join(f"{n!r} at positions {', '.join(map(str, p))}" for n, p in dups.items())
        raise DuplicateColumnError(f"{where} has duplicate column names: {listed}; rename them "
                                   "so every column name is unique")


# ----------------------------------------------------------------------------- writing


def write_table(
    df: Any, path: str | os.PathLike, *, overwrite: bool = False,
    format: str | None = None, schema: Any = None, delimiter: str | None = None,
    decimal: str | None = None, encoding: str | None = None,
) -> Path:
    """Write ``df`` as CSV (optionally gzipped) or Parquet, atomically; return the path written.

    ``df`` is a pandas or polars DataFrame or an Arrow table (what ``sample`` returns). The
    format comes from the extension (.csv, .csv.gz, .tsv, .tsv.gz, .parquet, .pq) or from
    ``format`` ("csv", "tsv" or "parquet"). An existing file is replaced only with
    ``overwrite=True``, and a failed write leaves nothing behind. CSV: missing values are empty
    fields, text as it is (dates a synthesizer returns in the input's spelling stay so),
    datetimes ISO 8601 (just the date when every time is midnight; with the UTC offset when
    time-zone aware), UTF-8. ``delimiter`` (default "," for .csv, tab for .tsv), ``decimal``
    ("." or ",") and ``encoding`` (default UTF-8; "utf-8-sig" adds the byte order mark Excel
    looks for) change that; a frame read from a CSV with a decimal comma, or sampled from a
    model fitted on one, is written with its decimal comma and delimiter unless they are
    given (outputs look like inputs). Parquet keeps logical types: integer widths, ``date32`` vs
    timestamps, time zones, dictionaries (categoricals); with the table's ``schema`` (a
    :class:`~lookalike.schema.Schema`), text dates (a CSV input's, in its spelling) are stored
    as dates (``date32`` for a column of days) or timestamps, parsed in the schema's format;
    the text dates of a typed input (a Parquet string column) stay text.
    A table too large for memory is written in parts with :func:`table_writer`.

    >>> import tempfile
    >>> out = write_table(pd.DataFrame({"a": [1, 2]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> out.read_text()
    'a\\n1\\n2\\n'
    """
    df = _writable(df)
    target = Path(path).expanduser()
    fmt, gz = _output_format(target, format)
    _check_duplicates(_names(df), "the table to write")
    if fmt != "parquet":
        sep, decimal, encoding = _csv_dialect(df, fmt, delimiter, decimal, encoding)
    with atomic_output(target, overwrite=overwrite) as tmp:
        if fmt == "parquet":
            _write_parquet(df if schema is None else _typed_dates(df, schema), tmp)
        else:
            _write_csv(_csv_frame(df), tmp, sep=sep, gz=gz, decimal=decimal, encoding=encoding)
    return target


@contextlib.contextmanager
def table_writer(
    path: str | os.PathLike, *, overwrite: bool = False, format: str | None = None,
    schema: Any = None, delimiter: str | None = None, decimal: str | None = None,
    encoding: str | None = None,
) -> Iterator[TableWriter]:
    """Write one table in parts, each ``writer.write(part)``, atomically: the file
    :func:`write_table` writes for the parts concatenated, without holding them all.

    The options are :func:`write_table`'s, and each part goes through its code: Parquet
    gets one row group (or more, past a million rows) per part, with the Arrow schema of the
    first part (a later part is cast to it: a dictionary's index width, a column that was all
    missing); CSV gets one header, then each part's rows in the same text formats, in one
    stream (one gzip member), its dialect (delimiter, decimal comma) settled by the first
    part as :func:`write_table` settles it. A datetime column keeps the ISO form of the first
    part unless a later value needs a finer one (a time after dates, fractions of a second).
    The file appears only when the block ends without an error; nothing is left otherwise,
    and an existing file is replaced only with ``overwrite=True``. A single part gives the
    same bytes as :func:`write_table`.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> with table_writer(path) as writer:
    ...     writer.write(pd.DataFrame({"a": [1, 2]}))
    ...     writer.write(pd.DataFrame({"a": [3]}))
    >>> path.read_text()
    'a\\n1\\n2\\n3\\n'
    """
    target = Path(path).expanduser()
    fmt, gz = _output_format(target, format)
    if fmt != "parquet":
        with warnings.catch_warnings():  # bad options are refused before any work; warnings
            warnings.simplefilter("ignore")  # come with the first part
            _csv_dialect(None, fmt, delimiter, decimal, encoding)
    with atomic_output(target, overwrite=overwrite) as tmp:
        writer = TableWriter(tmp, fmt, gz, schema, (delimiter, decimal, encoding), target)
        try:
            yield writer
        except BaseException:
            writer._close(failed=True)
            raise
        writer._close(failed=False)


class TableWriter:
    """The open output of :func:`table_writer`: ``write(part)`` adds rows; ``rows`` and
    ``parts`` count what was written."""

    def __init__(self, tmp: Path, fmt: str, gz: bool, schema: Any,
                 dialect: tuple[str | None, str | None, str | None], target: Path) -> None:
        self._tmp, self._fmt, self._gz, self._schema = tmp, fmt, gz, schema
        self._dialect, self._target = dialect, target
        self._names: list[str] | None = None
        self._parquet: Any = None  # pyarrow.parquet.ParquetWriter, made by the first part
        self._stream: Any = None  # (text handle, file, sep, decimal, encoding), by the first part
        self._iso: dict[str, int] = {}
        self.rows = 0
        self.parts = 0

    @property
    def format(self) -> str:
        """The file's format: "parquet", "csv" or "tsv"."""
        return self._fmt

    def write(self, part: Any) -> None:
        """Append ``part`` (a pandas or polars DataFrame or an Arrow table, with the first
        part's columns in the same order)."""
        part = _writable(part)
        names = _names(part)
        if self._names is None:
            _check_duplicates(names, "the table to write")
            self._names = names
        elif names != self._names:
            raise DataError(f"part {self.parts + 1} of the table written to {self._target} has "
                            f"the columns {names}, the first part {self._names}: every part needs "
                            "the same columns in the same order")
        if self._fmt == "parquet":
            self._write_parquet(part)
        else:
            self._write_csv(part)
        self.rows += part.num_rows if isinstance(part, pa.Table) else len(part)
        self.parts += 1

    def _write_parquet(self, part: pd.DataFrame | pa.Table) -> None:
        import pyarrow.parquet as pq

        table = arrow_output(part, self._schema)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._tmp, table.schema)
        elif not table.schema.equals(self._parquet.schema, check_metadata=False):
            table = self._conform(table, self._parquet.schema)
        self._parquet.write_table(table)

    def _conform(self, table: pa.Table, first: pa.Schema) -> pa.Table:
        """``table`` cast to the first part's Arrow schema, naming a column that cannot be."""
        columns = []
        for field in first:
            col = table.column(field.name)
            if col.type != field.type:
                try:
                    col = col.cast(field.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                    raise DataError(
                        f"column {field.name!r} of part {self.parts + 1} written to "
                        f"{self._target} holds {col.type}, and the file's first part {field.type}"
                        f" ({e}); write the parts with one type for the column") from None
            columns.append(col)
        return pa.Table.from_arrays(columns, schema=first)

    def _write_csv(self, part: pd.DataFrame | pa.Table) -> None:
        if self._stream is None:
            sep, decimal, encoding = _csv_dialect(part, self._fmt, *self._dialect)
            self._stream = (*_open_csv(self._tmp, self._gz, encoding), sep, decimal, encoding)
        handle, _, sep, decimal, encoding = self._stream
        _write_csv_part(_csv_frame(part), handle, sep=sep, decimal=decimal, encoding=encoding,
                        header=self.parts == 0, iso=self._iso)

    def _close(self, *, failed: bool) -> None:
        """Finish the file (Parquet footer, end of the gzip member) and close it; after a
        failure only close it (the temporary file is then removed)."""
        try:
            if self._parquet is not None:
                self._parquet.close()
            if self._stream is not None:
                _close_csv(*self._stream[:2])
        except Exception:
            if not failed:
                raise
        if not failed and self.parts == 0:
            raise ConfigError(f"no rows were written to {self._target}: write at least one part")


def _output_format(target: Path, format: str | None) -> tuple[str, bool]:
    """The output format ("csv", "tsv" or "parquet"), from ``format`` or the file's extension,
    and whether the text is gzipped."""
    name = target.name.lower()
    fmt = (format or "").lower().lstrip(".")
    if not fmt:
        exts = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv"}
        fmt = next((f for e, f in exts.items() if name.removesuffix(".gz").endswith(e)), "")
        if name.endswith(".gz") and fmt == "parquet":
            fmt = ""
    fmt = fmt.removesuffix(".gz")
    if fmt not in ("csv", "tsv", "parquet"):
        raise UnknownFormatError(
            f"cannot write {target}: unknown output format {format or target.suffix!r}; "
            f"supported: {', '.join(SUPPORTED_OUTPUTS)} (pass format='csv' or format='parquet')")
    return fmt, fmt != "parquet" and (name.endswith(".gz") or (format or "").endswith(".gz"))


def _names(df: pd.DataFrame | pa.Table) -> list[str]:
    return [str(c) for c in (df.column_names if isinstance(df, pa.Table) else df.columns)]


def _csv_dialect(df: Any, fmt: str, delimiter: str | None, decimal: str | None,
                 encoding: str | None) -> tuple[str, str, str]:
    """(delimiter, decimal, encoding) of a CSV output: as given, else as the input was read
    (a decimal comma and its delimiter, recorded in ``df.attrs``), else ",", "." and UTF-8
    (a tab for .tsv)."""
    read = {}
    if isinstance(df, pd.DataFrame) and df.attrs.get(CSV_ATTR):
        try:
            read = json.loads(df.attrs[CSV_ATTR])
        except (TypeError, ValueError):
            read = {}
    if decimal is None:
        decimal = read.get("decimal", ".")
    decimal = check_decimal(decimal)
    if delimiter is None:
        inherited = read.get("delimiter") if decimal == read.get("decimal") else None
        delimiter = "\t" if fmt == "tsv" else inherited or ","
    sep = _check_delimiter(delimiter)
    if sep == decimal:
        warnings.warn(f"the CSV output uses {decimal!r} as the delimiter and as the decimal "
                      "separator: every number with a fraction is quoted; choose another "
                      "delimiter (';' with a decimal comma)", stacklevel=4)
    encoding = encoding or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"unknown output encoding {encoding!r}; pass a Python codec name such "
                          "as 'utf-8', 'utf-8-sig' (Excel) or 'cp1252'") from None
    return sep, decimal, encoding


_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(),
             pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(),
             pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}


def _writable(df: Any) -> pd.DataFrame | pa.Table:
    """A pandas frame or an Arrow table (a polars frame or record batch converted)."""
    if isinstance(df, pd.DataFrame | pa.Table):
        return df
    if isinstance(df, pa.RecordBatch):
        return pa.Table.from_batches([df])
    if type(df).__module__.startswith("polars") and type(df).__name__ == "DataFrame":
        return df.to_arrow()
    raise TypeError(f"write_table expects a pandas or polars DataFrame or an Arrow table, not "
                    f"{type(df).__name__}")


def _csv_frame(df: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """The pandas frame whose CSV text is written (Arrow integers with gaps stay integers,
    no "1.0")."""
    if isinstance(df, pa.Table):
        return df.to_pandas(types_mapper=_NULLABLE.get)
    return df


def _open_csv(tmp: Path, gz: bool, encoding: str) -> tuple[io.TextIOWrapper, Any]:
    """A text handle writing ``tmp`` in ``encoding``, and the file under it. Gzipped: one
    member whose header holds no file name and no time, so that equal text gives equal bytes."""
    raw = open(tmp, "wb")  # noqa: SIM115  (closed by _close_csv)
    try:
        packed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if gz else raw
        return io.TextIOWrapper(packed, encoding=encoding, newline=""), raw
    except BaseException:
        raw.close()
        raise


def _close_csv(text: io.TextIOWrapper, raw: Any) -> None:
    try:
        text.close()  # flushes; ends the gzip member
    finally:
        raw.close()


def _write_csv(df: pd.DataFrame, tmp: Path, *, sep: str, gz: bool, decimal: str = ".",
               encoding: str = "utf-8") -> None:
    text, raw = _open_csv(tmp, gz, encoding)
    try:
        _write_csv_part(df, text, sep=sep, decimal=decimal, encoding=encoding, header=True, iso={})
    finally:
        _close_csv(text, raw)


def _write_csv_part(df: pd.DataFrame, handle: io.TextIOWrapper, *, sep: str, decimal: str,
                    encoding: str, header: bool, iso: dict[str, int]) -> None:
    """Append ``df``'s rows as CSV text (with the header line when ``header``); ``iso`` holds,
    per datetime column, the least ISO form (:func:`_iso`) to write it in, and is updated."""
    out = df.copy(deep=False)
    out.columns = [str(c) for c in df.columns]
    fixed = _fixed_attr(df.attrs.get(FIXED_ATTR))  # the input's fixed decimals (12.50)
    numbers = numbers_attr(df.attrs.get(NUMBERS_ATTR))  # and formatted numbers ($1,234.50)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.ArrowDtype) and pa.types.is_temporal(
                out[col].dtype.pyarrow_dtype):  # dates, times: ISO text, missing as empty
            values = out[col].astype(object)
            out[col] = pd.Series([None if _is_missing(v) else v.isoformat() for v in values],
                                 index=out.index, dtype=object)
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col], iso[col] = _iso(out[col], iso.get(col, 0))
        elif col in numbers and (pd.api.types.is_float_dtype(out[col].dtype)
                                 or pd.api.types.is_integer_dtype(out[col].dtype)):
            out[col] = _number_text(out[col], numbers[col], fixed.get(col), decimal)
        elif pd.api.types.is_float_dtype(out[col].dtype):
            k = fixed.get(col)
            out[col] = _positional(out[col], decimal) if k is None else _fixed(out[col], k, decimal)
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf8", "utf-8-sig", "utf-16", "utf-32"):
        _check_encodable(out, encoding)
    out.to_csv(handle, sep=sep, index=False, header=header, na_rep="", lineterminator="\n",
               decimal=decimal)


def _number_text(s: pd.Series, fmt: Mapping[str, Any], k: int | None, decimal: str) -> pd.Series:
    """A numeric column written as its CSV input wrote it (``fmt``: ``formatted_numbers``):
    ``$1,234.50``, ``-$5``, ``12.5%``, ``1.234,50 €`` with a decimal comma; ``k`` fixed
    decimals, else as few as each value needs; missing values empty."""
    integer = pd.api.types.is_integer_dtype(s.dtype)
    values = s.to_numpy(dtype=float, na_value=np.nan)
    swap = str.maketrans({",": ".", ".": ","}) if decimal == "," else None
    out: list[str | None] = []
    for v in values:
        if np.isnan(v):
            out.append(None)
            continue
        a = abs(float(v))
        if integer:
            body = f"{int(a):,}" if fmt["group"] else str(int(a))
        else:
            text = f"{a:.{k}f}" if k is not None else np.format_float_positional(a, trim="-")
            whole, dot, frac = text.partition(".")
            body = (f"{int(whole):,}" if fmt["group"] else whole) + dot + frac
        body = body.translate(swap) if swap else body
        sign = "-" if v < 0 else ""
        lead = sign + fmt["prefix"] if fmt["sign"] == "before" else fmt["prefix"] + sign
        out.append(lead + body + fmt["suffix"])
    return pd.Series(out, index=s.index, dtype=object)


def _fixed(s: pd.Series, k: int, decimal: str) -> pd.Series:
    """A float column written with ``k`` decimals, trailing zeros included (as its CSV input
    wrote it: "12.50", not "12.5"); missing values empty."""
    values = s.to_numpy(dtype=float, na_value=np.nan)
    text = [None if np.isnan(v) else f"{v:.{k}f}" for v in values]
    if decimal != ".":
        text = [t if t is None else t.replace(".", decimal) for t in text]
    return pd.Series(text, index=s.index, dtype=object)


def _positional(s: pd.Series, decimal: str) -> pd.Series:
    """A float column as CSV text writes it, but for values Python would write with an
    exponent (``7.9e-05``, ``1e+16``): those are written out in full (``0.000079``), as a
    table of decimals is. A model decodes near-zero values that the input never held and
    never wrote so (scikit-learn's breast cancer: 0.2-0.4% of a column). Returns ``s`` itself
    when no value needs it."""
    values = s.to_numpy(dtype=float, na_value=np.nan)
    finite = values[~np.isnan(values)]
    nonzero = np.abs(finite[finite != 0])
    if not len(nonzero) or (nonzero.min() >= 1e-4 and nonzero.max() < 1e16):
        return s
    text = [None if np.isnan(v) else np.format_float_positional(v, trim="0") for v in values]
    if decimal != ".":
        text = [t if t is None else t.replace(".", decimal) for t in text]
    return pd.Series(text, index=s.index, dtype=object)


def _check_encodable(df: pd.DataFrame, encoding: str) -> None:
    """Refuse, naming the column and value, text that ``encoding`` cannot write (before
    writing, so that nothing is left half written)."""
    for name in [str(c) for c in df.columns]:
        try:
            name.encode(encoding)
        except UnicodeEncodeError:
            raise DataError(f"column name {name!r} cannot be written in {encoding}; write the "
                            "output as UTF-8 (CLI: --out-encoding utf-8)") from None
    for name, s in df.items():
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        values = [v for v in pd.unique(s.dropna()) if isinstance(v, str)]
        try:
            "".join(values).encode(encoding)
            continue
        except UnicodeEncodeError:
            pass
        for v in values:
            try:
                v.encode(encoding)
            except UnicodeEncodeError as e:
                row = int(np.flatnonzero((s == v).to_numpy(dtype=bool, na_value=False))[0]) + 1
                raise DataError(
                    f"column {str(name)!r}, row {row}: {v!r} holds {v[e.start]!r}, which "
                    f"{encoding} cannot write; write the output as UTF-8 (CLI: --out-encoding "
                    "utf-8, or utf-8-sig for Excel)") from None


_ISO_FORMS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")


def _iso(s: pd.Series, least: int = 0) -> tuple[pd.Series, int]:
    """ISO 8601 text, and its form (an index of :data:`_ISO_FORMS`, at least ``least``): the
    date alone when every time is midnight and there is no time zone, else seconds, else
    fractions; a time-zone-aware column in its own zone, with its UTC offset (+01:00)."""
    aware = s.dt.tz is not None
    present = s.dropna()
    if not aware and (present == present.dt.normalize()).all():
        form = 0
    elif ((present.dt.microsecond == 0) & (present.dt.nanosecond == 0)).all():
        form = 1
    else:
        form = 2
    form = max(form, least)
    text = s.dt.strftime(_ISO_FORMS[form] + ("%z" if aware else ""))
    if aware:
        text = text.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)
    return pd.Series(np.where(s.isna(), None, text.astype(object)), index=s.index,
                     dtype=object), form


def _typed_dates(df: pd.DataFrame | pa.Table, schema: Any) -> pd.DataFrame | pa.Table:
    """``df`` with its text datetime columns parsed in the schema's format (all values must
    parse, else a column stays text): days as ``date32``, other datetimes as timestamps. Columns
    a typed source held as text (a Parquet string column of dates; named in the frame's
    ``TEXT_DATES_ATTR`` by ``sample``) stay text, as the input held them."""
    from lookalike.schema import Kind, parse_datetime

    if isinstance(df, pa.Table):
        return df
    kept = set(json.loads(df.attrs.get(TEXT_DATES_ATTR) or "[]"))
    out = df.copy(deep=False)
    for col in schema.columns:
        if col.kind is not Kind.DATETIME or col.name not in out.columns or col.name in kept:
            continue
        s = out[col.name]
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        parsed = parse_datetime(s.astype(object), col.format, col.pivot_year)
        if (parsed.isna() & s.notna()).any():
            continue
        if col.unit == "D":
            parsed = pd.Series(pd.arrays.ArrowExtensionArray(
                pa.array(parsed, from_pandas=True).cast(pa.date32(), safe=False)), index=s.index)
        out[col.name] = parsed
    return out


def _write_parquet(df: pd.DataFrame | pa.Table, tmp: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_parquet_table(df), tmp)


def arrow_output(df: Any, schema: Any = None) -> pa.Table:
    """The Arrow table :func:`write_table` writes to Parquet for ``df`` (with the table's
    ``schema``: text dates as dates), e.g. to hand synthetic rows to another Arrow consumer
    with the types a Parquet output would have.

    >>> arrow_output(pd.DataFrame({"n": pd.array([1, None], dtype="Int16")})).schema.types
    [DataType(int16)]
    """
    df = _writable(df)
    return _parquet_table(df if schema is None else _typed_dates(df, schema))


def _parquet_table(df: pd.DataFrame | pa.Table) -> pa.Table:
    """The Arrow table written to Parquet: ``df``'s types, without lookalike's own record."""
    if isinstance(df, pa.Table):
        return df
    frame = df.set_axis([str(c) for c in df.columns], axis=1)
    frame.attrs = {k: v for k, v in df.attrs.items() if k != ATTR}  # lookalike's own record
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if any(pa.types.is_null(t) for t in table.schema.types):
            # an object column holding no value (a text column left empty) comes out of
            # Arrow's null type, which Spark cannot read: text, as the input's was
            schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                                for f in table.schema], metadata=table.schema.metadata)
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    except (pa.ArrowException, TypeError) as e:
        raise DataError(f"cannot write the DataFrame as Parquet: {e}; convert mixed-type "
                        "columns to text first, e.g. df[col] = df[col].astype(str)") from e
    return table
