"""`lookalike audit`: files written, verdict printed, bad input as one line and exit code 1."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def files(tmp_path_factory, adult_full):
    folder = tmp_path_factory.mktemp("audit")
    rows = adult_full.sample(1500, random_state=3).reset_index(drop=True)
    rows.iloc[:1200].to_csv(folder / "train.csv", index=False)
    rows.iloc[1200:].to_csv(folder / "holdout.csv", index=False)
    rows.iloc[:1200].sample(frac=1.0, random_state=0).to_csv(folder / "synth.csv", index=False)
    rows.iloc[1200:].drop(columns="income").to_csv(folder / "bad_holdout.csv", index=False)
    return folder


def test_audit_writes_report_and_json(cli, files):
    out, js = files / "a.html", files / "a.json"
    res = cli("audit", files / "train.csv", files / "synth.csv", "--holdout", files / "holdout.csv",
              "--secret", "occupation", "--quasi-identifiers", "age,sex,race", "--targets", "12,345",
              "-o", out, "--json", js, "--seed", "1")
    assert res.exit_code == 0, res.output
    assert "Privacy risk high" in res.output and "report written to" in res.output
    data = json.loads(js.read_text(encoding="utf-8"))
    assert [t["row"] for t in data["targets"]] == [12, 345]
    assert data["meta"]["quasi_identifiers"] == ["age", "sex", "race"] and data["meta"]["seed"] == 1
    assert "Privacy attacks" in out.read_text(encoding="utf-8")
    again = cli("audit", files / "train.csv", files / "synth.csv", "--holdout", files / "holdout.csv", "-o", out)
    assert again.exit_code == 1 and "overwrite" in again.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--holdout", "bad_holdout.csv"], "missing from the holdout"),
        (["--holdout", "holdout.csv", "--targets", "1,x"], "--targets expects row numbers"),
        (["--holdout", "holdout.csv", "--targets", "99999"], "out of range"),
        (["--holdout", "holdout.csv", "--secret", "salary"], "secret names ['salary']"),
        (["--holdout", "holdout.csv", "--shadow", "10"], "give its model file"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(cli, files, extra, message):
    extra = [str(files / e) if e.endswith(".csv") else e for e in extra]
    res = cli("audit", files / "train.csv", files / "synth.csv", *extra, "-o", files / "x.html", "--overwrite")
    assert res.exit_code == 1
    assert message in res.output and "Traceback" not in res.output
