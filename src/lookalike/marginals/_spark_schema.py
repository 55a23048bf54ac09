"""The schema of a Spark DataFrame, inferred by aggregate queries run by Spark.

:func:`schema_from_spark` gives what :func:`lookalike.infer_schema` gives the same table in
memory (the rules of :mod:`lookalike.schema._infer`, as the DuckDB engine applies them), read
from counts, never from rows: kinds, identifier formats, datetime units and ``nullable``,
without categories or bounds (those are declared or discovered under DP). A Spark frame is
typed, so its columns are classed by their Spark types as a typed Parquet file is by DuckDB.

Differences from the in-memory rules, where a Spark source needs another answer: a text column
of dates is refused with the Spark conversion to make (Spark parses dates with its own
patterns: ``to_date(col, 'M/d/yy')``), and a text column of numbers is refused as numbers stored
as text (cast it in Spark), with no exceptions for integers beyond 64 bits or long decimals.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from typing import Any

import pandas as pd

from lookalike.errors import ColumnMismatchError, ConfigError, LookalikeError
from lookalike.schema import Column, Kind, Schema
from lookalike.schema._datetimes import _DATE_LIKE
from lookalike.schema._fakes import SAMPLE as FAKE_SAMPLE
from lookalike.schema._formats import _boolean_tokens
from lookalike.schema._infer import (
    BOOLEAN_WORDS,
    ZERO_PADDED,
    check_table,
    datetime_unit,
    is_boolean_text,
    many_values,
    mixed_numbers,
    no_values,
    number_kind,
    numbers_as_text,
    text_columns,
)

__all__ = ["schema_from_spark", "spark_class"]

_FLOAT_RE = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
# a value pandas.to_numeric reads as a number (Java regex, as Spark's rlike runs it)
_NUMBER_RE = rf"^({_FLOAT_RE}|(?i:[+-]?inf(inity)?))$"
_BOOLEAN_RE = "^(?i:" + "|".join(sorted(BOOLEAN_WORDS)) + ")$"
_SPACES = r"\s+"  # Java's \s: ASCII whitespace (the DuckDB engine's RE2 class is wider)


def spark_class(name: str, type_name: str) -> str:
    """A Spark type's class: int, float, bool, date, stamp or text; other types are refused."""
    if type_name in ("byte", "short", "integer", "long"):
        return "int"
    if type_name in ("float", "double") or type_name.startswith("decimal"):
        return "float"
    if type_name in ("boolean", "date", "string"):
        return {"boolean": "bool", "date": "date", "string": "text"}[type_name]
    if type_name in ("timestamp", "timestamp_ntz"):
        return "stamp"
    raise ConfigError(f"column {name!r} is a Spark {type_name}: the Spark engine reads numbers, "
                      "strings, booleans, dates and timestamps; cast it in Spark or drop it "
                      f"(CLI: --drop {name!r})")


def _q(name: str) -> str:
    return "`" + str(name).replace("`", "``") + "`"


def _lit(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def schema_from_spark(frame: Any, *, drop: Iterable[str] = (),
                      fetch: Any = None) -> Schema:
    """The schema of ``frame`` (a PySpark DataFrame) less ``drop``, as ``infer_schema`` would
    infer it from the same rows in memory, by aggregate queries (see the module).

    Column by column, as ``infer_schema`` goes: a column of numbers mixed with text or stored
    as text, or of dates as text, is refused, with the
    warnings of the columns before it given first. ``fetch`` runs an aggregate query and
    returns its rows (default :func:`~lookalike.marginals.spark.fetch_aggregate`: nothing but
    aggregates leaves Spark).
    """
    if fetch is None:
        from lookalike.marginals.spark import fetch_aggregate as fetch
    return _Inference(frame, drop, fetch).schema()


class _Inference:
    def __init__(self, frame: Any, drop: Iterable[str], fetch: Any) -> None:
        drop = [str(d) for d in drop]
        names = list(frame.columns)
        unknown = [d for d in drop if d not in names]
        if unknown:
            raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are {names}")
        types = {f.name: f.dataType.typeName() for f in frame.schema.fields}
        self.frame, self.fetch = frame, fetch
        self.classes = {n: spark_class(n, types[n]) for n in names if n not in drop}

    def _one(self, *aggs: str) -> list:
        return list(self.fetch(self.frame.selectExpr(*aggs))[0])

    def schema(self) -> Schema:
        profile, n_rows = self._profile()
        check_table(n_rows, len(self.classes))
        refusal: LookalikeError | None = None
        names: list[str] = []
        found: dict[str, Column] = {}
        for name, cls in self.classes.items():
            p = profile[name]
            try:
                if p["n"] == 0:
                    found[name] = no_values(name)
                    names.append(name)
                    continue
                if cls == "text" and p["numbers"] and not (p["numbers"] == p["n"] and p["padded"]):
                    if p["numbers"] == p["n"]:
                        raise numbers_as_text(name)
                    if p["numbers"] >= 0.5 * p["n"]:
                        raise mixed_numbers(name, p["numbers"] / p["n"],
                                            [(None, v) for v in p["texts"]])
                if cls == "text" and p["dates"] == p["n"]:
                    raise ConfigError(
                        f"column {name!r} holds dates as text: convert it to a date or timestamp "
                        f"in Spark first (e.g. to_date({name}, 'M/d/yy')), declare it "
                        "'categorical' in a schema, or use --engine duckdb")
            except LookalikeError as e:
                refusal = e
                break
            names.append(name)
        why: dict[str, str] = {}
        texts = [n for n in names if self.classes[n] == "text" and n not in found]
        for name in texts:
            p = profile[name]
            if p["words"] == p["n"] and is_boolean_text(p["word_values"]):
                found[name] = Column(name, Kind.BOOLEAN, categories=_boolean_tokens(pd.Series(
                    p["word_values"], dtype=object)), sources={"kind": "data", "categories": "data"})
        rest = [n for n in texts if n not in found]
        found |= self._text_columns(rest, profile, n_rows, why) if rest else {}
        columns = []
        for name in names:
            p = profile[name]
            col = found.get(name) or self._typed_column(name, p, n_rows)
            columns.append(col.replace("data", nullable=p["n"] < n_rows))
        for name in names:
            if name in why:
                warnings.warn(why[name], stacklevel=5)
        if refusal is not None:
            raise refusal
        return Schema(tuple(columns), n_rows, "data")

    def _profile(self) -> tuple[dict[str, dict], int]:
        """Every column's counts: values, smallest (and largest of numbers),
        whole numbers, midnight timestamps in one aggregate query over the rows; text columns
        in one more (:meth:`_text_profile`)."""
        aggs, sizes = ["count(1)"], {}
        for name, cls in self.classes.items():
            if cls == "text":
                continue
            x = _q(name)
            part = [f"count({x})", f"min({x})"]
            if cls in ("int", "float"):
                whole = "true" if cls == "int" else f"bool_and({x} = floor({x}))"
                part += [whole, f"max({x})"]
            elif cls == "stamp":
                part.append(f"bool_and({x} = date_trunc('day', {x}))")
            aggs += part
            sizes[name] = len(part)
        got = self._one(*aggs)
        n_rows, pos, out = int(got[0]), 1, {}
        texts = self._text_profile([n for n, c in self.classes.items() if c == "text"])
        for name, cls in self.classes.items():
            if cls == "text":
                out[name] = texts[name]
                continue
            g = got[pos: pos + sizes[name]]
            pos += sizes[name]
            p: dict[str, Any] = {"n": int(g[0]), "low": g[1], "numbers": 0, "dates": -1}
            if cls in ("int", "float"):
                p["integral"], p["high"] = bool(g[2]), g[3]
            else:
                p["midnight"] = bool(g[2]) if cls == "stamp" else False
            if cls in ("date", "stamp") and p["low"] is not None:
                p["low"] = pd.Timestamp(p["low"])
            out[name] = p
        return out, n_rows

    def _text_profile(self, names: list[str]) -> dict[str, dict]:
        """The counts of text columns, from their distinct values with each one's count: values,
        distinct values, numbers, dates and boolean words
        (those words as written: a handful at most), up to three text values of a column of
        mostly numbers (for the message), and the values' shortest, longest and mean length.

        One query: the rows' text cells stacked as (column, value), counted per value, then
        summarised per column. The patterns run once per distinct value instead of once per
        cell: on 10^6 Adult rows (9 text columns) schema inference took 2 s (8 s in a fresh
        session) instead of 51 s with the patterns run on every cell."""
        if not names:
            return {}
        number = f"v RLIKE {_lit(_NUMBER_RE)}"
        word = f"v RLIKE {_lit(_BOOLEAN_RE)}"
        date = f"v RLIKE {_lit(_DATE_LIKE.pattern)}"
        cells = ", ".join(f"named_struct('c', {i}, 'v', CAST({_q(n)} AS STRING))"
                          for i, n in enumerate(names))
        values = (self.frame.selectExpr(f"inline(array({cells}))")
                  .groupBy("c", "v").count().withColumnRenamed("count", "n"))
        from pyspark.sql import functions as F

        per_column = values.groupBy("c").agg(*[F.expr(e) for e in (
            "sum(CASE WHEN v IS NOT NULL THEN n ELSE 0 END)",
            f"sum(CASE WHEN {number} THEN n ELSE 0 END)", f"sum(CASE WHEN {word} THEN n ELSE 0 END)",
            f"collect_set(CASE WHEN {word} THEN v END)", f"sum(CASE WHEN {date} THEN n ELSE 0 END)",
            f"slice(array_sort(collect_set(CASE WHEN NOT ({number}) THEN v END)), 1, 3)",
            "count(v)", "min(length(v))", "max(length(v))",
            "sum(n * length(v)) / sum(CASE WHEN v IS NOT NULL THEN n END)",
            f"count(CASE WHEN v RLIKE {_lit('^' + ZERO_PADDED + '$')} THEN 1 END)")])
        out = {}
        for row in self.fetch(per_column):
            g = list(row)
            out[names[int(g[0])]] = {
                "n": int(g[1]), "numbers": int(g[2]), "words": int(g[3]),
                "word_values": list(g[4] or ()), "dates": int(g[5]), "texts": list(g[6] or ()),
                "distinct": int(g[7]), "lengths": g[8:11], "padded": bool(g[11])}
        return out

    def _typed_column(self, name: str, p: dict, n_rows: int) -> Column:
        """Numbers by :func:`~lookalike.schema._infer.number_kind`, dates in days, timestamps in
        days or seconds, booleans (False, True), strings categorical."""
        cls, data = self.classes[name], {"kind": "data"}
        if cls in ("int", "float"):
            distinct = functools.partial(self._distinct, name)
            kind = number_kind(name, n_rows, distinct, p["integral"], p["low"], p["high"])
            if kind is Kind.IDENTIFIER:
                return Column(name, kind, format="integer", sources=data | {"format": "data"})
            return Column(name, kind, sources=data)
        if cls in ("date", "stamp"):
            unit = datetime_unit(cls == "date" or p["midnight"])
            return Column(name, Kind.DATETIME, unit=unit, sources=data | {"unit": "data"})
        if cls == "bool":
            return Column(name, Kind.BOOLEAN, categories=(False, True),
                          sources=data | {"categories": "data"})
        return Column(name, Kind.CATEGORICAL, sources=data)

    def _distinct(self, name: str) -> int:
        return int(self._one(f"count(DISTINCT {_q(name)})")[0])

    def _text_columns(self, names: list[str], profile: dict[str, dict], n_rows: int,
                      why: dict[str, str]) -> dict[str, Column]:
        """Text columns with many distinct values, classified by
        :func:`~lookalike.schema._infer.text_kind` (keys, names and e-mails become
        identifiers, free text is excluded with a warning, put in ``why``); the others stay
        categorical (not returned). Counts and lengths come from the profile; one query reads
        a sample of distinct values (:meth:`_samples`), one more the median word count where
        a rule needs it."""
        limit = max(20, n_rows // 2)  # infer_schema's default
        stats = {n: [profile[n]["n"], profile[n]["distinct"], *profile[n]["lengths"]]
                 for n in names}
        many = {n: s for n, s in stats.items() if many_values(int(s[0]), int(s[1]), limit)}
        if not many:
            return {}
        samples = self._samples({n: int(s[1]) for n, s in many.items()})
        return text_columns(many, n_rows, limit, samples.__getitem__, self._median_words, why)

    def _samples(self, columns: dict[str, int]) -> dict[str, pd.Series]:
        """Per text column (its count of distinct values), at most
        :data:`~lookalike.schema._fakes.SAMPLE` of its distinct values: those of smallest
        hash, a sample fixed by the values themselves. One aggregate: each column collects the
        distinct values whose 64-bit hash falls below a cut expected to pass twice the sample.

        The one query that returns values rather than counts: schema inference reads them to
        choose a kind and format (what ``infer_schema`` does with every value in memory); no
        value reaches the model, the engine or its schema.
        """
        aggs = []
        for name, n_distinct in columns.items():
            x = _q(name)
            cut = "" if n_distinct <= 2 * FAKE_SAMPLE else (
                f" AND xxhash64({x}) < {-2**63 + 2**64 * 2 * FAKE_SAMPLE // n_distinct}")
            aggs.append(f"collect_set(CASE WHEN {x} IS NOT NULL{cut} "
                        f"THEN named_struct('h', xxhash64({x}), 'v', {x}) END)")
        got = self._one(*aggs)
        out = {}
        for name, kept in zip(columns, got, strict=True):
            first = sorted((r["h"], r["v"]) for r in kept or ())[:FAKE_SAMPLE]
            out[name] = pd.Series([v for _, v in first], dtype=object)
        return out

    def _median_words(self, name: str) -> float:
        """The median number of words (runs of whitespace plus one) of a text column."""
        x = _q(name)
        words = f"size(split({x}, {_lit(_SPACES)}, -1)) "
        return float(self._one(f"median(CASE WHEN {x} IS NOT NULL THEN {words}END)")[0])

