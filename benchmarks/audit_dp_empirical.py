"""Empirical ε of our DP synthesizers on a worst-case neighbouring pair, with many fits.

    .venv/bin/python benchmarks/audit_dp_empirical.py [--fits 500] [--synthesizers mst,privbayes,aim,cart]
        [--epsilon 1] [--seed 0] [--params '{"dpctgan": {"epochs": 30}}'] [--json PATH]

The same check as tests/audit/test_dp_empirical.py, larger: D is 200 rows of the bundled
Adult table (age, workclass, race, sex, capital-gain) without workclass "Never-worked"; D'
adds one extreme record (Never-worked, race Other, age 90, capital-gain 99,999); categories
and bounds are declared public. Each fit's synthetic table (200 rows) is scored by how many
rows carry the record's workclass; ``--fits`` fits per side. Prints, per synthesizer, the
claimed ε, the empirical lower bound at confidence 0.95 (threshold chosen on a random half,
bound on the other), the rates behind it and the mean scores; ``cart`` (non-DP) is the control
that shows what the attack proves when a synthesizer copies the record. Writes JSON to
benchmarks/results/audit_dp_empirical.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "audit_dp_empirical.json"
COLUMNS = ["age", "workclass", "race", "sex", "capital-gain"]
EXTREME = {"age": 90, "workclass": "Never-worked", "race": "Other", "sex": "Female", "capital-gain": 99_999}
DP = {"mst", "aim", "privbayes", "dpctgan", "dptvae", "pategan"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=500, help="fits per side")
    parser.add_argument("--synthesizers", default="mst,privbayes,aim,cart")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--delta", type=float, default=1e-9)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--params", type=json.loads, default={}, help="JSON: synthesizer name -> constructor options"
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    import lookalike
    from lookalike.audit._dp_check import neighbour_scores
    from lookalike.audit.epsilon import empirical_epsilon
    from lookalike.schema import infer_schema

    table = lookalike.load_demo()[COLUMNS]
    data = table[table["workclass"] != EXTREME["workclass"]].sample(args.rows, random_state=args.seed)
    data = data.reset_index(drop=True)
    declared = infer_schema(table).to_dict()
    schema = {
        "columns": [
            {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in col.items()}
            for col in declared["columns"]
        ]
    }

    def score(synth):
        return float((synth["workclass"] == EXTREME["workclass"]).sum())

    out = json.loads(args.json.read_text()) if args.json.exists() else {}
    out.setdefault("results", {})
    out["protocol"] = __doc__.split("\n\n")[2].replace("\n", " ")
    for name in [s.strip() for s in args.synthesizers.split(",") if s.strip()]:
        eps = args.epsilon if name in DP else None
        delta = args.delta if name in DP else None
        start = time.perf_counter()
        members, non_members = neighbour_scores(
            name, data, EXTREME, score, n_fits=args.fits, params=args.params.get(name), schema=schema,
            epsilon=eps, delta=delta, seed=args.seed,
        )
        seconds = time.perf_counter() - start
        bound = empirical_epsilon(members, non_members, delta=delta or 0.0, confidence=0.95, seed=args.seed)
        claim = "none (non-DP)" if eps is None else f"ε={eps:g}, δ={delta:g}"
        print(
            f"{name:>10}  claimed {claim:<18} empirical ε ≥ {bound.epsilon:.3f}  "
            f"(TPR {bound.tpr:.3f}, FPR {bound.fpr:.3f} at score ≥ {bound.threshold:g}; "
            f"mean score with {members.mean():.2f}, without {non_members.mean():.2f}; "
            f"{2 * args.fits} fits, {seconds:.0f} s)"
        )
        out["results"][name] = {
            "epsilon_claimed": eps,
            "delta_claimed": delta,
            "bound": bound.to_dict(),
            "fits_per_side": args.fits,
            "params": args.params.get(name, {}),
            "mean_score_members": float(members.mean()),
            "mean_score_non_members": float(non_members.mean()),
            "seconds": seconds,
            "seed": args.seed,
            "machine": f"{len(os.sched_getaffinity(0))} CPUs, load average {os.getloadavg()[0]:.1f}",
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
        tmp.replace(args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
