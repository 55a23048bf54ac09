"""Junction trees: running intersection, clique coverage and model sizes on known graphs."""

import itertools

import numpy as np
import pytest

from lookalike.errors import ConfigError
from lookalike.graphical import Domain, JunctionTree, hypothetical_model_size, model_size


def random_cliques(rng, attrs, n):
    return [tuple(rng.choice(attrs, size=rng.integers(1, 4), replace=False)) for _ in range(n)]


def assert_valid(tree: JunctionTree, cliques):
    sets = [set(c) for c in tree.cliques]
    # every attribute and every given clique sits inside one maximal clique
    assert set().union(*sets) == set(tree.domain.attrs)
    for clique in cliques:
        assert any(set(clique) <= s for s in sets)
    # maximal: no clique inside another
    for a, b in itertools.permutations(range(len(sets)), 2):
        assert not sets[a] <= sets[b]
    # a rooted spanning tree, parents before children
    assert tree.order[0] == 0 and sorted(tree.order) == list(range(len(sets)))
    position = {c: k for k, c in enumerate(tree.order)}
    for i in tree.order[1:]:
        assert position[tree.parent[i]] < position[i]
    # running intersection: the cliques holding an attribute form a connected subtree
    for attr in tree.domain.attrs:
        holding = {i for i, s in enumerate(sets) if attr in s}
        tops = [i for i in holding if tree.parent[i] not in holding]
        assert len(tops) == 1, f"{attr} is held by a disconnected set of cliques"
    # attributes inside each clique follow the tree order (fewest values first)
    for clique in tree.cliques:
        assert clique == tree.canonical(clique)


@pytest.mark.parametrize("seed", range(8))
def test_running_intersection_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    dom = Domain(tuple(f"v{i}" for i in range(9)), tuple(int(s) for s in rng.integers(2, 6, size=9)))
    cliques = random_cliques(rng, list(dom.attrs), int(rng.integers(3, 12)))
    tree = JunctionTree.build(dom, cliques)
    assert_valid(tree, cliques)
    assert len(tree.messages()) == 2 * (len(tree.cliques) - 1)


@pytest.mark.parametrize(
    ("cliques", "size"),
    [
        ([("a", "b"), ("b", "c")], 200),  # chain: two 10x10 cliques
        ([("a", "b"), ("b", "c"), ("a", "c")], 1000),  # triangle: one 3-way clique
        ([("a",), ("b",), ("c",)], 30),  # independent
        ([], 30),  # nothing measured: singletons
        ([("a", "b", "c")], 1000),
    ],
)
def test_model_size_on_known_graphs(cliques, size):
    dom = Domain(("a", "b", "c"), (10, 10, 10))
    assert model_size(dom, cliques) == size


def test_four_cycle_gets_the_cheaper_chord():
    dom = Domain(("a", "b", "c", "d"), (2, 3, 4, 5))
    tree = JunctionTree.build(dom, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")])
    # chord a-c gives cliques of 2*4*5 + 2*3*4 = 64 cells; chord b-d would give 30 + 60 = 90
    assert tree.size() == 64
    assert set(map(frozenset, tree.cliques)) == {frozenset("abc"), frozenset("acd")}
    assert set(tree.separator(1)) == {"a", "c"}


def test_hypothetical_size_adds_one_clique():
    dom = Domain(("a", "b", "c", "d"), (4, 4, 4, 4))
    base = [("a", "b"), ("b", "c"), ("c", "d")]
    assert model_size(dom, base) == 48
    assert hypothetical_model_size(dom, base, ("a", "d")) == model_size(dom, [*base, ("a", "d")])
    assert hypothetical_model_size(dom, base, ("a", "d")) == 128


def test_find_and_embed():
    dom = Domain(("a", "b", "c"), (2, 3, 4))
    tree = JunctionTree.build(dom, [("a", "b"), ("b", "c")])
    assert tree.find(("b",)) is not None and tree.find(("a", "c")) is None
    home, shape, axes = tree.embed(("c",))
    assert tree.cliques[home] == ("b", "c") and shape == (1, 4) and axes == (0,)


def test_disconnected_components_are_joined():
    dom = Domain(("a", "b", "c", "d"), (2, 2, 2, 2))
    tree = JunctionTree.build(dom, [("a", "b"), ("c", "d")])
    assert_valid(tree, [("a", "b"), ("c", "d")])
    assert tree.separator(1) == ()


def test_unknown_attribute_in_a_clique_is_named():
    dom = Domain(("a", "b"), (2, 2))
    with pytest.raises(ConfigError, match=r"names attributes \['z'\]"):
        model_size(dom, [("a", "z")])
