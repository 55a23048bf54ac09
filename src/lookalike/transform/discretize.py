"""Discretisation of numeric and datetime columns into ordered bins, and decoding back.

Bins come from quantiles of the data (non-DP), or from public or DP-released edges. A value
that holds at least one bin's share of the rows (the 0 of a capital-gain column) gets a bin of
its own, as do all values of a column with few distinct values. Decoding draws a realistic
value inside each bin: the exact value of a point bin, otherwise a draw from the bin's stored
in-bin quantiles (non-DP) or uniform between its bounds (public or DP edges).

>>> import numpy as np
>>> values = np.r_[np.zeros(60), np.arange(1, 41)]
>>> bins = quantile_bins(values, 5, integer=True)
>>> bins.n_bins, float(bins.lower[0]), float(bins.upper[0])
(5, 0.0, 0.0)
>>> codes = bins.assign(values)
>>> bool(np.all(bins.decode(codes, np.random.default_rng(0)) >= 0))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookalike.modelfile import model_array

__all__ = ["Bins", "quantile_bins", "edges_bins"]

_SHAPE_POINTS = 9
_BLOCK = 1 << 15  # rows decoded at a time: a block's few temporaries fit in a core's cache


@dataclass(frozen=True, eq=False)
class Bins:
    """Ordered bins; bin ``i`` spans ``[lower[i], upper[i]]`` (a point bin when equal).

    ``shape`` holds, per bin, quantiles of the values inside it (``None``: uniform inside).
    ``integer`` rounds decoded values to whole numbers.
    """

    lower: np.ndarray
    upper: np.ndarray
    shape: np.ndarray | None
    integer: bool

    @property
    def n_bins(self) -> int:
        return len(self.lower)

    @property
    def is_point(self) -> np.ndarray:
        return self.lower == self.upper

    def assign(self, values: np.ndarray) -> np.ndarray:
        """Bin index of each value; -1 for missing (NaN). Out-of-range values go to the end bins."""
        values = np.asarray(values, dtype=float)
        codes = np.searchsorted(self.upper, values, side="left")
        codes = np.minimum(codes, self.n_bins - 1)
        codes[np.isnan(values)] = -1
        return codes.astype(np.int64)

    def within(self, values: np.ndarray) -> np.ndarray:
        """Each value clipped into the bin :meth:`assign` gives it: a value between two bins
        moves to the edge of the next one, below the first or above the last to the outer
        edge, inside a point bin to its point; NaN stays NaN. Codes never change.

        >>> b = Bins(np.array([70.0, 80.0, 90.0]), np.array([70.0, 80.0, 99.0]), None, True)
        >>> b.within(np.array([64.0, 74.0, 80.0, 93.0, 120.0, np.nan])).tolist()
        [70.0, 80.0, 80.0, 93.0, 99.0, nan]
        """
        v = np.asarray(values, dtype=float)
        codes = self.assign(v)
        out = v.copy()
        ok = codes >= 0
        out[ok] = np.clip(v[ok], self.lower[codes[ok]], self.upper[codes[ok]])
        return out

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A value inside each code's bin; NaN for code -1."""
        codes = np.asarray(codes, dtype=np.int64)
        ok = codes >= 0
        if ok.all():  # (the same draws, without the copies)
            return np.asarray(self.value_at(codes, rng.random(len(codes))), dtype=float)
        out = np.full(len(codes), np.nan)
        c = codes[ok]
        out[ok] = self.value_at(c, rng.random(len(c)))
        return out

    def value_at(self, codes: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The value :meth:`decode` gives bin ``codes`` for the uniform number ``u`` in [0, 1].

        Non-decreasing in ``u`` within each bin (an inverse CDF), so the ``u`` giving values in
        an interval form an interval too (:meth:`u_interval`).
        """
        c = np.asarray(codes, dtype=np.int64)
        u = np.asarray(u, dtype=float)
        if c.ndim == 1 and c.shape == u.shape and len(c) > _BLOCK:
            # in blocks whose temporaries stay in the CPU's cache (the same values)
            out = np.empty(len(c))
            for start in range(0, len(c), _BLOCK):
                out[start:start + _BLOCK] = self._value_at(c[start:start + _BLOCK],
                                                           u[start:start + _BLOCK])
            return out
        return self._value_at(c, u)

    def _value_at(self, c: np.ndarray, u: np.ndarray) -> np.ndarray:
        if self.shape is None:
            lo, hi = self.lower.take(c), self.upper.take(c)
            if self.integer:
                vals = np.floor(lo + u * (np.floor(hi) - np.ceil(lo) + 1) + (np.ceil(lo) - lo))
                vals = np.clip(vals, np.ceil(lo), np.floor(hi))
                vals = np.where(np.ceil(lo) > np.floor(hi), np.round(lo), vals)
            else:
                vals = lo + u * (hi - lo)
        else:
            q = self.shape.shape[1]  # (bins, Q) in-bin quantiles, read flat: no (m, Q) copy
            flat = np.ascontiguousarray(self.shape, dtype=float).ravel()
            frac = u * (q - 1)  # the position in the bin's quantiles, then its fraction
            j = frac.astype(np.int64)
            np.minimum(j, q - 2, out=j)
            frac -= j
            at = c * q
            at += j
            vals = flat.take(at)
            vals *= 1 - frac
            at += 1
            frac *= flat.take(at)
            vals += frac
            if self.integer:
                vals = np.round(vals, out=vals)
                np.maximum(vals, self.lower.take(c), out=vals)  # (np.clip, without its copies)
                np.minimum(vals, self.upper.take(c), out=vals)
        return vals

    def u_interval(self, low: float, high: float, low_open: bool = False,
                   high_open: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per bin, the ``[a, b]`` of uniform numbers whose decoded value lies between ``low``
        and ``high`` (each bound open or closed): ``b - a`` (when positive) is the probability
        that a draw from the bin lands there, and ``u`` uniform on ``[a, b]`` draws exactly from
        the bin's in-bin distribution restricted to it (truncated inverse CDF).

        Found by bisection on :meth:`value_at` (monotone in ``u``) to 2⁻⁵⁰, on the side that
        keeps every ``u`` of ``[a, b]`` inside the interval.

        >>> b = Bins(np.array([0.0, 10.0]), np.array([10.0, 20.0]), None, False)
        >>> a, z = b.u_interval(5.0, 15.0)
        >>> (z - a).round(6).tolist()
        [0.5, 0.5]
        """
        codes = np.arange(self.n_bins)

        def ok_low(u: np.ndarray) -> np.ndarray:
            v = self.value_at(codes, u)
            return v > low if low_open else v >= low

        def ok_high(u: np.ndarray) -> np.ndarray:
            v = self.value_at(codes, u)
            return v < high if high_open else v <= high

        zeros, ones = np.zeros(self.n_bins), np.ones(self.n_bins)
        # a: the least u meeting the lower bound (false below it, true from it)
        lo_u, hi_u = zeros.copy(), ones.copy()
        for _ in range(52):
            mid = (lo_u + hi_u) / 2
            good = ok_low(mid)
            hi_u = np.where(good, mid, hi_u)
            lo_u = np.where(good, lo_u, mid)
        a = np.where(ok_low(zeros), 0.0, np.where(ok_low(ones), hi_u, 1.0))
        a_empty = ~ok_low(ones)
        # b: the largest u meeting the upper bound (true up to it, false above it)
        lo_u, hi_u = zeros.copy(), ones.copy()
        for _ in range(52):
            mid = (lo_u + hi_u) / 2
            good = ok_high(mid)
            lo_u = np.where(good, mid, lo_u)
            hi_u = np.where(good, hi_u, mid)
        b = np.where(ok_high(ones), 1.0, np.where(ok_high(zeros), lo_u, 0.0))
        b_empty = ~ok_high(zeros)
        empty = a_empty | b_empty | (b < a)
        return np.where(empty, 0.0, a), np.where(empty, 0.0, b)

    def midpoints(self) -> np.ndarray:
        return (self.lower + self.upper) / 2

    def to_state(self, prefix: str) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"{prefix}.lower": self.lower, f"{prefix}.upper": self.upper}
        if self.shape is not None:
            arrays[f"{prefix}.shape"] = self.shape
        return {"integer": self.integer, "shape": self.shape is not None}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray], prefix: str) -> Bins:
        """Bins saved by :meth:`to_state`, checked: finite edges, in increasing order.

        A damaged state raises ``ValueError`` naming the array (the model loader adds the file).
        """
        if not isinstance(meta.get("integer"), bool) or not isinstance(meta.get("shape"), bool):
            raise ValueError(f"bins {prefix!r}: 'integer' and 'shape' must be true or false")
        lower = model_array(arrays, f"{prefix}.lower", "lower bin edges")
        upper = model_array(arrays, f"{prefix}.upper", "upper bin edges", length=len(lower))
        if len(lower) == 0:
            raise ValueError(f"array {prefix + '.lower'!r} (lower bin edges) holds no bins")
        if np.any(np.diff(upper) <= 0) or np.any(lower[1:] < upper[:-1]):
            raise ValueError(
                f"arrays {prefix + '.lower'!r} and {prefix + '.upper'!r} (bin edges) are not in "
                "increasing order; bins must follow each other without overlap"
            )
        shape = None
        if meta["shape"]:
            shape = model_array(arrays, f"{prefix}.shape", "in-bin quantiles", ndim=2, length=len(lower))
            if shape.shape[1] < 2:
                raise ValueError(f"array {prefix + '.shape'!r} (in-bin quantiles) needs 2 or more columns")
        return cls(lower, upper, shape, meta["integer"])


def quantile_bins(
    values: np.ndarray,
    n_bins: int,
    *,
    integer: bool = False,
    point_share: float | None = None,
    with_shape: bool = True,
) -> Bins:
    """Up to ``n_bins`` bins holding about equal shares of ``values`` (reads the data: non-DP).

    A value holding at least ``point_share`` of the rows (default ``1 / n_bins``) is a bin of
    its own; so is every value when there are at most ``n_bins`` distinct ones.
    """
    v = np.asarray(values, dtype=float)
    v = np.sort(v[~np.isnan(v)])
    if len(v) == 0:
        raise ValueError("quantile_bins needs at least one non-missing value")
    uniq, counts = np.unique(v, return_counts=True)
    if len(uniq) <= n_bins:
        return Bins(uniq.copy(), uniq.copy(), None, integer)
    share = 1.0 / n_bins if point_share is None else point_share
    is_point = counts >= share * len(v)
    n_rest = int(counts[~is_point].sum())
    rest_bins = max(1, n_bins - int(is_point.sum()))
    target = n_rest / rest_bins
    members: list[tuple[int, int]] = []  # ranges of uniq per bin
    start, done, cum = None, 0, 0
    for i, count in enumerate(counts):
        if is_point[i]:
            if start is not None:
                members.append((start, i))
                start = None
            members.append((i, i + 1))
            continue
        if start is None:
            start = i
        cum += count
        if cum >= target * (done + 1) - 1e-9:
            members.append((start, i + 1))
            start = None
            done += 1
    if start is not None:
        members.append((start, len(uniq)))
    members = _merge_to(members, is_point, counts, n_bins)
    lower = [uniq[a] for a, _ in members]
    upper = [uniq[z - 1] for _, z in members]
    shape = None
    if with_shape:
        shape = np.empty((len(lower), _SHAPE_POINTS))
        qs = np.linspace(0, 1, _SHAPE_POINTS)
        for b, (a, z) in enumerate(members):
            inside = np.repeat(uniq[a:z], counts[a:z])
            shape[b] = np.quantile(inside, qs)
    return Bins(np.asarray(lower, float), np.asarray(upper, float), shape, integer)


def edges_bins(edges: np.ndarray, *, integer: bool = False) -> Bins:
    """Bins between consecutive ``edges`` (public or DP-released): uniform decoding inside.

    Bin ``i`` spans ``(edges[i], edges[i+1]]``; the first also takes ``edges[0]``.
    """
    e = np.unique(np.asarray(edges, dtype=float))
    if len(e) < 2:
        return Bins(e.copy(), e.copy(), None, integer)
    lower = e[:-1].copy()
    if integer:
        lower[1:] = np.floor(lower[1:]) + 1
    else:
        lower[1:] = np.nextafter(lower[1:], np.inf)
    return Bins(lower, e[1:].copy(), None, integer)


def _merge_to(
    members: list[tuple[int, int]], is_point: np.ndarray, counts: np.ndarray, n_bins: int
) -> list[tuple[int, int]]:
    """Merge the lightest adjacent pair of interval bins until at most ``n_bins`` remain."""
    members = list(members)
    csum = np.r_[0, np.cumsum(counts)]
    while len(members) > n_bins:
        best, best_w = -1, np.inf
        for i in range(len(members) - 1):
            (a, z), (a2, z2) = members[i], members[i + 1]
            if is_point[a] and z - a == 1 or is_point[a2] and z2 - a2 == 1:
                continue
            w = csum[z2] - csum[a]
            if w < best_w:
                best, best_w = i, w
        if best < 0:
            break
        members[best : best + 2] = [(members[best][0], members[best + 1][1])]
    return members
