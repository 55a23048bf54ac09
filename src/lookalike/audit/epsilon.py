"""Empirical ε: a lower bound on the privacy loss that an attack's results prove.

If a mechanism is (ε, δ)-DP, then for any event S (here: "the attack's score is at least t"),
``TPR ≤ e^ε·FPR + δ`` and ``1 − FPR ≤ e^ε·(1 − TPR) + δ`` (Kairouz et al. 2015). An attack that
separates member from non-member outputs therefore proves

    ε ≥ max( log((TPR − δ) / FPR),  log((1 − FPR − δ) / (1 − TPR)) ).

The rates are estimated from finitely many trials, so the bound uses one-sided Clopper–Pearson
limits instead of the point estimates (Jagielski et al. 2020, "Auditing differentially private
machine learning"; Nasr et al. 2021, "Adversary instantiation"): the lower limit of the rate in
the numerator, the upper limit of the rate in the denominator.

**Threshold selection.** Maximising over thresholds on the same scores that are then counted
would overstate ε (selection bias). Here the scores are split at random (``seed``) into two
halves: the threshold and the side of the inequality are chosen on one half (maximising its own
bound), and the bound is computed on the other half only. The two Clopper–Pearson limits used
there are each taken at level ``1 − (1 − confidence)/2`` (Bonferroni over the two), so the
reported ε is a lower bound on the true ε with probability at least ``confidence``.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> same = empirical_epsilon(rng.normal(size=500), rng.normal(size=500))
>>> same.epsilon
0.0
>>> strong = empirical_epsilon(rng.normal(3, 1, 500), rng.normal(0, 1, 500))
>>> 1.5 < strong.epsilon < 4.0
True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import beta

from lookalike._rng import Seed, as_rng
from lookalike.errors import ConfigError

__all__ = ["EpsilonBound", "clopper_pearson", "empirical_epsilon", "epsilon_from_rates"]

SELECTION = "threshold and side chosen on a random half of the scores, bound computed on the other half"


@dataclass(frozen=True)
class EpsilonBound:
    """A lower bound on ε from an attack's TPR/FPR, with Clopper–Pearson confidence.

    ``tpr`` and ``fpr`` are the rates observed at ``threshold`` (score ≥ threshold means
    "member") on the evaluation half; ``n_members`` and ``n_non_members`` count all scores given.

    >>> EpsilonBound(0.0, 0.0, 0.95, 0.5, 0.5, 0.0, 10, 10).to_dict()["epsilon"]
    0.0
    """

    epsilon: float
    delta: float
    confidence: float
    tpr: float
    fpr: float
    threshold: float
    n_members: int
    n_non_members: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the threshold-selection method spelled out."""
        d = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}
        d["method"] = "Clopper-Pearson; " + SELECTION
        return d


def clopper_pearson(k: Any, n: Any, confidence: float = 0.95, side: str = "lower") -> np.ndarray:
    """One-sided Clopper–Pearson limit of a binomial rate from ``k`` successes in ``n`` trials.

    ``side="lower"``: the rate is at least this with probability ``confidence``
    (``Beta(1−confidence; k, n−k+1)``, 0 when k = 0); ``side="upper"``: at most this
    (``Beta(confidence; k+1, n−k)``, 1 when k = n). Vectorised over ``k`` and ``n``.

    >>> round(float(clopper_pearson(0, 10, 0.95, "upper")), 4)
    0.2589
    >>> round(float(clopper_pearson(10, 10, 0.95, "lower")), 4)
    0.7411
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ConfigError("clopper_pearson needs 0 ≤ k ≤ n and n ≥ 1")
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        if side == "lower":
            out = np.where(k > 0, beta.ppf(alpha, np.maximum(k, 1), n - k + 1), 0.0)
        elif side == "upper":
            out = np.where(k < n, beta.ppf(confidence, k + 1, np.maximum(n - k, 1)), 1.0)
        else:
            raise ConfigError(f"side must be 'lower' or 'upper', got {side!r}")
    return out


def epsilon_from_rates(tpr_lo: Any, fpr_hi: Any, delta: float = 0.0) -> np.ndarray:
    """``log((tpr_lo − δ) / fpr_hi)``, floored at 0 (no evidence gives 0, not a negative ε).

    >>> round(float(epsilon_from_rates(0.5, 0.05)), 4)
    2.3026
    """
    tpr_lo = np.asarray(tpr_lo, dtype=float)
    fpr_hi = np.asarray(fpr_hi, dtype=float)
    num = tpr_lo - delta
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.where((num > 0) & (fpr_hi > 0), np.log(np.maximum(num, 1e-300) / fpr_hi), 0.0)
    return np.maximum(eps, 0.0)


def _counts(members: np.ndarray, non_members: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members and non-members with score ≥ each threshold."""
    m = np.sort(members)
    nm = np.sort(non_members)
    tp = len(m) - np.searchsorted(m, thresholds, side="left")
    fp = len(nm) - np.searchsorted(nm, thresholds, side="left")
    return tp, fp


def _bounds(tp, fp, n_m, n_n, confidence, delta):
    """ε bound of each threshold for both sides: (side 0: TPR vs FPR; side 1: TNR vs FNR)."""
    tpr_lo = clopper_pearson(tp, n_m, confidence, "lower")
    fpr_hi = clopper_pearson(fp, n_n, confidence, "upper")
    tnr_lo = clopper_pearson(n_n - fp, n_n, confidence, "lower")  # 1 − FPR_hi' : lower of TNR
    fnr_hi = clopper_pearson(n_m - tp, n_m, confidence, "upper")  # 1 − TPR_lo' : upper of FNR
    return epsilon_from_rates(tpr_lo, fpr_hi, delta), epsilon_from_rates(tnr_lo, fnr_hi, delta)


def _scores(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be numbers (an attack's scores), got {type(values).__name__}") from None
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{what} hold NaN or infinite values; give finite attack scores")
    if len(arr) < 2:
        raise ConfigError(
            f"{what} hold {len(arr)} score(s); at least 2 are needed (one half chooses the "
            "threshold, the other half bounds ε): run more attack trials"
        )
    return arr


def empirical_epsilon(
    member_scores: Any,
    non_member_scores: Any,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    seed: Seed = 0,
) -> EpsilonBound:
    """A lower bound on ε proved by an attack: higher score means "member".

    ``member_scores`` come from outputs of the mechanism run with the target, the others from
    runs without it. The result holds with probability at least ``confidence``: the threshold
    is chosen on a random half (``seed``) and ε is bounded on the other half with two one-sided
    Clopper–Pearson limits at ``1 − (1 − confidence)/2`` each. ``delta`` is the δ the mechanism
    claims (0 for pure DP or a non-DP mechanism).

    >>> b = empirical_epsilon([1.0] * 200, [0.0] * 200)
    >>> round(b.epsilon, 2), b.tpr, b.fpr
    (3.28, 1.0, 0.0)
    """
    members = _scores(member_scores, "member_scores")
    non_members = _scores(non_member_scores, "non_member_scores")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if not 0 <= delta < 1:
        raise ConfigError(f"delta must lie in [0, 1), got {delta}")
    rng = as_rng(seed)
    perm_m, perm_n = rng.permutation(len(members)), rng.permutation(len(non_members))
    half_m, half_n = len(members) // 2, len(non_members) // 2
    sel_m, ev_m = members[perm_m[:half_m]], members[perm_m[half_m:]]
    sel_n, ev_n = non_members[perm_n[:half_n]], non_members[perm_n[half_n:]]

    # Choose the threshold and side on the selection half (any valid rule would do).
    thresholds = np.unique(np.r_[sel_m, sel_n])
    tp, fp = _counts(sel_m, sel_n, thresholds)
    side0, side1 = _bounds(tp, fp, len(sel_m), len(sel_n), confidence, delta)
    best0, best1 = int(np.argmax(side0)), int(np.argmax(side1))
    if side0[best0] >= side1[best1]:
        side, threshold = 0, float(thresholds[best0])
    else:
        side, threshold = 1, float(thresholds[best1])

    # Bound it on the evaluation half, both limits at 1 − α/2.
    level = 1.0 - (1.0 - confidence) / 2.0
    tp, fp = _counts(ev_m, ev_n, np.array([threshold]))
    eps = _bounds(tp, fp, len(ev_m), len(ev_n), level, delta)[side]
    return EpsilonBound(
        epsilon=float(eps[0]),
        delta=float(delta),
        confidence=float(confidence),
        tpr=float(tp[0] / len(ev_m)),
        fpr=float(fp[0] / len(ev_n)),
        threshold=threshold,
        n_members=len(members),
        n_non_members=len(non_members),
    )
