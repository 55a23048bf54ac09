"""DuckDBEngine agrees with read_table + conform at the edges: integers beyond int64, dates past
2262, and the conform notes (clipped, rounded, unknown values) that a fit reports."""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lookalike
from lookalike.marginals import DuckDBEngine, NumpyEngine, schema_from_duckdb
from lookalike.privacy.budget import UnrecordedSpendWarning
from lookalike.schema import Kind, Schema, as_schema, parse_datetime
from lookalike.transform.encoder import TableEncoder, to_numbers

N = 300


def engines(path, schema: Schema, **read) -> tuple[DuckDBEngine, NumpyEngine]:
    return DuckDBEngine(path, schema, **read), NumpyEngine(
        schema.conform(lookalike.read_table(path, **read)), schema)


def assert_histograms_equal(duck, ref, names, rng, k=40) -> None:
    """Equal counts with edges on data values (where float steps show) and between them."""
    for name in names:
        values = to_numbers(ref.data[name], ref.schema[name])
        values = values[~np.isnan(values)]
        edges = np.sort(np.r_[rng.choice(values, k), rng.uniform(values.min(), values.max(), k),
                              values.min(), values.max()])
        got = duck.histogram(name, edges).tolist()
        assert got == ref.histogram(name, edges).tolist(), name
        assert sum(got) == len(values)


# ----------------------------------------------------------------------------- beyond int64

def keys(first: int, step: int = 7919) -> list[str]:
    return [str(first + step * i) for i in range(N)]


KEY_SHAPES = {  # column -> values: what infer_schema makes of read_table's exact text
    "account": keys(12345678901234567890),                       # one width: [0-9]{20}
    "debt": keys(-12345678901234567890, -7919),                  # one width, signed
    "user_id": keys(9 * 10**18, 10**17),                         # widths 19 .. 20, named a key
    "mixed_id": [v if i % 2 else "-" + v[1:] for i, v in enumerate(keys(10**20))],  # signs
}


@pytest.mark.parametrize("name", list(KEY_SHAPES))
def test_unique_keys_beyond_int64_are_identifiers_as_infer_schema_makes_them(tmp_path, name):
    path = tmp_path / "keys.csv"
    values = KEY_SHAPES[name]
    pd.DataFrame({name: values, "x": np.arange(N) % 3}).to_csv(path, index=False)
    want = lookalike.infer_schema(lookalike.read_table(path))[name]
    got = schema_from_duckdb(path)[name]
    assert want.kind is Kind.IDENTIFIER
    assert (got.kind, got.format) == (want.kind, want.format)
    model = lookalike.get_synthesizer("mst", engine="duckdb").fit(path, seed=0)
    rows = model.sample(20, seed=0)
    assert not set(rows[name]) & set(values)
    if want.format is not None:
        assert rows[name].str.fullmatch(want.format).all()


def test_keys_beyond_int64_repeated_are_kinded_as_infer_schema_kinds_them(tmp_path):
    path = tmp_path / "keys.csv"
    values = KEY_SHAPES["account"][:-1] + KEY_SHAPES["account"][:1]  # one duplicate: no key
    pd.DataFrame({"account": values, "x": np.arange(N) % 3}).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="64-bit range") as want:
        kind = lookalike.infer_schema(lookalike.read_table(path))["account"].kind
    with pytest.warns(UserWarning, match="64-bit range") as got:
        model = lookalike.get_synthesizer("mst", engine="duckdb").fit(path, seed=0)
    assert model.schema_["account"].kind is kind is Kind.FLOAT  # too many for categories
    said = [str(w.message) for w in got if "64-bit" in str(w.message)]
    assert said == [str(w.message) for w in want if "64-bit" in str(w.message)]
    assert "column 'account' holds integers beyond the 64-bit range (e.g. row 1: " \
        "12345678901234567890)" in said[0]


def test_typed_integers_beyond_int64_as_read_table_types_them(tmp_path):
    """UBIGINT, HUGEINT and DECIMAL(20, 0): exact text beyond int64, else numbers."""
    big = [2**64 - 1 - 104729 * i for i in range(N)]
    pq.write_table(pa.table({"key": pa.array(big, pa.uint64()),
                             "small": pa.array(np.arange(N) % 5, pa.uint64())}),
                   tmp_path / "u.parquet")
    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT CAST(i AS HUGEINT) * 100000000000000000000 + i "
                    "AS h, CAST(i % 7 AS DECIMAL(20, 0)) AS exact, CAST(i % 7 AS DECIMAL(20, 0)) "
                    "+ 1000000000000000000 AS wide, i % 4 AS x FROM range(1000, 1300) r(i)")
    kinds = {}
    for path, read in ((tmp_path / "u.parquet", {}), (db, {"table": "t"})):
        real = lookalike.read_table(path, **read)
        want, got = lookalike.infer_schema(real), schema_from_duckdb(path, **read)
        for name in real:
            kinds[name] = (got[name].kind, got[name].format, str(real[name].dtype))
            if want[name].kind is Kind.IDENTIFIER:
                assert (got[name].kind, got[name].format) == (want[name].kind, want[name].format)
    assert kinds == {
        "key": (Kind.IDENTIFIER, "[0-9]{20}", "object"), "small": (Kind.INTEGER, None, "Int64"),
        "h": (Kind.IDENTIFIER, "[0-9]{24}", "object"),
        "exact": (Kind.INTEGER, None, "float64"),  # exact as floats, and whole: integers
        "wide": (Kind.INTEGER, None, "Int64"),  # 10**18 + 1 is not: int64, as read_table has it
        "x": (Kind.INTEGER, None, "Int64")}
    duck, ref = engines(db, lookalike.infer_schema(lookalike.read_table(db, table="t")), table="t")
    for name in ("exact", "wide"):
        assert duck.value_counts(name) == ref.value_counts(name), name


# ----------------------------------------------------------------------------- past 2262

def contracts(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Start and end dates, a third of the ends the open-ended sentinel 9999-12-31."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    end = (start + pd.to_timedelta(rng.integers(1, 400, n), unit="D")).strftime("%Y-%m-%d")
    end = end.to_numpy(dtype=object)
    end[rng.random(n) < 1 / 3] = "9999-12-31"
    return pd.DataFrame({"start": start.strftime("%Y-%m-%d"), "end": end,
                         "plan": rng.choice(["a", "b", "c"], n)})


@pytest.fixture
def sentinel_csv(tmp_path):
    path = tmp_path / "contracts.csv"
    contracts().to_csv(path, index=False)
    return path


def test_sentinel_dates_count_as_in_memory(sentinel_csv):
    schema = lookalike.infer_schema(lookalike.read_table(sentinel_csv))
    assert schema["end"].bounds[1] == "9999-12-31"
    duck, ref = engines(sentinel_csv, schema)
    assert str(ref.data["end"].dtype) == "datetime64[us]"
    assert_histograms_equal(duck, ref, ["start", "end"], np.random.default_rng(0))
    assert duck.value_counts("end") == ref.value_counts("end")
    encoder = TableEncoder.fit(ref.data, schema, n_bins=8)
    duck.bind(encoder)
    ref.bind(encoder)
    for attrs in (("end",), ("start", "end"), ("end", "plan")):
        assert np.array_equal(duck.marginal(attrs), ref.marginal(attrs)), attrs


def test_mst_fits_sentinel_dates_through_duckdb(sentinel_csv):
    exact = [lookalike.get_synthesizer("mst", engine=e).fit(sentinel_csv, seed=0).sample(300, seed=1)
             for e in ("duckdb", "numpy")]
    pd.testing.assert_frame_equal(*exact)  # equal counts, equal model
    assert exact[0]["end"].str.startswith("9999-12-31").any()  # text dates come back as text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnrecordedSpendWarning)
        model = lookalike.get_synthesizer("mst", engine="duckdb").fit(
            sentinel_csv, seed=0, epsilon=1.0)
    rows = model.sample(300, seed=1)
    end = parse_datetime(rows["end"], model.schema_["end"].format)
    assert end.notna().all() and end.max() <= pd.Timestamp("9999-12-31")


def test_timestamps_past_2262_count_in_microseconds(tmp_path):
    """Seconds since 1970 as float: from microseconds past 2262, from nanoseconds before."""
    rng = np.random.default_rng(1)
    seconds = rng.integers(-6e9, 9e9, N).astype(object)  # 1780 .. 2255: float steps differ
    stamps = [datetime(1970, 1, 1) + pd.Timedelta(seconds=int(s)) for s in seconds]
    near = list(stamps)
    stamps[::7] = [datetime(9999, 12, 31, 23, 59, 59)] * len(stamps[::7])
    stamps[1::7] = [datetime(2300, 5, 6, 7, 8, 9)] * len(stamps[1::7])
    days = [date(9999, 12, 31) if i % 5 == 0 else s.date() for i, s in enumerate(near)]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"at": pa.array(stamps, pa.timestamp("us")),
                             "day": pa.array(days, pa.date32()),
                             "near": pa.array(near, pa.timestamp("us")),
                             "x": pa.array(np.arange(N) % 3)}), path)
    real = lookalike.read_table(path)
    assert str(real["at"].dtype) == "datetime64[us]" and str(real["near"].dtype) == "datetime64[ns]"
    schema = schema_from_duckdb(path)
    duck, ref = engines(path, schema)
    assert_histograms_equal(duck, ref, ["at", "day", "near"], rng)
    assert duck.value_counts("at") == ref.value_counts("at")


def test_clipping_datetimes_rounds_them_as_in_memory(tmp_path):
    """Clipped to declared bounds, conform rounds the column to whole units: counted the same."""
    rng = np.random.default_rng(2)
    at = pd.Timestamp("2021-06-01") + pd.to_timedelta(rng.integers(0, 86400 * 90, N), unit="s")
    at = pd.Series(at.astype("datetime64[us]"))
    at[::9] = pd.Timestamp("9999-12-31 12:00:00")
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"at": pa.array(at), "day": pa.array(at), "x": np.arange(N) % 3}), path)
    base = schema_from_duckdb(path)
    for hi in ("2021-08-01", "9999-12-31"):
        schema = base.with_column(base["at"].replace(bounds=("2021-06-15T12:30:00", hi + "T00:00:00")))
        schema = schema.with_column(base["day"].replace(unit="D", bounds=("2021-06-10", hi)))
        with pytest.warns(UserWarning, match="clipped"):
            duck, ref = engines(path, schema)
        assert duck.conform_notes() == ref_notes(path, schema)
        assert_histograms_equal(duck, ref, ["at", "day"], rng)


# ----------------------------------------------------------------------------- conform notes

def ref_notes(path, schema: Schema) -> list[str]:
    notes: list[str] = []
    schema.conform(lookalike.read_table(path), actions=notes)
    return notes


def survey(n: int = N, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "income": rng.integers(-100, 130000, n),
        "score": np.round(rng.normal(50, 20, n), 1),
        "qty": np.where(rng.random(n) < 0.2, rng.integers(0, 9, n) + 0.5, rng.integers(0, 9, n)),
        "color": rng.choice(["red", "green", "blue", "mauve", "teal", "rust", "sand"], n),
        "answer": rng.choice(["yes", "no", "maybe"], n, p=[0.5, 0.4, 0.1]),
        "joined": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
    })


DECLARED = {"columns": [
    {"name": "income", "kind": "integer", "bounds": [0, 100000]},
    {"name": "score", "kind": "float", "bounds": [20.5, 80]},
    {"name": "qty", "kind": "integer", "bounds": [0, 8]},
    {"name": "color", "kind": "categorical", "categories": ["red", "green"], "nullable": True},
    {"name": "answer", "kind": "boolean", "categories": ["no", "yes"], "nullable": True},
    {"name": "joined", "kind": "datetime", "unit": "D", "bounds": ["2019-06-01", "2022-01-01"]},
]}


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_conform_notes_are_the_in_memory_notes(tmp_path, suffix):
    path = lookalike.write_table(survey(), tmp_path / f"s.{suffix}")
    schema = as_schema(DECLARED)
    got = DuckDBEngine(path, schema).conform_notes()
    assert got == ref_notes(path, schema)
    assert [re.match(r"column '(\w+)'", note)[1] for note in got] == [
        "income", "score", "qty", "qty", "color", "answer", "joined"]
    assert got[0] == ("column 'income': 64 value(s) outside the declared bounds [0, 100000] "
                      "were clipped to them")
    assert got[3] == "column 'qty': 67 non-integer values rounded"
    assert "e.g. ['blue', 'mauve', 'rust', 'sand', 'teal']) were set to missing" in got[4]
    assert "e.g. ['maybe']" in got[5]
    quiet = Schema(tuple(c.replace(bounds=None, categories=None, kind=Kind.CATEGORICAL)
                         if c.kind is Kind.BOOLEAN else c.replace(bounds=None, categories=None)
                         for c in schema.columns))  # nothing declared to clip or to miss
    assert DuckDBEngine(path, quiet).conform_notes() == ref_notes(path, quiet) == [
        "column 'qty': 77 non-integer values rounded"]  # 10 more: unclipped


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_duckdb_fit_warns_what_an_in_memory_fit_warns(tmp_path, suffix):
    path = lookalike.write_table(survey(), tmp_path / f"s.{suffix}")
    shown = {}
    for engine in ("duckdb", "auto"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lookalike.get_synthesizer("mst", engine=engine).fit(path, DECLARED, seed=0)
        shown[engine] = [str(w.message) for w in caught]
    assert shown["duckdb"] == shown["auto"]
    assert "column 'income': " in shown["duckdb"][0]
    assert sum(m.startswith("column ") for m in shown["duckdb"]) == 7


class Logged:
    """A DuckDB connection that logs each statement with the number of rows it returned."""

    def __init__(self, con) -> None:
        self.con, self.log = con, []

    def execute(self, sql, params=None):
        self.sql, self.result = sql, self.con.execute(sql, params)
        return self

    def fetchall(self):
        rows = self.result.fetchall()
        self.log.append((self.sql, len(rows)))
        return rows


def test_conform_notes_run_one_aggregate_query(tmp_path):
    path = lookalike.write_table(survey(), tmp_path / "s.csv")
    con = Logged(duckdb.connect())
    duck = DuckDBEngine(path, as_schema(DECLARED), connection=con)
    before = len(con.log)
    assert len(duck.conform_notes()) == 7
    (sql, n_rows), = con.log[before:]
    assert n_rows == 1 and sql.startswith("SELECT count(*), ") and "GROUP BY" not in sql
    free = DuckDBEngine(path, schema_from_duckdb(path), connection=con)
    before = len(con.log)
    assert free.conform_notes() == [] and len(con.log) == before  # nothing declared: no query
