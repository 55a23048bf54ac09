"""The project's benchmark protocol on Adult, shared by every script in benchmarks/.

80/20 split with seed 0 (26,049 train rows, 6,512 holdout rows); marginal distances on the
real training data's bins (20 quantile bins, heavy point masses in their own bin, missing as
its own category): mean TVD over all 1-way, all 2-way and 200 random 3-way marginals; ROC AUC
of gradient boosting trained on synthetic rows and tested on the real holdout for `income`;
detection AUC of a classifier telling synthetic rows from real training rows (5-fold CV).
"""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from lookalike.evaluate.marginals import discretise_pair, mean_tvd

SHARED = Path(os.environ.get("LOOKALIKE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
ADULT = SHARED / "datasets" / "adult" / "adult.csv"
TARGET = "income"


def load_adult() -> pd.DataFrame:
    from lookalike import read_table

    if not ADULT.exists():
        raise SystemExit(f"{ADULT} not found: set LOOKALIKE_SHARED to the shared/ folder")
    return read_table(ADULT)


def split(df: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    perm = np.random.default_rng(seed).permutation(len(df))
    n_hold = int(0.2 * len(df))
    return (
        df.iloc[perm[n_hold:]].reset_index(drop=True),
        df.iloc[perm[:n_hold]].reset_index(drop=True),
    )


def _features(df: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in like.columns:
        if c == TARGET:
            continue
        s = df[c]
        if pd.api.types.is_numeric_dtype(like[c].dtype) and not pd.api.types.is_bool_dtype(like[c].dtype):
            out[c] = pd.to_numeric(s, errors="coerce").astype(float)
        else:
            cats = sorted(like[c].dropna().astype(str).unique())
            out[c] = pd.Categorical(s.astype(object).where(s.notna(), None), categories=cats)
    return pd.DataFrame(out)


def ml_auc(synth: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, seed: int = 0) -> float:
    y = (synth[TARGET].astype(str) == ">50K").to_numpy()
    if y.all() or not y.any():
        return 0.5
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    model.fit(_features(synth, train), y)
    p = model.predict_proba(_features(holdout, train))[:, 1]
    return float(roc_auc_score(holdout[TARGET].astype(str) == ">50K", p))


def detection_auc(synth: pd.DataFrame, train: pd.DataFrame, seed: int = 0) -> float:
    n = min(len(synth), len(train))
    rng = np.random.default_rng(seed)
    real = train.iloc[rng.choice(len(train), n, replace=False)]
    fake = synth.iloc[rng.choice(len(synth), n, replace=False)]
    both = pd.concat([real, fake], ignore_index=True)
    X = _features(both, train).assign(**{TARGET: pd.Categorical(both[TARGET].astype(str))})
    y = np.r_[np.zeros(n), np.ones(n)]
    scores = np.empty(len(y))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y):
        m = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
        m.fit(X.iloc[tr], y[tr])
        scores[te] = m.predict_proba(X.iloc[te])[:, 1]
    return float(roc_auc_score(y, scores))


def quality(synth: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame) -> dict[str, float]:
    synth = synth[list(train.columns)]
    pair = discretise_pair(train, synth, n_bins=20)
    return {
        "1way": mean_tvd(pair, 1),
        "2way": mean_tvd(pair, 2),
        "3way": mean_tvd(pair, 3, max_marginals=200, seed=0),
        "auc": ml_auc(synth, train, holdout),
        "detection": detection_auc(synth, train),
    }


def code_version(package=None) -> str:
    """The commit of the lookalike measured, with "+changes" when its tree had uncommitted
    ones (and the folder it was imported from when it is not this checkout). Where git cannot
    say (a copy of the tree without its history, as on a lent GPU machine), ``LOOKALIKE_COMMIT``
    names it."""
    import subprocess

    if package is None:
        import lookalike as package
    src = Path(package.__file__).resolve().parents[1]
    here = Path(__file__).resolve().parents[1] / "src"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here, text=True,
                               capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("LOOKALIKE_COMMIT", str(src))
    if src != here:
        return f"{src} (not this checkout, at {commit})"
    return commit + ("+changes" if dirty else "")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine(gpu: bool = False) -> str:
    """CPU model, core count, Python's version and, with ``gpu``, the GPU torch sees (if any)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    card = ""
    if gpu:
        try:
            import torch

            if torch.cuda.is_available():
                card = f", GPU {torch.cuda.get_device_name(0)}"
        except ImportError:
            pass
    return f"{cpu}, {os.cpu_count()} cores{card}, Python {platform.python_version()}"
