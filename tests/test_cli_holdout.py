"""An honest utility test from the CLI (issue 18, friction 2): ``synth --holdout-share`` sets
rows aside before fitting, and ``evaluate``/``audit`` refuse a "holdout" that holds the
training rows themselves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lookalike.audit import audit
from lookalike.errors import HoldoutOverlapError
from lookalike.evaluate import evaluate


@pytest.fixture
def real_csv(tmp_path, adult_small):
    path = tmp_path / "real.csv"
    adult_small.iloc[:600].to_csv(path, index=False)
    return path


def test_holdout_share_sets_rows_aside_before_fitting(tmp_path, cli, real_csv):
    real = pd.read_csv(real_csv)
    out = tmp_path / "s.csv"
    result = cli("synth", real_csv, "-o", out, "-s", "independent", "--seed", "3",
                 "--holdout-share", "0.25", "--report", tmp_path / "r.html", "--target", "income")
    assert result.exit_code == 0, result.output
    aside = pd.read_csv(tmp_path / "s.holdout.csv")
    assert len(aside) == 150 and len(pd.read_csv(out)) == 450  # the model saw 450 rows
    assert "real rows set aside" in result.output
    # the rows set aside are real rows, each used once
    def keys(df):
        return df.apply(lambda row: "|".join(map(str, row)), axis=1)

    assert keys(aside).isin(set(keys(real))).all() and not keys(aside).duplicated().any()
    numbers = json.loads((tmp_path / "r.json").read_text())
    assert numbers["evaluation"]["utility"]["holdout"] == "given"
    assert "held out from fitting" in (tmp_path / "r.html").read_text()
    # the same seed sets the same rows aside
    again = tmp_path / "again.csv"
    assert cli("synth", real_csv, "-o", again, "-s", "independent", "--seed", "3",
               "--holdout-share", "0.25").exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again.holdout.csv"), aside)


def test_without_a_holdout_the_report_says_the_utility_is_flattered(tmp_path, cli, real_csv):
    out = tmp_path / "s.csv"
    assert cli("synth", real_csv, "-o", out, "-s", "independent", "--seed", "0").exit_code == 0
    report = tmp_path / "r.html"
    result = cli("evaluate", real_csv, out, "-o", report, "--target", "income")
    assert result.exit_code == 0, result.output
    text = " ".join(report.read_text().split())
    assert "held out from fitting" not in text
    assert "most likely saw" in text and "--holdout-share" in text


@pytest.mark.parametrize("command", ["evaluate", "audit"])
def test_a_holdout_of_the_training_rows_is_refused(tmp_path, cli, real_csv, one_error_line, command):
    out = tmp_path / "s.csv"
    assert cli("synth", real_csv, "-o", out, "-s", "independent", "--seed", "0").exit_code == 0
    line = one_error_line(cli(command, real_csv, out, "--holdout", real_csv, "-o", tmp_path / "r.html"))
    assert "shares 600 of its 600 rows" in line and "--holdout-share" in line
    # half of it overlapping is refused too
    half = tmp_path / "half.csv"
    pd.read_csv(real_csv).iloc[300:].to_csv(half, index=False)
    assert "shares 300 of its 300" in one_error_line(
        cli(command, real_csv, out, "--holdout", half, "-o", tmp_path / "r.html"))


def test_python_api_refuses_it_too(adult_small):
    real, hold = adult_small.iloc[:500], adult_small.iloc[:200]
    with pytest.raises(HoldoutOverlapError, match="shares 200 of its 200"):
        evaluate(real, real, holdout=hold)
    with pytest.raises(HoldoutOverlapError, match="shares 200 of its 200"):
        audit(real, real, holdout=hold)


def test_duplicates_of_a_coarse_table_are_chance_not_overlap():
    """A table of a few yes/no columns repeats rows everywhere: a disjoint holdout shares most
    rows with the training part by chance, and is accepted."""
    from lookalike.evaluate.tables import check_held_out

    rng = np.random.default_rng(0)
    table = pd.DataFrame({c: rng.choice(["yes", "no"], 2_000) for c in "abcd"})
    check_held_out(table.iloc[:1_500], table.iloc[1_500:])  # 16 distinct rows: all shared
    with pytest.raises(HoldoutOverlapError):  # but an unrelated table's copy is not chance
        wide = table.assign(x=rng.normal(size=2_000))
        check_held_out(wide.iloc[:1_500], wide.iloc[1_000:1_500])


def test_holdout_share_refusals(tmp_path, cli, real_csv, one_error_line):
    out = tmp_path / "s.csv"
    assert "--holdout-share" in one_error_line(
        cli("synth", real_csv, "-o", out, "--holdout-share", "0.7"))
    assert "not both" in one_error_line(
        cli("synth", real_csv, "-o", out, "--holdout-share", "0.2", "--holdout", real_csv,
            "--report", tmp_path / "r.html"))
    assert "engine=duckdb" in one_error_line(
        cli("synth", real_csv, "-o", out, "-s", "mst", "-p", "engine=duckdb", "--holdout-share", "0.2"))
    assert not out.exists()


def test_synth_audits_on_the_rows_it_set_aside(tmp_path, cli, real_csv, one_error_line):
    """One command from a table to one report with the attacks in it: the rows --holdout-share
    sets aside are the only real rows the fit never saw, and no later command can be given the
    training rows apart from them, so synth --audit attacks with them."""
    out, report = tmp_path / "s.csv", tmp_path / "r.html"
    result = cli("synth", real_csv, "-o", out, "-s", "independent", "--seed", "1",
                 "--holdout-share", "0.25", "--report", report, "--audit", "--target", "income")
    assert result.exit_code == 0, result.output
    numbers = json.loads(report.with_suffix(".json").read_text())
    assert numbers["evaluation"]["utility"]["holdout"] == "given"
    attacks = numbers["privacy"]["attacks"]  # the attacks that need a holdout ran
    assert attacks and "membership" in json.dumps(attacks)
    # without real rows the fit never saw, or without a report, --audit is refused up front
    assert "--holdout-share" in one_error_line(
        cli("synth", real_csv, "-o", tmp_path / "t.csv", "--report", tmp_path / "t.html", "--audit"))
    assert "--report" in one_error_line(
        cli("synth", real_csv, "-o", tmp_path / "u.csv", "--holdout-share", "0.2", "--audit"))
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "u.csv").exists()


def test_rows_set_aside_keep_the_inputs_dialect(tmp_path, cli, adult_small):
    """The holdout is read back with REAL's options (evaluate --delimiter ';'): it is written
    with them, not as a comma CSV."""
    real = tmp_path / "real.csv"
    adult_small.iloc[:400].to_csv(real, sep=";", index=False)
    out = tmp_path / "s.csv"
    result = cli("synth", real, "-o", out, "-s", "independent", "--seed", "0", "--delimiter", ";",
                 "--holdout-share", "0.25")
    assert result.exit_code == 0, result.output
    held = tmp_path / "s.holdout.csv"
    assert held.read_text().splitlines()[0].count(";") == adult_small.shape[1] - 1
    result = cli("evaluate", real, out, "--delimiter", ";", "-o", tmp_path / "e.html")
    assert result.exit_code == 0, result.output
