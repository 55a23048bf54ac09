"""A random workload of counting queries, answered on the real and the synthetic table.

Each query is a conjunction of predicates on 1 to 3 distinct columns (the width drawn
uniformly, the columns uniformly without replacement), all drawn from the real table with the
seed. For each column a real row is drawn: if its value is missing the predicate is
"is missing"; otherwise a categorical or boolean column gets "= that category" (so
categories are drawn by their real frequency) and a numeric or datetime column gets a closed
interval between two real quantiles drawn uniformly (both ends real values).

Synthetic counts are scaled to the real row count (``count × n_real / n_synthetic``). The
relative error of a query is ``|synthetic − real| / max(real, floor)`` with ``floor`` = 1% of
the real rows (at least 1): a query matching fewer rows than that is judged on the absolute
error as a share of 1% of the table, so that a 3-row query answered with 6 rows does not
count as a 100% error while its sampling noise alone is of that size.

>>> import lookalike
>>> from lookalike.evaluate.tables import prepare
>>> real = lookalike.load_demo().sample(1000, random_state=0)
>>> q = queries(prepare(real, real), n_queries=100, seed=0)
>>> q.n, q.median_relative_error, q.examples[0].predicate.count(" and ") <= 2
(100, 0.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookalike._rng import Seed, as_rng
from lookalike.errors import ConfigError
from lookalike.evaluate.result import Queries, QueryExample
from lookalike.evaluate.tables import ColumnData, Tables
from lookalike.schema import Kind, number_to_datetime

__all__ = ["Predicate", "answer", "queries", "workload"]

FLOOR_SHARE = 0.01
MAX_WIDTH = 3
N_EXAMPLES = 10


@dataclass(frozen=True)
class Predicate:
    """``column`` is missing, equals category code ``code``, or lies in ``[low, high]``.

    >>> from lookalike.schema import Kind
    >>> col = ColumnData("x", Kind.FLOAT, np.array([1.0, 5.0, np.nan]), np.array([2.0, 9.0, 3.0]))
    >>> Predicate("x", "range", 1.0, 3.0).mask(col, "synthetic").tolist()
    [True, False, True]
    """

    column: str
    op: str  # "missing", "equals" or "range"
    low: float | None = None
    high: float | None = None
    code: int | None = None
    text: str = ""

    def mask(self, col: ColumnData, side: str) -> np.ndarray:
        """Rows of ``side`` that satisfy the predicate."""
        values = getattr(col, side)
        if self.op == "missing":
            return col.missing(side)
        if self.op == "equals":
            return values == self.code
        return (values >= self.low) & (values <= self.high)


def _number(col: ColumnData, v: float) -> str:
    if col.kind is Kind.DATETIME:
        stamp = number_to_datetime(np.array([v]), col.unit).iloc[0]
        return stamp.strftime("%Y-%m-%d") if col.unit == "D" else stamp.isoformat()
    if col.kind is Kind.INTEGER:
        return str(int(v))
    return f"{v:.6g}"


def _predicate(col: ColumnData, rng: np.random.Generator, sorted_values: np.ndarray) -> Predicate:
    value = col.real[int(rng.integers(len(col.real)))]
    if np.isnan(value) if col.numeric else value < 0:
        return Predicate(col.name, "missing", text=f"{col.name} is missing")
    if not col.numeric:
        code = int(value)
        return Predicate(col.name, "equals", code=code, text=f"{col.name} = {col.labels[code]!r}")
    m = len(sorted_values)
    i, j = np.sort(np.minimum((rng.random(2) * m).astype(int), m - 1))
    lo, hi = float(sorted_values[i]), float(sorted_values[j])
    return Predicate(
        col.name, "range", lo, hi, text=f"{col.name} in [{_number(col, lo)}, {_number(col, hi)}]"
    )


def workload(
    tables: Tables, n_queries: int = 1000, *, seed: Seed = 0
) -> list[tuple[Predicate, ...]]:
    """``n_queries`` random conjunctions of 1–3 predicates drawn from the real table.

    >>> import pandas as pd
    >>> from lookalike.evaluate.tables import prepare
    >>> real = pd.DataFrame({"c": list("ab") * 5, "n": [1, 2, 3, 4, 5] * 2})
    >>> [p.text for p in workload(prepare(real, real), 1, seed=1)[0]]
    ['n in [1, 5]']
    """
    if n_queries < 1:
        raise ConfigError(f"n_queries must be at least 1, got {n_queries}")
    rng = as_rng(seed)
    columns = tables.columns
    ordered = {c.name: np.sort(c.real[~np.isnan(c.real)]) for c in columns if c.numeric}
    out = []
    for _ in range(n_queries):
        width = int(rng.integers(1, min(MAX_WIDTH, len(columns)) + 1))
        picked = np.sort(rng.choice(len(columns), width, replace=False))
        out.append(tuple(_predicate(columns[j], rng, ordered.get(columns[j].name)) for j in picked))
    return out


def answer(tables: Tables, query: tuple[Predicate, ...], side: str) -> int:
    """The number of rows of ``side`` ("real" or "synthetic") that satisfy every predicate.

    >>> import pandas as pd
    >>> from lookalike.evaluate.tables import prepare
    >>> t = prepare(pd.DataFrame({"n": [0, 1, 2, 3, 4] * 2}), pd.DataFrame({"n": [2, 9] * 5}))
    >>> q = (Predicate("n", "range", 0, 3),)
    >>> answer(t, q, "real"), answer(t, q, "synthetic")
    (8, 5)
    """
    mask = None
    for p in query:
        m = p.mask(tables[p.column], side)
        mask = m if mask is None else mask & m
    return int(mask.sum())


def queries(tables: Tables, *, n_queries: int = 1000, seed: Seed = 0) -> Queries:
    """Relative errors of a seeded counting-query workload (module docstring for the floor)."""
    work = workload(tables, n_queries, seed=seed)
    scale = tables.n_real / tables.n_synthetic
    floor = max(1.0, FLOOR_SHARE * tables.n_real)
    real = np.array([answer(tables, q, "real") for q in work], dtype=float)
    synth = np.array([answer(tables, q, "synthetic") for q in work], dtype=float) * scale
    errors = np.abs(synth - real) / np.maximum(real, floor)
    order = np.argsort(errors, kind="stable")
    picks = order[np.unique(np.linspace(0, len(work) - 1, N_EXAMPLES).round().astype(int))]
    examples = tuple(
        QueryExample(
            " and ".join(p.text for p in work[i]), float(real[i]), float(synth[i]), float(errors[i])
        )
        for i in picks
    )
    return Queries(
        n=len(work),
        median_relative_error=float(np.median(errors)),
        p90_relative_error=float(np.quantile(errors, 0.9)),
        mean_relative_error=float(np.mean(errors)),
        errors=tuple(errors.tolist()),
        examples=examples,
        floor=floor,
    )
