"""Factor: log-space products, sums, expansion and transposition against plain NumPy."""

import numpy as np
import pytest

from lookalike.errors import ConfigError
from lookalike.graphical import Domain, Factor
from lookalike.graphical.factor import logsumexp

DOM = Domain(("a", "b", "c"), (2, 3, 4))
RNG = np.random.default_rng(0)


def test_product_is_a_sum_of_logs_over_the_merged_domain():
    f = Factor(DOM.project(("b", "a")), RNG.normal(size=(3, 2)))
    g = Factor(DOM.project(("c", "b")), RNG.normal(size=(4, 3)))
    h = f + g
    assert h.attrs == ("b", "a", "c")
    expected = f.values[:, :, None] + g.values.T[:, None, :]
    np.testing.assert_allclose(h.values, expected)


def test_sum_out_project_and_transpose_match_numpy():
    values = RNG.normal(size=DOM.shape)
    f = Factor(DOM, values)
    linear = np.exp(values)
    np.testing.assert_allclose(np.exp(f.sum_out(["b"]).values), linear.sum(axis=1))
    np.testing.assert_allclose(np.exp(f.project(("c", "a")).values), linear.sum(axis=1).T)
    np.testing.assert_allclose(f.transpose(("c", "a", "b")).values, values.transpose(2, 0, 1))
    np.testing.assert_allclose(f.max_out(["a", "c"]).values, values.max(axis=(0, 2)))
    assert f.normalize().logsumexp() == pytest.approx(0.0, abs=1e-12)


def test_expand_is_constant_along_new_attributes():
    f = Factor(DOM.project(("b",)), np.log([1.0, 2.0, 3.0]))
    e = f.expand(DOM.project(("c", "b", "a")))
    assert e.values.shape == (4, 3, 2)
    np.testing.assert_allclose(np.exp(e.values)[2, :, 1], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.exp(e.sum_out(["c", "a"]).values), 8 * np.array([1.0, 2.0, 3.0]))


def test_zeros_and_minus_infinity_are_exact():
    f = Factor(DOM.project(("a",)), np.array([-np.inf, 0.0]))
    g = Factor(DOM.project(("a",)), np.array([-np.inf, np.log(4.0)]))
    assert np.exp(f.logsumexp()) == pytest.approx(1.0)
    q = g - f  # 0/0 is 0
    assert q.values[0] == -np.inf and q.values[1] == pytest.approx(np.log(4.0))
    assert logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert float(logsumexp(np.array([1000.0, 1000.0]))) == pytest.approx(1000.0 + np.log(2.0))


def test_values_are_read_only_copies():
    values = np.zeros(DOM.shape)
    f = Factor(DOM, values)
    values[0, 0, 0] = 5.0
    assert f.values[0, 0, 0] == 0.0
    with pytest.raises(ValueError):
        f.values[0, 0, 0] = 1.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Factor(DOM, np.zeros((2, 3))), "has shape"),
        (lambda: Factor(DOM.project("a"), np.array([0.0, np.nan])), "NaN or \\+inf"),
        (lambda: Factor.zeros(DOM.project("a")).expand(DOM.project("b")), "it lacks"),
        (lambda: Factor.zeros(DOM).transpose(("a", "b")), "cannot transpose"),
    ],
)
def test_bad_factors_are_refused(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
