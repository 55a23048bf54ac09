"""One numeric encoding of mixed tables for every distance the audit takes.

Each modelled column becomes a block of coordinates so that the Euclidean distance between two
rows is a Gower-like sum over columns:

* a numeric (integer, float, datetime) column is centred on the real table's median and
  divided by a robust spread of the real table: IQR / 1.349 (the standard deviation of a
  normal with that IQR), else the standard deviation (a column such as capital-gain, mostly
  0, has IQR 0), else 1. A missing value sits at the median and sets an indicator of weight 1;
* a categorical or boolean column is one-hot over every label seen in any table, plus
  "missing", scaled by 1/√2 so that two different categories are at distance exactly 1.

So one category changed, or one numeric value moved by one robust spread, is a distance of 1.
Spreads and medians come from the real (training) table; nothing here is released.

>>> import pandas as pd
>>> from lookalike.evaluate.tables import prepare
>>> real = pd.DataFrame({"x": [0.5, 1.5] * 5, "c": list("aabb") * 2 + ["a", "b"]})
>>> f = encode(prepare(real, real.iloc[::-1]))
>>> f.real.shape  # x, then c as a, b and missing
(10, 4)
>>> [round(float(np.linalg.norm(f.real[0] - f.real[j])), 3) for j in (1, 2, 3)]
[1.349, 1.0, 1.679]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from lookalike.evaluate.tables import ColumnData, Tables

__all__ = ["Features", "encode", "nearest", "row_keys", "spread"]

SIDES = ("real", "synthetic", "holdout")


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
class Features:
    """The encoded tables (float matrices, one row per row) and each column's block of coordinates."""

    names: tuple[str, ...]
    real: np.ndarray
    synthetic: np.ndarray
    holdout: np.ndarray | None
    blocks: dict[str, slice] = field(default_factory=dict)

    def columns(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Coordinate indices of the blocks of ``names``."""
        return np.concatenate([np.arange(self.blocks[n].start, self.blocks[n].stop) for n in names])

    def side(self, name: str) -> np.ndarray:
        out = getattr(self, name)
        if out is None:
            raise ValueError(f"no {name} table")
        return out


def _numeric_block(col: ColumnData, arrays: list[np.ndarray | None]) -> list[np.ndarray | None]:
    real = col.real
    finite = real[np.isfinite(real)]
    centre = float(np.median(finite)) if finite.size else 0.0
    scale = spread(real)
    has_missing = any(a is not None and np.isnan(a).any() for a in arrays)
    out: list[np.ndarray | None] = []
    for a in arrays:
        if a is None:
            out.append(None)
            continue
        miss = np.isnan(a)
        z = np.where(miss, 0.0, (a - centre) / scale)
        out.append(np.column_stack([z, miss.astype(float)]) if has_missing else z[:, None])
    return out


def _categorical_block(col: ColumnData, arrays: list[np.ndarray | None]) -> list[np.ndarray | None]:
    k = len(col.labels) + 1  # the last one: missing
    w = 1 / np.sqrt(2)
    out: list[np.ndarray | None] = []
    for a in arrays:
        if a is None:
            out.append(None)
            continue
        codes = np.where(a < 0, k - 1, a)
        block = np.zeros((len(a), k))
        block[np.arange(len(a)), codes] = w
        out.append(block)
    return out


def encode(tables: Tables) -> Features:
    """Encode the real, synthetic and holdout tables of ``tables`` on one set of coordinates."""
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SIDES}
    blocks: dict[str, slice] = {}
    start = 0
    for col in tables.columns:
        arrays = [col.real, col.synthetic, col.holdout]
        enc = _numeric_block(col, arrays) if col.numeric else _categorical_block(col, arrays)
        width = enc[0].shape[1]
        blocks[col.name] = slice(start, start + width)
        start += width
        for side, e in zip(SIDES, enc, strict=True):
            if e is not None:
                parts[side].append(e)
    mats = {s: np.hstack(p) if p else None for s, p in parts.items()}
    return Features(tuple(tables.names), mats["real"], mats["synthetic"], mats["holdout"], blocks)


def row_keys(tables: Tables, side: str, names: list[str] | None = None) -> np.ndarray:
    """One 64-bit hash per row of ``side`` over the modelled columns (or ``names``).

    Two rows share a key exactly when they hold the same values (missing equal to missing);
    categories compare by label, so the synthetic and real tables' keys are comparable.
    """
    cols = tables.columns if names is None else [tables[n] for n in names]
    frame = {}
    for i, c in enumerate(cols):
        values = getattr(c, side)
        frame[str(i)] = values if c.numeric else values.astype(np.int64)
    return pd.util.hash_pandas_object(pd.DataFrame(frame), index=False).to_numpy()


def nearest(queries: np.ndarray, reference: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances and indices of the ``k`` nearest ``reference`` rows of each query row.

    Brute force (exact; the one-hot coordinates make trees no faster). Distances that differ
    from 0 by rounding alone (below 1e-6) are set to 0.
    """
    k = min(k, len(reference))
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean").fit(reference)
    dist, idx = nn.kneighbors(queries, return_distance=True)
    dist[dist < 1e-6] = 0.0
    return dist, idx
