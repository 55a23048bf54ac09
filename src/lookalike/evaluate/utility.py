"""Machine-learning utility: train on synthetic, test on real (TSTR) against train on real.

For a target column, each model family (:mod:`lookalike.evaluate.models`: gradient boosting
and a linear model) is trained once on the real training rows (TRTR) and once on the
synthetic rows (TSTR), and both are scored on the same real holdout. Without a holdout the
real table is split 80/20 with the seed (the split the benchmark protocol uses); the synthetic
table was then most likely fitted on the test rows too, which flatters TSTR; the result says
``"holdout": "split"``.

Classification (categorical or boolean target): ROC AUC (binary; macro one-vs-rest over the
holdout's classes for more than two), accuracy, and recall per class, so that a rare class
lost or over-sampled shows. Regression (integer or float target): R² and mean absolute error.
The ratio TSTR / TRTR of the main score (ROC AUC, or R²) is reported per family; 1 means the
synthetic rows teach the model as much as the real ones. A synthetic table whose target holds
one class trains a constant predictor (AUC 0.5). Rows with a missing target are left out.
Synthetic rows that carry no relation between features and target give a TSTR AUC of 0.5 on
average, but a single run may be off by several hundredths either way (sd ~0.04 measured on
Adult): the noise the model learnt still ranks the real rows along some feature direction.

>>> import lookalike
>>> from lookalike.evaluate.tables import prepare
>>> real = lookalike.load_demo().sample(1000, random_state=0)
>>> train, test = real.iloc[:800], real.iloc[800:]
>>> u = utility(prepare(train, train, test), "income", seed=0)  # real rows as "synthetic"
>>> u.task, u.holdout, u.ratios["gradient_boosting"]
('classification', 'given', 1.0)
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score

from lookalike._rng import Seed
from lookalike.errors import ConfigError, DataError
from lookalike.evaluate.models import boosting, boosting_frame, linear, linear_frame, parallel
from lookalike.evaluate.result import ModelScore, Utility
from lookalike.evaluate.tables import ColumnData, Tables
from lookalike.schema import Kind

__all__ = ["check_target", "precheck_target", "split_rows", "utility"]

HOLDOUT_SHARE = 0.2


def check_target(tables: Tables, target: str) -> str:
    """The task for ``target`` ("classification" or "regression"), or a clear error.

    >>> import pandas as pd
    >>> from lookalike.evaluate.tables import prepare
    >>> real = pd.DataFrame({"y": list("ab") * 5, "x": [1, 2] * 5})
    >>> check_target(prepare(real, real), "x"), check_target(prepare(real, real), "y")
    ('regression', 'classification')
    """
    if target not in tables:
        if target in tables.excluded:
            raise ConfigError(
                f"target {target!r} is an identifier or text column, which evaluation leaves "
                f"out; choose one of {tables.names}"
            )
        raise ConfigError(f"unknown target {target!r}; the columns are {tables.names}")
    col = tables[target]
    if col.kind is Kind.DATETIME:
        raise ConfigError(
            f"target {target!r} is a datetime column; utility needs a categorical, boolean or "
            "numeric target"
        )
    task = "regression" if col.numeric else "classification"
    present = col.real[~col.missing("real")]
    distinct = np.unique(present)
    if len(distinct) < 2:
        only = (
            "no values"
            if len(distinct) == 0
            else (
                f"the single value {distinct[0]:g}"
                if col.numeric
                else f"one class, {col.labels[distinct[0]]!r}"
            )
        )
        raise DataError(
            f"target {target!r} has {only} in the real table; utility needs at least two "
            "classes (or distinct values) to learn"
        )
    return task


def precheck_target(real: pd.DataFrame, target: str) -> None:
    """Refuse an unknown target, or one with a single class, before anything is inferred.

    >>> precheck_target(pd.DataFrame({"y": ["a"] * 10, "x": [1, 2] * 5}), "y")
    Traceback (most recent call last):
    ...
    lookalike.errors.DataError: target 'y' has one class, 'a', in the real table; utility needs at least two classes (or distinct values) to learn
    """
    names = [str(c) for c in real.columns]
    if target not in names:
        raise ConfigError(f"unknown target {target!r}; the columns are {names}")
    values = real[target].dropna().unique()
    if len(values) < 2:
        only = "no values" if len(values) == 0 else f"one class, {str(values[0])!r},"
        raise DataError(
            f"target {target!r} has {only} in the real table; utility needs at least two "
            "classes (or distinct values) to learn"
        )


def split_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and holdout row indices of an 80/20 split, as ``benchmarks/_protocol.split``.

    >>> train, test = split_rows(10, 0)
    >>> len(train), len(test), sorted([*train, *test]) == list(range(10))
    (8, 2, True)
    """
    perm = np.random.default_rng(seed).permutation(n)
    n_hold = int(HOLDOUT_SHARE * n)
    return perm[n_hold:], perm[:n_hold]


def _roc_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float | None:
    """Binary AUC, or macro one-vs-rest AUC over the classes in ``y``."""
    present = [c for c in np.unique(y) if 0 < (y == c).sum() < len(y)]
    if len(present) < 2:
        return None

    def score(c: int) -> np.ndarray:
        hit = np.flatnonzero(classes == c)
        return proba[:, hit[0]] if len(hit) else np.zeros(len(y))

    if len(present) == 2:
        return float(roc_auc_score(y == present[1], score(present[1])))
    return float(np.mean([roc_auc_score(y == c, score(c)) for c in present]))


def _classify(model, X_train, y_train, X_test, y_test, col: ColumnData) -> dict:
    if len(np.unique(y_train)) < 2:
        model = DummyClassifier(strategy="most_frequent")
    proba = model.fit(X_train, y_train).predict_proba(X_test)
    classes = np.asarray(model.classes_)
    pred = classes[np.argmax(proba, axis=1)]
    recall = {}
    for c in np.unique(col.real[col.real >= 0]):
        mask = y_test == c
        recall[col.labels[c]] = float((pred[mask] == c).mean()) if mask.any() else None
    return {
        "roc_auc": _roc_auc(y_test, proba, classes),
        "accuracy": float((pred == y_test).mean()),
        "per_class_recall": recall,
    }


def _regress(model, X_train, y_train, X_test, y_test) -> dict:
    pred = model.fit(X_train, y_train).predict(X_test)
    return {"r2": float(r2_score(y_test, pred)), "mae": float(mean_absolute_error(y_test, pred))}


def _ratio(synthetic: float | None, real: float | None) -> float | None:
    if synthetic is None or real is None or real <= 0:
        return None
    return float(synthetic / real)


def utility(tables: Tables, target: str, *, seed: Seed = 0) -> Utility:
    """TSTR and TRTR scores of both model families for ``target`` (module docstring)."""
    task = check_target(tables, target)
    seed_int = seed if isinstance(seed, int) else int(np.random.default_rng(seed).integers(2**31))
    col = tables[target]
    features = [c for c in tables.columns if c.name != target]
    if tables.n_holdout is None:
        train_rows, test_rows = split_rows(tables.n_real, seed_int)
        test_side, how = "real", "split"
    else:
        train_rows, test_rows = np.arange(tables.n_real), None
        test_side, how = "holdout", "given"

    def keep(side: str, rows: np.ndarray | None) -> np.ndarray:
        values = getattr(col, side) if rows is None else getattr(col, side)[rows]
        present = ~np.isnan(values) if col.numeric else values >= 0
        idx = np.flatnonzero(present)
        return idx if rows is None else rows[idx]

    train = {"real": keep("real", train_rows), "synthetic": keep("synthetic", None)}
    for on, rows in train.items():
        if len(rows) == 0:
            raise DataError(f"target {target!r} is missing in every {on} training row")
    test = keep(test_side, test_rows)
    if len(test) == 0:
        raise DataError(f"target {target!r} is missing in every {test_side} test row")
    y_test = getattr(col, test_side)[test]
    families = {
        "gradient_boosting": (boosting_frame, lambda: boosting(task, seed_int)),
        "linear": (linear_frame, lambda: linear(features, task, seed_int)),
    }
    jobs, tasks = [], []
    for name, (frame, make) in families.items():
        X_test = frame(features, test_side, test)
        for on, rows in train.items():
            X, y = frame(features, on, rows), getattr(col, on)[rows]
            if task == "classification":
                tasks.append(partial(_classify, make(), X, y, X_test, y_test, col))
            else:
                tasks.append(partial(_regress, make(), X, y, X_test, y_test))
            jobs.append((name, on))
    scores = [
        ModelScore(model=name, train_on=on, **metrics)
        for (name, on), metrics in zip(jobs, parallel(tasks), strict=True)
    ]
    ratios = {
        name: _ratio(
            next(s.main for s in scores if s.model == name and s.train_on == "synthetic"),
            next(s.main for s in scores if s.model == name and s.train_on == "real"),
        )
        for name in ("gradient_boosting", "linear")
    }
    return Utility(
        target=target,
        task=task,
        holdout=how,
        models=tuple(scores),
        ratios=ratios,
        n_train_real=len(train["real"]),
        n_train_synthetic=len(train["synthetic"]),
        n_test=len(test),
    )
