"""Reversible encoding of a conformed table into integer codes, one small domain per column.

Categories map to their index in the schema's category list; numeric and datetime columns map
to bins (see :mod:`lookalike.transform.discretize`); a missing value is a state of its own, the
last code of a column that can be missing. Decoding turns codes back into typed values.

>>> import pandas as pd
>>> from lookalike.schema import infer_schema
>>> df = pd.DataFrame({"age": [23, 35, 47, 51, None] * 4, "sex": ["F", "M", "M", None, "M"] * 4})
>>> schema = infer_schema(df)
>>> enc = TableEncoder.fit(schema.conform(df), schema, n_bins=3)
>>> enc.sizes
[4, 3]
>>> codes = enc.encode(schema.conform(df))
>>> enc.decode(codes, seed=0)["sex"].tolist()[:5]
['F', 'M', 'M', None, 'M']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.schema import Column, Kind, Schema, datetime_to_number, number_to_datetime
from lookalike.transform.discretize import Bins, quantile_bins

__all__ = ["ColumnCodec", "TableEncoder", "to_numbers", "from_numbers"]


def to_numbers(s: pd.Series, column: Column) -> np.ndarray:
    """A numeric or datetime column as floats (datetimes in the column's unit); NaN if missing."""
    if column.kind is Kind.DATETIME:
        return np.asarray(datetime_to_number(s, column.unit), dtype=float)
    return s.to_numpy(dtype=float, na_value=np.nan)


def from_numbers(values: np.ndarray, column: Column) -> pd.Series:
    """Floats back to the column's type: rounded Int64, float64 or datetime64."""
    values = np.asarray(values, dtype=float)
    if column.kind is Kind.DATETIME:
        return number_to_datetime(values, column.unit)
    if column.kind is Kind.INTEGER:
        out = pd.array(np.where(np.isnan(values), 0, np.round(values)).astype(np.int64), dtype="Int64")
        out[np.isnan(values)] = pd.NA
        return pd.Series(out)
    return pd.Series(values, dtype="float64")


@dataclass(frozen=True, eq=False)
class ColumnCodec:
    """Codes of one column: categories or bins, plus a last "missing" code when nullable.

    ``fallback`` is the code that values outside ``categories`` take (the "other" category of
    a DP-discovered domain); without it they count as missing.
    """

    column: Column
    categories: tuple | None
    bins: Bins | None
    has_missing: bool
    fallback: int | None = None

    @property
    def n_values(self) -> int:
        return len(self.categories) if self.categories is not None else self.bins.n_bins

    @property
    def size(self) -> int:
        return self.n_values + int(self.has_missing)

    def encode(self, s: pd.Series) -> np.ndarray:
        if self.categories is not None:
            if self.column.kind is Kind.BOOLEAN:
                values = s.astype("boolean")
                codes = np.where(values.isna().to_numpy(), -1, values.fillna(False).to_numpy(dtype=int))
            else:
                codes = pd.Index(list(self.categories), dtype=object).get_indexer(s.astype(object))
                codes = codes.astype(np.int64)
                if self.fallback is not None:
                    codes[(codes < 0) & s.notna().to_numpy()] = self.fallback
        else:
            codes = self.bins.assign(to_numbers(s, self.column))
        codes = np.asarray(codes, dtype=np.int64)
        if self.has_missing:
            codes[codes < 0] = self.n_values
        elif (codes < 0).any():
            raise ValueError(f"column {self.column.name!r} has missing values but no missing state")
        return codes

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """The column's values for ``codes``: :meth:`as_series` of :meth:`decode_values`."""
        return self.as_series(self.decode_values(codes, rng))

    def decode_values(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The decoded column as one array, before it becomes a pandas column: categories and
        booleans keep their codes (int64; ``n_values`` and above: missing), numbers and
        datetimes become floats (NaN: missing), drawn inside their bins with one uniform
        number per present value, in row order (the draws :meth:`decode` makes)."""
        codes = np.asarray(codes, dtype=np.int64)
        if self.categories is not None:
            return codes
        present = codes < self.n_values if self.has_missing else None
        if present is None or present.all():  # (Bins.decode's draws, without its checks)
            return np.asarray(self.bins.value_at(codes, rng.random(len(codes))), dtype=float)
        return self.bins.decode(np.where(present, codes, -1), rng)

    def as_series(self, values: np.ndarray) -> pd.Series:
        """The pandas column of :meth:`decode_values`' array: labels (object, None when
        missing), nullable booleans, or numbers typed as the column (:func:`from_numbers`)."""
        if self.categories is not None:
            missing = values >= self.n_values
            if self.column.kind is Kind.BOOLEAN:
                out = pd.array(values == 1, dtype="boolean")
                out[missing] = pd.NA
                return pd.Series(out)
            labels = np.empty(self.n_values + 1, dtype=object)
            labels[:-1] = self.categories
            labels[-1] = None
            return pd.Series(labels[np.minimum(values, self.n_values)], dtype=object)
        return from_numbers(values, self.column)

    def within(self, s: pd.Series) -> pd.Series:
        """``s`` with every number moved into the bin it is coded to (:meth:`Bins.within
        <lookalike.transform.discretize.Bins.within>`), typed as the column; categories and
        missing values unchanged. Its codes are those of ``s``."""
        if self.bins is None:
            return s
        x = to_numbers(s, self.column)
        moved = np.flatnonzero(~np.isnan(x) & (self.bins.within(x) != x))
        if not len(moved):
            return s
        out = s.copy()
        out.iloc[moved] = from_numbers(self.bins.within(x[moved]), self.column).to_numpy()
        return out

    def to_state(self, prefix: str) -> tuple[dict, dict[str, np.ndarray]]:
        meta: dict = {"column": self.column.name, "has_missing": self.has_missing}
        if self.fallback is not None:
            meta["fallback"] = self.fallback
        arrays: dict[str, np.ndarray] = {}
        if self.categories is not None:
            meta["categories"] = list(self.categories)
        else:
            meta["bins"], arrays = self.bins.to_state(prefix)
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, prefix: str, schema: Schema) -> ColumnCodec:
        """A codec saved by :meth:`to_state`, checked against ``schema``: a modelled column,
        its categories (categorical, boolean) or valid bins (numeric, datetime).

        A damaged state raises ``ValueError`` naming the column (the model loader adds the file).
        """
        column = schema[meta["column"]]
        name = column.name
        if not column.kind.modelled:
            raise ValueError(f"the model encodes column {name!r}, which is {column.kind} (not modelled)")
        if not isinstance(meta["has_missing"], bool):
            raise ValueError(f"column {name!r}: has_missing must be true or false")
        cats = bins = None
        if column.kind in (Kind.CATEGORICAL, Kind.BOOLEAN):
            expected = [False, True] if column.kind is Kind.BOOLEAN else list(column.categories or ())
            found = meta.get("categories")
            if not isinstance(found, list) or found != expected:
                count = len(found) if isinstance(found, list) else "no"
                raise ValueError(
                    f"column {name!r}: the model's codes stand for {count} categories, which do not "
                    f"match the {len(expected)} categories of the schema"
                )
            cats = tuple(found)
        else:
            if not isinstance(meta.get("bins"), dict):
                raise ValueError(f"column {name!r} is {column.kind} but the model holds no bins for it")
            bins = Bins.from_state(meta["bins"], arrays, prefix)
        fallback = meta.get("fallback")
        n_values = len(cats) if cats is not None else bins.n_bins
        if fallback is not None and (
            isinstance(fallback, bool) or not isinstance(fallback, int) or not 0 <= fallback < n_values
        ):
            raise ValueError(f"column {name!r}: fallback code {fallback!r} is not one of its {n_values} codes")
        return cls(column, cats, bins, meta["has_missing"], fallback)


@dataclass(frozen=True, eq=False)
class TableEncoder:
    """Codecs for the modelled columns of a schema, in schema order."""

    codecs: tuple[ColumnCodec, ...]

    @classmethod
    def fit(cls, data: pd.DataFrame, schema: Schema, *, n_bins: int = 32) -> TableEncoder:
        """Codecs from the data itself: categories from the schema, bins from data quantiles.

        Reads the private data: for non-DP models only.
        """
        codecs = []
        for col in schema.modelled:
            s = data[col.name]
            if col.kind is Kind.BOOLEAN:
                codecs.append(ColumnCodec(col, (False, True), None, col.nullable))
            elif col.kind is Kind.CATEGORICAL:
                codecs.append(ColumnCodec(col, tuple(col.categories), None, col.nullable))
            else:
                values = to_numbers(s, col)
                bins = quantile_bins(values, n_bins, integer=col.kind is not Kind.FLOAT)
                codecs.append(ColumnCodec(col, None, bins, col.nullable))
        return cls(tuple(codecs))

    @property
    def names(self) -> list[str]:
        return [c.column.name for c in self.codecs]

    @property
    def sizes(self) -> list[int]:
        return [c.size for c in self.codecs]

    def encode(self, data: pd.DataFrame) -> np.ndarray:
        """An (n_rows, n_columns) int64 array of codes."""
        if not self.codecs:
            return np.zeros((len(data), 0), dtype=np.int64)
        return np.column_stack([c.encode(data[c.column.name]) for c in self.codecs])

    def decode(self, codes: np.ndarray, seed: Seed = None) -> pd.DataFrame:
        """The rows of ``codes`` as a frame (:meth:`frame` of :meth:`decode_values`)."""
        return self.frame(self.decode_values(codes, seed))

    def decode_values(self, codes: np.ndarray, seed: Seed = None) -> list[np.ndarray]:
        """Each column of ``codes`` decoded to one array (:meth:`ColumnCodec.decode_values`),
        the columns in order, drawing from one generator."""
        rng = as_rng(seed)
        return [c.decode_values(codes[:, j], rng) for j, c in enumerate(self.codecs)]

    def frame(self, values: list[np.ndarray]) -> pd.DataFrame:
        """The frame of :meth:`decode_values`' arrays (:meth:`ColumnCodec.as_series`)."""
        return pd.DataFrame({c.column.name: c.as_series(v)
                             for c, v in zip(self.codecs, values, strict=True)})

    def to_state(self, prefix: str = "enc") -> tuple[list, dict[str, np.ndarray]]:
        metas, arrays = [], {}
        for j, c in enumerate(self.codecs):
            meta, arr = c.to_state(f"{prefix}.{j}")
            metas.append(meta)
            arrays.update(arr)
        return metas, arrays

    @classmethod
    def from_state(cls, metas: list, arrays: dict, schema: Schema, prefix: str = "enc") -> TableEncoder:
        """Codecs saved by :meth:`to_state`: one per modelled column of ``schema``, in its order.

        A damaged state raises ``ValueError`` (the model loader adds the file name).
        """
        if not isinstance(metas, list) or not all(isinstance(m, dict) for m in metas):
            raise ValueError(f"encoder {prefix!r} is not a list of column codecs")
        codecs = tuple(ColumnCodec.from_state(m, arrays, f"{prefix}.{j}", schema) for j, m in enumerate(metas))
        names = [c.column.name for c in codecs]
        expected = [c.name for c in schema.modelled]
        if names != expected:
            raise ValueError(
                f"encoder {prefix!r} encodes columns {names}, but the schema models {expected}"
            )
        return cls(codecs)
