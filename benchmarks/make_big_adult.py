"""Make a 10-million-row Parquet Adult, then time DuckDB-pushed marginals over it.

    .venv/bin/python benchmarks/make_big_adult.py [--rows 10000000] [--seed 0] [--out PATH]
    .venv/bin/python benchmarks/make_big_adult.py --bench-only   # reuse an existing file

Rows are drawn with replacement from shared/datasets/adult/adult.csv (or the bundled demo when
shared/ is absent). Each numeric column gets integer noise in [-s, s], s = max(1, 0.5% of its
observed range), clipped to that range; categorical columns are copied unchanged. Generation
runs inside DuckDB (memory_limit 1 GB) and streams to Parquet, with hash-based noise so that
equal seeds give equal files. Default output: benchmarks/data/adult_10m.parquet.

The measurement runs in a fresh process so that its peak RSS is the engine's alone: a
:class:`~lookalike.marginals.DuckDBEngine` over the file, a TableEncoder with the categories
seen in the file (exact value counts: a benchmark, not a DP release) and 20 equal-width bins
over the source's range per numeric column, then all 1-way and all 2-way marginals, once in a
single batched scan (``marginals``) and once query by query (``marginal``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("LOOKALIKE_SHARED", HERE.parents[1] / "shared"))
ADULT = SHARED / "datasets" / "adult" / "adult.csv"
DEFAULT_OUT = HERE / "data" / "adult_10m.parquet"


def source_csv() -> Path:
    if ADULT.exists():
        return ADULT
    import importlib.util  # the bundled demo, without importing lookalike (keeps RSS small)

    spec = importlib.util.find_spec("lookalike")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "adult.csv.gz"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def make(out: Path, rows: int, seed: int, threads: int | None) -> None:
    """Write ``rows`` resampled, jittered Adult rows to ``out`` (via a temporary file)."""
    import duckdb

    src = source_csv()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"CREATE TABLE adult AS SELECT * FROM read_csv('{src}', header = true)")
    con.execute("CREATE TABLE src AS SELECT row_number() OVER () - 1 AS rid, * FROM adult")
    n = con.execute("SELECT count(*) FROM adult").fetchone()[0]
    cols = con.execute("DESCRIBE adult").fetchall()
    select = []
    for name, typ, *_ in cols:
        q = _q(name)
        if typ in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DOUBLE"):
            lo, hi = con.execute(f"SELECT min({q}), max({q}) FROM adult").fetchone()
            s = max(1, round(0.005 * (hi - lo)))
            noise = f"(hash(r.range, {seed}, '{name}') % {2 * s + 1})::BIGINT - {s}"
            select.append(f"CAST(least(greatest(s.{q} + {noise}, {lo}), {hi}) AS {typ}) AS {q}")
        else:
            select.append(f"s.{q}")
    sql = (
        f"COPY (SELECT {', '.join(select)} FROM range({rows}) r "
        f"JOIN src s ON s.rid = hash(r.range, {seed}) % {n}) "
        f"TO '{tmp}' (FORMAT parquet, ROW_GROUP_SIZE 122880)"
    )
    start = time.perf_counter()
    con.execute(sql)
    con.close()
    os.replace(tmp, out)
    mb = out.stat().st_size / 2**20
    print(f"wrote {rows:,} rows from {src} to {out} ({mb:.0f} MB) in "
          f"{time.perf_counter() - start:.1f} s; peak RSS {peak_rss_mb():.0f} MB")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench(path: Path, n_bins: int, threads: int | None, memory_limit: str | None) -> None:
    """Time all 1- and 2-way marginals of ``path`` through DuckDBEngine; print seconds and RSS."""
    import numpy as np

    from lookalike.marginals import DuckDBEngine
    from lookalike.schema import Kind

    import_rss = peak_rss_mb()
    from lookalike.transform.discretize import edges_bins
    from lookalike.transform.encoder import ColumnCodec, TableEncoder

    start = time.perf_counter()
    engine = DuckDBEngine(path, threads=threads, memory_limit=memory_limit)
    ranges = DuckDBEngine(source_csv())  # the small source: public ranges for the bins
    codecs = []
    for col in engine.schema.modelled:
        if col.kind is Kind.CATEGORICAL:
            cats = tuple(sorted(engine.value_counts(col.name)))
            codecs.append(ColumnCodec(col, cats, None, True))
        elif col.kind is Kind.BOOLEAN:
            codecs.append(ColumnCodec(col, (False, True), None, True))
        else:
            values = np.array(sorted(ranges.value_counts(col.name)), dtype=float)
            edges = np.linspace(values.min(), values.max(), n_bins + 1)
            codecs.append(ColumnCodec(col, None, edges_bins(edges), True))
    encoder = TableEncoder(tuple(codecs))
    engine.bind(encoder)
    setup, rss_setup = time.perf_counter() - start, peak_rss_mb()
    names = encoder.names
    sets = [(a,) for a in names] + list(itertools.combinations(names, 2))
    start, cpu = time.perf_counter(), cpu_s()
    batched = engine.marginals(sets)
    t_batch, cpu_batch, rss_batch = time.perf_counter() - start, cpu_s() - cpu, peak_rss_mb()
    start, cpu = time.perf_counter(), cpu_s()
    single = {s: engine.marginal(s) for s in sets}
    t_single, cpu_single = time.perf_counter() - start, cpu_s() - cpu
    total = engine.marginal(())
    assert all(np.array_equal(batched[s], single[s]) for s in sets)
    assert all(int(m.sum()) == int(total) for m in batched.values())
    print(f"{path}: {int(total):,} rows, {len(names)} columns, sizes {encoder.sizes}")
    print(f"{os.cpu_count()} CPUs, threads={threads or 'all'}, memory_limit={memory_limit}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"setup (schema, value counts, bind): {setup:.1f} s, peak RSS {rss_setup:.0f} MB")
    print(f"{len(sets)} marginals ({len(names)} one-way, {len(sets) - len(names)} two-way)")
    print(f"  batched, one scan (marginals): {t_batch:.1f} s wall, {cpu_batch:.1f} s CPU, "
          f"peak RSS {rss_batch:.0f} MB")
    print(f"  one query each (marginal):     {t_single:.1f} s wall, {cpu_single:.1f} s CPU, "
          f"peak RSS {peak_rss_mb():.0f} MB")
    print(f"(importing lookalike alone: {import_rss:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--bins", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 1GB")
    parser.add_argument("--force", action="store_true", help="regenerate an existing file")
    parser.add_argument("--bench-only", action="store_true")
    parser.add_argument("--no-bench", action="store_true")
    parser.add_argument("--_bench", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._bench:
        bench(args.out, args.bins, args.threads, args.memory_limit)
        return
    if not args.bench_only and (args.force or not args.out.exists()):
        make(args.out, args.rows, args.seed, args.threads)
    if not args.no_bench:  # a fresh process: its peak RSS is the engine's alone
        cmd = [sys.executable, __file__, "--_bench", "--out", str(args.out), "--bins",
               str(args.bins)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.memory_limit:
            cmd += ["--memory-limit", args.memory_limit]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
