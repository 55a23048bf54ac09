"""Conditions from the command line (issue 18, friction 5): ``--condition`` with missing values
and ranges, ``--conditions FILE`` tables of per-row conditions, on ``synth`` and ``sample``, and
the errors, checked before the fit (and before any DP charge)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import lookalike


def make_table(n: int = 2000, seed: int = 0, missing_share: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    work = rng.choice(["Private", "Gov", "Self"], n, p=[0.6, 0.25, 0.15]).astype(object)
    work[rng.random(n) < missing_share] = None
    return pd.DataFrame({
        "age": age,
        "sex": rng.choice(["F", "M"], n),
        "workclass": work,
        "income": np.round(np.exp(rng.normal(10 + 0.02 * (age - 40), 0.4)), 2),
        "dob": (pd.Timestamp("2020-01-01")
                - pd.to_timedelta(age * 365 + rng.integers(0, 365, n), "D")).strftime("%Y-%m-%d"),
    })


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cond") / "people.csv"
    make_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mst_model(tmp_path_factory, cli, data_csv):
    path = tmp_path_factory.mktemp("cond_model") / "mst.lookalike"
    result = cli("fit", data_csv, "-s", "mst", "-o", path, "--seed", 0)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def condition_file(tmp_path):
    path = tmp_path / "wanted.csv"
    path.write_text("age,sex,workclass\n37,M,\n,F,null\n>=70,,Gov\n25,F,Private\n")
    return path


def check_table_rows(rows: pd.DataFrame) -> None:
    assert len(rows) == 4
    assert rows["age"].iloc[0] == 37 and rows["age"].iloc[2] >= 70 and rows["age"].iloc[3] == 25
    assert rows["sex"].iloc[0] == "M" and rows["sex"].iloc[1] == "F" and rows["sex"].iloc[3] == "F"
    assert pd.isna(rows["workclass"].iloc[1])
    assert rows["workclass"].iloc[2] == "Gov" and rows["workclass"].iloc[3] == "Private"


@pytest.mark.parametrize("family", ["cart", "mst"])
def test_synth_with_ranges_dates_and_a_missing_value(tmp_path, cli, data_csv, family):
    out = tmp_path / "out.csv"
    result = cli("synth", data_csv, "-o", out, "-n", 150, "-s", family, "--seed", 0,
                 "-c", "30<=age<40", "-c", "sex=F", "-c", "workclass=null", "-c", "dob<1990-06-01")
    assert result.exit_code == 0, result.output
    rows = lookalike.read_table(out)
    assert len(rows) == 150 and rows["age"].between(30, 39).all() and (rows["sex"] == "F").all()
    assert rows["workclass"].isna().all()
    assert (pd.to_datetime(rows["dob"]) < pd.Timestamp("1990-06-01")).all()


def test_sample_with_ranges(tmp_path, cli, mst_model):
    out = tmp_path / "old.csv"
    result = cli("sample", mst_model, "-n", 200, "-o", out, "--seed", 1,
                 "-c", "age>=60", "-c", "income>20000")
    assert result.exit_code == 0, result.output
    rows = lookalike.read_table(out)
    assert len(rows) == 200 and (rows["age"] >= 60).all() and (rows["income"] > 20000).all()


def test_sample_with_a_condition_table(tmp_path, cli, mst_model, condition_file):
    out = tmp_path / "rows.csv"
    result = cli("sample", mst_model, "--conditions", condition_file, "-o", out, "--seed", 2)
    assert result.exit_code == 0, result.output
    assert "4 synthetic rows written" in result.stdout
    check_table_rows(lookalike.read_table(out))


def test_synth_with_a_condition_table(tmp_path, cli, data_csv, condition_file):
    out = tmp_path / "rows.csv"
    result = cli("synth", data_csv, "-o", out, "--conditions", condition_file, "--seed", 3)
    assert result.exit_code == 0, result.output
    check_table_rows(lookalike.read_table(out))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["-c", "sex>F"], r"a range \(>\) needs a numeric or datetime column.*write sex=>F"),
        (["-c", "planet=Mars"], r"condition on unknown column 'planet'"),
        (["-c", "age>=40", "-c", "age<30"], r"conditions on 'age' cannot all hold"),
        (["-c", "age=200"], r"'age': 200 lies outside the column's domain \[18, 79\]"),
        (["-n", "10", "--conditions", "WANTED"], r"--conditions .* gives one synthetic row per row"),
        (["-c", "sex=F", "--conditions", "WANTED"], r"give --condition .* or --conditions FILE"),
    ],
)
def test_synth_condition_errors(tmp_path, cli, one_error_line, data_csv, condition_file, args, match):
    out = tmp_path / "out.csv"
    args = [str(condition_file) if a == "WANTED" else a for a in args]
    line = one_error_line(cli("synth", data_csv, "-o", out, "--seed", 0, *args))
    assert re.search(match, line), line
    assert not out.exists()


def test_sample_condition_errors(tmp_path, cli, one_error_line, mst_model, condition_file):
    out = tmp_path / "out.csv"
    line = one_error_line(cli("sample", mst_model, "-o", out, "-c", "sex=F"))
    assert "give the number of rows to sample (-n), or a table of per-row conditions" in line
    line = one_error_line(cli("sample", mst_model, "-o", out, "-n", 5, "-c", "workclass>=Gov"))
    assert "category '>=Gov' write workclass=>=Gov" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("age,planet\n30,Mars\n")
    line = one_error_line(cli("sample", mst_model, "-o", out, "--conditions", bad))
    assert "unknown column 'planet'" in line and "--conditions" in line
    assert not out.exists()


def test_dp_range_on_a_category_fails_before_the_charge(tmp_path, cli, data_csv):
    ledger = tmp_path / "ledger.json"
    out = tmp_path / "out.csv"
    result = cli("synth", data_csv, "-o", out, "-s", "mst", "--epsilon", 1,
                 "--ledger", ledger, "--dataset", "people", "-c", "workclass>Gov")
    assert result.exit_code == 1 and "write workclass=>Gov" in result.output  # after the DP plan
    assert not out.exists()
    assert "no datasets" in cli("budget", "--ledger", ledger).stdout  # nothing registered or charged


def test_dp_failure_advises_a_dp_preserving_fix(tmp_path, cli):
    data = make_table(missing_share=0.0)
    data.loc[:2, "workclass"] = None  # 3 missing of 2,000: under the noise at ε = 1
    path = tmp_path / "rare.csv"
    data.to_csv(path, index=False)
    result = cli("synth", path, "-o", tmp_path / "out.csv", "-s", "mst", "--epsilon", 1,
                 "--seed", 0, "--ledger", tmp_path / "ledger.json", "-c", "workclass=null")
    assert result.exit_code == 1
    line = next(ln for ln in result.output.splitlines() if ln.startswith("error:"))
    assert "workclass = null" in line and "coarser value" in line and "cart" not in line
