"""Singling out: predicates read off the synthetic table that isolate one real person.

Following Anonymeter's multivariate attack (Giomi et al. 2023, after the EU Article 29 Working
Party's Opinion 05/2014 on anonymisation): the attacker picks a synthetic row and ``n_cols``
of its columns at random and writes a predicate from its values (``column == value`` for a
category or a missing value; ``column ≥ value`` above the synthetic median and ``≤`` below it
for numbers, which reaches for the extremes); the predicates that match exactly one synthetic
row are the guesses "exactly one person has this". A guess succeeds when it matches exactly
one training row.

* **baseline**: predicates with random columns, values and operators (``==, !=, <, >, ≤, ≥``),
  the random-guess attacker;
* **control**: the same attack at the holdout's scale. A predicate singles out more easily in
  a smaller table, so the guesses are drawn afresh from a random sample of the synthetic rows
  as much smaller than the synthetic table as the holdout is than the training table, and
  tested on the holdout (when the holdout is the larger, it is cut to the training size and
  the attack's own guesses are tested on it).

Anonymeter instead tests the attack's guesses on the holdout and extrapolates the count to the
training size with a fitted curve (``norm · ∫₀^w n·w·(1 − w)^(n−1) dw``, Cohen & Nissim 2020).
On Adult (26,049 training rows, 6,512 holdout rows) that fit was unstable: correction factors
from 0.82 to 1.96 for different seeds, so an independent-columns synthesizer, which memorises
no record, showed a risk of 0.08 [0.01, 0.15] and CART's control rate came out above its
attack rate. The scale-matched control above gave, over seeds 0–2, risks of −0.007 to 0.009
for the independent synthesizer (clipped to 0), 0.012 to 0.033 for CART, and 1 for a copy of
the training data.

Risk ``(attack − control) / (1 − control)`` with a 95% interval, clipped to [0, 1].

>>> import lookalike
>>> from lookalike.evaluate.tables import prepare
>>> adult = lookalike.load_demo().sample(4000, random_state=0)
>>> train, holdout = adult.iloc[:2000], adult.iloc[2000:]
>>> s = singling_out(prepare(train, train, holdout), n_attacks=200, seed=0)
>>> s.attack.value, s.risk.value > 0.5
(1.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookalike._json import JsonMixin as _Json
from lookalike._rng import Seed, as_rng
from lookalike.audit._stats import Rate, Risk, residual, wilson
from lookalike.errors import ConfigError
from lookalike.evaluate.tables import Tables

__all__ = ["SinglingOut", "singling_out"]

N_ATTACKS = 500
N_COLS = 3
MAX_ATTEMPTS = 50_000
"""Candidate predicates tried before giving up on finding ``n_attacks`` that single out."""

@dataclass(frozen=True)
class SinglingOut(_Json):
    """Success rates of singling-out guesses on training rows, random guesses and the holdout.

    ``n_queries`` guesses were made for the attack, ``n_control_queries`` for the control
    (from ``control_synthetic`` synthetic rows, tested on ``control_rows`` holdout rows).
    """

    attack: Rate
    baseline: Rate
    control: Rate
    risk: Risk
    n_queries: int
    n_control_queries: int
    n_cols: int
    control_synthetic: int
    control_rows: int
    note: str = ""


def _matrix(tables: Tables, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Values (categorical codes as floats, NaN for every missing value) and a numeric flag."""
    cols, numeric = [], []
    for c in tables.columns:
        v = getattr(c, side)
        cols.append(v.astype(float) if c.numeric else np.where(v < 0, np.nan, v.astype(float)))
        numeric.append(c.numeric)
    return np.column_stack(cols), np.array(numeric)


def _match(columns: list[np.ndarray], query: tuple) -> np.ndarray:
    """Rows where every condition ``(column index, operator code, value)`` of ``query`` holds."""
    mask = None
    for j, op, v in query:
        x = columns[j]
        if v != v:  # a missing value: ==, <=, >= ask "is missing", the others "is present"
            hit = np.isnan(x) if op in (0, 4, 5) else ~np.isnan(x)
        elif op == 0:
            hit = x == v
        elif op == 1:
            hit = (x != v) & ~np.isnan(x)
        elif op == 2:
            hit = x < v
        elif op == 3:
            hit = x > v
        elif op == 4:
            hit = x <= v
        else:
            hit = x >= v
        mask = hit if mask is None else mask & hit
    return mask


def _counts(columns: list[np.ndarray], queries: list[tuple]) -> np.ndarray:
    return np.array([int(np.count_nonzero(_match(columns, q))) for q in queries], dtype=np.int64)


def _columns(data: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(data[:, j]) for j in range(data.shape[1])]


def _attack_queries(syn: np.ndarray, numeric: np.ndarray, n: int, n_cols: int,
                    rng: np.random.Generator, max_attempts: int) -> list[tuple]:
    """Predicates from random synthetic rows that match exactly one (de-duplicated) synthetic row."""
    syn = np.unique(syn, axis=0)  # Anonymeter attacks the de-duplicated synthetic table
    cols_data = _columns(syn)
    medians = [float(np.nanmedian(c)) if numeric[j] and not np.isnan(c).all() else np.nan
               for j, c in enumerate(cols_data)]
    found: dict[tuple, None] = {}
    rows = rng.integers(len(syn), size=max_attempts)
    picks = np.sort(np.argsort(rng.random((max_attempts, syn.shape[1])), axis=1)[:, :n_cols], axis=1)
    for r, cols in zip(rows, picks, strict=True):
        q = []
        for j in cols:
            v = float(syn[r, j])
            op = (5 if v > medians[j] else 4) if numeric[j] and v == v else 0
            q.append((int(j), op, v))
        key = tuple(q)
        if key not in found and np.count_nonzero(_match(cols_data, key)) == 1:
            found[key] = None
            if len(found) >= n:
                break
    return list(found)


def _random_queries(syn: np.ndarray, numeric: np.ndarray, n: int, n_cols: int,
                    rng: np.random.Generator) -> list[tuple]:
    """Random predicates: random columns, a random synthetic value of each, a random operator."""
    values = [np.unique(syn[:, j]) for j in range(syn.shape[1])]  # NaN kept once
    out = []
    for _ in range(n):
        cols = np.sort(rng.choice(syn.shape[1], n_cols, replace=False))
        out.append(tuple(
            (int(j), int(rng.integers(6 if numeric[j] else 2)), float(values[j][rng.integers(len(values[j]))]))
            for j in cols
        ))
    return out


def singling_out(
    tables: Tables,
    *,
    n_attacks: int = N_ATTACKS,
    n_cols: int = N_COLS,
    max_attempts: int = MAX_ATTEMPTS,
    seed: Seed = 0,
) -> SinglingOut:
    """Anonymeter's multivariate singling-out risk of ``tables.synthetic`` for the real rows.

    Needs a holdout. When fewer than ``n_attacks`` predicates single out a synthetic row
    within ``max_attempts`` tries, the rates are over those found (said in ``note``).
    """
    if tables.n_holdout is None or tables.n_holdout < 4:
        raise ConfigError(
            "singling out needs a holdout of at least 4 real rows the synthesizer never saw "
            "(holdout=..., or --holdout in the CLI)"
        )
    if n_attacks < 1 or max_attempts < 1:
        raise ConfigError(f"n_attacks and max_attempts must be positive, got {n_attacks}, {max_attempts}")
    n_cols = min(n_cols, len(tables.columns))
    rng = as_rng(seed)
    syn, numeric = _matrix(tables, "synthetic")
    train = _columns(_matrix(tables, "real")[0])
    hold_all = _matrix(tables, "holdout")[0]
    queries = _attack_queries(syn, numeric, n_attacks, n_cols, rng, max_attempts)
    if tables.n_holdout >= tables.n_real:  # cut the holdout to the training size
        hold = _columns(hold_all[np.sort(rng.choice(tables.n_holdout, tables.n_real, replace=False))])
        control_queries, n_control_syn = queries, tables.n_synthetic
    else:  # draw the control's guesses from a synthetic sample scaled like the holdout
        hold = _columns(hold_all)
        n_control_syn = max(1, round(tables.n_synthetic * tables.n_holdout / tables.n_real))
        sample = syn[np.sort(rng.choice(tables.n_synthetic, n_control_syn, replace=False))]
        control_queries = _attack_queries(sample, numeric, n_attacks, n_cols, rng, max_attempts)
    n_q, n_c = len(queries), len(control_queries)
    notes = []
    if n_q < n_attacks:
        notes.append(
            f"only {n_q} of {n_attacks} predicates singled out a synthetic row in "
            f"{max_attempts:,} tries"
        )
    attack = wilson(int((_counts(train, queries) == 1).sum()), n_q)
    control = wilson(int((_counts(hold, control_queries) == 1).sum()), n_c)
    baseline = int((_counts(train, _random_queries(syn, numeric, n_attacks, n_cols, rng)) == 1).sum())
    return SinglingOut(
        attack=attack,
        baseline=wilson(baseline, n_attacks),
        control=control,
        risk=residual(attack, control),
        n_queries=n_q,
        n_control_queries=n_c,
        n_cols=n_cols,
        control_synthetic=n_control_syn,
        control_rows=len(hold[0]),
        note="; ".join(notes),
    )
