"""zCDP accounting: conversions against OpenDP's own, composition, refusal."""

from __future__ import annotations

import math

import pytest

from lookalike.errors import BudgetExceededError, ConfigError
from lookalike.privacy.accountant import (
    Accountant,
    delta_from_rho,
    epsilon_from_rho,
    exponential_rho,
    gaussian_rho,
    gaussian_sigma,
    laplace_rho,
    rho_from_epsilon_delta,
)

# (rho, epsilon, delta) computed by OpenDP 0.16's zCDP -> approx-DP conversion
# (make_zCDP_to_approxDP(...).map(1.0).delta(eps)), an independent implementation in Rust.
OPENDP_REFERENCE = [
    (0.01, 0.5, 3.505878060052396e-05),
    (0.01, 1.0, 1.664113977388011e-13),
    (0.1, 0.5, 0.07706229246326073),
    (0.1, 1.0, 0.008933245771818366),
    (0.1, 3.0, 1.7944352083338408e-11),
    (0.5, 1.0, 0.24684633078294466),
    (0.5, 3.0, 0.0051431840638621554),
    (2.0, 3.0, 0.38454801585340875),
]


@pytest.mark.parametrize(("rho", "eps", "delta"), OPENDP_REFERENCE)
def test_delta_matches_opendp(rho, eps, delta):
    assert delta_from_rho(rho, eps) == pytest.approx(delta, rel=1e-9)


def test_live_opendp_agrees_if_installed():
    dp = pytest.importorskip("opendp.prelude")
    dp.enable_features("contrib")
    for rho in (0.003, 0.05, 0.7):
        m = dp.m.make_gaussian(
            dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float),
            scale=1 / math.sqrt(2 * rho),
        )
        curve = dp.c.make_zCDP_to_approxDP(m).map(1.0)
        for eps in (0.3, 1.0, 2.5):
            assert delta_from_rho(rho, eps) == pytest.approx(curve.delta(eps), rel=1e-9)


@pytest.mark.parametrize(("eps", "delta"), [(0.1, 1e-9), (1.0, 1e-9), (1.0, 1e-6), (10.0, 1e-5)])
def test_round_trip_and_tighter_than_simple_bound(eps, delta):
    rho = rho_from_epsilon_delta(eps, delta)
    assert delta_from_rho(rho, eps) <= delta * (1 + 1e-9)
    assert epsilon_from_rho(rho, delta) == pytest.approx(eps, rel=1e-6)
    # the simple conversion eps = rho + 2 sqrt(rho log(1/delta)) is valid but looser
    simple = rho + 2 * math.sqrt(rho * math.log(1 / delta))
    assert epsilon_from_rho(rho, delta) < simple


def test_known_budget_for_adult_protocol():
    # epsilon = 1, delta = 1e-9: rho = 0.014973... (also by OpenDP's binary search)
    assert rho_from_epsilon_delta(1.0, 1e-9) == pytest.approx(0.0149730577, rel=1e-6)


def test_mechanism_costs():
    assert gaussian_rho(sensitivity=1.0, sigma=10.0) == pytest.approx(0.005)
    assert gaussian_sigma(sensitivity=1.0, rho=0.005) == pytest.approx(10.0)
    assert laplace_rho(0.2) == pytest.approx(0.02)
    assert exponential_rho(0.4) == pytest.approx(0.02)


def test_composition_adds_and_refuses_over_spend():
    acct = Accountant(rho_budget=0.01)
    acct.spend("a", 0.004)
    acct.spend("b", 0.006)
    assert acct.spent == pytest.approx(0.01)
    with pytest.raises(BudgetExceededError, match=r"'c' costs rho=0.001 but only"):
        acct.spend("c", 0.001)
    assert [r.name for r in acct.releases] == ["a", "b"]


@pytest.mark.parametrize(
    ("eps", "delta", "match"),
    [(0, 1e-9, "epsilon"), (-1, 1e-9, "epsilon"), (1, 0, "delta"), (1, 1, "delta"), (1, 1.5, "delta")],
)
def test_bad_epsilon_delta(eps, delta, match):
    with pytest.raises(ConfigError, match=match):
        rho_from_epsilon_delta(eps, delta)
