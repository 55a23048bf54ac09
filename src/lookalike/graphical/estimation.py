"""Estimate a graphical model from noisy marginals (Private-PGM; McKenna, Sheldon & Miklau 2019).

Given noisy counts ``y_i`` of marginals ``M_i`` with noise scale ``sigma_i``, :func:`estimate`
solves the convex problem

    minimise  L(mu) = sum_i ||M_i(mu) - y_i||^2 / sigma_i   over the marginal polytope
                                                           (scaled to ``total`` records)

by entropic mirror descent on the clique log-potentials (Algorithm 1 of "Graphical-model based
estimation and inference for differential privacy", ICML 2019): ``theta <- theta - alpha *
dL/dmu`` with ``mu`` from belief propagation on the junction tree, accelerated (Anderson, then
FISTA with restarts; see :mod:`lookalike.graphical._descent`). The scale of "small enough"
progress is the loss the noise alone gives in expectation, ``sum_i cells_i * sigma_i``: it
stops once 10 steps lowered the loss by less than ``tol`` times that. Post-processing only: it
spends no privacy budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lookalike.errors import ConfigError
from lookalike.graphical._descent import minimise
from lookalike.graphical._linear import LinearCalibration
from lookalike.graphical.domain import Domain
from lookalike.graphical.factor import _frozen, reorder
from lookalike.graphical.inference import BeliefPropagation
from lookalike.graphical.junction_tree import JunctionTree
from lookalike.graphical.model import GraphicalModel

__all__ = ["Measurement", "coarsen", "estimate", "estimate_total", "measurement_loss"]


@dataclass(frozen=True, eq=False)
class Measurement:
    """Noisy counts of the marginal over ``attrs`` (axes in that order) with noise std ``sigma``.

    ``groups``, when given, holds for each attribute either None (its cells as they are) or a
    non-decreasing array that maps each of its cells to a group of adjacent cells (0, 1, ...):
    the counts are then of the coarser marginal, whose cells are those groups (a partition of
    the rows, so the same sensitivity as the fine marginal, and far fewer cells to spread the
    noise over).

    >>> m = Measurement(("sex", "income"), np.array([[10.2, 3.1], [7.9, 5.5]]), sigma=2.0)
    >>> m.values.shape, m.sigma
    ((2, 2), 2.0)
    >>> age = Measurement(("age",), np.array([12.0, 30.0]), 1.0, groups=(np.array([0, 0, 1]),))
    >>> age.coarsen(np.array([5.0, 6.0, 29.0])).tolist(), age.spread(np.array([1.0, 2.0])).tolist()
    ([11.0, 29.0], [1.0, 1.0, 2.0])
    """

    attrs: tuple[str, ...]
    values: np.ndarray
    sigma: float
    groups: tuple[np.ndarray | None, ...] | None = None
    _starts: tuple[np.ndarray | None, ...] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        attrs = (self.attrs,) if isinstance(self.attrs, str) else tuple(self.attrs)
        if not attrs or len(set(attrs)) != len(attrs):
            raise ConfigError(f"a measurement needs distinct attributes, got {list(attrs)}")
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim != len(attrs) or not np.isfinite(values).all():
            raise ConfigError(
                f"measurement over {list(attrs)} must be a finite {len(attrs)}-d array of counts, "
                f"got shape {values.shape}"
            )
        sigma = float(self.sigma)
        if not (np.isfinite(sigma) and sigma > 0):
            raise ConfigError(f"measurement over {list(attrs)}: sigma must be > 0, got {self.sigma}")
        groups = None
        if self.groups is not None and any(g is not None for g in self.groups):
            if len(self.groups) != len(attrs):
                raise ConfigError(f"measurement over {list(attrs)}: one groups entry per attribute, "
                                  f"got {len(self.groups)}")
            groups = tuple(None if g is None else _frozen(np.asarray(g, dtype=np.int64)) for g in self.groups)
            for a, g, k in zip(attrs, groups, values.shape, strict=True):
                if g is not None and not (g.ndim == 1 and g.size and g[0] == 0 and g[-1] == k - 1
                                          and np.isin(np.diff(g), (0, 1)).all()):
                    raise ConfigError(f"measurement over {list(attrs)}: the groups of {a!r} must map "
                                      f"its cells in order onto 0..{k - 1} (adjacent cells together)")
        object.__setattr__(self, "attrs", attrs)
        object.__setattr__(self, "values", _frozen(values))
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "_starts", None if groups is None else tuple(
            None if g is None else np.flatnonzero(np.diff(g, prepend=-1)) for g in groups))

    def fine_shape(self, domain: Domain) -> tuple[int, ...]:
        """The shape of the marginal the counts are taken of, before grouping."""
        return domain.project(self.attrs).shape

    def coarsen(self, table: np.ndarray) -> np.ndarray:
        """A table over the fine cells of ``attrs`` summed into this measurement's cells."""
        for axis, starts in enumerate(self._starts or ()):
            if starts is not None:
                table = np.add.reduceat(table, starts, axis=axis)
        return table

    def spread(self, table: np.ndarray) -> np.ndarray:
        """A table over this measurement's cells repeated onto the fine cells (the transpose
        of :meth:`coarsen`)."""
        for axis, g in enumerate(self.groups or ()):
            if g is not None:
                table = np.take(table, g, axis=axis)
        return table

    def cell(self, attr: str, code: int) -> int | None:
        """The index of ``attr``'s fine cell ``code`` on its axis here, or None where that cell
        shares its group with others (it is not counted on its own)."""
        g = None if self.groups is None else self.groups[self.attrs.index(attr)]
        if g is None:
            return code
        return int(g[code]) if np.count_nonzero(g == g[code]) == 1 else None

    def reordered(self, target: Sequence[str]) -> Measurement:
        """The same measurement with its axes in the order ``target``."""
        if tuple(target) == self.attrs:
            return self
        order = [self.attrs.index(a) for a in target]
        groups = None if self.groups is None else tuple(self.groups[k] for k in order)
        return Measurement(tuple(target), np.transpose(self.values, order), self.sigma, groups)


def coarsen(table: np.ndarray, groups: Sequence[np.ndarray | None] | None) -> np.ndarray:
    """``table`` with the cells of each axis summed into its groups (see :class:`Measurement`;
    None: that axis as it is).

    >>> coarsen(np.arange(6.0).reshape(2, 3), (None, np.array([0, 1, 1]))).tolist()
    [[0.0, 3.0], [3.0, 9.0]]
    """
    for axis, g in enumerate(groups or ()):
        if g is not None:
            table = np.add.reduceat(table, np.flatnonzero(np.diff(g, prepend=-1)), axis=axis)
    return table


def estimate_total(measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted mean of the measurements' sums (at least 1).

    A measurement with ``k`` cells has a sum with variance ``k * sigma**2``.

    >>> round(estimate_total([Measurement(("a",), np.array([40.0, 62.0]), 1.0),
    ...                       Measurement(("b",), np.array([50.0, 48.0, 0.0]), 1.0)]), 6)
    100.4
    """
    if not measurements:
        return 1.0
    sums = np.array([m.values.sum() for m in measurements])
    weights = np.array([1.0 / (m.values.size * m.sigma**2) for m in measurements])
    return max(1.0, float(np.sum(weights * sums) / np.sum(weights)))


def measurement_loss(model: GraphicalModel, measurements: Iterable[Measurement]) -> float:
    """``sum_i ||M_i(mu) - y_i||^2 / sigma_i`` for the model's marginals ``mu`` (what is minimised)."""
    return float(
        sum(np.sum((m.coarsen(model.marginal(m.attrs)) - m.values) ** 2) / m.sigma for m in measurements)
    )


def _check(domain: Domain, measurements: Sequence[Measurement]) -> None:
    for k, m in enumerate(measurements):
        if not isinstance(m, Measurement):
            raise ConfigError(f"measurement {k} must be a Measurement, got {type(m).__name__}")
        unknown = [a for a in m.attrs if a not in domain]
        if unknown:
            raise ConfigError(
                f"measurement {k} over {list(m.attrs)} names attributes {unknown} that are not "
                f"in the domain {list(domain.attrs)}"
            )
        fine = m.fine_shape(domain)
        want = tuple(n if g is None else len(g) for n, g in zip(m.values.shape, m.groups, strict=True)
                     ) if m.groups is not None else m.values.shape
        if want != fine:
            raise ConfigError(
                f"measurement {k} over {list(m.attrs)} has shape {want}"
                + (" (before grouping)" if m.groups is not None else "") + f"; the domain says {fine}"
            )


class _Problem:
    """The loss, its gradient and the index arithmetic for one junction tree.

    The potentials live on the model cliques (the maximal measured attribute sets plus the
    extra cliques) as one flat vector; all attribute tuples here are in the tree's order.
    """

    def __init__(
        self, domain: Domain, measurements: Sequence[Measurement], cliques: list[tuple[str, ...]], total: float
    ) -> None:
        self.total = total
        found = [m.attrs for m in measurements] + cliques
        sets = list(dict.fromkeys(frozenset(c) for c in found))
        maximal = [s for s in sets if not any(s < t for t in sets)]
        self.tree = tree = JunctionTree.build(domain, maximal)
        self.cliques = [tree.canonical(s) for s in maximal]
        self.shapes = [domain.project(c).shape for c in self.cliques]
        self.sizes = np.array([domain.size(c) for c in self.cliques])
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.attrs = [tree.canonical(m.attrs) for m in measurements]
        self.measured = [m.reordered(a) for m, a in zip(measurements, self.attrs, strict=True)]
        self.weight = [1.0 / m.sigma for m in measurements]
        self.owner: list[tuple[int, tuple[int, ...]]] = []
        for attrs in self.attrs:
            k = next(k for k, c in enumerate(self.cliques) if set(attrs) <= set(c))
            self.owner.append((k, tuple(domain[a] if a in attrs else 1 for a in self.cliques[k])))
        self.noise = sum(m.values.size * m.sigma for m in measurements)
        self.fast = LinearCalibration(tree, self.cliques, self.attrs)
        self.exact = BeliefPropagation(tree)

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """The per-clique tables of a flat parameter vector (views, no copies)."""
        return [
            flat[self.offsets[k] : self.offsets[k + 1]].reshape(shape)
            for k, shape in enumerate(self.shapes)
        ]

    def _reads(self, phi: np.ndarray) -> list[np.ndarray]:
        """Unnormalised measured marginals: linear-space fast path, log space when it underflows."""
        starts = self.offsets[:-1]
        tops = np.maximum.reduceat(phi, starts)
        if np.max(tops - np.minimum.reduceat(phi, starts)) <= 600.0:
            reads = self.fast(self.views(np.exp(phi - np.repeat(tops, self.sizes))))
            if reads is not None:
                return reads
        logs = [np.zeros(shape) for shape in self.fast.shapes]
        for clique, values in zip(self.cliques, self.views(phi), strict=True):
            home, shape, _ = self.tree.embed(clique)
            logs[home] += values.reshape(shape)
        beliefs, _ = self.exact.calibrate(logs)
        reads = []
        for attrs in self.attrs:
            home, _, axes = self.tree.embed(attrs)
            reads.append(beliefs[home].sum(axis=axes))
        return reads

    def evaluate(self, phi: np.ndarray) -> tuple[list[np.ndarray], float]:
        """Measured marginals (counts, axes in tree order) of the model ``phi``, and the loss."""
        mus = [self.total * r / r.sum() for r in self._reads(phi)]
        loss = 0.0
        for mu, m, w in zip(mus, self.measured, self.weight, strict=True):
            diff = ((m.coarsen(mu) if m.groups is not None else mu) - m.values).ravel()
            loss += w * float(diff @ diff)
        return mus, loss

    def gradient(self, mus: list[np.ndarray]) -> np.ndarray:
        """``dL/dphi``: each measurement's ``dL/dmu`` added into its model clique (flat)."""
        flat = np.zeros(self.offsets[-1])
        views = self.views(flat)
        for mu, m, w, (k, shape) in zip(mus, self.measured, self.weight, self.owner, strict=True):
            if m.groups is None:
                views[k] += (2.0 * w * (mu - m.values)).reshape(shape)
            else:
                views[k] += m.spread(2.0 * w * (m.coarsen(mu) - m.values)).reshape(shape)
        return flat

    def decrease(self, mus: list[np.ndarray], new: list[np.ndarray]) -> float:
        """First-order predicted decrease ``<dL/dmu, mu - new>``."""
        total = 0.0
        for mu, nu, m, w in zip(mus, new, self.measured, self.weight, strict=True):
            if m.groups is None:
                total += 2.0 * w * float(np.vdot(mu - m.values, mu - nu))
            else:
                mu = m.coarsen(mu)
                total += 2.0 * w * float(np.vdot(mu - m.values, mu - m.coarsen(nu)))
        return total


def _initial(problem: _Problem, warm_start: GraphicalModel | None) -> np.ndarray:
    phi = np.zeros(problem.offsets[-1])
    if warm_start is None:
        return phi
    views = problem.views(phi)
    tree = problem.tree
    for clique, values in zip(warm_start.cliques, warm_start.potentials, strict=True):
        owner = next((k for k, c in enumerate(problem.cliques) if set(clique) <= set(c)), None)
        if owner is not None:  # a clique the new structure dropped cannot carry its potential
            ordered = tree.canonical(clique)
            shape = tuple(tree.domain[a] if a in clique else 1 for a in problem.cliques[owner])
            views[owner] += reorder(values, clique, ordered).reshape(shape)
    return phi


def estimate(
    domain: Domain,
    measurements: Sequence[Measurement],
    *,
    cliques: Iterable[Iterable[str]] = (),
    total: float | None = None,
    iters: int = 1000,
    warm_start: GraphicalModel | None = None,
    tol: float = 1e-3,
    on_step: Callable[[], None] | None = None,
) -> GraphicalModel:
    """Graphical model whose marginals best fit the noisy ``measurements`` (weighted L2).

    The model's cliques are the maximal measured attribute sets plus ``cliques``; ``total`` is
    the number of records (estimated from the measurements when None). ``warm_start`` seeds the
    potentials from an earlier model (each of its cliques inside one of the new ones; others
    are dropped). At most ``iters`` gradient steps; it stops sooner once 10 steps lowered the
    loss by less than ``tol`` times the noise's expected loss ``sum_i cells_i * sigma_i``
    (``tol=0``: run to ``iters`` or machine precision; ``on_step`` is called after each step, for
    progress). Post-processing of the measurements: no
    privacy cost.

    >>> dom = Domain(("a", "b", "c"), (2, 3, 2))
    >>> ab = Measurement(("a", "b"), np.array([[30.0, 10.0, 10.0], [5.0, 20.0, 25.0]]), 1.0)
    >>> bc = Measurement(("b", "c"), np.array([[20.0, 15.0], [15.0, 15.0], [5.0, 30.0]]), 1.0)
    >>> model = estimate(dom, [ab, bc])
    >>> round(model.total, 6), model.marginal(("a", "b")).round(2).tolist()
    (100.0, [[30.0, 10.0, 10.0], [5.0, 20.0, 25.0]])
    """
    measurements = list(measurements)
    _check(domain, measurements)
    if isinstance(iters, bool) or not isinstance(iters, (int, np.integer)) or iters < 0:
        raise ConfigError(f"iters must be a non-negative integer, got {iters!r}")
    if not tol >= 0:
        raise ConfigError(f"tol must be >= 0, got {tol!r}")
    if warm_start is not None and (
        not isinstance(warm_start, GraphicalModel) or warm_start.domain != domain
    ):
        raise ConfigError("warm_start must be a GraphicalModel over the same domain as the measurements")
    if total is None:
        total = estimate_total(measurements)
    elif not (np.isfinite(total) and total > 0):
        raise ConfigError(f"total (number of records) must be positive, got {total!r}")
    extra = [domain.canonical((c,) if isinstance(c, str) else c) for c in cliques]
    problem = _Problem(domain, measurements, [c for c in extra if c], float(total))
    phi = _initial(problem, warm_start)
    if measurements:
        phi = minimise(problem, phi, iters, tol * problem.noise, on_step)
    cliques_out = tuple(domain.canonical(c) for c in problem.cliques)
    potentials = tuple(
        np.ascontiguousarray(reorder(v, c, out))
        for v, c, out in zip(problem.views(phi), problem.cliques, cliques_out, strict=True)
    )
    return GraphicalModel(domain, cliques_out, potentials, float(total))
