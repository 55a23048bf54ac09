"""Fit ``mst`` at ε = 1 on a 10,000,000-row Parquet table through the DuckDB engine.

    .venv/bin/python benchmarks/make_big_adult.py          # once: benchmarks/data/adult_10m.parquet
    .venv/bin/python benchmarks/dp_scale.py [--path FILE] [--synthesizer mst] [--threads 2]

The fit runs in this process with ``engine="duckdb"``: schema from DuckDB's column types, DP
domain discovery and every marginal as GROUP BY counts inside DuckDB, so the raw rows never
enter Python. Prints fit seconds, the peak RSS of the process (target: under 2 GB), the time to
sample 1,000,000 rows, and the 1-way/2-way distances of those rows against a 200,000-row sample
of the file (read only for this check, after the fit and its peak-memory reading).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", type=Path, default=HERE / "data" / "adult_10m.parquet")
    ap.add_argument("--synthesizer", default="mst")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "dp_scale.json")
    args = ap.parse_args()
    if not args.path.exists():
        sys.exit(f"{args.path} not found: run benchmarks/make_big_adult.py first")
    import lookalike

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    model = lookalike.get_synthesizer(args.synthesizer, engine="duckdb").fit(
        args.path, epsilon=args.epsilon, delta=1e-9, seed=args.seed
    )
    fit_s = time.perf_counter() - t
    peak_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    rows = model.sample(1_000_000, seed=args.seed)
    sample_s = time.perf_counter() - t

    import duckdb

    from lookalike.evaluate.marginals import discretise_pair, mean_tvd

    real = duckdb.sql(f"SELECT * FROM read_parquet('{args.path}') USING SAMPLE 200000 ROWS").df()
    real = lookalike.read_table(real)
    pair = discretise_pair(real, rows[list(real.columns)].sample(200_000, random_state=0), n_bins=20)
    out = {
        "synthesizer": args.synthesizer,
        "rows": "10,000,000" if "10m" in args.path.name else str(args.path),
        "epsilon": args.epsilon,
        "fit_s": round(fit_s, 1),
        "peak_rss_mb_after_import": round(rss0),
        "peak_rss_mb_fit": round(peak_fit),
        "sample_1m_s": round(sample_s, 2),
        "1way": round(mean_tvd(pair, 1), 4),
        "2way": round(mean_tvd(pair, 2), 4),
        "rho_spent": model.privacy_.rho_spent,
    }
    print(json.dumps(out, indent=1))
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
