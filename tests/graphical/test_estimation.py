"""Estimation: exact marginals are reproduced, noisy ones reach the brute-force optimum."""

import numpy as np
import pytest
from graphical_brute import joint_of, marginal_of, random_model
from scipy.optimize import minimize

from lookalike.errors import ConfigError
from lookalike.graphical import (
    Domain,
    Measurement,
    coarsen,
    estimate,
    estimate_total,
    measurement_loss,
)

DOM = Domain(("a", "b", "c", "d"), (3, 2, 3, 2))
CYCLE = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]


def dirichlet_joint(seed: int, total: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return total * rng.dirichlet(np.ones(DOM.size())).reshape(DOM.shape)


def measure(joint, cliques, sigma=1.0, rng=None):
    out = []
    for attrs in cliques:
        values = marginal_of(DOM, joint, attrs)
        if rng is not None:
            values = values + rng.normal(0.0, sigma, values.shape)
        out.append(Measurement(attrs, values, sigma))
    return out


def test_exact_marginals_on_a_cycle_are_reproduced():
    joint = dirichlet_joint(0, 1000.0)
    cliques = [*CYCLE, ("a",), ("c",), ("d", "b")]
    measurements = measure(joint, cliques)
    model = estimate(DOM, measurements, iters=3000, tol=0.0)
    assert model.total == pytest.approx(1000.0)
    for m in measurements:
        np.testing.assert_allclose(model.marginal(m.attrs), m.values, rtol=1e-3)


def test_a_tree_shaped_distribution_is_recovered_exactly():
    chain = [("a", "b"), ("b", "c"), ("c", "d")]
    truth = random_model(DOM, chain, np.random.default_rng(1), scale=1.0, total=500.0)
    joint = joint_of(truth)
    measurements = measure(joint, chain)
    model = estimate(DOM, measurements, iters=3000, tol=0.0)
    np.testing.assert_allclose(joint_of(model), joint, rtol=1e-3)


def brute_force_loss(measurements, total: float) -> float:
    """The same convex problem over the full joint: min sum ||M x - y||^2 / sigma, x >= 0."""

    def residuals(x):
        table = x.reshape(DOM.shape)
        return [(m.coarsen(marginal_of(DOM, table, m.attrs)) - m.values, m) for m in measurements]

    def loss(x):
        return sum(np.sum(r**2) / m.sigma for r, m in residuals(x))

    def grad(x):
        g = np.zeros(DOM.shape)
        for r, m in residuals(x):
            kept = [a for a in DOM.attrs if a in m.attrs]
            r = np.transpose(m.spread(r), [m.attrs.index(a) for a in kept])
            g = g + (2.0 / m.sigma) * r.reshape([DOM[a] if a in m.attrs else 1 for a in DOM.attrs])
        return g.ravel()

    start = np.full(DOM.size(), total / DOM.size())
    result = minimize(
        loss,
        start,
        jac=grad,
        method="SLSQP",
        bounds=[(0.0, None)] * DOM.size(),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - total, "jac": lambda x: np.ones_like(x)}],
        options={"ftol": 1e-15, "maxiter": 5000},
    )
    assert result.success, result.message
    return float(result.fun)


@pytest.mark.parametrize(("seed", "sigma"), [(2, 2.0), (3, 8.0), (4, 20.0)])
def test_noisy_cycle_reaches_the_brute_force_optimum(seed, sigma):
    rng = np.random.default_rng(seed)
    joint = dirichlet_joint(seed, 300.0)
    cliques = [*CYCLE, ("a",), ("b", "d"), ("a", "b", "c")]
    measurements = measure(joint, cliques, sigma, rng)
    model = estimate(DOM, measurements, total=300.0, iters=1000, tol=1e-6)
    best = brute_force_loss(measurements, 300.0)
    ours = measurement_loss(model, measurements)
    assert ours == pytest.approx(best, rel=1e-4)
    assert ours >= best * (1 - 1e-6)  # nothing beats the optimum over the full joint


def grouped(joint, attrs, groups, sigma=1.0, rng=None):
    m = measure(joint, [attrs])[0]
    values = coarsen(m.values, groups)
    if rng is not None:
        values = values + rng.normal(0.0, sigma, values.shape)
    return Measurement(attrs, values, sigma, groups)


def test_grouped_measurements_are_fitted_as_sums_of_their_cells():
    """A measurement of groups of adjacent cells constrains only their sums: exact ones are
    reproduced, noisy ones reach the optimum of the same problem over the full joint."""
    joint = dirichlet_joint(7, 600.0)
    ac = grouped(joint, ("a", "c"), (np.array([0, 0, 1]), np.array([0, 1, 1])))
    exact = [*measure(joint, [("a",), ("b", "d")]), ac]
    model = estimate(DOM, exact, iters=3000, tol=0.0)
    np.testing.assert_allclose(ac.coarsen(model.marginal(("a", "c"))), ac.values, rtol=1e-3)
    np.testing.assert_allclose(model.marginal(("a",)), exact[0].values, rtol=1e-3)
    assert measurement_loss(model, exact) < 1e-3
    rng = np.random.default_rng(8)
    noisy = [*measure(joint, [("a", "b"), ("c",)], 6.0, rng),
             grouped(joint, ("c", "d", "a"), (np.array([0, 1, 1]), None, np.array([0, 0, 1])), 6.0, rng)]
    model = estimate(DOM, noisy, total=600.0, iters=1000, tol=1e-6)
    assert measurement_loss(model, noisy) == pytest.approx(brute_force_loss(noisy, 600.0), rel=1e-4)


def test_groups_must_merge_adjacent_cells_in_order():
    with pytest.raises(ConfigError, match="groups of 'a'"):
        Measurement(("a",), np.zeros(2), 1.0, (np.array([1, 0, 1]),))
    with pytest.raises(ConfigError, match=r"shape \(4,\) \(before grouping\); the domain says \(3,\)"):
        estimate(DOM, [Measurement(("a",), np.zeros(2), 1.0, (np.array([0, 0, 1, 1]),))])
    m = Measurement(("a", "b"), np.zeros((2, 2)), 1.0, (np.array([0, 1, 1]), None))
    assert (m.cell("a", 0), m.cell("a", 1), m.cell("b", 1)) == (0, None, 1)


def test_total_is_the_inverse_variance_weighted_mean_of_the_sums():
    ms = [
        Measurement(("a",), np.array([50.0, 30.0, 25.0]), 1.0),  # sum 105, variance 3
        Measurement(("b", "d"), np.array([[20.0, 30.0], [25.0, 20.0]]), 2.0),  # 95, variance 16
    ]
    expected = (105 / 3 + 95 / 16) / (1 / 3 + 1 / 16)
    assert estimate_total(ms) == pytest.approx(expected)
    assert estimate(DOM, ms, iters=5).total == pytest.approx(expected)
    assert estimate_total([Measurement(("a",), np.array([-5.0, 1.0, 1.0]), 1.0)]) == 1.0
    assert estimate_total([]) == 1.0


def test_warm_start_resumes_from_the_previous_model():
    rng = np.random.default_rng(5)
    joint = dirichlet_joint(5, 400.0)
    first = measure(joint, [("a", "b"), ("b", "c")], 4.0, rng)
    second = first + measure(joint, [("c", "d"), ("a", "d")], 4.0, rng)
    round_one = estimate(DOM, first, total=400.0, iters=2000, tol=0.0)
    cold = estimate(DOM, second, total=400.0, iters=3000, tol=0.0)
    warm = estimate(DOM, second, total=400.0, iters=3000, tol=0.0, warm_start=round_one)
    assert measurement_loss(warm, second) == pytest.approx(measurement_loss(cold, second), rel=1e-4)
    # resuming from an optimum stays there: a few steps keep its loss, a cold start is far off
    again = estimate(DOM, second, total=400.0, iters=3, warm_start=cold)
    assert measurement_loss(again, second) == pytest.approx(measurement_loss(cold, second), rel=1e-6)
    assert measurement_loss(estimate(DOM, second, total=400.0, iters=3), second) > 2 * measurement_loss(cold, second)


def test_structure_uniform_unmeasured_attributes_and_extra_cliques():
    joint = dirichlet_joint(6, 100.0)
    model = estimate(DOM, measure(joint, [("b", "a")]), cliques=[("c", "d")], iters=500)
    assert set(map(frozenset, model.cliques)) == {frozenset("ab"), frozenset("cd")}
    np.testing.assert_allclose(model.marginal(("c",)), np.full(3, 100.0 / 3), rtol=1e-9)
    np.testing.assert_allclose(model.marginal(("b", "a")), marginal_of(DOM, joint, ("b", "a")), rtol=1e-3)


def test_measurement_loss_is_the_weighted_squared_error():
    joint = dirichlet_joint(7, 100.0)
    ms = [Measurement(("a",), np.array([30.0, 30.0, 40.0]), 2.0)]
    model = estimate(DOM, measure(joint, [("a",)]), iters=500)
    expected = np.sum((model.marginal(("a",)) - ms[0].values) ** 2) / 2.0
    assert measurement_loss(model, ms) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Measurement(("a", "a"), np.zeros((3, 3)), 1.0), "distinct attributes"),
        (lambda: Measurement(("a",), np.zeros((3, 2)), 1.0), "1-d array"),
        (lambda: Measurement(("a",), np.array([1.0, np.inf, 0.0]), 1.0), "finite"),
        (lambda: Measurement(("a",), np.zeros(3), 0.0), "sigma must be > 0"),
        (lambda: estimate(DOM, [Measurement(("z",), np.zeros(3), 1.0)]), r"attributes \['z'\]"),
        (lambda: estimate(DOM, [Measurement(("a",), np.zeros(2), 1.0)]), r"shape \(2,\); the domain says \(3,\)"),
        (lambda: estimate(DOM, ["a"]), "must be a Measurement"),
        (lambda: estimate(DOM, [], iters=-1), "iters"),
        (lambda: estimate(DOM, [], tol=-1.0), "tol"),
        (lambda: estimate(DOM, [], total=0.0), "total"),
        (lambda: estimate(DOM, [], cliques=[("a", "z")]), "'z' is not in the domain"),
        (lambda: estimate(DOM, [], warm_start="model"), "warm_start must be a GraphicalModel"),
    ],
)
def test_bad_input_is_refused_with_a_message(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
