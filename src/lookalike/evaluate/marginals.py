"""k-way marginal distances between two tables on one shared discretisation.

The binning is the project's benchmark protocol: numeric and datetime columns cut into
``n_bins`` quantile bins of the *real* table, a value holding at least one bin's share of the
rows (the 0 of capital-gain) in a bin of its own; categories as they are; missing values a
category of their own. Total-variation distance (TVD) of a marginal is half the L1 distance
between the two normalised contingency tables: 0 for identical, 1 for disjoint.

>>> import pandas as pd
>>> real = pd.DataFrame({"a": list("xxyy") * 5, "b": list("xxyy") * 5})
>>> shuffled = pd.DataFrame({"a": list("xxyy") * 5, "b": list("xyxy") * 5})
>>> coded = discretise_pair(real, shuffled)
>>> round(mean_tvd(coded, 1), 3), round(mean_tvd(coded, 2), 3)
(0.0, 0.5)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.transform.discretize import quantile_bins

__all__ = ["CodedPair", "discretise_pair", "marginal_tvd", "mean_tvd", "marginal_tvds"]


@dataclass(frozen=True, eq=False)
class CodedPair:
    """Two tables coded on the same bins: ``real`` and ``synth`` are int arrays, ``sizes`` per column."""

    names: tuple[str, ...]
    real: np.ndarray
    synth: np.ndarray
    sizes: tuple[int, ...]


def _is_numeric(s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    ) or pd.api.types.is_datetime64_any_dtype(s.dtype)


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        v = s.astype("datetime64[ns]")
        out = v.astype("int64").to_numpy(dtype=float)
        out[v.isna().to_numpy()] = np.nan
        return out
    return s.to_numpy(dtype=float, na_value=np.nan)


def _labels(s: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in s.tolist()]


def discretise_pair(real: pd.DataFrame, synth: pd.DataFrame, n_bins: int = 20) -> CodedPair:
    """Code both tables on bins and categories learned from ``real``.

    Synthetic categories never seen in the real table share one extra "unseen" code.
    """
    names = tuple(real.columns)
    cr, cs, sizes = [], [], []
    for name in names:
        r, s = real[name], synth[name]
        if _is_numeric(r) and _is_numeric(s) or (_is_numeric(r) and s.isna().all()):
            rv, sv = _as_float(r), _as_float(s)
            if np.isnan(rv).all():
                a, b, k = np.zeros(len(rv), int), np.where(np.isnan(sv), 0, 1), 2
            else:
                bins = quantile_bins(rv, n_bins, with_shape=False)
                a, b = bins.assign(rv), bins.assign(sv)
                k = bins.n_bins + 1
                a[a < 0], b[b < 0] = k - 1, k - 1
        else:
            rt, st = _labels(r), _labels(s)
            cats = sorted({v for v in rt if v is not None})
            lookup = {c: i for i, c in enumerate(cats)}
            missing, unseen = len(cats), len(cats) + 1
            a = np.array([missing if v is None else lookup[v] for v in rt], dtype=np.int64)
            b = np.array([missing if v is None else lookup.get(v, unseen) for v in st], dtype=np.int64)
            k = len(cats) + 2
        cr.append(a)
        cs.append(b)
        sizes.append(int(k))
    return CodedPair(
        names,
        np.column_stack(cr).astype(np.int64),
        np.column_stack(cs).astype(np.int64),
        tuple(sizes),
    )


def marginal_tvd(pair: CodedPair, columns: tuple[int, ...]) -> float:
    """TVD between the real and synthetic marginals over ``columns`` (indices)."""
    dims = tuple(pair.sizes[c] for c in columns)
    size = int(np.prod(dims))
    ia = np.ravel_multi_index(tuple(pair.real[:, c] for c in columns), dims)
    ib = np.ravel_multi_index(tuple(pair.synth[:, c] for c in columns), dims)
    if size > 4 * (len(ia) + len(ib)):  # sparse: count only the cells that occur
        cells, inv = np.unique(np.r_[ia, ib], return_inverse=True)
        pa = np.bincount(inv[: len(ia)], minlength=len(cells)) / len(ia)
        pb = np.bincount(inv[len(ia) :], minlength=len(cells)) / len(ib)
    else:
        pa = np.bincount(ia, minlength=size) / len(ia)
        pb = np.bincount(ib, minlength=size) / len(ib)
    return float(0.5 * np.abs(pa - pb).sum())


def _subsets(d: int, k: int, max_marginals: int | None, seed: Seed) -> list[tuple[int, ...]]:
    combos = list(itertools.combinations(range(d), k))
    if max_marginals is not None and len(combos) > max_marginals:
        rng = as_rng(seed)
        idx = rng.choice(len(combos), size=max_marginals, replace=False)
        combos = [combos[i] for i in sorted(idx)]
    return combos


def marginal_tvds(
    pair: CodedPair, k: int, *, max_marginals: int | None = None, seed: Seed = 0
) -> dict[tuple[str, ...], float]:
    """TVD of every k-way marginal (or a seeded sample of ``max_marginals`` of them)."""
    return {
        tuple(pair.names[c] for c in cols): marginal_tvd(pair, cols)
        for cols in _subsets(len(pair.names), k, max_marginals, seed)
    }


def mean_tvd(pair: CodedPair, k: int, *, max_marginals: int | None = None, seed: Seed = 0) -> float:
    """Mean TVD over all k-way marginals (or a seeded sample of them)."""
    values = marginal_tvds(pair, k, max_marginals=max_marginals, seed=seed).values()
    return float(np.mean(list(values))) if values else float("nan")
