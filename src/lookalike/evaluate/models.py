"""The scikit-learn models that utility and detection train, and their feature tables.

Two families. Gradient boosting: :class:`~sklearn.ensemble.HistGradientBoostingClassifier`
(or ``Regressor``) with native categorical support, categories as pandas ``Categorical`` with
the real table's categories (other values count as missing), numbers as floats with NaN.
Linear: a :class:`~sklearn.pipeline.Pipeline` of one-hot categories and standardized numbers
(missing numbers imputed by the median with a missing indicator) into ``LogisticRegression``
or ``Ridge``. Boosting runs a fixed ``max_iter=100`` rounds without early stopping, so that
its result depends on the seed only through the data.

Models are trained by :func:`parallel`: one Python thread per core, each with single-threaded
OpenMP and BLAS. On small tables and on shared machines that is faster than one model at a
time with multi-threaded OpenMP (measured here: a 2-thread fit of 8,000 rows took 3.7 s on a
busy 2-core machine against 0.4 s single-threaded), and results do not depend on the number
of threads.

>>> import numpy as np
>>> from lookalike.evaluate.tables import ColumnData
>>> from lookalike.schema import Kind
>>> col = ColumnData("c", Kind.CATEGORICAL, np.array([0, 1, -1, 2]), np.array([2, 0, 1, 1]),
...                  labels=("a", "b", "z"), n_seen=2)
>>> boosting_frame([col], "real")["c"].tolist()
['a', 'b', nan, nan]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from lookalike.evaluate.tables import ColumnData

__all__ = ["boosting", "boosting_frame", "linear", "linear_frame", "parallel"]

T = TypeVar("T")

MAX_ITER = 100
MAX_NATIVE_CATEGORIES = 250  # HistGradientBoosting handles at most 255 bins per feature


def _pick(col: ColumnData, side: str, rows: np.ndarray | None) -> np.ndarray:
    values = getattr(col, side)
    return values if rows is None else values[rows]


def boosting_frame(
    columns: list[ColumnData],
    side: str,
    rows: np.ndarray | None = None,
    *,
    unseen: bool = False,
) -> pd.DataFrame:
    """Features for gradient boosting from ``side``'s values (optionally only ``rows``).

    Categories are the real table's (with ``unseen``, also those only the other tables
    hold); a column with more than 250 categories is passed as its ordinal codes.
    """
    out = {}
    for col in columns:
        values = _pick(col, side, rows)
        if col.numeric:
            out[col.name] = values
            continue
        k = len(col.labels) if unseen else col.n_seen
        codes = np.where(values >= k, -1, values)
        if k > MAX_NATIVE_CATEGORIES:
            out[col.name] = np.where(codes < 0, np.nan, codes.astype(float))
        else:
            out[col.name] = pd.Categorical.from_codes(codes, categories=list(col.labels[:k]))
    return pd.DataFrame(out)


def linear_frame(
    columns: list[ColumnData], side: str, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """Features for the linear model: floats, and category codes (-1 missing, categories
    unseen in the real table share one code).

    >>> from lookalike.schema import Kind
    >>> col = ColumnData("c", Kind.CATEGORICAL, np.array([0, -1]), np.array([2, 3]),
    ...                  labels=("a", "b", "y", "z"), n_seen=2)
    >>> linear_frame([col], "synthetic")["c"].tolist()
    [2, 2]
    """
    out = {}
    for col in columns:
        values = _pick(col, side, rows)
        out[col.name] = values if col.numeric else np.minimum(values, col.n_seen)
    return pd.DataFrame(out)


def boosting(
    task: str, seed: int
) -> HistGradientBoostingClassifier | HistGradientBoostingRegressor:
    """Gradient boosting for ``task`` ("classification" or "regression").

    >>> boosting("regression", 0).max_iter
    100
    """
    cls = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    return cls(
        max_iter=MAX_ITER,
        early_stopping=False,
        categorical_features="from_dtype",
        random_state=seed,
    )


def linear(columns: list[ColumnData], task: str, seed: int) -> Pipeline:
    """One-hot + standardized linear model for ``task``, as a scikit-learn Pipeline.

    >>> [name for name, _ in linear([], "regression", 0).steps]
    ['features', 'model']
    """
    numeric = [c.name for c in columns if c.numeric]
    categorical = [c.name for c in columns if not c.numeric]
    prep = ColumnTransformer(
        [
            (
                "numbers",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                ),
                numeric,
            ),
            ("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    if task == "classification":
        model = LogisticRegression(max_iter=1000, random_state=seed)
    else:
        model = Ridge(alpha=1.0)
    return Pipeline([("features", prep), ("model", model)])


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def parallel(tasks: list[Callable[[], T]]) -> list[T]:
    """Results of ``tasks`` (in order), run in threads with single-threaded OpenMP and BLAS.

    Warnings raised by the tasks (convergence, empty features) are silenced: the scores say
    what matters.

    >>> parallel([lambda: 1, lambda: 2])
    [1, 2]
    """

    def run(task: Callable[[], T]) -> T:
        with threadpool_limits(1, user_api="openmp"):  # per thread
            return task()

    workers = min(len(tasks), _cores())
    # global settings, made once around all threads: BLAS threads and warning filters
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if workers <= 1:
            return [run(t) for t in tasks]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(run, tasks))
