"""Exact inference on a junction tree: sum-product calibration and any marginal.

:class:`BeliefPropagation` holds the index arithmetic of one tree and runs the two-pass
(collect, distribute) sum-product algorithm in log space (Koller & Friedman 2009, 10.2-10.3): the
collect pass sends Shafer-Shenoy messages to the root; the distribute pass computes each
clique's belief once and divides out (subtracts, in log space) the child's own message, as in
the HUGIN scheme, so every clique is exponentiated twice per calibration. Clique attributes are
in the tree order, so a separator table reads the same from both of its cliques.

:func:`marginal` answers a marginal over any attribute set from calibrated clique marginals:
inside one clique it sums out; otherwise it prunes the tree to the cliques that matter and
eliminates exactly along the tree, from the conditionals ``p(C | separator)`` and the root
marginal. :func:`variable_elimination` is the general (greedy-order) version for any factors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from lookalike.graphical.domain import Domain
from lookalike.graphical.factor import Factor
from lookalike.graphical.junction_tree import JunctionTree

__all__ = ["BeliefPropagation", "marginal", "variable_elimination"]


class BeliefPropagation:
    """Sum-product (and max-sum) message passing over one junction tree.

    Log-potentials are one array per maximal clique, axes in the clique's (domain) order.
    :meth:`calibrate` returns each clique's marginal probability table and ``log Z``.

    >>> dom = Domain(("a", "b", "c"), (2, 2, 2))
    >>> tree = JunctionTree.build(dom, [("a", "b"), ("b", "c")])
    >>> bp = BeliefPropagation(tree)
    >>> probs, log_z = bp.calibrate([np.zeros((2, 2)), np.log([[1.0, 3.0], [1.0, 1.0]])])
    >>> float(np.exp(log_z)), probs[0].sum(axis=0).round(3).tolist()    # p(b) from clique (a, b)
    (12.0, [0.667, 0.333])
    """

    def __init__(self, tree: JunctionTree) -> None:
        self.tree = tree
        dom = tree.domain
        self.shapes = [dom.project(c).shape for c in tree.cliques]
        n = len(tree.cliques)
        self.up_axes: list[tuple[int, ...]] = [()] * n
        self.down_axes: list[tuple[int, ...]] = [()] * n
        self.in_parent: list[tuple[int, ...]] = [()] * n
        self.in_child: list[tuple[int, ...]] = [()] * n
        for i in tree.order[1:]:
            sep = set(tree.separator(i))
            own, par = tree.cliques[i], tree.cliques[tree.parent[i]]
            self.up_axes[i] = tuple(k for k, a in enumerate(own) if a not in sep)
            self.down_axes[i] = tuple(k for k, a in enumerate(par) if a not in sep)
            self.in_parent[i] = tuple(dom[a] if a in sep else 1 for a in par)
            self.in_child[i] = tuple(dom[a] if a in sep else 1 for a in own)

    def calibrate(self, log_potentials: Sequence[np.ndarray]) -> tuple[list[np.ndarray], float]:
        """Clique marginals (probabilities, each summing to 1) and the log partition function."""
        tree = self.tree
        n = len(tree.cliques)
        partial: list[np.ndarray] = [None] * n  # type: ignore[list-item]
        up: list[np.ndarray] = [None] * n  # type: ignore[list-item]
        for i in reversed(tree.order):
            belief = log_potentials[i]
            for k in tree.children[i]:
                belief = belief + up[k]
            partial[i] = belief
            if tree.parent[i] >= 0:
                top = belief.max()
                mass = np.exp(belief - top).sum(axis=self.up_axes[i])
                with np.errstate(divide="ignore"):
                    up[i] = (np.log(mass) + top).reshape(self.in_parent[i])
        probs: list[np.ndarray] = [None] * n  # type: ignore[list-item]
        down: list[np.ndarray] = [None] * n  # type: ignore[list-item]
        log_z = 0.0
        for i in tree.order:
            belief = partial[i] if tree.parent[i] < 0 else partial[i] + down[i]
            top = belief.max()
            table = belief - top
            np.exp(table, out=table)
            mass = table.sum()
            if tree.parent[i] < 0:
                log_z = float(top + np.log(mass))
            for k in tree.children[i]:
                sep = table.sum(axis=self.down_axes[k]).reshape(self.in_child[k])
                with np.errstate(divide="ignore", invalid="ignore"):
                    msg = np.log(sep) + top - up[k].reshape(self.in_child[k])
                down[k] = np.where(sep > 0, msg, -np.inf)
            table /= mass
            probs[i] = table
        return probs, log_z


def variable_elimination(factors: Iterable[Factor], attrs: Sequence[str]) -> Factor:
    """Sum every attribute but ``attrs`` out of the product of ``factors`` (log space), exactly.

    Eliminates greedily, each time the attribute whose combined factor has the fewest cells.

    >>> dom = Domain(("a", "b", "c"), (2, 3, 2))
    >>> f, g = Factor.zeros(dom.project(("a", "b"))), Factor.zeros(dom.project(("b", "c")))
    >>> np.exp(variable_elimination([f, g], ("c", "a")).values).round(9).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    factors = list(factors)
    keep = set(attrs)
    domain = Domain((), ())
    for f in factors:
        domain = domain.merge(f.domain)
    todo = [a for a in domain.attrs if a not in keep]

    def cells(attr: str) -> int:
        scope = {b for f in factors if attr in f.domain for b in f.attrs}
        return domain.size(scope)

    while todo:
        attr = min(todo, key=cells)
        todo.remove(attr)
        joined = [f for f in factors if attr in f.domain]
        factors = [f for f in factors if attr not in f.domain]
        product = joined[0]
        for f in joined[1:]:
            product = product + f
        factors.append(product.sum_out([attr]))
    result = Factor.zeros(Domain((), ()))
    for f in factors:
        result = result + f
    return result.transpose(attrs)


def _pruned(tree: JunctionTree, target: set[str]) -> list[int]:
    """Cliques left after dropping leaves whose target attributes all lie in their neighbour."""
    alive = set(range(len(tree.cliques)))
    adjacent: list[set[int]] = [set() for _ in tree.cliques]
    for i in tree.order[1:]:
        adjacent[i].add(tree.parent[i])
        adjacent[tree.parent[i]].add(i)
    changed = True
    while changed and len(alive) > 1:
        changed = False
        for i in sorted(alive):
            nbrs = adjacent[i] & alive
            if len(nbrs) == 1 and target & set(tree.cliques[i]) <= set(tree.cliques[min(nbrs)]):
                alive.discard(i)
                changed = True
                if len(alive) == 1:
                    break
    return sorted(alive)


def _contract(
    a: np.ndarray, la: tuple[str, ...], b: np.ndarray, lb: tuple[str, ...], keep: set[str]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``sum over labels not in keep of a * b`` (one ``einsum``; it uses no BLAS threads)."""
    a, la = _sum_out(a, la, lambda x: x in keep or x in lb)
    b, lb = _sum_out(b, lb, lambda x: x in keep or x in la)
    ids = {x: k for k, x in enumerate(dict.fromkeys(la + lb))}
    labels = tuple(x for x in ids if x in keep)
    out = np.einsum(a, [ids[x] for x in la], b, [ids[x] for x in lb], [ids[x] for x in labels])
    return out, labels


def _sum_out(values: np.ndarray, labels: tuple[str, ...], kept) -> tuple[np.ndarray, tuple[str, ...]]:
    axes = tuple(k for k, x in enumerate(labels) if not kept(x))
    return (values.sum(axis=axes), tuple(x for x in labels if kept(x))) if axes else (values, labels)


def marginal(tree: JunctionTree, probs: Sequence[np.ndarray], attrs: Sequence[str]) -> np.ndarray:
    """Probability table over ``attrs`` (axes in that order) from calibrated clique marginals.

    Inside one clique: a sum. Otherwise exact elimination along the tree: drop the cliques
    that hold none of ``attrs`` beyond their neighbour's, root the rest at the clique where
    ``attrs`` have the most cells, and send messages to it that carry the wanted attributes
    found on their side. Each message is ``p(clique | separator)`` times the incoming
    messages, contracted pairwise with ``einsum``; its size is at most the separator's times the
    carried attributes'.
    """
    attrs = tuple(attrs)
    home = tree.find(attrs)
    if home is not None:
        clique = tree.cliques[home]
        table, labels = _sum_out(probs[home], clique, lambda x: x in attrs)
        return np.transpose(table, [labels.index(a) for a in attrs])
    wanted = set(attrs)
    alive = _pruned(tree, wanted)
    adjacent: dict[int, set[int]] = {i: set() for i in alive}
    for i in alive:
        if tree.parent[i] in adjacent:
            adjacent[i].add(tree.parent[i])
            adjacent[tree.parent[i]].add(i)
    # root where the wanted attributes it holds have the most cells: the rest get carried
    root = max(alive, key=lambda i: tree.domain.size(wanted & set(tree.cliques[i])))
    parent, order = {root: -1}, [root]
    for i in order:
        for j in sorted(adjacent[i] - set(parent)):
            parent[j] = i
            order.append(j)
    below: dict[int, set[str]] = {i: wanted & set(tree.cliques[i]) for i in order}
    messages: dict[int, list[tuple[np.ndarray, tuple[str, ...]]]] = {i: [] for i in order}
    for i in reversed(order):
        clique, table = tree.cliques[i], probs[i]
        if parent[i] >= 0:
            shared = set(tree.cliques[parent[i]])
            sep = table.sum(axis=tuple(k for k, a in enumerate(clique) if a not in shared), keepdims=True)
            table = np.divide(table, sep, out=np.zeros_like(table), where=sep > 0)  # p(C | S)
            keep = (shared & set(clique)) | below[i]
        else:
            keep = wanted
        labels = clique
        incoming = messages[i]
        for k, (values, msg_labels) in enumerate(incoming):
            later = {x for _, other in incoming[k + 1 :] for x in other}
            table, labels = _contract(table, labels, values, msg_labels, keep | later)
        table, labels = _sum_out(table, labels, lambda x, keep=keep: x in keep)
        if parent[i] >= 0:
            messages[parent[i]].append((table, labels))
            below[parent[i]] |= below[i]
    return np.transpose(table, [labels.index(a) for a in attrs])
