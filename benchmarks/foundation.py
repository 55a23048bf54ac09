"""Foundation benchmark on Adult: our independent, gaussian_copula and cart synthesizers
against a plain synthpop-style reference CART (run here, same protocol) and, with --peers, SDV's
GaussianCopula in its own virtualenv.

    .venv/bin/python benchmarks/foundation.py [--seeds 0 1 2] [--peers]

Protocol: benchmarks/_protocol.py. Prints a markdown table and writes
benchmarks/results/foundation.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _protocol import load_adult, quality, split
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from lookalike import get_synthesizer

RESULTS = Path(__file__).resolve().parent / "results"


def reference_cart(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The plain synthpop-style CART the issue measured: scikit-learn trees, >= 5 rows a leaf,
    each value drawn from the real values in its leaf. Missing values: categories get a "NA"
    label, numbers a sentinel below their range."""
    rng = np.random.default_rng(seed)
    cols = list(train.columns)
    X = pd.DataFrame(index=train.index)
    kinds, cats = {}, {}
    for c in cols:
        s = train[c]
        if pd.api.types.is_numeric_dtype(s.dtype):
            v = s.astype(float)
            X[c] = v.fillna(v.min() - 1)
            kinds[c] = "num"
        else:
            cats[c] = sorted(s.fillna("NA").astype(str).unique())
            X[c] = pd.Categorical(s.fillna("NA").astype(str), categories=cats[c]).codes
            kinds[c] = "cat"
    syn = pd.DataFrame(index=range(n))
    syn[cols[0]] = X[cols[0]].to_numpy()[rng.integers(0, len(X), n)]
    for j, c in enumerate(cols[1:], start=1):
        pred = cols[:j]
        tree_cls = DecisionTreeClassifier if kinds[c] == "cat" else DecisionTreeRegressor
        tree = tree_cls(min_samples_leaf=5, random_state=seed).fit(X[pred].to_numpy(), X[c].to_numpy())
        leaves_real = tree.apply(X[pred].to_numpy())
        leaves_syn = tree.apply(syn[pred].to_numpy(dtype=np.float32))
        by_leaf = pd.Series(X[c].to_numpy()).groupby(leaves_real).apply(np.asarray).to_dict()
        out = np.empty(n)
        for leaf in np.unique(leaves_syn):
            idx = np.flatnonzero(leaves_syn == leaf)
            out[idx] = rng.choice(by_leaf[leaf], size=len(idx))
        syn[c] = out
    result = pd.DataFrame(index=range(n))
    for c in cols:
        if kinds[c] == "cat":
            labels = np.asarray(cats[c], dtype=object)[syn[c].astype(int)]
            result[c] = pd.Series(labels).replace("NA", None)
        else:
            v = syn[c].to_numpy().copy()
            v[v < train[c].min()] = np.nan
            result[c] = v
    return result


def run_ours(name: str, train: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, dict]:
    t = time.perf_counter()
    model = get_synthesizer(name).fit(train, seed=seed)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    rows = model.sample(len(train), seed=seed)
    return rows, {"fit_s": fit_s, "sample_s": time.perf_counter() - t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--peers", action="store_true", help="also run SDV in its own virtualenv")
    args = ap.parse_args()
    train, holdout = split(load_adult())
    runs = {
        "lookalike independent": lambda s: run_ours("independent", train, s),
        "lookalike gaussian_copula": lambda s: run_ours("gaussian_copula", train, s),
        "lookalike cart": lambda s: run_ours("cart", train, s),
        "reference CART (plain synthpop-style)": lambda s: _timed(reference_cart, train, s),
    }
    if args.peers:
        from _peers import run_peer

        runs["SDV GaussianCopula"] = lambda s: run_peer("sdv", "sdv_gaussian_copula", train)
    results = {}
    for label, run in runs.items():
        per_seed = []
        for seed in args.seeds:
            rows, timing = run(seed)
            per_seed.append({**timing, **quality(rows, train, holdout)})
            print(f"{label} seed {seed}: {per_seed[-1]}", flush=True)
        results[label] = {k: float(np.mean([r[k] for r in per_seed])) for k in per_seed[0]}
    real = quality(train, train, holdout)
    results["real data (train vs itself)"] = real
    print(f"\nAdult, 80/20 split seed 0, seeds {args.seeds}, {platform.processor() or platform.machine()}")
    print("| synthesizer | fit s | 1-way | 2-way | 3-way | AUC | detection |")
    print("|---|---|---|---|---|---|---|")
    for label, r in results.items():
        fit = f"{r['fit_s']:.1f}" if "fit_s" in r else "–"
        print(
            f"| {label} | {fit} | {r['1way']:.3f} | {r['2way']:.3f} | {r['3way']:.3f} | "
            f"{r['auc']:.3f} | {r['detection']:.3f} |"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "foundation.json").write_text(json.dumps({"seeds": args.seeds, "results": results}, indent=2))


def _timed(fn, train, seed):
    t = time.perf_counter()
    rows = fn(train, len(train), seed)
    return rows, {"fit_s": time.perf_counter() - t, "sample_s": 0.0}


if __name__ == "__main__":
    main()
