"""Sampling at scale: synthetic rows streamed to a file in chunks, or generated on Spark.

:func:`sample_to_file` draws ``n`` rows a chunk at a time and appends each chunk to one
Parquet or CSV file, so that memory holds a few chunks whatever ``n`` is: threads (one per
core by default) draw the next chunks while the file takes the last, and the file is the same
for any number of them. :func:`sample_spark` draws them on Spark's executors, each partition
its share, and returns a Spark DataFrame that Spark writes (``df.write.parquet(path)``)
without a generated row ever reaching the driver.

**Seeds.** Both are reproducible. A stream of ``n`` rows from seed ``s`` draws its chunk 0
(the first ``chunk_rows`` rows) from ``s`` itself, exactly as ``model.sample(k, seed=s)``
would, and its chunk ``i >= 1`` from the independent child seed
``numpy.random.SeedSequence(s).spawn(i + 1)[i]``. So a file of at most ``chunk_rows`` rows is
byte for byte the file ``write_table(model.sample(n, seed=s), path)`` writes, files of
different lengths drawn with the same seed and chunk size share their whole chunks, and
chunk ``i`` can be redrawn alone (by any thread, in any order). On Spark, partition ``i`` of
``p`` draws its share of the rows (``n // p``, plus one for the first ``n % p`` partitions)
as the stream above from seed ``SeedSequence(s).spawn(p)[i]``: the rows depend on the seed,
the partition count and the chunk size, not on the cluster, its executors or the order tasks
run in. (Chunk ``i`` of a file and the first chunk of partition ``i`` come from the same seed,
so use different seeds for a file and a Spark sample meant to be independent.) ``seed=None``
draws fresh entropy once; a NumPy ``Generator`` gives the root seed one draw.

**Keys.** Identifier columns numbered ``1, 2, ...`` (format ``"integer"``) continue from chunk
to chunk (numbered as the chunks are written, in order), and partition ``i``'s from the rows
before it, so keys stay unique over the whole output. Keys drawn from a pattern are unique
within a chunk; across chunks they can repeat, which is warned of (with the expected number)
when the pattern's values are too few.

**Speed.** A Parquet chunk of mst, aim, privbayes or independent is built as Arrow columns
straight from the model's decoded codes (:mod:`lookalike.synthesizers._arrow_rows`: the table
``arrow_output(model.sample(...))`` would give, from the same random numbers), and the draws
run in NumPy and Arrow code that releases the GIL, so threads use the cores without the cost
of processes (starting them, copying each chunk between them). ``benchmarks/sample_bulk.py``
measures it.

**Privacy.** Sampling is post-processing of the fitted model: it reads no data, charges no
privacy budget and keeps a DP model's guarantee however many rows are drawn. Spark's
executors get the model file's bytes (JSON + arrays, the same content as ``model.save``,
never a pickle of the fitted object) and load it as :func:`load_synthesizer` does; the
driver draws a few rows of its own to learn the output's column types.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import tempfile
import warnings
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lookalike._progress import progress
from lookalike.errors import ConditionError, ConfigError, DataError
from lookalike.schema import FAKE_PREFIX, Kind

__all__ = ["DEFAULT_CHUNK_ROWS", "default_workers", "sample_spark", "sample_to_file"]

DEFAULT_CHUNK_ROWS = 1_000_000
"""Rows drawn, held and written at a time by default: about 100-300 MB for a table of 15
columns (Adult), what the 2-core development machine writes fastest."""

MAX_DEFAULT_WORKERS = 4
"""The most threads drawing chunks by default: one thread writes the file (a Parquet chunk of
10^6 Adult rows takes it about 0.7 s, a draw about 1 s), so more drawers than this add
memory (a chunk each) and no speed."""

#: rows the driver draws to learn the Arrow types of a Spark sample's columns
_TYPE_ROWS = 1000
_WRITE_OPTIONS = ("format", "delimiter", "decimal", "encoding")


# ------------------------------------------------------------------------------ one machine
def sample_to_file(
    model: Any,
    path: str | os.PathLike,
    n: int,
    *,
    seed: int | np.random.Generator | np.random.SeedSequence | None = None,
    conditions: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
    overwrite: bool = False,
    **write_options: Any,
) -> Path:
    """Stream ``n`` synthetic rows from a fitted ``model`` to a Parquet or CSV file, a chunk
    of ``chunk_rows`` rows at a time; return the path written.

    The file is the one :func:`~lookalike.io.write_table` would write for all the rows at
    once (``schema=model.schema_``; ``write_options`` are its ``format``, ``delimiter``,
    ``decimal`` and ``encoding``): Parquet with the first chunk's Arrow schema (the logical
    types of the model's input) and one row group per chunk, or CSV (.csv, .csv.gz, .tsv) with
    one header and each chunk's rows in the same text formats. No draw is of more than
    ``chunk_rows`` rows; like ``write_table`` it is atomic: an existing file is kept unless
    ``overwrite``, and a failure (or Ctrl-C) leaves nothing behind.

    ``workers`` threads draw chunks while the file is written (default: for Parquet, one
    per CPU core this process may use, at most :data:`MAX_DEFAULT_WORKERS`; for CSV, 1,
    since pandas writes the text holding Python's global lock and more threads then add
    memory, not speed; 1: draw, then write, one chunk at a time). Each chunk is drawn
    from its own seed and written in order, so the file is the same for any ``workers``;
    memory holds at most ``workers + 1`` chunks (one per thread, and the one being
    written). The draws run in NumPy and Arrow code that releases the GIL, so the threads
    use the cores; a Parquet output of mst, aim, privbayes or independent is built as
    Arrow columns straight from the decoded codes (the same table as from ``model.sample``'s
    frame, for a third of its CPU time on Adult: :mod:`lookalike.synthesizers._arrow_rows`).

    ``conditions`` are those of :meth:`~lookalike.synthesizers.Synthesizer.sample` that hold
    for every row: a mapping or expressions, honoured in every chunk (a table of per-row
    conditions is a sample of its own size: sample it with ``model.sample``). Families that
    condition by rejection (not ``exact_conditions``) draw more candidate rows than they keep.

    Seeds: chunk 0 is drawn from ``seed`` itself, as ``model.sample(k, seed=seed)`` draws, and
    chunk ``i >= 1`` from ``numpy.random.SeedSequence(seed).spawn(i + 1)[i]`` (a Generator
    gives the root seed one draw; ``None``, fresh entropy). So the file is the same for the
    same seed and ``chunk_rows``; with ``n <= chunk_rows`` it is byte for byte the file
    ``write_table(model.sample(n, seed=seed), path, schema=model.schema_)`` writes; files of
    different lengths share their whole chunks. Identifier keys numbered 1, 2, ... continue
    from chunk to chunk (unique over the file); keys drawn from a pattern are unique within a
    chunk, and a warning gives the expected number of repeats across chunks when the
    pattern has too few values.

    Post-processing of the fitted model: no data is read and no privacy budget is spent.

    >>> import tempfile, lookalike
    >>> model = lookalike.get_synthesizer("independent").fit(lookalike.load_demo().head(300), seed=0)
    >>> path = sample_to_file(model, Path(tempfile.mkdtemp()) / "rows.parquet", 2500,
    ...                       seed=1, chunk_rows=1000)
    >>> import pyarrow.parquet as pq
    >>> meta = pq.ParquetFile(path).metadata
    >>> meta.num_rows, meta.num_row_groups
    (2500, 3)
    """
    from lookalike.io import table_writer

    n, chunk_rows = _count(n, "n"), _count(chunk_rows, "chunk_rows")
    threads = None if workers is None else _workers(workers)
    unknown = sorted(set(write_options) - set(_WRITE_OPTIONS))
    if unknown:
        raise ConfigError(f"sample_to_file takes no option {', '.join(map(repr, unknown))}; its "
                          f"write options are write_table's {list(_WRITE_OPTIONS)} (the schema is "
                          "the model's)")
    model._require_fitted()
    plan = _plan(model, conditions)
    root = _root(seed)
    _warn_repeated_keys(model, n, chunk_rows)
    target = Path(path).expanduser()
    with table_writer(target, overwrite=overwrite, schema=model.schema_, **write_options) as out, \
            progress(f"{model.name}: sampling rows to {target.name}", n) as advance:
        parquet = out.format == "parquet"
        arrow = _arrow_rows_of(model, plan) if parquet else None
        threads = threads or (default_workers() if parquet else 1)
        for rows in _stream(model, n, root, chunk_rows, plan, arrow=arrow, workers=threads):
            out.write(rows)
            advance(len(rows))
    return target


def default_workers() -> int:
    """Threads :func:`sample_to_file` draws a Parquet file with by default: the CPU cores
    this process may run on (its affinity; all cores where the system does not say), at
    most :data:`MAX_DEFAULT_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def _workers(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"workers must be a positive whole number of threads (1: draw and "
                          f"write one chunk at a time), got {value!r}")
    return int(value)


def _arrow_rows_of(model: Any, plan: Any) -> Any:
    """The Arrow sampler of ``model`` (:mod:`~lookalike.synthesizers._arrow_rows`), or None
    when it has none or ``plan`` holds conditions (then chunks come from ``model.sample``)."""
    from lookalike.synthesizers._arrow_rows import ArrowRows

    return ArrowRows.of(model) if plan is None else None


def _stream(model: Any, n: int, root: np.random.SeedSequence, chunk_rows: int, plan: Any,
            first_key: int = 0, *, arrow: Any = None, workers: int = 1) -> Iterator[Any]:
    """``n`` rows in chunks of at most ``chunk_rows``, chunk ``i`` drawn with
    :func:`_chunk_seed` ``(root, i)`` (by ``arrow``, an :class:`~lookalike.synthesizers.
    _arrow_rows.ArrowRows` of the model, as Arrow tables, else by ``model.sample``), in order;
    integer keys numbered on from ``first_key``.

    With ``workers > 1``, that many threads draw the chunks ahead: at most ``workers`` are
    drawn or waiting while the caller holds the last one yielded. Keys are numbered here, in
    order, so the rows do not depend on which thread drew what.
    """
    keys = _RunningKeys(model, first_key)
    chunks = ((i, min(chunk_rows, n - start)) for i, start in enumerate(range(0, n, chunk_rows)))
    if workers <= 1 or n <= chunk_rows:
        for i, k in chunks:
            yield keys.renumber(_draw_chunk(model, root, plan, arrow, i, k))
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="lookalike-sample")
    pending: deque = deque()
    try:
        for i, k in itertools.islice(chunks, workers):
            pending.append(pool.submit(_draw_chunk, model, root, plan, arrow, i, k))
        while pending:
            rows = pending.popleft().result()
            for i, k in itertools.islice(chunks, 1):  # the next chunk, while this one is written
                pending.append(pool.submit(_draw_chunk, model, root, plan, arrow, i, k))
            yield keys.renumber(rows)
            del rows
    finally:  # (an error, Ctrl-C or a closed stream: drop the chunks not begun)
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def _draw_chunk(model: Any, root: np.random.SeedSequence, plan: Any, arrow: Any, i: int,
                k: int) -> Any:
    """Chunk ``i`` (``k`` rows) of a stream from ``root``, before its keys are numbered."""
    rng = np.random.default_rng(_chunk_seed(root, i))
    if arrow is not None:
        return arrow.draw(k, rng)
    return model.sample(k, conditions=plan, seed=rng)


def _chunk_seed(root: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """Chunk ``i``'s seed: ``root`` for chunk 0, else ``root.spawn(i + 1)[i]`` (made directly,
    so that ``root`` is left as it was)."""
    return root if i == 0 else _child(root, i)


def _child(root: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """``root.spawn(i + 1)[i]``, made directly so that ``root`` is left as it was."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i),
                                  pool_size=root.pool_size)


def _root(seed: Any) -> np.random.SeedSequence:
    """The seed sequence a stream starts from (see the module text)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, a numpy Generator or "
                          f"SeedSequence, or None, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def _count(value: Any, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{option} must be a positive whole number of rows, got {value!r}")
    return int(value)


def _plan(model: Any, conditions: Any) -> Any:
    """``conditions`` checked against the model; a per-row condition table is refused."""
    plan = model._parse_conditions(conditions)
    if plan.per_row:
        raise ConditionError(
            "a table of per-row conditions gives one synthetic row per table row, in one sample "
            "of its own size, not a stream of chunks: sample it with model.sample(conditions="
            "table) and write_table (CLI: lookalike sample --conditions FILE), or give "
            "conditions that hold for every row (a mapping or expressions such as 'age>=30')")
    return plan if plan.groups else None


class _RunningKeys:
    """Keys numbered 1, 2, ... (identifier format ``"integer"``) carried on from chunk to
    chunk, skipping the real keys a model fitted in this process still holds, as
    :func:`~lookalike.transform.identifiers.fresh_identifiers` does within one sample."""

    def __init__(self, model: Any, first_key: int) -> None:
        real = getattr(model, "_real_ids", None) or {}
        self.names = [c.name for c in model.schema_.columns
                      if c.kind is Kind.IDENTIFIER and c.format == "integer"]
        self.avoid = {name: np.unique(np.array([int(v) for v in real.get(name, ())
                                                if _whole(v)], dtype=np.int64))
                      for name in self.names}
        self.last = dict.fromkeys(self.names, int(first_key))

    def renumber(self, rows: Any) -> Any:
        for name in self.names:
            n = rows.num_rows if isinstance(rows, pa.Table) else len(rows)
            keys = _next_keys(self.last[name], n, self.avoid[name])
            if len(keys):
                self.last[name] = int(keys[-1])
            rows = _replace_column(rows, name, keys)
        return rows


def _whole(v: Any) -> bool:
    try:
        return float(v).is_integer()
    except (TypeError, ValueError, OverflowError):
        return False


def _next_keys(last: int, k: int, avoid: np.ndarray) -> np.ndarray:
    """The ``k`` smallest whole numbers above ``last`` that are not in ``avoid`` (sorted)."""
    span = k
    while True:
        candidates = np.arange(last + 1, last + span + 1, dtype=np.int64)
        if len(avoid):
            candidates = candidates[~np.isin(candidates, avoid)]
        if len(candidates) >= k:
            return candidates[:k]
        span += k - len(candidates)


def _replace_column(rows: Any, name: str, keys: np.ndarray) -> Any:
    """``rows`` (pandas, polars or Arrow) with column ``name`` set to ``keys``, in the
    column's integer type where the keys fit it (else 64-bit, as ``sample`` falls back)."""
    if isinstance(rows, pd.DataFrame):
        dtype = rows[name].dtype
        values = pd.Series(keys, index=rows.index)
        try:
            numpy_type = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
            if numpy_type is not None and np.issubdtype(numpy_type, np.integer) and len(keys) \
                    and keys[-1] > np.iinfo(numpy_type).max:
                raise OverflowError
            values = values.astype(dtype)
        except (TypeError, ValueError, OverflowError):
            values = values.astype("Int64")
        rows[name] = values
        return rows
    if isinstance(rows, pa.Table):
        i = rows.schema.get_field_index(name)
        arr = pa.array(keys, pa.int64())
        try:
            arr = arr.cast(rows.schema.field(i).type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        return rows.set_column(i, rows.schema.field(i).with_type(arr.type), arr)
    import polars as pl

    series = pl.Series(name, keys)
    try:
        series = series.cast(rows.schema[name], strict=True)
    except Exception:  # polars raises its own errors for values out of a type's range
        pass
    return rows.with_columns(series)


def _warn_repeated_keys(model: Any, n: int, per_draw: int) -> None:
    """Warn when keys drawn from a pattern, unique only within a draw of ``per_draw`` rows,
    are expected to repeat across the draws of ``n`` rows (birthday bound)."""
    from lookalike.transform.identifiers import format_space

    if n <= per_draw:
        return
    for col in model.schema_.columns:
        fmt = col.format or ""
        if col.kind is not Kind.IDENTIFIER or fmt == "integer" or fmt.startswith(FAKE_PREFIX):
            continue
        space = format_space(fmt)
        expected = n * (n - per_draw) / (2 * space)
        if expected >= 0.01:
            warnings.warn(
                f"column {col.name!r}: keys in format {fmt!r} are unique within each chunk of "
                f"{per_draw:,} rows, but chunks draw them independently from {space:,.0f} "
                f"values: about {expected:,.2f} repeated keys are expected among {n:,} rows; "
                "widen the format in the schema, or draw the rows in one chunk (chunk_rows, "
                "CLI --chunk-rows) if they fit in memory", stacklevel=3)


# ------------------------------------------------------------------------------------- Spark
def sample_spark(
    model: Any,
    n: int,
    *,
    spark: Any = None,
    partitions: int | None = None,
    seed: int | np.random.Generator | np.random.SeedSequence | None = None,
    conditions: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Any:
    """A Spark DataFrame of ``n`` synthetic rows from a fitted ``model``, generated in
    parallel on the executors; write it with ``df.write.parquet(path)`` (a directory of
    Parquet parts, one per partition, which Spark commits as a whole).

    ``partitions`` (default: ``ceil(n / chunk_rows)``, so that a seed gives the same rows on
    any cluster; pass more to use more cores): partition ``i`` draws ``n // partitions``
    rows, one more for the first ``n % partitions`` (:func:`partition_rows`), as
    :func:`sample_to_file` draws a file of them from the seed
    ``numpy.random.SeedSequence(seed).spawn(partitions)[i]``, in chunks of at most
    ``chunk_rows``; identifier keys numbered 1, 2, ... continue from the rows of the
    partitions before. The rows depend on the seed, the partition count and the chunk size,
    not on the cluster or the order tasks run in. (Chunk ``i`` of a file and the first chunk
    of partition ``i`` share a seed: use different seeds for a file and a Spark sample meant
    to be independent.) ``conditions``: a mapping or expressions, as for
    :func:`sample_to_file`. ``spark``: the session (default
    :func:`lookalike.marginals.spark.spark_session`, made or reused).

    Nothing is generated until Spark runs an action, and no generated row comes back to the
    driver (count with ``df.count()``, an aggregate). The executors load the model from its
    file's bytes (JSON + arrays, no pickle of the object) and need lookalike and pyarrow in
    their Python (in local mode, this one). The column types are those of a Parquet output of
    :func:`~lookalike.io.write_table`, learnt from a few rows the driver draws itself, where
    Spark has them: categoricals become strings, unsigned integers the next wider signed
    type, timestamps microseconds (time-zone-aware ones UTC instants, shown in the session's
    time zone; naive ones ``TIMESTAMP_NTZ``).

    Post-processing of the fitted model: it reads no data and spends no privacy budget, the
    driver's few rows included.
    """
    from lookalike.marginals.spark import require_pyspark, spark_session

    require_pyspark()
    from pyspark.sql.pandas.types import from_arrow_schema

    n, chunk_rows = _count(n, "n"), _count(chunk_rows, "chunk_rows")
    p = math.ceil(n / chunk_rows) if partitions is None else _count(partitions, "partitions")
    model._require_fitted()
    plan = _plan(model, conditions)
    root = _root(seed)
    _warn_repeated_keys(model, n, min(chunk_rows, -(-n // p)))
    target = _spark_arrow_schema(_arrow_rows(
        model.sample(min(n, _TYPE_ROWS), conditions=plan, seed=0), model))
    job = _PartitionJob(_model_bytes(model), n, p, chunk_rows, plan, target,
                        (root.entropy, root.spawn_key, root.pool_size))
    spark = spark if spark is not None else spark_session()
    return spark.range(0, p, 1, p).mapInArrow(job, from_arrow_schema(target, True))


def partition_rows(n: int, partitions: int, i: int) -> tuple[int, int]:
    """(rows, rows before it) of partition ``i`` when ``n`` rows are split over
    ``partitions``: ``n // partitions`` each, one more for the first ``n % partitions``.

    >>> [partition_rows(10, 4, i) for i in range(4)]
    [(3, 0), (3, 3), (2, 6), (2, 8)]
    """
    base, extra = divmod(n, partitions)
    return base + (i < extra), i * base + min(i, extra)


class _PartitionJob:
    """What each Spark task runs (``mapInArrow``): for each partition index it gets, that
    partition's rows as Arrow record batches of the target schema. It holds data only: the
    model file's bytes, the split, the condition plan, the schema and the root seed."""

    def __init__(self, blob: bytes, n: int, partitions: int, chunk_rows: int, plan: Any,
                 schema: pa.Schema, root: tuple) -> None:
        self.blob, self.n, self.partitions, self.chunk_rows = blob, n, partitions, chunk_rows
        self.plan, self.schema, self.root = plan, schema, root

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = _load_blob(self.blob)
        entropy, spawn_key, pool_size = self.root
        root = np.random.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
        for batch in batches:
            for i in batch.column(0).to_pylist():
                rows, before = partition_rows(self.n, self.partitions, i)
                if rows == 0:
                    continue
                seed = _child(root, i)
                for chunk in _stream(model, rows, seed, self.chunk_rows, self.plan, before,
                                     arrow=_arrow_rows_of(model, self.plan)):
                    yield from _spark_ready(_arrow_rows(chunk, model), self.schema).to_batches()


def _arrow_rows(rows: Any, model: Any) -> pa.Table:
    from lookalike.io import arrow_output

    return arrow_output(rows, model.schema_)


def _model_bytes(model: Any) -> bytes:
    """The bytes of the model's file (what ``model.save`` writes; the ledger is not told)."""
    from lookalike.modelfile import write_model

    meta, arrays = model._model_content()
    with tempfile.TemporaryDirectory(prefix="lookalike-model-") as folder:
        return write_model(Path(folder) / "model.lookalike", meta, arrays).read_bytes()


_LOADED: dict[str, Any] = {}  # an executor's models, by their bytes' hash (Python workers are reused)


def _load_blob(blob: bytes) -> Any:
    """The model in ``blob`` (a model file's bytes), loaded as ``load_synthesizer`` loads a
    file: with its checks, never unpickled."""
    from lookalike.synthesizers.base import load_synthesizer

    key = hashlib.sha256(blob).hexdigest()
    if key not in _LOADED:
        with tempfile.TemporaryDirectory(prefix="lookalike-model-") as folder:
            path = Path(folder) / "model.lookalike"
            path.write_bytes(blob)
            model = load_synthesizer(path)
        if len(_LOADED) >= 4:
            _LOADED.clear()
        _LOADED[key] = model
    return _LOADED[key]


def _spark_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark takes for a column of Arrow type ``t``."""
    if pa.types.is_dictionary(t):
        return _spark_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_null(t) or pa.types.is_time(t) \
            or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_unsigned_integer(t):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64()}.get(t.bit_width,
                                                                   pa.decimal128(20, 0))
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz is not None else None)
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_decimal(t) and t.precision <= 38 and not isinstance(t, pa.Decimal128Type):
        return pa.decimal128(t.precision, t.scale)
    return t


def _spark_arrow_schema(table: pa.Table) -> pa.Schema:
    return pa.schema([pa.field(f.name, _spark_type(f.type), nullable=True) for f in table.schema])


def _spark_ready(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table``'s columns cast to ``schema`` (categoricals decoded, timestamps in
    microseconds), naming a column that cannot be."""
    columns = []
    for field in schema:
        col = table.column(field.name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if col.type != field.type:
            try:
                col = col.cast(field.type, safe=not pa.types.is_timestamp(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise DataError(f"column {field.name!r} of the synthetic rows holds {col.type}, "
                                f"which Spark cannot take as {field.type} ({e})") from None
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)
