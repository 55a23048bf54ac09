"""Exact inference: calibrated clique marginals and any marginal agree with brute force."""

import itertools

import numpy as np
import pytest
from graphical_brute import joint_of, marginal_of, random_model

from lookalike.graphical import Domain, Factor, JunctionTree
from lookalike.graphical._linear import LinearCalibration
from lookalike.graphical.factor import reorder
from lookalike.graphical.inference import BeliefPropagation, marginal, variable_elimination
from lookalike.graphical.model import tree_potentials

DOM = Domain(("a", "b", "c", "d", "e"), (2, 3, 4, 2, 3))
CYCLIC = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("d", "e"), ("a", "c", "e")]
CHAIN = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]


@pytest.mark.parametrize("cliques", [CYCLIC, CHAIN], ids=["cyclic", "chain"])
@pytest.mark.parametrize("scale", [0.5, 4.0])
def test_calibrated_clique_marginals_match_brute_force(cliques, scale):
    model = random_model(DOM, cliques, np.random.default_rng(1), scale=scale)
    joint = joint_of(model) / model.total
    tree = model.tree
    logs = tree_potentials(tree, model.cliques, model.potentials)
    probs, log_z = BeliefPropagation(tree).calibrate(logs)
    brute_log_z = np.log(
        np.exp(sum(v.reshape([DOM[a] if a in c else 1 for a in DOM.attrs]) for c, v in zip(model.cliques, model.potentials, strict=True))).sum()
    )
    assert log_z == pytest.approx(brute_log_z, rel=1e-12)
    for clique, p in zip(tree.cliques, probs, strict=True):
        np.testing.assert_allclose(p, marginal_of(DOM, joint, clique), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cliques", [CYCLIC, CHAIN], ids=["cyclic", "chain"])
def test_linear_space_calibration_reads_match_brute_force(cliques):
    model = random_model(DOM, cliques, np.random.default_rng(5), scale=3.0)
    joint = joint_of(model) / model.total
    tree = model.tree
    factors = [tree.canonical(c) for c in model.cliques]
    tables = [np.exp(reorder(v, c, f)) for v, c, f in zip(model.potentials, model.cliques, factors, strict=True)]
    reads = [*tree.cliques, *factors, ("a",), ("e",), ("b", "c"), tree.canonical(("d", "a"))]
    reads = [tree.canonical(r) for r in reads if tree.find(r) is not None]
    got = LinearCalibration(tree, factors, reads)(tables)
    for attrs, table in zip(reads, got, strict=True):
        expected = marginal_of(DOM, joint, attrs)
        np.testing.assert_allclose(table / table.sum(), expected, rtol=1e-10, atol=1e-14)


def test_linear_space_calibration_reports_underflow():
    dom = Domain(("a", "b", "c"), (2, 2, 2))
    tree = JunctionTree.build(dom, [("a", "b"), ("b", "c")])
    tiny = np.full((2, 2), 1e-250)
    assert LinearCalibration(tree, list(tree.cliques), [("a",)])([tiny, tiny]) is None


@pytest.mark.parametrize(
    "attrs",
    [("a", "e"), ("e", "b"), ("b", "d", "e"), ("e", "c", "a", "b"), ("c",), (), DOM.attrs],
)
def test_any_marginal_matches_brute_force(attrs):
    model = random_model(DOM, CHAIN, np.random.default_rng(2), scale=2.0)
    joint = joint_of(model)
    np.testing.assert_allclose(model.marginal(attrs), marginal_of(DOM, joint, attrs), rtol=1e-9)


def test_marginal_across_cliques_of_a_cyclic_model():
    model = random_model(DOM, CYCLIC, np.random.default_rng(3), scale=2.0)
    joint = joint_of(model)
    assert model.tree.find(("b", "e")) is None  # b and e share no clique
    for attrs in itertools.permutations(("b", "e", "d"), 3):
        np.testing.assert_allclose(model.marginal(attrs), marginal_of(DOM, joint, attrs), rtol=1e-9)


def test_marginal_with_zero_probability_cells():
    dom = Domain(("a", "b", "c"), (2, 2, 2))
    # b is a copy of a and c a copy of b: most cells of the joint are exactly zero
    copy = np.log(np.array([[1.0, 0.0], [0.0, 1.0]]) + 1e-300)
    from lookalike.graphical import GraphicalModel

    model = GraphicalModel(dom, (("a", "b"), ("b", "c")), (copy, copy), 10.0)
    np.testing.assert_allclose(model.marginal(("a", "c")), [[5.0, 0.0], [0.0, 5.0]], atol=1e-9)
    probs = marginal(model.tree, model._calibrated[0], ("c", "a"))
    assert probs.sum() == pytest.approx(1.0)


def test_variable_elimination_matches_brute_force():
    rng = np.random.default_rng(4)
    factors = [Factor(DOM.project(c), rng.normal(size=DOM.project(c).shape)) for c in CYCLIC]
    total = factors[0]
    for f in factors[1:]:
        total = total + f
    for keep in [("e", "a"), ("b",), ()]:
        got = variable_elimination(factors, keep)
        np.testing.assert_allclose(got.values, total.project(keep).values, rtol=1e-10)
