"""Evaluation against a real table left in its engine: marginal distances over every real row,
the same from DuckDB and Spark, the rest on a stated sample."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lookalike
from lookalike.evaluate import evaluate_at_scale


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    df = lookalike.load_demo().sample(3000, random_state=2).reset_index(drop=True)
    path = tmp_path_factory.mktemp("scale") / "real.parquet"
    df.to_parquet(path)
    return df, str(path)


def test_the_real_table_is_at_distance_zero_and_a_shuffled_column_breaks_only_its_pairs(real):
    df, path = real
    same = evaluate_at_scale(path, df, sample_rows=0)
    assert same.n_real == 3000 and same.engine == "DuckDB"
    assert same.marginals["tvd"].max() == 0.0
    shuffled = df.assign(age=np.random.default_rng(0).permutation(df["age"].to_numpy()))
    found = evaluate_at_scale(path, shuffled, sample_rows=0).marginals
    touched = found["columns"].map(lambda c: "age" in c)
    assert found.loc[found["k"] == 1, "tvd"].max() == 0.0  # a permutation keeps every 1-way
    assert found.loc[touched & (found["k"] == 2), "tvd"].min() > 0.02
    assert found.loc[~touched, "tvd"].max() == 0.0


def test_the_sample_metrics_say_their_sample(real):
    df, path = real
    synth = lookalike.fit(df, "independent", seed=0).sample(3000, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate_at_scale(path, synth, target="income", sample_rows=800, seed=0)
    assert result.sample.meta.n_real == 800
    assert any("sample of 800 of the 3,000 real rows" in n for n in result.notes)
    # the independent model keeps 1-ways and loses the dependence
    assert result.mean_tvd(1) < 0.05 < result.mean_tvd(2)
    assert result.to_dict()["two_way_tvd"] == pytest.approx(result.mean_tvd(2))


@pytest.mark.slow  # (exact discovery in Spark: a minute on 2 cores)
def test_spark_gives_duckdbs_distances(spark, real):
    df, path = real
    keep = ["age", "workclass", "hours-per-week", "sex", "income"]  # (fewer Spark queries)
    drop = [c for c in df.columns if c not in keep]
    synth = lookalike.fit(df[keep], "independent", seed=0).sample(2000, seed=1)
    in_duckdb = evaluate_at_scale(path, synth, sample_rows=0, drop=drop)
    in_spark = evaluate_at_scale(spark.read.parquet(path), synth, sample_rows=0, drop=drop)
    assert len(in_spark.marginals) == 5 + 10
    assert in_spark.engine == "Spark"
    assert in_spark.marginals["tvd"].tolist() == pytest.approx(in_duckdb.marginals["tvd"].tolist(),
                                                               abs=1e-12)
