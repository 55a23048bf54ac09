"""Privacy accounting in zero-concentrated differential privacy (ρ-zCDP).

Every mechanism reports its cost as ρ; costs add up under composition (Bun and Steinke, TCC
2016). The total converts to (ε, δ)-DP with the tight conversion of Canonne, Kamath and
Steinke ("The Discrete Gaussian for Differential Privacy", NeurIPS 2020, Prop. 12 / Cor. 13),
the one MST and AIM use:

    δ(ε) = inf_{α>1} exp((α−1)(αρ−ε)) / (α−1) · (1 − 1/α)^α

>>> round(delta_from_rho(0.5, 3.0), 6)
0.005143
>>> acct = Accountant(rho_budget=rho_from_epsilon_delta(1.0, 1e-9))
>>> acct.spend("measure one marginal", gaussian_rho(sensitivity=1.0, sigma=20.0))
0.00125
>>> round(acct.remaining, 5) > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lookalike.errors import BudgetExceededError, ConfigError

__all__ = [
    "Accountant",
    "RDP_ORDERS",
    "Release",
    "delta_from_rdp",
    "delta_from_rho",
    "epsilon_from_rdp",
    "rdp_of_rho",
    "epsilon_from_rho",
    "exponential_rho",
    "gaussian_rho",
    "gaussian_sigma",
    "laplace_rho",
    "rho_from_epsilon_delta",
]


def _check_rho(rho: object) -> float:
    if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho >= 0):
        raise ConfigError(f"rho must be a finite number >= 0, got {rho!r}")
    return float(rho)


def check_epsilon_delta(epsilon: float, delta: float) -> None:
    """Raise ConfigError naming the option unless epsilon > 0 and 0 < delta < 1."""
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
        raise ConfigError(f"epsilon must be a finite number > 0, got {epsilon!r} (--epsilon)")
    if not (isinstance(delta, (int, float)) and 0 < delta < 1):
        raise ConfigError(
            f"delta must lie strictly between 0 and 1, got {delta!r} (--delta); "
            "choose well below 1/n, e.g. 1e-9"
        )


def delta_from_rho(rho: float, epsilon: float) -> float:
    """Smallest δ such that ρ-zCDP implies (ε, δ)-DP (Canonne, Kamath, Steinke 2020)."""
    rho = _check_rho(rho)
    if rho == 0:
        return 0.0
    if epsilon < 0:
        raise ConfigError(f"epsilon must be >= 0, got {epsilon}")
    # the exponent is convex in alpha: minimise by bisection on its derivative
    lo, hi = 1.0 + 1e-9, max(2.0, (epsilon + 1) / (2 * rho) + 2)
    for _ in range(200):
        a = (lo + hi) / 2
        deriv = (2 * a - 1) * rho - epsilon + math.log1p(-1 / a)
        if deriv < 0:
            lo = a
        else:
            hi = a
    a = (lo + hi) / 2
    log_delta = (a - 1) * (a * rho - epsilon) + a * math.log1p(-1 / a) - math.log(a - 1)
    return min(1.0, math.exp(log_delta))


def epsilon_from_rho(rho: float, delta: float) -> float:
    """Smallest ε such that ρ-zCDP implies (ε, δ)-DP."""
    rho = _check_rho(rho)
    if not 0 < delta < 1:
        raise ConfigError(f"delta must lie strictly between 0 and 1, got {delta!r}")
    if rho == 0:
        return 0.0
    lo, hi = 0.0, rho + 2 * math.sqrt(rho * math.log(1 / delta)) + 1.0  # the simple bound is valid
    for _ in range(200):
        mid = (lo + hi) / 2
        if delta_from_rho(rho, mid) <= delta:
            hi = mid
        else:
            lo = mid
    return hi


def rho_from_epsilon_delta(epsilon: float, delta: float) -> float:
    """Largest ρ whose zCDP guarantee implies (ε, δ)-DP: the budget for an (ε, δ) target."""
    check_epsilon_delta(epsilon, delta)
    lo, hi = 0.0, epsilon + 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if delta_from_rho(mid, epsilon) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


def gaussian_rho(*, sensitivity: float, sigma: float) -> float:
    """ρ of adding N(0, σ²) noise to a query of L2 sensitivity Δ: Δ² / (2σ²)."""
    if sigma <= 0:
        raise ConfigError(f"sigma must be > 0, got {sigma}")
    return sensitivity**2 / (2 * sigma**2)


def gaussian_sigma(*, sensitivity: float, rho: float) -> float:
    """σ that makes the Gaussian mechanism ρ-zCDP: Δ / √(2ρ)."""
    if rho <= 0:
        raise ConfigError(f"rho must be > 0 to add finite noise, got {rho}")
    return sensitivity / math.sqrt(2 * rho)


def laplace_rho(epsilon: float) -> float:
    """ρ of an ε-DP mechanism (e.g. Laplace with scale Δ/ε): ε²/2 (Bun and Steinke 2016)."""
    return epsilon**2 / 2


def exponential_rho(epsilon: float) -> float:
    """ρ of the ε-DP exponential mechanism: ε²/8 (Cesar and Rogers 2021, bounded range)."""
    return epsilon**2 / 8


# ---------------------------------------------------------------------- Rényi DP curves
RDP_ORDERS: tuple[float, ...] = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)))
"""Orders α at which Rényi-DP curves are kept (Opacus' default grid, so figures agree with it).

Mechanisms that are not zCDP (DP-SGD: the Poisson-subsampled Gaussian) report their cost as a
curve ``ε_α`` on this grid; a ρ-zCDP release is the curve ``ρα``. Curves add under composition
(Mironov, "Rényi Differential Privacy", CSF 2017) and a total converts to (ε, δ) with the same
bound as the zCDP conversion above, taken at the best order of the grid (Canonne, Kamath and
Steinke 2020, Prop. 12; Balle et al. 2020), which is what Opacus' ``get_privacy_spent`` does.
On the grid the conversion of ``ρα`` is never below the exact zCDP one: conservative.

>>> curve = [0.01 * a for a in RDP_ORDERS]          # ρ = 0.01 as a curve
>>> abs(epsilon_from_rdp(curve, 1e-9) - epsilon_from_rho(0.01, 1e-9)) < 0.01
True
"""


def _log_delta_at(alpha: float, r: float, epsilon: float) -> float:
    return (alpha - 1) * (r - epsilon) - math.log(alpha) + (alpha - 1) * math.log1p(-1 / alpha)


def _check_curve(rdp: Sequence[float], orders: Sequence[float]) -> list[tuple[float, float]]:
    pairs = list(zip(orders, rdp, strict=True))
    if any(not (math.isfinite(r) or r == math.inf) or r < 0 for _, r in pairs):
        raise ConfigError("a Renyi-DP curve holds values >= 0 only")
    return pairs


def delta_from_rdp(rdp: Sequence[float], epsilon: float,
                   orders: Sequence[float] = RDP_ORDERS) -> float:
    """Smallest δ the RDP curve ``rdp`` (on ``orders``) gives at ``epsilon``."""
    pairs = _check_curve(rdp, orders)
    if all(r == 0 for _, r in pairs):
        return 0.0
    best = min(_log_delta_at(a, r, epsilon) for a, r in pairs if a > 1 and math.isfinite(r))
    return min(1.0, math.exp(best))


def epsilon_from_rdp(rdp: Sequence[float], delta: float,
                     orders: Sequence[float] = RDP_ORDERS) -> float:
    """Smallest ε the RDP curve ``rdp`` (on ``orders``) gives at ``delta``."""
    if not 0 < delta < 1:
        raise ConfigError(f"delta must lie strictly between 0 and 1, got {delta!r}")
    pairs = _check_curve(rdp, orders)
    if all(r == 0 for _, r in pairs):
        return 0.0
    eps = [
        r - (math.log(delta) + math.log(a)) / (a - 1) + math.log((a - 1) / a)
        for a, r in pairs
        if a > 1 and math.isfinite(r)
    ]
    return max(0.0, min(eps))


def rdp_of_rho(rho: float, orders: Sequence[float] = RDP_ORDERS) -> list[float]:
    """The RDP curve of a ρ-zCDP release: ρα."""
    return [_check_rho(rho) * a for a in orders]


@dataclass(frozen=True)
class Release:
    """One privacy-costing step: what was released, by which mechanism, at what cost.

    The cost is ρ in zCDP plus, for approximate-zCDP mechanisms (thresholded releases of
    unknown categories), a ``delta`` that adds to the final δ.
    """

    name: str
    mechanism: str
    rho: float
    detail: str = ""
    delta: float = 0.0


@dataclass
class Accountant:
    """Adds up ρ over releases and refuses any that would pass ``rho_budget``.

    One accountant per fit; the persistent ledger stores its releases afterwards.
    """

    rho_budget: float
    releases: list[Release] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_rho(self.rho_budget)

    @property
    def spent(self) -> float:
        return sum(r.rho for r in self.releases)

    @property
    def remaining(self) -> float:
        return max(0.0, self.rho_budget - self.spent)

    def spend(self, name: str, rho: float, *, mechanism: str = "gaussian", detail: str = "") -> float:
        """Record a release of cost ``rho``; raise BudgetExceededError if it does not fit."""
        rho = _check_rho(rho)
        if rho > self.remaining * (1 + 1e-9) + 1e-15:
            raise BudgetExceededError(
                f"release {name!r} costs rho={rho:.6g} but only {self.remaining:.6g} of "
                f"{self.rho_budget:.6g} remains (spent {self.spent:.6g})"
            )
        self.releases.append(Release(name, mechanism, rho, detail))
        return rho
