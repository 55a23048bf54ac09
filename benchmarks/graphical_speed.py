"""Time ``lookalike.graphical``: estimate() on Adult-like marginals, and sampling 1M rows.

    .venv/bin/python benchmarks/graphical_speed.py [--repeats 3] [--threads 1] [--seed 0]

Protocol: 15 attributes with Adult's sizes; 48,842 rows drawn from a random tree-shaped Bayesian
network (Dirichlet(0.5) conditionals, seed ``--seed``). Noise is Gaussian with sigma 10 (about
MST at epsilon = 1), from numpy: a timing harness, not a private release.

1. tree: the 15 one-way and 14 two-way marginals of the generating tree (MST's shape);
2. cyclic: the 15 one-way marginals plus 40 random 2-way/3-way marginals, each kept only while
   the model stays under 4 million cells (AIM's shape); timed cold, and warm-started from the
   model of its first 45 measurements (as AIM refits after each round);
3. sampling 1,000,000 rows from the tree model, plain and with ``counts_exact``;
4. ``hypothetical_model_size`` on the cyclic workload (AIM calls it for every candidate).

Prints seconds (median of the repeats), the model size, the loss reached and the fit's error:
the mean L1 distance of the model's measured marginals from the true ones, over the total.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lookalike.graphical import (  # noqa: E402
    Domain,
    Measurement,
    estimate,
    hypothetical_model_size,
    measurement_loss,
    model_size,
)

SIZES = [10, 9, 20, 16, 16, 7, 15, 6, 5, 3, 20, 20, 20, 42, 3]
ROWS = 48_842
SIGMA = 10.0
MAX_CELLS = 4_000_000


def tree_data(rng: np.random.Generator) -> tuple[Domain, np.ndarray, list[tuple[str, str]]]:
    """Rows from a random tree Bayesian network over Adult-sized attributes, and its edges."""
    attrs = tuple(f"x{i}" for i in range(len(SIZES)))
    domain = Domain(attrs, tuple(SIZES))
    data = np.zeros((ROWS, len(SIZES)), dtype=np.int64)
    data[:, 0] = rng.choice(SIZES[0], size=ROWS, p=rng.dirichlet(np.full(SIZES[0], 0.5)))
    edges = []
    for j in range(1, len(SIZES)):
        parent = int(rng.integers(j))
        cpt = rng.dirichlet(np.full(SIZES[j], 0.5), size=SIZES[parent])
        cum = np.cumsum(cpt, axis=1)
        u = rng.random(ROWS)[:, None]
        data[:, j] = np.minimum((u > cum[data[:, parent]]).sum(axis=1), SIZES[j] - 1)
        edges.append((attrs[parent], attrs[j]))
    return domain, data, edges


def counts(domain: Domain, data: np.ndarray, attrs: tuple[str, ...]) -> np.ndarray:
    axes = domain.axes(attrs)
    shape = domain.project(attrs).shape
    flat = np.ravel_multi_index([data[:, a] for a in axes], shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(float)


def measure(domain, data, cliques, rng) -> list[Measurement]:
    out = []
    for attrs in cliques:
        true = counts(domain, data, attrs)
        out.append(Measurement(attrs, true + rng.normal(0, SIGMA, true.shape), SIGMA))
    return out


def error(model, domain, data, cliques) -> float:
    return float(
        np.mean([np.abs(model.marginal(c) - counts(domain, data, c)).sum() / ROWS for c in cliques])
    )


def cyclic_cliques(domain: Domain, rng: np.random.Generator) -> list[tuple[str, ...]]:
    chosen: list[tuple[str, ...]] = []
    while len(chosen) < 40:
        k = int(rng.choice([2, 3], p=[0.7, 0.3]))
        clique = tuple(sorted(rng.choice(domain.attrs, size=k, replace=False).tolist()))
        if clique in chosen:
            continue
        if model_size(domain, [*chosen, clique]) <= MAX_CELLS:
            chosen.append(clique)
    return chosen


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="pin to this many CPUs (Linux)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=1e-3)
    args = parser.parse_args()
    if args.threads:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])
    rng = np.random.default_rng(args.seed)
    domain, data, edges = tree_data(rng)
    ones = [(a,) for a in domain.attrs]
    print(f"{ROWS:,} rows, sizes {SIZES}, sigma {SIGMA}, {len(os.sched_getaffinity(0))} CPUs, tol {args.tol}")

    tree_cliques = ones + edges
    tree_meas = measure(domain, data, tree_cliques, rng)
    secs, model = timed(lambda: estimate(domain, tree_meas, tol=args.tol), args.repeats)
    print(
        f"tree   : {len(tree_meas)} measurements, model {model.size:,} cells, estimate {secs:.2f} s, "
        f"loss {measurement_loss(model, tree_meas):,.0f}, error {error(model, domain, data, tree_cliques):.4f}"
    )

    cyc_cliques = ones + cyclic_cliques(domain, rng)
    cyc_meas = measure(domain, data, cyc_cliques, rng)
    repeats = max(1, args.repeats - 2)
    secs_c, model_c = timed(lambda: estimate(domain, cyc_meas, tol=args.tol), repeats)
    print(
        f"cyclic : {len(cyc_meas)} measurements, model {model_c.size:,} cells in "
        f"{len(model_c.tree.cliques)} cliques, estimate {secs_c:.2f} s, "
        f"loss {measurement_loss(model_c, cyc_meas):,.0f}, error {error(model_c, domain, data, cyc_cliques):.4f}"
    )
    previous = estimate(domain, cyc_meas[:45], tol=args.tol)
    secs_w, model_w = timed(
        lambda: estimate(domain, cyc_meas, tol=args.tol, warm_start=previous), repeats
    )
    print(
        f"cyclic : warm start from the first 45 measurements, estimate {secs_w:.2f} s, "
        f"loss {measurement_loss(model_w, cyc_meas):,.0f}, error {error(model_w, domain, data, cyc_cliques):.4f}"
    )

    secs_s, rows = timed(lambda: model.sample(1_000_000, np.random.default_rng(1)), args.repeats)
    print(f"sample : 1,000,000 rows from the tree model in {secs_s:.2f} s")
    secs_e, _ = timed(
        lambda: model.sample(1_000_000, np.random.default_rng(1), counts_exact=True), args.repeats
    )
    print(f"sample : 1,000,000 rows, counts_exact=True, in {secs_e:.2f} s")

    chosen = cyc_cliques[len(ones) :]
    start = time.perf_counter()
    for clique in chosen:
        hypothetical_model_size(domain, chosen[:-1], clique)
    per_call = (time.perf_counter() - start) / len(chosen)
    print(f"size   : hypothetical_model_size over {len(chosen)} cliques, {per_call * 1e3:.1f} ms a call")


if __name__ == "__main__":
    main()
