"""Fixtures for report tests: an Adult-like evaluation dict made here, and a fitted model.

The evaluation follows the contract of ``Evaluation.to_dict()`` but is built from seeded
random numbers around the real Adult marginals, so these tests do not depend on
``lookalike.evaluate``.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import lookalike

NUMERIC_BINS = 16


def _hist(series: pd.Series, kind: str, rng: np.random.Generator) -> dict:
    values = series.dropna()
    if kind == "categorical":
        counts = values.astype(str).value_counts()
        labels = [str(x) for x in counts.index]
        real = counts.to_numpy(float) / counts.sum()
    else:
        edges = np.unique(np.quantile(values.astype(float), np.linspace(0, 1, NUMERIC_BINS + 1)))
        counts, edges = np.histogram(values.astype(float), bins=edges)
        labels = [f"[{lo:g}, {hi:g})" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        real = counts / counts.sum()
    noisy = real * rng.lognormal(0.0, 0.15, size=len(real))
    return {"labels": labels, "real": real.tolist(), "synthetic": (noisy / noisy.sum()).tolist()}


def make_evaluation(seed: int = 0, *, rename: dict[str, str] | None = None) -> dict:
    """A realistic fake evaluation of synthetic Adult rows (15 columns), seeded."""
    rng = np.random.default_rng(seed)
    real = lookalike.load_demo()
    if rename:
        real = real.rename(columns=rename)
    columns = []
    for name in real.columns:
        kind = "integer" if pd.api.types.is_numeric_dtype(real[name]) else "categorical"
        hist = _hist(real[name], kind, rng)
        r, s = np.array(hist["real"]), np.array(hist["synthetic"])
        columns.append(
            {
                "name": name,
                "kind": kind,
                "tvd": float(0.5 * np.abs(r - s).sum()),
                "ks": float(np.max(np.abs(np.cumsum(r - s)))) if kind == "integer" else None,
                "wasserstein": float(rng.uniform(0.1, 3.0)) if kind == "integer" else None,
                "missing_real": float(real[name].isna().mean()),
                "missing_synthetic": float(real[name].isna().mean() * rng.uniform(0.8, 1.2)),
                "coverage": float(rng.uniform(0.9, 1.0)),
                "rare_retention": float(rng.uniform(0.5, 1.0)) if kind == "categorical" else None,
                "unseen_categories": int(rng.integers(0, 2)) if kind == "categorical" else None,
                "hist": hist,
            }
        )
    names = list(real.columns)
    n = len(names)
    base = rng.uniform(0.0, 0.6, size=(n, n))
    assoc_real = np.triu(base, 1) + np.triu(base, 1).T + np.eye(n)
    noise = rng.normal(0, 0.04, size=(n, n))
    assoc_syn = np.clip(assoc_real + np.triu(noise, 1) + np.triu(noise, 1).T, 0, 1)
    diff = assoc_syn - assoc_real
    errors = np.concatenate([rng.lognormal(-3.0, 1.2, size=950), np.zeros(50)])
    rng.shuffle(errors)
    ratios = {"logistic_regression": 0.97, "random_forest": 0.94, "gradient_boosting": 0.95}
    models = []
    for model, ratio in ratios.items():
        auc = float(rng.uniform(0.85, 0.92))
        for train_on, score in (("real", auc), ("synthetic", auc * ratio)):
            models.append(
                {
                    "model": model,
                    "train_on": train_on,
                    "roc_auc": score,
                    "accuracy": score - 0.05,
                    "per_class_recall": {"<=50K": score + 0.05, ">50K": score - 0.25},
                }
            )
    features = rng.permutation(names)[:10]
    importance = np.sort(rng.dirichlet(np.ones(10)))[::-1]
    return {
        "meta": {
            "n_real": len(real),
            "n_synthetic": len(real),
            "n_holdout": 6512,
            "target": names[-1],
            "seed": seed,
            "seconds": 12.5,
            "lookalike_version": lookalike.__version__,
            "excluded_columns": [],
        },
        "fidelity": {
            "columns": columns,
            "marginals": {
                "1way": float(np.mean([c["tvd"] for c in columns])),
                "2way": 0.061,
                "3way": 0.094,
                "n_3way": 455,
            },
            "associations": {
                "columns": names,
                "real": assoc_real.tolist(),
                "synthetic": assoc_syn.tolist(),
                "difference": diff.tolist(),
                "mean_abs_difference": float(np.abs(diff).mean()),
            },
        },
        "utility": {
            "target": names[-1],
            "task": "classification",
            "holdout": "split",
            "models": models,
            "ratios": ratios,
        },
        "detection": {
            "auc": 0.634,
            "auc_std": 0.008,
            "folds": 5,
            "top_features": [
                {"feature": f, "importance": float(i)}
                for f, i in zip(features, importance, strict=True)
            ],
        },
        "queries": {
            "n": len(errors),
            "median_relative_error": float(np.median(errors)),
            "p90_relative_error": float(np.quantile(errors, 0.9)),
            "mean_relative_error": float(errors.mean()),
            "errors": errors.tolist(),
            "examples": [
                {
                    "predicate": f"{names[0]} >= 40 AND {names[9]} = 'Male'",
                    "real": 0.231,
                    "synthetic": 0.224,
                    "relative_error": 0.0303,
                },
                {
                    "predicate": f"{names[5]} = 'Never-married' AND {names[-1]} = '>50K'",
                    "real": 0.0149,
                    "synthetic": 0.0171,
                    "relative_error": 0.148,
                },
            ],
        },
    }


@pytest.fixture(scope="session")
def evaluation_factory():
    """``make_evaluation`` itself, for tests that need a variant."""
    return make_evaluation


@pytest.fixture(scope="session")
def evaluation() -> dict:
    return make_evaluation(0)


@pytest.fixture(scope="session")
def small_evaluation(evaluation) -> dict:
    """The same evaluation cut to its first three columns: quick to draw."""
    small = copy.deepcopy(evaluation)
    small["fidelity"]["columns"] = small["fidelity"]["columns"][:3]
    assoc = small["fidelity"]["associations"]
    assoc["columns"] = assoc["columns"][:3]
    for key in ("real", "synthetic", "difference"):
        assoc[key] = [row[:3] for row in assoc[key][:3]]
    return small


@pytest.fixture(scope="session")
def fitted_model():
    return lookalike.get_synthesizer("cart").fit(lookalike.load_demo().head(1000), seed=0)


@pytest.fixture(scope="session")
def dp_privacy() -> dict:
    return {
        "epsilon": 1.0,
        "delta": 1e-6,
        "releases": [
            {"name": "domain discovery: native-country", "mechanism": "gaussian threshold",
             "epsilon": 0.05, "rho": 0.00012},
            {"name": "2-way marginals (48)", "mechanism": "discrete gaussian", "epsilon": 0.95,
             "rho": 0.0031},
        ],
    }
