"""Synthetic rows straight to Arrow: the table a Parquet output of ``model.sample`` holds,
built from the decoded arrays without a pandas frame in between.

:func:`~lookalike.synthesizers.sample_to_file` writes, chunk after chunk, the Arrow table
``arrow_output(model.sample(k, seed=s), model.schema_)``. For the families that decode codes
(those with ``_draw_columns``: mst, aim, privbayes, independent) :class:`ArrowRows` builds
that same table from the same random numbers (the same values, Arrow types and schema
metadata, so the same Parquet bytes), one column at a time:

* categories with text labels: an Arrow ``take`` of the labels by the codes, without a Python
  object per row (an ``object`` column costs about ten times as much to build and convert);
* integers and floats: one NumPy array and its validity mask, in the type ``sample`` restores
  (found by restoring a few values that decide it: the least and largest value and whether
  one is missing);
* keys numbered 1, 2, ... (identifier format ``"integer"``): the same numbers, as one array;
* every other column (dates, datetimes, booleans, patterned keys, categorical dtypes, text
  in a dtype of another kind...): ``sample``'s own steps (decode, assemble, restore,
  ``arrow_output``) for that column alone.

``sample`` draws in parts of :data:`~lookalike.synthesizers.base.SAMPLE_CHUNK` rows and
then the keys of patterned identifiers; :meth:`ArrowRows.draw` draws in the same order, so
the rows are those of ``sample`` for the same generator. :meth:`ArrowRows.of` gives None
where it cannot promise the same table (a polars container, a family without
``_draw_columns``); conditions are not its business (the caller samples those with
``model.sample``). Sampling is post-processing of the fitted model: no data, no budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lookalike._storage import (
    ColumnType,
    _arrow_table,
    _pandas_column,
    as_input_arrow,
    held_as_text,
)
from lookalike.schema import Column, Kind
from lookalike.transform.encoder import ColumnCodec
from lookalike.transform.identifiers import fresh_identifiers, integer_identifiers

__all__ = ["ArrowRows"]

#: one column of a chunk: (the decoded arrays of the chunk, its rows, the generator) ->
#: (its Arrow array, an empty pandas column of the dtype ``sample`` would give it)
Step = Callable[[Sequence[np.ndarray], int, np.random.Generator], tuple[Any, pd.Series]]

_STRINGS = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_BLOCK = 1 << 15  # rows converted at a time: the temporaries stay in the CPU's cache


class ArrowRows:
    """Chunks of a model's synthetic rows as Arrow tables: :meth:`draw` gives
    ``arrow_output(model.sample(n, seed=rng), model.schema_)`` (see the module text)."""

    def __init__(self, model: Any, container: str, steps: list[tuple[str, Step]],
                 attrs: dict[str, str], narrow: list[Any]) -> None:
        self.model, self.container, self.steps, self.attrs = model, container, steps, attrs
        self.narrow = narrow  # per decoded column: the integer type its codes fit (None: as drawn)

    @classmethod
    def of(cls, model: Any) -> ArrowRows | None:
        """The Arrow sampler of a fitted ``model``; None when its family has no
        ``_draw_columns`` or its rows are a polars frame."""
        from lookalike.synthesizers.base import Synthesizer

        if type(model)._draw_columns is Synthesizer._draw_columns:
            return None
        storage = getattr(model, "storage_", None)
        container = "pandas" if storage is None else storage.container
        if container not in ("pandas", "arrow"):
            return None
        types: dict[str, ColumnType] = {} if storage is None else dict(storage.columns)
        arrow = container == "arrow"
        real = getattr(model, "_real_ids", None) or {}
        codecs = {c.column.name: (j, c) for j, c in enumerate(model.encoder_.codecs)}
        steps: list[tuple[str, Step]] = []
        for col in model.schema_.columns:
            if col.kind is Kind.TEXT:
                continue
            ct = None if storage is None else types.get(col.name)
            j, codec = codecs.get(col.name, (-1, None))
            step: Step | None
            if col.kind is Kind.IDENTIFIER and (col.format or "integer") == "integer":
                step = _integers(col, ct, arrow, None, real.get(col.name))
            elif codec is not None and col.kind is Kind.CATEGORICAL:
                step = _labels(col, ct, arrow, j, codec)
            elif codec is not None and col.kind is Kind.INTEGER:
                step = _integers(col, ct, arrow, j)
            elif codec is not None and col.kind is Kind.FLOAT:
                step = _floats(col, ct, arrow, j)
            elif codec is None and col.kind is not Kind.IDENTIFIER:
                return None  # (a modelled column the encoder does not hold)
            else:
                step = None
            steps.append((col.name, step or _restored(model, col, ct, arrow, j, codec, types)))
        attrs = {} if storage is None else storage.csv_attrs(model.schema_)  # as restore has
        # one row drawn here builds what the family derives on its first draw (a junction
        # tree's samplers, alias tables), once, before threads draw
        model._draw_columns(1, np.random.default_rng(0))
        return cls(model, container, steps, attrs, [_code_type(c) for c in model.encoder_.codecs])

    def draw(self, n: int, rng: np.random.Generator) -> pa.Table:
        """``n`` rows drawn with ``rng`` as ``model.sample(n, seed=rng)`` draws them, as
        the Arrow table ``arrow_output`` makes of those."""
        from lookalike.synthesizers.base import SAMPLE_CHUNK

        values: list[np.ndarray] = []
        for start in range(0, n, SAMPLE_CHUNK):  # sample's parts, each into its rows
            part = self.model._draw_columns(min(SAMPLE_CHUNK, n - start), rng)
            if not values:
                values = [np.empty(n, dtype=t or v.dtype) for t, v in zip(self.narrow, part, strict=True)]
            for out, v in zip(values, part, strict=True):
                out[start:start + len(v)] = v
            del part
        arrays, empties = [], {}
        for name, step in self.steps:
            arr, empty = step(values, n, rng)
            arrays.append(arr)
            empties[name] = empty
        schema = pa.schema([pa.field(name, arr.type) for (name, _), arr in
                            zip(self.steps, arrays, strict=True)])
        if self.container == "pandas":  # the pandas metadata write_table's from_pandas stores
            frame = pd.DataFrame(empties)
            frame.attrs = dict(self.attrs)
            schema = pa.Table.from_pandas(frame, schema=schema, preserve_index=False).schema
        return pa.Table.from_arrays(arrays, schema=schema)


def _code_type(codec: ColumnCodec) -> Any:
    """The narrowest integer type of a category column's codes (a chunk's codes are copied
    once, into it); None for numbers (floats, as drawn)."""
    if codec.categories is None:
        return None
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if codec.size <= np.iinfo(t).max)


def _restore(col: Column, ct: ColumnType | None, values: pd.Series) -> pd.Series:
    """``values`` (a column in lookalike's canonical dtype) as ``Storage.restore`` stores it."""
    return values if ct is None else _pandas_column(values, col, ct)


def _as_arrow(col: Column, restored: pd.Series, arrow: bool, types: dict) -> tuple[Any, pd.Series]:
    """A restored column as ``arrow_output`` makes it (a pandas container: text dates parsed,
    unless a typed source held them as text, then ``from_pandas``; an Arrow one: the input's
    Arrow type), with its empty dtype."""
    from lookalike.io import _parquet_table, _typed_dates
    from lookalike.schema import Schema

    frame = pd.DataFrame({col.name: restored})
    if arrow:
        return _arrow_table(frame, types).column(0), restored.iloc[:0]
    typed = frame if held_as_text(types.get(col.name)) else _typed_dates(frame, Schema((col,)))
    return _parquet_table(typed).column(0), typed[col.name].iloc[:0]


def _restored(model: Any, col: Column, ct: ColumnType | None, arrow: bool, j: int,
              codec: ColumnCodec | None, types: dict) -> Step:
    """A column through ``sample``'s own steps: decoded (or fresh keys drawn), assembled,
    restored and converted alone."""
    from lookalike.synthesizers.base import _as_written

    def step(values: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> tuple[Any, pd.Series]:
        if col.kind is Kind.IDENTIFIER:
            fmt = col.format or "integer"
            ids = fresh_identifiers(fmt, n, rng, (getattr(model, "_real_ids", None) or {}).get(col.name))
            s = pd.Series(ids, dtype="Int64" if fmt == "integer" else object)
        else:
            assert codec is not None
            s = codec.as_series(values[j])
            if col.kind is Kind.BOOLEAN:
                s = _as_written(s, col.categories)
        return _as_arrow(col, _restore(col, ct, s), arrow, types)

    return step


def _labels(col: Column, ct: ColumnType | None, arrow: bool, j: int,
            codec: ColumnCodec) -> Step | None:
    """Text categories: the labels taken by code, in the Arrow type the restored column
    converts to (found by restoring one label, and one missing value)."""
    cats = codec.categories or ()
    if not all(type(c) is str for c in cats) or (ct is not None and (ct.dtype == "category" or ct.enum)):
        return None
    probes = []
    for value in ("x", None):
        restored = _restore(col, ct, pd.Series([value], dtype=object))
        kind = pa.array(restored, from_pandas=True).type
        if not (pa.types.is_null(kind) or any(is_text(kind) for is_text in _STRINGS)):
            return None  # (restored as something else than text: sample's own steps)
        probes.append((kind, restored.iloc[:0]))
    labels = pa.array([*cats, None], type=pa.string())

    def step(values: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> tuple[Any, pd.Series]:
        codes = values[j]
        present = bool((codes < codec.n_values).any())
        kind, empty = probes[0] if present else probes[1]
        if pa.types.is_null(kind):  # a text column without a value: text, as arrow_output
            arr = pa.nulls(n, pa.string())
        else:
            arr = pc.take(labels, pa.array(codes))
            if arr.type != kind:
                arr = arr.cast(kind)
        return (as_input_arrow(arr, ct) if arrow else arr), empty

    return step


def _integers(col: Column, ct: ColumnType | None, arrow: bool, j: int | None,
              real: Any = None) -> Step:
    """Whole numbers (a column's decoded values, or keys 1, 2, ... avoiding ``real``) in the
    type the restored column takes: decided by restoring the least and largest value and a
    missing one if any (the values' width and nullability depend on nothing else); a type
    that is not an integer one falls back to ``sample``'s steps for the chunk."""

    def step(values: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> tuple[Any, pd.Series]:
        if j is None:
            ints, missing = integer_identifiers(n, real), None
        else:
            ints, missing = _whole(values[j])
        present = ints if missing is None else ints[~missing]
        probe = pd.array([present.min(), present.max()] if len(present) else [], dtype="Int64")
        if missing is not None:
            probe = pd.array([*probe, pd.NA], dtype="Int64")
        restored = _restore(col, ct, pd.Series(probe))
        dtype = restored.dtype
        numpy_type = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
        if numpy_type is None or not np.issubdtype(numpy_type, np.integer) or (
                isinstance(dtype, np.dtype) and missing is not None):
            full = pd.Series(pd.array(ints, dtype="Int64"))
            if missing is not None:
                full[missing] = pd.NA
            return _as_arrow(col, _restore(col, ct, full), arrow, {col.name: ct} if ct else {})
        arr = pa.array(ints.astype(numpy_type, copy=False), mask=missing)
        return (as_input_arrow(arr, ct) if arrow else arr), restored.iloc[:0]

    return step


def _whole(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Floats as :func:`~lookalike.transform.encoder.from_numbers` makes integers of them
    (rounded, int64; 0 where missing) and the missing ones (None: none), in blocks that stay
    in the CPU's cache."""
    ints = np.empty(len(x), dtype=np.int64)
    nan = np.empty(len(x), dtype=bool)
    for start in range(0, len(x), _BLOCK):
        part = np.round(x[start:start + _BLOCK])
        gap = np.isnan(part, out=nan[start:start + _BLOCK])
        part[gap] = 0
        ints[start:start + _BLOCK] = part  # (whole numbers: the cast is exact)
    return ints, (nan if nan.any() else None)


def _floats(col: Column, ct: ColumnType | None, arrow: bool, j: int) -> Step | None:
    """Floating-point numbers (NaN: missing) in float64, or float32 where the input was,
    rounded to the decimals the input wrote (as ``sample`` restores them)."""
    if ct is not None and (ct.dtype not in (None, "float64", "float32") or ct.enum):
        return None
    numpy_type = np.dtype("float32" if ct is not None and ct.dtype == "float32" else "float64")

    decimals = None if ct is None else ct.decimals

    def step(values: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> tuple[Any, pd.Series]:
        x = values[j] if decimals is None else np.round(values[j], decimals)
        arr = pa.array(x.astype(numpy_type, copy=False), from_pandas=True)
        return (as_input_arrow(arr, ct) if arrow else arr), pd.Series([], dtype=numpy_type)

    return step
