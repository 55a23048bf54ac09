"""Rates, risks and ROC statistics: interval coverage from simulation, exact small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from lookalike.audit._stats import auc_delong, residual, roc, tpr_at, wilson

RUNS = 400
# a 95% interval covers in a share of runs whose binomial SE over 400 runs is 0.011:
# 3 SE either side of 0.95
COVERAGE = (0.95 - 3 * math.sqrt(0.95 * 0.05 / RUNS), 0.95 + 3 * math.sqrt(0.95 * 0.05 / RUNS))


@pytest.mark.parametrize(("p", "n"), [(0.3, 200), (0.05, 100), (0.9, 500)])
def test_wilson_interval_covers_the_true_rate_about_95_percent(p, n):
    rng = np.random.default_rng(1)
    hits = [wilson(int(k), n).ci for k in rng.binomial(n, p, size=RUNS)]
    covered = np.mean([lo <= p <= hi for lo, hi in hits])
    assert COVERAGE[0] <= covered <= COVERAGE[1]


def test_wilson_extremes_and_empty():
    assert wilson(0, 40).ci[0] == 0.0 and wilson(40, 40).ci[1] == 1.0
    assert math.isnan(wilson(0, 0).value)


def test_residual_risk_formula_and_bounds():
    r = residual(wilson(60, 100), wilson(20, 100))
    assert r.value == pytest.approx((0.6 - 0.2) / 0.8)
    assert 0 < r.ci[0] < r.value < r.ci[1] <= 1
    assert residual(wilson(10, 100), wilson(30, 100)).value == 0.0  # worse than control: clipped
    assert math.isnan(residual(wilson(5, 10), wilson(10, 10)).value)  # control always succeeds


def test_delong_interval_covers_the_true_auc_about_95_percent():
    shift, n = 0.5, 300
    true_auc = norm.cdf(shift / math.sqrt(2))
    rng = np.random.default_rng(2)
    covered = []
    for _ in range(RUNS):
        auc, se = auc_delong(rng.normal(shift, 1, n), rng.normal(0, 1, n))
        covered.append(abs(auc - true_auc) <= 1.959964 * se)
    assert COVERAGE[0] <= np.mean(covered) <= COVERAGE[1]


def test_auc_matches_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 5, 200).astype(float), rng.integers(0, 4, 150).astype(float)
    expected = roc_auc_score(np.r_[np.ones(200), np.zeros(150)], np.r_[a, b])
    assert auc_delong(a, b)[0] == pytest.approx(expected)


def test_roc_is_thinned_but_keeps_ends_and_tpr_at_low_fpr_interpolates():
    rng = np.random.default_rng(4)
    members, others = rng.normal(1, 1, 5000), rng.normal(0, 1, 5000)
    curve = roc(members, others, points=200)
    assert len(curve.fpr) <= 250
    assert (curve.fpr[0], curve.tpr[0], curve.fpr[-1], curve.tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(curve.fpr) >= 0) and np.all(np.diff(curve.tpr) >= 0)
    # a tie group spanning the limit counts in proportion (random tie-breaking)
    assert tpr_at(np.ones(10), np.r_[np.ones(2), np.zeros(998)], 0.001) == pytest.approx(0.5)
