"""Planning a DP release before spending anything (issue 18, friction points 3 and 6).

``inspect --schema old.json`` refines an edited schema as ``synth --schema`` resolves it and
prints the DP plan: per column, which facts are declared (free) and which a DP fit must
discover, at what share of the budget, what it can find on a table this size and what
declaring would change. ``synth``/``fit`` print the same plan before a DP fit, with warnings
for a tiny table, a huge ε and δ ≥ 1/n. ``budget`` gives the largest ε still spendable (as the
ledger's own check decides), and warns of a limit that protects little and of a table too
small for the ε asked.

The plan's numbers are checked against what the fit then does (its threshold release, the
noise of its bin search), not against a second copy of their formulas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import SchemaError
from lookalike.privacy.budget import plan_budget
from lookalike.privacy.discovery import _PRUNE, SmallTableWarning
from lookalike.privacy.ledger import PrivacyLedger
from lookalike.schema import Column, Kind, Schema, resolve_schema

N = 400
CITIES = ["Lima", "Oslo", "Rome", "Pune"]


def people(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "sex": rng.choice(["F", "M"], n),
        "city": rng.choice(CITIES, n),
    })


@pytest.fixture
def people_csv(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    people().to_csv(path, index=False)
    return path


def _rows_needed(text: str, what: str) -> int:
    """The rows a category ('each kept only if it holds') or a range needs, as the plan says."""
    pattern = {"categories": r"each kept only if it holds about ([\d,]+) rows",
               "ranges": r"values found only in ranges holding about ([\d,]+) rows"}[what]
    found = re.search(pattern, text)
    assert found, text
    return int(found.group(1).replace(",", ""))


# ----------------------------------------------------------------------------- inspect


def test_inspect_refines_an_edited_schema_as_synth_resolves_it(cli, people_csv, tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"columns": [
        {"name": "city", "kind": "categorical", "categories": [*CITIES, "Kyiv"]},
        {"name": "age", "kind": "integer", "bounds": [0, 120]},
    ]}))
    out = tmp_path / "refined.json"
    result = cli("inspect", people_csv, "--schema", old, "-o", out)
    assert result.exit_code == 0, result.output
    refined = Schema.load(out)
    assert refined == resolve_schema(lookalike.read_table(people_csv), old)  # as synth resolves it
    assert refined.source("city", "categories") == "declared"
    assert refined["city"].categories == (*CITIES, "Kyiv")  # a declared, unseen category kept
    assert refined.source("age", "bounds") == "declared" and refined["age"].bounds == (0, 120)
    assert refined.source("sex", "categories") == "data"  # inferred: the rest
    # the plan counts the declared facts as free, and discovers the rest
    flat = " ".join(result.output.split())
    assert "declared (free): bounds of 'age'; categories of 'city'" in flat
    assert "discovered under DP: categories of 'sex'" in flat
    # a column the data lacks is named; nothing is written
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": [{"name": "town", "kind": "categorical"}]}))
    refused = cli("inspect", people_csv, "--schema", bad, "-o", tmp_path / "x.json")
    assert refused.exit_code == 1 and "town" in refused.stderr
    assert not (tmp_path / "x.json").exists()


def test_inspect_plan_states_what_the_fit_then_does(cli, people_csv, tmp_path):
    """The plan's threshold is the one the fit's threshold release uses, and its range rule is
    _PRUNE σ of the fit's bin search: same functions, same row-count sizing (on 400 rows the
    share is at its cap with the exact count and the noisy one alike)."""
    result = cli("inspect", people_csv, "-o", tmp_path / "s.json", "-s", "mst")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "DP plan: mst at epsilon=1, delta=1e-09 on 400 rows (the exact count" in text
    assert "declared (free): nothing" in text
    assert "discovery takes 50% of the budget" in text
    t_cat, p_num = _rows_needed(text, "categories"), _rows_needed(text, "ranges")
    assert "categories of 'sex', 'city'" in text and "bins of 'age'" in text
    assert "declaring the categories of 'sex', 'city' would keep every category" in text
    assert "this plan is for a DP fit given no --schema" in text
    # the tiny-table warning, with the exact count
    assert f"kept only if they hold about {t_cat} rows ({t_cat / N:.0%})" in text
    model = lookalike.fit(people(), "mst", epsilon=1.0, seed=0)
    for name in ("sex", "city"):
        assert model.discovery_[name]["threshold"] == t_cat
    assert round(_PRUNE * model.discovery_["age"]["sigma"]) == p_num


def test_inspect_plan_says_what_declaring_changes(cli, people_csv, tmp_path):
    """Declaring every category leaves discovery to 'age' alone: its range rule drops to what
    the plan promised, and the fit's bin search has exactly that noise."""
    before = cli("inspect", people_csv, "-o", tmp_path / "s.json")
    text = " ".join(before.output.split())
    promised = int(re.search(r"find numeric values in ranges holding about ([\d,]+) rows",
                             text).group(1).replace(",", ""))
    assert promised < _rows_needed(text, "ranges")
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"columns": [
        {"name": "sex", "kind": "categorical", "categories": ["F", "M"]},
        {"name": "city", "kind": "categorical", "categories": CITIES},
    ]}))
    after = cli("inspect", people_csv, "--schema", old, "-o", tmp_path / "r.json")
    assert after.exit_code == 0, after.output
    text = " ".join(after.output.split())
    assert "declared (free): categories of 'sex', 'city'" in text
    assert "discovered under DP: bins of 'age'" in text and "categories of" not in text.split(
        "discovered under DP:")[1].split("discovery takes")[0]
    assert _rows_needed(text, "ranges") == promised
    assert f"this plan is for a DP fit given --schema {old}" in text
    model = lookalike.fit(people(), "mst", schema=old, epsilon=1.0, seed=0)
    assert round(_PRUNE * model.discovery_["age"]["sigma"]) == promised


def test_codes_declared_categorical_as_json_numbers(cli, tmp_path):
    """The plan's advice for a column of codes, followed as a user writes it: the kind made
    categorical and the categories as JSON numbers. They match the column's integers (before,
    no value matched the number 3 and every row read as missing), and every synthesizer writes
    the codes back as integers, only the declared ones."""
    rng = np.random.default_rng(1)
    data = people().assign(grade=rng.choice([1, 2, 4], N, p=[0.5, 0.3, 0.2]))
    path = tmp_path / "grades.csv"
    data.to_csv(path, index=False)
    plan = cli("inspect", path, "-o", tmp_path / "s.json")
    assert "for codes, declaring the column categorical with its categories" in " ".join(
        plan.output.split())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"columns": [
        {"name": "grade", "kind": "categorical", "categories": [1, 2, 3, 4]}]}))
    refined = cli("inspect", path, "--schema", old, "-o", tmp_path / "r.json")
    assert refined.exit_code == 0, refined.output
    assert Schema.load(tmp_path / "r.json")["grade"].categories == ("1", "2", "3", "4")
    for i, (name, engine) in enumerate((("mst", "numpy"), ("mst", "duckdb"), ("gaussian_copula", ""))):
        out = tmp_path / f"{i}.csv"
        dp = ["--epsilon", "1", "--dataset", "grades", "--ledger", tmp_path / f"{i}.sqlite"]
        options = [*dp, "--engine", engine] if name == "mst" else []
        result = cli("synth", path, "-s", name, "--schema", old, "-o", out, "--seed", "0", *options)
        assert result.exit_code == 0, result.output
        grade = pd.read_csv(out)["grade"]
        assert grade.dtype == np.int64 and set(grade) <= {1, 2, 3, 4}, (name, engine)
        assert {1, 2} <= set(grade), (name, engine)  # the codes of 30% and 50% of the rows


def test_numeric_categories_match_values_of_any_spelling():
    declared = Schema.from_dict({"columns": [{"name": "code", "kind": "categorical",
                                              "categories": [3, 4.0, "x"]}]})
    assert declared["code"].categories == ("3", "4", "x")
    api = Schema((Column("code", Kind.CATEGORICAL, categories=(3, 4, "x")),))
    for data in ([3, 4, 3], [3.0, 4.0, 3.0], ["3", "4", "3"]):
        for schema in (declared, api):
            out = schema.conform(pd.DataFrame({"code": data}))
            assert out["code"].tolist() == ["3", "4", "3"], data
    with pytest.raises(SchemaError, match=r"without repeats \(repeated: \['3'\]\)"):
        Schema.from_dict({"columns": [{"name": "code", "kind": "categorical",
                                       "categories": [3, 3.0]}]})


def test_inspect_plan_options_fail_early(cli, people_csv, tmp_path, one_error_line):
    assert "no DP form" in one_error_line(cli("inspect", people_csv, "-s", "cart",
                                              "-o", tmp_path / "s.json"))
    assert "epsilon" in one_error_line(cli("inspect", people_csv, "--epsilon", "0",
                                           "-o", tmp_path / "s.json"))
    assert not (tmp_path / "s.json").exists()
    loose = cli("inspect", people_csv, "--epsilon", "50", "-o", tmp_path / "s.json")
    assert loose.exit_code == 0 and "epsilon=50 provides little protection" in loose.stderr


def test_inspect_says_when_a_dp_fit_would_be_refused(cli, tmp_path):
    """The refusal of a table too small for the ε asked (synth and fit give it before
    anything is spent) is in the plan of ``inspect`` too, word for word; a table that fits
    gets none."""
    small = tmp_path / "small.csv"
    people(120).to_csv(small, index=False)  # a range needs 101 rows, 146 to be found surely
    said = cli("inspect", small, "-s", "mst", "-o", tmp_path / "s.json")
    assert said.exit_code == 0, said.output
    flat = " ".join(said.stderr.split())
    assert "a DP fit as planned would be refused: the table has 120 rows" in flat
    refused = cli("synth", small, "-o", tmp_path / "out.csv", "-s", "mst", "--epsilon", 1,
                  "--ledger", tmp_path / "ledger.sqlite")
    assert refused.exit_code != 0
    reason = " ".join(refused.output.split()).split("error: ", 1)[1]
    assert reason.split(". Nothing was spent")[0] in flat
    fine = cli("inspect", small, "-s", "mst", "--epsilon", 30, "-o", tmp_path / "t.json")
    assert fine.exit_code == 0 and "would be refused" not in fine.stderr


# ----------------------------------------------------------------------------- synth / fit


def test_synth_prints_the_plan_and_its_warnings_before_the_fit(cli, people_csv, tmp_path):
    result = cli("synth", people_csv, "-o", tmp_path / "out.csv", "-s", "mst", "--epsilon", 20,
                 "--delta", 0.01, "--ledger", tmp_path / "ledger.sqlite", "--seed", 0)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    plan, fitted = flat.index("DP plan: mst at epsilon=20"), flat.index("fitted mst")
    assert plan < fitted
    for warning in ("epsilon=20 provides little protection",
                    "delta=0.01 is not below 1/n = 1/400 (0.0025)", "(--delta)"):
        assert flat.index(warning) < fitted, warning
    assert "declared (free): nothing" in flat and "bins of 'age'" in flat


def test_fit_shows_the_small_table_warning_once_before_fitting(cli, people_csv, tmp_path):
    result = cli("fit", people_csv, "-o", tmp_path / "m.lookalike", "-s", "mst", "--epsilon", 1,
                 "--ledger", tmp_path / "ledger.sqlite", "--seed", 0)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    warned = flat.index("too few for this epsilon to discover every value")
    assert warned < flat.index("fitted mst")
    assert flat.count("too few for this epsilon") == 1  # the fit's own (noisy count) left out
    assert "400 rows (the exact count; the fit sizes discovery from a noisy one)" in flat
    # without the CLI's plan the fit itself still warns (Python API)
    with pytest.warns(SmallTableWarning, match="noisy count"):
        lookalike.fit(people(), "mst", epsilon=1.0, seed=0)


def test_no_plan_for_a_fit_without_dp(cli, people_csv, tmp_path):
    result = cli("synth", people_csv, "-o", tmp_path / "out.csv", "--seed", 0)
    assert result.exit_code == 0, result.output
    assert "DP plan" not in result.output


# ----------------------------------------------------------------------------- budget


@pytest.fixture
def spent_ledger(cli, people_csv, tmp_path) -> PrivacyLedger:
    """A ledger whose dataset 'people' had one DP fit (so its fingerprint knows n = 400)."""
    path = tmp_path / "ledger.sqlite"
    ledger = PrivacyLedger(path)
    ledger.set_limit("people", epsilon=3.0, delta=1e-9)
    fitted = cli("fit", people_csv, "-o", tmp_path / "m.lookalike", "-s", "mst", "--epsilon", 1,
                 "--dataset", "people", "--ledger", path, "--seed", 0)
    assert fitted.exit_code == 0, fitted.output
    return ledger


def test_budget_largest_epsilon_is_the_ledgers_own_limit(cli, spent_ledger):
    result = cli("budget", "people", "--ledger", spent_ledger.path)
    assert result.exit_code == 0, result.output
    room = float(re.search(r"largest epsilon a next fit can spend \(at delta=1e-09\): (\S+)",
                           result.output).group(1))
    st = spent_ledger.status("people")
    assert st.fits(**dict(zip(("rho", "delta_approx"), plan_budget(room, 1e-9), strict=True)))
    over = plan_budget(room * 1.001, 1e-9)
    assert not st.fits(rho=over[0], delta_approx=over[1])
    assert 2 < room < 3  # zCDP composes to more than the 2 left by subtraction
    listing = cli("budget", "--ledger", spent_ledger.path).output
    assert f"people: limit epsilon=3 at delta=1e-09, spent 1, largest next fit epsilon={room:.4g}" \
        in listing


def test_budget_warns_of_a_limit_that_protects_little(cli, spent_ledger):
    result = cli("budget", "people", "--set-epsilon", 12, "--delta", 0.01,
                 "--ledger", spent_ledger.path)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "rows: 400 (from the data's fingerprint" in flat
    assert "epsilon=12 provides little protection" in flat and "(--set-epsilon)" in flat
    assert "delta=0.01 is not below 1/n = 1/400" in flat


def test_budget_says_when_n_is_unknown(cli, tmp_path):
    path = tmp_path / "ledger.sqlite"
    result = cli("budget", "fresh", "--set-epsilon", 1, "--delta", 0.5, "--ledger", path)
    assert result.exit_code == 0, result.output
    assert "rows: unknown until a fit records the data's fingerprint" in result.output
    assert "not below 1/n" not in result.output


def test_budget_warns_of_a_table_too_small_for_the_epsilon_asked(cli, spent_ledger, people_csv,
                                                                 tmp_path):
    small = cli("budget", "people", "--epsilon", 0.3, "--ledger", spent_ledger.path)
    assert small.exit_code == 0, small.output
    flat = " ".join(small.output.split())
    assert "a next fit at epsilon=0.3 (delta=1e-09): the budget pays for it" in flat
    assert "at epsilon=0.3 (asked), a mst fit discovering what release #1 discovered" in flat
    # the same rule, the same numbers as the plan of that fit
    plan = cli("inspect", people_csv, "--epsilon", 0.3, "-o", tmp_path / "s.json")
    planned = " ".join(plan.output.split())
    rule = re.search(r"categories of 'sex', 'city' are kept only if they hold about (\d+) rows",
                     planned).group(1)
    assert f"categories of 'sex', 'city' are kept only if they hold about {rule} rows" in flat
    over = cli("budget", "people", "--epsilon", 30, "--ledger", spent_ledger.path)
    flat = " ".join(over.output.split())
    assert "refused, over the budget" in flat and "epsilon=30 provides little protection" in flat
