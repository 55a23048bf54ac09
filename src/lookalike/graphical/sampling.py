"""Exact sampling from a calibrated junction tree, vectorised over rows.

Rows are drawn clique by clique in the tree's order: the root clique's cells from its marginal,
then each other clique's new attributes from their distribution given the separator it shares
with its parent (the separator's values are already drawn). Given its separator, a clique's
new attributes are independent of everything drawn before, so this is exact (Koller & Friedman
2009, ch. 10 and 12: forward sampling, run on a clique tree).

Each conditional draw is an inverse-CDF lookup: the row's separator cell picks a CDF, a
uniform number ``u`` picks the cell. A guide table splits each CDF into equal bins; a ``u``
whose bin holds no step of the CDF is answered by the table, the few others (about one in
sixteen) by binary search. Rows are drawn in blocks that fit in cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lookalike.graphical.junction_tree import JunctionTree

__all__ = ["TreeSampler"]

_BLOCK = 1 << 16


def _largest_remainder(expected: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integer rows summing to ``totals`` closest to ``expected`` (rows of a 2-D array)."""
    counts = np.floor(expected).astype(np.int64)
    short = totals - counts.sum(axis=1)
    order = np.argsort(counts - expected, axis=1, kind="stable")  # largest remainder first
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(expected.shape[1])[None, :], axis=1)
    return counts + (rank < short[:, None])


def _count_at_most(flat: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(flat, x, side="right")`` for sorted ``x``: how many of ``flat`` are
    at most each ``x``. A sorted ``flat`` is counted the other way round (each of its values
    placed among the ``x``), in far fewer steps when ``x`` is the longer (a guide table: 2·10⁶
    edges over a few thousand cells); the counts are the same."""
    if len(flat) and not (np.diff(flat) >= 0).all():  # (binary search on it decides)
        return np.searchsorted(flat, x, side="right")
    first = np.searchsorted(x, flat, side="left")  # the first x at or above each value
    return np.cumsum(np.bincount(first, minlength=len(x) + 1)[: len(x)])


def _count_below(flat: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(flat, x, side="left")`` for sorted ``x``: how many of ``flat`` are
    below each ``x`` (counted as :func:`_count_at_most` counts)."""
    if len(flat) and not (np.diff(flat) >= 0).all():
        return np.searchsorted(flat, x, side="left")
    first = np.searchsorted(x, flat, side="right")  # the first x above each value
    return np.cumsum(np.bincount(first, minlength=len(x) + 1)[: len(x)])


class _Conditional:
    """``p(new attributes | separator)`` of one clique, ready for inverse-CDF draws."""

    def __init__(self, table: np.ndarray) -> None:
        mass = table.sum(axis=1, keepdims=True)
        safe = np.where(mass > 0, mass, 1.0)
        self.cond = np.where(mass > 0, table / safe, 1.0 / table.shape[1])  # unreachable rows: uniform
        n_rows, n_cols = self.cond.shape
        cum = np.cumsum(self.cond, axis=1)
        cum[:, -1] = 1.0
        self.bins = int(np.clip(2_000_000 // n_rows, 1, 16 * n_cols))
        offsets = np.arange(n_rows)[:, None]
        self.flat = (cum + offsets).ravel()  # row r's CDF lives in [r, r + 1]
        edges = np.arange(self.bins + 1) / self.bins
        self.below = _count_at_most(self.flat, (offsets + edges[:-1]).ravel())
        self.below -= np.repeat(np.arange(n_rows) * n_cols, self.bins)
        upper = _count_below(self.flat, (offsets + edges[1:]).ravel())
        self.inside = upper - np.repeat(np.arange(n_rows) * n_cols, self.bins) != self.below
        # one lookup answers both: the cell below the bin, or -1 - it where a step of the CDF
        # lies inside the bin (then binary search); 32 bits where the cells fit (half the cache)
        small = n_cols < 2**31 - 1 and n_rows * self.bins < 2**31 - 1
        self.guide: np.ndarray = np.where(self.inside, -1 - self.below, self.below).astype(
            np.int32 if small else np.intp)

    def draw(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One cell per entry of ``rows`` (separator cells), drawn from its conditional
        (integers: 32 bits where the cells fit)."""
        n_rows, n_cols = self.cond.shape
        u = rng.random(len(rows))
        cell = (u * self.bins).astype(np.intp)
        np.minimum(cell, self.bins - 1, out=cell)
        if n_rows > 1:  # (one row: every separator cell is 0)
            cell += rows * self.bins
        drawn = self.guide.take(cell)
        hard = np.flatnonzero(drawn < 0)
        if hard.size:
            r = rows[hard].astype(np.intp)
            pos = np.searchsorted(self.flat, r + u[hard], side="right")
            drawn[hard] = np.minimum(pos - r * n_cols, n_cols - 1)
        return drawn

    def draw_exact(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Like :meth:`draw`, but each separator cell's draws are its expected counts, rounded."""
        n_rows, n_cols = self.cond.shape
        shuffled = rng.permutation(len(rows))
        order = shuffled[np.argsort(rows[shuffled], kind="stable")]
        sizes = np.bincount(rows, minlength=n_rows)
        counts = _largest_remainder(sizes[:, None] * self.cond, sizes)
        out = np.empty(len(rows), dtype=np.intp)
        out[order] = np.repeat(np.tile(np.arange(n_cols), n_rows), counts.ravel())
        return out


class TreeSampler:
    """Draws rows of codes (columns in domain order) from calibrated clique marginals.

    >>> from lookalike.graphical.domain import Domain
    >>> dom = Domain(("a", "b"), (2, 2))
    >>> tree = JunctionTree.build(dom, [("a", "b")])
    >>> rows = TreeSampler(tree, [np.array([[0.5, 0.0], [0.0, 0.5]])]).sample(6, np.random.default_rng(0))
    >>> bool((rows[:, 0] == rows[:, 1]).all())
    True
    """

    def __init__(self, tree: JunctionTree, probs: Sequence[np.ndarray]) -> None:
        dom = tree.domain
        self.width = len(dom)
        self.steps = []
        for i in tree.order:
            clique, sep = tree.cliques[i], tree.separator(i)
            new = tuple(a for a in clique if a not in sep)
            table = np.transpose(probs[i], dom.project(clique).axes(sep + new))
            table = table.reshape(dom.size(sep), dom.size(new))
            self.steps.append(
                (dom.axes(sep), dom.project(sep).shape, dom.axes(new), dom.project(new).shape, _Conditional(table))
            )

    def sample(self, n: int, rng: np.random.Generator, counts_exact: bool = False) -> np.ndarray:
        """``n`` rows (int64 codes, each column contiguous in memory: Fortran order);
        ``counts_exact`` rounds each draw to its expected counts."""
        codes = np.empty((n, self.width), dtype=np.int64, order="F")
        block = max(n, 1) if counts_exact else _BLOCK
        for start in range(0, n, block):
            stop = min(n, start + block)
            columns: dict[int, np.ndarray] = {}
            for sep_axes, sep_shape, new_axes, new_shape, conditional in self.steps:
                if len(sep_axes) == 1:  # (one attribute: its codes are the separator's cells)
                    rows = columns[sep_axes[0]]
                elif sep_axes:  # row-major cell, by Horner's rule (np.ravel_multi_index's, faster)
                    rows = columns[sep_axes[0]].astype(np.intp)
                    for j, size in zip(sep_axes[1:], sep_shape[1:], strict=True):
                        rows *= size
                        rows += columns[j]
                else:
                    rows = np.zeros(stop - start, dtype=np.intp)
                drawn = conditional.draw_exact(rows, rng) if counts_exact else conditional.draw(rows, rng)
                if len(new_axes) == 1:
                    columns[new_axes[0]] = drawn
                    continue
                for j, col in zip(new_axes, np.unravel_index(drawn, new_shape), strict=True):
                    columns[j] = col
            for j, col in columns.items():
                codes[start:stop, j] = col
        return codes
