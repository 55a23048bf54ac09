"""Rates, risks and ROC statistics shared by the attacks: small values with their intervals.

A success rate is a :class:`Rate` (Wilson score interval, Wilson 1927); a privacy risk is a
:class:`Risk`, Anonymeter's residual success ``(attack − control) / (1 − control)`` with the
two rates' errors propagated to first order and clipped to [0, 1] (Giomi et al. 2023, "A
unified framework for quantifying privacy risk in synthetic data", PoPETs). A ROC AUC comes
with DeLong's variance (DeLong et al. 1988; the fast form of Sun & Xu 2014).

>>> r = wilson(30, 100)
>>> round(r.value, 3), tuple(round(x, 3) for x in r.ci)
(0.3, (0.219, 0.396))
>>> risk = residual(wilson(60, 100), wilson(20, 100))
>>> round(risk.value, 2), risk.ci[0] > 0
(0.5, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

__all__ = ["Rate", "Risk", "Roc", "auc_delong", "residual", "roc", "tpr_at", "wilson"]

Z95 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class Rate:
    """A success rate: ``successes`` of ``n`` trials, its value and Wilson interval.

    ``value`` is the observed share; ``ci`` the Wilson score interval at ``confidence``.

    >>> wilson(0, 50).ci[0], round(wilson(0, 50).ci[1], 3)
    (0.0, 0.071)
    """

    successes: float
    n: int
    value: float
    ci: tuple[float, float]
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return {
            "successes": _plain(self.successes),
            "n": int(self.n),
            "value": _plain(self.value),
            "ci": [_plain(self.ci[0]), _plain(self.ci[1])],
        }


@dataclass(frozen=True)
class Risk:
    """A privacy risk in [0, 1] and its interval: what the attack gains over its control.

    >>> Risk(0.25, (0.1, 0.4)).to_dict()
    {'value': 0.25, 'ci': [0.1, 0.4]}
    """

    value: float
    ci: tuple[float, float]

    def to_dict(self) -> dict:
        return {"value": _plain(self.value), "ci": [_plain(self.ci[0]), _plain(self.ci[1])]}


def _plain(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _z(confidence: float) -> float:
    return Z95 if confidence == 0.95 else float(norm.ppf(0.5 + confidence / 2))


def wilson(successes: float, n: int, confidence: float = 0.95) -> Rate:
    """The Wilson score interval of ``successes`` out of ``n`` (the value is the plain share).

    It keeps its coverage near the nominal level for small n and rates near 0 or 1, where the
    normal (Wald) interval fails. ``successes`` may be fractional (a size-corrected count).
    """
    if n <= 0:
        return Rate(successes, 0, float("nan"), (float("nan"), float("nan")), confidence)
    z = _z(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return Rate(successes, n, p, (low, high), confidence)


def _half_width(rate: Rate) -> float:
    return (rate.ci[1] - rate.ci[0]) / 2


def residual(attack: Rate, control: Rate) -> Risk:
    """Anonymeter's risk: ``(attack − control) / (1 − control)``, clipped to [0, 1].

    The interval propagates both rates' Wilson half-widths to first order
    (``∂/∂attack = 1/(1 − c)``, ``∂/∂control = (a − 1)/(1 − c)²``). A control rate of 1 leaves
    nothing to measure: the risk is NaN.
    """
    a, c = attack.value, control.value
    if not (math.isfinite(a) and math.isfinite(c)) or c >= 1:
        return Risk(float("nan"), (float("nan"), float("nan")))
    value = (a - c) / (1 - c)
    error = math.hypot(_half_width(attack) / (1 - c), _half_width(control) * (a - 1) / (1 - c) ** 2)
    clip = lambda x: min(1.0, max(0.0, x))  # noqa: E731
    return Risk(clip(value), (clip(value - error), clip(value + error)))


def auc_delong(member: np.ndarray, non_member: np.ndarray) -> tuple[float, float]:
    """ROC AUC of scores (members should score higher) and DeLong's standard error.

    Ties count one half (Mann–Whitney). O(n log n) through mid-ranks (Sun & Xu 2014).

    >>> auc, se = auc_delong(np.array([2.0, 3.0, 4.0]), np.array([1.0, 2.0, 0.0]))
    >>> round(auc, 3), se > 0
    (0.944, True)
    """
    x = np.asarray(member, dtype=float)
    y = np.asarray(non_member, dtype=float)
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return float("nan"), float("nan")
    rx, ry = rankdata(x), rankdata(y)
    rz = rankdata(np.r_[x, y])
    auc = (rz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (rz[:m] - rx) / n  # per member: share of non-members it beats
    v01 = 1 - (rz[m:] - ry) / m  # per non-member: share of members that beat it
    var = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    return float(auc), float(math.sqrt(max(var, 0.0)))


@dataclass(frozen=True)
class Roc:
    """A ROC curve thinned to at most a few hundred points, for plots and JSON."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"fpr": [round(v, 6) for v in self.fpr], "tpr": [round(v, 6) for v in self.tpr]}


def _curve(member: np.ndarray, non_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full ROC (fpr, tpr) over all distinct thresholds, from (0, 0) to (1, 1)."""
    scores = np.r_[member, non_member]
    labels = np.r_[np.ones(len(member)), np.zeros(len(non_member))]
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # end of each tie group
    tp = np.cumsum(labels)[last]
    fp = (last + 1) - tp
    tpr = np.r_[0.0, tp / max(len(member), 1)]
    fpr = np.r_[0.0, fp / max(len(non_member), 1)]
    return fpr, tpr


def roc(member: np.ndarray, non_member: np.ndarray, points: int = 200) -> Roc:
    """The ROC curve of member vs non-member scores, thinned to about ``points`` points.

    Thinning keeps the low-FPR end (log-spaced) and the corners, where privacy is judged.

    >>> r = roc(np.array([3.0, 2.0]), np.array([1.0, 0.0]))
    >>> r.fpr, r.tpr
    ((0.0, 0.0, 0.0, 0.5, 1.0), (0.0, 0.5, 1.0, 1.0, 1.0))
    """
    fpr, tpr = _curve(np.asarray(member, float), np.asarray(non_member, float))
    if len(fpr) > points:
        grid = np.unique(np.r_[0.0, np.geomspace(1e-4, 1, points // 2), np.linspace(0, 1, points // 2)])
        # the last curve point at or below each grid FPR keeps the step shape's upper envelope
        idx = np.unique(np.r_[0, np.searchsorted(fpr, grid, side="right") - 1, len(fpr) - 1])
        fpr, tpr = fpr[idx], tpr[idx]
    return Roc(tuple(float(v) for v in fpr), tuple(float(v) for v in tpr))


def tpr_at(member: np.ndarray, non_member: np.ndarray, fpr_limit: float) -> float:
    """TPR of the ROC curve at FPR ``fpr_limit``, linear between its points.

    A point between two thresholds is reached by breaking the ties of the next score group at
    random, so a tie group that spans the limit counts in proportion.

    >>> tpr_at(np.array([3.0, 2.0, 0.5]), np.array([1.0, 0.0]), 0.0)
    0.6666666666666666
    >>> tpr_at(np.array([1.0, 1.0]), np.array([1.0, 0.0, 0.0, 0.0]), 0.125)
    0.5
    """
    fpr, tpr = _curve(np.asarray(member, float), np.asarray(non_member, float))
    # the upper envelope at each distinct FPR, then linear interpolation
    ufpr, last = np.unique(fpr[::-1], return_index=True)
    utpr = tpr[::-1][last]
    return float(np.interp(fpr_limit, ufpr, utpr))
