"""Association measures and matrices."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

import lookalike
from lookalike.evaluate.associations import (
    associations,
    correlation_ratio,
    cramers_v,
    spearman,
)
from lookalike.evaluate.tables import prepare


def test_real_against_itself_has_zero_difference(real):
    a = associations(prepare(real, real))
    assert np.array_equal(np.array(a.real), np.array(a.synthetic))
    assert np.abs(np.array(a.difference)).max() == 0.0
    assert a.mean_abs_difference == 0.0
    assert a.columns == tuple(real.columns)
    assert np.allclose(np.diag(np.array(a.real)), 1.0)


def test_shuffled_columns_lose_their_associations(real, shuffled):
    a = associations(prepare(real, shuffled))
    # shuffling leaves only noise: bias-corrected V and Spearman are ~0 (sd ~ 1/sqrt(n) = 0.014),
    # so the error is about the mean real association (0.14 on Adult); eta keeps a small
    # positive bias ~ sqrt(k/n) for k-category columns
    assert a.mean_abs_difference > 0.1
    synth = np.abs(np.array(a.synthetic))
    assert synth[np.triu_indices(len(a.columns), 1)].mean() < 0.05


def test_cramers_v_bias_correction_is_near_zero_for_independent_columns():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, 2000), rng.integers(0, 10, 2000)
    # uncorrected V has expectation ~ sqrt((k-1)/n / (k-1)) = 0.067 here; Bergsma's is ~0
    assert cramers_v(x, y) < 0.02
    assert cramers_v(x, x) == pytest.approx(1.0)
    assert cramers_v(x, np.full(2000, 3)) == 0.0  # constant: undefined, reported as 0


def test_missing_values_use_pairwise_complete_rows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    x[:50] = np.nan
    expected = spearmanr(x[50:], y[50:]).statistic
    assert spearman(x, y) == pytest.approx(expected)
    codes = (y > 0).astype(int)
    codes[-30:] = -1
    ok = ~np.isnan(x) & (codes >= 0)
    xs, cs = x[ok], codes[ok]
    between = sum((cs == c).sum() * (xs[cs == c].mean() - xs.mean()) ** 2 for c in (0, 1))
    assert correlation_ratio(codes, x) == pytest.approx(np.sqrt(between / ((xs - xs.mean()) ** 2).sum()))


def test_independent_synthesizer_has_worse_associations_than_cart(demo):
    sample = demo.sample(10_000, random_state=0).reset_index(drop=True)
    errors = {}
    for name in ("independent", "cart"):
        rows = lookalike.get_synthesizer(name).fit(sample, seed=0).sample(len(sample), seed=0)
        errors[name] = associations(prepare(sample, rows)).mean_abs_difference
    # independent sampling keeps no association (error ~ mean real association, 0.14); CART
    # keeps most of them
    assert errors["cart"] < 0.05 < 0.1 < errors["independent"]
