"""One encoding of records, learned from the real table, shared by target selection and attacks.

Numeric and datetime columns become their mid-rank in the real table (a value in [0, 1]) plus
a missing flag; categorical and boolean columns become one-hot blocks scaled by 1/√2, so a
mismatch adds 1 to the squared distance, as a full-range numeric difference does. Euclidean
distance on this matrix is a rank-based Gower-like distance. ``codes`` gives every column a
small integer domain (numeric columns in up to 10 quantile bins) for counting combinations.

This reads the private table without DP: it serves the audit, whose output is not a release.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lookalike.schema import Kind, Schema, resolve_schema
from lookalike.transform.discretize import quantile_bins
from lookalike.transform.encoder import to_numbers

__all__ = ["RecordEncoding"]

_N_BINS = 10


def _labels(s: pd.Series) -> np.ndarray:
    return np.array(["\0missing" if pd.isna(v) else str(v) for v in s.tolist()], dtype=object)


@dataclass(frozen=True, eq=False)
class RecordEncoding:
    """Column encodings learned from ``real`` (see the module docstring)."""

    schema: Schema
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    sorted_values: tuple[np.ndarray, ...]  # finite real values of each numeric column, sorted
    bin_upper: tuple[np.ndarray, ...]  # upper bin limits of each numeric column
    categories: tuple[tuple[str, ...], ...]  # labels (missing included) of each categorical column

    @classmethod
    def fit(cls, real: pd.DataFrame, schema: Schema | None = None) -> RecordEncoding:
        schema = resolve_schema(real, schema)
        numeric, categorical, sorted_values, uppers, cats = [], [], [], [], []
        for col in schema.modelled:
            if col.kind.numeric:
                v = to_numbers(real[col.name], col)
                finite = np.sort(v[np.isfinite(v)])
                if len(finite) == 0:
                    continue
                numeric.append(col.name)
                sorted_values.append(finite)
                uppers.append(quantile_bins(finite, _N_BINS, with_shape=False).upper)
            else:
                categorical.append(col.name)
                cats.append(tuple(sorted(set(_labels(real[col.name]).tolist()))))
        return cls(schema, tuple(numeric), tuple(categorical), tuple(sorted_values), tuple(uppers), tuple(cats))

    @property
    def columns(self) -> tuple[str, ...]:
        """Encoded columns: numeric first, then categorical."""
        return self.numeric + self.categorical

    def values(self, df: pd.DataFrame) -> np.ndarray:
        """Numeric columns as floats, shape (rows, numeric columns); NaN when missing."""
        out = np.empty((len(df), len(self.numeric)))
        for j, name in enumerate(self.numeric):
            col = self.schema[name]
            if col.kind is Kind.DATETIME:
                out[:, j] = to_numbers(df[name], col)
            else:
                out[:, j] = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return out

    def ranks(self, df: pd.DataFrame) -> np.ndarray:
        """Mid-rank of each numeric value among the real values, in [0, 1]; NaN when missing."""
        vals = self.values(df)
        out = np.full(vals.shape, np.nan)
        for j, sv in enumerate(self.sorted_values):
            v = vals[:, j]
            ok = np.isfinite(v)
            lo = np.searchsorted(sv, v[ok], side="left")
            hi = np.searchsorted(sv, v[ok], side="right")
            out[ok, j] = (lo + hi) / (2.0 * len(sv))
        return out

    def category_codes(self, df: pd.DataFrame) -> np.ndarray:
        """Index of each categorical value among the real labels; -1 for a label never seen."""
        out = np.empty((len(df), len(self.categorical)), dtype=np.int64)
        for j, name in enumerate(self.categorical):
            lookup = {c: i for i, c in enumerate(self.categories[j])}
            out[:, j] = [lookup.get(v, -1) for v in _labels(df[name])]
        return out

    def codes(self, df: pd.DataFrame) -> tuple[np.ndarray, tuple[int, ...]]:
        """Small integer codes of every encoded column, and each column's number of codes.

        Numeric columns: quantile bin (missing: the last code); categorical: label index
        (unseen labels: the last code).
        """
        vals = self.values(df)
        cols, sizes = [], []
        for j, upper in enumerate(self.bin_upper):
            c = np.minimum(np.searchsorted(upper, vals[:, j], side="left"), len(upper) - 1)
            c[~np.isfinite(vals[:, j])] = len(upper)
            cols.append(c)
            sizes.append(len(upper) + 1)
        cc = self.category_codes(df)
        for j, cats in enumerate(self.categories):
            c = cc[:, j].copy()
            c[c < 0] = len(cats)
            cols.append(c)
            sizes.append(len(cats) + 1)
        return np.column_stack(cols).astype(np.int64), tuple(sizes)

    def matrix(self, df: pd.DataFrame) -> np.ndarray:
        """Rows as points for Euclidean distances (float32), as described in the module docstring."""
        r = self.ranks(df)
        missing = np.isnan(r)
        blocks = [np.where(missing, 0.0, r), missing.astype(float)]
        cc = self.category_codes(df)
        scale = 1.0 / np.sqrt(2.0)
        for j, cats in enumerate(self.categories):
            block = np.zeros((len(df), len(cats)))
            ok = cc[:, j] >= 0
            block[np.flatnonzero(ok), cc[ok, j]] = scale
            blocks.append(block)
        return np.column_stack(blocks).astype(np.float32)
