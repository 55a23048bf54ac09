"""DP fits with the rows left in Spark: every entry point (API, CLI with a path or a catalog
table), the same model as in memory, the ledger charged and the data recognised, and nothing
but aggregates collected by the driver.

The ``spark`` fixture (conftest) is one local session for the worker; it skips without PySpark
or Java 17.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import ConfigError
from lookalike.privacy.ledger import PrivacyLedger
from lookalike.schema import infer_schema

ROW_ACTIONS = ("toPandas", "take", "head", "first", "tail", "toLocalIterator", "toArrow",
               "foreach", "foreachPartition", "toJSON")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """600 rows of the demo table with a text flag, a date and an identifier added."""
    df = lookalike.load_demo().sample(600, random_state=1).reset_index(drop=True)
    rng = np.random.default_rng(0)
    df["member"] = np.where(rng.random(len(df)) < 0.3, "yes", "no")
    df["joined"] = pd.to_datetime("2015-01-01") + pd.to_timedelta(
        rng.integers(0, 2000, len(df)), unit="D")
    df["customer_id"] = np.arange(10_000, 10_000 + len(df))
    return df


@pytest.fixture(scope="module")
def parquet(table, tmp_path_factory) -> str:
    """``table`` as a Parquet file: Spark reads it in the JVM (a frame made from pandas would
    send every query through Python workers: seconds each)."""
    path = tmp_path_factory.mktemp("spark") / "people.parquet"
    table.to_parquet(path)
    return str(path)


@pytest.fixture
def frame(spark, parquet):
    return spark.read.parquet(parquet)


@pytest.fixture
def no_rows(monkeypatch):
    """Fail any Spark action that would bring rows to the driver: ``collect`` only of an
    aggregate plan, and none of the other row-returning actions at all."""
    from pyspark.sql import DataFrame

    from lookalike.marginals.spark import _aggregates

    collect = DataFrame.collect

    def guarded(self):
        plan = self._jdf.queryExecution().optimizedPlan()
        assert _aggregates(plan), f"rows collected: {plan.toString()[:300]}"
        return collect(self)

    monkeypatch.setattr(DataFrame, "collect", guarded)
    for name in ROW_ACTIONS:
        def refuse(self, *args, _name=name, **kwargs):
            raise AssertionError(f"DataFrame.{_name} brings rows to the driver")
        monkeypatch.setattr(DataFrame, name, refuse)


def test_the_schema_is_inferred_by_spark_as_in_memory(frame, table):
    from lookalike.marginals.spark import schema_from_spark

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = schema_from_spark(frame)
        expected = infer_schema(table)

    def key(c):
        return c.name, c.kind, c.nullable, c.format, c.unit

    assert [key(c) for c in found] == [key(c) for c in expected]
    assert found["member"].categories == ("no", "yes")  # the words as written, false first
    assert found["customer_id"].kind.value == "identifier"
    assert all(c.categories is None and c.bounds is None for c in found
               if c.kind.value in ("categorical", "integer"))  # never read: DP discovers them


def test_spark_refusals_name_the_column_and_the_fix(spark):
    from lookalike.marginals.spark import schema_from_spark

    frame = spark.createDataFrame(pd.DataFrame({"a": ["1", "2", "x"] * 10, "d": ["3/4/21"] * 30,
                                                "k": range(30)}))
    with pytest.raises(lookalike.errors.LookalikeError, match="'a' mixes numbers and text"):
        schema_from_spark(frame)
    with pytest.raises(ConfigError, match=r"'d' holds dates as text.*to_date"):
        schema_from_spark(frame.drop("a"))


def test_a_relative_path_is_read_from_the_working_directory_of_now(spark, parquet, monkeypatch):
    """Spark resolves a relative path against the JVM's working directory, fixed when the
    session started: after a chdir, ``people.parquet`` named another place (a docs page's
    commands failed with PATH_NOT_FOUND when an earlier test had started the session)."""
    from pathlib import Path

    from lookalike.marginals.spark import spark_frame

    monkeypatch.chdir(Path(parquet).parent)
    frame, label = spark_frame("people.parquet", spark=spark)
    assert label == "people.parquet" and frame.count() == 600


@pytest.mark.slow  # (several Spark fits: a minute or more on 2 cores)
def test_a_non_dp_fit_in_spark_is_the_fit_in_memory(frame, table, no_rows):
    """Exact counts: the same domain and marginals, hence the same model and samples."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for family in ("mst", "privbayes"):
            in_spark = lookalike.fit(frame, family, seed=3)
            in_memory = lookalike.fit(table, family, seed=3)
            assert in_spark.discovery_ == in_memory.discovery_
            # values equal; dtypes are Spark's (int64 and object text where pandas read the
            # demo as Int64 and str): compared as objects, missing as None
            a, b = in_spark.sample(300, seed=5), in_memory.sample(300, seed=5)
            pd.testing.assert_frame_equal(a.astype(object).where(a.notna(), None),
                                          b.astype(object).where(b.notna(), None))


def test_a_dp_fit_on_a_spark_frame_charges_the_ledger_and_knows_the_data(spark, frame, table,
                                                                         tmp_path, no_rows,
                                                                         monkeypatch):
    from lookalike.marginals.spark import SparkEngine
    from lookalike.privacy.discovery import _LEVELS

    made, bound = [], []  # the engine's query count when made (schema inferred) and bound
    init, bind = SparkEngine.__init__, SparkEngine.bind

    def init_(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self.queries)

    def bind_(self, encoder):
        bound.append(self.queries)
        bind(self, encoder)

    monkeypatch.setattr(SparkEngine, "__init__", init_)
    monkeypatch.setattr(SparkEngine, "bind", bind_)
    ledger = PrivacyLedger(tmp_path / "ledger.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lookalike.fit(frame, "aim", epsilon=1.0, ledger=ledger, dataset="people",
                              register=True, seed=0)
        assert ledger.status("people").epsilon_spent == pytest.approx(1.0, rel=1e-6)
        assert model.privacy_.differentially_private and model.privacy_.epsilon_spent == pytest.approx(1.0)
        # the same rows in memory under another name: the fingerprint recognises them (at
        # ε = 0.5 these 600 rows are refused first: a range would be found in 93% of fits)
        with pytest.raises(ConfigError, match="this table is dataset 'people'"):
            lookalike.fit(table, "mst", epsilon=1.0, ledger=ledger, dataset="copy",
                          register=True, seed=0)
        # over the limit: refused before Spark reads anything
        with pytest.raises(lookalike.errors.BudgetExceededError):
            lookalike.fit(frame, "mst", epsilon=1.0, ledger=ledger, dataset="people", seed=0)
    assert ledger.status("people").epsilon_spent == pytest.approx(1.0, rel=1e-6)
    # discovery asks a tree level of every numeric column in one pass, every categorical
    # column's counts in one: before bind, the conform notes, how the input writes its
    # decimals and dates (outputs look like inputs), the row count (counted once: exact, for
    # whether the table is large enough to discover anything, then with noise), the
    # categories, the tree's levels and the fine histogram (7 numeric and 9 categorical
    # columns here; one query per column per level made 36)
    assert len(made) == len(bound) == 1
    assert bound[0] - made[0] <= 1 + 1 + 1 + 1 + _LEVELS + 1
    rows = model.sample(50, seed=1)
    assert list(rows.columns) == list(table.columns)
    # the input's types as Spark holds them: longs, timestamps, text
    assert rows["age"].dtype == np.int64 and rows["customer_id"].dtype == np.int64
    assert rows["joined"].dtype.kind == "M" and rows["member"].map(type).eq(str).all()


def test_in_memory_families_are_refused_with_the_dp_alternatives(frame):
    with pytest.raises(ConfigError, match="mst, aim or privbayes"):
        lookalike.fit(frame, "cart", seed=0)
    with pytest.raises(ConfigError, match="engine='spark'"):
        lookalike.fit(frame, "mst", engine="duckdb", seed=0)


@pytest.mark.slow  # (several Spark fits: a minute or more on 2 cores)
def test_cli_synth_with_spark_on_a_parquet_file_and_a_catalog_table(spark, table, parquet,
                                                                      tmp_path, cli):
    path = parquet
    ledger = tmp_path / "ledger.db"
    out = tmp_path / "out.csv"
    result = cli("synth", str(path), "-o", str(out), "-s", "mst", "--engine", "spark",
                 "--epsilon", "1", "--ledger", str(ledger), "-n", "200", "--seed", "0")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert len(rows) == 200 and set(rows.columns) == set(table.columns)
    assert set(rows["member"].dropna()) <= {"yes", "no"}
    assert PrivacyLedger(ledger).status("people").epsilon_spent == pytest.approx(1.0, rel=1e-6)

    spark.read.parquet(parquet).createOrReplaceTempView("people_view")
    out2 = tmp_path / "out2.parquet"
    result = cli("synth", "-o", str(out2), "-s", "privbayes", "--engine", "spark", "--table",
                 "people_view", "--epsilon", "1", "--ledger", str(ledger), "--dataset", "people",
                 "-n", "100", "--seed", "0")
    # the same rows: recognised as dataset 'people', whose 1.0 is spent
    assert result.exit_code == 1 and "budget" in result.output.lower(), result.output
    # without DP (nothing charged): the rows generated and written by Spark, a Parquet folder
    result = cli("synth", "-o", str(out2), "-s", "privbayes", "--engine", "spark", "--table",
                 "people_view", "-n", "100", "--seed", "0")
    assert result.exit_code == 0, result.output
    assert out2.is_dir() and len(pd.read_parquet(out2)) == 100


def test_cli_spark_options_are_checked_before_any_work(cli, tmp_path):
    out = tmp_path / "o.csv"
    result = cli("synth", "x.parquet", "-o", str(out), "-s", "cart", "--engine", "spark")
    assert result.exit_code == 1 and "mst, aim or privbayes" in result.output
    result = cli("synth", "x.parquet", "-o", str(out), "-s", "mst", "--spark-master", "local[1]")
    assert result.exit_code == 1 and "--engine spark" in result.output
    result = cli("fit", "-o", str(out), "-s", "mst")
    assert result.exit_code == 1 and "give DATA" in result.output


@pytest.mark.slow  # (several Spark fits: a minute or more on 2 cores)
def test_synthesize_on_a_spark_frame_gives_a_spark_frame(spark, frame, no_rows):
    """Rows that stay in Spark come back in Spark: generated on the executors, counted by an
    aggregate, reproducible from the seed."""
    from lookalike.marginals.spark import is_spark_frame

    small = frame.select("age", "sex", "member", "income")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = lookalike.synthesize(small, 250, synthesizer="mst", epsilon=1.0, seed=4)
    assert is_spark_frame(rows) and rows.columns == small.columns
    assert rows.count() == 250
    counts = {r["sex"]: r["count"] for r in rows.groupBy("sex").count().collect()}
    assert set(counts) <= {"Female", "Male", None} and sum(counts.values()) == 250


def test_rows_left_in_spark_keep_their_decimals_and_calendar_unit(spark, tmp_path, no_rows):
    """Mileages written with one decimal and model years on 1 January came back from a fit in
    Spark as 35.257170400810914 and 1981-11-03 (the in-memory and DuckDB paths read how the
    input writes them; Spark did not): one aggregate query now reads both, as in memory."""
    from lookalike.marginals.spark import SparkEngine

    rng = np.random.default_rng(8)
    df = pd.DataFrame({"mpg": np.round(rng.uniform(9, 46, 500), 1),
                       "year": pd.to_datetime([f"{y}-01-01" for y in rng.integers(1970, 1983, 500)]),
                       "stamp": pd.Timestamp("2021-01-01")
                       + pd.to_timedelta(rng.integers(0, 700, 500), unit="D"),
                       "cylinders": rng.choice([4, 6, 8], 500)})
    df.loc[:2, "stamp"] += pd.Timedelta(hours=9)  # 3 rows of 500 with a time: a "day" column
    path = tmp_path / "cars.parquet"
    df.to_parquet(path)
    frame = spark.read.parquet(str(path))
    engine = SparkEngine(frame, infer_schema(df))
    assert (engine.written_decimals(), engine.written_steps()) == (
        {"mpg": 1}, {"year": "year", "stamp": "day"})
    ledger = tmp_path / "ledger.sqlite"
    PrivacyLedger(ledger).set_limit("cars", epsilon=5.0, delta=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lookalike.fit(frame, "mst", epsilon=1.0, seed=0, ledger=ledger, dataset="cars")
    rows = model.sample(300, seed=1)
    assert rows["mpg"].dropna().equals(rows["mpg"].dropna().round(1))
    years = pd.to_datetime(rows["year"]).dropna()
    assert len(years) and ((years.dt.month == 1) & (years.dt.day == 1)).all()
    stamps = pd.to_datetime(rows["stamp"]).dropna()
    assert len(stamps) and (stamps == stamps.dt.normalize()).all()


def test_columns_of_one_value_or_none_are_inferred_as_in_memory(spark, tmp_path):
    """They were refused; now Spark infers them as ``infer_schema`` does: the constants as any
    column, the empty column categorical with no category (written back empty)."""
    from lookalike.marginals.spark import schema_from_spark

    table = pd.DataFrame({"k": range(30), "country": "NZ", "version": 3, "rate": 0.25,
                          "notes": pd.Series([None] * 30, dtype=object),
                          "blank": pd.Series([np.nan] * 30)})
    table.to_parquet(tmp_path / "t.parquet")
    found = schema_from_spark(spark.read.parquet(str(tmp_path / "t.parquet")))
    expected = infer_schema(table)
    assert [(c.name, c.kind, c.nullable) for c in found] == \
        [(c.name, c.kind, c.nullable) for c in expected]
    assert [found[n].categories for n in ("notes", "blank")] == [(), ()]


def test_codes_with_leading_zeros_are_inferred_as_in_memory(spark, tmp_path):
    """Text codes with leading zeros (postal codes, hours, unique account numbers) were refused
    by Spark as numbers stored as text; they are categories and identifiers, as in memory.
    (Spark's own CSV reader types 02134 as the number 2134 before lookalike sees it: give such
    a file as Parquet, or --engine duckdb, which reads it as read_table does.)"""
    from lookalike.marginals.spark import schema_from_spark

    rng = np.random.default_rng(5)
    table = pd.DataFrame({"postcode": rng.choice(["02134", "00501", "10001"], 40),
                          "hour": [f"{h:02d}" for h in rng.integers(0, 24, 40)],
                          "account": [f"{v:06d}" for v in range(40)], "k": range(40)})
    table.to_parquet(tmp_path / "t.parquet")
    found = schema_from_spark(spark.read.parquet(str(tmp_path / "t.parquet")))
    expected = infer_schema(table)
    assert [(c.name, c.kind, c.nullable, c.format) for c in found] == \
        [(c.name, c.kind, c.nullable, c.format) for c in expected]
    assert [c.kind.value for c in found][:3] == ["categorical", "categorical", "identifier"]
