"""Junction trees: triangulate the cliques' interaction graph and join its maximal cliques.

A graphical model over ``cliques`` (tuples of attributes) is exact to work with on a junction
tree: the maximal cliques of a chordal supergraph of the interaction graph, joined in a tree
with the running-intersection property (an attribute shared by two cliques is in every clique
on the path between them). The chordal graph comes from a greedy elimination order that picks,
at each step, the attribute whose elimination clique has the fewest cells (ties: fewest fill-in
edges, then domain order), the classic min-weight heuristic (Koller & Friedman 2009, 9.4.3).
The tree is a maximum spanning tree over separator sizes. Its cost, :func:`model_size`, is the
total number of cells over the maximal cliques.

Inside the tree every clique lists its attributes in one global *tree order*: fewest values
first, ties in domain order. A separator then reads the same from both of its cliques, and the
largest attribute is the last (contiguous) axis of each clique table, which keeps NumPy's
strided reductions and broadcasts fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from lookalike.errors import ConfigError
from lookalike.graphical.domain import Domain

__all__ = ["JunctionTree", "hypothetical_model_size", "model_size"]

Clique = tuple[str, ...]


@dataclass(frozen=True)
class JunctionTree:
    """Maximal cliques (attributes in tree order) joined in a rooted tree.

    ``parent[i]`` is clique ``i``'s parent (``-1`` for the root) and ``order`` lists the cliques
    parents first, so ``reversed(order)`` is a valid collect (leaves-to-root) message schedule
    and ``order`` a valid distribute schedule.

    >>> dom = Domain(("a", "b", "c", "d"), (2, 3, 4, 5))
    >>> tree = JunctionTree.build(dom, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")])
    >>> tree.cliques                      # the 4-cycle gets the chord a-c: 40 + 24 cells
    (('a', 'c', 'd'), ('a', 'b', 'c'))
    >>> tree.separator(1), tree.size()
    (('a', 'c'), 64)
    """

    domain: Domain
    cliques: tuple[Clique, ...]
    parent: tuple[int, ...]
    order: tuple[int, ...]

    @classmethod
    def build(cls, domain: Domain, cliques: Iterable[Iterable[str]]) -> JunctionTree:
        """Junction tree of ``cliques`` over ``domain``; attributes in no clique get a singleton one.

        Every clique given is inside one maximal clique of the result. Deterministic: equal
        inputs give equal trees.
        """
        if len(domain) == 0:
            raise ConfigError("a junction tree needs a domain with at least one attribute")
        given = _check_cliques(domain, cliques)
        covered = {a for c in given for a in c}
        given += [(a,) for a in domain.attrs if a not in covered]
        rank = _tree_rank(domain)
        maximal = [
            tuple(sorted(s, key=rank.__getitem__))
            for s in _maximal(_elimination_cliques(domain, given))
        ]
        maximal.sort(key=lambda c: (-domain.size(c), sorted(domain.axes(c))))
        parent, order = _spanning_tree([set(c) for c in maximal])
        return cls(domain, tuple(maximal), parent, order)

    def canonical(self, attrs: Iterable[str]) -> Clique:
        """``attrs`` in tree order: fewest values first, ties in domain order."""
        rank = _tree_rank(self.domain)
        return tuple(sorted(set(attrs), key=rank.__getitem__))

    @cached_property
    def children(self) -> tuple[tuple[int, ...], ...]:
        """Each clique's children, in ``order``."""
        kids: list[list[int]] = [[] for _ in self.cliques]
        for i in self.order[1:]:
            kids[self.parent[i]].append(i)
        return tuple(tuple(k) for k in kids)

    def separator(self, i: int) -> Clique:
        """Attributes clique ``i`` shares with its parent (empty for the root), in tree order."""
        if self.parent[i] < 0:
            return ()
        shared = set(self.cliques[self.parent[i]])
        return tuple(a for a in self.cliques[i] if a in shared)

    def messages(self) -> list[tuple[int, int]]:
        """``(sender, receiver)`` pairs: the collect pass to the root, then the distribute pass."""
        up = [(i, self.parent[i]) for i in reversed(self.order[1:])]
        return up + [(self.parent[i], i) for i in self.order[1:]]

    def size(self) -> int:
        """Total number of cells over the maximal cliques (what the model stores)."""
        return sum(self.domain.size(c) for c in self.cliques)

    def find(self, attrs: Iterable[str]) -> int | None:
        """Index of the smallest clique holding every one of ``attrs``, or None."""
        want = set(attrs)
        best = [i for i, c in enumerate(self.cliques) if want <= set(c)]
        return min(best, key=lambda i: self.domain.size(self.cliques[i])) if best else None

    def embed(self, attrs: Iterable[str]) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
        """Where a table over ``attrs`` (axes in tree order) lives in the tree.

        Returns the smallest clique holding it, the table's broadcast shape inside that clique,
        and the clique's axes to sum out to get the table back.
        """
        attrs = set(attrs)
        home = self.find(attrs)
        if home is None:
            raise ConfigError(f"no clique of the junction tree holds {sorted(attrs)}")
        clique = self.cliques[home]
        shape = tuple(self.domain[a] if a in attrs else 1 for a in clique)
        return home, shape, tuple(k for k, a in enumerate(clique) if a not in attrs)


def _check_cliques(domain: Domain, cliques: Iterable[Iterable[str]]) -> list[Clique]:
    out = []
    for clique in cliques:
        clique = (clique,) if isinstance(clique, str) else tuple(clique)
        unknown = [a for a in clique if a not in domain]
        if unknown:
            raise ConfigError(
                f"clique {list(clique)} names attributes {unknown} that are not in the domain "
                f"{list(domain.attrs)}"
            )
        if clique:
            out.append(domain.canonical(clique))
    return out


def _elimination_cliques(domain: Domain, cliques: Sequence[Clique]) -> list[frozenset[str]]:
    """Cliques formed by greedily eliminating attributes from the interaction graph."""
    graph: dict[str, set[str]] = {a: set() for a in domain.attrs}
    for clique in cliques:
        for a in clique:
            graph[a].update(b for b in clique if b != a)
    rank = {a: i for i, a in enumerate(domain.attrs)}

    def cost(v: str) -> tuple[int, int, int]:
        nbrs = graph[v]
        weight = domain[v]
        for u in nbrs:
            weight *= domain[u]
        fill = sum(len(nbrs - graph[u]) - 1 for u in nbrs) // 2
        return weight, fill, rank[v]

    formed = []
    while graph:
        v = min(graph, key=cost)
        nbrs = graph.pop(v)
        formed.append(frozenset(nbrs | {v}))
        for u in nbrs:
            graph[u].discard(v)
            graph[u].update(nbrs - {u})
    return formed


def _maximal(sets: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    unique = list(dict.fromkeys(sets))
    return [s for s in unique if not any(s < t for t in unique)]


def _tree_rank(domain: Domain) -> dict[str, tuple[int, int]]:
    return {a: (size, i) for i, (a, size) in enumerate(zip(domain.attrs, domain.shape, strict=True))}


def _spanning_tree(sets: list[set[str]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Kruskal's maximum spanning tree on separator sizes, rooted at clique 0 (parents, order)."""
    n = len(sets)
    pairs = sorted(
        ((len(sets[i] & sets[j]), i, j) for i in range(n) for j in range(i + 1, n)),
        key=lambda e: (-e[0], e[1], e[2]),
    )
    root_of = list(range(n))

    def find(i: int) -> int:
        while root_of[i] != i:
            root_of[i] = root_of[root_of[i]]
            i = root_of[i]
        return i

    adjacent: list[list[int]] = [[] for _ in range(n)]
    for _, i, j in pairs:  # zero-size separators join otherwise separate components
        ri, rj = find(i), find(j)
        if ri != rj:
            root_of[ri] = rj
            adjacent[i].append(j)
            adjacent[j].append(i)
    parent = [-1] * n
    order, seen = [0], {0}
    for i in order:  # breadth-first; the list grows while we walk it
        for j in sorted(adjacent[i]):
            if j not in seen:
                seen.add(j)
                parent[j] = i
                order.append(j)
    return tuple(parent), tuple(order)


def model_size(domain: Domain, cliques: Iterable[Iterable[str]]) -> int:
    """Cells over the maximal cliques of the junction tree of ``cliques`` (the model's size).

    >>> dom = Domain(("a", "b", "c"), (10, 10, 10))
    >>> model_size(dom, [("a", "b"), ("b", "c")]), model_size(dom, [("a", "b"), ("b", "c"), ("a", "c")])
    (200, 1000)
    """
    return JunctionTree.build(domain, cliques).size()


def hypothetical_model_size(
    domain: Domain, cliques: Iterable[Iterable[str]], extra_clique: Iterable[str]
) -> int:
    """:func:`model_size` after adding ``extra_clique`` (AIM rejects candidates that grow it too much).

    >>> dom = Domain(("a", "b", "c"), (10, 10, 10))
    >>> hypothetical_model_size(dom, [("a", "b"), ("b", "c")], ("a", "c"))
    1000
    """
    return model_size(domain, [*cliques, tuple(extra_clique)])
