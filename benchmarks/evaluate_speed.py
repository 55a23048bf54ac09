"""Time ``lookalike.evaluate.evaluate`` on Adult: 32,561 real rows against 32,561 CART rows.

    .venv/bin/python benchmarks/evaluate_speed.py [--repeats 3] [--threads 2]

Protocol: load shared/datasets/adult/adult.csv (or $LOOKALIKE_SHARED/datasets/adult), split
80/20 with seed 0 as benchmarks/_protocol.py does, fit ``cart`` on the 80%, sample 32,561
rows, and time ``evaluate(full real table, synthetic, holdout=the 20%, target="income")``.
Prints each run's seconds, the median, the peak RSS of the process and the headline numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import ADULT, TARGET, peak_rss_mb, split  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="pin the process to this many CPUs (Linux)"
    )
    args = parser.parse_args()
    if args.threads:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])

    import lookalike
    from lookalike.evaluate import evaluate

    if not ADULT.exists():
        raise SystemExit(f"{ADULT} not found: set LOOKALIKE_SHARED to the shared/ folder")
    real = lookalike.read_table(ADULT)
    train, holdout = split(real, seed=0)
    start = time.perf_counter()
    synth = lookalike.get_synthesizer("cart").fit(train, seed=0).sample(len(real), seed=0)
    print(f"cart fit + sample: {time.perf_counter() - start:.1f} s")
    print(
        f"real {len(real):,} x {real.shape[1]}, synthetic {len(synth):,}, holdout {len(holdout):,}; "
        f"{len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}"
    )
    times = []
    for i in range(args.repeats):
        start = time.perf_counter()
        ev = evaluate(real, synth, holdout=holdout, target=TARGET)
        times.append(time.perf_counter() - start)
        print(f"run {i + 1}: {times[-1]:.2f} s  (load average {os.getloadavg()[0]:.2f})")
    print(f"median: {statistics.median(times):.2f} s over {len(times)} runs")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    print("headline:", {k: None if v is None else round(v, 4) for k, v in ev.headline().items()})
    for sentence in ev.verdict():
        print(" -", sentence)


if __name__ == "__main__":
    main()
