"""Column-by-column and k-way marginal distances between the real and synthetic tables.

Per column, over non-missing values (missing rates are reported on their own):

- categorical and boolean: total-variation distance (TVD), half the L1 distance between the
  two category distributions (0 identical, 1 disjoint); category coverage (share of the real
  categories that occur in the synthetic table), rare-category retention (of the real
  categories holding less than 1% of the real non-missing values, the share that occur in the
  synthetic table) and the number of synthetic categories never seen in the real table;
- integer, float and datetime: the Kolmogorov–Smirnov statistic (largest gap between the two
  empirical CDFs, in [0, 1]) and the Wasserstein-1 distance divided by the real column's
  interquartile range (its range if the IQR is 0, 1 if that is 0 too), so that it is unit-free:
  0.1 means values are moved by a tenth of the real IQR on average.

Marginals: mean TVD over all 1-way, all 2-way and a seeded sample of 3-way marginals on the
benchmark protocol's discretisation (:mod:`lookalike.evaluate.marginals`: 20 quantile bins of
the real data, heavy point masses in a bin of their own, missing values a category).

>>> import numpy as np
>>> from lookalike.evaluate.tables import ColumnData
>>> from lookalike.schema import Kind
>>> col = ColumnData("x", Kind.FLOAT, np.arange(100.0), np.arange(100.0) + 10)
>>> c = column_fidelity(col)
>>> round(c.ks, 2), round(c.wasserstein, 3)
(0.1, 0.202)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

from lookalike import _format
from lookalike._rng import Seed
from lookalike.evaluate.associations import associations
from lookalike.evaluate.marginals import CodedPair, marginal_tvds, mean_tvd
from lookalike.evaluate.result import (
    ColumnFidelity,
    Fidelity,
    Histogram,
    Marginals,
    PairMarginal,
)
from lookalike.evaluate.tables import ColumnData, Tables
from lookalike.schema import Kind, number_to_datetime
from lookalike.transform.discretize import quantile_bins

__all__ = [
    "coded_pair",
    "column_fidelity",
    "fidelity",
    "histogram",
    "ks_statistic",
    "marginals",
    "scaled_wasserstein",
    "tvd",
    "worst_pairs",
]

N_BINS = 20  # marginal discretisation: the benchmark protocol's
HIST_BINS = 30  # plotting histograms
HIST_TOP = 30  # categories shown before "other"
RARE_SHARE = 0.01  # a real category holding less than this share is rare
POINT_SHARE = 0.05  # a single value holding this share of the real values is drawn apart
MAX_POINTS = 3  # at most this many point masses per histogram, the heaviest
N_WORST_PAIRS = 20  # pairs of columns listed with their 2-way marginals
PAIR_LABELS = 12  # categories per axis of a pair's marginal before "other"


def tvd(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance between two count (or probability) vectors.

    >>> tvd(np.array([1, 1]), np.array([3, 1]))
    0.25
    """
    p = np.asarray(p, dtype=float) / np.sum(p)
    q = np.asarray(q, dtype=float) / np.sum(q)
    return float(0.5 * np.abs(p - q).sum())


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs.

    >>> ks_statistic(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6]))
    0.5
    """
    a, b = np.sort(a), np.sort(b)
    at = np.concatenate([a, b])
    fa = np.searchsorted(a, at, side="right") / len(a)
    fb = np.searchsorted(b, at, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def _scale(real: np.ndarray) -> float:
    q25, q75 = np.quantile(real, [0.25, 0.75])
    if q75 > q25:
        return float(q75 - q25)
    spread = float(np.max(real) - np.min(real))
    return spread if spread > 0 else 1.0


def scaled_wasserstein(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Wasserstein-1 distance divided by the real values' IQR (range if 0; 1 if that is 0).

    >>> scaled_wasserstein(np.array([0.0, 1, 2, 3, 4]), np.array([1.0, 2, 3, 4, 5]))
    0.5
    """
    return float(wasserstein_distance(real, synthetic) / _scale(real))


# ------------------------------------------------------------------------ histograms
def _fmt(x: float) -> str:
    return _format.number(x)


def _datetime_labels(edges: np.ndarray, unit: str | None) -> list[str]:
    stamps = number_to_datetime(edges, unit)
    span_days = (edges[-1] - edges[0]) / (1.0 if unit == "D" else 86400.0)
    fmt = "%Y-%m-%d" if unit == "D" or span_days >= 30 else "%Y-%m-%dT%H:%M"
    return [t.strftime(fmt) for t in stamps]


def _point_masses(col: ColumnData, rv: np.ndarray) -> np.ndarray:
    """Values holding at least ``POINT_SHARE`` of the real values (at most ``MAX_POINTS``).

    Only for columns drawn as equal-width bins (a whole-number column of at most
    ``HIST_BINS`` values has a bar per value already) and not for datetimes.
    """
    if col.kind is Kind.DATETIME or len(rv) == 0:
        return np.zeros(0)
    uniq, counts = np.unique(rv, return_counts=True)
    if col.kind is Kind.INTEGER and uniq[-1] - uniq[0] + 1 <= HIST_BINS or len(uniq) < 2:
        return np.zeros(0)
    heavy = np.flatnonzero(counts >= POINT_SHARE * len(rv))
    heavy = heavy[np.argsort(-counts[heavy], kind="stable")][:MAX_POINTS]
    return np.sort(uniq[heavy])


def _numeric_histogram(col: ColumnData) -> Histogram:
    r, s = col.real, col.synthetic
    rv, sv = r[~np.isnan(r)], s[~np.isnan(s)]
    points = _point_masses(col, rv)
    rest = rv[~np.isin(rv, points)] if len(points) else rv
    base = rest if len(rest) else (rv if len(rv) else sv)
    lo, hi = (float(base.min()), float(base.max())) if len(base) else (0.0, 0.0)
    integer = col.kind is Kind.INTEGER
    if len(points) and not len(rest):
        edges = np.zeros(0)
        labels: list[str] = []
    elif integer and hi - lo + 1 <= HIST_BINS:
        edges = np.arange(lo - 0.5, hi + 1.0)  # one bin per whole number
        labels = [_fmt(v) for v in np.arange(lo, hi + 1)]
    else:
        edges = np.linspace(lo, hi, HIST_BINS + 1) if hi > lo else np.array([lo, hi])
        if col.kind is Kind.DATETIME:
            starts = _datetime_labels(edges, col.unit)
            labels = starts[:-1]
        else:
            labels = _format.bin_labels(edges)
    nb = max(len(edges) - 1, 0)

    def shares(values: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(values)
        present = values[ok]
        at_point = np.isin(present, points) if len(points) else np.zeros(len(present), bool)
        spikes = [float((present == p).sum()) for p in points]
        counts = np.zeros(nb)
        if nb:
            others = present[~at_point]
            idx = np.clip(np.searchsorted(edges, others, side="right") - 1, 0, nb - 1)
            counts = np.bincount(idx, minlength=nb).astype(float)
        return np.r_[spikes, counts, (~ok).sum()] / max(len(values), 1)

    pr, ps = shares(r), shares(s)
    labels = [_fmt(p) for p in points] + labels
    if pr[-1] == 0 and ps[-1] == 0:
        pr, ps = pr[:-1], ps[:-1]
    else:
        labels = [*labels, "missing"]
    if col.kind is Kind.DATETIME:
        shown_edges: tuple = tuple(_datetime_labels(edges, col.unit))
    else:
        shown_edges = tuple(float(e) for e in edges)
    return Histogram(
        tuple(labels), tuple(pr.tolist()), tuple(ps.tolist()), shown_edges, int(len(points))
    )


def _categorical_histogram(col: ColumnData) -> Histogram:
    k = len(col.labels)
    cr = np.bincount(col.real[col.real >= 0], minlength=k)
    cs = np.bincount(col.synthetic[col.synthetic >= 0], minlength=k)
    seen = np.arange(col.n_seen)
    order = seen[np.lexsort((seen, -cr[: col.n_seen]))]  # by real frequency, then label
    top = order[:HIST_TOP]
    rest = np.setdiff1d(np.arange(k), top)
    labels = [col.labels[i] for i in top]
    pr, ps = list(cr[top]), list(cs[top])
    if len(rest):
        labels.append("other")
        pr.append(cr[rest].sum())
        ps.append(cs[rest].sum())
    mr, ms = int((col.real < 0).sum()), int((col.synthetic < 0).sum())
    if mr or ms:
        labels.append("missing")
        pr.append(mr)
        ps.append(ms)
    nr, ns = len(col.real), len(col.synthetic)
    return Histogram(
        tuple(labels), tuple(float(v) / nr for v in pr), tuple(float(v) / ns for v in ps)
    )


def histogram(col: ColumnData) -> Histogram:
    """Real and synthetic shares (of all rows) per bin or category, plus a missing share.

    Categories: the 30 most frequent real ones, the rest (and unseen synthetic categories)
    as "other". Numbers: 30 equal-width bins over the real range (one bin per whole number
    when an integer column spans at most 30), synthetic values outside it counted in the end
    bins; datetime bins are labelled by their start as ISO dates. A value holding 5% of the
    real values or more (the 0 of a zero-inflated column) comes first as a point mass of its
    own (``points`` counts them) and the bins cut the other values.

    >>> col = ColumnData("c", Kind.CATEGORICAL, np.array([0, 0, 1, -1]), np.array([0, 1, 1, 1]),
    ...                  labels=("a", "b"), n_seen=2)
    >>> h = histogram(col)
    >>> h.labels, h.real, h.synthetic
    (('a', 'b', 'missing'), (0.5, 0.25, 0.25), (0.25, 0.75, 0.0))
    """
    return _numeric_histogram(col) if col.numeric else _categorical_histogram(col)


# ------------------------------------------------------------------------ per column
def column_fidelity(col: ColumnData, marginal: float = float("nan")) -> ColumnFidelity:
    """Distances, missing rates and category coverage of one column (module docstring).

    ``marginal`` is the column's 1-way TVD on the shared discretisation, missing included.

    >>> col = ColumnData("c", Kind.CATEGORICAL, np.array([0, 0, 1, 2]), np.array([0, 0, 0, 3]),
    ...                  labels=("a", "b", "r", "new"), n_seen=3)
    >>> c = column_fidelity(col)
    >>> c.tvd, round(c.coverage, 3), c.unseen_categories
    (0.5, 0.333, 1)
    """
    miss_r, miss_s = col.missing("real"), col.missing("synthetic")
    tv = ks = ws = coverage = rare = unseen = None
    if col.numeric:
        rv, sv = col.real[~miss_r], col.synthetic[~miss_s]
        if len(rv) and len(sv):
            ks = ks_statistic(rv, sv)
            ws = scaled_wasserstein(rv, sv)
    else:
        k = len(col.labels)
        cr = np.bincount(col.real[~miss_r], minlength=k)
        cs = np.bincount(col.synthetic[~miss_s], minlength=k)
        if cr.sum() and cs.sum():
            tv = tvd(cr, cs)
        seen = cr[: col.n_seen]
        hit = cs[: col.n_seen] > 0
        coverage = float(hit.mean()) if col.n_seen else None
        is_rare = seen < RARE_SHARE * seen.sum()
        rare = float(hit[is_rare].mean()) if is_rare.any() else None
        unseen = int((cs[col.n_seen :] > 0).sum())
    return ColumnFidelity(
        name=col.name,
        kind=col.kind.value,
        tvd=tv,
        ks=ks,
        wasserstein=ws,
        missing_real=float(miss_r.mean()),
        missing_synthetic=float(miss_s.mean()),
        coverage=coverage,
        rare_retention=rare,
        unseen_categories=unseen,
        marginal_tvd=marginal,
        hist=histogram(col),
    )


# ------------------------------------------------------------------------ marginals
def _codes(col: ColumnData) -> tuple[np.ndarray, np.ndarray, int]:
    if col.numeric:
        r, s = col.real, col.synthetic
        if np.isnan(r).all():
            return np.zeros(len(r), np.int64), np.where(np.isnan(s), 0, 1), 2
        bins = quantile_bins(r, N_BINS, with_shape=False)
        k = bins.n_bins + 1
        a, b = bins.assign(r), bins.assign(s)
        a[a < 0], b[b < 0] = k - 1, k - 1
        return a, b, k
    missing, unseen = col.n_seen, col.n_seen + 1
    a = np.where(col.real < 0, missing, col.real)
    b = np.where(
        col.synthetic < 0, missing, np.where(col.synthetic >= col.n_seen, unseen, col.synthetic)
    )
    return a, b, col.n_seen + 2


def coded_pair(tables: Tables) -> CodedPair:
    """The real and synthetic tables on the benchmark's bins: the same codes as
    :func:`lookalike.evaluate.marginals.discretise_pair` gives for the conformed tables.

    >>> import pandas as pd
    >>> from lookalike.evaluate.tables import prepare
    >>> real = pd.DataFrame({"c": list("ab") * 5, "n": [1, 2, 3, 4, 5] * 2})
    >>> pair = coded_pair(prepare(real, real.assign(c="z")))
    >>> pair.sizes, pair.synth[:2, 0].tolist()  # c: a, b, missing, unseen; n: 5 values, missing
    ((4, 6), [3, 3])
    """
    coded = [_codes(c) for c in tables.columns]
    return CodedPair(
        tuple(tables.names),
        np.column_stack([a for a, _, _ in coded]).astype(np.int64),
        np.column_stack([b for _, b, _ in coded]).astype(np.int64),
        tuple(int(k) for _, _, k in coded),
    )


def marginals(
    pair: CodedPair,
    *,
    max_3way: int = 200,
    seed: Seed = 0,
    two_way: dict[tuple[str, ...], float] | None = None,
) -> Marginals:
    """Mean TVD over all 1- and 2-way marginals and ``max_3way`` seeded 3-way ones.

    ``two_way`` are the 2-way TVDs of :func:`marginal_tvds` when already computed.

    >>> pair = CodedPair(("a", "b"), np.array([[0, 0], [1, 1]]), np.array([[0, 1], [1, 0]]), (2, 2))
    >>> m = marginals(pair)
    >>> m.one_way, m.two_way, m.n_3way
    (0.0, 1.0, 0)
    """
    d = len(pair.names)
    n3 = min(max_3way, d * (d - 1) * (d - 2) // 6)
    three = mean_tvd(pair, 3, max_marginals=max_3way, seed=seed) if n3 > 0 else float("nan")
    two = marginal_tvds(pair, 2) if two_way is None else two_way
    return Marginals(
        one_way=mean_tvd(pair, 1),
        two_way=float(np.mean(list(two.values()))) if two else float("nan"),
        three_way=three,
        n_3way=n3,
        n_2way=d * (d - 1) // 2,
    )


def _code_labels(col: ColumnData) -> list[str]:
    """A name per code of :func:`_codes`: bins (a point is its value), categories, missing."""
    if col.numeric:
        r = col.real
        if np.isnan(r).all():
            return ["missing", "present"]
        bins = quantile_bins(r, N_BINS, with_shape=False)
        lower, upper = np.asarray(bins.lower, float), np.asarray(bins.upper, float)
        if col.kind is Kind.DATETIME:
            lo, hi = _datetime_labels(lower, col.unit), _datetime_labels(upper, col.unit)
            names = [a if a == b else f"{a}–{b}" for a, b in zip(lo, hi, strict=True)]
        else:
            d = _format._decimals(np.r_[lower, upper[-1:]].tolist())
            names = [
                _format.edge(a, d) if a == b else f"{_format.edge(a, d)}–{_format.edge(b, d)}"
                for a, b in zip(lower, upper, strict=True)
            ]
        return [*names, "missing"]
    return [*(str(x) for x in col.labels[: col.n_seen]), "missing", "unseen"]


def _pair_axis(
    real: np.ndarray, synth: np.ndarray, labels: list[str], axis: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Codes of ``axis`` that occur; past ``PAIR_LABELS``, the heaviest in the real rows and
    one "other" for the rest."""
    weight = real.sum(axis=1 - axis) + synth.sum(axis=1 - axis)
    used = np.flatnonzero(weight > 0)
    if len(used) <= PAIR_LABELS:
        keep, rest = used, np.zeros(0, int)
    else:
        heavy = used[np.argsort(-real.sum(axis=1 - axis)[used], kind="stable")]
        keep, rest = np.sort(heavy[: PAIR_LABELS - 1]), np.sort(heavy[PAIR_LABELS - 1 :])

    def cut(m: np.ndarray) -> np.ndarray:
        kept = np.take(m, keep, axis=axis)
        if not len(rest):
            return kept
        other = np.take(m, rest, axis=axis).sum(axis=axis, keepdims=True)
        return np.concatenate([kept, other], axis=axis)

    names = [labels[i] for i in keep] + ([f"other ({len(rest)})"] if len(rest) else [])
    return cut(real), cut(synth), names


def worst_pairs(
    tables: Tables,
    pair: CodedPair,
    two_way: dict[tuple[str, ...], float],
    n: int = N_WORST_PAIRS,
) -> tuple[PairMarginal, ...]:
    """The ``n`` pairs with the largest 2-way TVD, worst first, with their 2-way marginals."""
    ranked = sorted(two_way.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    index = {name: i for i, name in enumerate(pair.names)}
    out = []
    for (a, b), value in ranked:
        i, j = index[a], index[b]
        ki, kj = pair.sizes[i], pair.sizes[j]
        real = np.zeros((ki, kj))
        synth = np.zeros((ki, kj))
        np.add.at(real, (pair.real[:, i], pair.real[:, j]), 1.0 / len(pair.real))
        np.add.at(synth, (pair.synth[:, i], pair.synth[:, j]), 1.0 / len(pair.synth))
        real, synth, rows = _pair_axis(real, synth, _code_labels(tables[a]), 0)
        real, synth, cols = _pair_axis(real, synth, _code_labels(tables[b]), 1)
        out.append(
            PairMarginal(
                columns=(a, b),
                tvd=float(value),
                labels=(tuple(rows), tuple(cols)),
                real=tuple(tuple(float(x) for x in row) for row in real),
                synthetic=tuple(tuple(float(x) for x in row) for row in synth),
            )
        )
    return tuple(out)


def fidelity(tables: Tables, *, max_3way: int = 200, seed: Seed = 0) -> Fidelity:
    """Per-column distances, k-way marginal TVDs, association matrices and the worst pairs.

    >>> import pandas as pd
    >>> from lookalike.evaluate.tables import prepare
    >>> real = pd.DataFrame({"c": list("ab") * 10, "n": [1, 2] * 10})
    >>> f = fidelity(prepare(real, real.assign(c=list("aabb") * 5)))
    >>> f.marginals.one_way, f.marginals.two_way, [c.tvd for c in f.columns]
    (0.0, 0.5, [0.0, None])
    >>> f.worst_pairs[0].columns, f.worst_pairs[0].labels
    (('c', 'n'), (('a', 'b'), ('1', '2')))
    """
    pair = coded_pair(tables)
    one_way = marginal_tvds(pair, 1)
    two_way = marginal_tvds(pair, 2)
    columns = tuple(column_fidelity(c, one_way[(c.name,)]) for c in tables.columns)
    return Fidelity(
        columns,
        marginals(pair, max_3way=max_3way, seed=seed, two_way=two_way),
        associations(tables),
        worst_pairs(tables, pair, two_way),
    )
