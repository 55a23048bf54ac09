"""The DP measurements behind one query's answers, computed inside DuckDB (aggregates only).

A query's zCDP budget ρ is split equally among its *measurements*:

* ``keys``: the groups of a GROUP BY whose keys were not declared, released by OpenDP's
  Gaussian threshold mechanism (noisy counts of every group; only groups above a threshold,
  set by δ, are released). Its noisy counts also answer ``COUNT(*)``;
* ``rows``: ``COUNT(*)`` per group (discrete Gaussian, L2 sensitivity 1: a row is in one group);
* ``count x``: the rows where ``x`` is not missing;
* ``bounds x``: the range of ``x``, found by DP domain discovery
  (:func:`lookalike.privacy.discovery.discover_domain`, a noisy round-number tree), where no
  bounds were declared;
* ``cells x``: for ``x`` with discovered bounds, the counts below, inside and above them (one
  row is in one cell: sensitivity 1); it answers ``COUNT(x)`` and says how many values the
  bounds clipped;
* ``sum x``: the sum of ``x`` clipped to its bounds [L, U] (Gaussian, sensitivity max(|L|, |U|));
* ``centred x``: the same sum of ``x`` − (L + U)/2, for averages (sensitivity (U − L)/2);
* ``tree x``: a noisy dyadic tree of counts over 1,024 equal cells of [L, U] (unit cells for
  integers spanning fewer), L2 sensitivity √levels; it answers every quantile of ``x``
  (:func:`tree_quantile`: consistent counts, made monotone, and an interval that holds the
  true quantile at least 95% of the time).

``AVG(x)`` is the midpoint m of [L, U] plus ``centred x``, the clipped sum of x − m
(sensitivity (U − L)/2, as Tumult Analytics does), over ``count x`` (or the cells); its
interval by the delta method.
Intervals are 95% and normal: exact for the sums' Gaussian noise, close for discrete Gaussian
counts; the quantile interval keeps every cell edge whose consistent cumulative count is not
clearly on one side of q·n, one-sided tests Bonferroni-corrected over the edges (so at least
95%, and wider than needed on wide trees). Where discovered bounds clipped values (a cell's noisy count above
1.96 σ), the interval is open on that side: the clipped sum cannot say how far out they lay.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lookalike.privacy.accountant import Release
from lookalike.privacy.mechanisms import gaussian_counts, gaussian_values
from lookalike.query._sql import ParsedQuery

__all__ = ["Measured", "QueryPlan", "measure", "plan_query"]

Z95 = 1.959964
TREE_CELLS = 1024


@dataclass(frozen=True)
class QueryPlan:
    """What one query measures, with which declared facts: its measurements in order, the
    declared keys (None: discovered) and each argument's declared bounds (None: discovered)."""

    query: ParsedQuery
    measurements: tuple[tuple[str, str | None], ...]
    keys: dict[str, list[Any]] | None
    bounds: dict[str, tuple[float, float] | None]

    @property
    def thresholded(self) -> bool:
        return any(m[0] == "keys" for m in self.measurements)


def plan_query(query: ParsedQuery, *, keys: Mapping[str, Sequence[Any]],
               bounds: Mapping[str, tuple[float, float]]) -> QueryPlan:
    """The measurements ``query`` needs, given the declared ``keys`` (by output name) and
    ``bounds`` (by argument SQL)."""
    declared = None
    if query.keys:
        if all(k.name in keys for k in query.keys):
            declared = {k.name: list(keys[k.name]) for k in query.keys}
    out: list[tuple[str, str | None]] = [("keys", None)] if query.keys and declared is None else []
    need_bounds = {str(a.arg) for a in query.aggregates if a.kind in ("sum", "avg", "quantile")}
    arg_bounds = {arg: bounds.get(arg) for arg in sorted(need_bounds)}

    def add(m: tuple[str, str | None]) -> None:
        if m not in out:
            out.append(m)

    for agg in query.aggregates:
        x = agg.arg
        estimated = x in arg_bounds and arg_bounds[x] is None
        if estimated:
            add(("bounds", x))
        if agg.kind == "count" and x is None:
            if declared is not None or not query.keys:
                add(("rows", None))
        elif agg.kind == "count":
            add(("cells", x) if estimated else ("count", x))
        elif agg.kind == "sum":
            add(("sum", x))
            if estimated:
                add(("cells", x))
        elif agg.kind == "avg":  # centred on the bounds' midpoint: sensitivity (U - L) / 2
            add(("centred", x))
            add(("cells", x) if estimated else ("count", x))
        else:
            add(("tree", x))
    # COUNT(x) and AVG(x) on an argument with discovered bounds share its cells
    out = [m for m in out if not (m[0] == "count" and ("cells", m[1]) in out)]
    return QueryPlan(query, tuple(out), declared, arg_bounds)


@dataclass
class Measured:
    """The noisy results of one query: per measurement, per released group."""

    groups: list[tuple[Any, ...]] = field(default_factory=list)
    values: dict[tuple[str, str | None], np.ndarray] = field(default_factory=dict)
    sigma: dict[tuple[str, str | None], float] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    integer: dict[str, bool] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    threshold: int | None = None


Fetch = Callable[[str], list[tuple]]
"""Runs one aggregate statement (DuckDB SQL; an engine translates it) and returns its rows."""


def measure(plan: QueryPlan, *, fetch: Fetch, source: str, rho: float, delta: float,
            arg_types: Mapping[str, str], bounds_engine: Callable[[str, str], Any],
            sum_function: str = "fsum") -> Measured:
    """Run ``plan``'s measurements on ``source`` (a relation SQL) through ``fetch`` (every
    statement an aggregate), each with ``rho / len(measurements)``; ``delta`` for the key
    threshold. ``arg_types`` gives each argument's class (int or float);
    ``bounds_engine(arg, kind)`` a marginal engine over the argument for discovery;
    ``sum_function`` the engine's sum of doubles (DuckDB's compensated ``fsum``)."""
    q = plan.query
    out = Measured()
    n_meas = len(plan.measurements)
    rho_m = rho / n_meas
    where = [f"({q.where})"] if q.where else []
    key_sql = [k.sql for k in q.keys]
    if plan.keys is not None:
        where += [f"({k.sql}) IN ({', '.join(_literal(v) for v in plan.keys[k.name])})"
                  for k in q.keys]
    base = f"(SELECT * FROM {source}{' WHERE ' + ' AND '.join(where) if where else ''}) AS r"

    # 1. groups: declared (every combination), discovered (thresholded), or the one group
    if plan.keys is not None:
        import itertools

        out.groups = [tuple(g) for g in itertools.product(*(plan.keys[k.name] for k in q.keys))]
    elif q.keys:
        from lookalike.privacy.discovery import threshold_release

        rows = fetch(f"SELECT {', '.join(key_sql)}, count(*) FROM {base} GROUP BY ALL")
        typed = {_key_text(r[:-1]): tuple(r[:-1]) for r in rows}
        exact_counts = {_key_text(r[:-1]): int(r[-1]) for r in rows}
        sigma = 1.0 / math.sqrt(2 * rho_m)
        released, threshold, rho_used, delta_used = threshold_release(exact_counts, sigma, delta)
        out.threshold = threshold
        kept = sorted(released, key=lambda k: json.loads(k))
        out.groups = [typed[k] for k in kept]
        out.values[("keys", None)] = np.array([released[k] for k in kept], dtype=float)
        out.sigma[("keys", None)] = sigma
        out.releases.append(Release("groups", "gaussian_threshold", rho_used,
                                    f"sigma={sigma:.4g}, threshold={threshold}", delta=delta_used))
        out.notes.append(f"groups found under DP: those whose noisy count reached {threshold} "
                         "(rarer groups are not released)")
    else:
        out.groups = [()]
    index = {_key_text(g): i for i, g in enumerate(out.groups)}

    # 2. bounds of arguments that have none declared
    for kind, x in plan.measurements:
        if kind != "bounds":
            continue
        assert x is not None
        out.integer[x] = arg_types[x] == "int"
        found = _discover_bounds(bounds_engine(x, arg_types[x]), rho_m)
        out.bounds[x] = found[0]
        out.releases += found[1]
    for x, declared in plan.bounds.items():
        out.integer.setdefault(x, arg_types.get(str(x)) == "int")
        if declared is not None:
            out.bounds[x] = (float(declared[0]), float(declared[1]))

    # 3. counts and clipped sums of every group in one pass
    aggs: list[tuple[tuple[str, str | None], list[str]]] = []
    for m in plan.measurements:
        kind, x = m
        if kind == "rows":
            aggs.append((m, ["count(*)"]))
        elif kind == "count":
            aggs.append((m, [f"count({x})"]))
        elif kind in ("cells", "sum", "centred") and out.bounds.get(str(x)) is not None:
            lo, hi = out.bounds[str(x)]  # type: ignore[misc]
            if kind == "cells":
                aggs.append((m, [f"count(*) FILTER (WHERE ({x}) < {lo!r})",
                                 f"count(*) FILTER (WHERE ({x}) BETWEEN {lo!r} AND {hi!r})",
                                 f"count(*) FILTER (WHERE ({x}) > {hi!r})"]))
            else:  # GREATEST and LEAST skip NULL: a missing value must not count as a bound
                shift = (lo + hi) / 2 if kind == "centred" else 0.0
                aggs.append((m, [f"coalesce({sum_function}(greatest({lo!r}, least({hi!r}, "
                                 f"CAST(({x}) AS DOUBLE))) - {shift!r}) "
                                 f"FILTER (WHERE ({x}) IS NOT NULL), 0)"]))
    if aggs:
        cols = [a for _, parts in aggs for a in parts]
        group = " GROUP BY ALL" if q.keys else ""
        rows = fetch(f"SELECT {', '.join(key_sql + cols)} FROM {base}{group}")
        exact = np.zeros((len(out.groups), len(cols)))
        for r in rows:
            i = index.get(_key_text(r[:len(key_sql)]))
            if i is not None:
                exact[i] = [float(v or 0) for v in r[len(key_sql):]]
        j = 0
        for m, parts in aggs:
            block = exact[:, j:j + len(parts)]
            j += len(parts)
            if m[0] in ("sum", "centred"):
                lo, hi = out.bounds[m[1]]  # type: ignore[index, misc]
                sens = max(abs(lo), abs(hi)) if m[0] == "sum" else (hi - lo) / 2
                if sens == 0:
                    out.values[m], out.sigma[m] = np.zeros(len(out.groups)), 0.0
                    continue
                sigma = sens / math.sqrt(2 * rho_m)
                noisy = gaussian_values(block[:, 0], sigma=sigma, sensitivity=sens)
                out.values[m], out.sigma[m] = noisy.values, sigma
                what = "sum" if m[0] == "sum" else "centred sum (minus the bounds' midpoint)"
                out.releases.append(Release(f"{what} of {m[1]}", "gaussian", noisy.rho,
                                            f"sigma={sigma:.4g}, bounds=[{lo:g}, {hi:g}]"))
            else:
                sigma = 1.0 / math.sqrt(2 * rho_m)
                noisy = gaussian_counts(block.astype(np.int64), sigma=sigma)
                out.values[m] = noisy.values if len(parts) > 1 else noisy.values[:, 0]
                out.sigma[m] = sigma
                what = {"rows": "rows", "count": f"rows with {m[1]}",
                        "cells": f"rows below, inside and above the bounds of {m[1]}"}[m[0]]
                out.releases.append(Release(f"count of {what}", "discrete_gaussian", noisy.rho,
                                            f"sigma={sigma:.4g}"))

    # 4. quantile trees
    for m in plan.measurements:
        if m[0] != "tree" or out.bounds.get(str(m[1])) is None:
            continue
        x = m[1]
        assert x is not None
        lo, hi = out.bounds[x]  # type: ignore[misc]
        cells, width, start = _grid(lo, hi, out.integer[x])
        cell = (f"least({cells - 1}, greatest(0, CAST(floor((CAST(({x}) AS DOUBLE) - {start!r}) "
                f"/ {width!r}) AS BIGINT)))")
        rows = fetch(f"SELECT {', '.join(key_sql + [cell])}, count(*) FROM {base} "
                     f"WHERE ({x}) IS NOT NULL GROUP BY ALL")
        hist = np.zeros((len(out.groups), cells), dtype=np.int64)
        for r in rows:
            i = index.get(_key_text(r[:len(key_sql)]))
            if i is not None:
                hist[i, int(r[-2])] += int(r[-1])
        levels = int(math.log2(cells)) + 1
        tree = np.concatenate([_level_sums(hist, lv) for lv in range(levels)], axis=1)
        sigma = math.sqrt(levels / (2 * rho_m))
        noisy = gaussian_counts(tree, sigma=sigma)
        out.values[m], out.sigma[m] = noisy.values, sigma
        out.releases.append(Release(f"quantile tree of {x}", "discrete_gaussian",
                                    noisy.rho * levels,
                                    f"sigma={sigma:.4g}, {cells} cells of [{lo:g}, {hi:g}], "
                                    f"{levels} levels"))
    return out


def _literal(value: Any) -> str:
    """A declared key as an SQL literal (sqlglot quotes it)."""
    from sqlglot import exp

    return exp.convert(value).sql("duckdb")


def _key_text(values: Sequence[Any]) -> str:
    """A group's key as text (OpenDP's threshold mechanism keys strings; JSON keeps order); a
    whole float as its integer, so that a declared ``1`` matches a DOUBLE expression's 1.0."""
    return json.dumps([None if v is None else str(int(v)) if isinstance(v, float)
                       and v.is_integer() else str(v) for v in values])


def _discover_bounds(engine: Any, rho: float) -> tuple[tuple[float, float] | None, list[Release]]:
    """[L, U] of the engine's one column ``v`` by DP domain discovery costing ``rho``."""
    from lookalike.privacy.discovery import discover_domain

    try:
        found = discover_domain(engine, engine.schema, rho=rho, n_bins=32)
    finally:
        engine.close()
    col = found.domains[0].column
    bounds = col.numeric_bounds() if col.bounds is not None else None
    return bounds, list(found.releases)


def _grid(lo: float, hi: float, integer: bool) -> tuple[int, float, float]:
    """(cells, width, first edge) of a quantile tree over [lo, hi]: unit cells centred on the
    integers when an integer range has fewer than ``TREE_CELLS`` values (a power of two)."""
    if integer and hi - lo + 1 <= TREE_CELLS:
        cells = 1 << max(0, math.ceil(math.log2(max(hi - lo + 1, 1))))
        return max(cells, 1), 1.0, lo - 0.5
    return TREE_CELLS, max(hi - lo, 1e-12) / TREE_CELLS, lo


def _level_sums(hist: np.ndarray, level: int) -> np.ndarray:
    """Counts of the nodes ``level`` steps below the root: blocks of cells/2**level."""
    cells = hist.shape[1]
    size = cells >> level
    return hist.reshape(hist.shape[0], cells // size, size).sum(axis=2)


def consistent_leaves(noisy: np.ndarray, cells: int) -> np.ndarray:
    """The least-squares consistent cell counts of one noisy dyadic tree (levels root first,
    concatenated), by the two passes of Hay et al. (2010, "Boosting the accuracy of
    differentially private histograms through consistency"): every node's estimate is then
    the sum of its children's, and each range count has the least variance a linear
    unbiased estimate from the tree can have. Post-processing: no privacy cost."""
    levels = int(math.log2(cells)) + 1
    starts = np.cumsum([0] + [1 << lv for lv in range(levels)])
    raw = [np.asarray(noisy[starts[lv]:starts[lv + 1]], dtype=float) for lv in range(levels)]
    z = list(raw)  # bottom-up: a node's own count weighed against its children's sum
    for lv in range(levels - 2, -1, -1):
        height = levels - lv  # leaves have height 1
        own = (2.0**height - 2.0 ** (height - 1)) / (2.0**height - 1)
        z[lv] = own * raw[lv] + (1 - own) * z[lv + 1].reshape(-1, 2).sum(axis=1)
    fitted = z[0]  # top-down: share each parent's surplus equally between its two children
    for lv in range(1, levels):
        surplus = (fitted - z[lv].reshape(-1, 2).sum(axis=1)) / 2
        fitted = z[lv] + np.repeat(surplus, 2)
    return fitted


@functools.lru_cache(maxsize=16)
def _tree_moments(cells: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Variances, in units of σ², of the consistent counts of cells [0, e) for e = 0..cells,
    their covariances with the consistent total, and the total's variance. The consistent
    leaves are the least-squares fit (Mᵀ M)⁻¹ Mᵀ y of the tree's incidence matrix M, so their
    covariance is σ² (Mᵀ M)⁻¹, where (Mᵀ M)[i, j] counts the nodes above both cells i and j."""
    levels = int(math.log2(cells)) + 1
    idx = np.arange(cells)
    shared = levels - np.frexp((idx[:, None] ^ idx[None, :]).astype(float))[1]
    inverse = np.linalg.inv(shared.astype(float))
    rows = np.cumsum(inverse, axis=0)  # row e-1: the sum of the first e rows
    var_prefix = np.concatenate([[0.0], np.diagonal(np.cumsum(rows, axis=1))])
    cov_total = np.concatenate([[0.0], rows.sum(axis=1)])
    return var_prefix, cov_total, float(inverse.sum())


def tree_quantile(noisy: np.ndarray, cells: int, sigma: float, level: float
                  ) -> tuple[float, float, float, float]:
    """The ``level`` quantile of one group's noisy tree, in cell units (0 = the first edge,
    ``cells`` = the last): (estimate, low edge, high edge of its 95% interval, noisy total).

    The estimate is where the consistent cumulative counts, made monotone by isotonic
    regression, cross ``level`` × the total: reading the first crossing of the raw noisy
    cumulative counts instead is biased towards the low end whenever the noise is large
    against the group's rows (a noisy walk crosses a threshold early). The interval keeps
    every edge whose consistent cumulative count is not clearly on one side of ``level`` ×
    total, with Bonferroni's correction over the ``cells + 1`` edges (each one-sided test at
    2.5 % / (cells + 1)): the true quantile is outside it only if some edge's noise passes
    its bound, which happens with probability at most 5 %. All of it post-processing."""
    from scipy.stats import norm
    from sklearn.isotonic import isotonic_regression

    leaves = consistent_leaves(noisy, cells)
    prefix = np.concatenate([[0.0], np.cumsum(leaves)])
    total = float(prefix[-1])
    var_prefix, cov_total, var_total = _tree_moments(cells)
    target = level * total
    monotone = prefix.copy()
    if cells > 1:
        monotone[1:-1] = isotonic_regression(prefix[1:-1])
    monotone = np.maximum.accumulate(np.clip(monotone, 0.0, max(total, 0.0)))
    crossed = np.flatnonzero(monotone >= target)
    k = min(max(int(crossed[0]) if crossed.size else cells, 1), cells)
    before, after = monotone[k - 1], monotone[k]
    frac = 0.5 if after <= before else float(np.clip((target - before) / (after - before), 0, 1))
    estimate = k - 1 + frac
    diff = prefix - target
    sd = sigma * np.sqrt(np.maximum(var_prefix - 2 * level * cov_total + level**2 * var_total,
                                    0.0))
    bound = float(norm.isf(0.025 / (cells + 1)))
    below = np.flatnonzero(diff < -bound * sd)  # edges the quantile lies above
    above = np.flatnonzero(diff > bound * sd)  # edges it lies below
    low = float(below.max()) if below.size else 0.0
    high = float(above.min()) if above.size else float(cells)
    if low >= high:  # the bounds contradict each other (probability under 5 %)
        low, high = float(math.floor(estimate)), float(math.ceil(estimate))
    return estimate, min(low, estimate), max(high, estimate), total
