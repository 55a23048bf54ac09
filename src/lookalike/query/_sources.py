"""Where a private query reads its rows: DuckDB or Spark, through the fits' own engines.

Both sources show the query one relation whose columns are conformed as a fit reads them (the
marginal engines' typed view), run only aggregate statements (:meth:`fetch`), bind a query's
expressions without reading a row (:meth:`check`), fingerprint the data for the ledger by
aggregates, and make a marginal engine over one expression for DP bounds discovery. The
measurements are written in DuckDB's SQL; the Spark source translates them (and the user's
expressions) with sqlglot.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lookalike.errors import ConfigError, DataError
from lookalike.query._sql import ParsedQuery, QueryError

__all__ = ["as_pandas", "open_source"]


def open_source(data: Any, schema: Any, *, engine: str | None = None,
                spark_master: str | None = None, spark_conf: Mapping[str, str] | None = None,
                **read: Any) -> Any:
    """The source of ``data``: Spark for ``engine="spark"`` or a Spark DataFrame, else DuckDB.
    Use as a context manager."""
    from lookalike.marginals.spark import is_spark_frame

    if engine not in (None, "duckdb", "spark"):
        raise ConfigError(f"engine must be 'duckdb' or 'spark', got {engine!r} (--engine)")
    if engine == "spark" or (engine is None and is_spark_frame(data)):
        return _SparkSource(data, schema, spark_master, spark_conf, read)
    if spark_master is not None or spark_conf:
        raise ConfigError("--spark-master and --spark-conf apply to --engine spark")
    return _DuckDBSource(data, schema, read)


def as_pandas(data: Any) -> pd.DataFrame:
    """A polars or Arrow table as pandas (a pandas frame as it is)."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    raise ConfigError(f"cannot query a {type(data).__name__}: give a file path, a DuckDB "
                      "connection (with table=), a Spark DataFrame or a pandas/polars/Arrow table")


def _number_class(typ: str) -> str | None:
    """int, float or None (not a number) from a DuckDB type name."""
    t = typ.upper()
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "BOOLEAN"} or (t.startswith("DECIMAL") and t.endswith(",0)")):
        return "int"
    if t in {"FLOAT", "DOUBLE", "REAL"} or t.startswith("DECIMAL"):
        return "float"
    return None


class _Source:
    """What both sources share: the checks on a query's expressions."""

    relation: str
    sum_function: str
    schema: Any
    label: str
    data: Any
    engine: Any

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _types(self, exprs: Sequence[str], where: str | None) -> list[str]:  # pragma: no cover
        raise NotImplementedError

    def _builtins(self) -> frozenset[str]:  # pragma: no cover
        raise NotImplementedError

    def check(self, q: ParsedQuery) -> dict[str, str]:
        """Bind ``q``'s expressions on the relation without reading a row: unknown columns,
        wrong types and user functions are refused (before any charge). Returns each aggregate
        argument's class (int or float)."""
        unknown = [f for f in q.functions if f not in self._builtins()]
        if unknown:
            raise QueryError(f"{', '.join(unknown)}: not a {self.label} built-in function; user "
                             "functions are not run on private data (rewrite it with built-ins)")
        args = [a for a in q.aggregates if a.arg is not None]
        exprs = [k.sql for k in q.keys] + [str(a.arg) for a in args]
        described = self._types(exprs, q.where)[len(q.keys):] if exprs else []
        types: dict[str, str] = {}
        for agg, typ in zip(args, described, strict=True):
            cls = _number_class(typ)
            col = agg.column
            if col in self.schema and self.schema[col].kind.value in ("integer", "boolean"):
                cls = "int"  # the engines hold integer columns as DOUBLE
            if agg.kind != "count" and cls is None:
                raise QueryError(f"{agg.name!r}: {agg.kind.upper()} needs numbers, and {agg.arg} "
                                 f"is {typ}; cast it (CAST({agg.arg} AS DOUBLE)) or count it")
            types[str(agg.arg)] = cls or "other"
        return types

    def key_spelling(self) -> Any:
        """How this source's keys are written (:class:`~lookalike.query._keys.KeySpelling`):
        the schema's kinds and boolean tokens, and the input's dtypes (a DataFrame's own, a
        Parquet footer, a CSV's date spelling by one aggregate query, Spark's types)."""
        import dataclasses

        from lookalike._storage import ColumnType, input_storage
        from lookalike.query._keys import KeySpelling
        from lookalike.schema import Kind

        storage = input_storage(self.data, None, "pandas", schema=self.schema, engine=self.engine,
                                decimals=False)  # keys are grouped, not decoded: no rounding
        unspelled = [c.name for c in self.schema if c.kind is Kind.DATETIME and c.format
                     and getattr(storage.columns.get(c.name), "spelling", None) is None]
        if unspelled and hasattr(self.engine, "date_spellings"):  # text dates in Parquet, a DB
            found = self.engine.date_spellings()
            columns = dict(storage.columns)
            for name in unspelled:
                if name in found:
                    ct = columns.get(name) or ColumnType("object")
                    columns[name] = dataclasses.replace(ct, spelling=found[name])
            storage = dataclasses.replace(storage, columns=columns)
        return KeySpelling(self.schema, storage)

    def _refuse_binding(self, e: Exception) -> QueryError:
        msg = str(e).strip().splitlines()[0]
        return QueryError(f"the query does not fit the table: {msg}; its columns: "
                          f"{', '.join(self.schema.names)}")


# ---------------------------------------------------------------------- DuckDB
class _DuckDBSource(_Source):
    """Files, DuckDB databases and connections, in-memory tables: the DuckDB engine's view."""

    sum_function = "fsum"  # DuckDB's compensated sum: the clipped sum's float error stays tiny
    label = "DuckDB"

    def __init__(self, data: Any, schema: Any, read: Mapping[str, Any]) -> None:
        import duckdb

        from lookalike.marginals.duckdb import DuckDBEngine

        if not isinstance(data, str | os.PathLike | pd.DataFrame | duckdb.DuckDBPyConnection):
            data = as_pandas(data)
        opts = {k: v for k, v in read.items() if v is not None and v != () and v != []}
        if isinstance(data, str | os.PathLike) and "://" in str(data) and not Path(data).exists():
            raise ConfigError(f"{data}: private queries read files, DuckDB databases, Spark and "
                              "DataFrames; export the SQL table to Parquet first")
        self.data = data
        self.engine = DuckDBEngine(data, schema, **opts)
        self.schema = self.engine.schema
        self._con = self.engine._con
        self._table: str | None = None
        self.relation = self.engine._view
        if self.engine._csv:  # CSV text is parsed anew by every scan: parse it once, into DuckDB
            self._table = f"__lookalike_rows_{uuid.uuid4().hex[:12]}"
            self._con.execute(f"CREATE TEMP TABLE {self._table} AS SELECT * FROM {self.relation}")
            self.relation = self._table  # the rows move into DuckDB's storage, never into Python

    def fetch(self, sql: str) -> list[tuple]:
        import duckdb

        try:
            return self._con.execute(sql).fetchall()
        except duckdb.Error as e:
            raise DataError(f"DuckDB could not answer the query: {e}") from e

    def _types(self, exprs: Sequence[str], where: str | None) -> list[str]:
        import duckdb

        cond = f" WHERE {where}" if where else ""
        try:
            rows = self._con.execute(f"DESCRIBE SELECT {', '.join(exprs)} FROM {self.relation}"
                                     f"{cond}").fetchall()
        except duckdb.Error as e:
            raise self._refuse_binding(e) from None
        return [r[1] for r in rows]

    def _builtins(self) -> frozenset[str]:
        return _duckdb_builtins()

    def fingerprint(self) -> Any:
        return self.engine.fingerprint()

    def bounds_engine(self, q: ParsedQuery, x: str, cls: str) -> Any:
        """A DuckDB engine over ``x`` of the rows ``q`` filters (column ``v``)."""
        from lookalike.marginals.duckdb import DuckDBEngine

        where = f" WHERE {q.where}" if q.where else ""
        return DuckDBEngine(connection=self._con, schema=_one_column(cls),
                            query=f"SELECT CAST(({x}) AS DOUBLE) AS v FROM {self.relation}{where}")

    def close(self) -> None:
        if self._table is not None and self.engine._con is not None:
            self.engine._con.execute(f"DROP TABLE IF EXISTS {self._table}")
        self.engine.close()


@functools.cache
def _duckdb_builtins() -> frozenset[str]:
    """DuckDB's own functions, listed by a fresh connection: a connection's Python UDFs show
    in its own list exactly as built-ins do."""
    import duckdb

    with duckdb.connect() as fresh:
        rows = fresh.execute("SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()
    return frozenset(r[0] for r in rows)


def _one_column(cls: str) -> Any:
    from lookalike.schema import Column, Kind, Schema

    return Schema((Column("v", Kind.INTEGER if cls == "int" else Kind.FLOAT, nullable=True),))


# ---------------------------------------------------------------------- Spark
_SPARK_TYPES = {"byte": "TINYINT", "short": "SMALLINT", "integer": "INTEGER", "long": "BIGINT",
                "float": "FLOAT", "double": "DOUBLE", "decimal": "DOUBLE", "boolean": "BOOLEAN"}


class _SparkSource(_Source):
    """Parquet/CSV paths, catalog tables and Spark DataFrames: the Spark engine's conformed
    frame as a temporary view; only aggregates come back (the engine's guard)."""

    sum_function = "sum"
    label = "Spark"

    def __init__(self, data: Any, schema: Any, master: str | None,
                 conf: Mapping[str, str] | None, read: Mapping[str, Any]) -> None:
        from lookalike.marginals.spark import SparkEngine, spark_frame, spark_session

        opts = dict(read)
        drop = opts.pop("drop", ()) or ()
        if opts.get("decimal") not in (None, "."):
            raise ConfigError("--engine spark reads numbers with a decimal point: convert the "
                              "file, or use --engine duckdb")
        opts.pop("decimal", None)
        session = spark_session(master, conf)
        frame, self.label_source = spark_frame(data, opts, spark=session)
        self.data = data
        self.engine = SparkEngine(frame, schema, drop=drop)
        self.schema = self.engine.schema
        self._spark = session
        self.relation = f"__lookalike_rows_{uuid.uuid4().hex[:12]}"
        self.engine._conformed.createOrReplaceTempView(self.relation)

    @staticmethod
    def _spark_sql(sql: str) -> str:
        import sqlglot

        return sqlglot.transpile(sql, read="duckdb", write="spark")[0]

    def fetch(self, sql: str) -> list[tuple]:
        from lookalike.marginals.spark import fetch_aggregate

        try:
            rows = fetch_aggregate(self._spark.sql(self._spark_sql(sql)))
        except Exception as e:
            if type(e).__module__.startswith("pyspark"):
                raise DataError(f"Spark could not answer the query: {e}") from e
            raise
        return [tuple(r) for r in rows]

    def _types(self, exprs: Sequence[str], where: str | None) -> list[str]:
        cond = f" WHERE {where}" if where else ""
        try:  # analysed, not run: Spark reads no row to type a query
            fields = self._spark.sql(self._spark_sql(
                f"SELECT {', '.join(exprs)} FROM {self.relation}{cond}")).schema.fields
        except Exception as e:
            if type(e).__module__.startswith(("pyspark", "sqlglot")):
                raise self._refuse_binding(e) from None
            raise
        return [_SPARK_TYPES.get(f.dataType.typeName(), f.dataType.typeName().upper())
                for f in fields]

    def _builtins(self) -> frozenset[str]:
        rows = self._spark.sql("SHOW SYSTEM FUNCTIONS").collect()  # names only: no data
        return frozenset(r[0].lower() for r in rows)

    def fingerprint(self) -> Any:
        return self.engine.fingerprint()

    def bounds_engine(self, q: ParsedQuery, x: str, cls: str) -> Any:
        """A Spark engine over ``x`` of the rows ``q`` filters (column ``v``)."""
        from lookalike.marginals.spark import SparkEngine

        where = f" WHERE {q.where}" if q.where else ""
        frame = self._spark.sql(self._spark_sql(
            f"SELECT CAST(({x}) AS DOUBLE) AS v FROM {self.relation}{where}"))
        return SparkEngine(frame, _one_column(cls))

    def close(self) -> None:
        self._spark.catalog.dropTempView(self.relation)
