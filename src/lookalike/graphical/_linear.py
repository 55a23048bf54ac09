"""Fast repeated calibration in linear space for estimation (same structure, new potentials).

Estimation calibrates one junction tree hundreds of times with new clique potentials and reads
the same marginals each time. :class:`LinearCalibration` plans that work once:

* each clique's table is the product of its operands (model-clique potentials and the collect
  messages of its children). Small operands are first multiplied together while their union
  stays under half the clique, so the clique table is swept as few times as possible;
* after the distribute message arrives, every table wanted from the clique (its children's
  separators and the measured marginals it hosts) comes from one reduction lattice: sum out
  the attribute that the most remaining targets do not need, recurse on the smaller table.

Messages are rescaled to a maximum of 1; no logarithm or exponential touches a clique table.
When a message underflows (potentials spanning hundreds of nats) the call returns None and the
caller falls back to the log-space :class:`~lookalike.graphical.inference.BeliefPropagation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lookalike.graphical.junction_tree import JunctionTree

__all__ = ["LinearCalibration"]

_TINY = 1e-200  # smallest message mass trusted here


def _product_plan(sizes: Sequence[int], operands: list[frozenset[int]]):
    """Pairs of operands to multiply first (small unions), then the ones to sweep the clique."""
    full = math.prod(sizes)
    scopes = list(operands)
    alive = list(range(len(scopes)))
    merges = []
    while len(alive) > 1:
        cost, a, b = min(
            (math.prod(sizes[x] for x in scopes[a] | scopes[b]), a, b)
            for i, a in enumerate(alive)
            for b in alive[i + 1 :]
        )
        if 2 * cost > full:
            break
        merges.append((a, b))
        scopes.append(scopes[a] | scopes[b])
        alive = [x for x in alive if x not in (a, b)] + [len(scopes) - 1]
    return merges, alive


def _reduction_plan(sizes: Sequence[int], targets: list[frozenset[int]]):
    """Steps ``(source, axes to sum, result)`` giving every target from table 0 (all axes)."""
    scopes: list[frozenset[int]] = [frozenset(range(len(sizes)))]
    steps: list[tuple[int, tuple[int, ...]]] = []
    found = [0] * len(targets)

    def reduce(source: int, drop: frozenset[int]) -> int:
        kept = sorted(scopes[source])
        steps.append((source, tuple(k for k, axis in enumerate(kept) if axis in drop)))
        scopes.append(scopes[source] - drop)
        return len(scopes) - 1

    def plan(source: int, todo: list[int]) -> None:
        scope = scopes[source]
        rest = []
        for t in todo:
            if targets[t] == scope:
                found[t] = source
            else:
                rest.append(t)
        if len(rest) == 1:
            found[rest[0]] = reduce(source, scope - targets[rest[0]])
            return
        while rest:
            axis = max(scope, key=lambda a: (sum(a not in targets[t] for t in rest), sizes[a]))
            without = [t for t in rest if axis not in targets[t]]
            if len(without) <= 1:
                for t in rest:
                    found[t] = reduce(source, scope - targets[t])
                return
            plan(reduce(source, frozenset([axis])), without)
            rest = [t for t in rest if axis in targets[t]]

    plan(0, list(range(len(targets))))
    return steps, found


class LinearCalibration:
    """Marginals over ``reads`` of the model with potentials on ``factors``, for one tree.

    ``factors`` and ``reads`` are attribute tuples in tree order; calling the object with one
    non-negative table per factor (``exp`` of its log-potential, axes in the factor's order)
    returns one unnormalised table per read (axes in the read's order), or None on underflow.
    """

    def __init__(self, tree: JunctionTree, factors: Sequence[tuple[str, ...]], reads: Sequence[tuple[str, ...]]):
        self.tree = tree
        dom = tree.domain
        n = len(tree.cliques)
        self.shapes = [dom.project(c).shape for c in tree.cliques]
        self.factors: list[list[tuple[int, tuple[int, ...]]]] = [[] for _ in range(n)]
        for k, attrs in enumerate(factors):
            home, shape, _ = tree.embed(attrs)
            self.factors[home].append((k, shape))
        self.reads: list[list[int]] = [[] for _ in range(n)]
        read_scopes: list[frozenset[int]] = []
        for j, attrs in enumerate(reads):
            home, _, _ = tree.embed(attrs)
            self.reads[home].append(j)
            read_scopes.append(frozenset(tree.cliques[home].index(a) for a in attrs))
        self.up_axes, self.in_parent, self.in_child = [()] * n, [()] * n, [()] * n
        sep_scopes: list[frozenset[int]] = [frozenset()] * n
        for i in tree.order[1:]:
            sep = set(tree.separator(i))
            own, par = tree.cliques[i], tree.cliques[tree.parent[i]]
            self.up_axes[i] = tuple(k for k, a in enumerate(own) if a not in sep)
            self.in_parent[i] = tuple(dom[a] if a in sep else 1 for a in par)
            self.in_child[i] = tuple(dom[a] if a in sep else 1 for a in own)
            sep_scopes[i] = frozenset(k for k, a in enumerate(par) if a in sep)
        self.products, self.lattices = [], []
        for i, clique in enumerate(tree.cliques):
            scopes = [frozenset(clique.index(a) for a in factors[k]) for k, _ in self.factors[i]]
            scopes += [sep_scopes[k] for k in tree.children[i]]
            self.products.append(_product_plan(self.shapes[i], scopes))
            targets = [sep_scopes[k] for k in tree.children[i]] + [read_scopes[j] for j in self.reads[i]]
            self.lattices.append(_reduction_plan(self.shapes[i], targets))

    def __call__(self, tables: Sequence[np.ndarray]) -> list[np.ndarray] | None:
        tree = self.tree
        n = len(tree.cliques)
        partial: list[np.ndarray] = [None] * n  # type: ignore[list-item]
        up: list[np.ndarray] = [None] * n  # type: ignore[list-item]
        for i in reversed(tree.order):
            operands = [tables[k].reshape(shape) for k, shape in self.factors[i]]
            operands += [up[k] for k in tree.children[i]]
            belief = partial[i] = self._product(i, operands)
            if tree.parent[i] >= 0:
                mass = belief.sum(axis=self.up_axes[i])
                top = mass.max()
                if not _TINY < top < np.inf:
                    return None
                up[i] = (mass / top).reshape(self.in_parent[i])
        out: list[np.ndarray] = [None] * sum(len(r) for r in self.reads)  # type: ignore[list-item]
        down: list[np.ndarray | None] = [None] * n
        for i in tree.order:
            belief = partial[i]
            if down[i] is not None:
                belief *= down[i]
            steps, found = self.lattices[i]
            made = [belief]
            for source, axes in steps:
                made.append(made[source].sum(axis=axes) if axes else made[source])
            children = tree.children[i]
            for k, t in zip(children, found, strict=False):
                mass = made[t].reshape(self.in_child[k])
                sent = up[k].reshape(self.in_child[k])
                msg = np.divide(mass, sent, out=np.zeros_like(mass), where=sent > 0)
                top = msg.max()
                if not _TINY < top < np.inf:
                    return None
                down[k] = msg / top
            for j, t in zip(self.reads[i], found[len(children) :], strict=True):
                out[j] = made[t]
                if not _TINY < out[j].sum() < np.inf:
                    return None
            partial[i] = None  # type: ignore[call-overload]
        return out

    def _product(self, i: int, operands: list[np.ndarray]) -> np.ndarray:
        merges, alive = self.products[i]
        for a, b in merges:
            operands.append(operands[a] * operands[b])
        last = [operands[k] for k in alive]
        if len(alive) == 1 and alive[0] >= len(operands) - len(merges) and last[0].shape == self.shapes[i]:
            return last[0]  # a product made here already covers the whole clique
        table = np.empty(self.shapes[i])
        if not last:
            table.fill(1.0)
        elif len(last) == 1:
            np.copyto(table, last[0])
        else:
            np.multiply(last[0], last[1], out=table)
            for operand in last[2:]:
                table *= operand
        return table
