"""The linear-space fast path agrees with log-space belief propagation on random structures."""

import numpy as np
import pytest

from lookalike.graphical import Domain, JunctionTree
from lookalike.graphical._linear import LinearCalibration, _product_plan, _reduction_plan
from lookalike.graphical.inference import BeliefPropagation, marginal
from lookalike.graphical.model import tree_potentials


@pytest.mark.parametrize("seed", range(6))
def test_reads_match_log_space_calibration(seed):
    rng = np.random.default_rng(seed)
    dom = Domain(tuple("abcdefg"), tuple(int(s) for s in rng.integers(2, 5, size=7)))
    factors = [tuple(rng.choice(dom.attrs, size=int(rng.integers(1, 4)), replace=False)) for _ in range(8)]
    tree = JunctionTree.build(dom, factors)
    factors = [tree.canonical(f) for f in factors]
    logs = [rng.normal(scale=2.0, size=dom.project(f).shape) for f in factors]
    reads = [tree.canonical(r) for r in [*factors, *[(a,) for a in dom.attrs]]]
    got = LinearCalibration(tree, factors, reads)([np.exp(v) for v in logs])
    probs, _ = BeliefPropagation(tree).calibrate(tree_potentials(tree, factors, logs))
    for attrs, table in zip(reads, got, strict=True):
        np.testing.assert_allclose(table / table.sum(), marginal(tree, probs, attrs), rtol=1e-9, atol=1e-15)


def test_a_clique_without_factors_gets_everything_from_messages():
    dom = Domain(("a", "b", "c", "d"), (2, 3, 2, 2))
    tree = JunctionTree.build(dom, [("a", "b", "c"), ("c", "d")])
    cd = np.array([[1.0, 1.0], [3.0, 3.0]])  # p(c) = (1/4, 3/4), d uniform
    assert tree.canonical(("b", "c")) == ("c", "b")  # tree order: fewest values first
    got = LinearCalibration(tree, [("c", "d")], [("a",), ("c", "b")])([cd])
    np.testing.assert_allclose(got[0] / got[0].sum(), [0.5, 0.5])
    np.testing.assert_allclose(got[1] / got[1].sum(), np.outer([0.25, 0.75], np.full(3, 1 / 3)))


def test_product_plan_merges_small_operands_first():
    sizes = (20, 20, 20, 2)
    merges, last = _product_plan(sizes, [frozenset({3}), frozenset({2, 3}), frozenset({0, 1, 2})])
    assert merges == [(0, 1)]  # the 2-cell and 40-cell factors become one 40-cell factor
    assert sorted(last) == [2, 3]


def test_reduction_plan_shares_intermediate_tables():
    sizes = (3, 4, 5, 6)
    targets = [frozenset({0}), frozenset({0, 1}), frozenset({1}), frozenset({2, 3})]
    steps, found = _reduction_plan(sizes, targets)
    tables = [frozenset(range(4))]
    for source, axes in steps:
        kept = sorted(tables[source])
        tables.append(tables[source] - {kept[k] for k in axes})
    assert [tables[f] for f in found] == targets
    assert len(steps) < 2 * len(targets)  # direct sums would need one full sweep each
