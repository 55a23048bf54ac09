"""A small clinical table of codes, flags and a rare outcome: the DP small-table tests' data.

Imported by the tests as ``small_clinic`` (``tests/`` is on ``sys.path`` under pytest, as the
folder of ``conftest.py``). With its defaults it is the table of
``tests/synthesizers/test_small_tables.py`` (marginal models); the neural families' validity
tests (``tests/synthesizers/neural/test_dp_validity.py``) change the shares.

>>> t = clinic(400, days=False)
>>> list(t.columns), sorted(t["race"].unique().tolist())
(['flag', 'sex', 'race', 'score', 'year', 'outcome'], [1, 2, 3, 4])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def clinic(
    n: int = 3000,
    *,
    seed: int = 17,
    flag_share: float = 0.3,
    sex_shares: Sequence[float] = (0.4, 0.6),
    race_shares: Sequence[float] = (0.45, 0.25, 0.15, 0.15),
    outcome: tuple[float, float, float] = (0.1, 0.25, 0.002),
    days: bool = True,
) -> pd.DataFrame:
    """``n`` rows: a 0/1 flag (``flag_share`` ones), a text sex F/M, a race code 1…k (k the
    length of ``race_shares``), a score in steps of 10 (70–100), a year 1995–2003, with
    ``days`` a follow-up time 0–2,999, and a 0/1 outcome of probability ``base + by_flag ×
    flag + by_score × (score − 70)`` (``outcome``). No missing values."""
    rng = np.random.default_rng(seed)
    flag = (rng.random(n) < flag_share).astype(np.int64)
    score = rng.choice([70, 80, 90, 100], n, p=[0.2, 0.3, 0.3, 0.2])
    base, by_flag, by_score = outcome
    result = (rng.random(n) < base + by_flag * flag + by_score * (score - 70)).astype(np.int64)
    columns = {
        "flag": flag,
        "sex": rng.choice(["F", "M"], n, p=list(sex_shares)),
        "race": rng.choice(np.arange(1, len(race_shares) + 1), n, p=list(race_shares)),
        "score": score,
        "year": rng.integers(1995, 2004, n),
    }
    if days:
        columns["days"] = rng.integers(0, 3000, n)
    columns["outcome"] = result
    return pd.DataFrame(columns)
