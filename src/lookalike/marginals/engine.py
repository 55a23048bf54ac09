"""Where count queries run: the exact (private) counts that DP mechanisms then noise.

An engine answers three kinds of query over one private table, and nothing else: counts of
each distinct value of a categorical column, counts of a numeric column's values between given
edges, and k-way marginals of the codes of a :class:`~lookalike.transform.encoder.TableEncoder`.
Its answers are exact and private: only :mod:`lookalike.privacy` mechanisms may release them.

:class:`NumpyEngine` works on a DataFrame in memory; :class:`~lookalike.marginals.duckdb.DuckDBEngine`
pushes the same queries into DuckDB as GROUP BY counts over a file or table, so the raw rows never
enter Python. Both give identical answers (tested).

>>> import pandas as pd
>>> from lookalike.schema import infer_schema
>>> df = pd.DataFrame({"sex": ["F", "M", "M", None] * 5, "age": [20, 35, 50, 65] * 5})
>>> engine = NumpyEngine(df, infer_schema(df))
>>> engine.value_counts("sex")
{'F': 5, 'M': 10}
>>> engine.histogram("age", [30.0, 60.0]).tolist()
[5, 10, 5]
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from lookalike.errors import ColumnError
from lookalike.schema import Kind, Schema
from lookalike.transform.encoder import TableEncoder, to_numbers

__all__ = ["Engine", "NumpyEngine", "marginal_from_codes", "marginal_request"]


@runtime_checkable
class Engine(Protocol):
    """Exact count queries over one private table (see the module docstring)."""

    schema: Schema

    def n_rows(self) -> int:
        """The exact number of rows (private: DP fits release it only with noise)."""

    def value_counts(self, column: str) -> dict:
        """Count of each distinct non-missing value of a categorical or boolean column."""

    def histogram(self, column: str, edges) -> np.ndarray:
        """Counts of a numeric/datetime column's non-missing values in ``len(edges) + 1`` cells.

        Cell 0 holds values below ``edges[0]``, cell ``i`` values in ``[edges[i-1], edges[i])``,
        the last cell values at or above ``edges[-1]``. Datetimes count in the column's unit
        since 1970-01-01 (as :func:`~lookalike.transform.encoder.to_numbers`).
        """

    def histograms(self, requests) -> dict:
        """Many histograms at once, ``{column: edges}`` -> ``{column: counts}`` (one pass over
        the rows where the engine can), each as :meth:`histogram` gives it."""

    def value_counts_many(self, columns) -> dict:
        """Many columns' value counts at once, ``{column: counts}`` (one pass where the engine
        can), each as :meth:`value_counts` gives it."""

    def bind(self, encoder: TableEncoder) -> None:
        """Fix the codes that :meth:`marginal` counts."""

    def marginal(self, attrs: tuple[str, ...]) -> np.ndarray:
        """Counts of the bound encoder's codes of ``attrs``: an int64 array, one axis per attr."""

    def marginals(self, attrs_list) -> dict:
        """Many marginals at once, ``{attrs: counts}`` (one scan where the engine can)."""


def marginal_request(attr_sets, names: list[str]) -> tuple[list[tuple[str, ...]], list[frozenset]]:
    """A request for many marginals checked against the bound encoder's ``names``: the
    marginals asked (as tuples) and the distinct sets of columns to count, in order."""
    wanted = [tuple(a) for a in attr_sets]
    for attrs in wanted:
        if any(a not in names for a in attrs) or len(set(attrs)) != len(attrs):
            raise ColumnError(f"cannot count marginal {attrs}: attributes must be distinct "
                              f"columns of the bound encoder ({names})")
    return wanted, list(dict.fromkeys(frozenset(a) for a in wanted))


def marginal_from_codes(codes: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Counts of each combination of the code columns of ``codes`` (shape ``sizes``)."""
    if codes.shape[1] == 0:
        return np.array(len(codes), dtype=np.int64)
    flat = np.ravel_multi_index(tuple(codes.T), sizes)
    return np.bincount(flat, minlength=int(np.prod(sizes))).reshape(sizes).astype(np.int64)


class NumpyEngine:
    """Count queries on a (conformed) DataFrame held in memory."""

    def __init__(self, data: pd.DataFrame, schema: Schema) -> None:
        self.data = data
        self.schema = schema
        self._codes: np.ndarray | None = None
        self._names: list[str] = []
        self._sizes: list[int] = []

    def _column(self, column: str):
        if column not in self.schema:
            raise ColumnError(f"no column {column!r} in the table; columns: {self.schema.names}")
        return self.schema[column]

    def n_rows(self) -> int:
        return len(self.data)

    def value_counts(self, column: str) -> dict:
        col = self._column(column)
        s = self.data[column]
        if col.kind is Kind.BOOLEAN:
            s = s.astype("boolean")
        counts = s.dropna().value_counts(sort=False)
        return {(bool(k) if col.kind is Kind.BOOLEAN else k): int(v) for k, v in counts.items()}

    def histogram(self, column: str, edges) -> np.ndarray:
        col = self._column(column)
        values = to_numbers(self.data[column], col)
        values = values[~np.isnan(values)]
        edges = np.asarray(edges, dtype=float)
        cells = np.searchsorted(edges, values, side="right")
        return np.bincount(cells, minlength=len(edges) + 1).astype(np.int64)

    def histograms(self, requests) -> dict:
        """Histograms of many columns (``{column: edges}``): in memory there is no pass to
        save, so one :meth:`histogram` each."""
        return {column: self.histogram(column, edges) for column, edges in requests.items()}

    def value_counts_many(self, columns) -> dict:
        """Value counts of many columns: one :meth:`value_counts` each (in memory)."""
        return {column: self.value_counts(column) for column in columns}

    def bind(self, encoder: TableEncoder) -> None:
        self._codes = encoder.encode(self.data)
        self._names = encoder.names
        self._sizes = encoder.sizes

    def marginal(self, attrs: tuple[str, ...]) -> np.ndarray:
        if self._codes is None:
            raise RuntimeError("bind an encoder before asking for marginals")
        idx = [self._names.index(a) for a in attrs]
        return marginal_from_codes(self._codes[:, idx], [self._sizes[i] for i in idx])

    def marginals(self, attrs_list) -> dict:
        return {tuple(a): self.marginal(tuple(a)) for a in attrs_list}
