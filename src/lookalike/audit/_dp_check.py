"""Empirical ε of a synthesizer on one neighbouring pair: D and D plus one record.

The tightest audit of a DP claim fixes the worst case the adversary may choose: a dataset D,
an extreme record x, and a score of the synthetic output (say, how many synthetic rows fall in
x's cell). Fitting many times on D ∪ {x} (members) and on D (non-members) and bounding ε from
the two score samples (:func:`lookalike.audit.epsilon.empirical_epsilon`) must never prove
more than the ε the synthesizer claims, except with probability 1 − confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.audit.epsilon import EpsilonBound, empirical_epsilon
from lookalike.audit.shadow import _fit_sample
from lookalike.errors import ConfigError

__all__ = ["neighbour_scores", "neighbour_epsilon"]


def neighbour_scores(
    synthesizer: str,
    data: pd.DataFrame,
    record: Mapping[str, Any],
    score: Callable[[pd.DataFrame], float],
    *,
    n_fits: int,
    params: dict | None = None,
    schema: Any = None,
    epsilon: float | None = None,
    delta: float | None = None,
    synthetic_size: int | None = None,
    seed: Seed = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``score`` of ``n_fits`` synthetic tables fitted with ``record`` added, and of ``n_fits`` without."""
    if n_fits < 2:
        raise ConfigError(f"n_fits={n_fits} is too few: give at least 2 fits per side")
    rng = as_rng(seed)
    with_record = pd.concat([data, pd.DataFrame([dict(record)])[list(data.columns)]], ignore_index=True)
    with_record = with_record.astype(data.dtypes.to_dict())
    n_out = synthetic_size or len(data)
    members, non_members = [], []
    for _ in range(n_fits):
        for table, out in ((with_record, members), (data, non_members)):
            synth = _fit_sample(synthesizer, params or {}, table, schema, epsilon, delta, int(rng.integers(2**31 - 2)), n_out)
            out.append(float(score(synth)))
    return np.array(members), np.array(non_members)


def neighbour_epsilon(
    synthesizer: str,
    data: pd.DataFrame,
    record: Mapping[str, Any],
    score: Callable[[pd.DataFrame], float],
    *,
    n_fits: int,
    confidence: float = 0.95,
    seed: Seed = 0,
    **fit: Any,
) -> EpsilonBound:
    """Empirical ε lower bound of ``synthesizer`` on the pair (``data`` + ``record``, ``data``)."""
    rng = as_rng(seed)
    members, non_members = neighbour_scores(synthesizer, data, record, score, n_fits=n_fits, seed=rng, **fit)
    return empirical_epsilon(
        members, non_members, delta=float(fit.get("delta") or 0.0), confidence=confidence, seed=rng
    )
