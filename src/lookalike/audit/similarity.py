"""Similarity of synthetic rows to training rows: exact matches, DCR and NNDR.

These are **not privacy guarantees**: a synthetic table far from every training row can still
leak (an attribute, a membership), and a close one may be harmless when the population is
dense. They are reported because a copy of the training data shows up here first.

* **Exact-match rate**: the share of synthetic rows equal to some training row on every
  modelled column. For comparison, the share equal to some holdout row, and to some row of a
  training sample as large as the holdout (natural duplicates in a coarse table match too).
* **DCR** (distance to closest record): for a seeded sample of synthetic rows, the distance to
  the closest training row and to the closest holdout row (medians and 5th percentiles; the
  larger table is closer for its size alone). Then the share of synthetic rows whose closest
  real row is a training row, with a Wilson interval: without memorisation it is about
  ``n_train / (n_train + n_holdout)`` (``closer_expected``; ties count that share), a copy of
  the training data scores 1.
* **NNDR** (nearest-neighbour distance ratio): closest over second-closest distance in each
  reference; near 0 means a synthetic row sits on one real row, away from the others.

Distances are those of :mod:`lookalike.audit._encoding` (1 = one category changed or one
numeric value moved by a robust spread).

>>> import lookalike
>>> from lookalike.evaluate.tables import prepare
>>> adult = lookalike.load_demo().sample(1200, random_state=0)
>>> train, holdout = adult.iloc[:800], adult.iloc[800:]
>>> s = similarity(prepare(train, train, holdout), seed=0)
>>> s.exact_match.value, s.closer_to_train.value, round(s.closer_expected, 3)
(1.0, 1.0, 0.667)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lookalike._json import JsonMixin as _Json
from lookalike._rng import Seed, as_rng
from lookalike.audit._encoding import Features, encode, nearest
from lookalike.audit._stats import Rate, wilson
from lookalike.evaluate.tables import Tables

__all__ = ["WARNING", "DcrHistogram", "Similarity", "similarity"]

WARNING = (
    "Similarity metrics (exact matches, distance to closest record, NNDR) are not privacy "
    "guarantees: a synthetic table far from every real row can still leak; attacks are the evidence."
)
MAX_SYNTHETIC = 5000
"""Synthetic rows whose distances are measured (a seeded sample when there are more)."""
MAX_REFERENCE = 100_000
"""Largest training table / holdout searched as it is (a seeded sample of this size beyond)."""
DCR_BINS = 30
"""Bins of the DCR histograms, from 0 to the 99th percentile of the distances."""


@dataclass(frozen=True)
class DcrHistogram(_Json):
    """Distances to the closest record, binned for a plot: shares of the measured synthetic rows.

    ``train`` is each synthetic row's distance to its closest training row, ``holdout`` to its
    closest holdout row (None without a holdout), on the same ``edges``; the last bin also
    holds the distances past the 99th percentile. A copy of the training data piles up at 0
    on the training side only.
    """

    edges: tuple[float, ...]
    train: tuple[float, ...]
    holdout: tuple[float, ...] | None


def dcr_histogram(train: np.ndarray, holdout: np.ndarray | None, bins: int = DCR_BINS) -> DcrHistogram:
    """:class:`DcrHistogram` of two arrays of distances on shared bins.

    >>> h = dcr_histogram(np.array([0.0, 0.0, 1.0, 2.0]), np.array([1.0, 2.0, 2.0, 2.0]), bins=2)
    >>> h.edges, h.train, h.holdout
    ((0.0, 1.0, 2.0), (0.5, 0.5), (0.0, 1.0))
    """
    both = train if holdout is None else np.r_[train, holdout]
    top = float(np.percentile(both, 99)) if len(both) else 1.0
    top = top if top > 0 else max(float(both.max()) if len(both) else 0.0, 1.0)
    edges = np.linspace(0.0, top, bins + 1)

    def shares(d: np.ndarray) -> tuple[float, ...]:
        idx = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, bins - 1)
        counts = np.bincount(idx, minlength=bins).astype(float)
        return tuple((counts / max(len(d), 1)).tolist())

    return DcrHistogram(
        tuple(edges.tolist()), shares(train), None if holdout is None else shares(holdout)
    )


@dataclass(frozen=True)
class Similarity(_Json):
    """Exact-match rates, DCR and NNDR of synthetic rows against training and holdout rows."""

    exact_match: Rate
    exact_match_holdout: Rate | None
    exact_match_train_equal: Rate | None
    dcr_median_train: float
    dcr_median_holdout: float | None
    dcr_p05_train: float
    dcr_p05_holdout: float | None
    closer_to_train: Rate | None
    closer_expected: float | None
    nndr_median_train: float
    nndr_median_holdout: float | None
    n_synthetic: int
    n_reference: int
    warning: str = WARNING
    dcr_hist: DcrHistogram | None = None


def _row_keys(tables: Tables, side: str) -> np.ndarray:
    """One 64-bit hash per row of ``side`` over the modelled columns.

    Two rows share a key exactly when they hold the same values (missing equal to missing);
    categories compare by label, so the synthetic and real tables' keys are comparable.
    """
    frame = {}
    for i, c in enumerate(tables.columns):
        values = getattr(c, side)
        frame[str(i)] = values if c.numeric else values.astype(np.int64)
    return pd.util.hash_pandas_object(pd.DataFrame(frame), index=False).to_numpy()


def _nndr(dist: np.ndarray) -> np.ndarray:
    d1, d2 = dist[:, 0], dist[:, 1] if dist.shape[1] > 1 else dist[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(d2 > 0, d1 / d2, 1.0)
    return out


def similarity(
    tables: Tables,
    features: Features | None = None,
    *,
    seed: Seed = 0,
    max_synthetic: int = MAX_SYNTHETIC,
    max_reference: int = MAX_REFERENCE,
) -> Similarity:
    """Exact-match rates, DCR and NNDR of ``tables.synthetic`` against the training (real) rows.

    Without a holdout, only the training side is measured and nothing is compared.
    """
    rng = as_rng(seed)
    has_holdout = tables.n_holdout is not None
    train_keys = _row_keys(tables, "real")
    synth_keys = _row_keys(tables, "synthetic")
    exact = wilson(int(np.isin(synth_keys, train_keys).sum()), len(synth_keys))
    exact_hold = exact_equal = None
    if has_holdout:
        hold_keys = _row_keys(tables, "holdout")
        exact_hold = wilson(int(np.isin(synth_keys, hold_keys).sum()), len(synth_keys))
        equal = rng.choice(tables.n_real, min(tables.n_holdout, tables.n_real), replace=False)
        exact_equal = wilson(int(np.isin(synth_keys, train_keys[equal]).sum()), len(synth_keys))
    feats = features if features is not None else encode(tables)
    n_syn = min(tables.n_synthetic, max_synthetic)
    syn_rows = np.sort(rng.choice(tables.n_synthetic, n_syn, replace=False))
    queries = feats.synthetic[syn_rows]

    def reference(matrix: np.ndarray) -> np.ndarray:
        if len(matrix) <= max_reference:
            return matrix
        return matrix[np.sort(rng.choice(len(matrix), max_reference, replace=False))]

    train_ref = reference(feats.real)
    d_train, _ = nearest(queries, train_ref, k=2)
    closer = expected = d_hold = None
    if has_holdout:
        hold_ref = reference(feats.holdout)
        d_hold, _ = nearest(queries, hold_ref, k=2)
        a, b = d_train[:, 0], d_hold[:, 0]
        expected = len(train_ref) / (len(train_ref) + len(hold_ref))
        closer = wilson(float((a < b).sum() + expected * (a == b).sum()), n_syn)
    n_ref = len(train_ref)
    return Similarity(
        exact_match=exact,
        exact_match_holdout=exact_hold,
        exact_match_train_equal=exact_equal,
        dcr_median_train=float(np.median(d_train[:, 0])),
        dcr_median_holdout=None if d_hold is None else float(np.median(d_hold[:, 0])),
        dcr_p05_train=float(np.percentile(d_train[:, 0], 5)),
        dcr_p05_holdout=None if d_hold is None else float(np.percentile(d_hold[:, 0], 5)),
        closer_to_train=closer,
        closer_expected=expected,
        nndr_median_train=float(np.median(_nndr(d_train))),
        nndr_median_holdout=None if d_hold is None else float(np.median(_nndr(d_hold))),
        n_synthetic=n_syn,
        n_reference=n_ref,
        dcr_hist=dcr_histogram(d_train[:, 0], None if d_hold is None else d_hold[:, 0]),
    )
