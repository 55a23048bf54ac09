"""One-call entry points shared by the Python API and the CLI.

>>> import lookalike
>>> real = lookalike.load_demo().head(1000)
>>> rows = lookalike.synthesize(real, 10, synthesizer="independent", seed=0)
>>> rows.shape
(10, 15)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.errors import ColumnMismatchError
from lookalike.io import read_table
from lookalike.schema import Schema, resolve_schema
from lookalike.synthesizers import Synthesizer, get_synthesizer

__all__ = ["fit", "synthesize", "load_data"]


def load_data(
    source: Any,
    *,
    drop: Iterable[str] = (),
    read_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read ``source`` (path, URL, DataFrame, ...) and drop the named columns."""
    df = read_table(source, **dict(read_options or {}))
    drop = list(drop)
    unknown = [c for c in drop if c not in df.columns]
    if unknown:
        raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are {list(df.columns)}")
    return df.drop(columns=drop)


def fit(
    data: Any,
    synthesizer: str = "cart",
    *,
    schema: Schema | Mapping | str | os.PathLike | None = None,
    drop: Iterable[str] = (),
    read_options: Mapping[str, Any] | None = None,
    seed: Seed = None,
    epsilon: float | None = None,
    delta: float | None = None,
    **params: Any,
) -> Synthesizer:
    """Read ``data``, infer or apply a schema, and fit synthesizer ``synthesizer``."""
    model = get_synthesizer(synthesizer, **params)
    df = load_data(data, drop=drop, read_options=read_options)
    return model.fit(df, resolve_schema(df, schema), epsilon=epsilon, delta=delta, seed=seed)


def synthesize(
    data: Any,
    n: int | None = None,
    *,
    synthesizer: str = "cart",
    schema: Schema | Mapping | str | os.PathLike | None = None,
    drop: Iterable[str] = (),
    conditions: Mapping[str, Any] | None = None,
    read_options: Mapping[str, Any] | None = None,
    seed: Seed = None,
    **params: Any,
) -> pd.DataFrame:
    """Fit and sample in one go; ``n`` defaults to the number of input rows."""
    rng = as_rng(seed)
    model = fit(data, synthesizer, schema=schema, drop=drop, read_options=read_options, seed=rng, **params)
    return model.sample(n or model.n_rows_, conditions=conditions, seed=rng)
