"""validity(): values outside the real domain, spurious missing values, collapsed columns, lost
categories and binary columns that lost a value, each on a small table made here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lookalike.errors import ColumnMismatchError
from lookalike.evaluate.validity import (
    COLLAPSE_MINORITY,
    MAX_CODES,
    SPURIOUS_MISSING,
    validity,
)

N = 1000


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "race": rng.choice([1, 2, 3, 4, 5], N, p=[0.6, 0.2, 0.1, 0.05, 0.05]),
            "score": rng.choice([70, 80, 90, 100], N),
            "age": rng.integers(18, 90, N),
            "income": rng.lognormal(10, 1, N).round(2),
            "sex": rng.choice(["F", "M"], N),
            "job": rng.choice(["a", "b", "c", "rare"], N, p=[0.5, 0.3, 0.18, 0.02]),
            "flag": rng.choice(["yes", "no"], N, p=[0.3, 0.7]),
            "day": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, N), "D"),
        }
    )


def test_real_table_against_itself_is_valid(real):
    v = validity(real, real)
    assert v.summary.ok
    assert all(c.violations == () for c in v.columns)
    assert v.sentences()[0].startswith("Synthetic values are valid")


def test_a_resample_of_the_real_table_is_valid(real):
    # every category is at least 2% of 1,000 rows: a same-size resample keeps them all
    # (P(a 2% category is absent) = 0.98^1000 ~ 2e-9)
    v = validity(real, real.sample(N, replace=True, random_state=1))
    assert v.summary.ok, v.sentences()


def test_codes_outside_the_real_values_are_outside_the_domain(real):
    synth = real.copy()
    synth.loc[:99, "race"] = 6  # inside [1, 5]'s range? no: above it; and 9
    synth.loc[100:149, "race"] = 9
    synth.loc[:199, "score"] = 95  # within [70, 100], not one of its values
    v = validity(real, synth)
    assert v["race"].domain == "codes" and v["score"].domain == "codes"
    assert v["race"].outside_domain == pytest.approx(0.15)
    assert v["race"].outside_examples == ("6", "9")
    assert v["score"].outside_domain == pytest.approx(0.2)
    assert v.summary.outside_domain == ("race", "score")
    assert v.summary.max_outside_domain == pytest.approx(0.2)
    assert "'race' (15.0%, e.g. 6, 9)" in v.sentences()[0]


def test_a_column_with_more_values_than_codes_is_a_range(real):
    assert real["age"].nunique() > MAX_CODES
    synth = real.astype({"age": float})
    gap = sorted(set(range(18, 90)) - set(real["age"]))
    inside = gap[0] if gap else 50  # a value between min and max is inside a range
    synth.loc[:9, "age"] = inside
    synth.loc[10:14, "age"] = 200
    synth.loc[15:16, "age"] = 40.5  # not a whole number: outside an integer column
    v = validity(real, synth)
    assert v["age"].domain == "range"
    assert v["age"].outside_domain == pytest.approx(7 / N)
    assert set(v["age"].outside_examples) == {"200", "40.5"}


def test_whole_floats_with_few_values_are_codes(real):
    r = real.assign(score=real["score"].astype(float))
    s = r.copy()
    s.loc[:9, "score"] = 75.0
    v = validity(r, s)
    assert v["score"].domain == "codes"
    assert v["score"].outside_domain == pytest.approx(10 / N)


def test_floats_outside_the_real_range(real):
    synth = real.copy()
    synth.loc[:3, "income"] = real["income"].max() * 2
    synth.loc[4:5, "income"] = -1.0
    v = validity(real, synth)
    assert v["income"].domain == "range"
    assert v["income"].outside_domain == pytest.approx(6 / N)


def test_dates_outside_the_real_range_and_other_spellings(real):
    synth = real.copy()
    synth["day"] = synth["day"].dt.strftime("%d.%m.%Y").astype(object)  # same dates, spelled
    synth.loc[:2, "day"] = "31.12.2099"
    synth.loc[3, "day"] = "not a date"
    v = validity(real, synth)
    assert v["day"].domain == "range"
    assert v["day"].outside_domain == pytest.approx(4 / N)
    assert set(v["day"].outside_examples) == {"31.12.2099", "not a date"}  # as written


def test_categories_the_real_data_does_not_have(real):
    synth = real.copy()
    synth.loc[:93, "sex"] = "other"
    v = validity(real, synth)
    assert v["sex"].outside_domain == pytest.approx(94 / N)
    assert v["sex"].outside_examples == ("other",)
    assert not v["sex"].binary_lost


def test_spurious_missing_is_the_excess_over_the_real_share(real):
    r = real.copy()
    r["income"] = r["income"].astype(float)
    r.loc[:49, "income"] = np.nan  # 5% missing in the real data
    s = r.copy()
    s.loc[:89, "income"] = np.nan  # 9%: 4% spurious
    s["age"] = s["age"].astype(float)
    s.loc[:4, "age"] = np.nan  # 0.5% where the real column has none
    s.loc[:0, "race"] = np.nan  # 0.1%: at the tolerance, not flagged
    v = validity(r, s)
    assert v["income"].missing_real == pytest.approx(0.05)
    assert v["income"].spurious_missing == pytest.approx(0.04)
    assert v["age"].spurious_missing == pytest.approx(0.005)
    assert v["race"].spurious_missing == pytest.approx(SPURIOUS_MISSING)
    assert v["race"].missing_tolerance == SPURIOUS_MISSING  # none missing in the real column
    assert v.summary.spurious_missing == ("age", "income")
    fewer = validity(r, r.fillna({"income": r["income"].median()}))
    assert fewer["income"].spurious_missing == 0.0 and fewer.summary.ok


def test_spurious_missing_tolerates_the_sampling_noise_of_the_real_share(real):
    r = real.astype({"income": float})
    r.loc[:49, "income"] = np.nan  # p = 5%: one standard error in 1,000 rows is 0.69%
    se = np.sqrt(0.05 * 0.95 / N)
    assert validity(r, r)["income"].missing_tolerance == pytest.approx(SPURIOUS_MISSING + 3 * se)
    s = r.copy()
    s.loc[:69, "income"] = np.nan  # 7%: 2.9 standard errors, within 0.1% + 3 of them
    assert validity(r, s).summary.ok
    # a faithful sampler: resampling the real column 200 times flags it about 0.1% of the time
    rng = np.random.default_rng(0)
    col = r[["income"]]
    flagged = 0
    for _ in range(200):
        resampled = col.iloc[rng.integers(0, N, N)].reset_index(drop=True)
        flagged += bool(validity(col, resampled).summary.spurious_missing)
    assert flagged <= 3  # expected 0.2 (P(Z > 3.1) ~ 0.001 per draw)


def test_collapsed_binary_column_loses_a_value_and_a_category(real):
    synth = real.assign(flag="no", sex="F")
    v = validity(real, synth)
    assert v["flag"].minority_share == pytest.approx((real["flag"] == "yes").mean())
    assert v["flag"].collapsed and v["flag"].binary_lost
    assert v["flag"].lost_categories == ("yes",)
    assert v.summary.collapsed == ("sex", "flag")
    assert v.summary.binary_lost == ("sex", "flag")
    assert v["flag"].violations == ("collapsed", "lost_categories", "binary_lost")


def test_one_value_is_not_a_collapse_when_the_real_minority_is_small():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"x": rng.choice([0, 1], N, p=[0.95, 0.05]), "y": rng.normal(size=N)})
    assert (real["x"] == 1).mean() < COLLAPSE_MINORITY
    v = validity(real, real.assign(x=0))
    assert not v["x"].collapsed
    assert v["x"].binary_lost  # reported whatever the minority share
    assert v["x"].lost_categories == ("1",)


def test_all_missing_synthetic_column_is_collapsed(real):
    v = validity(real, real.assign(job=None))
    assert v["job"].collapsed and v["job"].spurious_missing == pytest.approx(1.0)


def test_lost_categories_count_only_those_of_one_percent_or_more(real):
    synth = real.copy()
    synth.loc[synth["job"] == "rare", "job"] = "a"  # 2%: lost
    synth.loc[synth["race"] == 5, "race"] = 1  # 5%: lost
    v = validity(real, synth)
    assert v["job"].lost_categories == ("rare",)
    assert v["race"].lost_categories == ("5",)
    assert v.summary.lost_categories == 2
    tiny = real.copy()
    tiny.loc[:4, "job"] = "tiny"  # 0.5% of the real rows: not required in synthetic
    lost = validity(tiny, tiny.assign(job="a"))["job"].lost_categories
    assert lost == ("b", "c", "rare")  # not "tiny"


def test_booleans_compare_by_meaning_not_spelling():
    real = pd.DataFrame({"ok": ["yes", "no"] * 50, "n": range(100)})
    spelled = real.assign(ok=[True, False] * 50)
    assert validity(real, spelled).summary.ok
    bad = real.assign(ok=["yes", "maybe"] * 50)
    v = validity(real, bad)
    assert v["ok"].outside_domain == pytest.approx(0.5)
    assert v["ok"].outside_examples == ("maybe",)
    assert v["ok"].binary_lost


def test_integers_written_as_floats_or_text_are_the_same_values(real):
    synth = real.assign(race=real["race"].astype(float), score=real["score"].astype(str))
    assert validity(real, synth).summary.ok


def test_text_in_a_numeric_column_is_outside(real):
    synth = real.astype({"age": object})
    synth.loc[:1, "age"] = "old"
    v = validity(real, synth)
    assert v["age"].outside_domain == pytest.approx(2 / N)
    assert v["age"].outside_examples == ("old",)


def test_identifier_columns_are_left_out():
    real = pd.DataFrame({"id": range(100), "x": [1, 2] * 50})
    v = validity(real, real.assign(id=range(1000, 1100)))
    assert [c.name for c in v.columns] == ["x"]


def test_schema_decides_the_kinds(real):
    synth = real.copy()
    synth.loc[:9, "race"] = 7
    kinds = ["float", "integer", "integer", "float", "categorical", "categorical", "boolean",
             "datetime"]
    declared = {"columns": [{"name": c, "kind": k} for c, k in zip(real, kinds, strict=True)]}
    v = validity(real, synth, schema=declared)
    assert v["race"].kind == "float" and v["race"].domain == "codes"  # whole values: codes
    assert v["race"].outside_domain == pytest.approx(10 / N)


def test_json_form_is_plain(real):
    synth = real.assign(flag="no")
    d = json.loads(json.dumps(validity(real, synth).to_dict()))
    assert set(d) == {"columns", "summary"}
    assert d["summary"]["collapsed"] == ["flag"]
    flag = next(c for c in d["columns"] if c["name"] == "flag")
    assert flag["lost_categories"] == ["yes"] and flag["binary_lost"] is True


def test_evaluate_reports_validity_in_its_json_and_verdict(real):
    from lookalike.evaluate import evaluate

    synth = real.assign(flag="no")
    ev = evaluate(real, synth, n_queries=10, max_3way=5)
    assert ev.validity == validity(real, synth)
    assert ev.to_dict()["validity"]["summary"]["collapsed"] == ["flag"]
    assert "Columns collapsed to a single synthetic value: ['flag']." in ev.verdict()
    clean = evaluate(real, real, n_queries=10, max_3way=5)
    assert clean.verdict()[-1].startswith("Synthetic values are valid")


def test_tables_with_other_columns_are_refused(real):
    with pytest.raises(ColumnMismatchError, match=r"missing from the synthetic table: \['day'\]"):
        validity(real, real.drop(columns="day"))
