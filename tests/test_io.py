"""Tests for lookalike.io: every source kind, canonical dtypes, every error, safe writing."""

from __future__ import annotations

import gzip
import importlib.resources
import sqlite3
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lookalike.io as lio
from lookalike.errors import (
    ConfigError,
    DataError,
    DuplicateColumnError,
    EmptyDataError,
    EncodingError,
    NonFiniteError,
    OutputExistsError,
    SourceNotFoundError,
    UnknownFormatError,
)
from lookalike.io import read_table, write_table


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in df.dtypes.items()}


def canonical() -> pd.DataFrame:
    """A canonical frame covering the tricky cases of a round trip."""
    return pd.DataFrame({
        "n": pd.array([1, None, -3], dtype="Int64"),
        "x": [0.1, np.nan, 1 / 3],
        "s": pd.Series(['a, "quoted"', None, "line\nbreak, ünïcödé 東京"], dtype=object),
    })


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, str):
        p.write_text(content, encoding="utf-8")
    else:
        p.write_bytes(content)
    return p


# ----------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("d", [",", ";", "\t", "|"])
def test_csv_delimiters_and_quoting(tmp_path, d):
    text = (f'id{d}name{d}score\n1{d}"a{d} ""b""\nc"{d}1.5\n'
            f'2{d}plain{d}\n3{d} padded {d}-2e3\n')
    df = read_table(write(tmp_path, "t.csv", text))
    assert dtypes(df) == {"id": "Int64", "name": "object", "score": "float64"}
    assert df["name"].tolist() == [f'a{d} "b"\nc', "plain", "padded"]
    assert df["score"].iloc[1] != df["score"].iloc[1]  # NaN
    assert df["score"].iloc[2] == -2000.0


def test_csv_missing_tokens_and_text_columns(tmp_path):
    text = "a,b,c,d\n1,NA,x,\nN/A,NULL,2,\n#N/A,1.5,y,\n,None,3,\n null ,n/a,z,\n"
    df = read_table(write(tmp_path, "t.csv", text))
    assert dtypes(df) == {"a": "Int64", "b": "float64", "c": "object", "d": "object"}
    assert df["a"].isna().sum() == 4 and df["b"].isna().sum() == 4
    assert df["c"].tolist() == ["x", "2", "y", "3", "z"]  # mixed stays text here
    assert df["d"].tolist() == [None] * 5
    assert all(isinstance(v, str) for v in df["c"])


def test_csv_number_edge_cases(tmp_path):
    text = "hex,big,signs,date\n0x1F,99999999999999999999,+5,2020-01-02\n7,1,-2.5e1,2021-02-03\n"
    df = read_table(write(tmp_path, "t.csv", text))
    # an integer beyond int64 is kept exactly as text, never rounded to a float
    assert dtypes(df) == {"hex": "object", "big": "object", "signs": "float64", "date": "object"}
    assert df["big"].tolist() == ["99999999999999999999", "1"]
    assert df["signs"].tolist() == [5.0, -25.0]
    assert df["date"].tolist() == ["2020-01-02", "2021-02-03"]  # dates are left to the schema


def test_csv_explicit_delimiter_gzip_and_bom(tmp_path):
    p = tmp_path / "t.tsv.gz"
    p.write_bytes(gzip.compress(b"a\tb\n1\tx,y\n2\tz\n"))
    assert read_table(p)["b"].tolist() == ["x,y", "z"]
    assert read_table(p, delimiter="\\t")["a"].tolist() == [1, 2]
    bom = write(tmp_path, "bom.csv", "\ufeffa,b\n1,é\n".encode("utf-8"))
    assert list(read_table(bom).columns) == ["a", "b"]
    u16 = write(tmp_path, "u16.csv", "a,b\n1,é\n".encode("utf-16"))
    assert read_table(u16)["b"].tolist() == ["é"]
    with pytest.raises(ConfigError, match="delimiter=';;'"):
        read_table(bom, delimiter=";;")


def test_adult_demo_file():
    df = read_table(importlib.resources.files("lookalike") / "data" / "adult.csv.gz")
    assert df.shape == (32561, 15)
    assert df["age"].dtype == "Int64"
    assert df["workclass"].dtype == object
    assert df["workclass"].isna().sum() == 1836


# ----------------------------------------------------------------------------- other sources


def test_parquet_arrow_and_dates(tmp_path):
    table = pa.table({
        "i": pa.array([1, None], pa.int32()),
        "f": pa.array([1.5, None], pa.float32()),
        "b": pa.array([True, None]),
        "d": pa.array([pd.Timestamp("2020-01-02").date(), None], pa.date32()),
        "t": pa.array([pd.Timestamp("2020-01-02 05:00", tz="US/Eastern"), None]),
        "c": pa.array(["x", None]).dictionary_encode(),
        "m": pa.array([1, None], pa.decimal128(5, 2)),
    })
    pq.write_table(table, tmp_path / "t.parquet")
    expected = {"i": "Int64", "f": "float64", "b": "boolean", "d": "datetime64[ns]",
                "t": "datetime64[ns]", "c": "object", "m": "float64"}
    for source in (tmp_path / "t.parquet", table, table.to_batches()[0]):
        df = read_table(source)
        assert dtypes(df) == expected
        assert df["t"].iloc[0] == pd.Timestamp("2020-01-02 10:00")  # UTC
        assert df["c"].tolist() == ["x", None]


def test_pandas_dataframe_canonical():
    df = read_table(pd.DataFrame({
        "i": [1, 2], "f": [np.nan, 2.0], "b": [True, False], "s": ["a", None],
        "cat": pd.Categorical(["u", "v"]), "t": pd.to_datetime(["2020-01-01", None]),
        "mixed": pd.Series([1, "a"], dtype=object), 7: [1.5, 2.5],
    }))
    assert dtypes(df) == {"i": "Int64", "f": "float64", "b": "boolean", "s": "object",
                          "cat": "object", "t": "datetime64[ns]", "mixed": "object",
                          "7": "float64"}
    assert df["mixed"].tolist() == ["1", "a"]
    assert df["s"].tolist() == ["a", None]


def test_polars_frames():
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"i": [1, None], "f": [float("nan"), 1.0], "s": ["a", None]})
    for source in (frame, frame.lazy()):
        df = read_table(source)
        assert dtypes(df) == {"i": "Int64", "f": "float64", "s": "object"}
        assert df["f"].isna().tolist() == [True, False]
    with pytest.raises(NonFiniteError, match="'f'"):
        read_table(pl.DataFrame({"f": [float("inf")]}))


@pytest.fixture
def duck_file(tmp_path) -> Path:
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE people AS SELECT * FROM (VALUES (1, 'ann', 2.5), "
                    "(NULL, 'bob', NULL)) t(id, name, score)")
    return path


def test_duckdb_file_connection_and_query(duck_file, tmp_path):
    df = read_table(duck_file, table="people")
    assert dtypes(df) == {"id": "Int64", "name": "object", "score": "float64"}
    assert df["name"].tolist() == ["ann", "bob"]
    assert read_table(duck_file, query="SELECT name FROM people WHERE id = 1").shape == (1, 1)
    with duckdb.connect(str(duck_file), read_only=True) as con:
        assert read_table(con, table="PEOPLE").shape == (2, 3)
        assert read_table(con.sql("SELECT id FROM people")).shape == (2, 1)
    assert read_table(duck_file.rename(tmp_path / "db.db"), table="people").shape == (2, 3)
    write_table(df, tmp_path / "p.parquet")
    df2 = read_table(query=f"SELECT * FROM '{tmp_path / 'p.parquet'}'")
    pd.testing.assert_frame_equal(df, df2)


@pytest.fixture
def sqlite_file(tmp_path) -> Path:
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (id INTEGER, name TEXT, x REAL)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, "a", 0.5), (None, None, None)])
        con.execute("CREATE TABLE loose (v)")  # SQLite lets one column mix types
        con.executemany("INSERT INTO loose VALUES (?)", [(1,), ("a",), (None,)])
    con.close()
    return path


def test_sqlite_url_table_and_query(sqlite_file):
    url = f"sqlite:///{sqlite_file}"
    df = read_table(url, table="t")
    assert dtypes(df) == {"id": "Int64", "name": "object", "x": "float64"}
    assert df["name"].tolist() == ["a", None]
    assert read_table(url, query="SELECT id, x FROM t WHERE id = 1").iloc[0].tolist() == [1, 0.5]
    assert read_table(sqlite_file, table="t").shape == (2, 3)  # a path to a .sqlite file
    assert read_table(url, table="loose")["v"].tolist() == ["1", "a", None]


# ----------------------------------------------------------------------------- errors


def test_missing_file_and_folder(tmp_path):
    write(tmp_path, "data.csv", "a\n1\n")
    with pytest.raises(SourceNotFoundError, match=r"dta\.csv does not exist; did you mean .*data"):
        read_table(tmp_path / "dta.csv")
    with pytest.raises(SourceNotFoundError, match="nowhere"):
        read_table(tmp_path / "nowhere" / "x.csv")
    with pytest.raises(UnknownFormatError, match="is a folder"):
        read_table(tmp_path)


def test_unknown_format_lists_supported(tmp_path):
    with pytest.raises(UnknownFormatError, match=r"t\.xlsx.*Parquet"):
        read_table(write(tmp_path, "t.xlsx", "a\n1\n"))
    with pytest.raises(UnknownFormatError, match="dict"):
        read_table({"a": [1]})


@pytest.mark.parametrize("content", ["", "  \n\n "])
def test_empty_file(tmp_path, content):
    with pytest.raises(EmptyDataError, match=r"e\.csv is empty"):
        read_table(write(tmp_path, "e.csv", content))


def test_header_only(tmp_path):
    with pytest.raises(EmptyDataError, match=r"header \(3 columns\) but no data rows"):
        read_table(write(tmp_path, "h.csv", "a,b,c\n"))
    with pytest.raises(EmptyDataError, match="no data rows"):
        read_table(pd.DataFrame({"a": []}))


def test_duplicate_columns(tmp_path):
    with pytest.raises(DuplicateColumnError, match="'a' at positions 1, 3"):
        read_table(write(tmp_path, "d.csv", "a,b,a\n1,2,3\n"))
    with pytest.raises(DuplicateColumnError, match="'x' at positions 1, 2"):
        read_table(pd.DataFrame([[1, 2]], columns=["x", "x"]))
    with pytest.raises(DuplicateColumnError, match="'x'"):
        read_table(pa.table([[1], [2]], names=["x", "x"]))


def test_non_utf8_bytes(tmp_path):
    p = write(tmp_path, "l.csv", b"name,n\ncaf\xe9,1\nna\xefve,2\nM\xfcnchen,3\n")
    with pytest.raises(EncodingError, match=r"l\.csv.*0xe9 on line 2.*encoding='cp1252'"):
        read_table(p)
    with pytest.warns(UserWarning, match="cp1252"):
        assert read_table(p, encoding="detect")["name"].tolist() == ["café", "naïve", "München"]
    assert read_table(p, encoding="latin-1")["name"].iloc[2] == "München"
    with pytest.raises(EncodingError, match="not valid ascii"):
        read_table(p, encoding="ascii")
    with pytest.raises(ConfigError, match="unknown encoding 'nope'"):
        read_table(p, encoding="nope")


@pytest.mark.parametrize("token", ["inf", "NaN", "-Infinity", "nan"])
def test_non_finite_in_csv(tmp_path, token):
    p = write(tmp_path, "n.csv", f"a,b\n1,2.5\n2,{token}\n3,{token}\n")
    with pytest.raises(NonFiniteError, match=r"column 'b'.* 2 .*values \(data rows 2, 3.*empty fields"):
        read_table(p)


def test_non_finite_in_frames_and_parquet(tmp_path):
    with pytest.raises(NonFiniteError, match=r"'x'.*1 infinite value \(data row 2,"):
        read_table(pd.DataFrame({"x": [1.0, np.inf, np.nan]}))
    assert read_table(pd.DataFrame({"x": [1.0, np.nan]}))["x"].isna().sum() == 1
    pq.write_table(pa.table({"x": [1.0, float("nan"), None]}), tmp_path / "n.parquet")
    with pytest.raises(NonFiniteError, match=r"'x' in .*n\.parquet has 1 NaN"):
        read_table(tmp_path / "n.parquet")


def test_ragged_rows_and_bad_quotes(tmp_path):
    with pytest.raises(DataError, match="line 3 has 1 field but the header has 2"):
        read_table(write(tmp_path, "r.csv", "a,b\n1,2\n3\n"))
    with pytest.raises(DataError, match="line 4 has 3 fields"):
        read_table(write(tmp_path, "r.csv", 'a,b\n1,"x\ny"\n3,4,5\n'))
    with pytest.raises(DataError, match="quoted field starting on line 2 is not closed"):
        read_table(write(tmp_path, "q.csv", 'a,b\n1,"2\n3,4\n'))


def test_corrupt_parquet_and_gzip(tmp_path):
    with pytest.raises(DataError, match=r"bad\.parquet could not be read as Parquet"):
        read_table(write(tmp_path, "bad.parquet", "a,b\n1,2\n"))
    with pytest.raises(DataError, match=r"bad\.csv\.gz is not a valid gzip"):
        read_table(write(tmp_path, "bad.csv.gz", b"\x1f\x8bnot gzip"))


def test_database_errors(duck_file, sqlite_file, tmp_path):
    with pytest.raises(SourceNotFoundError, match="no table 'nope'.*available tables: people"):
        read_table(duck_file, table="nope")
    with pytest.raises(ConfigError, match="table='name' or query="):
        read_table(duck_file)
    with pytest.raises(ConfigError, match="exactly one"):
        read_table(duck_file, table="people", query="SELECT 1")
    with pytest.raises(SourceNotFoundError, match="(?i)nope"):
        read_table(duck_file, query="SELECT * FROM nope")
    with pytest.raises(ConfigError, match="not valid SQL"):
        read_table(query="SELEC 1")
    url = f"sqlite:///{sqlite_file}"
    with pytest.raises(SourceNotFoundError, match="no table 'nope'.*available tables: loose, t"):
        read_table(url, table="nope")
    with pytest.raises(SourceNotFoundError, match="no such table: nope"):
        read_table(url, query="SELECT * FROM nope")
    with pytest.raises(ConfigError, match="table='name' or query="):
        read_table(url)
    with pytest.raises(SourceNotFoundError, match=r"missing\.db does not exist"):
        read_table(f"sqlite:///{tmp_path / 'missing.db'}", table="t")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(ConfigError, match="apply to databases"):
        read_table(write(tmp_path, "a.csv", "a\n1\n"), table="t")


# ----------------------------------------------------------------------------- writing


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.tsv", "out.parquet"])
def test_round_trip(tmp_path, name):
    df = canonical()
    if name.endswith(".parquet"):
        df["when"] = pd.to_datetime(["2020-01-02 03:04:05", None, "1999-12-31"], format="ISO8601")
        df["flag"] = pd.array([True, None, False], dtype="boolean")
    first = read_table(df)
    path = write_table(first, tmp_path / name)
    assert path == tmp_path / name
    pd.testing.assert_frame_equal(read_table(path), first)
    assert write_table(read_table(path), tmp_path / "again" / name).exists()


def test_csv_writing_format(tmp_path):
    df = pd.DataFrame({
        "d": pd.to_datetime(["2020-01-02", None]),
        "t": pd.to_datetime(["2020-01-02 03:04:05", "2021-05-06"], format="ISO8601"),
        "n": pd.array([3, None], dtype="Int64"),
    })
    text = write_table(df, tmp_path / "f.txt", format="csv").read_text()
    assert text == "d,t,n\n2020-01-02,2020-01-02T03:04:05,3\n,2021-05-06T00:00:00,\n"


def test_write_refuses_overwrite_unless_asked(tmp_path):
    target = write(tmp_path, "o.csv", "old\n")
    with pytest.raises(OutputExistsError, match=r"o\.csv already exists.*overwrite=True"):
        write_table(canonical(), target)
    assert target.read_text() == "old\n"
    write_table(canonical(), target, overwrite=True)
    assert read_table(target).shape == (3, 3)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(df, tmp, **kwargs):
        Path(tmp).write_text("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(lio, "_write_csv", broken)
    target = write(tmp_path, "keep.csv", "old\n")
    with pytest.raises(OSError, match="disk full"):
        write_table(canonical(), target, overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        write_table(canonical(), tmp_path / "new.csv")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]


def test_write_errors(tmp_path):
    with pytest.raises(UnknownFormatError, match=r"'\.xlsx'.*csv, csv\.gz"):
        write_table(canonical(), tmp_path / "x.xlsx")
    with pytest.raises(DuplicateColumnError, match="'a'"):
        write_table(pd.DataFrame([[1, 2]], columns=["a", "a"]), tmp_path / "x.csv")
    with pytest.raises(DataError, match="mixed-type"):
        write_table(pd.DataFrame({"m": pd.Series([1, "a"], dtype=object)}), tmp_path / "m.pq")
    assert list(tmp_path.iterdir()) == []
