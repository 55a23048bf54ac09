"""fingerprint_spark: Spark computes fingerprint_frame's fingerprint, with aggregate queries only.

One local Spark session (the ``spark`` fixture of conftest: 2 threads, UTC) serves the tests;
they skip where PySpark or Java 17 is missing.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import shutil
import struct
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from lookalike.errors import DataError
from lookalike.privacy import fingerprint as fp
from lookalike.privacy.fingerprint import (
    SKETCH_SIZE,
    fingerprint_duckdb,
    fingerprint_frame,
    fingerprint_spark,
)

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17", allow_module_level=True)

from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from lookalike.marginals.spark import _aggregates  # noqa: E402

UTC = dt.UTC
EDGE_FLOATS = [0.1, 1 / 3, 1e-5, 123456789012345.6, 1e20, -0.0, math.inf, -math.inf, math.nan,
               5e-324, 2.5, -7.0, 1e-300, 1.7976931348623157e308, 2.2250738585072014e-308,
               0.1234567890125,  # 13 digits ending in 5: a near tie, decided by the exact value
               123456789012.5,  # an exact tie: half to even
               999999999999.5, 1e-4, 9.999999999995e-5, 2.0**53 + 2, 2.82879384806159e17, None]
TEXTS = [" a ", "\u00a0b\u2003", "x y", "005", " 5.0 ", "NA", "", "n/a", " #N/A ", "TRUE",
         "False", "1e5", ".5", "+7", "-0", "12345678901234567890", "0000000000000000000000042",
         "9007199254740993", "3.14159265358979", "inf", "nan", "\x1e", "é", "x\ty", "\u3000",
         "null", None]
COLUMNS = [  # name, Spark type, values (cycled over the rows; None: missing)
    ("i8", T.ByteType(), [1, -128, 127, None]),
    ("i16", T.ShortType(), [-32768, 5, None]),
    ("i32", T.IntegerType(), [2**31 - 1, 0, None, -5]),
    ("i64", T.LongType(), [2**53, 2**53 + 1, -(2**60), 7, None, -(2**63)]),
    ("f32", T.FloatType(), [float(np.float32(v)) for v in (0.1, 1e-5, 3.5, 16777217.0)]
     + [math.nan, None]),
    ("f64", T.DoubleType(), EDGE_FLOATS),
    ("dec", T.DecimalType(20, 6), [Decimal("1.500000"), Decimal("12345678901234.123456"),
                                   Decimal("-0.000001"), Decimal("5"), None,
                                   Decimal("99999999999999.999999")]),
    ("text", T.StringType(), TEXTS),
    ("flag", T.BooleanType(), [True, False, None]),
    ("day", T.DateType(), [dt.date(2020, 1, 31), dt.date(1969, 12, 31), dt.date(99, 3, 8), None]),
    ("utc", T.TimestampType(), [dt.datetime(2020, 1, 1, tzinfo=UTC),
                                dt.datetime(2020, 3, 8, 2, 30, 0, 500000, tzinfo=UTC),
                                dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                                dt.datetime(2021, 6, 1, 12, 0, 1, tzinfo=UTC), None]),
    ("local", T.TimestampNTZType(), [dt.datetime(2020, 3, 8, 2, 30, 0, 500000),
                                     dt.datetime(2020, 1, 1), None,
                                     dt.datetime(1960, 5, 5, 5, 5, 5, 123)]),
]


def _edge_rows() -> list[tuple]:
    n = max(len(values) for _, _, values in COLUMNS)
    return [tuple(values[i % len(values)] for _, _, values in COLUMNS) for i in range(n)]


@pytest.fixture(scope="module")
def edge(spark):
    """(a Spark frame of every supported type with edge values, the same table in pandas)."""
    rows = _edge_rows()
    schema = T.StructType([T.StructField(name, t) for name, t, _ in COLUMNS])
    frame = spark.createDataFrame(rows, schema).cache()  # (else each query reads from Python)
    return frame, pd.DataFrame(rows, columns=[name for name, _, _ in COLUMNS])


def _random_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = pd.array(rng.integers(18, 90, n), dtype="Int64")
    age[rng.random(n) < 0.1] = pd.NA
    income = rng.normal(5e4, 1e4, n).round(2)
    income[rng.random(n) < 0.1] = np.nan
    start = pd.Timestamp("2020-01-01")
    return pd.DataFrame({
        "age": age,
        "income": income,
        "ratio": rng.random(n),  # full-precision floats
        "sex": rng.choice(np.array([" F", "M ", None, "NA"], dtype=object), n),
        "member": pd.array(rng.random(n) < 0.5, dtype="boolean"),
        "joined": (start + pd.to_timedelta(rng.integers(0, 900, n), unit="D")).date,
        "seen": start + pd.to_timedelta(rng.integers(0, 10**11, n), unit="ms"),
        "code": rng.choice(np.array(["007", "7.0", "x,y", "é"], dtype=object), n),
    })


def _to_spark(spark, df: pd.DataFrame):
    """``df`` as a Spark frame, typed column by column (missing values as NULL)."""
    types = {"age": T.LongType(), "income": T.DoubleType(), "ratio": T.DoubleType(),
             "sex": T.StringType(), "member": T.BooleanType(), "joined": T.DateType(),
             "seen": T.TimestampNTZType(), "code": T.StringType()}

    def plain(v):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, pd.Timestamp):
            return v.to_pydatetime()
        return v.item() if isinstance(v, np.generic) else v

    rows = [tuple(plain(v) for v in row) for row in df.astype(object).itertuples(index=False)]
    schema = T.StructType([T.StructField(c, types[c]) for c in df.columns])
    return spark.createDataFrame(rows, schema).cache()


@pytest.mark.parametrize("lambdas", [True, False], ids=["lambdas", "generated-code"])
def test_every_type_and_edge_value_equals_pandas(edge, lambdas, monkeypatch):
    """Both ways of running the per-cell steps: lambdas (small tables) and generated code."""
    monkeypatch.setattr(fp, "_LAMBDA_CELLS", 10**9 if lambdas else 0)
    frame, pdf = edge
    got, want = fingerprint_spark(frame), fingerprint_frame(pdf)
    assert dict(got.columns) == dict(want.columns)
    assert got == want and got.n_rows == len(pdf)


def test_float_text_is_pythons_12g(spark):
    """The canonical text of doubles is Python's ``%.12g`` (exactly rounded), for random bit
    patterns (subnormals, huge, tiny), random magnitudes and 13-digit decimals ending in 5,
    whose rounding only the exact binary value decides."""
    rng = random.Random(0)
    values = list(EDGE_FLOATS)
    values += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(1500)]
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30) for _ in range(1000)]
    values += [float(f"{rng.randint(10**11, 10**12 - 1)}5e{rng.randint(-40, 40)}")
               for _ in range(1000)]
    frame = spark.createDataFrame([(v,) for v in values], "x double")
    want = [fp._MISSING if fp._canon(v) is None else fp._canon(v) for v in values]
    for lambdas in (True, False):
        texts = [row[0] for row in fp._spark_texts(frame, ["x"], ["float"], lambdas=lambdas)
                 .collect()]  # (a test may fetch rows: these are made up)
        wrong = [(v, t, w) for v, t, w in zip(values, texts, want, strict=True) if t != w]
        assert not wrong, (lambdas, wrong[:10])


def test_2000_rows_in_any_order_and_partitioning(spark):
    """More rows than the candidate threshold keeps: the bottom-k sketch comes from Spark."""
    pdf = _random_table(2000, seed=1)
    frame = _to_spark(spark, pdf)
    want = fingerprint_frame(pdf)
    assert len(want.sketch) == SKETCH_SIZE
    assert fingerprint_spark(frame) == want
    assert fingerprint_spark(frame.repartition(7)) == want
    assert fingerprint_spark(frame.orderBy(F.rand(3)).coalesce(1)) == want


def test_column_subset_and_stripped_names(spark):
    pdf = _random_table(300, seed=2)
    frame = _to_spark(spark, pdf).withColumnsRenamed({"sex": " sex ", "code": "a.b`c"})
    assert fingerprint_spark(frame, [" sex ", "age"]) == fingerprint_frame(pdf[["age", "sex"]])
    assert (fingerprint_spark(frame, ["a.b`c", "ratio"])
            == fingerprint_frame(pdf[["code", "ratio"]].rename(columns={"code": "a.b`c"})))
    assert fingerprint_spark(frame, []) == fingerprint_frame(pdf[[]])
    with pytest.raises(DataError, match=r"cannot fingerprint columns \['nope'\]: not in"):
        fingerprint_spark(frame, ["nope"])
    with pytest.raises(DataError, match="duplicate column names"):
        fingerprint_spark(frame.withColumn("sex", F.lit("x")), ["sex", " sex "])


def test_same_parquet_file_as_duckdb(spark, tmp_path):
    """Spark and DuckDB read one Parquet file (typed by pyarrow) and agree with pandas."""
    pdf = _random_table(500, seed=3)
    pdf["utc"] = pdf["seen"].dt.tz_localize("UTC")
    pdf["small"] = pdf["age"].astype("Int8")
    pdf["f32"] = pdf["ratio"].astype("float32")
    pdf["dec"] = [None if pd.isna(x) else Decimal(f"{x:.2f}") for x in pdf["income"]]
    path = tmp_path / "t.parquet"
    pdf.to_parquet(path, coerce_timestamps="us")
    frame = spark.read.parquet(str(path))
    types = dict(frame.dtypes)
    assert (types["seen"], types["utc"], types["f32"]) == ("timestamp_ntz", "timestamp", "float")
    got = fingerprint_spark(frame)
    assert got == fingerprint_duckdb(duckdb.connect(), f"read_parquet('{path}')")
    assert got == fingerprint_frame(pd.read_parquet(path))


def test_duplicate_rows_widen_the_threshold(spark, monkeypatch):
    """20,000 rows of two values whose row hashes both lie above the first threshold (set for
    640 of 20,000 distinct rows): the pass is run again with a wider one. The sketch is
    pandas': one hash, since the 256 smallest row hashes are all copies of it."""
    seen = _record_collects(spark, monkeypatch)
    frame = spark.range(20000).selectExpr("CASE WHEN id % 2 = 0 THEN 'a' ELSE 'b' END AS v")
    got = fingerprint_spark(frame)
    assert got == fingerprint_frame(pd.DataFrame({"v": ["a", "b"] * 10000}))
    assert len(got.sketch) == 1 and got.sketch[0] > (640 << 60) // 20000
    assert len(seen) == 3  # the count, the pass, the pass again


def _record_collects(spark, monkeypatch) -> list:
    """Record every DataFrame collected, asserting its plan is an aggregate; forbid the other
    ways rows could reach the driver."""
    DataFrame = type(spark.range(1))  # (Spark 4: pyspark.sql.classic's DataFrame)
    seen = []
    collect = DataFrame.collect

    def recording(self):
        assert _aggregates(self._jdf.queryExecution().optimizedPlan())
        seen.append(self)
        return collect(self)

    def refused(self, *args, **kwargs):
        raise AssertionError("rows fetched without collect")

    monkeypatch.setattr(DataFrame, "collect", recording)
    for name in ("toPandas", "take", "head", "first", "tail", "toLocalIterator", "toArrow"):
        monkeypatch.setattr(DataFrame, name, refused, raising=False)
    return seen


def test_only_aggregates_reach_the_driver(spark, edge, monkeypatch):
    frame, _ = edge
    seen = _record_collects(spark, monkeypatch)
    fingerprint_spark(frame)
    fingerprint_spark(_to_spark(spark, _random_table(1000, seed=4)))
    assert len(seen) == 4  # per fingerprint: a count, then one pass
    with pytest.raises(RuntimeError, match="not an aggregate"):
        fp._spark_collect(frame)


def test_ansi_mode_and_session_time_zone_do_not_matter(spark, edge):
    frame, pdf = edge
    want = fingerprint_frame(pdf)
    keys = ("spark.sql.ansi.enabled", "spark.sql.session.timeZone")
    before = {key: spark.conf.get(key) for key in keys}
    try:
        spark.conf.set("spark.sql.ansi.enabled", "false")
        spark.conf.set("spark.sql.session.timeZone", "America/New_York")
        assert fingerprint_spark(frame) == want
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


def test_empty_and_one_row_tables(spark, edge):
    frame, pdf = edge
    assert fingerprint_spark(frame.limit(0)) == fingerprint_frame(pdf.iloc[:0])
    assert fingerprint_spark(frame.where("false")).n_rows == 0
    one = pd.DataFrame({"a": [1.5], "b": ["x"]})
    assert fingerprint_spark(spark.createDataFrame(one)) == fingerprint_frame(one)


def test_unsupported_types_and_spark_errors_are_named(spark, tmp_path, monkeypatch):
    frame = spark.createDataFrame([(1, [1], bytearray(b"x"))], "a int, xs array<int>, b binary")
    with pytest.raises(DataError, match=r"column 'xs' of the Spark DataFrame: it is a Spark "
                                        r"array<int>.*columns="):
        fingerprint_spark(frame)
    with pytest.raises(DataError, match=r"column 'b' of orders: it is a Spark binary"):
        fingerprint_spark(frame, ["a", "b"], label="orders")
    with monkeypatch.context() as m:  # a number the scan did not see: the table changed
        m.setattr(fp, "_spark_scan", lambda kind, x: None)
        big = spark.createDataFrame([(2**60,)], "n long")
        with pytest.raises(DataError, match="the table changed between its two passes"):
            fingerprint_spark(big)
    path = tmp_path / "gone.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    gone = spark.read.parquet(str(path))
    path.unlink()
    with pytest.raises(DataError, match="Spark could not fingerprint the Spark DataFrame"):
        fingerprint_spark(gone)
