"""``lookalike report``: the evaluation and the audit in one report (issue 18, "what to build").

One command reads REAL as ``synth`` does (every input option), refuses a holdout that shares
rows with REAL before any work, prints one verdict (evaluation and privacy together, once) and
writes the HTML page and its JSON numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _people(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    return pd.DataFrame({
        "age": age,
        "income": np.round(1000 + 40 * age + rng.normal(0, 300, n), 2),
        "city": rng.choice(["Köln", "Zürich", "Genève"], n),
        "member": np.where(age + rng.normal(0, 10, n) > 50, "yes", "no"),
        "note": [f"row {i}" for i in range(n)],  # dropped: free text
    })


@pytest.fixture
def files(tmp_path, cli) -> dict[str, Path]:
    """REAL and a disjoint holdout written with ';' and decimal commas, and a synthetic table
    made from REAL by synth with the same input options."""
    real, holdout = tmp_path / "real.csv", tmp_path / "holdout.csv"
    _people(0, 300).to_csv(real, sep=";", decimal=",", index=False)
    _people(1, 120).to_csv(holdout, sep=";", decimal=",", index=False)
    synthetic = tmp_path / "synthetic.csv"
    result = cli("synth", real, "-o", synthetic, "-s", "independent", "--seed", "0",
                 "--decimal", ",", "--delimiter", ";", "--drop", "note")
    assert result.exit_code == 0, result.output
    return {"real": real, "holdout": holdout, "synthetic": synthetic}


def test_report_evaluates_and_audits_in_one_page(tmp_path, cli, files):
    page = tmp_path / "report.html"
    result = cli("report", files["real"], files["synthetic"], "--holdout", files["holdout"],
                 "--target", "member", "-o", page, "--decimal", ",", "--delimiter", ";",
                 "--drop", "note")
    assert result.exit_code == 0, result.output
    numbers = json.loads(page.with_suffix(".json").read_text())
    # the evaluation: income compared as a number, utility scored on the 120 held-out rows
    evaluation = numbers["evaluation"]
    kinds = {c["name"]: c["kind"] for c in evaluation["fidelity"]["columns"]}
    assert kinds == {"age": "integer", "income": "float", "city": "categorical",
                     "member": "boolean"}
    assert numbers["provenance"]["evaluation"]["n_holdout"] == 120
    assert numbers["provenance"]["evaluation"]["target"] == "member"
    # the audit: the attacks that need a holdout ran
    attacks = numbers["privacy"]["attacks"]
    assert attacks and "membership" in json.dumps(attacks)
    # one verdict, printed once: the evaluation's sentences and the privacy risk's
    verdict = numbers["verdict"]
    printed = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert printed == verdict
    assert any("distributions" in v for v in verdict)
    assert any("risk" in v.lower() and "privacy" in v.lower() for v in verdict)
    html = page.read_text(encoding="utf-8")
    assert "Privacy" in html and "Zürich" in html
    assert "private report" in result.output


def test_report_refuses_a_holdout_that_is_real_before_any_work(tmp_path, cli, files,
                                                               one_error_line):
    page = tmp_path / "report.html"
    line = one_error_line(cli("report", files["real"], files["synthetic"], "--holdout",
                              files["real"], "-o", page, "--decimal", ",", "--drop", "note"))
    assert "shares 300 of its 300 rows" in line
    assert not page.exists() and not page.with_suffix(".json").exists()


def test_report_checks_its_options_before_any_work(tmp_path, cli, files, one_error_line):
    page = tmp_path / "report.html"
    page.write_text("keep me")
    line = one_error_line(cli("report", files["real"], files["synthetic"], "-o", page))
    assert "report.html" in line and "--overwrite" in line
    assert page.read_text() == "keep me"
    line = one_error_line(cli("report", files["real"], files["synthetic"], "-o",
                              tmp_path / "r2.html", "--decimal", ",", "--drop", "note",
                              "--target", "salary"))
    assert "'salary'" in line
