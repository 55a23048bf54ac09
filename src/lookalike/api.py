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
from lookalike._storage import container_of
from lookalike.errors import ColumnMismatchError, ConfigError
from lookalike.io import CsvFile, read_table
from lookalike.privacy.budget import PrivacyRequest, privacy_request
from lookalike.schema import Schema, as_schema
from lookalike.synthesizers import Synthesizer, get_synthesizer

__all__ = ["fit", "synthesize", "load_data", "prepare_fit"]

#: read options DuckDB honours when it reads a CSV file itself (engine="duckdb")
_DUCKDB_CSV = ("decimal", "delimiter")


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


def prepare_fit(
    synthesizer: str,
    *,
    epsilon: float | None = None,
    delta: float | None = None,
    ledger: Any = None,
    dataset: str | None = None,
    register: bool = False,
    **params: Any,
) -> tuple[Synthesizer, PrivacyRequest]:
    """A new synthesizer and its validated privacy request, checked against the budget.

    Everything knowable without reading the data is checked here: the family and its
    hyper-parameters, DP support, ε and δ, the ledger and the dataset's budget (a fit it cannot
    pay for is refused; nothing is registered or charged).
    """
    model = get_synthesizer(synthesizer, **params)
    request = privacy_request(epsilon, delta, ledger, dataset, register=register,
                              family=model.name, supports_dp=model.supports_dp)
    model._validate(request)
    return model, request


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
    ledger: Any = None,
    dataset: str | None = None,
    register: bool = False,
    **params: Any,
) -> Synthesizer:
    """Read ``data``, infer or apply a schema, and fit synthesizer ``synthesizer``.

    The model samples rows stored as ``data`` was: a polars frame for a polars input, an
    Arrow table for an Arrow one, else pandas; each column in the input's dtype. The options
    and the budget are checked before the data is read; a DP fit (``epsilon``
    given) with a ``ledger`` (object or path) is charged to ``dataset``'s budget in one
    reservation, and ``register`` gives a dataset the ledger does not know this fit's (ε, δ)
    as its limit. ``drop`` leaves columns out, also when ``engine='duckdb'`` keeps the rows in
    DuckDB.
    """
    model, request = prepare_fit(synthesizer, epsilon=epsilon, delta=delta, ledger=ledger,
                                 dataset=dataset, register=register, **params)
    container = container_of(data)
    data, schema = open_input(model, data, schema=schema, drop=drop, read_options=read_options)
    return model._fit_request(data, schema, request, seed, container=container)


def open_input(model: Synthesizer, data: Any, *, schema: Any = None, drop: Iterable[str] = (),
               read_options: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
    """(data, schema) as the model's fit takes them: a DataFrame read with ``read_options``
    less the ``drop`` columns, or, for a DuckDB pushdown over a file (``engine='duckdb'``, or
    ``'auto'`` and a file over 1 GB), the path and its schema less the ``drop`` columns (the
    rows stay in DuckDB; the options ``decimal`` and ``delimiter`` go with the path, as a
    :class:`~lookalike.io.CsvFile`, so that DuckDB reads the file as ``read_table`` would).

    Without a schema, the DuckDB one is inferred here, once, as ``infer_schema`` infers it
    (same refusals and warnings, before any budget is charged); the dropped columns are never
    read, inferred or warned about.
    """
    drop = list(drop)
    read_options = dict(read_options or {})
    if _on_spark(model, data):
        return _open_spark(model, data, schema, drop, read_options)
    if _pushed_down(model, data, read_options):
        csv_options = {k: read_options.pop(k) for k in _DUCKDB_CSV if k in read_options}
        extra = sorted(set(read_options) - {"table", "query"})
        if extra:
            raise ConfigError(
                f"engine=duckdb reads the file itself: {', '.join('--' + e for e in extra)} do not "
                "apply; convert the file to UTF-8 CSV or Parquet, or use the default engine"
            )
        if read_options:
            raise ConfigError("engine=duckdb reads CSV and Parquet files itself; --table/--query "
                              "do not apply to it: use the default engine for databases")
        from lookalike.marginals.duckdb import schema_from_duckdb

        if any(v is not None for v in csv_options.values()):
            data = CsvFile(data, **csv_options)
        if schema is None:
            return data, schema_from_duckdb(data, drop=drop)
        if not drop:
            return data, schema
        full = as_schema(schema)
        unknown = [c for c in drop if c not in full.names]
        if unknown:
            raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are {full.names}")
        return data, Schema(tuple(c for c in full.columns if c.name not in drop))
    return load_data(data, drop=drop, read_options=read_options), schema


def _on_spark(model: Synthesizer, data: Any) -> bool:
    """Whether the rows stay in Spark: a Spark DataFrame, or ``engine='spark'``."""
    from lookalike.marginals.spark import is_spark_frame

    return is_spark_frame(data) or getattr(model, "engine", None) == "spark"


def _open_spark(model: Synthesizer, data: Any, schema: Any, drop: list[str],
                read_options: dict[str, Any]) -> tuple[Any, Any]:
    """(Spark DataFrame less ``drop``, schema) for a fit whose rows stay in Spark: the schema
    inferred by Spark's aggregates when not given (before any budget is charged). Families
    that learn from rows in memory are refused, naming the ones that count in Spark."""
    from lookalike.marginals.spark import not_in_memory, schema_from_spark, spark_frame

    if getattr(model, "engine", None) not in ("spark", "auto"):
        if hasattr(model, "engine"):
            raise ConfigError(f"a Spark DataFrame stays in Spark: engine='spark' (or 'auto') "
                              f"counts it there, engine={model.engine!r} cannot read it")
        raise not_in_memory(model.name)
    frame, _ = spark_frame(data, read_options)
    unknown = [c for c in drop if c not in frame.columns]
    if unknown:
        raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are "
                                  f"{list(frame.columns)}")
    frame = frame.drop(*drop) if drop else frame
    if schema is None:
        return frame, schema_from_spark(frame)
    full = as_schema(schema)
    return frame, Schema(tuple(c for c in full.columns if c.name not in drop))


def _pushed_down(model: Synthesizer, data: Any, read_options: Mapping[str, Any]) -> bool:
    """Whether the fit leaves the rows of ``data`` in DuckDB: ``engine='duckdb'`` over a file,
    or ``'auto'`` over a file over 1 GB read without options but ``decimal`` and ``delimiter``,
    which DuckDB honours (as the model's own ``fit`` of a path decides)."""
    if not isinstance(data, (str, os.PathLike)):
        return False
    engine = getattr(model, "engine", None)
    if engine == "auto" and not set(read_options) - set(_DUCKDB_CSV):
        from lookalike.synthesizers._marginal import _is_big_file

        return _is_big_file(data)
    return engine == "duckdb"


def synthesize(
    data: Any,
    n: int | None = None,
    *,
    synthesizer: str = "cart",
    schema: Schema | Mapping | str | os.PathLike | None = None,
    drop: Iterable[str] = (),
    conditions: Any = None,
    read_options: Mapping[str, Any] | None = None,
    seed: Seed = None,
    epsilon: float | None = None,
    delta: float | None = None,
    ledger: Any = None,
    dataset: str | None = None,
    **params: Any,
) -> Any:
    """Fit and sample in one go; ``n`` defaults to the number of input rows (for a DP fit,
    to the model's noisy estimate of it: the real count is private), or with a table of
    per-row ``conditions`` to its row count (conditions: see :meth:`Synthesizer.sample
    <lookalike.synthesizers.base.Synthesizer.sample>`; post-processing, no privacy cost).

    The rows come back as ``data`` was stored (see :func:`fit`): a pandas DataFrame, or a
    polars DataFrame or Arrow table for such an input, each column in its input dtype; for
    rows left in Spark (a Spark DataFrame, or ``engine="spark"``), a Spark DataFrame whose rows
    are generated on the executors (:func:`~lookalike.synthesizers.sample_spark`)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"number of rows to sample must be a positive integer, got {n!r} (-n)")
    rng = as_rng(seed)
    model = fit(data, synthesizer, schema=schema, drop=drop, read_options=read_options, seed=rng,
                epsilon=epsilon, delta=delta, ledger=ledger, dataset=dataset, **params)
    per_row = hasattr(conditions, "columns") or hasattr(conditions, "to_pandas")  # a condition table
    default = None if per_row else model.n_rows_ or model.n_estimate_
    if _on_spark(model, data) and not per_row:  # rows that stay in Spark: a Spark DataFrame
        from lookalike.synthesizers import sample_spark

        return sample_spark(model, n or default, seed=rng, conditions=conditions)
    return model.sample(n or default, conditions=conditions, seed=rng)
