"""Seconds to sample 1,000,000 rows from ``mst``, ``aim`` and ``privbayes`` fitted at ε = 1.

Fits each on the bundled Adult table (32,561 rows, ``lookalike.load_demo()``), then times
``model.sample(1_000_000)`` (median of ``--repeats``): the issue's target is under 10 seconds.

    .venv/bin/python benchmarks/dp_sample_speed.py [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import lookalike

sys.path.insert(0, str(Path(__file__).parent))
from _protocol import machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "dp_sample_speed.json")
    args = parser.parse_args()
    real = lookalike.load_demo()
    out = {"machine": machine(), "rows": 1_000_000, "results": {}}
    for name in ("mst", "aim", "privbayes"):
        model = lookalike.get_synthesizer(name).fit(real, epsilon=1.0, delta=1e-9, seed=args.seed)
        times = []
        for r in range(args.repeats):
            start = time.perf_counter()
            rows = model.sample(1_000_000, seed=args.seed + r)
            times.append(time.perf_counter() - start)
        assert len(rows) == 1_000_000
        out["results"][name] = {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times]}
        print(name, out["results"][name], flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
