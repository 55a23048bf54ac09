"""Conditional sampling (issue 18, friction 5): missing values, ranges, per-row condition tables,
exact conditioning where the model allows it, and errors that name the column and the fix.

The table is made here: age drives income, membership and the date of birth, so a condition on
age moves the other columns and a wrong conditional shows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from lookalike.errors import ConditionError, ConfigError
from lookalike.synthesizers import get_synthesizer
from lookalike.synthesizers.conditions import Condition, code_weights

FAMILIES = ["cart", "mst", "privbayes", "independent", "gaussian_copula"]


def make_table(n: int = 3000, seed: int = 0, missing_share: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    work = rng.choice(["Private", "Gov", "Self"], n, p=[0.6, 0.25, 0.15]).astype(object)
    work[rng.random(n) < missing_share] = None
    return pd.DataFrame({
        "age": pd.array(age, dtype="Int64"),
        "sex": rng.choice(["F", "M"], n),
        "workclass": work,
        "income": np.round(np.exp(rng.normal(10 + 0.02 * (age - 40), 0.4)), 2),
        "member": np.where((age > 50) ^ (rng.random(n) < 0.15), "Y", "N"),
        "dob": pd.Timestamp("2020-01-01") - pd.to_timedelta(age * 365 + rng.integers(0, 365, n), "D"),
    })


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture(scope="module")
def models(table) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: get_synthesizer(name).fit(table, seed=0) for name in FAMILIES}


# ------------------------------------------------------------------------- missing values
@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("spelling", ["workclass=null", "workclass=", "workclass=NA", None])
def test_condition_on_a_missing_value(models, name, spelling):
    conditions = {"workclass": None} if spelling is None else [spelling]
    rows = models[name].sample(200, conditions=conditions, seed=1)
    assert len(rows) == 200 and rows["workclass"].isna().all()


def test_missing_or_a_value(models):
    rows = models["mst"].sample(2000, conditions=['workclass=["Self", null]'], seed=1)
    assert set(rows["workclass"].dropna()) == {"Self"}
    # model's own odds of missing vs Self: about 0.1 / (0.1 + 0.135) of the rows are missing
    share = rows["workclass"].isna().mean()
    assert 0.25 < share < 0.6


# ------------------------------------------------------------------------------- ranges
@pytest.mark.parametrize("name", FAMILIES)
def test_ranges_with_an_equality(models, name):
    rows = models[name].sample(300, conditions=["30<=age<40", "sex=F"], seed=2)
    assert len(rows) == 300
    assert rows["age"].between(30, 39).all() and (rows["sex"] == "F").all()
    rows = models[name].sample(100, conditions=["income>30000", "dob<1970-01-01"], seed=3)
    assert (rows["income"] > 30000).all() and (rows["dob"] < pd.Timestamp("1970-01-01")).all()


def test_range_forms_agree(models):
    model = models["mst"]
    a = model.sample(500, conditions=["age>=30", "age<40"], seed=4)
    b = model.sample(500, conditions={"age": ">=30"}, seed=4)
    c = model.sample(500, conditions=["40>age>=30"], seed=4)
    assert a["age"].between(30, 39).all() and (b["age"] >= 30).all()
    assert a.equals(c)


@pytest.mark.parametrize("name", ["mst", "privbayes"])
def test_native_conditioning_is_exact(models, name):
    """A conditioned draw follows the model's own conditional: the share of members among rows
    aged 45..60 equals the share among unconditioned draws that fall in that range.

    Two independent estimates of one share p: their difference has sd
    sqrt(p(1-p)(1/n1 + 1/n2)); 4.5 sd bounds a false alarm at about 1e-5."""
    model = models[name]
    cond = model.sample(20_000, conditions=["45<=age<=60"], seed=5)
    free = model.sample(100_000, seed=6)
    free = free[free["age"].between(45, 60)]
    assert cond["age"].between(45, 60).all()
    p1, p2 = (cond["member"] == "Y").mean(), (free["member"] == "Y").mean()
    sd = math.sqrt(p2 * (1 - p2) * (1 / len(cond) + 1 / len(free)))
    assert abs(p1 - p2) < 4.5 * sd, (p1, p2, sd)
    # the ages inside the range keep the model's shape: same mean within 4.5 standard errors
    se = math.sqrt(free["age"].var() * (1 / len(cond) + 1 / len(free)))
    assert abs(cond["age"].mean() - free["age"].mean()) < 4.5 * se


def test_graphical_conditioning_matches_the_model_marginal(models):
    """MST draws given age >= 60 from the junction tree itself: the member share equals the
    model's exact conditional (marginal of (age, member) weighted by each bin's share of the
    range), within 4.5 binomial sd of 20,000 draws."""
    model = models["mst"]
    codec = model.encoder_.codecs[model.encoder_.names.index("age")]
    w = code_weights(codec, Condition(low=60.0))
    joint = model.model_.marginal(("age", "member"))
    exact = (w @ joint) / (w @ joint).sum()
    assert tuple(model.schema_["member"].categories) == ("N", "Y")  # a boolean: code 1 is Y
    y = 1
    rows = model.sample(20_000, conditions=["age>=60"], seed=7)
    share = (rows["member"] == "Y").mean()
    assert abs(share - exact[y]) < 4.5 * math.sqrt(exact[y] * (1 - exact[y]) / 20_000)


# ----------------------------------------------------------------- per-row condition tables
@pytest.mark.parametrize("name", FAMILIES)
def test_condition_table_gives_one_row_per_row_in_order(models, name):
    wanted = pd.DataFrame({
        "age": ["37", "", ">=70", "25", None],
        "sex": ["M", "F", "", "F", "M"],
        "workclass": ["", "null", "Gov", "Private", ""],
    })
    rows = models[name].sample(conditions=wanted, seed=8)
    assert len(rows) == 5
    assert rows["age"].iloc[0] == 37 and rows["age"].iloc[3] == 25 and rows["age"].iloc[2] >= 70
    assert rows["sex"].tolist()[:2] + rows["sex"].tolist()[3:] == ["M", "F", "F", "M"]
    assert pd.isna(rows["workclass"].iloc[1])
    assert rows["workclass"].iloc[2] == "Gov" and rows["workclass"].iloc[3] == "Private"


def test_condition_table_repeats_a_row_and_checks_n(models):
    wanted = pd.DataFrame({"sex": ["F"] * 50 + ["M"] * 50})
    rows = models["mst"].sample(100, conditions=wanted, seed=9)
    assert rows["sex"].tolist() == wanted["sex"].tolist()
    with pytest.raises(ConfigError, match="condition table gives one synthetic row per row: it has 100"):
        models["mst"].sample(30, conditions=wanted, seed=9)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("conditions", "match"),
    [
        (["planet=Mars"], r"unknown column 'planet'"),
        ({"age": 200}, r"'age': 200 lies outside the column's domain \[18, 79\]"),
        (["age>=100"], r"'age': age >= 100 leaves no value of the column's domain \[18, 79\]"),
        (["member>N"], r"a range \(>\) needs a numeric or datetime column.*list the values"),
        (["workclass>Gov"], r"a range \(>\) needs a numeric or datetime column.*write workclass=>Gov"),
        (["age>=40", "age<30"], r"conditions on 'age' cannot all hold"),
        (["age=35", "age>=40"], r"conditions on 'age' cannot all hold"),
        (["sex=null"], r"conditions sex = null ask only for values of 'sex' that no row of the "
                       r"training data holds: the model gives them no probability"),
        (["age=30.5"], r"'age': '30.5' is not a whole number.*age>=30"),
        (["dob<yesterday"], r"'dob'.*not datetime values.*2000-01-31"),
        (["age"], r"expects COLUMN=VALUE"),
    ],
)
def test_bad_conditions_fail_early_naming_column_and_fix(models, conditions, match):
    with pytest.raises(ConditionError, match=match):
        models["mst"].sample(10, conditions=conditions, seed=0)


def test_missing_value_of_a_column_never_missing(models):
    with pytest.raises(ConditionError, match=r"'sex' asks for a missing value, but 'sex' is never "
                                             r"missing in this model \(its schema says nullable: false\)"):
        models["cart"].sample(10, conditions=["sex=null"], seed=0)


def test_a_bad_table_row_is_named(models):
    wanted = pd.DataFrame({"age": ["30", "old"]})
    with pytest.raises(ConditionError, match=r"row 2"):
        models["cart"].sample(conditions=wanted, seed=0)


# ------------------------------------------------------------------ DP: advice keeps DP
@pytest.fixture(scope="module")
def dp_mst():
    rare = make_table(missing_share=0.0)
    rare.loc[:2, "workclass"] = None  # 3 missing of 3,000: under the noise at ε = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_synthesizer("mst").fit(rare, epsilon=1.0, seed=0)


def test_dp_model_conditions_natively_and_exactly(dp_mst):
    rows = dp_mst.sample(500, conditions=["30<=age<40", "member=Y"], seed=1)
    assert rows["age"].between(30, 39).all() and (rows["member"] == "Y").all()


def test_dp_failure_never_advises_a_non_dp_family(dp_mst, monkeypatch):
    with pytest.raises(ConditionError) as info:
        dp_mst.sample(10, conditions=["workclass=null"], seed=0)
    message = str(info.value)
    assert "cart" not in message and "coarser value" in message
    assert "workclass = null" in message
    # a DP family that conditions by rejection points to the DP families that condition exactly
    monkeypatch.setattr(type(dp_mst), "exact_conditions", False)
    message = str(dp_mst._condition_failure({"sex": Condition(frozenset({"F"}))}, "matched 0 rows"))
    assert "cart" not in message and "mst, aim or privbayes" in message
