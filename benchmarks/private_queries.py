"""Private queries: lookalike against smartnoise-sql and Tumult Analytics, same queries, same run.

    python benchmarks/private_queries.py                      # Adult, eps 0.1 and 1 per set
    python benchmarks/private_queries.py --rows 10000000 --tools lookalike tumult

50 seeded queries (10 each: count, sum, mean, grouped count, grouped mean; WHERE filters drawn
from templates) over Adult (the bundled 32,561 rows, or Adult resampled with jitter to
``--rows``), with Adult's published categories as the public group keys and round public
bounds (age 17-90, hours 1-99, education_num 1-16, capital_gain 0-99,999). Column names get
underscores for every tool (smartnoise-sql refuses hyphens).

Budget: each tool answers the 50 queries as one query set of total (ε, δ = 1e-9):
lookalike splits the set's zCDP ρ equally among the queries; Tumult Analytics gets a session
of ρ-zCDP with the same ρ and spends ρ/50 per query (its Gaussian noise); smartnoise-sql
composes sequentially in pure ε, so each query costs ε/50 as its own ``get_privacy_cost``
reports it (its group-bys release only groups above its δ threshold: it cannot take public
keys). Each tool runs in its own virtualenv (benchmarks/.venvs), in a child process that reads
the data itself; the parent computes the true answers in DuckDB.

Error: per answer cell (group x aggregate) |noisy - true| / max(|true|, 1); a group a tool did
not release counts as answered 0. Reported: median and 95th percentile per tool and ε, per
query kind too; latency per query (median, wall, the tool's own process); the child's peak RSS.

The preview part (Adult only): ``aim`` at ε = 1 and ``cart`` synthetic tables, the same 50
queries run exactly on them, and how often each synthetic answer lies inside lookalike's 95%
interval at ε = 1, per query kind.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _peers import VENVS  # noqa: E402

BOUNDS = {"age": (17, 90), "hours_per_week": (1, 99), "education_num": (1, 16),
          "capital_gain": (0, 99999)}
KEYS = ["sex", "race", "income", "relationship", "marital_status"]
FILTERS = [
    "age > {a}", "age BETWEEN {a} AND {b}", "sex = 'Female'", "sex = 'Male'",
    "race = 'White'", "income = '>50K'", "education_num >= {e}", "hours_per_week < {h}",
    "marital_status = 'Never-married'", None,
]
KINDS = ["count", "sum", "mean", "group_count", "group_mean"]
VENV_REQS = {"smartnoise_sql": ["smartnoise-sql==1.0.10"], "tumult": ["tmlt.analytics==0.21.0"]}


# ---------------------------------------------------------------------- the queries
def make_queries(n: int, seed: int) -> list[dict]:
    """``n`` query specs (kind, filter, column, key), the kinds in turn, seeded."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        template = FILTERS[int(rng.integers(len(FILTERS)))]
        a = int(rng.integers(20, 60))
        where = None if template is None else template.format(
            a=a, b=a + int(rng.integers(5, 25)), e=int(rng.integers(8, 14)),
            h=int(rng.integers(30, 50)))
        column = None if kind in ("count", "group_count") else \
            list(BOUNDS)[int(rng.integers(len(BOUNDS)))]
        key = KEYS[int(rng.integers(len(KEYS)))] if kind.startswith("group") else None
        out.append({"kind": kind, "where": where, "column": column, "key": key})
    return out


def to_sql(q: dict) -> str:
    agg = {"count": "COUNT(*)", "group_count": "COUNT(*)", "sum": f"SUM({q['column']})",
           "mean": f"AVG({q['column']})", "group_mean": f"AVG({q['column']})"}[q["kind"]]
    where = f" WHERE {q['where']}" if q["where"] else ""
    if q["key"]:
        return f"SELECT {q['key']}, {agg} AS v FROM adult{where} GROUP BY {q['key']}"
    return f"SELECT {agg} AS v FROM adult{where}"


def true_answers(path: str, queries: list[dict]) -> list[dict]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE VIEW adult AS SELECT * FROM {_scan(path)}")
    out = []
    for q in queries:
        sql = to_sql(q)
        if q["kind"] in ("sum", "mean", "group_mean"):  # clipped, as every tool clips
            lo, hi = BOUNDS[q["column"]]
            sql = sql.replace(f"({q['column']})", f"(greatest({lo}, least({hi}, {q['column']})))")
        rows = con.execute(sql).fetchall()
        out.append({str(r[0]) if q["key"] else "": float(r[-1]) for r in rows if r[-1] is not None})
    return out


def _scan(path: str) -> str:
    return f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv_auto('{path}')"


def categories(path: str) -> dict[str, list[str]]:
    """Adult's published categories of the key columns (the file's own levels here: Adult's
    documentation lists the same)."""
    import duckdb

    con = duckdb.connect()
    return {k: sorted(r[0] for r in con.execute(
        f"SELECT DISTINCT {k} FROM {_scan(path)} WHERE {k} IS NOT NULL").fetchall()) for k in KEYS}


# ---------------------------------------------------------------------- the tools
RUN_LOOKALIKE = r"""
import lookalike
sqls = [to_sql(q) for q in queries]
t0 = time.perf_counter()
results = lookalike.query(path, sqls, epsilon=epsilon, delta=delta, bounds=bounds, keys=keys)
total = time.perf_counter() - t0
for r in results:
    d = r.details
    key = [c for c in d.columns if c not in ("column", "answer", "noise_sd", "low", "high", "note")]
    answers.append({(str(row[key[0]]) if key else ""): [float(row["answer"]), float(row["low"]),
                    float(row["high"])] for row in d.to_dict("records")})
latency = [total / len(sqls)] * len(sqls)
single = []  # one query per call, the table opened each time (answers not scored)
for sql in sqls[:5]:
    t0 = time.perf_counter()
    lookalike.query(path, sql, epsilon=epsilon / len(sqls), delta=delta, bounds=bounds, keys=keys)
    single.append(time.perf_counter() - t0)
info_extra = {"single_query_s": sorted(single)[len(single) // 2]}
"""

RUN_SMARTNOISE = r"""
import snsql
from snsql import Privacy
df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
meta = {"": {"": {"adult": {"row_privacy": True, **{
    c: ({"type": "int", "lower": bounds[c][0], "upper": bounds[c][1]} if c in bounds
        else {"type": "string"}) for c in df.columns if c in bounds or c in keys}}}}}
df = df[[c for c in df.columns if c in bounds or c in keys]]
per_query = epsilon / len(queries)
for q in queries:
    sql = to_sql(q)
    probe = snsql.from_df(df, privacy=Privacy(epsilon=1.0, delta=delta / len(queries)), metadata=meta)
    unit = float(probe.get_privacy_cost([sql])[0])  # cost of one query at epsilon 1 per measure
    reader = snsql.from_df(df, privacy=Privacy(epsilon=per_query / unit, delta=delta / len(queries)),
                           metadata=meta)
    t0 = time.perf_counter()
    try:
        rows = reader.execute(sql)
    except ValueError:  # "Noise scale is too large": smartnoise refuses, nothing is released
        refused += 1
        answers.append({})
        continue
    latency.append(time.perf_counter() - t0)
    answers.append({(str(r[0]) if q["key"] else ""): [float(r[-1])] for r in rows[1:]
                    if r[-1] is not None})
"""

RUN_TUMULT = r"""
from pyspark.sql import SparkSession
from tmlt.analytics import (AddOneRow, KeySet, QueryBuilder, RhoZCDPBudget, Session)
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "4").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
sdf = spark.read.parquet(path) if path.endswith(".parquet") else \
    spark.read.csv(path, header=True, inferSchema=True)
sdf = sdf.select([c for c in sdf.columns if c in bounds or c in keys])
sdf = sdf.fillna(0, subset=[c for c in bounds]).fillna("", subset=[c for c in keys])
rho = rho_total
session = Session.from_dataframe(privacy_budget=RhoZCDPBudget(rho), source_id="adult",
                                 dataframe=sdf, protected_change=AddOneRow())
for q in queries:
    b = QueryBuilder("adult")
    if q["where"]:
        b = b.filter(q["where"])
    if q["key"]:
        b = b.groupby(KeySet.from_dict({q["key"]: keys[q["key"]]}))
    col = q["column"]
    if q["kind"] in ("count", "group_count"):
        query = b.count(name="v")
    elif q["kind"] == "sum":
        query = b.sum(col, low=bounds[col][0], high=bounds[col][1], name="v")
    else:
        query = b.average(col, low=bounds[col][0], high=bounds[col][1], name="v")
    t0 = time.perf_counter()
    got = session.evaluate(query, RhoZCDPBudget(rho / len(queries))).toPandas()
    latency.append(time.perf_counter() - t0)
    answers.append({(str(r[q["key"]]) if q["key"] else ""): [float(r["v"])]
                    for r in got.to_dict("records") if r["v"] is not None})
"""

TOOLS = {"lookalike": (None, RUN_LOOKALIKE), "smartnoise": ("smartnoise_sql", RUN_SMARTNOISE),
         "tumult": ("tumult", RUN_TUMULT)}


def ensure_venv(name: str) -> Path:
    venv = VENVS / name
    py = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for req in VENV_REQS[name]:
            subprocess.run([str(py), "-m", "pip", "install", "-q", req], check=True)
        (venv / ".installed").touch()
    return py


def run_tool(tool: str, path: str, queries: list[dict], epsilon: float, delta: float,
             keys: dict) -> dict:
    from lookalike.privacy.accountant import rho_from_epsilon_delta

    venv, body = TOOLS[tool]
    python = sys.executable if venv is None else str(ensure_venv(venv))
    with tempfile.TemporaryDirectory() as d:
        out = Path(d, "out.json")
        script = (
            "import json, resource, time, pandas as pd\n"
            f"path, queries = {path!r}, {queries!r}\n"
            f"epsilon, delta, rho_total = {epsilon!r}, {delta!r}, "
            f"{rho_from_epsilon_delta(epsilon, delta)!r}\n"
            f"bounds, keys = {BOUNDS!r}, {keys!r}\n"
            "answers, latency, refused, info_extra = [], [], 0, {}\n"
            "def to_sql(q):\n" + "\n".join("    " + line for line in _to_sql_source()) + "\n"
            + body +
            "\nme = resource.getrusage(resource.RUSAGE_SELF)\n"
            "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            f"json.dump({{'answers': answers, 'latency': latency, 'refused': refused, **info_extra, "
            "'peak_rss_mb': max(me.ru_maxrss, kids.ru_maxrss) / 1024}, "
            f"open({str(out)!r}, 'w'))\n")
        start = time.perf_counter()
        subprocess.run([python, "-c", script], check=True, cwd=d,
                       env={**os.environ, "PYTHONWARNINGS": "ignore", "PYSPARK_PYTHON": python,
                            "PYSPARK_DRIVER_PYTHON": python})
        result = json.loads(out.read_text())
        result["wall_s"] = time.perf_counter() - start
    return result


def _to_sql_source() -> list[str]:
    import inspect

    return inspect.getsource(to_sql).splitlines()[1:]


# ---------------------------------------------------------------------- scoring
def errors(truth: list[dict], answers: list[dict], queries: list[dict]) -> pd.DataFrame:
    rows = []
    for q, t, a in zip(queries, truth, answers, strict=True):
        for group, true in t.items():
            got = a.get(group, [0.0])[0]
            got = 0.0 if got is None or not np.isfinite(got) else got
            rows.append({"kind": q["kind"], "error": abs(got - true) / max(abs(true), 1.0),
                         "released": group in a, "cell": len(rows)})
    return pd.DataFrame(rows)


def summary(err: pd.DataFrame) -> dict:
    def stats(e: pd.Series) -> dict:
        return {"median": round(float(e.median()), 5), "p95": round(float(e.quantile(0.95)), 5)}

    return {"all": stats(err.error), "average": round(float(err.error.mean()), 5),
            "released_share": round(float(err.released.mean()), 4),
            **{k: stats(g.error) for k, g in err.groupby("kind")}}


def preview(path: str, queries: list[dict], answers: list[dict], seed: int) -> dict:
    """How often synthetic answers (aim eps 1, cart) lie inside lookalike's 95% intervals."""
    import warnings

    import duckdb

    import lookalike

    real = pd.read_csv(path)
    out = {}
    for name, eps in (("aim", 1.0), ("cart", None)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = lookalike.get_synthesizer(name).fit(real, epsilon=eps, seed=seed)
        synth = model.sample(len(real), seed=seed)
        con = duckdb.connect()
        con.register("adult", synth)
        inside: dict[str, list[bool]] = {}
        for q, a in zip(queries, answers, strict=True):
            rows = con.execute(to_sql(q)).fetchall()
            got = {str(r[0]) if q["key"] else "": r[-1] for r in rows}
            for group, (_, low, high) in a.items():
                value = got.get(group)
                inside.setdefault(q["kind"], []).append(
                    value is not None and low <= float(value) <= high)
        out[name] = {k: round(float(np.mean(v)), 3) for k, v in inside.items()}
        out[name]["all"] = round(float(np.mean([x for v in inside.values() for x in v])), 3)
    return out


# ---------------------------------------------------------------------- main
def adult_path(rows: int | None, seed: int) -> str:
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    if rows is None:
        path = data / "private_queries_adult.csv"
        if not path.exists():
            import lookalike

            df = lookalike.load_demo()
            df.columns = [c.replace("-", "_") for c in df.columns]
            df.to_csv(path, index=False)
        return str(path)
    path = data / f"private_queries_adult_{rows}_s{seed}.parquet"
    if not path.exists():
        import duckdb

        src = data / f"spark_scale_adult_{rows // 1_000_000}m_s{seed}.parquet"
        if not src.exists():
            subprocess.run([sys.executable, str(HERE / "spark_scale.py"), "--rows", str(rows),
                            "--only", "equality", "--synthesizers", "mst"], check=False)
        con = duckdb.connect()
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{src}')").fetchall()]
        cols = ", ".join(f'"{n}" AS {n.replace("-", "_")}' for n in names)
        con.execute(f"COPY (SELECT {cols} FROM read_parquet('{src}')) TO '{path}' (FORMAT parquet)")
    return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None, help="Adult resampled to this many rows")
    ap.add_argument("--epsilons", type=float, nargs="+", default=[0.1, 1.0])
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    ap.add_argument("--repeats", type=int, default=1,
                    help="answer the query set this many times per tool and eps (fresh noise "
                    "each time) and pool the errors")
    ap.add_argument("--no-preview", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    path = adult_path(args.rows, args.seed)
    queries = make_queries(args.queries, args.seed)
    keys = categories(path)
    truth = true_answers(path, queries)
    n_rows = args.rows or 32561
    record: dict = {"benchmark": "private_queries", "machine": f"{platform.processor() or platform.machine()}, "
                    f"{os.cpu_count()} cores, Python {platform.python_version()}",
                    "table": f"Adult, {n_rows:,} rows", "data": path, "queries": queries,
                    "sql": [to_sql(q) for q in queries], "delta": 1e-9,
                    "repeats": args.repeats, "results": {}}
    lookalike_answers = {}
    cell_errors: dict[float, dict[str, pd.Series]] = {}
    for eps in args.epsilons:
        for tool in args.tools:
            print(f"[{tool} eps={eps:g}] ...", flush=True)
            runs = [run_tool(tool, path, queries, eps, 1e-9, keys) for _ in range(args.repeats)]
            got = runs[0] | {"latency": [x for r in runs for x in r["latency"]],
                             "wall_s": float(np.median([r["wall_s"] for r in runs])),
                             "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                             "refused": sum(r.get("refused", 0) for r in runs)}
            err = pd.concat([errors(truth, r["answers"], queries) for r in runs])
            res = {"errors": summary(err),
                   "latency_s": {"median": round(float(np.median(got["latency"])), 4),
                                 "max": round(float(np.max(got["latency"])), 4)},
                   "wall_s_median_run": round(got["wall_s"], 1), "peak_rss_mb": round(got["peak_rss_mb"]),
                   "refused_queries": got.get("refused", 0)}
            if "single_query_s" in got:
                res["single_query_s"] = round(got["single_query_s"], 3)
            record["results"].setdefault(f"eps={eps:g}", {})[tool] = res
            cell_errors.setdefault(eps, {})[tool] = err.groupby("cell").error.mean()
            print(f"  {tool:10s} eps={eps:g}: median rel. error {res['errors']['all']['median']:.4f},"
                  f" p95 {res['errors']['all']['p95']:.4f}, released {res['errors']['released_share']:.0%}"
                  f"; latency {res['latency_s']['median']:.3f} s/query (alone: "
                  f"{res.get('single_query_s', '-')} s); wall {res['wall_s_median_run']} s; "
                  f"peak {res['peak_rss_mb']} MB", flush=True)
            if tool == "lookalike":
                lookalike_answers[eps] = got["answers"]
    for eps, by_tool in cell_errors.items():  # the same answer cells, tool against tool
        ours = by_tool.get("lookalike")
        for tool, theirs in by_tool.items():
            if tool == "lookalike" or ours is None:
                continue
            record["results"][f"eps={eps:g}"][tool]["paired_with_lookalike"] = {
                "cells": int(len(ours)),
                "lookalike_lower_share": round(float((ours < theirs).mean()), 4),
                "ties_share": round(float((ours == theirs).mean()), 4),
                "median_error_ratio_lookalike_over_tool": round(float(
                    (ours / theirs.where(theirs > 0)).median()), 4)}
            print(f"  eps={eps:g}: lookalike's error lower than {tool}'s on "
                  f"{(ours < theirs).mean():.0%} of {len(ours)} answer cells", flush=True)
    if not args.no_preview and args.rows is None and 1.0 in lookalike_answers:
        print("[preview] aim eps=1 and cart against lookalike's eps=1 intervals ...", flush=True)
        record["preview_inside_share"] = preview(path, queries, lookalike_answers[1.0], args.seed)
        print(" ", record["preview_inside_share"])
    out = Path(args.json or HERE / "results" / f"private_queries_{'adult' if args.rows is None else args.rows}.json")
    out.write_text(json.dumps(record, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
