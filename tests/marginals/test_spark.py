"""The Spark engine gives the NumPy engine's counts, and only aggregates leave Spark.

One local Spark session (2 threads, UTC: the ``spark`` fixture of conftest) serves the tests; the tests skip where PySpark or
Java is missing (install the test extra: ``pip install -e '.[test]'``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from seeded_noise import seeded_noise

from lookalike.errors import ColumnError, ConfigError
from lookalike.marginals import NumpyEngine
from lookalike.schema import Column, Kind, Schema, infer_schema
from lookalike.transform.encoder import TableEncoder

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17", allow_module_level=True)

from pyspark.sql import types as T  # noqa: E402

from lookalike.marginals.spark import SparkEngine, _aggregates  # noqa: E402

N = 400


@pytest.fixture(scope="module")
def rows():
    """Every kind the engine counts, with missing values in each column."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(N):
        gone = rng.random(6) < 0.08
        out.append((
            None if gone[0] else str(rng.choice(["north", "south", "east", "rare"], p=[.5, .3, .19, .01])),
            None if gone[1] else int(rng.integers(1, 6)),
            None if gone[2] else float(np.round(rng.lognormal(3, 1), 2)),
            None if gone[3] else bool(rng.random() < 0.3),
            None if gone[4] else dt.date(2000, 1, 1) + dt.timedelta(days=int(rng.integers(0, 3000))),
            None if gone[5] else dt.datetime(2020, 1, 1) + dt.timedelta(seconds=int(rng.integers(0, 10**7))),
        ))
    return out


NAMES = ["region", "code", "amount", "flag", "day", "stamp"]
SPARK_TYPES = [T.StringType(), T.LongType(), T.DoubleType(), T.BooleanType(), T.DateType(),
               T.TimestampType()]


def _pandas(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=NAMES)
    df["code"] = df["code"].astype("Int64")
    df["flag"] = df["flag"].astype("boolean")
    df["day"] = pd.to_datetime(df["day"])
    df["stamp"] = pd.to_datetime(df["stamp"])
    return df


def _schema(df: pd.DataFrame) -> Schema:
    """The inferred schema with declared facts that conform acts on: bounds that clip, a
    category list that leaves 'rare' out, a date column counted in days."""
    s = infer_schema(df)
    s = s.with_column(s["amount"].replace("declared", bounds=(5.0, 60.0)))
    s = s.with_column(s["region"].replace("declared", categories=("north", "south", "east")))
    return s.with_column(s["day"].replace("declared", bounds=("2001-01-01", "2007-12-31"), unit="D"))


@pytest.fixture(scope="module")
def engines(spark, rows):
    df = _pandas(rows)
    schema = _schema(df)
    frame = spark.createDataFrame(rows, T.StructType([T.StructField(n, t) for n, t in
                                                      zip(NAMES, SPARK_TYPES, strict=True)]))
    with warnings.catch_warnings():  # (conform's notes on the clipped and unknown values)
        warnings.simplefilter("ignore", UserWarning)
        conformed = schema.conform(df)
    with SparkEngine(frame, schema) as engine:
        yield NumpyEngine(conformed, schema), engine


def test_counts_equal_the_numpy_engine(engines):
    ref, engine = engines
    assert engine.n_rows() == ref.n_rows() == N
    for col in ("region", "flag"):
        assert engine.value_counts(col) == ref.value_counts(col)
    assert "rare" not in engine.value_counts("region")  # outside the declared categories
    for col, edges in (("amount", [5.0, 10.0, 20.000001, 60.0]), ("code", [2.0, 2.5, 5.0]),
                       ("day", [11_500.0, 12_000.0, 13_879.0]),
                       ("stamp", [1_578_000_000.0, 1_580_000_000.0, 1.6e9]),
                       ("amount", [10.0, 10.0, 20.0]),  # a repeated edge: its cell stays empty
                       ("amount", list(np.linspace(0.0, 100.0, 2001))),  # as discovery's finest
                       ("code", [])):
        assert engine.histogram(col, edges).tolist() == ref.histogram(col, edges).tolist(), col
    # the clipped amounts sit on the declared bounds, as conform puts them
    assert engine.histogram("amount", [5.0, 5.0000001])[1] == ref.histogram("amount", [5.0, 5.0000001])[1] > 0


def test_marginals_of_a_bound_encoder_equal_the_numpy_engine(engines):
    ref, engine = engines
    data = ref.data
    encoder = TableEncoder.fit(data, ref.schema, n_bins=6)
    ref.bind(encoder)
    engine.bind(encoder)
    pairs = [("region", "code"), ("amount", "flag"), ("day", "stamp"), ("code",), ("stamp", "region", "flag")]
    got = engine.marginals(pairs)
    for attrs in pairs:
        assert np.array_equal(got[attrs], ref.marginal(attrs)), attrs
    assert np.array_equal(engine.marginal(("flag", "amount")), ref.marginal(("flag", "amount")))


def test_marginals_too_large_for_one_pass_take_several(engines, monkeypatch):
    """Sets whose cells exceed a pass's limit are counted in groups, with the same counts."""
    import lookalike.marginals.spark as spark_engine

    ref, engine = engines
    encoder = TableEncoder.fit(ref.data, ref.schema, n_bins=6)
    ref.bind(encoder)
    engine.bind(encoder)
    pairs = [("region", "code"), ("amount", "flag"), ("day", "stamp"), ("stamp", "region", "flag")]
    sizes = dict(zip(encoder.names, encoder.sizes, strict=True))
    cells = [int(np.prod([sizes[a] for a in p])) for p in pairs]
    monkeypatch.setattr(spark_engine, "_CELLS_PER_PASS", max(cells))
    # greedy groups in request order, each within the limit
    passes, held = 0, 0
    for c in cells:
        if held == 0 or held + c > max(cells):
            passes, held = passes + 1, 0
        held += c
    before = engine.queries
    got = engine.marginals(pairs)
    assert engine.queries - before == passes > 1
    for attrs in pairs:
        assert np.array_equal(got[attrs], ref.marginal(attrs)), attrs


def test_missing_values_without_a_missing_state_are_named(spark):
    """A code Spark cannot encode (-1) stops the count with the column named."""
    from lookalike.transform.encoder import ColumnCodec

    schema = infer_schema(pd.DataFrame({"region": ["north", "south"] * 5}))
    frame = spark.createDataFrame([("north",), (None,), ("south",)], "region string")
    encoder = TableEncoder((ColumnCodec(schema["region"], ("north", "south"), None, False),))
    with SparkEngine(frame, schema) as engine:
        engine.bind(encoder)
        with pytest.raises(ValueError, match="'region' has missing values but no missing state"):
            engine.marginal(("region",))


def test_a_fallback_code_takes_the_other_categories(spark, rows):
    """A DP domain's "other" code (fallback) takes values outside the kept categories."""
    from lookalike.transform.encoder import ColumnCodec

    df = _pandas(rows)
    schema = infer_schema(df[["region"]])
    frame = spark.createDataFrame([(r[0],) for r in rows], "region string")
    codec = ColumnCodec(schema["region"], ("north", "south", "other"), None, True, fallback=2)
    encoder = TableEncoder((codec,))
    ref = NumpyEngine(schema.conform(df[["region"]]), schema)
    ref.bind(encoder)
    with SparkEngine(frame, schema) as engine:
        engine.bind(encoder)
        assert np.array_equal(engine.marginal(("region",)), ref.marginal(("region",)))


def test_only_aggregates_reach_the_driver(engines, monkeypatch):
    """Every query the engine fetches is an aggregate; a row-returning fetch is refused."""
    ref, engine = engines
    DataFrame = type(engine._conformed)  # (Spark 4: pyspark.sql.classic's DataFrame)
    seen = []
    collect = DataFrame.collect

    def recording(self):
        seen.append(self)
        assert _aggregates(self._jdf.queryExecution().optimizedPlan())
        return collect(self)

    monkeypatch.setattr(DataFrame, "collect", recording)
    engine.bind(TableEncoder.fit(ref.data, ref.schema, n_bins=4))
    engine.marginals([("region", "flag"), ("code",)])
    engine.value_counts("region")
    engine.histogram("amount", [10.0])
    vars(engine).pop("_counted", None)  # (the row count is cached: forget an earlier test's)
    engine.n_rows()
    engine.n_rows()  # counted once
    assert len(seen) == 4  # both marginals in one pass
    with pytest.raises(RuntimeError, match="not an aggregate"):
        engine._fetch(engine._conformed)


def test_unsupported_columns_are_named(spark):
    frame = spark.createDataFrame([("1/2/85", [1])], "d string, xs array<int>")
    schema = Schema([Column("d", Kind.DATETIME, nullable=True, format="%m/%d/%y")])
    with pytest.raises(ConfigError, match=r"column 'd' holds dates as text.*to_date"):
        SparkEngine(frame, schema)
    with pytest.raises(ConfigError, match=r"column 'xs' is a Spark array"):
        SparkEngine(frame, Schema([Column("xs", Kind.CATEGORICAL, nullable=True)]))
    with pytest.raises(ColumnError, match=r"not in the Spark DataFrame"):
        SparkEngine(frame, Schema([Column("nope", Kind.CATEGORICAL, nullable=True)]))


def test_dp_discovery_runs_on_spark_with_the_same_domains(engines, rows, monkeypatch):
    """Domain discovery reads a table only through value_counts and histogram: on the Spark
    engine it finds the NumPy engine's categories and bins, exactly and under the same
    (seeded) noise."""
    ref, engine = engines
    undeclared = Schema([c.replace("data", categories=None) if c.kind is Kind.CATEGORICAL else c
                         for c in ref.schema])

    def domains(counts, seed):
        discovery = seeded_noise(monkeypatch, seed or 0)
        found = discovery.discover_domain(counts, undeclared, rho=None if seed is None else 0.05,
                                          delta=1e-9, one_way_rho=0.05, n_rows=N)
        return [(d.categories, None if d.bins is None else (d.bins.lower.tolist(), d.bins.upper.tolist()))
                for d in found.domains]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref_engine = NumpyEngine(undeclared.conform(_pandas(rows)), undeclared)
    with SparkEngine(engine._frame, undeclared) as spark_engine:
        for seed in (None, 3):
            assert domains(spark_engine, seed) == domains(ref_engine, seed), seed


def test_many_columns_counted_in_one_pass(spark, engines, rows):
    """``histograms`` and ``value_counts_many`` (what discovery asks: a tree level of every
    numeric column, the counts of every categorical one) give each column's own counts, in
    one query (one for each Spark type of the columns asked), aggregates only."""
    from pyspark.sql import functions as F

    from lookalike.privacy.discovery import discover_domain

    ref, engine = engines
    for requests in ({"amount": [5.0, 10.0, 20.000001, 60.0], "code": [2.0, 2.0, 5.0],
                      "day": [12_000.0], "stamp": []},
                     {"amount": np.linspace(0.0, 70.0, 2001).tolist(), "code": [3.0]}):
        before = engine.queries
        got = engine.histograms(requests)
        assert engine.queries - before == 1
        for name, edges in requests.items():
            want = ref.histogram(name, edges).tolist()
            assert got[name].tolist() == want == engine.histogram(name, edges).tolist(), name
    # a second text column: text columns are stacked into one query, the flag has its own
    df = _pandas(rows).assign(upper=lambda d: d["region"].str.upper())
    schema = Schema((*ref.schema.columns, Column("upper", Kind.CATEGORICAL, nullable=True)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        both = NumpyEngine(schema.conform(df), schema)
    with SparkEngine(engine._frame.withColumn("upper", F.upper("region")), schema) as wider:
        before = wider.queries
        counts = wider.value_counts_many(["region", "flag", "upper"])
        assert wider.queries - before == 2
        for name in ("region", "flag", "upper"):
            assert counts[name] == both.value_counts(name) == wider.value_counts(name), name
        assert "rare" not in counts["region"] and "RARE" in counts["upper"]
        assert set(map(type, counts["flag"])) == {bool}
        # discovery on Spark: a level of every column per query, categories in one
        before = wider.queries
        found = discover_domain(wider, schema, rho=0.05, delta=1e-9, one_way_rho=0.05, n_rows=N)
        levels = max(found.columns[c]["levels"] for c in ("code", "amount", "day", "stamp"))
        assert wider.queries - before <= levels + 1 + 1  # the levels, the fine one, categories
    with pytest.raises(ConfigError, match="'code' must be finite and sorted"):
        engine.histograms({"code": [2.0, 1.0]})
