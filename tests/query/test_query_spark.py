"""Private queries answered inside Spark: the same answers' machinery, the rows stay in Spark.

Noise is unseedable, so the DP answers are checked against the exact ones within the noise
they state (5 standard deviations), and the exact parts (declared groups, clipping bounds,
the ledger) exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.privacy.ledger import PrivacyLedger
from lookalike.query import QueryError
from lookalike.schema import Column, Kind, Schema

pytestmark = pytest.mark.filterwarnings("ignore::lookalike.privacy.budget.UnrecordedSpendWarning")


def _people(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.integers(0, 101, n).astype("int64"),
                         "g": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
                         "y": rng.normal(50.0, 10.0, n)})


def test_a_spark_dataframe_is_answered_in_spark_within_the_stated_noise(spark, tmp_path):
    df = _people()
    df.to_parquet(tmp_path / "people.parquet")
    frame = spark.read.parquet(str(tmp_path / "people.parquet"))
    ledger = PrivacyLedger(tmp_path / "l.sqlite")
    r = lookalike.query(frame, "SELECT g, count(*) AS n, avg(y) AS m, median(x) AS med FROM t "
                        "WHERE x > 10 GROUP BY g", epsilon=4.0, keys={"g": ["a", "b", "c"]},
                        bounds={"y": (0, 100), "x": (0, 100)}, ledger=ledger, dataset="people",
                        register=True)
    sub = df[df.x > 10]
    truth = sub.groupby("g").agg(n=("x", "size"), m=("y", "mean"), med=("x", "median"))
    d = r.details.set_index(["g", "column"])
    for g in "abc":
        for col in ("n", "m"):
            row = d.loc[(g, col)]
            assert abs(row.answer - truth.loc[g, col]) < 5 * row.noise_sd + 1, (g, col)
        assert d.loc[(g, "med")].low <= truth.loc[g, "med"] <= d.loc[(g, "med")].high + 1
    assert [e.mechanism for e in ledger.releases("people")] == ["query"]


def test_spark_reads_a_parquet_path_and_discovers_bounds_there(spark, tmp_path):
    df = _people()
    path = tmp_path / "people.parquet"
    df.to_parquet(path)
    schema = Schema((Column("x", Kind.INTEGER), Column("g", Kind.CATEGORICAL),
                     Column("y", Kind.FLOAT)))
    r = lookalike.query(str(path), "SELECT sum(x) AS s FROM people", epsilon=2.0,
                        engine="spark", schema=schema)
    row = r.details.iloc[0]
    assert "bounds found under DP" in row.note
    assert abs(row.answer - df.x.sum()) < 5 * row.noise_sd + 0.05 * df.x.sum()


def test_spark_refuses_unknown_columns_before_any_charge(spark, tmp_path):
    ledger = PrivacyLedger(tmp_path / "l.sqlite")
    with pytest.raises(QueryError, match="does not fit the table"):
        lookalike.query(spark.createDataFrame(_people()), "SELECT sum(nope) FROM t",
                        epsilon=1.0, ledger=ledger, dataset="p", register=True)
    assert ledger.datasets() == []
