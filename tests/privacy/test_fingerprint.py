"""Content fingerprints: the same table whatever its row order, format or engine; near copies."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lookalike import read_table
from lookalike.errors import DataError
from lookalike.marginals.duckdb import DuckDBEngine
from lookalike.privacy.fingerprint import (
    SAME_ROWS_JACCARD,
    SKETCH_SIZE,
    DataFingerprint,
    fingerprint_duckdb,
    fingerprint_frame,
)


def _table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Every kind of column read_table produces, with missing values."""
    rng = np.random.default_rng(seed)
    age = pd.array(rng.integers(18, 90, n), dtype="Int64")
    age[rng.random(n) < 0.1] = pd.NA
    income = rng.normal(5e4, 1e4, n).round(2)
    income[rng.random(n) < 0.1] = np.nan
    sex = rng.choice(np.array(["F", "M", None], dtype=object), n)
    start = pd.Timestamp("2020-01-01")
    return pd.DataFrame({
        "age": age,
        "income": income,
        "ratio": rng.random(n),  # full-precision floats
        "sex": sex,
        "member": rng.random(n) < 0.5,
        "joined": start + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        "seen": start + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
        "note": rng.choice(np.array(["a b", "x,y", "007x", "é"], dtype=object), n),
    })


def _engine_fp(path: Path) -> DataFingerprint:
    with DuckDBEngine(path) as engine:
        return engine.fingerprint()


def test_same_table_across_row_order_format_and_engine(tmp_path):
    df = _table()
    fp = fingerprint_frame(df)
    csv, shuffled, parquet = tmp_path / "t.csv", tmp_path / "s.csv", tmp_path / "t.parquet"
    df.to_csv(csv, index=False)
    df.sample(frac=1.0, random_state=1).to_csv(shuffled, index=False)
    df.to_parquet(parquet)
    assert fingerprint_frame(read_table(csv)) == fp
    assert fingerprint_frame(read_table(shuffled)) == fp
    assert fingerprint_frame(read_table(parquet)) == fp
    assert _engine_fp(csv) == fp
    assert _engine_fp(shuffled) == fp
    assert _engine_fp(parquet) == fp
    assert fp.n_rows == len(df) and sorted(fp.columns) == sorted(df.columns)


def test_typing_does_not_matter():
    """An integer, its float and its padded text are one value; NA tokens are missing."""
    a = pd.DataFrame({"x": [5, 7, None], "b": [True, False, True], "t": ["u", "v", None]})
    b = pd.DataFrame({"x": [" 005", "7.0", "NA"], "b": ["TRUE", "false", "True"],
                      "t": [" u", "v ", ""]})
    assert fingerprint_frame(a) == fingerprint_frame(b)
    assert fingerprint_frame(a) != fingerprint_frame(a.assign(x=[5, 8, None]))


def test_duckdb_typed_table_and_column_subset():
    df = _table(50)
    con = duckdb.connect()
    con.register("frame", df)
    con.execute("CREATE TABLE typed AS SELECT * FROM frame")
    assert fingerprint_duckdb(con, "typed") == fingerprint_frame(df)
    assert fingerprint_duckdb(con, "typed", ["sex", "age"]) == fingerprint_frame(df[["age", "sex"]])
    with pytest.raises(DataError, match=r"cannot fingerprint columns \['nope'\]: not in"):
        fingerprint_duckdb(con, "typed", ["nope"])
    with pytest.raises(DataError, match="DuckDB could not fingerprint"):
        fingerprint_duckdb(con, "no_such_table")


def test_adult_through_duckdb_equals_pandas(shared_datasets):
    adult = shared_datasets / "adult" / "adult.csv"
    assert _engine_fp(adult) == fingerprint_frame(read_table(adult))


def test_a_dropped_column_is_the_same_data():
    df = _table()
    full, part = fingerprint_frame(df), fingerprint_frame(df.drop(columns=["income"]))
    assert full != part
    assert full.same_data(part) and part.same_data(full)
    shared, jaccard = full.similarity(part)
    assert "income" not in shared and len(shared) == df.shape[1] - 1 and jaccard is None


def test_three_edited_rows_of_2000_are_the_same_data():
    df = _table(2000, seed=3)
    edited = df.copy()
    edited.loc[[10, 500, 1500], "ratio"] = [0.5, 0.25, 0.125]
    a, b = fingerprint_frame(df), fingerprint_frame(edited)
    assert a.digest != b.digest
    shared, jaccard = a.similarity(b)
    # 6 of the 2003 distinct rows differ: at most 6 of the 64 sketch hashes can be unshared
    assert jaccard >= 1 - 6 / SKETCH_SIZE >= SAME_ROWS_JACCARD
    assert "ratio" not in shared and a.same_data(b)
    assert "columns with other values: ratio" in a.describe(b)


def test_a_different_table_is_not_the_same_data():
    a, b = fingerprint_frame(_table(seed=0)), fingerprint_frame(_table(seed=1))
    assert not a.same_data(b)
    assert a.similarity(b) == ((), 0.0)
    # half the rows replaced: same columns, but not the same data
    df = _table(2000, seed=4)
    half = pd.concat([df.iloc[:1000], _table(1000, seed=5)], ignore_index=True)
    whole, mixed = fingerprint_frame(df), fingerprint_frame(half)
    assert whole.similarity(mixed)[1] < SAME_ROWS_JACCARD and not whole.same_data(mixed)


def test_json_round_trip_and_errors():
    fp = fingerprint_frame(_table(20))
    assert DataFingerprint.from_json(fp.to_json()) == fp
    assert len(fp.sketch) == 20 and list(fp.sketch) == sorted(fp.sketch)
    with pytest.raises(ValueError, match="not a data fingerprint"):
        DataFingerprint.from_json('{"digest": "x"}')
    with pytest.raises(ValueError, match="fingerprint version 9"):
        DataFingerprint.from_json(fp.to_json().replace('"version": 1', '"version": 9'))


def test_duplicate_column_names_are_refused():
    df = pd.DataFrame([[1, 2]], columns=["a", " a"])
    with pytest.raises(DataError, match="duplicate column names"):
        fingerprint_frame(df)
