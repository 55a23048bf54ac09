"""Reports on a real table that stays where it lives: ``evaluate --engine duckdb|spark`` and
``synth --engine spark --report``. The marginal distances are counted in the engine over every
real row and must equal the in-memory evaluation of the same tables on the same domain
(:func:`lookalike.evaluate_at_scale`); detection, utility and queries come from a stated
sample; the report says which number comes from what.

The ``spark`` fixture (conftest) is one local session for the worker; it skips without PySpark
or Java 17.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.evaluate import evaluate_at_scale


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """400 real rows of the demo table (CSV and Parquet), a synthetic table with one column
    shuffled, and a real holdout of 200 other rows."""
    demo = lookalike.load_demo()
    real = demo.iloc[:400].reset_index(drop=True)
    synth = demo.iloc[400:800].reset_index(drop=True)
    synth["occupation"] = synth["occupation"].sample(frac=1, random_state=0).to_numpy()
    folder = tmp_path_factory.mktemp("scale")
    paths = {"csv": folder / "real.csv", "parquet": folder / "real.parquet",
             "synth": folder / "synth.csv", "holdout": folder / "holdout.csv"}
    real.to_csv(paths["csv"], index=False)
    real.to_parquet(paths["parquet"])
    synth.to_csv(paths["synth"], index=False)
    demo.iloc[800:1000].to_csv(paths["holdout"], index=False)
    return real, synth, paths


def _numbers(report):
    return json.loads(report.with_suffix(".json").read_text())["evaluation"]


def test_evaluate_with_duckdb_counts_the_marginals_there(cli, tables, tmp_path):
    real, synth, paths = tables
    report = tmp_path / "r.html"
    result = cli("evaluate", paths["csv"], paths["synth"], "--engine", "duckdb", "-o", report,
                 "--sample-rows", "300", "--target", "income", "--holdout", paths["holdout"])
    assert result.exit_code == 0, result.output
    got = _numbers(report)
    expected = evaluate_at_scale(str(paths["csv"]), synth, engine="duckdb", sample_rows=0)
    assert got["fidelity"]["marginals"]["2way"] == pytest.approx(expected.mean_tvd(2))
    assert got["fidelity"]["marginals"]["1way"] == pytest.approx(expected.mean_tvd(1))
    assert got["meta"]["n_real"] == len(real) and got["meta"]["n_synthetic"] == len(synth)
    notes = " ".join(got["meta"]["notes"])
    assert "stay in DuckDB" in notes and "sample of 300" in notes and "200 holdout rows" in notes
    assert got["utility"]["n_test"] == 200  # scored on the holdout given
    page = report.read_text(encoding="utf-8")
    assert "stay in DuckDB" in page


def test_evaluate_with_spark_gives_duckdbs_distances_from_a_path_or_a_table(
        spark, cli, tables, tmp_path):
    _, _, paths = tables
    by = {}
    spark.read.parquet(str(paths["parquet"])).createOrReplaceTempView("real_view")
    for name, args in (("duckdb", [paths["parquet"], "--engine", "duckdb"]),
                       ("spark", [paths["parquet"], "--engine", "spark"]),
                       ("table", ["-", "--engine", "spark", "--table", "real_view"])):
        report = tmp_path / f"{name}.html"
        result = cli("evaluate", args[0], paths["synth"], *args[1:], "-o", report,
                     "--sample-rows", "0")
        assert result.exit_code == 0, result.output
        by[name] = _numbers(report)["fidelity"]["marginals"]
    assert by["spark"]["2way"] == pytest.approx(by["duckdb"]["2way"])
    assert by["table"] == by["spark"]
    assert by["spark"]["n_2way"] == by["duckdb"]["n_2way"] == 15 * 14 // 2


def test_evaluate_engine_options_are_checked_first(cli, tables, tmp_path, one_error_line):
    _, _, paths = tables
    report = tmp_path / "r.html"
    line = one_error_line(cli("evaluate", paths["csv"], paths["synth"], "--engine", "duckdb",
                              "--table", "t", "-o", report))
    assert "--table" in line and "--engine" in line
    line = one_error_line(cli("evaluate", paths["csv"], paths["synth"], "--engine", "spark",
                              "--table", "t", "-o", report))
    assert "- with --table" in line
    line = one_error_line(cli("evaluate", paths["csv"], paths["synth"], "--spark-master",
                              "local[1]", "-o", report))
    assert "--engine spark" in line
    line = one_error_line(cli("evaluate", paths["csv"], paths["synth"], "--engine", "numpy",
                              "-o", report))
    assert "duckdb or spark" in line
    assert not report.exists()


@pytest.mark.slow  # (a DP fit in Spark and a report: a minute on 2 cores)
def test_cli_synth_on_spark_writes_the_report_and_the_release_sheet(spark, cli, tables, tmp_path):
    real, _, paths = tables
    out, report = tmp_path / "synthetic.parquet", tmp_path / "r.html"
    result = cli("synth", paths["parquet"], "-o", out, "-s", "mst", "--engine", "spark",
                 "--epsilon", "1", "--ledger", tmp_path / "ledger.db", "-n", "500", "--seed",
                 "0", "--report", report, "--target", "income")
    assert result.exit_code == 0, result.output
    assert out.is_dir() and len(pd.read_parquet(out)) == 500
    got = _numbers(report)
    assert got["meta"]["n_real"] == len(real) and got["meta"]["n_synthetic"] == 500
    assert "stay in Spark" in " ".join(got["meta"]["notes"])
    assert 0 < got["fidelity"]["marginals"]["2way"] <= 1  # (400 rows at ε = 1: a poor model)
    assert np.isfinite(got["detection"]["auc"])
    assert (tmp_path / "r.release.html").exists()  # DP: the shareable sheet beside it
    result = cli("synth", paths["parquet"], "-o", tmp_path / "o2.parquet", "-s", "mst",
                 "--engine", "spark", "--report", tmp_path / "r2.html", "--audit",
                 "--holdout", paths["holdout"])
    assert result.exit_code == 1 and "--audit" in result.output


def test_inspect_where_the_rows_live_gives_the_kinds_of_inspect_in_memory(
        spark, cli, tables, tmp_path):
    """``inspect --engine duckdb|spark`` writes the schema a fit with that engine infers: the
    kinds, formats and nullability of ``inspect`` in memory (no categories or bounds), with
    the same missing counts; --schema refines it as it refines the in-memory one."""
    real, _, paths = tables
    holed = real.copy()
    holed.loc[::7, "age"] = np.nan
    holed.loc[::5, "workclass"] = None
    csv, parquet = tmp_path / "holed.csv", tmp_path / "holed.parquet"
    holed.to_csv(csv, index=False)
    holed.to_parquet(parquet)
    memory = tmp_path / "memory.json"
    assert cli("inspect", csv, "-o", memory).exit_code == 0
    expected = lookalike.Schema.load(memory)
    for name, args in (("duckdb", [csv, "--engine", "duckdb"]),
                       ("spark", [parquet, "--engine", "spark"])):
        out = tmp_path / f"{name}.json"
        result = cli("inspect", *args, "-o", out)
        assert result.exit_code == 0, result.output
        got = lookalike.Schema.load(out)
        assert [(c.name, c.kind, c.nullable) for c in got] == [
            (c.name, c.kind, c.nullable) for c in expected], name
        assert f"{len(real):,} rows" in result.output
    from lookalike.marginals.duckdb import DuckDBEngine
    from lookalike.marginals.spark import SparkEngine

    expected_missing = {c: int(n) for c, n in holed.isna().sum().items()}
    with DuckDBEngine(csv) as duck, SparkEngine(spark.read.parquet(str(parquet))) as sp:
        assert duck.missing_counts() == sp.missing_counts() == expected_missing
    assert expected_missing["age"] == 58 and expected_missing["workclass"] > 80
    declared = tmp_path / "declared.json"
    declared.write_text(json.dumps({"columns": [{"name": "education-num", "kind": "categorical",
                                                 "categories": [str(v) for v in range(1, 17)]}]}))
    out = tmp_path / "refined.json"
    result = cli("inspect", csv, "--engine", "duckdb", "--schema", declared, "-o", out)
    assert result.exit_code == 0, result.output
    col = lookalike.Schema.load(out)["education-num"]
    assert col.kind.value == "categorical" and col.source("categories") == "declared"
