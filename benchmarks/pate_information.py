"""How much PATE's noisy votes can tell a student, on Adult at a given ε (data-independent bound).

``k`` teachers on disjoint partitions answer ``Q`` queries; each answer is the sum of the
teachers' outputs in [0, 1] (sensitivity 1) plus discrete Gaussian noise σ = √(Q/(2ρ)). All
answers together carry Fisher information Q·k²·Var(T)/σ² = 2ρ·k²·Var(T) about the teachers' mean
output T(x), whatever Q. This script trains teachers as pategan would and measures Var(T):

* ``label``: each teacher predicts income from the other columns (PATE's original use: the
  most a vote can say about a dependence); queries are holdout rows with income hidden, and the
  mean vote's AUC for income on those rows shows what the teachers know;
* ``discriminator``: each teacher tells its rows from rows drawn column by column from the DP
  1-way marginals (rows without any dependence); queries are such rows.

ρ is what ``pategan`` leaves for its votes at that ε (after discovery and the 1-ways).

    .venv/bin/python benchmarks/pate_information.py --rows-per-teacher 50 200
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _protocol import TARGET, load_adult, machine, split  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def teachers_var(kind: str, rows_per_teacher: int, model, x, holdout, rng, steps: int):
    """Train k teachers on partitions of the encoded training rows ``x``; their mean output's spread."""
    import torch
    from sklearn.metrics import roc_auc_score

    from lookalike.synthesizers.neural.pategan import _BatchedMLP

    F = torch.nn.functional
    enc = model.encoder_
    n, dim = x.shape
    k = max(2, model.n_estimate_ // rows_per_teacher)
    span = next(s for s in enc.spans if s.column == TARGET)
    mask = torch.ones(dim)
    mask[span.start: span.start + span.size] = 0
    labels = x[:, span.start: span.start + span.size].argmax(1)
    positive = list(enc.codecs[TARGET].categories).index(">50K")
    bins, counts = model.calibration_

    def independent_rows(m: int):
        codes = np.column_stack([rng.choice(len(c), m, p=np.clip(c, 0, None) / np.clip(c, 0, None).sum())
                                 for c in counts])
        return torch.from_numpy(enc.encode(bins.decode(codes, rng), rng)[0])

    part = rng.integers(k, size=n)
    order = torch.as_tensor(np.argsort(part, kind="stable"))
    sizes = np.bincount(part, minlength=k)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    teachers = _BatchedMLP(k, dim, (16 if rows_per_teacher < 100 else 32,), "cpu")
    # labellers need weight decay on 50-200 rows; discriminators against a fixed reference
    # collapse to 0.5 with it
    opt = (torch.optim.Adam(teachers.parameters(), lr=3e-3, weight_decay=1e-3) if kind == "label"
           else torch.optim.Adam(teachers.parameters(), lr=1e-3))
    pool = independent_rows(20_000) if kind == "discriminator" else None
    for _ in range(steps):
        pos = starts[:, None] + np.floor(rng.random((k, 32)) * np.maximum(sizes, 1)[:, None]).astype(np.int64)
        idx = order[torch.as_tensor(np.minimum(pos, n - 1))]
        if kind == "label":
            out = teachers(x[idx] * mask).squeeze(-1)
            loss = F.binary_cross_entropy_with_logits(out, (labels[idx] == positive).float())
        else:
            fake = pool[torch.as_tensor(rng.integers(len(pool), size=32))].unsqueeze(0).expand(k, 32, dim)
            loss = (F.softplus(-teachers(x[idx])) + F.softplus(teachers(fake))).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        if kind == "label":
            hx = torch.from_numpy(enc.encode(model.schema_.conform(holdout, actions=[]), rng)[0])
            queries = hx * mask
            truth = (hx[:, span.start: span.start + span.size].argmax(1) == positive).numpy()
        else:
            queries = independent_rows(5_000)
        share = torch.cat([torch.sigmoid(teachers(q.unsqueeze(0).expand(k, -1, dim))).squeeze(-1).mean(0)
                           for q in queries.split(512)]).numpy()
    out = {"kind": kind, "rows_per_teacher": rows_per_teacher, "teachers": int(k),
           "share_mean": float(share.mean()), "share_std": float(share.std())}
    if kind == "label":
        out["holdout_auc_of_mean_vote"] = float(roc_auc_score(truth, share))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--delta", type=float, default=1e-9)
    ap.add_argument("--rows-per-teacher", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--kinds", nargs="+", default=["label", "discriminator"], choices=["label", "discriminator"])
    ap.add_argument("--queries", type=int, default=19_200, help="votes of a fit (pategan: 300 x 64)")
    ap.add_argument("--steps", type=int, default=1000, help="teacher updates")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=RESULTS / "pate_information.json")
    args = ap.parse_args()

    import torch

    from lookalike.privacy.budget import DISCOVERY_DELTA_SHARE
    from lookalike.synthesizers.neural import PATEGAN
    from lookalike.synthesizers.neural.pategan import plan_pate

    torch.manual_seed(args.seed)
    train, holdout = split(load_adult())
    # a one-iteration pategan fit: its DP encoding, noisy row count and DP 1-way marginals
    model = PATEGAN(iterations=1).fit(train, epsilon=args.epsilon, delta=args.delta, seed=args.seed)
    delta_votes = args.delta * (1 - DISCOVERY_DELTA_SHARE)  # what pategan leaves after discovery's δ
    rho = plan_pate(queries=args.queries, epsilon=args.epsilon, delta=delta_votes,
                    rho_before=model._rho_disc)["rho"]
    rng = np.random.default_rng(args.seed)
    x = torch.from_numpy(model.encoder_.encode(model.schema_.conform(train, actions=[]), rng)[0])
    rows = []
    for kind in args.kinds:
        for r in args.rows_per_teacher:
            row = teachers_var(kind, r, model, x, holdout, rng, args.steps)
            k = row["teachers"]
            row["noise_per_vote_share"] = math.sqrt(args.queries / (2 * rho)) / k
            row["information"] = 2 * rho * k * k * row["share_std"] ** 2
            rows.append(row)
            print(json.dumps({a: round(b, 4) if isinstance(b, float) else b for a, b in row.items()}), flush=True)
    args.json.write_text(json.dumps({"machine": machine(), "dataset": "adult (80/20 split, seed 0)",
                                     "epsilon": args.epsilon, "delta": args.delta, "rho_votes": rho,
                                     "queries": args.queries, "rows": rows}, indent=1))
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
