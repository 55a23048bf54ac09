"""Sampling at scale: rows per second and peak memory of ``sample_to_file`` and ``sample_spark``.

One step per process, so that each is measured alone (peak RSS of the process):

    .venv/bin/python benchmarks/sample_bulk.py fit --family mst    # mst (or aim) on Adult, ε = 1
    .venv/bin/python benchmarks/sample_bulk.py file --family mst   # 10^7 rows to Parquet
    .venv/bin/python benchmarks/sample_bulk.py file --workers 1    # the same, one thread
    .venv/bin/python benchmarks/sample_bulk.py spark               # the same on local[2]

``file`` streams ``--rows`` rows (default 10^7) in chunks of ``--chunk-rows`` (10^6) to one
``--format`` file (parquet, or csv), drawn by ``--workers`` threads (default: sample_to_file's,
one per core); ``spark`` generates them with ``--partitions`` (default one per chunk) on Spark
``--master`` (``local[2]``) and writes a folder of Parquet parts. Each step adds its figures
(seconds, rows per second, CPU seconds of the process tree, peak RSS of the Python process
and, for Spark, of its JVM and Python workers, the load average before and after: other work
on the machine slows it, and the code measured: the commit, and whether the tree had changes)
to ``results/sample_bulk.json``. The outputs go to ``--out`` (default a folder under /tmp) and
are removed afterwards. Run with ``PYTHONPATH=<an older checkout>/src`` to measure older code
(``--workers`` left out: the option is newer).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _protocol import code_version, machine  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "sample_bulk.json"


def cpu_seconds() -> float:
    """CPU seconds of this process (user + system): what a busy machine does not inflate."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_tree() -> dict[int, tuple[int, float, float, str]]:
    """This process and its live descendants (Spark's JVM, its Python workers): pid -> (parent,
    CPU seconds with waited-for children, peak RSS in MB, command), read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            status = Path(f"/proc/{name}/status").read_text()
            cmd = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        hwm = next((int(line.split()[1]) / 1024 for line in status.splitlines()
                    if line.startswith("VmHWM:")), 0.0)
        procs[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / tick, hwm, cmd)
    tree, todo = {}, [os.getpid()]
    while todo:
        pid = todo.pop()
        if pid in procs:
            tree[pid] = procs[pid]
            todo += [p for p, v in procs.items() if v[0] == pid]
    return tree


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["fit", "file", "spark"])
    parser.add_argument("--family", choices=["mst", "aim"], default="mst")
    parser.add_argument("--model", type=Path, default=None,
                        help="model file (default /tmp/lookalike-bench/adult_FAMILY.lookalike)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/lookalike-bench/out"))
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import lookalike

    model_path = args.model or Path(f"/tmp/lookalike-bench/adult_{args.family}.lookalike")
    if args.step == "fit":
        start = time.perf_counter()
        model = lookalike.fit(lookalike.load_demo(), args.family, epsilon=1.0, seed=args.seed)
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model.save(model_path, overwrite=True)
        print(f"fitted {args.family} on Adult in {time.perf_counter() - start:.1f} s: {model_path}")
        return
    model = lookalike.load_synthesizer(model_path)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    record: dict = {"step": args.step, "rows": args.rows, "chunk_rows": args.chunk_rows,
                    "model": f"{model.name}, Adult (32,561 rows), epsilon=1", "machine": machine(),
                    "code": code_version(lookalike), "load_average_before": round(os.getloadavg()[0], 1)}
    if args.step == "file":
        path = args.out / f"synthetic.{args.format}"
        options = {} if args.workers is None else {"workers": args.workers}
        start, cpu = time.perf_counter(), cpu_seconds()
        lookalike.sample_to_file(model, path, args.rows, seed=args.seed, chunk_rows=args.chunk_rows,
                                 **options)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        if args.format == "parquet":
            import pyarrow.parquet as pq

            assert pq.read_metadata(path).num_rows == args.rows
        from lookalike.synthesizers import _bulk

        workers = args.workers or getattr(_bulk, "default_workers", lambda: 1)()
        record |= {"format": args.format, "workers": workers, "seconds": round(seconds, 1),
                   "rows_per_s": round(args.rows / seconds),
                   "cpu_s": round(cpu, 1), "rows_per_cpu_s": round(args.rows / cpu),
                   "bytes": path.stat().st_size}
    else:
        import pyarrow.dataset as ds

        from lookalike.marginals.spark import spark_session

        start = time.perf_counter()
        spark = spark_session(args.master, {"spark.ui.enabled": "false",
                                            "spark.ui.showConsoleProgress": "false"})
        spark.sparkContext.setLogLevel("ERROR")
        session_s = time.perf_counter() - start
        path = args.out / "synthetic.parquet"
        cpu = sum(v[1] for v in process_tree().values())
        start = time.perf_counter()
        df = lookalike.sample_spark(model, args.rows, spark=spark, partitions=args.partitions,
                                    seed=args.seed, chunk_rows=args.chunk_rows)
        df.write.parquet(str(path))
        seconds = time.perf_counter() - start
        tree = process_tree()
        cpu = sum(v[1] for v in tree.values()) - cpu
        jvm = max((v[2] for v in tree.values() if "java" in v[3]), default=0.0)
        workers = [v[2] for pid, v in tree.items() if pid != os.getpid() and "python" in v[3]]
        assert ds.dataset(path).count_rows() == args.rows
        record |= {"master": args.master, "partitions": df.rdd.getNumPartitions(),
                   "session_start_s": round(session_s, 1), "seconds": round(seconds, 1),
                   "rows_per_s": round(args.rows / seconds),
                   "cpu_s": round(cpu, 1), "rows_per_cpu_s": round(args.rows / cpu),
                   "jvm_peak_rss_mb": round(jvm), "python_workers": len(workers),
                   "python_worker_peak_rss_mb": round(max(workers, default=0.0)),
                   "bytes": sum(p.stat().st_size for p in path.glob("part-*"))}
        spark.stop()
    record["python_peak_rss_mb"] = round(peak_rss_mb())
    record["load_average_after"] = round(os.getloadavg()[0], 1)  # other work on the machine
    shutil.rmtree(args.out, ignore_errors=True)
    print(json.dumps(record, indent=1))
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([*runs, record], indent=1) + "\n")


if __name__ == "__main__":
    main()
