"""Vulnerable-record selection: exposure ranks planted outliers first, named rows are checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lookalike.audit.targets import Targets, exposure_scores, select_targets
from lookalike.errors import ConfigError, DataError, TargetError


@pytest.fixture(scope="module")
def planted(adult_full) -> tuple[pd.DataFrame, list[int]]:
    """3,000 Adult rows with three planted exposed records at known positions."""
    df = adult_full.sample(3000, random_state=1).reset_index(drop=True)
    df.loc[100, "native-country"] = "Atlantis"  # a value no other record has
    df.loc[200, ["age", "capital-gain", "hours-per-week"]] = [90, 99_999, 99]  # extreme numerics
    df.loc[300, ["workclass", "occupation", "native-country"]] = ["Never-worked", "Armed-Forces", "Holand-Netherlands"]
    return df, [100, 200, 300]


def test_planted_records_rank_among_most_exposed(planted):
    """Three rare values at once rank in the top 10, extreme numerics in the top 1%, one unique
    value otherwise ordinary in the top 10% (of 3,000 records).

    The lone unique value counts through value rarity; in the attacks' distance it moves the
    record by 1 (one category), less than the median distance between neighbours here (1.58),
    so it adds little isolation (rank 224; 119 with the rank-based encoding since replaced).
    """
    df, rows = planted
    scores = exposure_scores(df)
    assert scores.shape == (len(df),)
    rank = {int(r): i for i, r in enumerate(np.argsort(-scores, kind="stable"))}
    assert rank[300] < 10
    assert rank[200] < 30
    assert rank[100] < 300


def test_select_targets_orders_and_explains_without_values(planted):
    df, _ = planted
    t = select_targets(df, n=5)
    assert isinstance(t, Targets) and len(t.rows) == 5
    assert list(t.scores) == sorted(t.scores, reverse=True)
    text = " ".join(t.reasons)
    for value in ("Atlantis", "Armed-Forces", "99999", "Holand-Netherlands"):
        assert value not in text
    assert any("native-country" in r for r in t.reasons)
    assert t.to_dict()["rows"] == list(t.rows)


def test_scores_reproducible_and_seed_only_moves_neighbour_sample(planted):
    df, _ = planted
    np.testing.assert_array_equal(exposure_scores(df, seed=3), exposure_scores(df, seed=3))
    # Below 10,000 rows every record is a neighbour candidate: the seed changes nothing.
    np.testing.assert_array_equal(exposure_scores(df, seed=0), exposure_scores(df, seed=1))


def test_named_rows_kept_in_order(planted):
    df, _ = planted
    t = select_targets(df, rows=[7, 3])
    assert t.rows == (7, 3)
    scores = exposure_scores(df)
    assert t.scores == pytest.approx((scores[7], scores[3]))


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([5, 3000], r"target row 3000 is out of range: the table has 3,000 rows, numbered 0 to 2999"),
        ([-1], r"target row -1 is out of range"),
        ([2, 2], r"target rows \[2\] are named more than once"),
        (["a"], r"target row 'a' is not a row number"),
        ([], r"no target rows given"),
    ],
)
def test_bad_rows(planted, rows, match):
    df, _ = planted
    with pytest.raises(TargetError, match=match):
        select_targets(df, rows=rows)


def test_bad_n_and_table(planted):
    df, _ = planted
    with pytest.raises(ConfigError, match="n \\(number of targets\\) must be a whole number from 1 to 3000"):
        select_targets(df, n=0)
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        select_targets([[1, 2]], n=1)
