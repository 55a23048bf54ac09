"""Detection: can a classifier tell synthetic rows from real ones?

The larger table is subsampled (seeded, without replacement) to the size of the smaller, the
rows are labelled real (0) or synthetic (1), and gradient boosting
(:func:`lookalike.evaluate.models.boosting`, all evaluated columns as features, categories
unseen in the real table included as categories) is cross-validated over stratified, seeded
folds. The ROC AUC on each held-out fold is reported with its mean and standard deviation:
0.5 means the classifier cannot tell the tables apart, 1 that it always can.

The features it relies on are ranked by permutation importance on the held-out folds: the
drop of the fold's AUC when one feature's values are shuffled among the fold's rows
(one shuffle per feature and fold, averaged over folds; evaluated on at most
``IMPORTANCE_ROWS`` rows of each fold to bound the cost).

>>> import lookalike
>>> from lookalike.evaluate.tables import prepare
>>> real = lookalike.load_demo().sample(500, random_state=0)
>>> fake = real.assign(age=real["age"] + 20)
>>> d = detection(prepare(real, fake), seed=0)
>>> d.auc > 0.9, d.top_features[0].feature
(True, 'age')
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedKFold

from lookalike._rng import Seed, as_rng
from lookalike.errors import ConfigError
from lookalike.evaluate.models import boosting, boosting_frame, parallel
from lookalike.evaluate.result import Detection, FeatureImportance
from lookalike.evaluate.tables import Tables

__all__ = ["detection", "roc_auc"]

TOP = 5
IMPORTANCE_ROWS = 2000


def _seed_int(seed: Seed) -> int:
    return seed if isinstance(seed, int) else int(as_rng(seed).integers(2**31))


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for binary labels ``y`` (Mann–Whitney U; ties count one half).

    The same number as :func:`sklearn.metrics.roc_auc_score`, without its input checks, which
    dominate the cost of the many small permutation scores.

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.5, 0.5, 0.9]))
    0.875
    """
    ranks = rankdata(score)
    positive = y == 1
    n1 = int(positive.sum())
    n0 = len(y) - n1
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _importances(model, X: pd.DataFrame, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """AUC drop per column of ``X`` when that column is shuffled (one batch prediction)."""
    base = float(roc_auc(y, model.predict_proba(X)[:, 1]))
    copies = []
    for name in X.columns:
        shuffled = X.copy()
        shuffled[name] = X[name].array.take(rng.permutation(len(X)))
        copies.append(shuffled)
    scores = model.predict_proba(pd.concat(copies, ignore_index=True))[:, 1].reshape(
        len(copies), -1
    )
    return np.array([base - roc_auc(y, s) for s in scores])


def detection(tables: Tables, *, seed: Seed = 0, folds: int = 5) -> Detection:
    """Cross-validated ROC AUC of gradient boosting telling real from synthetic rows."""
    if folds < 2:
        raise ConfigError(f"folds must be at least 2, got {folds}")
    seed_int = _seed_int(seed)
    rng = np.random.default_rng(seed_int)
    n = min(tables.n_real, tables.n_synthetic)
    real_rows = np.sort(rng.choice(tables.n_real, n, replace=False))
    synth_rows = np.sort(rng.choice(tables.n_synthetic, n, replace=False))
    columns = list(tables.columns)
    X = pd.concat(
        [
            boosting_frame(columns, "real", real_rows, unseen=True),
            boosting_frame(columns, "synthetic", synth_rows, unseen=True),
        ],
        ignore_index=True,
    )
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed_int)
    streams = np.random.SeedSequence(seed_int).spawn(folds)

    def fold(train: np.ndarray, test: np.ndarray, stream: np.random.SeedSequence):
        fold_rng = np.random.default_rng(stream)
        model = boosting("classification", seed_int).fit(X.iloc[train], y[train])
        X_test, y_test = X.iloc[test].reset_index(drop=True), y[test]
        auc = float(roc_auc(y_test, model.predict_proba(X_test)[:, 1]))
        pick = np.arange(len(test))
        if len(test) > IMPORTANCE_ROWS:
            pick = np.sort(fold_rng.choice(len(test), IMPORTANCE_ROWS, replace=False))
        if len(np.unique(y_test[pick])) < 2:
            return auc, np.zeros(len(columns))
        X_pick = X_test.iloc[pick].reset_index(drop=True)
        return auc, _importances(model, X_pick, y_test[pick], fold_rng)

    splits = splitter.split(np.zeros(len(y)), y)
    tasks = [partial(fold, tr, te, st) for (tr, te), st in zip(splits, streams, strict=True)]
    results = parallel(tasks)
    aucs = [auc for auc, _ in results]
    drops = np.mean([d for _, d in results], axis=0)
    order = np.argsort(-drops, kind="stable")[:TOP]
    return Detection(
        auc=float(np.mean(aucs)),
        auc_std=float(np.std(aucs, ddof=1)),
        folds=folds,
        top_features=tuple(FeatureImportance(columns[j].name, float(drops[j])) for j in order),
        fold_aucs=tuple(aucs),
        n_per_class=n,
    )
