"""Shadow-model membership attack on Adult's 5 most exposed records, per synthesizer.

    .venv/bin/python benchmarks/audit_shadow.py [--fits 50] [--reference-size 1000]
        [--synthesizers cart,gaussian_copula,mst,aim] [--seed 0] [--json PATH]

Protocol: load shared/datasets/adult/adult.csv (or $LOOKALIKE_SHARED/datasets/adult; skipped
with a message when absent), select the 5 most exposed records (``select_targets``), and run
``shadow_attack`` against each synthesizer with its default hyper-parameters and no schema
(every fit infers its own, as a release would): ``cart`` and ``gaussian_copula`` without DP,
``mst`` and ``aim`` at ε = 1, δ = 1e-9. Reference datasets of 1,000 rows, synthetic outputs of
1,000 rows, ``--fits`` fits per target per class (total ``fits × 6`` per synthesizer), half to
train the attack and half to test it. Prints per-target AUC with its 95% bootstrap interval,
advantage and empirical ε, and the mean AUC with its interval; writes JSON (merged with the
synthesizers already in the file) to benchmarks/results/audit_shadow.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import ADULT  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "audit_shadow.json"
DP = {"mst", "aim", "privbayes"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=50, help="fits per target per class")
    parser.add_argument("--reference-size", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=5)
    parser.add_argument("--synthesizers", default="cart,gaussian_copula,mst,aim")
    parser.add_argument("--epsilon", type=float, default=1.0, help="for the DP synthesizers")
    parser.add_argument("--delta", type=float, default=1e-9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    if not ADULT.exists():
        print(f"skipped: {ADULT} not found (set LOOKALIKE_SHARED to the shared/ folder)")
        return
    import lookalike
    from lookalike.audit.shadow import shadow_attack
    from lookalike.audit.targets import select_targets

    real = lookalike.read_table(ADULT)
    start = time.perf_counter()
    targets = select_targets(real, n=args.targets, seed=args.seed)
    print(f"targets selected in {time.perf_counter() - start:.1f} s:")
    for row, score, reason in zip(targets.rows, targets.scores, targets.reasons, strict=True):
        print(f"  row {row:>6}  exposure {score:5.2f}  {reason}")

    machine = (
        f"{len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}, "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    out = json.loads(args.json.read_text()) if args.json.exists() else {}
    out.setdefault("results", {})
    out.update(
        protocol=__doc__.split("Protocol: ", 1)[1].split("\n\n")[0].replace("\n", " "),
        dataset=str(ADULT.name),
        rows=len(real),
        targets=targets.to_dict(),
    )
    for name in [s.strip() for s in args.synthesizers.split(",") if s.strip()]:
        eps = args.epsilon if name in DP else None
        delta = args.delta if name in DP else None
        r = shadow_attack(
            real, name, targets=targets, n_fits=args.fits, reference_size=args.reference_size,
            epsilon=eps, delta=delta, seed=args.seed,
        )  # fmt: skip
        label = name if eps is None else f"{name} (ε={eps:g}, δ={delta:g})"
        print(f"\n{label}: {args.fits} fits per target per class, {r.seconds:.0f} s")
        for t in r.targets:
            print(
                f"  row {t.row:>6}  AUC {t.auc:.3f} [{t.auc_ci[0]:.3f}, {t.auc_ci[1]:.3f}]  "
                f"advantage {t.advantage:.2f}  empirical ε ≥ {t.epsilon.epsilon:.2f}"
            )
        print(f"  mean AUC {r.mean_auc:.3f} [{r.mean_auc_ci[0]:.3f}, {r.mean_auc_ci[1]:.3f}]")
        entry = r.to_dict()
        entry.update(seed=args.seed, machine=machine)
        for t in entry["targets"]:
            t.pop("roc")  # kept small: the curves are in the Python result
        out["results"][name] = entry
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
        tmp.replace(args.json)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
