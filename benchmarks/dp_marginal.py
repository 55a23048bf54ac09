"""DP marginal benchmark on Adult: lookalike's mst, aim and privbayes at (epsilon, delta) = (1, 1e-9)
against, with --peers, OpenDP's MST, smartnoise-synth's MST and DataSynthesizer (k=2), each in
its own virtualenv (benchmarks/.venvs/NAME); --slow-peers adds OpenDP's and smartnoise's AIM.

    .venv/bin/python benchmarks/dp_marginal.py [--seeds 0 1 2 3 4] [--peers] [--slow-peers]
        [--only NAME ...] [--epsilon 1] [--delta 1e-9] [--json PATH]

NAMEs: mst, aim, privbayes (lookalike), opendp-mst, opendp-aim, smartnoise-mst, smartnoise-aim,
datasynthesizer; --only NAME runs just those (peers included, no --peers needed).

Protocol: benchmarks/_protocol.py (80/20 split with seed 0; TVD on the real training data's bins;
AUC on the real holdout; detection AUC). Every method fits and samples in a child process of
its own, so the peak RSS is that process's alone. Prints a markdown table of the means over
seeds (2-way also its std) and merges the per-seed and mean results into --json (default
benchmarks/results/dp_marginal.json), keyed by method, so methods can be run one at a time.
How each peer is configured: benchmarks/_dp_peers.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _dp_peers import DP_PEERS, run_dp_peer, run_lookalike
from _protocol import ADULT, load_adult, machine, quality, split

import lookalike

RESULTS = Path(__file__).resolve().parent / "results"
OURS = ("mst", "aim", "privbayes")
METRICS = ("fit_s", "sample_s", "peak_rss_mb", "cpu_s", "1way", "2way", "3way", "auc", "detection")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=[*OURS, *DP_PEERS])
    ap.add_argument(
        "--peers", action="store_true", help="also run the fast peers in their own venvs"
    )
    ap.add_argument(
        "--slow-peers", action="store_true", help="with --peers, also the AIM peers (minutes each)"
    )
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--delta", type=float, default=1e-9)
    ap.add_argument("--json", type=Path, default=RESULTS / "dp_marginal.json")
    args = ap.parse_args()

    if args.only:
        names = list(args.only)
    else:
        names = list(OURS)
        if args.peers:
            names += [n for n, (_, _, _, slow) in DP_PEERS.items() if args.slow_peers or not slow]
    available = set(lookalike.available())
    for name in [n for n in names if n in OURS and n not in available]:
        print(
            f"note: lookalike has no '{name}' synthesizer yet (available: {sorted(available)}); skipped"
        )
        names.remove(name)

    train, holdout = split(load_adult())
    eps, delta = args.epsilon, args.delta
    results = {}
    for name in names:
        label = f"lookalike {name}" if name in OURS else DP_PEERS[name][0]
        per_seed = []
        for seed in args.seeds:
            if name in OURS:
                rows, info = run_lookalike(name, train, seed, eps, delta)
            else:
                rows, info = run_dp_peer(name, train, seed, eps, delta)
            info.update(seed=seed, **quality(rows, train, holdout))
            per_seed.append(info)
            shown = {k: round(info[k], 4) for k in METRICS if k in info}
            print(f"{label} seed {seed}: {shown}", flush=True)
        results[name] = {
            "label": label,
            "seeds": args.seeds,
            "epsilon": eps,
            "delta": delta,
            "machine": machine(),
            "mean": {k: float(np.mean([r[k] for r in per_seed])) for k in METRICS},
            "std": {k: float(np.std([r[k] for r in per_seed])) for k in METRICS},
            "per_seed": per_seed,
        }

    where = (
        f"{ADULT.name}, 80/20 split seed 0, epsilon {eps:g}, delta {delta:g}, seeds {args.seeds}"
    )
    print(f"\n{where}; {machine()}")
    print(
        "| method | fit s | sample s | peak RSS MB | 1-way | 2-way (± std) | 3-way | AUC | detection |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results.values():
        m, s = r["mean"], r["std"]
        print(
            f"| {r['label']} | {m['fit_s']:.1f} | {m['sample_s']:.1f} | {m['peak_rss_mb']:.0f} | "
            f"{m['1way']:.3f} | {m['2way']:.3f} ± {s['2way']:.3f} | {m['3way']:.3f} | "
            f"{m['auc']:.3f} | {m['detection']:.3f} |"
        )

    old = json.loads(args.json.read_text()) if args.json.exists() else {}
    merged = {**old.get("results", {}), **results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    out = {
        "dataset": ADULT.name,
        "split": "80/20, seed 0",
        "epsilon": eps,
        "delta": delta,
        "machine": machine(),
        "results": merged,
    }
    args.json.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
