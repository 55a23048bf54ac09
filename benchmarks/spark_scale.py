"""mst and aim at ε = 1 on Adult resampled to N rows: Spark local mode against DuckDB, one file.

    .venv/bin/python benchmarks/spark_scale.py --quick                 # 10^6 rows: a check
    .venv/bin/python benchmarks/spark_scale.py --rows 10000000         # 10^7 rows
    .venv/bin/python benchmarks/spark_scale.py                         # 10^8 rows: the issue's run
    .venv/bin/python benchmarks/spark_scale.py --quick --only fit equality

**Data.** The bundled Adult (``src/lookalike/data/adult.csv.gz``, 32,561 rows x 15 columns)
resampled with replacement to N rows, each numeric column moved by an integer in [-s, s],
s = max(1, 0.5% of its range), clipped to that range (the rule of make_big_adult.py), drawn
by hash from (row, seed, column): DuckDB SQL (``range(N)`` joined to hashed row indices,
``COPY ... TO`` Parquet, memory_limit 1 GB), cached as
``benchmarks/data/spark_scale_adult_<N>_s<seed>.parquet`` (git-ignored) and reused.

**Parts** (``--only``; each runs in a fresh child process, so that its peak memory is its own):

- ``fit``: ``lookalike.fit(file, s, epsilon=1, seed=0, engine="spark")`` for s in mst, aim, on a
  session made with the settings printed (``--spark-master``, default ``local[2]``). Fit wall
  time; peak RSS (``VmHWM``) of the Python driver, of the Spark JVM (the java child: in local
  mode driver and executor) and of the whole process tree (polled); every aggregate query
  (the SparkEngine's ``queries`` counter, plus the schema inference's), each timed and tagged
  with a Spark job group whose stages' metrics (rows read, task run and CPU time) Spark's
  status store gives (:class:`SparkProbe`), labelled schema inference, DP discovery (before
  ``bind``) and measurement (after ``bind``: one pass over the rows per round).
- ``duckdb``: the same fits with ``engine="duckdb"`` on the same file (DuckDB's default
  threads and memory limit), with the statements that scan the file counted; the Spark/DuckDB
  time ratio.
- ``equality``: one encoder (the DuckDB mst fit's ``encoder_``, saved by ``duckdb``; else
  fitted here), both engines bound to it with the model's schema, every 1-way and 2-way
  marginal counted by each, compared array for array; the time of that pass on each.
- ``sample``: N rows from the Spark mst model (else the DuckDB one) through
  ``sample_to_file`` (chunked Parquet, one process) and ``sample_spark`` (partitions written
  by Spark as Parquet): rows/s and peak memory.
- the cost model of a ``--cluster-nodes`` x ``--cluster-cores`` cluster at
  ``--cluster-rows`` rows, from the measured passes and their rows/s per core (printed, and
  in the JSON under ``cost_model``), whenever ``fit`` ran.

A run in parts (``--only`` one part at a time, ``--keep-models``) lets the equality and sample
parts reuse the mst models an earlier part saved for the same rows, seed and ε.

Results: ``benchmarks/results/spark_scale_<rows>.json`` (e.g. ``spark_scale_1m.json``).
The machine is shared: the load average is recorded at the start and end of every part.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PARTS = ("fit", "duckdb", "equality", "sample")
SYNTHS = ("mst", "aim")


# ------------------------------------------------------------------------------ helpers
def rows_label(n: int) -> str:
    """10**6 -> '1m', 10**7 -> '10m', 10**8 -> '100m', 2_500_000 -> '2500k'."""
    for unit, name in ((10**9, "b"), (10**6, "m"), (10**3, "k")):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{name}"
    return str(n)


def machine() -> str:
    sys.path.insert(0, str(HERE))
    from _protocol import machine as proto_machine  # the benchmarks' shared wording

    mem = next((int(line.split()[1]) / 2**20 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), float("nan"))
    return f"{proto_machine()}, {mem:.0f} GiB RAM"


def cores_of(master: str) -> int:
    """The cores a local master uses: local -> 1, local[k] -> k, local[*] -> all."""
    if master == "local":
        return 1
    if master.startswith("local["):
        k = master[6:].split(",")[0].rstrip("]")
        return os.cpu_count() or 1 if k == "*" else int(k)
    raise SystemExit(f"--spark-master {master!r}: this benchmark measures local mode (local[k])")


def mb(kib: float) -> float:
    return round(kib / 1024, 1)


def self_peak_mb() -> float:
    """This process' peak RSS: VmHWM, which starts afresh at exec (getrusage's ru_maxrss
    would carry over the parent's peak into a child made by fork and exec)."""
    return mb(_status(os.getpid()).get("VmHWM", 0)) or mb(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (KiB) of a process; empty if it is gone."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return out


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _role(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "java" in cmd.split(" ")[0]:
        return "jvm"
    if "pyspark.daemon" in cmd or "pyspark.worker" in cmd:
        return "python_worker"
    return "other"


class TreeMemory(threading.Thread):
    """Polls the RSS of this process and all its descendants (the Spark JVM, its Python
    workers): the peak of their sum, and each process' own peak (VmHWM, kept by the kernel)."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval, self.stop_flag = interval, threading.Event()
        self.peak_sum_kib = 0
        self.hwm: dict[int, tuple[str, int]] = {}

    def poll(self) -> None:
        total = 0
        for pid in [os.getpid(), *_descendants(os.getpid())]:
            st = _status(pid)
            if not st:
                continue
            total += st.get("VmRSS", 0)
            role = "python_driver" if pid == os.getpid() else _role(pid)  # (spark-class execs java)
            self.hwm[pid] = (role, max(st.get("VmHWM", 0), self.hwm.get(pid, ("", 0))[1]))
        self.peak_sum_kib = max(self.peak_sum_kib, total)

    def run(self) -> None:
        while not self.stop_flag.wait(self.interval):
            self.poll()

    def finish(self) -> dict[str, Any]:
        self.poll()
        self.stop_flag.set()
        by_role: dict[str, list[int]] = {}
        for role, hwm in self.hwm.values():
            by_role.setdefault(role, []).append(hwm)
        out = {"tree_peak_rss_mb": mb(self.peak_sum_kib),
               "python_driver_peak_rss_mb": self_peak_mb()}
        if "jvm" in by_role:
            out["jvm_peak_rss_mb"] = mb(max(by_role["jvm"]))
        if "python_worker" in by_role:
            out["python_workers"] = len(by_role["python_worker"])
            out["python_worker_peak_rss_mb"] = mb(max(by_role["python_worker"]))
        return out


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------------------ data
def data_path(rows: int, seed: int) -> Path:
    return DATA / f"spark_scale_adult_{rows_label(rows)}_s{seed}.parquet"


def make_data(path: Path, rows: int, seed: int, threads: int) -> dict[str, Any]:
    """Write ``rows`` resampled, jittered Adult rows to ``path`` in DuckDB SQL (streamed,
    memory_limit 1 GB); reuse the file when it is there."""
    import duckdb

    from lookalike.demo import demo_path

    src = Path(demo_path())
    info: dict[str, Any] = {"path": str(path.relative_to(HERE.parent)), "source": str(src.name),
                            "rows": rows, "seed": seed}
    if path.exists():
        info["reused"] = True
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        con = duckdb.connect()
        con.execute("SET memory_limit = '1GB'")
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE TABLE adult AS SELECT * FROM read_csv('{src}', header = true)")
        cols = con.execute("DESCRIBE adult").fetchall()
        order = ", ".join(f"{_q(c[0])} NULLS LAST" for c in cols)  # row ids that do not
        con.execute(f"CREATE TABLE src AS SELECT row_number() OVER (ORDER BY {order}) - 1 AS rid, "
                    "* FROM adult")  # depend on the order the CSV reader produced the rows in
        n = con.execute("SELECT count(*) FROM adult").fetchone()[0]
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
        start = time.perf_counter()
        con.execute(f"COPY (SELECT {', '.join(select)} FROM range({rows}) r "
                    f"JOIN src s ON s.rid = hash(r.range, {seed}) % {n}) "
                    f"TO '{tmp}' (FORMAT parquet, ROW_GROUP_SIZE 122880)")
        con.close()
        os.replace(tmp, path)
        info.update(reused=False, make_s=round(time.perf_counter() - start, 1),
                    make_peak_rss_mb=self_peak_mb(), duckdb_threads=threads,
                    duckdb_memory_limit="1GB")
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    if meta.num_rows != rows:
        raise SystemExit(f"{path} holds {meta.num_rows:,} rows, not {rows:,}: delete it or pass "
                         "--force-data")
    size = path.stat().st_size
    info.update(columns=meta.num_columns, row_groups=meta.num_row_groups,
                size_mb=round(size / 2**20, 1), bytes_per_row=round(size / rows, 2))
    return info


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------------------ Spark session
def spark_conf(args: argparse.Namespace) -> dict[str, str]:
    """Settings for local mode on a small machine: the driver JVM is also the executor, so its
    heap (spark.driver.memory) is what scans and aggregates; few shuffle partitions (the
    aggregates are small, and each partition is a task on 2 cores); no UI; scratch space
    under benchmarks/data (git-ignored). ``--spark-conf KEY=VALUE`` overrides or adds."""
    conf = {
        "spark.driver.memory": args.driver_memory,
        "spark.sql.shuffle.partitions": str(4 * cores_of(args.spark_master)),
        "spark.default.parallelism": str(cores_of(args.spark_master)),
        "spark.local.dir": str(args.workdir / "spark-local"),
        "spark.ui.enabled": "false",
        "spark.sql.adaptive.enabled": "true",
    }
    for kv in args.spark_conf:
        key, _, value = kv.partition("=")
        if not value:
            raise SystemExit(f"--spark-conf {kv!r}: write KEY=VALUE")
        conf[key] = value
    return conf


def start_spark(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from lookalike.marginals.spark import spark_session

    conf = spark_conf(args)
    Path(conf["spark.local.dir"]).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    spark = spark_session(args.spark_master, conf)
    spark.sparkContext.setLogLevel("ERROR")
    jvm = spark.sparkContext._jvm
    runtime = jvm.java.lang.Runtime.getRuntime()
    info = {
        "start_s": round(time.perf_counter() - start, 1),
        "master": spark.sparkContext.master,
        "version": spark.version,
        "settings": {k: spark.sparkContext.getConf().get(k, None) for k in conf},
        "jvm_max_heap_mb": round(runtime.maxMemory() / 2**20),  # measured in the JVM, not assumed
        "jvm_cores": runtime.availableProcessors(),
        "java": jvm.java.lang.System.getProperty("java.version"),
    }
    return spark, info


# ------------------------------------------------------------------------------ query probes
class SparkProbe:
    """Times every aggregate query lookalike fetches from Spark and reads Spark's own metrics
    of its stages (its job group): rows read from the file, task run time and CPU time of the
    stages that scan it, and of the others (the shuffle's merge of partial counts).

    It wraps ``lookalike.marginals.spark.fetch_aggregate`` (every fetch of the SparkEngine and
    of the schema inference goes through it), ``privacy.fingerprint._spark_collect`` (the
    ledger's fingerprint), ``SparkEngine.__init__`` (to find the engine and its ``queries``
    counter) and ``SparkEngine.bind``, so that each query is labelled: schema (inferred before
    the engine exists), discovery (before bind), measure (after bind: each a pass over the
    rows counting a round's marginals).
    """

    def __init__(self, spark: Any) -> None:
        self.spark, self.sc = spark, spark.sparkContext
        self.store = self.sc._jsc.sc().statusStore()
        self.queries: list[dict[str, Any]] = []
        self.engines: list[Any] = []
        self.phase, self.queries_before_bind = "schema", None
        self.t0 = time.perf_counter()

    def install(self) -> SparkProbe:
        from lookalike.marginals import spark as sp
        from lookalike.privacy import fingerprint as fp

        fetch, collect = sp.fetch_aggregate, fp._spark_collect
        sp.fetch_aggregate = lambda df: self.run(fetch, df)
        fp._spark_collect = lambda df: self.run(collect, df, "fingerprint")
        cls, probe = sp.SparkEngine, self
        init, bind = cls.__init__, cls.bind

        def __init__(engine, *a, **k):
            probe.engines.append(engine)
            init(engine, *a, **k)
            probe.phase = "discovery"

        def bind_(engine, encoder):
            probe.queries_before_bind = engine.queries
            bind(engine, encoder)
            probe.phase = "measure"

        cls.__init__, cls.bind = __init__, bind_
        return self

    def run(self, fn: Any, df: Any, phase: str | None = None) -> list:
        phase = phase or self.phase
        group = f"spark-scale-{len(self.queries)}"
        self.sc.setJobGroup(group, phase)
        start = time.perf_counter()
        rows = fn(df)
        wall = time.perf_counter() - start
        self.queries.append({"phase": phase, "at_s": round(start - self.t0, 1),
                             "s": round(wall, 3), "rows_back": len(rows),
                             **self.stages(group)})
        return rows

    def stages(self, group: str) -> dict[str, Any]:
        """Spark's metrics of the stages of a job group (waiting briefly for the listener)."""
        tracker = self.sc.statusTracker()
        out = {"jobs": 0, "stages": 0, "tasks": 0, "input_rows": 0, "input_mb": 0.0,
               "scan_run_s": 0.0, "scan_cpu_s": 0.0, "other_run_s": 0.0, "other_cpu_s": 0.0}
        for _ in range(100):  # stage metrics arrive through the listener bus, a little later
            data = []
            jobs = tracker.getJobIdsForGroup(group)
            for job in jobs:
                info = tracker.getJobInfo(job)
                for sid in info.stageIds if info else ():
                    try:
                        data.append(self.store.lastStageAttempt(sid))
                    except Exception:  # noqa: BLE001  (a stage the store does not know)
                        continue
            if all(d.status().toString() in ("COMPLETE", "SKIPPED", "FAILED") for d in data):
                break
            time.sleep(0.05)
        out["jobs"] = len(jobs)
        for d in data:
            if d.status().toString() == "SKIPPED":
                continue
            scan = d.inputRecords() > 0
            out["stages"] += 1
            out["tasks"] += d.numTasks()
            out["input_rows"] += d.inputRecords()
            out["input_mb"] += d.inputBytes() / 2**20
            key = "scan" if scan else "other"
            out[f"{key}_run_s"] += d.executorRunTime() / 1e3
            out[f"{key}_cpu_s"] += d.executorCpuTime() / 1e9
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def probe_duckdb(log: dict[str, Any]) -> None:
    """Time every DuckDBEngine statement; a scan is one that reads the file (its conformed
    view, or the file itself), not metadata, views or the joint-count temporary table."""
    from lookalike.marginals import duckdb as dd

    cls = dd.DuckDBEngine
    init, run, bind = cls.__init__, cls._run, cls.bind

    def __init__(self, *a, **k):
        self._bench_phase = "schema"
        log["engines"].append(self)
        start = time.perf_counter()
        init(self, *a, **k)
        log["init_s"] = time.perf_counter() - start
        self._bench_phase = "discovery"

    def _run(self, sql, params=None):
        start = time.perf_counter()
        rows = run(self, sql, params)
        head = sql.lstrip().upper()
        view = getattr(self, "_view", None)
        scans = not head.startswith(("DESCRIBE", "CREATE TEMP VIEW", "DROP")) and (
            (view is not None and f"FROM {view}" in sql) or self._from in sql)
        log["statements"] += 1
        if scans:
            log["queries"].append({"phase": self._bench_phase,
                                   "s": round(time.perf_counter() - start, 3)})
        return rows

    def bind_(self, encoder):
        bind(self, encoder)
        self._bench_phase = "measure"

    cls.__init__, cls._run, cls.bind = __init__, _run, bind_


def summarise_queries(queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Count and seconds of the queries of each phase (and, for Spark, the rows they read and
    their scan stages' task time)."""
    out: dict[str, Any] = {}
    for phase in ("schema", "discovery", "measure", "fingerprint"):
        qs = [q for q in queries if q["phase"] == phase]
        if not qs:
            continue
        out[phase] = {"n": len(qs), "s": round(sum(q["s"] for q in qs), 2)}
        if "input_rows" in qs[0]:
            out[phase].update({k: round(sum(q[k] for q in qs), 2) for k in
                               ("input_rows", "scan_run_s", "scan_cpu_s", "other_run_s")})
    return out


# ------------------------------------------------------------------------------ children
def quiet() -> None:
    from lookalike.privacy.budget import UnrecordedSpendWarning

    warnings.simplefilter("ignore", UnrecordedSpendWarning)


def fit_kwargs(args: argparse.Namespace, engine: str) -> dict[str, Any]:
    """The fit's arguments; with --ledger a fresh ledger file, so that the fit fingerprints the
    data as every CLI fit does (a count and a hashing pass)."""
    kw: dict[str, Any] = {"epsilon": args.epsilon, "seed": args.seed, "engine": engine}
    if args.ledger:
        ledger = args.workdir / f"ledger-{engine}-{os.getpid()}.db"
        ledger.unlink(missing_ok=True)
        kw.update(ledger=str(ledger), dataset="adult", register=True)
    return kw


def child_fit_spark(args: argparse.Namespace, synth: str) -> dict[str, Any]:
    import lookalike

    quiet()
    tree = TreeMemory()
    tree.start()
    spark, session = start_spark(args)
    rss_ready = mb(_status(os.getpid()).get("VmRSS", 0))
    probe = SparkProbe(spark).install()
    load0, start = load(), time.perf_counter()
    model = lookalike.fit(str(args.path), synth, **fit_kwargs(args, "spark"))
    fit_s = time.perf_counter() - start
    memory = tree.finish()
    queries = probe.queries
    engine = probe.engines[0]
    in_engine = [q for q in queries if q["phase"] not in ("schema", "fingerprint")]
    assert engine.queries == len(in_engine), (engine.queries, len(in_engine))
    if synth == "mst":
        model.save(args.workdir / "spark_mst.lookalike", overwrite=True)
    spark.stop()
    q_s = sum(q["s"] for q in queries)
    return {
        "engine": "spark", "synthesizer": synth, "epsilon": args.epsilon, "seed": args.seed,
        "ledger": args.ledger, "fit_s": round(fit_s, 1), "spark_session": session,
        "python_rss_mb_session_ready": rss_ready, **memory,
        "engine_queries": engine.queries, "schema_queries": len(queries) - len(in_engine),
        "queries_before_bind": probe.queries_before_bind,
        # rows read from the file, over the rows of the table
        "passes_over_rows": round(sum(q["input_rows"] for q in queries)
                                  / args.rows, 2),
        "by_phase": summarise_queries(queries),
        "query_s": round(q_s, 1), "driver_s": round(fit_s - q_s, 1),
        "rows_back_max": max(q["rows_back"] for q in queries),
        "queries": queries,
        "rho_spent": model.privacy_.rho_spent, "load_avg": [load0, load()],
    }


def child_fit_duckdb(args: argparse.Namespace, synth: str) -> dict[str, Any]:
    import lookalike

    quiet()
    rss0 = self_peak_mb()
    log: dict[str, Any] = {"engines": [], "queries": [], "statements": 0}
    probe_duckdb(log)
    load0, start = load(), time.perf_counter()
    model = lookalike.fit(str(args.path), synth, **fit_kwargs(args, "duckdb"))
    fit_s = time.perf_counter() - start
    peak = self_peak_mb()
    if synth == "mst":
        model.save(args.workdir / "duckdb_mst.lookalike", overwrite=True)
    import duckdb

    with duckdb.connect() as con:  # a fresh connection: the defaults the engine's own one has
        threads, limit = con.execute("SELECT current_setting('threads'), "
                                     "current_setting('memory_limit')").fetchone()
    settings = {"threads": threads, "memory_limit": limit}
    queries = log["queries"]
    q_s = sum(q["s"] for q in queries)
    return {
        "engine": "duckdb", "synthesizer": synth, "epsilon": args.epsilon, "seed": args.seed,
        "ledger": args.ledger, "fit_s": round(fit_s, 1), "duckdb_settings": settings,
        "python_peak_rss_mb_after_import": rss0, "python_driver_peak_rss_mb": peak,
        "statements": log["statements"], "scans": len(queries),
        "by_phase": summarise_queries(queries),
        "schema_init_s": round(log["init_s"], 2),
        "query_s": round(q_s, 1), "driver_s": round(fit_s - q_s, 1), "queries": queries,
        "rho_spent": model.privacy_.rho_spent, "load_avg": [load0, load()],
    }


def _reference_model(args: argparse.Namespace, prefer: tuple[str, ...]) -> tuple[Any, str]:
    """A saved mst model of this run (``prefer`` order), or a DuckDB mst fit made now."""
    import lookalike

    for name in prefer:
        path = args.workdir / f"{name}_mst.lookalike"
        if path.exists():
            return lookalike.load_synthesizer(path), f"{name} mst fit of these rows, seed and epsilon"
    quiet()
    model = lookalike.fit(str(args.path), "mst", epsilon=args.epsilon, seed=args.seed,
                          engine="duckdb")
    model.save(args.workdir / "duckdb_mst.lookalike", overwrite=True)
    return model, "duckdb mst fit made by this part (the duckdb part did not run)"


def child_equality(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from lookalike.marginals.duckdb import DuckDBEngine
    from lookalike.marginals.spark import SparkEngine

    model, origin = _reference_model(args, ("duckdb",))
    encoder, schema = model.encoder_, model.schema_
    names = list(encoder.names)
    sets = [(a,) for a in names] + list(itertools.combinations(names, 2))
    tree = TreeMemory()
    tree.start()
    spark, session = start_spark(args)
    probe = SparkProbe(spark).install()
    load0 = load()

    start = time.perf_counter()
    eng_s = SparkEngine(spark.read.parquet(str(args.path)), schema, label=str(args.path))
    eng_s.bind(encoder)
    got_s = eng_s.marginals(sets)
    spark_s = time.perf_counter() - start
    spark_queries = eng_s.queries
    eng_s.close()
    memory = tree.finish()
    spark.stop()

    start = time.perf_counter()
    with DuckDBEngine(args.path, schema) as eng_d:
        eng_d.bind(encoder)
        got_d = eng_d.marginals(sets)
    duck_s = time.perf_counter() - start

    equal = {s: bool(got_s[s].shape == got_d[s].shape and np.array_equal(got_s[s], got_d[s]))
             for s in sets}
    totals = sorted({int(got_d[s].sum()) for s in sets} | {int(got_s[s].sum()) for s in sets})
    differ = [list(s) for s, ok in equal.items() if not ok]
    return {
        "encoder_from": origin, "columns": len(names), "sizes": list(encoder.sizes),
        "marginals": len(sets), "one_way": len(names), "two_way": len(sets) - len(names),
        "equal": all(equal.values()),
        "differing": differ[:10], "n_differing": len(differ), "totals": totals,
        "spark_s": round(spark_s, 1), "spark_queries": spark_queries,
        "spark_query_metrics": probe.queries,
        "duckdb_s": round(duck_s, 1), "spark_session": session, **memory,
        "load_avg": [load0, load()],
    }


def child_sample_file(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from lookalike.synthesizers._bulk import sample_to_file
    except ImportError as e:
        return {"skipped": f"lookalike.synthesizers._bulk.sample_to_file is not there yet ({e})"}
    import pyarrow.parquet as pq

    model, origin = _reference_model(args, ("spark", "duckdb"))
    out = args.workdir / "sample.parquet"
    out.unlink(missing_ok=True)
    rss0, load0 = self_peak_mb(), load()
    start = time.perf_counter()
    sample_to_file(model, out, args.rows, seed=args.seed, chunk_rows=args.chunk_rows)
    secs = time.perf_counter() - start
    meta = pq.ParquetFile(out).metadata
    size = out.stat().st_size
    out.unlink()
    return {"model": origin, "rows": meta.num_rows, "chunk_rows": args.chunk_rows,
            "row_groups": meta.num_row_groups, "s": round(secs, 1),
            "rows_per_s": round(meta.num_rows / secs), "size_mb": round(size / 2**20, 1),
            "python_peak_rss_mb_before": rss0, "python_peak_rss_mb": self_peak_mb(),
            "load_avg": [load0, load()]}


def child_sample_spark(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from lookalike.synthesizers._bulk import sample_spark
    except ImportError as e:
        return {"skipped": f"lookalike.synthesizers._bulk.sample_spark is not there yet ({e})"}
    model, origin = _reference_model(args, ("spark", "duckdb"))
    tree = TreeMemory()
    tree.start()
    spark, session = start_spark(args)
    cores = cores_of(args.spark_master)
    parts = args.partitions or max(2 * cores, math.ceil(args.rows / args.chunk_rows))
    out = args.workdir / "sample_spark"
    shutil.rmtree(out, ignore_errors=True)
    load0, start = load(), time.perf_counter()
    df = sample_spark(model, args.rows, spark=spark, partitions=parts, seed=args.seed,
                      chunk_rows=args.chunk_rows)
    spark.sparkContext.setJobGroup("spark-scale-sample", "sample_spark")
    df.write.mode("overwrite").parquet(str(out))
    secs = time.perf_counter() - start
    memory = tree.finish()
    stages = SparkProbe(spark).stages("spark-scale-sample")
    rows = spark.read.parquet(str(out)).count()
    files = sorted(out.glob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    spark.stop()
    shutil.rmtree(out)
    return {"model": origin, "rows": rows, "partitions": parts, "chunk_rows": args.chunk_rows,
            "files": len(files), "s": round(secs, 1), "rows_per_s": round(rows / secs),
            "task_run_s": round(stages["scan_run_s"] + stages["other_run_s"], 1),
            "task_cpu_s": round(stages["scan_cpu_s"] + stages["other_cpu_s"], 1),
            "rows_per_s_per_core_task_run": round(
                rows / max(stages["scan_run_s"] + stages["other_run_s"], 1e-9)),
            "size_mb": round(size / 2**20, 1), "spark_session": session, **memory,
            "load_avg": [load0, load()]}


CHILDREN = {
    **{f"fit-spark-{s}": (lambda a, s=s: child_fit_spark(a, s)) for s in SYNTHS},
    **{f"fit-duckdb-{s}": (lambda a, s=s: child_fit_duckdb(a, s)) for s in SYNTHS},
    "equality": child_equality,
    "sample-file": child_sample_file,
    "sample-spark": child_sample_spark,
}


def run_child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one part in a fresh Python process; its JSON comes back through a file."""
    out, log = args.workdir / f"{name}.json", args.workdir / f"{name}.log"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--_child", name, "--_path", str(args.path),
           "--workdir", str(args.workdir), "--rows", str(args.rows), "--seed", str(args.seed),
           "--epsilon", str(args.epsilon), "--spark-master", args.spark_master,
           "--driver-memory", args.driver_memory, "--chunk-rows", str(args.chunk_rows),
           "--partitions", str(args.partitions or 0)]
    for kv in args.spark_conf:
        cmd += ["--spark-conf", kv]
    if args.ledger:
        cmd.append("--ledger")
    print(f"[{name}] ...", flush=True)
    start = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.run(cmd, stdout=err, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0 or not out.exists():
        tail = log.read_text()[-3000:]
        print(f"[{name}] FAILED (exit {proc.returncode}); log {log}:\n{tail}", flush=True)
        return {"failed": f"exit {proc.returncode}", "log_tail": tail[-1500:]}
    result = json.loads(out.read_text())
    result["process_wall_s"] = round(time.perf_counter() - start, 1)
    return result


# ------------------------------------------------------------------------------ cost model
def cost_model(fits: dict[str, Any], data: dict[str, Any], rows: int, cores: int,
               args: argparse.Namespace) -> dict[str, Any]:
    """A fit's time on a cluster, from this run's Spark metrics (see ``formula``).

    Each query q is split into its scan stages (the tasks that read the Parquet file: task
    CPU seconds ``cpu_q`` and run seconds ``run_q`` summed over tasks, Spark's own metrics)
    and the rest of its wall time, ``fixed_q = wall_q - run_q / c`` (planning, code
    generation, scheduling, the merge of partial counts, the result: none of it grows with
    the rows). A scan is a Parquet read with map-side partial aggregation, so its task time
    grows with the rows and spreads over the cores; the shuffle carries partial counts only
    (groups x tasks, not rows). The driver's own work (noise, selection, the graphical
    model) is taken as measured: it grows with the domain, not the rows.
    """
    nodes, per_node, target = args.cluster_nodes, args.cluster_cores, args.cluster_rows
    big_c = nodes * per_node
    bpr = data["bytes_per_row"]
    read_s = target * bpr / (nodes * args.cluster_read_mb_s * 2**20)  # one pass, read-bound
    out: dict[str, Any] = {
        "assumptions": {
            "measured_on": f"{rows:,} rows, Spark {args.spark_master} ({cores} cores), "
                           f"Parquet {bpr} bytes/row",
            "cluster": f"{nodes} nodes x {per_node} cores = {big_c} cores",
            "rows": target,
            "scaling": "scan task time x (rows'/rows) / cores' (Parquet splits of at most "
                       "128 MB give every core work: 10^10 rows are ~"
                       f"{target * bpr / 2**30:,.0f} GiB); fixed per-query time, shuffle "
                       "merge and driver work as measured here",
            "read_mb_s_per_node": args.cluster_read_mb_s,
            "extra_latency_per_query_s": args.cluster_query_overhead,
        },
        "formula": "T = sum_q [ max(cpu_q * (N'/N) / C, N' * b / (nodes * B)) if q scans the "
                   "rows + fixed_q + o ] + t_driver; cpu_q = task CPU seconds of q's scan "
                   "stages on N rows (run_q, task run time, gives the pessimistic variant), "
                   "fixed_q = wall_q - run_q / c, C = cluster cores, c = local cores, b = "
                   "Parquet bytes per row, B = read MB/s per node, o = extra scheduling "
                   "latency per query on a cluster",
    }
    for synth, fit in fits.items():
        if not fit or "queries" not in fit:
            continue
        qs = fit["queries"]
        scans = [q for q in qs if q["input_rows"] > 0]
        cpu = sum(q["scan_cpu_s"] for q in scans)
        run = sum(q["scan_run_s"] for q in scans)
        read = sum(q["input_rows"] for q in scans)
        fixed = sum(q["s"] - (q["scan_run_s"] / cores if q in scans else 0.0) for q in qs)
        overhead = len(qs) * args.cluster_query_overhead

        def cluster(key: str, scans=scans) -> float:
            return sum(max(q[key] * (target / rows) / big_c, read_s) for q in scans)

        scan_cpu, scan_run = cluster("scan_cpu_s"), cluster("scan_run_s")
        total = scan_cpu + fixed + overhead + fit["driver_s"]
        heavy = max(scans, key=lambda q: q["scan_cpu_s"] / q["input_rows"])
        out[synth] = {
            "queries": len(qs), "passes_over_rows": round(read / rows, 2),
            "measured": {"fit_s": fit["fit_s"], "scan_task_cpu_s": round(cpu, 1),
                         "scan_task_run_s": round(run, 1), "fixed_s": round(fixed, 1),
                         "driver_s": fit["driver_s"]},
            "rows_per_s_per_core_per_pass": {"cpu": round(read / cpu), "run": round(read / run)},
            "slowest_pass": {"phase": heavy["phase"],
                             "rows_per_s_per_core_cpu": round(heavy["input_rows"]
                                                              / heavy["scan_cpu_s"])},
            "cluster_one_pass_s": {"cpu": round(rows / (read / cpu) * (target / rows) / big_c, 2),
                                   "read_bound": round(read_s, 2)},
            "cluster_fit_s": round(total, 1),
            "cluster_fit_s_from_task_run_time": round(scan_run + fixed + overhead
                                                      + fit["driver_s"], 1),
            "cluster_parts_s": {"scans": round(scan_cpu, 1), "fixed": round(fixed, 1),
                                "latency": round(overhead, 1), "driver": fit["driver_s"]},
            "cluster_core_hours_scanning": round(cpu * (target / rows) / 3600, 1),
            "this_machine_at_cluster_rows_h": round(
                (run * (target / rows) / cores + fixed + fit["driver_s"]) / 3600, 1),
        }
    return out


# ------------------------------------------------------------------------------ report
def show(results: dict[str, Any]) -> None:
    d = results["data"]
    print(f"\n== {d['path']}: {d['rows']:,} rows x {d['columns']} columns, {d['size_mb']} MB "
          f"({d['bytes_per_row']} B/row), {results['machine']}")
    if "spark_settings" in results:
        print(f"Spark session: {results['spark_settings']}")
    fits = results.get("fit", {})
    duck = results.get("duckdb", {})
    for s in SYNTHS:
        f, g = fits.get(s), duck.get(s)
        if f and "fit_s" in f:
            ph = ", ".join(f"{k} {v['n']} ({v['s']} s)" for k, v in f["by_phase"].items())
            print(f"spark  {s:4} fit {f['fit_s']:7.1f} s | python {f['python_driver_peak_rss_mb']:6.0f} MB"
                  f", JVM {f.get('jvm_peak_rss_mb', float('nan')):6.0f} MB, tree "
                  f"{f['tree_peak_rss_mb']:6.0f} MB | {f['engine_queries']} engine queries + "
                  f"{f['schema_queries']} schema, {f['passes_over_rows']} passes over the rows: "
                  f"{ph}; driver {f['driver_s']} s")
        if g and "fit_s" in g:
            ph = ", ".join(f"{k} {v['n']} ({v['s']} s)" for k, v in g["by_phase"].items())
            print(f"duckdb {s:4} fit {g['fit_s']:7.1f} s | python {g['python_driver_peak_rss_mb']:6.0f} MB"
                  f" | {g['scans']} scans of the file: {ph}; driver {g['driver_s']} s")
        if f and g and "fit_s" in f and "fit_s" in g:
            print(f"       {s:4} spark / duckdb fit time: {f['fit_s'] / g['fit_s']:.2f}")
    eq = results.get("equality")
    if eq and "equal" in eq:
        print(f"equality: {eq['marginals']} marginals ({eq['one_way']} 1-way, {eq['two_way']} "
              f"2-way) identical: {eq['equal']} (totals {eq['totals']}); spark {eq['spark_s']} s "
              f"({eq['spark_queries']} queries), duckdb {eq['duckdb_s']} s")
    for key in ("sample_to_file", "sample_spark"):
        r = results.get(key)
        if r and "rows_per_s" in r:
            mem = (f"python {r['python_peak_rss_mb']:.0f} MB" if key == "sample_to_file" else
                   f"JVM {r.get('jvm_peak_rss_mb', float('nan')):.0f} MB, python workers "
                   f"{r.get('python_workers', 0)} x <= {r.get('python_worker_peak_rss_mb', 0):.0f}"
                   f" MB, tree {r['tree_peak_rss_mb']:.0f} MB")
            tasks = (f"; tasks {r['rows_per_s_per_core_task_run']:,} rows/s per core"
                     if "task_run_s" in r else "")
            print(f"{key}: {r['rows']:,} rows in {r['s']} s = {r['rows_per_s']:,.0f} rows/s "
                  f"({r['size_mb']} MB{tasks}); peak {mem}")
        elif r:
            print(f"{key}: {r.get('skipped') or r.get('failed')}")
    cm = results.get("cost_model")
    if cm:
        a = cm["assumptions"]
        print(f"\ncost model: {a['cluster']}, {a['rows']:.0e} rows, from {a['measured_on']}")
        print(f"  {cm['formula']}")
        for s in SYNTHS:
            if s in cm:
                c, p = cm[s], cm[s]["cluster_parts_s"]
                print(f"  {s}: {c['queries']} queries, {c['passes_over_rows']} passes over the "
                      f"rows at {c['rows_per_s_per_core_per_pass']['cpu']:,} rows/s/core (task "
                      f"CPU; {c['rows_per_s_per_core_per_pass']['run']:,} by task run time; "
                      f"slowest {c['slowest_pass']['phase']} "
                      f"{c['slowest_pass']['rows_per_s_per_core_cpu']:,})")
                print(f"       one pass on the cluster {c['cluster_one_pass_s']['cpu']} s compute, "
                      f"{c['cluster_one_pass_s']['read_bound']} s read-bound; fit ~ "
                      f"{c['cluster_fit_s']} s = scans {p['scans']} + fixed {p['fixed']} + "
                      f"latency {p['latency']} + driver {p['driver']} (by task run time "
                      f"{c['cluster_fit_s_from_task_run_time']} s); {c['cluster_core_hours_scanning']}"
                      f" core-hours of scanning; this machine would take "
                      f"{c['this_machine_at_cluster_rows_h']} h")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--quick", action="store_true", help="10^6 rows (overrides --rows)")
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    ap.add_argument("--synthesizers", nargs="+", choices=SYNTHS, default=list(SYNTHS))
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--driver-memory", default="4g",
                    help="spark.driver.memory: the JVM heap (local mode: driver and executor)")
    ap.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--ledger", action="store_true",
                    help="fit with a (fresh) ledger: the data is fingerprinted, as CLI fits do")
    ap.add_argument("--chunk-rows", type=int, default=1_000_000, help="sampling chunk size")
    ap.add_argument("--sample-by", nargs="+", choices=("file", "spark"), default=["file", "spark"],
                    help="the sample part's writers: sample_to_file, sample_spark")
    ap.add_argument("--partitions", type=int, default=0,
                    help="sample_spark partitions (0: max(2 x cores, rows / chunk-rows))")
    ap.add_argument("--data-threads", type=int, default=2, help="DuckDB threads making the data")
    ap.add_argument("--force-data", action="store_true", help="regenerate the Parquet file")
    ap.add_argument("--cluster-nodes", type=int, default=100)
    ap.add_argument("--cluster-cores", type=int, default=16, help="cores per cluster node")
    ap.add_argument("--cluster-rows", type=float, default=1e10)
    ap.add_argument("--cluster-query-overhead", type=float, default=1.0,
                    help="seconds of job scheduling per Spark query on the cluster")
    ap.add_argument("--cluster-read-mb-s", type=float, default=500.0,
                    help="Parquet read bandwidth per cluster node, MB/s")
    ap.add_argument("--workdir", type=Path, default=DATA / "spark_scale_work")
    ap.add_argument("--keep-models", action="store_true",
                    help="a run in parts: keep the mst models an earlier run with the same "
                         "--rows, --seed and --epsilon saved in --workdir (the equality and "
                         "sample parts use them instead of fitting again)")
    ap.add_argument("--json", type=Path, default=None,
                    help="default benchmarks/results/spark_scale_<rows>.json")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_path", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.rows = 1_000_000
    if args._child:
        args.path = args._path
        result = CHILDREN[args._child](args)
        (args.workdir / f"{args._child}.json").write_text(json.dumps(result, indent=1))
        return

    cores = cores_of(args.spark_master)
    args.workdir.mkdir(parents=True, exist_ok=True)
    stamp = args.workdir / "models-for.json"
    settings = {"rows": args.rows, "seed": args.seed, "epsilon": args.epsilon}
    kept = stamp.exists() and json.loads(stamp.read_text()) == settings
    if not (args.keep_models and (kept or not stamp.exists())):
        for stale in args.workdir.glob("*.lookalike"):
            stale.unlink()
    stamp.write_text(json.dumps(settings))
    args.path = data_path(args.rows, args.seed)
    if args.force_data:
        args.path.unlink(missing_ok=True)
    print(f"data: {args.path} ...", flush=True)
    data = make_data(args.path, args.rows, args.seed, args.data_threads)
    print(f"data: {data}", flush=True)
    results: dict[str, Any] = {
        "benchmark": "spark_scale", "machine": machine(), "rows": args.rows,
        "table": f"Adult (bundled, 32,561 rows) resampled with jitter to {args.rows:,} rows",
        "data": data, "epsilon": args.epsilon, "seed": args.seed,
        "command": "python benchmarks/spark_scale.py " + " ".join(sys.argv[1:]),
        "spark_settings": {"master": args.spark_master, **spark_conf(args)},
        "load_avg_start": load(),
    }
    results["spark_settings"]["spark.local.dir"] = str(
        Path(results["spark_settings"]["spark.local.dir"]).relative_to(HERE.parent))
    # duckdb first: its mst model is the encoder of the equality check
    if "duckdb" in args.only:
        results["duckdb"] = {s: run_child(f"fit-duckdb-{s}", args) for s in args.synthesizers}
    if "fit" in args.only:
        results["fit"] = {s: run_child(f"fit-spark-{s}", args) for s in args.synthesizers}
        for s, f in results["fit"].items():
            g = results.get("duckdb", {}).get(s)
            if "fit_s" in f and g and "fit_s" in g:
                f["spark_over_duckdb_fit_time"] = round(f["fit_s"] / g["fit_s"], 2)
    if "equality" in args.only:
        results["equality"] = run_child("equality", args)
    if "sample" in args.only:
        if "file" in args.sample_by:
            results["sample_to_file"] = run_child("sample-file", args)
        if "spark" in args.sample_by:
            results["sample_spark"] = run_child("sample-spark", args)
    if "fit" in args.only:
        results["cost_model"] = cost_model(results["fit"], data, args.rows, cores, args)
    results["load_avg_end"] = load()
    show(results)
    path = args.json or HERE / "results" / f"spark_scale_{rows_label(args.rows)}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
