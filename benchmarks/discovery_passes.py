"""How many passes over the data DP domain discovery makes, and how long they take: an mst fit
at ε = 1 on the bundled Adult (``lookalike.load_demo()``, 32,561 rows, 6 numeric and 9
categorical columns) written to Parquet, through DuckDB and through Spark (local mode).

    .venv/bin/python benchmarks/discovery_passes.py                    # both engines
    .venv/bin/python benchmarks/discovery_passes.py --engines duckdb --repeat 3

The queries are counted and timed by the probes of ``spark_scale.py`` (every DuckDB statement
that reads the file; every Spark aggregate fetch, with the rows Spark read), by phase:
``discovery`` is everything between the engine's creation and ``bind`` (the noisy row count
and discovery itself). Prints one JSON object per fit; ``--out`` writes them all.

Results: ``benchmarks/results/discovery_passes.json`` (main at 69ff16d, one query per column
per tree level, against one query per level for all columns; 32,561 and 10^6 rows; 2 shared
cores). Discovery, with the noisy row count: 35-37 queries before, 7 after, on both engines;
Spark 24-27 s before and 11-18 s after at 10^6 rows (37 and 7 million rows read), 8-11 s and
3.4-5.3 s at 32,561; DuckDB about equal (1.4 s at 10^6 rows from Parquet: a statement there
costs little more than its work; from CSV, which each statement parses anew, fewer passes
save most of the time).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def adult_parquet(folder: Path, rows: int | None) -> Path:
    import lookalike

    frame = lookalike.load_demo()
    if rows is not None and rows != len(frame):
        frame = frame.sample(rows, replace=rows > len(frame), random_state=0).reset_index(drop=True)
    path = folder / f"adult_{len(frame)}.parquet"
    frame.to_parquet(path)
    return path


def fit_duckdb(path: Path, synth: str, epsilon: float, log: dict[str, Any]) -> dict[str, Any]:
    from spark_scale import summarise_queries

    import lookalike

    log.update(engines=[], queries=[], statements=0)
    start = time.perf_counter()
    lookalike.fit(str(path), synth, epsilon=epsilon, seed=0, engine="duckdb")
    fit_s = time.perf_counter() - start
    return {"engine": "duckdb", "synthesizer": synth, "fit_s": round(fit_s, 2),
            "scans": len(log["queries"]), "by_phase": summarise_queries(log["queries"])}


def fit_spark(path: Path, synth: str, epsilon: float, probe: Any) -> dict[str, Any]:
    from spark_scale import summarise_queries

    import lookalike

    first = len(probe.queries)  # the probe names Spark job groups by this count: keep it
    probe.engines, probe.phase = [], "schema"
    start = time.perf_counter()
    lookalike.fit(str(path), synth, epsilon=epsilon, seed=0, engine="spark")
    fit_s = time.perf_counter() - start
    queries = probe.queries[first:]
    return {"engine": "spark", "synthesizer": synth, "fit_s": round(fit_s, 2),
            "queries": len(queries), "by_phase": summarise_queries(queries)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    ap.add_argument("--synthesizer", default="mst")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--rows", type=int, default=None, help="resample Adult to this many rows")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from lookalike.privacy.budget import UnrecordedSpendWarning

    warnings.simplefilter("ignore", UnrecordedSpendWarning)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = adult_parquet(Path(tmp), args.rows)
        for engine in args.engines:
            spark = probe = None
            log: dict[str, Any] = {}
            if engine == "duckdb":
                from spark_scale import probe_duckdb

                probe_duckdb(log)
            else:
                from lookalike.marginals.spark import spark_session

                spark = spark_session("local[2]", {"spark.ui.enabled": "false",
                                                   "spark.ui.showConsoleProgress": "false",
                                                   "spark.sql.shuffle.partitions": "2"})
                spark.sparkContext.setLogLevel("ERROR")
                from spark_scale import SparkProbe

                probe = SparkProbe(spark).install()
            for i in range(args.repeat):
                out = (fit_duckdb(path, args.synthesizer, args.epsilon, log) if engine == "duckdb"
                       else fit_spark(path, args.synthesizer, args.epsilon, probe))
                out["repeat"] = i
                print(json.dumps(out), flush=True)
                results.append(out)
            if spark is not None:
                spark.stop()
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
