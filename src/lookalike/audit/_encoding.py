"""The audit's one record encoding and one distance: how a row becomes a point, how far apart two are.

Every attack (similarity, membership, attribute inference, linkability), the exposure ranking of
target selection and the shadow-model features measure distances between points of
:class:`RecordEncoding` with :func:`nearest` or :func:`distances`: the Euclidean distance, a
Gower-like sum over columns of each column's squared difference:

* a numeric column (integer, float, datetime as time since 1970-01-01) adds ``((x − y)/s)²``,
  ``s`` a robust spread of the real table: IQR/1.349 (the standard deviation of a normal with
  that IQR), else the standard deviation (a column such as capital-gain, mostly 0, has IQR 0),
  else 1. A missing value sits at the real median and sets an indicator, so a missing value
  against a value ``z`` spreads from the median adds ``1 + z²``;
* a categorical or boolean column adds 0 for equal values and 1 for different ones (one-hot
  coordinates scaled by 1/√2); missing is a value of its own, and so is any label the real
  table does not hold.

So one category changed, or one numeric value moved by one robust spread, is a distance of 1.
The numeric scale is linear, not rank-based: a record far out in a tail stays far from the
others, and the records far out are the exposed ones. Medians, spreads, labels and the
quantile bins of :meth:`RecordEncoding.codes` come from the real (training) table, read without
DP: this serves the audit, whose output is not a release.

Columns reach the encoding as arrays, as :mod:`lookalike.evaluate.tables` holds them: floats
with NaN for missing, categorical codes into ``labels`` with -1 for missing (and
``len(labels)`` for a label the encoding does not know). :meth:`RecordEncoding.from_tables`
learns from prepared tables (the audit's attacks); :meth:`RecordEncoding.fit` from a DataFrame
(target selection, shadow-model fits), whose frames :meth:`RecordEncoding.arrays` converts.

>>> import pandas as pd
>>> real = pd.DataFrame({"x": [0.5, 1.5] * 5, "c": list("aabb") * 2 + ["a", "b"]})
>>> enc = RecordEncoding.fit(real)
>>> points = enc.matrix(enc.arrays(real))
>>> points.shape  # x and its missing flag; c as a, b, another label, missing
(10, 6)
>>> [round(float(d), 3) for d in distances(points[0], points[1:4])]
[1.349, 1.0, 1.679]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from lookalike.errors import ColumnMismatchError
from lookalike.evaluate.tables import Tables
from lookalike.schema import Kind, Schema, datetime_to_number, resolve_schema
from lookalike.transform.discretize import quantile_bins

__all__ = ["Features", "RecordEncoding", "distances", "encode", "nearest", "spread"]

N_BINS = 10
"""Quantile bins of a numeric column in :meth:`RecordEncoding.codes`."""
SIDES = ("real", "synthetic", "holdout")
_W = 1 / np.sqrt(2)  # one-hot weight: two different categories are at distance 1


def spread(values: np.ndarray) -> float:
    """A robust scale of ``values`` (NaN ignored): IQR/1.349, else the std, else 1.

    >>> spread(np.array([0.0, 0, 0, 0, 10])) > 0, spread(np.array([1.0, 1, 1]))
    (True, 1.0)
    """
    v = values[np.isfinite(values)]
    if v.size < 2:
        return 1.0
    q1, q3 = np.percentile(v, [25, 75])
    if q3 > q1:
        return float((q3 - q1) / 1.349)
    sd = float(np.std(v))
    return sd if sd > 0 else 1.0


@dataclass(frozen=True, eq=False)
class RecordEncoding:
    """Each modelled column's encoding, learned from the real table (see the module docstring).

    Per column: ``names``, ``kinds``, ``units`` (datetimes), and from the real table the
    ``centres`` (medians) and ``scales`` (robust spreads) of numeric columns, the ``labels``
    of categorical ones and the upper limits of ``bins``, up to 10 quantile bins of numeric ones.
    """

    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    units: tuple[str | None, ...]
    centres: tuple[float, ...]
    scales: tuple[float, ...]
    labels: tuple[tuple, ...]
    bins: tuple[np.ndarray, ...]

    # ------------------------------------------------------------------ learning
    @classmethod
    def _learn(cls, names, kinds, units, real: Sequence[np.ndarray], labels) -> RecordEncoding:
        centres, scales, bins = [], [], []
        for kind, values in zip(kinds, real, strict=True):
            finite = values[np.isfinite(values)] if kind.numeric else np.empty(0)
            centres.append(float(np.median(finite)) if finite.size else 0.0)
            scales.append(spread(values) if kind.numeric else 1.0)
            upper = quantile_bins(finite, N_BINS, with_shape=False).upper if finite.size else np.empty(0)
            bins.append(np.asarray(upper, dtype=float))
        return cls(tuple(names), tuple(kinds), tuple(units), tuple(centres), tuple(scales),
                   tuple(tuple(x) for x in labels), tuple(bins))

    @classmethod
    def from_tables(cls, tables: Tables) -> RecordEncoding:
        """The encoding of prepared tables: statistics of the real side, every table's labels."""
        cols = tables.columns
        return cls._learn([c.name for c in cols], [c.kind for c in cols], [c.unit for c in cols],
                          [c.real for c in cols], [c.labels for c in cols])

    @classmethod
    def fit(cls, real: pd.DataFrame, schema: Schema | None = None) -> RecordEncoding:
        """The encoding of ``real``'s modelled columns (``schema``: given, completed or inferred)."""
        cols = resolve_schema(real, schema).modelled
        labels = [() if c.kind.numeric else tuple(sorted(set(_texts(real[c.name]).dropna()))) for c in cols]
        units = [(c.unit or "s") if c.kind is Kind.DATETIME else None for c in cols]
        # what arrays() reads (names, kinds, units, labels) is known before the statistics
        reader = cls(tuple(c.name for c in cols), tuple(c.kind for c in cols), tuple(units),
                     (), (), tuple(labels), ())
        return cls._learn(reader.names, reader.kinds, reader.units, reader.arrays(real), labels)

    # ------------------------------------------------------------------ columns
    @property
    def numeric(self) -> np.ndarray:
        """Boolean mask of the numeric columns."""
        return np.array([k.numeric for k in self.kinds], dtype=bool)

    def _width(self, j: int) -> int:
        return 2 if self.kinds[j].numeric else len(self.labels[j]) + 2

    @property
    def blocks(self) -> dict[str, slice]:
        """Each column's coordinates in :meth:`matrix`."""
        out, start = {}, 0
        for j, name in enumerate(self.names):
            out[name] = slice(start, start + self._width(j))
            start += self._width(j)
        return out

    def coordinates(self, names: Sequence[str]) -> np.ndarray:
        """Indices of the coordinates of the columns ``names``."""
        blocks = self.blocks
        return np.concatenate([np.arange(blocks[n].start, blocks[n].stop) for n in names])

    def arrays(self, df: pd.DataFrame) -> list[np.ndarray]:
        """The columns of ``df`` as arrays: floats (NaN missing), codes (-1 missing, unknown labels last)."""
        absent = [n for n in self.names if n not in df.columns]
        if absent:
            raise ColumnMismatchError(f"the table lacks the columns {absent} of the real table; give all of them")
        out = []
        for j, name in enumerate(self.names):
            s = df[name].reset_index(drop=True)
            if self.kinds[j] is Kind.DATETIME:
                out.append(np.asarray(datetime_to_number(s, self.units[j]), dtype=float))
            elif self.kinds[j].numeric:
                out.append(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
            else:
                text = _texts(s)
                codes = pd.Index(self.labels[j], dtype=object).get_indexer(text).astype(np.int64)
                codes[(codes < 0) & text.notna().to_numpy()] = len(self.labels[j])
                out.append(codes)
        return out

    # ------------------------------------------------------------------ encodings
    def matrix(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """Rows as points (float64), one block of coordinates per column (see :attr:`blocks`)."""
        n = len(arrays[0]) if arrays else 0
        blocks = self.blocks
        out = np.zeros((n, sum(b.stop - b.start for b in blocks.values())))
        for j, (name, a) in enumerate(zip(self.names, arrays, strict=True)):
            b = blocks[name]
            if self.kinds[j].numeric:
                miss = np.isnan(a)
                out[:, b.start] = np.where(miss, 0.0, (a - self.centres[j]) / self.scales[j])
                out[:, b.start + 1] = miss
            else:
                slot = np.where(a < 0, len(self.labels[j]) + 1, a)  # labels, another label, missing
                out[np.arange(n), b.start + slot] = _W
        return out

    def codes(self, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, tuple[int, ...]]:
        """Small integer codes of every column, for counting, and each column's number of codes.

        Numeric: its quantile bin, missing the last code; categorical: its label, then another
        label, then missing.
        """
        cols, sizes = [], []
        for j, a in enumerate(arrays):
            if self.kinds[j].numeric:
                upper = self.bins[j]
                c = np.minimum(np.searchsorted(upper, a, side="left"), max(len(upper) - 1, 0))
                c[np.isnan(a)] = len(upper)
                cols.append(c)
                sizes.append(len(upper) + 1)
            else:
                cols.append(np.where(a < 0, len(self.labels[j]) + 1, a))
                sizes.append(len(self.labels[j]) + 2)
        return np.column_stack(cols).astype(np.int64), tuple(sizes)


def _texts(s: pd.Series) -> pd.Series:
    """Values as text (missing kept missing): labels compare as text across frames."""
    return s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))


# ---------------------------------------------------------------------- the tables of an audit
@dataclass(frozen=True, eq=False)
class Features:
    """The real, synthetic and holdout tables as points of one :class:`RecordEncoding`."""

    encoding: RecordEncoding
    real: np.ndarray
    synthetic: np.ndarray
    holdout: np.ndarray | None

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """Coordinate indices of the columns ``names``."""
        return self.encoding.coordinates(names)

    def side(self, name: str) -> np.ndarray:
        out = getattr(self, name)
        if out is None:
            raise ValueError(f"no {name} table")
        return out


def encode(tables: Tables) -> Features:
    """The tables of ``tables`` as points of the encoding learned from them (its real side)."""
    enc = RecordEncoding.from_tables(tables)
    mats = {
        side: None if getattr(tables.columns[0], side) is None
        else enc.matrix([getattr(c, side) for c in tables.columns])
        for side in SIDES
    }
    return Features(enc, mats["real"], mats["synthetic"], mats["holdout"])


# ---------------------------------------------------------------------- the distance
def nearest(queries: np.ndarray, reference: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` nearest ``reference`` points of each query point.

    Brute force (exact; the one-hot coordinates make trees no faster). Distances that differ
    from 0 by rounding alone (below 1e-6) are set to 0.
    """
    k = min(k, len(reference))
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean").fit(reference)
    dist, idx = nn.kneighbors(queries, return_distance=True)
    dist[dist < 1e-6] = 0.0
    return dist, idx


def distances(point: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance from ``point`` to each of ``points`` (as :func:`nearest` measures it)."""
    out = np.sqrt(np.sum((points - point) ** 2, axis=1))
    out[out < 1e-6] = 0.0
    return out
