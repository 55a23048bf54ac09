"""``evaluate`` and ``audit`` read REAL as ``synth`` reads it (issue 18, friction 1).

They take --table, --query, --encoding, --delimiter and --drop, and a column ``synth`` left out
(free text) is left out of the comparisons with a note instead of failing with "missing".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

N = 300


def _people(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["Zürich", "Genève", "Malmö", "Köln"], N)
    age = rng.integers(18, 80, N)
    return pd.DataFrame({
        "city": city,
        "age": age,
        "income": np.round(1000 + 40 * age + rng.normal(0, 300, N), 2),
        "member": rng.choice(["yes", "no"], N),
        "comment": [f"visit {i}: {' '.join(rng.choice(['late', 'kind', 'paid', 'asked', 'the', 'a'], 9))}"
                    for i in range(N)],
    })


@pytest.fixture
def latin_csv(tmp_path) -> Path:
    """People written in Latin-1 with ';' between fields (accents that UTF-8 cannot read)."""
    path = tmp_path / "people.csv"
    _people().to_csv(path, sep=";", index=False, encoding="latin-1")
    return path


def _synthetic(tmp_path: Path, cli, real: Path, *extra: str) -> Path:
    out = tmp_path / "synthetic.csv"
    result = cli("synth", real, "-o", out, "-s", "independent", "--seed", "0", *extra)
    assert result.exit_code == 0, result.output
    return out


def test_evaluate_reads_real_with_synths_text_options(tmp_path, cli, latin_csv):
    synthetic = _synthetic(tmp_path, cli, latin_csv, "--encoding", "latin-1", "--delimiter", ";",
                           "--drop", "comment")
    report = tmp_path / "report.html"
    result = cli("evaluate", latin_csv, synthetic, "-o", report, "--encoding", "latin-1",
                 "--delimiter", ";", "--drop", "comment")
    assert result.exit_code == 0, result.output
    numbers = json.loads(report.with_suffix(".json").read_text())
    assert "city" in json.dumps(numbers["evaluation"]) and "comment" not in json.dumps(numbers["evaluation"])
    # the accents were read as written: the real cities appear in the report
    assert "Zürich" in report.read_text(encoding="utf-8")


def test_evaluate_and_audit_leave_out_what_synth_left_out(tmp_path, cli, latin_csv):
    """synth leaves the free-text comment out with a warning; evaluate and audit then compare
    the other columns and say why comment is not compared, instead of failing."""
    synthetic = _synthetic(tmp_path, cli, latin_csv, "--encoding", "latin-1", "--delimiter", ";")
    assert "comment" not in pd.read_csv(synthetic).columns
    holdout = tmp_path / "holdout.csv"  # rows the synthesizer never saw, written as the real table is
    _people(seed=1).to_csv(holdout, sep=";", index=False, encoding="latin-1")
    for command, extra in (("evaluate", ()), ("audit", ("--holdout", holdout))):
        result = cli(command, latin_csv, synthetic, "-o", tmp_path / f"{command}.html",
                     "--encoding", "latin-1", "--delimiter", ";", *extra)
        assert result.exit_code == 0, result.output
        assert "comment" in result.output and "left out of the comparisons" in result.output


def test_evaluate_and_audit_read_a_duckdb_table_and_query(tmp_path, cli):
    duckdb = pytest.importorskip("duckdb")
    people = _people().drop(columns="comment")
    db = tmp_path / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.register("people_df", people)
        con.execute("CREATE TABLE people AS SELECT * FROM people_df")
    synthetic = tmp_path / "synthetic.csv"
    result = cli("synth", db, "--table", "people", "-o", synthetic, "-s", "independent", "--seed", "0")
    assert result.exit_code == 0, result.output
    result = cli("evaluate", db, synthetic, "--table", "people", "-o", tmp_path / "t.html")
    assert result.exit_code == 0, result.output
    result = cli("evaluate", db, synthetic, "--query", "SELECT * FROM people WHERE age < 200",
                 "-o", tmp_path / "q.html")
    assert result.exit_code == 0, result.output
    result = cli("audit", db, synthetic, "--table", "people", "-o", tmp_path / "a.html")
    assert result.exit_code == 0, result.output


def test_drop_leaves_a_column_out_of_every_table_without_a_note(tmp_path, cli):
    people = _people().drop(columns="comment")
    real = tmp_path / "real.csv"
    people.to_csv(real, index=False)
    synthetic = tmp_path / "synthetic.csv"
    people.sample(frac=1, random_state=1).to_csv(synthetic, index=False)  # still has city
    result = cli("evaluate", real, synthetic, "--drop", "city", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert "left out of the comparisons" not in result.output


def test_a_column_only_synthetic_has_is_named(tmp_path, cli, one_error_line):
    people = _people().drop(columns="comment")
    real, synthetic = tmp_path / "real.csv", tmp_path / "synthetic.csv"
    people.drop(columns="member").to_csv(real, index=False)
    people.to_csv(synthetic, index=False)
    line = one_error_line(cli("evaluate", real, synthetic, "-o", tmp_path / "r.html"))
    assert "'member'" in line and "--drop" in line
    line = one_error_line(cli("evaluate", real, synthetic, "-o", tmp_path / "r.html",
                              "--target", "member"))
    assert "'member'" in line


def test_a_schema_naming_a_left_out_column_is_accepted(tmp_path, cli, latin_csv):
    schema = tmp_path / "schema.json"
    result = cli("inspect", latin_csv, "-o", schema, "--encoding", "latin-1", "--delimiter", ";")
    assert result.exit_code == 0, result.output
    synthetic = _synthetic(tmp_path, cli, latin_csv, "--encoding", "latin-1", "--delimiter", ";",
                           "--schema", schema)
    result = cli("evaluate", latin_csv, synthetic, "--schema", schema, "-o", tmp_path / "r.html",
                 "--encoding", "latin-1", "--delimiter", ";")
    assert result.exit_code == 0, result.output
