"""DuckDBEngine gives exactly NumpyEngine's counts, from CSV and Parquet, without fetching rows."""

from __future__ import annotations

import itertools
import re
import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.demo import demo_path
from lookalike.errors import ColumnError, ColumnMismatchError, ConfigError
from lookalike.marginals import DuckDBEngine, NumpyEngine, schema_from_duckdb
from lookalike.schema import Column, Kind, Schema
from lookalike.transform.discretize import edges_bins
from lookalike.transform.encoder import ColumnCodec, TableEncoder, to_numbers

N = 600


def make_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Every kind, each with missing values; categories beyond any codec's list."""
    rng = np.random.default_rng(seed)
    missing = lambda: rng.random(n) < 0.1  # noqa: E731
    color = np.array(["red", "green", "blue", "violet", "rare one"], dtype=object)[
        rng.choice(5, n, p=[0.4, 0.3, 0.15, 0.1, 0.05])]
    color[missing()] = None
    count = pd.array(rng.integers(0, 40, n), dtype="Int64")
    count[missing()] = pd.NA
    score = np.round(rng.normal(10, 3, n), 2)
    score[missing()] = np.nan
    flag = pd.array(rng.random(n) < 0.3, dtype="boolean")
    flag[missing()] = pd.NA
    day = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"))
    day[missing()] = pd.NaT
    stamp = pd.Series(pd.Timestamp("2021-06-01")
                      + pd.to_timedelta(rng.integers(0, 86400 * 60, n), unit="s"))
    stamp[missing()] = pd.NaT
    return pd.DataFrame({"color": color, "count": count, "score": score, "flag": flag,
                         "day": day, "stamp": stamp})


@pytest.fixture(scope="module", params=["csv", "parquet"])
def stored(request, tmp_path_factory):
    """(path, the table as lookalike.read_table gives it)."""
    path = tmp_path_factory.mktemp("duck") / f"t.{request.param}"
    lookalike.write_table(make_frame(), path)
    return path, lookalike.read_table(path)


def engines(path, real: pd.DataFrame, schema: Schema) -> tuple[DuckDBEngine, NumpyEngine]:
    return DuckDBEngine(path, schema), NumpyEngine(schema.conform(real), schema)


def test_schema_from_types_has_kinds_and_no_domains(stored):
    path, real = stored
    schema = schema_from_duckdb(path)
    inferred = lookalike.infer_schema(real)
    assert schema.names == inferred.names
    facts = lambda c: (c.kind, c.nullable, c.unit, c.format, c.sources.get("nullable"))  # noqa: E731
    assert [facts(c) for c in schema] == [facts(c) for c in inferred]
    # no domain read from the data, but a boolean's two words (the output spells them so)
    assert all(c.bounds is None for c in schema)
    assert {c.name: c.categories for c in schema if c.categories is not None} == {
        "flag": inferred["flag"].categories}
    units = {c.name: c.unit for c in schema}
    assert units["stamp"] == "s" and units["day"] == "D"


@pytest.mark.parametrize("which", ["duckdb", "inferred"])
def test_value_counts_equal(stored, which):
    path, real = stored
    schema = schema_from_duckdb(path) if which == "duckdb" else lookalike.infer_schema(real)
    duck, ref = engines(path, real, schema)
    for col in ("color", "flag", "count", "score"):
        got, want = duck.value_counts(col), ref.value_counts(col)
        assert got == want, col
        assert all(type(k) is type(next(iter(want))) for k in got) or col == "count"
    assert set(duck.value_counts("color")) == {"red", "green", "blue", "violet", "rare one"}


@pytest.mark.parametrize("day_unit", ["D", "s"])
def test_histograms_equal_with_edges_on_data_values(stored, day_unit):
    path, real = stored
    schema = schema_from_duckdb(path)
    for name in ("day", "stamp"):  # fractional days for the timestamps in "D"
        schema = schema.with_column(schema[name].replace(unit=day_unit))
    duck, ref = engines(path, real, schema)
    rng = np.random.default_rng(1)
    for name in ("count", "score", "day", "stamp"):
        values = to_numbers(ref.data[name], schema[name])
        values = values[~np.isnan(values)]
        lo, hi = values.min(), values.max()
        for k in (1, 7, 300):
            edges = np.sort(np.r_[rng.choice(values, k), rng.uniform(lo - 1, hi + 1, k),
                                  rng.choice(values, 1).repeat(2)])
            got = duck.histogram(name, edges)
            assert got.tolist() == ref.histogram(name, edges).tolist(), (name, k)
            assert got.sum() == len(values)
        assert duck.histogram(name, []).tolist() == [len(values)]


def dp_like_encoder(schema: Schema, ref: NumpyEngine, rng) -> TableEncoder:
    """Codecs as DP discovery makes them: explicit categories, fallback, edge bins."""
    codecs = [
        ColumnCodec(schema["color"], ("red", "green", "blue", "other"), None, True, fallback=3),
        ColumnCodec(schema["flag"], (False, True), None, True),
    ]
    for name in ("count", "score", "day", "stamp"):
        col = schema[name]
        values = to_numbers(ref.data[name], col)
        values = values[~np.isnan(values)]
        edges = np.r_[rng.choice(values, 6), rng.uniform(values.min(), values.max(), 6)]
        codecs.append(ColumnCodec(col, None, edges_bins(edges, integer=col.kind is Kind.INTEGER),
                                  True))
    return TableEncoder(tuple(codecs))


def assert_all_marginals_equal(duck, ref, encoder: TableEncoder) -> None:
    duck.bind(encoder)
    ref.bind(encoder)
    sets = [(a,) for a in encoder.names] + list(itertools.combinations(encoder.names, 2))
    batched = duck.marginals(sets + [()])
    for attrs in sets:
        want = ref.marginal(attrs)
        assert batched[attrs].dtype == np.int64
        assert batched[attrs].shape == want.shape
        assert np.array_equal(batched[attrs], want), attrs
    last = sets[-1][::-1]
    assert np.array_equal(duck.marginal(last), ref.marginal(last))
    assert int(batched[()]) == len(ref.data)


def test_marginals_equal_under_dp_like_codecs(stored):
    path, real = stored
    schema = schema_from_duckdb(path)
    schema = schema.with_column(schema["stamp"].replace(unit="D"))
    duck, ref = engines(path, real, schema)
    assert_all_marginals_equal(duck, ref, dp_like_encoder(schema, ref, np.random.default_rng(2)))


def test_marginals_equal_under_quantile_bins(stored):
    path, real = stored
    schema = lookalike.infer_schema(real)
    duck, ref = engines(path, real, schema)
    assert_all_marginals_equal(duck, ref, TableEncoder.fit(ref.data, schema, n_bins=8))


def test_unknown_category_without_fallback_is_missing_or_an_error(stored):
    path, real = stored
    schema = schema_from_duckdb(path)
    duck, ref = engines(path, real, schema)
    enc = TableEncoder((ColumnCodec(schema["color"], ("red", "blue"), None, True),))
    assert_all_marginals_equal(duck, ref, enc)
    duck.bind(TableEncoder((ColumnCodec(schema["color"], ("red", "blue"), None, False),)))
    with pytest.raises(ValueError, match="'color' has missing values but no missing state"):
        duck.marginal(("color",))


def test_numbers_declared_categorical_read_as_read_table_makes_them(tmp_path):
    df = pd.DataFrame({"code": pd.array([1, 2, 2, None, 10] * 4, dtype="Int64"),
                       "ratio": [0.5, 2.0, -0.0, np.nan, 1e-05] * 4,
                       "ok": pd.array([True, False, None, True, True] * 4, dtype="boolean")})
    for name in ("t.csv", "t.parquet"):
        path = lookalike.write_table(df, tmp_path / name)
        real = lookalike.read_table(path)
        schema = schema_from_duckdb(path)
        for col in ("code", "ratio", "ok"):
            schema = schema.with_column(schema[col].replace(kind=Kind.CATEGORICAL))
        duck, ref = engines(path, real, schema)
        for col in ("code", "ratio", "ok"):
            assert duck.value_counts(col) == ref.value_counts(col), (name, col)
        assert duck.value_counts("ratio") == {"0.5": 4, "2": 4, "0": 4, "1e-05": 4}


def test_declared_categories_and_bounds_conform_as_pandas(stored):
    path, real = stored
    base = lookalike.infer_schema(real)
    schema = base.with_column(base["color"].replace(categories=("red", "green")))
    schema = schema.with_column(schema["count"].replace(bounds=(5, 30)))
    schema = schema.with_column(schema["score"].replace(bounds=(8.5, 12.25)))
    with pytest.warns(UserWarning):
        duck, ref = engines(path, real, schema)
    assert duck.value_counts("color") == ref.value_counts("color") == {
        k: v for k, v in ref.value_counts("color").items() if k in ("red", "green")}
    for name in ("count", "score"):
        edges = [5.0, 8.5, 10.0, 12.25, 30.0]
        assert duck.histogram(name, edges).tolist() == ref.histogram(name, edges).tolist()


class Recorder:
    """A DuckDB connection that logs every statement and refuses any row-returning method."""

    def __init__(self, con) -> None:
        self.con, self.statements, self.fetched = con, [], []

    def execute(self, sql, params=None):
        self.statements.append(sql)
        self.result = self.con.execute(sql, params)
        return self

    def fetchall(self):
        rows = self.result.fetchall()
        self.fetched.append(len(rows))
        return rows

    def __getattr__(self, name):
        raise AssertionError(f"the engine called {name}() on the connection")


def test_every_query_is_an_aggregate_and_no_rows_are_fetched(stored):
    path, real = stored
    con = Recorder(duckdb.connect())
    duck = DuckDBEngine(path, connection=con)
    duck.value_counts("color")
    duck.histogram("score", [5.0, 10.0])
    duck.bind(dp_like_encoder(duck.schema, NumpyEngine(duck.schema.conform(real), duck.schema),
                              np.random.default_rng(3)))
    got = duck.marginals([("color", "flag"), ("count",)])
    assert got[("color", "flag")].shape == (5, 3)
    duck.close()
    selects = [s for s in con.statements if re.search(r"\bSELECT\b", s) and "VIEW" not in s]
    assert len(selects) >= 5
    for sql in selects:  # counts, sums of counts, or type checks; DESCRIBE reads no rows
        assert re.search(r"count\(\*\)|sum\(n\)|histogram\(|bit_and\(|sniff_csv\(|^DESCRIBE",
                         sql), sql[:200]
    assert max(con.fetched) < 200  # groups of codes or values, never the 600 rows


def test_many_columns_counted_in_one_statement(stored):
    """``histograms`` and ``value_counts_many`` (what discovery asks, a tree level of every
    column at once) give each column's own answer, from one statement reading the file."""
    path, real = stored
    schema = schema_from_duckdb(path).with_column(
        schema_from_duckdb(path)["day"].replace(unit="s"))
    con = Recorder(duckdb.connect())
    duck = DuckDBEngine(path, schema, connection=con)
    ref = NumpyEngine(schema.conform(real), schema)
    rng = np.random.default_rng(5)
    requests = {}
    for name, k in (("count", 7), ("score", 300), ("day", 1), ("stamp", 0)):
        values = to_numbers(ref.data[name], schema[name])
        values = values[~np.isnan(values)]
        requests[name] = np.sort(np.r_[rng.choice(values, k), values[:1].repeat(2 if k else 0)])
    duck.histograms({"day": [], "stamp": []})  # (a datetime's scale is read once, on first use)
    before = len(con.statements)
    got = duck.histograms(requests)
    assert len(con.statements) - before == 1
    for name, edges in requests.items():
        assert got[name].tolist() == ref.histogram(name, edges).tolist(), name
        assert got[name].tolist() == duck.histogram(name, edges).tolist(), name
    before = len(con.statements)
    counts = duck.value_counts_many(["color", "flag", "count"])
    assert len(con.statements) - before == 1
    for name in ("color", "flag", "count"):
        want = ref.value_counts(name)
        assert counts[name] == want == duck.value_counts(name), name
        assert {type(k) for k in counts[name]} == {type(k) for k in duck.value_counts(name)}
    assert duck.histograms({}) == {} and duck.value_counts_many([]) == {}
    with pytest.raises(ConfigError, match="'score' must be finite and sorted"):
        duck.histograms({"count": [1.0], "score": [2.0, 1.0]})
    with pytest.raises(ColumnError, match="'color' is categorical, not numeric"):
        duck.histograms({"count": [1.0], "color": [2.0]})


def test_a_dp_fit_discovers_in_a_few_passes(adult_small, tmp_path, monkeypatch):
    """An mst fit through DuckDB on Adult (6 numeric, 9 categorical columns) reads the file
    for discovery once for the noisy row count, once for every categorical column's counts
    and once per tree level (and the fine histogram) for all numeric columns together: one
    statement per column per level made 35."""
    from lookalike.privacy.discovery import _LEVELS

    path = tmp_path / "adult.parquet"
    adult_small.to_parquet(path)
    reads: list[str] = []
    run, bind = DuckDBEngine._run, DuckDBEngine.bind

    def run_(self, sql, params=None):
        if getattr(self, "_bound", False) is None and f"FROM {self._view}" in sql:
            reads.append(sql)  # made (its view exists) and not yet bound: discovery
        return run(self, sql, params)

    def bind_(self, encoder):
        bind(self, encoder)
        reads.append("bound")

    monkeypatch.setattr(DuckDBEngine, "_run", run_)
    monkeypatch.setattr(DuckDBEngine, "bind", bind_)
    with warnings.catch_warnings():  # (no ledger: the spend is not recorded)
        warnings.simplefilter("ignore")
        lookalike.fit(str(path), "mst", epsilon=1.0, seed=0, engine="duckdb")
    assert reads[-1] == "bound" and reads.count("bound") == 1
    passes = reads[:-1]
    assert sum("histogram(" in sql and "?::DOUBLE[]" in sql for sql in passes) <= _LEVELS + 1
    assert len(passes) <= 1 + 1 + _LEVELS + 1


def test_database_file_table_query_and_connection(tmp_path):
    df = make_frame(50)
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE people AS SELECT * FROM df")
    want = NumpyEngine(df, lookalike.infer_schema(df)).value_counts("color")
    with DuckDBEngine(path, table="people") as duck:
        assert duck.value_counts("color") == want
    with DuckDBEngine(path, query="SELECT color FROM people WHERE color <> 'red'") as duck:
        assert duck.schema.names == ["color"]
        assert duck.value_counts("color") == {k: v for k, v in want.items() if k != "red"}
    with duckdb.connect(str(path), read_only=True) as con:
        assert DuckDBEngine(con, table="people").value_counts("color") == want
        assert DuckDBEngine(connection=con, table="people").value_counts("color") == want


def test_bad_input_is_named(tmp_path, stored):
    path, _ = stored
    with pytest.raises(lookalike.errors.SourceNotFoundError, match="does not exist"):
        DuckDBEngine(tmp_path / "nope.parquet")
    with pytest.raises(ConfigError, match="table= and query= apply to databases"):
        DuckDBEngine(path, table="t")
    with pytest.raises(ColumnMismatchError, match="'ghost'"):
        DuckDBEngine(path, Schema((Column("ghost", Kind.INTEGER, nullable=True),)))
    duck = DuckDBEngine(path)
    with pytest.raises(ColumnError, match="no column 'nope'"):
        duck.value_counts("nope")
    with pytest.raises(ConfigError, match="sorted"):
        duck.histogram("score", [3.0, 1.0])
    with pytest.raises(RuntimeError, match="bind an encoder"):
        duck.marginal(("color",))


def test_adult_demo_all_one_and_two_way_marginals(adult_full):
    schema = lookalike.infer_schema(adult_full)
    data = schema.conform(adult_full)
    encoder = TableEncoder.fit(data, schema, n_bins=16)
    with DuckDBEngine(demo_path(), schema) as duck:
        assert_all_marginals_equal(duck, NumpyEngine(data, schema), encoder)


CSV_QUIRKS = '''name,num,big,hexish,when,flag,amount
" Alice ",+5,1.0,0x1F,01/02/2020,yes,1.5
Bob,NA,1,0x20,12/31/2019,no,
 Carol,7,2,n/a,03/04/2021,YES,2e3
"Smith, J",-3,3,ff,,no,.5
'''


def test_csv_text_is_typed_as_read_table_types_it(tmp_path):
    path = tmp_path / "quirks.csv"
    path.write_text(CSV_QUIRKS + "\n".join(CSV_QUIRKS.splitlines()[1:] * 3) + "\n")
    real = lookalike.read_table(path)
    schema = lookalike.infer_schema(real)
    assert [c.kind.value for c in schema] == ["categorical", "integer", "integer", "categorical",
                                              "datetime", "boolean", "float"]
    duck, ref = engines(path, real, schema)
    for col in ("name", "hexish", "flag"):
        assert duck.value_counts(col) == ref.value_counts(col), col
    assert duck.value_counts("name") == {"Alice": 4, "Bob": 4, "Carol": 4, "Smith, J": 4}
    for col, edges in (("num", [-3, 0, 5, 7]), ("big", [1, 2, 3]), ("amount", [0.5, 2000]),
                       ("when", [18262, 18263, 19000])):
        assert duck.histogram(col, edges).tolist() == ref.histogram(col, edges).tolist(), col
    inferred = schema_from_duckdb(path)
    assert [c.kind for c in inferred] == [c.kind for c in schema]  # "big": 1.0, 1, 2: integers


def test_time_zones_count_in_utc(tmp_path):
    path = tmp_path / "tz.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT TIMESTAMPTZ '2021-03-01 23:30:00+02' "
                    "+ INTERVAL (i * 7) HOUR AS at FROM range(40) r(i)")
    real = lookalike.read_table(path, table="t")
    with DuckDBEngine(path, table="t") as duck:
        assert duck.schema["at"].unit == "s"
        ref = NumpyEngine(duck.schema.conform(real), duck.schema)
        values = to_numbers(ref.data["at"], duck.schema["at"])
        edges = np.sort(values[::5])
        assert duck.histogram("at", edges).tolist() == ref.histogram("at", edges).tolist()


HUGE = "99999999999999999999"  # 10**20 - 1: beyond int64, and a float would round it


def test_integers_beyond_int64_are_exact_text_as_in_read_table(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("big,small\n" + f"1,2\n,3\n{HUGE},1\n2,3\n" * 4)
    real = lookalike.read_table(path)
    assert real["big"].dtype == object and real["big"].iloc[2] == HUGE  # never rounded
    # no schema: both keep the values exactly as categories, and warn in the same words
    with pytest.warns(UserWarning, match="64-bit range") as inferred:
        kinds = lookalike.infer_schema(real)["big"].kind
    with pytest.warns(UserWarning, match="64-bit range") as engine:
        assert schema_from_duckdb(path)["big"].kind is kinds is Kind.CATEGORICAL
    said = [str(w.message) for w in engine if "64-bit" in str(w.message)]
    assert said == [str(w.message) for w in inferred if "64-bit" in str(w.message)]
    assert re.match(r"column 'big' holds integers beyond the 64-bit range \(e\.g\. row 3: "
                    + HUGE + r"\): it is modelled as categories.*--drop 'big'", said[0])
    small = Column("small", Kind.INTEGER, nullable=True)
    for kind in (Kind.CATEGORICAL, Kind.FLOAT):  # declared: exact text, or rounded on purpose
        schema = Schema((Column("big", kind, nullable=True), small))
        duck, ref = engines(path, real, schema)
        if kind is Kind.CATEGORICAL:
            assert duck.value_counts("big") == ref.value_counts("big") == {HUGE: 4, "1": 4, "2": 4}
        else:
            edges = [1.5, 1e19, 1e20, 2e20]
            assert duck.histogram("big", edges).tolist() == ref.histogram("big", edges).tolist()
            assert duck.histogram("big", edges).tolist() == [4, 4, 0, 4, 0]
    schema = Schema((Column("big", Kind.INTEGER, nullable=True), small))
    with pytest.raises(ColumnError) as conformed:
        schema.conform(real)
    with pytest.raises(ColumnError) as engine:
        DuckDBEngine(path, schema)
    assert str(engine.value) == str(conformed.value)
    assert "'big' is declared integer but holds values beyond the 64-bit range (e.g. row 3: " \
        + HUGE in str(engine.value)
    clipped = Schema((Column("big", Kind.INTEGER, nullable=True, bounds=(0, 10)), small))
    with pytest.warns(UserWarning, match="4 value"):  # declared bounds clip them: no refusal
        duck, ref = engines(path, real, clipped)
    assert duck.value_counts("big") == ref.value_counts("big") == {1: 4, 2: 4, 10: 4}
