"""Inputs at the edges of what a dtype holds: sentinel dates, huge integers, unreadable files.

Each ends modelled exactly or in a named error, through ``read_table``, ``infer_schema``, a fit
and the CLI: dates beyond 2262 are kept (``datetime64[us]``); integers beyond int64 stay text,
unique fixed-width ones become identifiers, columns with few distinct values categories (kept
exactly) and the rest floats, each with a warning naming the column;
an input that cannot be read is a :class:`SourceReadError` or a named :class:`DataError`.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lookalike
from lookalike.errors import (
    ColumnError,
    DataError,
    SourceNotFoundError,
    SourceReadError,
    UnknownFormatError,
)
from lookalike.io import read_table, write_table
from lookalike.schema import Kind, infer_schema, parse_datetime

N = 300
HUGE = "10000000000000000000000000"  # 10**25


# ----------------------------------------------------------------------------- 9999-12-31


def sentinel_table(n: int = N) -> pd.DataFrame:
    """Start and end dates, a third of the ends the open-ended sentinel 9999-12-31."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(1, 400, n), unit="D")
    text = end.strftime("%Y-%m-%d").to_numpy(dtype=object)
    text[rng.random(n) < 1 / 3] = "9999-12-31"
    return pd.DataFrame({"start": start.strftime("%Y-%m-%d"), "end": text,
                         "plan": rng.choice(["a", "b", "c"], n)})


@pytest.fixture
def sentinel_csv(tmp_path) -> Path:
    path = tmp_path / "contracts.csv"
    sentinel_table().to_csv(path, index=False)
    return path


def test_sentinel_date_is_inferred_as_a_date_with_that_bound(sentinel_csv):
    df = read_table(sentinel_csv)
    assert (df["end"] == "9999-12-31").sum() > N // 5  # dates stay text in read_table
    end = infer_schema(df)["end"]
    assert (end.kind, end.unit, end.bounds[1]) == (Kind.DATETIME, "D", "9999-12-31")
    assert end.numeric_bounds()[1] == (date(9999, 12, 31) - date(1970, 1, 1)).days
    out = infer_schema(df).conform(df, actions=[])
    assert str(out["end"].dtype) == "datetime64[us]"
    assert (out["end"].dt.year == 9999).mean() == pytest.approx((df["end"] == "9999-12-31").mean())


@pytest.mark.parametrize(("name", "options"), [("independent", {}), ("mst", {"epsilon": 1.0})])
def test_sentinel_date_fits_and_samples(sentinel_csv, tmp_path, name, options):
    df = read_table(sentinel_csv)
    model = lookalike.get_synthesizer(name).fit(df, seed=0, **options)
    rows = model.sample(400, seed=1)
    assert rows["end"].dtype == object  # text dates come back as text, in the input's format
    end = parse_datetime(rows["end"], "%Y-%m-%d")
    assert pd.api.types.is_datetime64_any_dtype(end.dtype) and end.notna().all()  # [us] past 2262
    assert end.max() <= pd.Timestamp("9999-12-31")
    assert model.schema_["end"].numeric_bounds() is not None  # bounds read back as dates
    assert parse_datetime(rows["start"], "%Y-%m-%d").max() < pd.Timestamp("2262-01-01")
    if name == "independent":  # 1-way marginals: the sentinel's share is kept (about 1/3)
        share = (end.dt.year == 9999).mean()
        assert abs(share - 1 / 3) < 4 * np.sqrt(1 / 3 * 2 / 3 / 400) + 0.05
    back = read_table(write_table(rows, tmp_path / f"{name}.csv"))
    assert (back["end"].str.startswith("9999")).sum() == (end.dt.year == 9999).sum()


def test_sentinel_date_through_the_cli(cli, sentinel_csv, tmp_path):
    out = tmp_path / "synthetic.csv"
    result = cli("synth", sentinel_csv, "-o", out, "-s", "independent", "--seed", 0)
    assert result.exit_code == 0, result.output
    assert read_table(out)["end"].str.startswith("9999-12-31").any()


def test_sentinel_dates_from_arrow_and_parquet(tmp_path):
    table = pa.table({
        "d": pa.array([date(2020, 1, 1), date(9999, 12, 31), None], pa.date32()),
        "t": pa.array([datetime(2020, 1, 1, 5), datetime(9999, 12, 31, 23, 59, 59), None],
                      pa.timestamp("ms")),
    })
    pq.write_table(table, tmp_path / "t.parquet")
    for source in (table, tmp_path / "t.parquet"):
        df = read_table(source)
        assert {str(t) for t in df.dtypes} == {"datetime64[us]"}
        assert df["d"].iloc[1] == pd.Timestamp("9999-12-31")
        assert df["t"].iloc[1] == pd.Timestamp("9999-12-31 23:59:59")


def test_dates_past_year_9999_are_refused_by_name():
    table = pa.table({"when": pa.array([0, 4_000_000], pa.int32()).cast(pa.date32())})
    with pytest.raises(DataError, match=r"column 'when' in the Arrow table has dates outside the "
                                        r"years 1 \.\. 9999.*replace them with missing values"):
        read_table(table)


# ----------------------------------------------------------------------------- beyond int64


def test_integers_beyond_int64_stay_exact_text(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("big,small\n" + "".join(f"{10**25 + i},{i % 3}\n" for i in range(N)))
    df = read_table(path)
    assert df["big"].dtype == object and df["small"].dtype == "Int64"
    assert df["big"].tolist() == [str(10**25 + i) for i in range(N)]  # not 1e25 for every row


def test_unique_fixed_width_huge_integers_are_identifiers(tmp_path):
    ids = [str(12345678901234567890 + 7919 * i) for i in range(N)]
    path = tmp_path / "accounts.csv"
    pd.DataFrame({"account": ids, "x": np.arange(N) % 4}).to_csv(path, index=False)
    df = read_table(path)
    assert df["account"].tolist() == ids
    col = infer_schema(df)["account"]
    assert (col.kind, col.format) == (Kind.IDENTIFIER, "[0-9]{20}")
    rows = lookalike.get_synthesizer("independent").fit(df, seed=0).sample(50, seed=0)
    assert rows["account"].str.fullmatch("[0-9]{20}").all()
    assert not set(rows["account"]) & set(ids)  # fresh keys, never the real ones


def test_huge_integers_mixed_with_small_ones_are_exact_categories_with_a_warning(tmp_path):
    # was refused by name; inference now never gives up on a column (issue 17)
    values = [str(i % 7) for i in range(N)]
    values[4] = HUGE
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"amount": values, "x": np.arange(N) % 3}).to_csv(path, index=False)
    df = read_table(path)
    assert df["amount"].iloc[4] == HUGE  # read exactly
    message = (r"column 'amount' holds integers beyond the 64-bit range \(e\.g\. row 5: "
               + HUGE + r"\): it is modelled as categories.*declare it 'float'.*--drop 'amount'")
    with pytest.warns(UserWarning, match=message):
        assert HUGE in infer_schema(df)["amount"].categories
    with pytest.warns(UserWarning, match=message):
        rows = lookalike.get_synthesizer("independent").fit(df, seed=0).sample(2000, seed=0)
    assert set(rows["amount"].dropna().astype(str)) <= set(values)  # every digit kept


def test_huge_unique_integers_not_keys_are_floats_with_a_warning():
    values = [str(10**19 * (i + 1) + i) for i in range(N)]  # widths differ, no key name
    df = pd.DataFrame({"amount": values, "x": np.arange(N) % 3})
    with pytest.warns(UserWarning, match=r"column 'amount' holds integers beyond the 64-bit range"
                                         r".*modelled as floats, rounded .*'identifier'"):
        col = infer_schema(df)["amount"]
    assert col.kind is Kind.FLOAT and col.bounds == (1e19, float(values[-1]))


def test_huge_integers_declared_categorical_are_kept_exactly():
    values = [str(i % 7) for i in range(N)]
    values[4] = HUGE
    df = pd.DataFrame({"amount": values, "x": np.arange(N) % 3})
    schema = infer_schema(df, declared={"columns": [{"name": "amount", "kind": "categorical"}]})
    assert HUGE in schema["amount"].categories
    with pytest.raises(ColumnError, match=r"'amount' is declared integer but holds values beyond "
                                          r"the 64-bit range \(e\.g\. row 5: " + HUGE):
        lookalike.get_synthesizer("independent").fit(
            df, {"columns": [{"name": "amount", "kind": "integer"}]}, seed=0)


def test_huge_integers_through_the_cli(one_error_line, cli, tmp_path):
    values = [str(i % 7) for i in range(N)]
    values[4] = HUGE
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"amount": values, "x": np.arange(N) % 3}).to_csv(path, index=False)
    result = cli("fit", path, "-o", tmp_path / "m.lookalike", "-s", "independent")
    assert result.exit_code == 0, result.output
    assert "warning: column 'amount' holds integers beyond the 64-bit range" in result.stderr
    assert "--schema" in result.stderr and "--drop 'amount'" in result.stderr
    schema = tmp_path / "s.json"
    schema.write_text('{"columns": [{"name": "amount", "kind": "categorical"}]}')
    ok = cli("fit", path, "-o", tmp_path / "m.lookalike", "-s", "independent", "--schema", schema,
             "--overwrite")
    assert ok.exit_code == 0, ok.output


def test_parquet_uint64_beyond_int64_is_exact(tmp_path):
    keys = [2**64 - 1 - 104729 * i for i in range(N)]
    table = pa.table({"key": pa.array(keys, pa.uint64()),
                      "small": pa.array(np.arange(N) % 5, pa.uint64())})
    pq.write_table(table, tmp_path / "u.parquet")
    df = read_table(tmp_path / "u.parquet")
    assert df["key"].tolist() == [str(k) for k in keys]
    assert df["small"].dtype == "Int64"  # uint64 values that fit stay integers
    assert infer_schema(df)["key"].kind is Kind.IDENTIFIER


def test_decimals_beyond_float_precision_are_exact_or_named(tmp_path):
    wide = [Decimal("12345678901234567890.12") + i for i in range(N)]
    table = pa.table({
        "wide": pa.array(wide, pa.decimal128(22, 2)),
        "money": pa.array([Decimal("1.25") * (i % 9) for i in range(N)], pa.decimal128(30, 2)),
        "count": pa.array([Decimal(10**20 + i) for i in range(N)], pa.decimal128(38, 0)),
        "fits": pa.array([Decimal(2**60 + i) for i in range(N)], pa.decimal128(38, 0)),
    })
    pq.write_table(table, tmp_path / "d.parquet")
    df = read_table(tmp_path / "d.parquet")
    assert df["wide"].tolist() == [str(w) for w in wide]  # text, every digit kept
    assert df["money"].dtype == "float64"  # exact as floats: numbers
    assert df["count"].tolist() == [str(10**20 + i) for i in range(N)]
    assert df["fits"].dtype == "Int64" and df["fits"].iloc[1] == 2**60 + 1
    with pytest.warns(UserWarning, match=r"column 'wide' holds decimals with more digits than a "
                                         r"float keeps \(e\.g\. row 1: 12345678901234567890\.12\)"
                                         r": it is modelled as floats, rounded"):
        schema = infer_schema(df)  # was refused by name (issue 17: never give up on a column)
    assert schema["wide"].kind is Kind.FLOAT
    assert schema["count"].kind is Kind.IDENTIFIER


def test_uint64_frame_column_is_not_rounded():
    readings = np.array([2**64 - 1 - 2**11 * (i % 5) for i in range(N)], dtype=np.uint64)
    with pytest.warns(UserWarning, match=r"column 'reading' holds integers beyond the 64-bit "
                                         r"range \(e\.g\. row 1: 18446744073709551615\): it "
                                         r"is modelled as categories, each value kept exactly"):
        col = infer_schema(pd.DataFrame({"reading": readings, "x": np.arange(N) % 3}))["reading"]
    assert col.categories == tuple(sorted({str(r) for r in readings}))


# ----------------------------------------------------------------------------- unreadable inputs


def test_parent_that_is_a_file(tmp_path):
    (tmp_path / "data").write_text("a\n1\n")
    with pytest.raises(SourceNotFoundError, match=r"data[/\\]t\.csv does not exist \(.*data is a "
                                                  r"file, not a folder\)"):
        read_table(tmp_path / "data" / "t.csv")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_fifo_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    caught: list[BaseException] = []

    def read() -> None:
        try:
            read_table(pipe)
        except BaseException as e:  # handed to the test thread
            caught.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # blocked waiting for a writer: release it, then fail
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
        pytest.fail("read_table blocked on a named pipe")
    assert len(caught) == 1 and isinstance(caught[0], SourceReadError), caught
    assert re.search(r"pipe\.csv is not a regular file", str(caught[0]))


def test_folder_named_like_a_csv(tmp_path):
    (tmp_path / "t.csv").mkdir()
    with pytest.raises(UnknownFormatError, match=r"t\.csv is a folder"):
        read_table(tmp_path / "t.csv")


def test_permission_denied_is_named(tmp_path, monkeypatch):
    path = tmp_path / "secret.csv"
    path.write_text("a\n1\n")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # chmod does not stop root
    with pytest.raises(SourceReadError, match=r"cannot read .*secret\.csv: Permission denied; "
                                              r"check that the file is readable"):
        read_table(path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("a\n1\n")
    path.chmod(0)
    with pytest.raises(SourceReadError, match="Permission denied"):
        read_table(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (bytes(range(256)) * 40, r"binary file, not CSV text \(it holds NUL bytes\)"),
        (b"PAR1\x15\x04\x15\x00" + bytes(200), r"a Parquet file: name it \.parquet"),
        (b"PK\x03\x04\x14\x00\x00\x00" + bytes(200), r"an Excel workbook: export the sheet as CSV"),
    ],
)
def test_binary_file_given_as_csv(tmp_path, content, match):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        read_table(path)


def test_unreadable_inputs_through_the_cli(one_error_line, cli, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 40)
    for path, match in ((tmp_path / "folder.csv", "is a folder"),
                        (tmp_path / "file" / "t.csv", "is a file, not a folder"),
                        (tmp_path / "junk.csv", "is a binary file")):
        assert match in one_error_line(cli("inspect", path, "-o", tmp_path / "s.json"))
