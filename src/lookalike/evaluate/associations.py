"""Pairwise association matrices of the real and synthetic tables, and their difference.

One measure per pair of column kinds, each over the rows where both values are present
(pairwise-complete):

- categorical–categorical (boolean counts as categorical): Cramér's V with Bergsma's bias
  correction (Bergsma 2013, "A bias-correction for Cramér's V and Tschuprow's T", Journal of
  the Korean Statistical Society 42(3)), in [0, 1];
- categorical–numeric: the correlation ratio η = sqrt(between-group / total sum of squares),
  in [0, 1];
- numeric–numeric (datetimes as numbers): Spearman's rank correlation ρ, in [-1, 1].

A pair whose association is undefined on a table (a constant column, fewer than two complete
rows) counts as 0: no association can be seen in it. The diagonal is 1. The association error
is the mean absolute difference (synthetic − real) over the pairs above the diagonal.

>>> import numpy as np
>>> x = np.array([0, 0, 1, 1] * 25)
>>> round(cramers_v(x, x), 3), round(cramers_v(x, np.array([0, 1] * 50)), 3)
(1.0, 0.0)
>>> round(correlation_ratio(x, x * 10.0), 3), round(spearman(np.arange(9.0), -np.arange(9.0)), 3)
(1.0, -1.0)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from lookalike.evaluate.result import Associations
from lookalike.evaluate.tables import ColumnData, Tables

__all__ = [
    "association",
    "association_matrix",
    "associations",
    "correlation_ratio",
    "cramers_v",
    "spearman",
]


def _compact(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Renumber non-negative codes 0..k-1 over the values that occur."""
    counts = np.bincount(codes)
    remap = np.cumsum(counts > 0) - 1
    return remap[codes], int((counts > 0).sum())


def cramers_v(x: np.ndarray, y: np.ndarray) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two code arrays; codes < 0 are missing."""
    ok = (x >= 0) & (y >= 0)
    n = int(ok.sum())
    if n < 2:
        return 0.0
    xi, r = _compact(x[ok])
    yi, k = _compact(y[ok])
    if r < 2 or k < 2:
        return 0.0
    table = np.bincount(xi * k + yi, minlength=r * k).reshape(r, k).astype(float)
    expected = np.outer(table.sum(1), table.sum(0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    return float(min(1.0, np.sqrt(phi2 / denom))) if denom > 0 else 0.0


def correlation_ratio(codes: np.ndarray, values: np.ndarray) -> float:
    """Correlation ratio η of numeric ``values`` on categorical ``codes`` (< 0 missing)."""
    ok = (codes >= 0) & ~np.isnan(values)
    if ok.sum() < 2:
        return 0.0
    c, v = codes[ok], values[ok]
    mean = v.mean()
    total = float(((v - mean) ** 2).sum())
    if total <= 0:
        return 0.0
    n_c = np.bincount(c)
    s_c = np.bincount(c, weights=v)
    has = n_c > 0
    between = float((n_c[has] * (s_c[has] / n_c[has] - mean) ** 2).sum())
    return float(np.sqrt(min(1.0, between / total)))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ (average ranks for ties) over the rows where neither is NaN."""
    ok = ~np.isnan(x) & ~np.isnan(y)
    if ok.sum() < 2:
        return 0.0
    rx, ry = rankdata(x[ok]), rankdata(y[ok])
    rx -= rx.mean()
    ry -= ry.mean()
    denom = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def association(a: ColumnData, b: ColumnData, side: str) -> tuple[float, str]:
    """The association of columns ``a`` and ``b`` on ``side``, and the measure's name.

    >>> from lookalike.schema import Kind
    >>> a = ColumnData("a", Kind.FLOAT, np.arange(5.0), np.arange(5.0))
    >>> b = ColumnData("b", Kind.INTEGER, np.arange(5.0) ** 2, -np.arange(5.0))
    >>> association(a, b, "real"), association(a, b, "synthetic")
    ((1.0, 'spearman'), (-1.0, 'spearman'))
    """
    x, y = getattr(a, side), getattr(b, side)
    if a.numeric and b.numeric:
        return spearman(x, y), "spearman"
    if not a.numeric and not b.numeric:
        return cramers_v(x, y), "cramers_v"
    if a.numeric:
        x, y = y, x
    return correlation_ratio(x, y), "eta"


def association_matrix(columns: tuple[ColumnData, ...] | list[ColumnData], side: str) -> np.ndarray:
    """Symmetric matrix of pairwise associations on ``side`` ("real" or "synthetic").

    >>> from lookalike.schema import Kind
    >>> a = ColumnData("a", Kind.FLOAT, np.arange(4.0), np.arange(4.0))
    >>> c = ColumnData("c", Kind.CATEGORICAL, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    >>> association_matrix([a, c], "real").round(3).tolist()
    [[1.0, 0.894], [0.894, 1.0]]
    """
    d = len(columns)
    out = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            out[i, j] = out[j, i] = association(columns[i], columns[j], side)[0]
    return out


def _measures(columns: tuple[ColumnData, ...]) -> tuple[tuple[str, ...], ...]:
    kinds = {(True, True): "spearman", (False, False): "cramers_v"}
    return tuple(
        tuple("" if a is b else kinds.get((a.numeric, b.numeric), "eta") for b in columns)
        for a in columns
    )


def associations(tables: Tables) -> Associations:
    """Association matrices of the real and synthetic tables and their mean absolute difference.

    >>> import pandas as pd
    >>> from lookalike.evaluate.tables import prepare
    >>> real = pd.DataFrame({"x": [1, 2, 3, 4, 5] * 4, "y": [1, 2, 3, 4, 5] * 4})
    >>> a = associations(prepare(real, real.assign(y=[5, 4, 3, 2, 1] * 4)))
    >>> a.difference[0][1], a.mean_abs_difference
    (-2.0, 2.0)
    """
    real = association_matrix(tables.columns, "real")
    synth = association_matrix(tables.columns, "synthetic")
    diff = synth - real
    upper = np.triu_indices(len(tables.columns), k=1)
    mad = float(np.abs(diff[upper]).mean()) if len(upper[0]) else float("nan")

    def rows(m: np.ndarray) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(float(v) for v in row) for row in m)

    return Associations(
        tuple(tables.names), rows(real), rows(synth), rows(diff), mad, _measures(tables.columns)
    )
