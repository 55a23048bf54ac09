"""Features of one synthetic table for the shadow-model attack on one target.

Stadler et al. (2022) featurise a synthetic table with naive statistics (per-column
histograms and moments), correlations and closest-record features. With tens of training fits
a forest over all of them (about 200 for Adult) lost power to noise: on 5,000 Adult rows, CART,
reference size 400, 25 training fits per class, the held-out AUC of three targets was
0.62–0.78 with every family and 0.71–0.81 with the target-centred features below alone
(measured with a rank-based encoding since replaced by the audit's one distance; in the
setting of ``tests/audit/test_shadow.py``, on the same targets and fits, that change moved the
mean AUC from 0.776 [0.707, 0.839] to 0.821 [0.744, 0.887]). So the attack keeps the part of
each family that concerns the target:

* *closest record*: distance from the target to its nearest synthetic row and mean distance to
  its 5 nearest, shares of synthetic rows within radius 0.25, 0.5 and 1 of it (the distance
  of every attack, :mod:`lookalike.audit._encoding`: 1 is one category changed);
* *naive, at the target*: the share of synthetic rows sharing its code in each column (its bin
  of the column's histogram; numeric in 10 quantile bins), the share at least as far out as it
  in each numeric column's tail, and each numeric column's synthetic min and max (a target
  that stretches a range shows there);
* *combination*: the share matching all its categorical values, and its rarest pair of codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lookalike.audit._encoding import RecordEncoding, distances

__all__ = ["TargetProfile", "target_features", "profile"]

_RADII = (0.25, 0.5, 1.0)


@dataclass(frozen=True, eq=False)
class TargetProfile:
    """What the closest-record features need to know about one target (from the real table)."""

    point: np.ndarray  # its point of ``RecordEncoding.matrix``
    codes: np.ndarray  # its codes (``RecordEncoding.codes``)
    values: np.ndarray  # its value of each numeric column
    upper_tail: np.ndarray  # per numeric column: True when it lies above the real median
    pair: tuple[int, int]  # its rarest pair of code columns in the real table


def profile(enc: RecordEncoding, arrays: Sequence[np.ndarray], row: int) -> TargetProfile:
    """The profile of positional ``row`` of the real table, given as ``enc.arrays(real)``."""
    codes_all = enc.codes(arrays)[0]
    mine = codes_all[row]
    pair = (0, 0)
    if codes_all.shape[1] > 1:
        best = np.inf
        for a, b in itertools.combinations(range(codes_all.shape[1]), 2):
            count = int(np.sum((codes_all[:, a] == mine[a]) & (codes_all[:, b] == mine[b])))
            if count < best:
                best, pair = count, (a, b)
    numeric = np.flatnonzero(enc.numeric)
    values = np.array([arrays[j][row] for j in numeric], dtype=float)
    centres = np.array([enc.centres[j] for j in numeric], dtype=float)
    point = enc.matrix([a[row : row + 1] for a in arrays])[0]
    return TargetProfile(point, mine, values, values > centres, pair)


def target_features(
    enc: RecordEncoding, arrays: Sequence[np.ndarray], target: TargetProfile, *,
    matrix: np.ndarray | None = None, codes: np.ndarray | None = None,
) -> np.ndarray:
    """Closest-record features of one synthetic table, given as ``enc.arrays(synthetic)``, for one target.

    ``matrix`` and ``codes``, when given, are ``enc.matrix(arrays)`` and ``enc.codes(arrays)[0]``.
    """
    m = enc.matrix(arrays) if matrix is None else matrix
    c = enc.codes(arrays)[0] if codes is None else codes
    n = max(len(m), 1)
    dist = distances(target.point, m)
    near = np.sort(dist)[:5]
    feats = [near[0] if len(near) else 99.0, near.mean() if len(near) else 99.0]
    feats += [np.sum(dist <= r) / n for r in _RADII]
    same = c == target.codes
    feats += (same.sum(axis=0) / n).tolist()
    for i, j in enumerate(np.flatnonzero(enc.numeric)):
        x, v = target.values[i], arrays[j]
        if np.isfinite(x):
            out = v >= x if target.upper_tail[i] else v <= x
            feats.append(np.sum(out) / n)
        else:
            feats.append(np.sum(~np.isfinite(v)) / n)
        ok = v[np.isfinite(v)]
        feats += [ok.min(), ok.max()] if len(ok) else [0.0, 0.0]
    categorical = ~enc.numeric
    feats.append(np.sum(np.all(same[:, categorical], axis=1)) / n if categorical.any() else 0.0)
    a, b = target.pair
    feats.append(np.sum(same[:, a] & same[:, b]) / n)
    return np.asarray(feats, dtype=float)
