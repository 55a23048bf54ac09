"""Count queries pushed into Apache Spark: the rows stay on the executors.

:class:`SparkEngine` answers the :class:`~lookalike.marginals.engine.Engine` queries over a
PySpark DataFrame (a Parquet or CSV read, a catalog table, any query) with Spark expressions:
each column is conformed as :meth:`lookalike.schema.Schema.conform` would (text categories,
numbers clipped to declared bounds and rounded half to even for integer columns, booleans,
datetimes as numbers since 1970), bins and category codes become ``CASE`` and map lookups
(no Python UDF computes a value), the codes of a bound encoder are Spark expressions cast to
the narrowest integer type, and many marginals are counted in one pass: each task adds its
partition's codes (Arrow batches, in the executor's Python worker) into one count table per
marginal and Spark sums the tables' cells (:meth:`SparkEngine.marginals` says why this and
not ``GROUPING SETS``). Histograms are binned by Spark ML's ``Bucketizer``
(:meth:`SparkEngine.histograms` says why not a nested ``CASE``). Only aggregates come back to
the driver: every fetch goes through :meth:`SparkEngine._fetch`, which refuses a plan whose
result is not an aggregate (tested on every query the engine runs).

Supported column types: Spark's numbers (integral, floating, decimal), strings, booleans,
dates and timestamps. Dates written as text need a format, which a schema can declare but
Spark parses with other patterns than ``strftime``: convert such a column to a date in Spark
first (``to_date(col, 'M/d/yy')``); the engine says so for the column. Timestamps count in
UTC microseconds (Spark's ``unix_micros``), as pandas counts naive ones.

PySpark is an optional dependency (``pip install 'lookalike[spark]'``, Java 17); it is imported
when an engine is made.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

import numpy as np

from lookalike.errors import ColumnError, ColumnMismatchError, ConfigError
from lookalike.marginals._duckdb_sql import Note, bin_code_sql, declared_bounds
from lookalike.marginals._spark_schema import schema_from_spark, spark_class
from lookalike.marginals.engine import marginal_request
from lookalike.schema import Column, Kind, Schema
from lookalike.transform.encoder import ColumnCodec, TableEncoder

__all__ = ["SparkEngine", "fetch_aggregate", "is_spark_frame", "not_in_memory", "require_pyspark",
           "schema_from_spark", "spark_frame", "spark_session"]

def require_pyspark() -> Any:
    """The ``pyspark.sql.functions`` module, or a ConfigError that says how to install it."""
    try:
        from pyspark.sql import functions
    except ImportError:
        raise ConfigError("the Spark engine needs PySpark 4 and Java 17: pip install "
                          "'lookalike[spark]' (or choose --engine duckdb)") from None
    return functions


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> Any:
    """The active Spark session, or a new one: ``master`` (default: ``local[*]``, every core
    of this machine; ``spark://host:7077``, ``yarn``, ``k8s://...`` for a cluster) and ``conf``
    (``spark.*`` settings, e.g. ``{"spark.executor.memory": "8g"}``). An active session is
    reused as it is; asking it for another master is refused (Spark keeps one per process).
    The session's time zone is UTC unless ``conf`` says otherwise: dates and timestamps then
    count as pandas counts them. In local mode Python tasks (sampling on Spark) run this
    Python interpreter unless ``PYSPARK_PYTHON`` names another."""
    require_pyspark()
    from pyspark.sql import SparkSession

    conf = dict(conf or {})
    active = SparkSession.getActiveSession()
    if active is not None:
        running = active.sparkContext.master
        if master is not None and master != running:
            raise ConfigError(f"a Spark session with master {running!r} is already running in "
                              f"this process: --spark-master {master!r} cannot start another; "
                              "leave --spark-master out to use it")
        for key, value in conf.items():
            try:
                active.conf.set(key, value)
            except Exception as e:  # static settings: fixed when the session started
                raise ConfigError(f"--spark-conf {key}={value} cannot change the Spark session "
                                  f"already running in this process ({e.__class__.__name__}); "
                                  "set it when the session is made") from None
        return active
    if (master or "local[*]").startswith("local"):  # Python tasks (sampling) run this Python,
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # not the first python3 on PATH
    builder = SparkSession.builder.master(master or "local[*]").appName("lookalike")
    for key, value in ({"spark.sql.session.timeZone": "UTC"} | conf).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def is_spark_frame(data: Any) -> bool:
    """Whether ``data`` is a PySpark DataFrame (classic or Spark Connect), without importing
    PySpark."""
    return type(data).__module__.startswith("pyspark.sql") and type(data).__name__ == "DataFrame"


_SPARK_READS = ("table", "query", "delimiter", "encoding")


def spark_frame(data: Any, read_options: Mapping[str, Any] | None = None, *,
                spark: Any = None) -> tuple[Any, str]:
    """``data`` as a Spark DataFrame, with a label for messages: a Spark DataFrame as it is; a
    Parquet file or folder (partitioned Parquet), or a CSV file (header row, types inferred by
    Spark: one more pass), read by Spark; ``read_options`` ``table`` (a catalog table,
    ``db.t``) or ``query`` (Spark SQL), ``delimiter`` and ``encoding`` (CSV). Nothing is read
    into Python: Spark reads lazily."""
    opts = {k: v for k, v in (read_options or {}).items() if v is not None}
    extra = sorted(set(opts) - set(_SPARK_READS))
    if extra:
        raise ConfigError(f"engine=spark reads the data itself: {', '.join('--' + e for e in extra)} "
                          "do not apply (Spark reads numbers with a decimal point); convert the "
                          "file, or use --engine duckdb")
    if is_spark_frame(data):
        if opts:
            raise ConfigError(f"a Spark DataFrame is read as it is: {sorted(opts)} do not apply")
        return data, "the Spark DataFrame"
    spark = spark or spark_session()
    table, query = opts.pop("table", None), opts.pop("query", None)
    if table is not None or query is not None:
        if data is not None or (table is not None and query is not None) or opts:
            raise ConfigError("engine=spark reads a catalog table (--table db.t) or a Spark SQL "
                              "query (--query) alone, or a Parquet/CSV path: give one of them")
        return (spark.table(table), f"Spark table {table}") if table is not None else (
            spark.sql(query), "the Spark query")
    if not isinstance(data, str | os.PathLike):
        raise ConfigError(f"engine=spark reads a Spark DataFrame, a Parquet/CSV path or a catalog "
                          f"table (--table db.t), not a {type(data).__name__}")
    path = str(data)
    low = path.lower().rstrip("/")
    # Spark resolves a relative path against the JVM's working directory, fixed when the
    # session started: a later chdir (a notebook, a test) would read another file or none
    where = os.path.abspath(path) if "://" not in path and os.path.exists(path) else path
    if low.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        sep = opts.get("delimiter") or ("\t" if ".tsv" in low else ",")
        reader = spark.read.option("header", True).option("inferSchema", True).option("sep", sep)
        if opts.get("encoding"):
            reader = reader.option("encoding", opts["encoding"])
        return reader.csv(where), path
    if opts:
        raise ConfigError(f"{sorted(opts)} apply to CSV files; {path} is read as Parquet")
    if not (low.endswith((".parquet", ".pq")) or os.path.isdir(path) or "://" in path):
        raise ConfigError(f"engine=spark reads Parquet (a file or a folder of parts) and CSV; "
                          f"{path} is neither: convert it, or use --engine duckdb")
    return spark.read.parquet(where), path


def not_in_memory(family: str) -> ConfigError:
    """The refusal of a family that fits rows in memory, given rows that stay in Spark."""
    return ConfigError(
        f"synthesizer {family!r} learns from rows in memory, and a Spark source keeps its rows "
        "in Spark: fit mst, aim or privbayes there (differentially private, from counts that "
        "Spark computes), or fit on a sample you bring to this machine, e.g. "
        "frame.sample(fraction=0.01, seed=0).toPandas() (then the sample is the data the model "
        "and its privacy analysis are about)")


def _q(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + str(name).replace("`", "``") + "`"



class SparkEngine:
    """Exact count queries over a PySpark DataFrame, run by Spark (see the module docstring).

    ``schema`` fixes the columns and their kinds; columns of ``frame`` it leaves out are never
    read. :meth:`close` (or a ``with`` block) forgets the bound encoder.
    """

    def __init__(self, frame: Any, schema: Schema | None = None, *, drop: Iterable[str] = (),
                 label: str = "the Spark DataFrame") -> None:
        self._f = require_pyspark()
        self.label = label
        self.queries = 0
        """Queries run over the data so far (each one pass over the rows)."""
        drop = [str(d) for d in drop]
        if schema is None:
            schema = schema_from_spark(frame, drop=drop, fetch=self._fetch)
        elif drop:
            unknown = [d for d in drop if d not in schema.names and d not in frame.columns]
            if unknown:
                raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are "
                                          f"{list(frame.columns)}")
            schema = Schema(tuple(c for c in schema if c.name not in drop), schema.n_rows,
                            schema.n_rows_source)
        self.schema = schema
        missing = [c.name for c in schema if c.name not in frame.columns]
        if missing:
            raise ColumnError(f"columns {missing} of the schema are not in {label}; "
                              f"its columns: {list(frame.columns)}")
        self._types = {f.name: f.dataType.typeName() for f in frame.schema.fields}
        self._frame = frame
        self._conformed = frame.select(*[self._conform(c).alias(c.name) for c in schema
                                         if c.kind.modelled])
        self._codes: Any = None
        self._sizes: dict[str, int] = {}
        self._written_found: tuple[dict[str, int], dict[str, str]] | None = None

    # ------------------------------------------------------------------ conformed values
    def _class(self, col: Column) -> str:
        return spark_class(col.name, self._types[col.name])

    def _conform(self, col: Column) -> Any:
        """The column as ``Schema.conform`` types it, as a Spark Column."""
        F, x, cls = self._f, self._f.col(_q(col.name)), self._class(col)
        if col.kind is Kind.CATEGORICAL:
            text = self._text(x, cls)
            cats = [c for c in col.categories or () if isinstance(c, str)]
            return F.when(text.isin(cats), text) if col.categories is not None else text
        if col.kind in (Kind.INTEGER, Kind.FLOAT):
            if cls not in ("int", "float", "text"):
                raise ConfigError(f"column {col.name!r} is declared {col.kind.value} but Spark "
                                  f"holds it as {self._types[col.name]}")
            d = x.cast("double")
            d = F.when(F.isnan(d), F.lit(None)).otherwise(d) if cls != "int" else d
            if declared_bounds(col):  # (least and greatest skip NULL: missing stays missing)
                lo, hi = cast(tuple[float, float], col.numeric_bounds())
                d = F.when(d.isNotNull(), F.least(F.greatest(d, F.lit(float(lo))), F.lit(float(hi))))
            return F.bround(d, 0) if col.kind is Kind.INTEGER else d
        if col.kind is Kind.BOOLEAN:
            if cls == "bool":
                return x
            no, yes = (str(t).lower() for t in (col.categories or ("False", "True"))[:2])
            low = F.lower(self._text(x, cls))
            return F.when(low == no, F.lit(False)).when(low == yes, F.lit(True))
        if col.kind is Kind.DATETIME:
            return self._seconds(col, x, cls)
        raise ConfigError(f"column {col.name!r} is {col.kind.value}: not modelled by counts")

    def _text(self, x: Any, cls: str) -> Any:
        """A value as the text conform makes of it for a categorical column."""
        F = self._f
        if cls == "float":
            d = x.cast("double")
            whole = (d == F.floor(d)) & (F.abs(d) < F.lit(1e15))
            return F.when(F.isnan(d), F.lit(None)).when(whole, d.cast("long").cast("string")) \
                .otherwise(d.cast("string"))
        if cls == "bool":
            return F.when(x, F.lit("True")).when(~x, F.lit("False"))
        return x.cast("string")

    def _seconds(self, col: Column, x: Any, cls: str, clip: bool = True) -> Any:
        """A datetime column as ``to_numbers`` makes it: seconds (or days, unit "D") since
        1970, through the same integer nanoseconds, clipped to declared bounds."""
        F = self._f
        if cls == "date":
            ns = F.unix_date(x).cast("long") * F.lit(86_400_000_000_000)
        elif cls == "stamp":
            ns = F.unix_micros(x.cast("timestamp")) * F.lit(1000)
        else:
            raise ConfigError(
                f"column {col.name!r} holds dates as text: convert it to a date or timestamp in "
                f"Spark first (e.g. to_date({col.name}, 'M/d/yy')), or use --engine duckdb")
        if clip and declared_bounds(col):
            import pandas as pd

            lo, hi = (int(pd.Timestamp(b).value) for b in col.bounds or ())
            ns = F.when(ns.isNotNull(), F.least(F.greatest(ns, F.lit(lo)), F.lit(hi)))
        seconds = ns.cast("double") / F.lit(1e9)
        return seconds / F.lit(86400.0) if col.unit == "D" else seconds

    def conform_notes(self) -> list[str]:
        """What conforming the rows to the schema did, in ``Schema.conform``'s words: values
        outside declared bounds (clipped), non-integers in an integer column (rounded), values
        outside declared categories or boolean words (set to missing, with up to five of
        them). One aggregate query; none when the schema declares nothing to check."""
        F = self._f
        checks: list[tuple[Note, Any, Any]] = []
        for col in self.schema:
            if not col.kind.modelled:
                continue
            x, cls = F.col(_q(col.name)), self._class(col)
            if col.kind in (Kind.INTEGER, Kind.FLOAT):
                d = x.cast("double")
                if declared_bounds(col):
                    lo, hi = cast(tuple[float, float], col.numeric_bounds())
                    checks.append((Note(col, "clipped", ""), (d < lo) | (d > hi), None))
                    d = F.least(F.greatest(d, F.lit(float(lo))), F.lit(float(hi)))
                if col.kind is Kind.INTEGER and cls in ("float", "text"):
                    checks.append((Note(col, "rounded", ""), d != F.floor(d), None))
            elif col.kind is Kind.DATETIME and declared_bounds(col):
                checks.append((Note(col, "clipped", ""),
                               self._seconds(col, x, cls) != self._seconds(col, x, cls, clip=False),
                               None))
            elif (col.kind is Kind.BOOLEAN and cls != "bool") or (
                    col.kind is Kind.CATEGORICAL and col.categories is not None):
                unknown = x.isNotNull() & self._conform(col).isNull()
                checks.append((Note(col, "missing", ""), unknown, self._text(x, cls)))
        if not checks:
            return []
        aggs = []
        for _, where, shown in checks:
            aggs.append(F.sum(F.when(where, 1).otherwise(0)))
            aggs.append(F.slice(F.array_sort(F.collect_set(F.when(where, shown))), 1, 5)
                        if shown is not None else F.lit(None))
        found = self._fetch(self._frame.agg(*aggs))[0]
        return [note.text(int(found[2 * i] or 0), list(found[2 * i + 1] or ()))
                for i, (note, _, _) in enumerate(checks) if found[2 * i]]

    def arrow_schema(self) -> Any:
        """The Arrow types of the columns the engine reads, as Spark holds them (timestamps
        naive, as they come to pandas): what samples are stored as (outputs look like inputs)."""
        import pyarrow as pa

        fields = [f for f in self._frame.schema.fields if f.name in self.schema.names]
        return pa.schema([pa.field(f.name, _arrow_type(f.dataType), nullable=f.nullable)
                          for f in fields])

    def written_decimals(self) -> dict[str, int]:
        """The decimals each float column's values are written with, as
        :func:`~lookalike._storage.written_decimals` reads them in memory (columns at a float's
        full precision left out): with :meth:`written_steps`, one aggregate query."""
        return self._written()[0]

    def written_steps(self) -> dict[str, str]:
        """The calendar unit each datetime column's values sit on the start of, as
        :func:`~lookalike._storage.written_step` reads them in memory: with
        :meth:`written_decimals`, one aggregate query."""
        return self._written()[1]

    def _written(self) -> tuple[dict[str, int], dict[str, str]]:
        from lookalike._storage import MAX_DECIMALS, WRITTEN_TOLERANCE, written_facts

        if self._written_found is not None:
            return self._written_found
        F = self._f
        floats = [c for c in self.schema if c.kind is Kind.FLOAT and self._class(c) != "int"]
        stamps = [c for c in self.schema
                  if c.kind is Kind.DATETIME and self._class(c) in ("date", "stamp")]
        aggs = []
        for c in floats:
            d = F.col(_q(c.name)).cast("double")
            finite = d.isNotNull() & ~F.isnan(d) & (F.abs(d) != F.lit(float("inf")))
            for k in range(MAX_DECIMALS + 1):
                scaled = d * F.lit(10.0**k)
                exact = F.abs(scaled - F.round(scaled)) <= F.lit(WRITTEN_TOLERANCE) * F.greatest(
                    F.lit(1.0), F.abs(scaled))
                aggs.append(F.avg(F.when(finite, exact.cast("double"))))
        for c in stamps:
            t = F.col(_q(c.name)).cast("timestamp")
            midnight = F.date_trunc("day", t) == t
            first = midnight & (F.dayofmonth(t) == 1)
            for on in (first & (F.month(t) == 1), first, midnight):
                aggs.append(F.avg(F.when(t.isNotNull(), on.cast("double"))))
        row = self._fetch(self._frame.agg(*aggs))[0] if aggs else []
        self._written_found = written_facts(row, floats, stamps)
        return self._written_found

    def fingerprint(self) -> Any:
        """The content fingerprint of the columns the engine reads, computed by Spark
        (aggregates only): equal to :func:`~lookalike.privacy.fingerprint.fingerprint_frame` of
        the same rows in memory, so that the privacy ledger knows the data whichever engine
        reads it."""
        from lookalike.privacy.fingerprint import fingerprint_spark

        return fingerprint_spark(self._frame, self.schema.names, label=self.label)

    # ------------------------------------------------------------------ fetching
    def _fetch(self, df: Any) -> list:
        """The rows of an aggregate query; anything else is refused (the rows stay in Spark)."""
        self.queries += 1
        return fetch_aggregate(df)

    def _column(self, column: str) -> Column:
        if column not in self.schema or not self.schema[column].kind.modelled:
            raise ColumnError(f"no modelled column {column!r} in the table; "
                              f"columns: {self.schema.names}")
        return self.schema[column]

    # ------------------------------------------------------------------ queries
    def n_rows(self) -> int:
        """The exact row count (one aggregate, run once; private)."""
        if getattr(self, "_counted", None) is None:
            self._counted = int(self._fetch(self._frame.agg(self._f.count(self._f.lit(1))))[0][0])
        return self._counted

    def missing_counts(self) -> dict[str, int]:
        """Missing values of each column of the schema, as conformed where modelled (what
        ``inspect`` shows): one aggregate query."""
        F, names = self._f, self.schema.names
        cols = [(self._conform(c) if c.kind.modelled else F.col(_q(c.name))).alias(f"c{i}")
                for i, c in enumerate(self.schema)]
        counts = [(F.count(F.lit(1)) - F.count(F.col(f"c{i}"))) for i in range(len(names))]
        got = self._fetch(self._frame.select(*cols).agg(*counts))[0] if names else []
        return {n: int(v) for n, v in zip(names, got, strict=True)}

    def value_counts(self, column: str) -> dict:
        """Count of each distinct non-missing value of a categorical or boolean column."""
        col = self._column(column)
        x = self._f.col(_q(column))
        rows = self._fetch(self._conformed.where(x.isNotNull()).groupBy(x).count())
        if col.kind is Kind.BOOLEAN:
            return {bool(v): int(n) for v, n in rows}
        return {v: int(n) for v, n in rows}

    def histogram(self, column: str, edges: Iterable[float]) -> np.ndarray:
        """Counts of a numeric/datetime column in ``len(edges) + 1`` cells (see Engine): one
        column's :meth:`histograms`."""
        return self.histograms({column: edges})[column]

    def histograms(self, requests: Mapping[str, Iterable[float]]) -> dict[str, np.ndarray]:
        """Histograms of many numeric/datetime columns (``{column: edges}``) in one pass over
        the rows: ``{column: counts}``, each as :meth:`histogram` gives it.

        One ``Bucketizer`` (a binary search in the JVM) gives every column's cell, ``stack`` turns
        each row into one (column, cell) row per column, and one ``GROUP BY`` counts them.
        Measured on Adult's discovery rounds (6 columns, 46 to 660 edges a round; 10^6 rows,
        local Spark on 2 loaded cores): 5.8 s for the 5 rounds against 11 s column by column;
        binning in the executors' Python workers (``mapInArrow``, ``np.searchsorted``) took
        6.6 s, plus 8 s to start them; one nested ``CASE`` per column 26 s, and a
        ``count_if`` per cell in one global aggregate 64 s already on 32,561 rows. (A nested
        ``CASE`` over discovery's finest levels, 1,000+ edges, outgrew Java's method size and
        Spark interpreted it row by row: 2.8 s a query.)
        """
        if not requests:
            return {}
        names = list(requests)
        edges, splits, cell_of = [], [], []
        for name in names:
            self._column(name)
            e = np.asarray(list(requests[name]), dtype=float)
            if not np.all(np.isfinite(e)) or np.any(np.diff(e) < 0):
                raise ConfigError(f"histogram edges for {name!r} must be finite and sorted")
            # bucket j of the unique edges holds the values with j of them at or below; with
            # repeated edges the cell is the number of all edges at or below (searchsorted
            # right); no edges: one cell (two buckets, as Bucketizer needs a split)
            unique = np.unique(e)
            edges.append(e)
            splits.append([-np.inf, *(unique.tolist() or [0.0]), np.inf])
            cell_of.append(np.concatenate([[0], np.searchsorted(e, unique, side="right")])
                           if len(unique) else np.zeros(2, dtype=np.int64))
        from pyspark.ml.feature import Bucketizer

        F = self._f
        xs = [f"x{i}" for i in range(len(names))]
        cells = [f"c{i}" for i in range(len(names))]
        numbers = self._conformed.select(*[F.col(_q(n)).cast("double").alias(x)
                                           for n, x in zip(names, xs, strict=True)])
        # missing values stay missing (NULL cells, not counted); NaN, which conform makes
        # missing anyway, would take the bucket past the last split, skipped below
        binned = Bucketizer(splitsArray=splits, inputCols=xs, outputCols=cells,
                            handleInvalid="keep").transform(numbers)
        pairs = ", ".join(f"{i}, {c}" for i, c in enumerate(cells))
        counted = (binned.selectExpr(f"stack({len(cells)}, {pairs}) AS (m, cell)")
                   .where("cell IS NOT NULL").groupBy("m", "cell").count())
        out = [np.zeros(len(e) + 1, dtype=np.int64) for e in edges]
        for m, cell, n in self._fetch(counted):
            m, cell = int(m), int(cell)
            if cell < len(cell_of[m]):
                out[m][cell_of[m][cell]] += int(n)
        return dict(zip(names, out, strict=True))

    def value_counts_many(self, columns: Iterable[str]) -> dict[str, dict]:
        """Value counts of many categorical or boolean columns (``{column: counts}``, each as
        :meth:`value_counts` gives it): one pass over the rows for the columns of each Spark
        type (discovery asks for categorical columns only, all text: one pass).

        ``stack`` turns each row into one (column, value) row per column and one ``GROUP BY``
        counts them: on Adult's 9 categorical columns (local Spark) 1.1-1.9 s over 10^6 rows
        against 2.6-3.2 s column by column, and 2.7 s with ``GROUPING SETS``.
        """
        names = list(dict.fromkeys(columns))
        types: dict[str, list[str]] = {}
        for name in names:
            self._column(name)
            types.setdefault(self._conformed.schema[name].dataType.simpleString(), []).append(name)
        out: dict[str, dict] = {}
        for same in types.values():
            if len(same) == 1:
                out[same[0]] = self.value_counts(same[0])
                continue
            pairs = ", ".join(f"{i}, {_q(n)}" for i, n in enumerate(same))
            counted = (self._conformed.selectExpr(f"stack({len(same)}, {pairs}) AS (m, v)")
                       .where("v IS NOT NULL").groupBy("m", "v").count())
            found: list[dict] = [{} for _ in same]
            for m, v, n in self._fetch(counted):
                found[int(m)][v] = int(n)
            for name, counts in zip(same, found, strict=True):
                out[name] = ({bool(v): n for v, n in counts.items()}
                             if self.schema[name].kind is Kind.BOOLEAN else counts)
        return {name: out[name] for name in names}

    def bind(self, encoder: TableEncoder) -> None:
        """Define the encoder's codes as Spark expressions over the conformed columns (for
        :meth:`marginals`), each cast to the narrowest integer type that holds it so that a
        counting pass moves 1 or 2 bytes a cell. Nothing runs yet; nothing comes to the driver."""
        self.close()
        exprs = []
        for codec in encoder.codecs:
            self._column(codec.column.name)
            width = "TINYINT" if codec.size < 127 else "SMALLINT" if codec.size < 32767 else "INT"
            exprs.append(f"CAST({_code_sql(codec, _q(codec.column.name))} AS {width}) "
                         f"AS {_q(codec.column.name)}")
        self._codes = self._conformed.selectExpr(*exprs)
        self._sizes = dict(zip(encoder.names, encoder.sizes, strict=True))

    def marginal(self, attrs: tuple[str, ...]) -> np.ndarray:
        """Counts of the bound encoder's codes of ``attrs``: an int64 array, one axis per attr."""
        return self.marginals([tuple(attrs)])[tuple(attrs)]

    def marginals(self, attr_sets: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], np.ndarray]:
        """Many marginals in one pass over the rows: ``{attrs: counts}``.

        Each task counts every requested marginal over its partition's codes (Arrow batches,
        ``np.bincount`` of the flattened cell index) and emits only its nonzero cells; Spark
        sums the cells over tasks and the driver gets the summed count tables, never a row.
        One pass whatever the number of marginals (105 2-ways of Adult: one pass), as
        ``GROUPING SETS`` would be, at a cost that does not grow with the number of sets:
        ``GROUPING SETS`` expands every row once per set before aggregating, and measured
        over 10^6 Adult rows it took 176 s for the 105 2-ways against DuckDB's 1.6 s. Sets
        whose cells together exceed :data:`_CELLS_PER_PASS` take more passes (in groups).
        """
        if self._codes is None:
            raise RuntimeError("bind an encoder before asking for marginals")
        wanted, sets = marginal_request(attr_sets, list(self._sizes))
        names = list(self._sizes)
        ordered = {s: [a for a in names if a in s] for s in sets}
        tables: dict[frozenset, np.ndarray] = {}
        group: list[frozenset] = []
        cells = 0
        for s in sets + [None]:
            size = 0 if s is None else int(np.prod([self._sizes[a] for a in ordered[s]]))
            if group and (s is None or cells + size > _CELLS_PER_PASS):
                tables.update(self._count_pass([(g, ordered[g]) for g in group]))
                group, cells = [], 0
            if s is not None:
                group.append(s)
                cells += size
        out = {}
        for attrs in wanted:
            order = ordered[frozenset(attrs)]
            out[attrs] = tables[frozenset(attrs)].transpose([order.index(a) for a in attrs])
        return out

    def _count_pass(self, sets: list[tuple[frozenset, list[str]]]) -> dict[frozenset, np.ndarray]:
        """The count tables of ``sets`` (each with its attrs in order) from one pass."""
        F = self._f
        used = list(dict.fromkeys(a for _, attrs in sets for a in attrs))
        specs = [([used.index(a) for a in attrs], [self._sizes[a] for a in attrs])
                 for _, attrs in sets]
        counter = _partition_counter(used, specs)
        counted = (self._codes.select(*[F.col(_q(a)) for a in used])
                   .mapInArrow(counter, "m INT, cell BIGINT, n BIGINT")
                   .groupBy("m", "cell").agg(F.sum("n").alias("n")))
        rows = self._fetch(counted)
        tables = [np.zeros(int(np.prod(sizes)), dtype=np.int64) for _, sizes in specs]
        for m, cell, n in rows:
            if m < 0:  # a column's count of codes that cannot be encoded
                raise ValueError(f"column {used[-1 - m]!r} has missing values but no missing state")
            tables[m][cell] += n
        return {s: t.reshape([self._sizes[a] for a in attrs])
                for (s, attrs), t in zip(sets, tables, strict=True)}

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Forget the bound encoder's codes."""
        self._codes = None
        self._sizes = {}

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: cells of the count tables one pass holds (per task: 8 bytes each, so 160 MB at most)
_CELLS_PER_PASS = 20_000_000


def _partition_counter(used: list[str], specs: list[tuple[list[int], list[int]]]) -> Any:
    """The function each Spark task runs over its Arrow batches of codes (columns ``used``):
    it adds every batch into one dense count table per marginal (``specs``: the positions of
    its columns in ``used`` and their sizes) and, at the end of the partition, yields the
    nonzero cells as rows (marginal, cell, count), plus (-1 - column, 0, count) for codes
    that could not be encoded. A closure over plain lists and NumPy, so Spark ships it by
    value: executors need NumPy and PyArrow (which PySpark's Arrow support needs anyway), not
    lookalike."""

    def count(batches: Any) -> Any:
        import numpy as np
        import pyarrow as pa

        tables = [np.zeros(int(np.prod(sizes)), dtype=np.int64) for _, sizes in specs]
        bad = np.zeros(len(used), dtype=np.int64)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            cols = [batch.column(i).to_numpy(zero_copy_only=False).astype(np.int64)
                    for i in range(len(used))]
            for j, c in enumerate(cols):
                bad[j] += int((c < 0).sum())
            for t, (pos, sizes) in enumerate(specs):
                if not pos:
                    tables[t][0] += batch.num_rows
                    continue
                key = cols[pos[0]].copy()
                for p, size in zip(pos[1:], sizes[1:], strict=True):
                    key *= size
                    key += cols[p]
                if bad.any():
                    key = key[np.all([cols[p] >= 0 for p in pos], axis=0)]
                tables[t] += np.bincount(key, minlength=len(tables[t]))
        ms, cells, ns = [], [], []
        for t, table in enumerate(tables):
            nz = np.flatnonzero(table)
            ms.append(np.full(len(nz), t, dtype=np.int32))
            cells.append(nz.astype(np.int64))
            ns.append(table[nz])
        broken = np.flatnonzero(bad)
        ms.append((-1 - broken).astype(np.int32))
        cells.append(np.zeros(len(broken), dtype=np.int64))
        ns.append(bad[broken])
        yield pa.RecordBatch.from_arrays(
            [pa.array(np.concatenate(ms)), pa.array(np.concatenate(cells)),
             pa.array(np.concatenate(ns))], names=["m", "cell", "n"])

    return count


def _code_sql(codec: ColumnCodec, x: str) -> str:
    """Spark SQL for ``codec.encode`` of the conformed column ``x``; -1 where that would raise."""
    col = codec.column
    missing = codec.n_values if codec.has_missing else -1
    if codec.bins is not None:
        code = bin_code_sql(codec, x)
    elif col.kind is Kind.BOOLEAN:
        code = f"CAST({x} AS INT)"
    elif col.kind is Kind.CATEGORICAL:
        unknown = codec.fallback if codec.fallback is not None else missing
        named = [(i, c) for i, c in enumerate(codec.categories or ()) if isinstance(c, str)]
        code = str(unknown)
        if named:
            pairs = ", ".join(f"{_text_literal(c)}, {i}" for i, c in named)
            code = f"coalesce(try_element_at(map({pairs}), {x}), {unknown})"
    else:
        raise ConfigError(f"column {col.name!r} is {col.kind.value}: categories cannot code it")
    return f"CAST(CASE WHEN {x} IS NULL THEN {missing} ELSE {code} END AS INT)"


def _text_literal(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


#: Spark SQL settings for the engine's queries, where the session keeps Spark's defaults
#: (``(setting, Spark's default, ours)``), set for each query and restored after it (they
#: are read when a query runs, on the driver):
#:
#: * ``hugeMethodLimit`` 8000 (HotSpot's own limit): whole-stage code generation of the code
#:   expressions (a CASE binary search per binned column) writes methods above 8,000 bytes
#:   of bytecode, which the JVM never compiles to machine code and interprets at every row.
#:   Spark's docs suggest 8000 on HotSpot; the stage then runs as compiled expressions.
#:   A counting pass over Adult resampled to 10^7 rows (120 marginals, local[2]): 77.6 s ->
#:   42.9 s (42.1 s with the JVM option -XX:-DontCompileHugeMethods instead).
#: * ``maxRecordsPerBatch`` 100,000: the Arrow batches that carry the codes to the counting
#:   tasks; fewer per-batch calls (the same pass: 42.1 s -> 37.5 s).
SESSION_TUNING = (("spark.sql.codegen.hugeMethodLimit", "65535", "8000"),
                  ("spark.sql.execution.arrow.maxRecordsPerBatch", "10000", "100000"))


@contextlib.contextmanager
def _tuned(spark: Any) -> Iterator[None]:
    """:data:`SESSION_TUNING` for the queries run inside it, where the session has Spark's
    defaults; a setting the user gave is left as it is."""
    changed = []
    for key, default, ours in SESSION_TUNING:
        if spark.conf.get(key, default) == default:
            spark.conf.set(key, ours)
            changed.append(key)
    try:
        yield
    finally:
        for key in changed:
            spark.conf.unset(key)


def fetch_aggregate(df: Any) -> list:
    """The rows of an aggregate query over private rows; any other plan is refused, so that
    only counts and sums (never rows) come back from Spark to the driver. Run with
    :data:`SESSION_TUNING`."""
    plan = df._jdf.queryExecution().optimizedPlan()
    if not _aggregates(plan):
        raise RuntimeError("lookalike fetched a Spark query that is not an aggregate: "
                           f"{plan.toString()[:200]}")
    with _tuned(df.sparkSession):
        return df.collect()


def _aggregates(plan: Any) -> bool:
    """Whether a Spark logical plan's result is an aggregate: an Aggregate (or a count over
    the rows) under nothing but projections, filters and sorts of its output."""
    node = plan
    while True:
        name = node.nodeName()
        if name == "Aggregate":
            return True
        if name in ("Project", "Filter", "Sort", "Expand") and node.children().size() == 1:
            node = node.children().apply(0)
            continue
        return False


def _arrow_type(spark_type: Any) -> Any:
    """The Arrow type a Spark column comes to pandas as (timestamps naive, as ``toPandas``
    gives them). Written out here rather than taken from PySpark, whose helper changed its
    signature between 4.0 and 4.3."""
    import pyarrow as pa
    from pyspark.sql import types as T

    simple = {T.BooleanType: pa.bool_(), T.ByteType: pa.int8(), T.ShortType: pa.int16(),
              T.IntegerType: pa.int32(), T.LongType: pa.int64(), T.FloatType: pa.float32(),
              T.DoubleType: pa.float64(), T.StringType: pa.string(), T.DateType: pa.date32(),
              T.BinaryType: pa.binary(), T.NullType: pa.null()}
    for cls, arrow in simple.items():
        if isinstance(spark_type, cls):
            return arrow
    if isinstance(spark_type, T.DecimalType):
        return pa.decimal128(spark_type.precision, spark_type.scale)
    if isinstance(spark_type, (T.TimestampType, T.TimestampNTZType)):
        return pa.timestamp("us")
    raise TypeError(f"no Arrow type for the Spark type {spark_type.simpleString()}")

