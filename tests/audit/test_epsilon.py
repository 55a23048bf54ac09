"""Empirical ε: Clopper–Pearson limits, no false evidence, and bounds near the true ε."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta

from lookalike.audit.epsilon import (
    EpsilonBound,
    clopper_pearson,
    empirical_epsilon,
    epsilon_from_rates,
)
from lookalike.errors import ConfigError


@pytest.mark.parametrize(
    ("k", "n", "confidence", "side", "expected"),
    [
        (3, 20, 0.95, "lower", 0.0421694079),  # Beta(0.05; 3, 18)
        (3, 20, 0.95, "upper", 0.3436638043),  # Beta(0.95; 4, 17)
        (45, 100, 0.975, "lower", 0.3503202292),
        (45, 100, 0.975, "upper", 0.5527198112),
        (0, 10, 0.95, "upper", 1 - 0.05 ** (1 / 10)),  # closed form at k = 0
        (10, 10, 0.95, "lower", 0.05 ** (1 / 10)),  # closed form at k = n
        (0, 10, 0.95, "lower", 0.0),
        (10, 10, 0.95, "upper", 1.0),
    ],
)
def test_clopper_pearson_pinned(k, n, confidence, side, expected):
    assert float(clopper_pearson(k, n, confidence, side)) == pytest.approx(expected, abs=1e-9)


def test_clopper_pearson_matches_scipy_beta_vectorised():
    k = np.arange(1, 50)
    n = np.full_like(k, 50)
    lo = clopper_pearson(k, n, 0.9, "lower")
    hi = clopper_pearson(k - 1, n, 0.9, "upper")
    np.testing.assert_allclose(lo, beta.ppf(0.1, k, n - k + 1), rtol=1e-12)
    np.testing.assert_allclose(hi, beta.ppf(0.9, k, n - k + 1), rtol=1e-12)


def test_epsilon_from_rates_formula_and_floor():
    assert float(epsilon_from_rates(0.6, 0.1, delta=0.1)) == pytest.approx(math.log(5))
    assert float(epsilon_from_rates(0.05, 0.1)) == 0.0  # no evidence is 0, never negative
    assert float(epsilon_from_rates(0.01, 0.1, delta=0.02)) == 0.0


def test_identical_distributions_give_zero_in_most_runs():
    """Same score distribution: the bound exceeds 0 with probability ≤ 1 − confidence = 5%.

    Over 200 seeded runs the count of non-zero bounds is at most Binomial(200, 0.05), which
    exceeds 20 with probability about 0.1%.
    """
    rng = np.random.default_rng(1)
    bounds = np.array(
        [empirical_epsilon(rng.normal(size=200), rng.normal(size=200), seed=r).epsilon for r in range(200)]
    )
    assert (bounds > 0).sum() <= 20


def test_randomised_response_bound_is_close_and_valid():
    """ε-DP randomised response: the bound lies below ε in ≥ 95% of 200 runs and near it on average.

    At confidence 0.99 each run exceeds ε with probability ≤ 1%, so more than 10 exceedances of
    200 has probability below 1e-4. With 20,000 trials per class (10,000 on the evaluation
    half) the Clopper–Pearson limits of the log rates are within about 2.24·0.0165 + 2.24·0.006
    ≈ 0.05 of the truth, so the mean bound is above ε − 0.1.
    """
    eps = 1.0
    p = math.exp(eps) / (1 + math.exp(eps))  # P(report 1 | member)
    rng = np.random.default_rng(0)
    bounds = []
    for run in range(200):
        members = (rng.random(20_000) < p).astype(float)
        non_members = (rng.random(20_000) < 1 - p).astype(float)
        bounds.append(empirical_epsilon(members, non_members, confidence=0.99, seed=run).epsilon)
    bounds = np.array(bounds)
    assert (bounds > eps).sum() <= 10
    assert bounds.mean() > eps - 0.1


def test_delta_lowers_the_bound():
    members, non_members = [1.0] * 100 + [0.0] * 100, [1.0] * 20 + [0.0] * 180
    plain = empirical_epsilon(members, non_members).epsilon
    with_delta = empirical_epsilon(members, non_members, delta=0.2).epsilon
    assert 0 < with_delta < plain


def test_seed_reproducible_and_fields():
    rng = np.random.default_rng(3)
    m, n = rng.normal(1, 1, 300), rng.normal(0, 1, 300)
    a, b = empirical_epsilon(m, n, seed=5), empirical_epsilon(m, n, seed=5)
    assert a == b
    assert isinstance(a, EpsilonBound)
    d = a.to_dict()
    assert set(d) >= {"epsilon", "delta", "confidence", "tpr", "fpr", "threshold", "n_members", "n_non_members"}
    assert d["n_members"] == 300 and "half" in d["method"]


@pytest.mark.parametrize(
    ("members", "non_members", "kwargs", "match"),
    [
        ([1.0], [0.0, 1.0], {}, "member_scores hold 1 score"),
        ([1.0, 2.0], [np.nan, 1.0], {}, "non_member_scores hold NaN"),
        ([1.0, 2.0], [0.0, 1.0], {"confidence": 1.0}, "confidence must lie"),
        ([1.0, 2.0], [0.0, 1.0], {"delta": -0.1}, "delta must lie"),
        (["a", "b"], [0.0, 1.0], {}, "member_scores must be numbers"),
    ],
)
def test_bad_input(members, non_members, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        empirical_epsilon(members, non_members, **kwargs)
