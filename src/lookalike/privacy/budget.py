"""The one place that plans a DP fit's budget, reserves its charge and records what it released.

Every DP entry point (the Python API, ``lookalike synth``, ``lookalike fit``, the audit's shadow
fits) goes through :meth:`lookalike.synthesizers.Synthesizer.fit`, which calls this module in
one order:

1. :func:`privacy_request` validates ε, δ, the ledger and the dataset name (nothing is read);
2. the family names its sub-budgets in a :class:`BudgetPlan` (``discover``, ``measure``,
   ``train`` ...) whose total is the zCDP budget ρ that implies (ε, δ);
3. :func:`precheck` refuses a fit the dataset's budget cannot pay for, before any data is read;
4. the data is opened and fingerprinted by content;
5. :func:`reserve` charges the whole plan to the ledger in one transaction (registering a new
   dataset only then), and yields a :class:`Budget` through which the family records each
   release; the fit runs inside it;
6. on success the reservation is settled with the releases actually made (a DP-SGD fit
   reserves its (ε, δ) as the ρ that implies it and settles to its Rényi-DP curve); on failure
   the charge stays spent, marked failed: the data may already have been read, and refunding
   a fit that touched the data would let failures leak information for free.

A DP fit without a ledger spends nothing anyone records: it warns once
(:class:`UnrecordedSpendWarning`), except inside :func:`unrecorded` (internal fits whose
output is never released, such as the audit's shadow models).

>>> plan = BudgetPlan.split(1.0, 1e-9, discover=0.1, measure=0.9)
>>> round(plan.rho, 5), round(plan.rho_of("discover") / plan.rho, 3)
(0.01488, 0.1)
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from lookalike.errors import BudgetExceededError, ConfigError
from lookalike.privacy.accountant import (
    RDP_ORDERS,
    Release,
    check_epsilon_delta,
    delta_from_rdp,
    delta_from_rho,
    epsilon_from_rdp,
    epsilon_from_rho,
    rho_from_epsilon_delta,
)

if TYPE_CHECKING:
    from lookalike.privacy.fingerprint import DataFingerprint
    from lookalike.privacy.ledger import PrivacyLedger

__all__ = [
    "DEFAULT_DELTA",
    "DISCOVERY_DELTA_SHARE",
    "Budget",
    "BudgetPlan",
    "PrivacyReport",
    "PrivacyRequest",
    "ReleaseRecord",
    "UnrecordedSpendWarning",
    "plan_budget",
    "precheck",
    "privacy_request",
    "reserve",
    "unrecorded",
]

DEFAULT_DELTA = 1e-9
MIN_EPSILON = 1e-4
"""Smallest ε a fit accepts: at ε = 1e-4 (δ = 1e-9) even a single count given the whole budget
gets Gaussian noise of standard deviation 6·10^4, so below it a release is noise that looks
like data on any table a machine holds (and would only burn budget)."""
DISCOVERY_DELTA_SHARE = 0.1  # share of δ set aside for thresholded category discovery


class UnrecordedSpendWarning(UserWarning):
    """A DP fit ran without a ledger: its spend is recorded nowhere."""


_silence = threading.local()


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """Run DP fits whose output is never released (shadow models) without the ledger warning."""
    depth = getattr(_silence, "depth", 0)
    _silence.depth = depth + 1
    try:
        yield
    finally:
        _silence.depth = depth


def plan_budget(epsilon: float, delta: float) -> tuple[float, float]:
    """(ρ for the fit, δ reserved for category discovery) that together give (ε, δ)-DP.

    Approximate zCDP composes by adding ρ and adding δ; converting ρ at δ − δ_discovery and
    adding δ_discovery back gives exactly (ε, δ).
    """
    check_epsilon_delta(epsilon, delta)
    delta_disc = delta * DISCOVERY_DELTA_SHARE
    return rho_from_epsilon_delta(epsilon, delta - delta_disc), delta_disc


# ---------------------------------------------------------------------- the request
@dataclass(frozen=True)
class PrivacyRequest:
    """What a caller asked for: (ε, δ) or no DP, and where the spend is recorded."""

    epsilon: float | None = None
    delta: float | None = None
    ledger: PrivacyLedger | None = None
    dataset: str | None = None
    register: bool = False

    @property
    def dp(self) -> bool:
        return self.epsilon is not None


def privacy_request(
    epsilon: float | None = None,
    delta: float | None = None,
    ledger: PrivacyLedger | str | os.PathLike[str] | None = None,
    dataset: str | None = None,
    *,
    register: bool = False,
    family: str = "",
    supports_dp: bool = True,
) -> PrivacyRequest:
    """Validate a fit's privacy options without reading any data.

    Raises ConfigError naming the option: DP options without ``epsilon``, ``epsilon`` for a
    family with no DP form, ε ≤ 0, δ outside (0, 1), a ledger without a dataset name.
    """
    if epsilon is None:
        given = [n for n, v in (("delta", delta), ("ledger", ledger), ("dataset", dataset)) if v is not None]
        if given:
            raise ConfigError(
                f"{', '.join(given)} apply to differentially private fits only "
                f"(CLI: --{' --'.join(given)}); give epsilon as well (--epsilon), or drop them"
            )
        return PrivacyRequest()
    if not supports_dp:
        raise ConfigError(
            f"synthesizer {family!r} has no differentially private form; drop epsilon "
            "(--epsilon) or choose a DP synthesizer (mst, aim, privbayes, dpctgan, dptvae, pategan)"
        )
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
        raise ConfigError(f"epsilon must be a number > 0, got {epsilon!r} (--epsilon)")
    delta = DEFAULT_DELTA if delta is None else delta
    if isinstance(delta, bool) or not isinstance(delta, (int, float)):
        raise ConfigError(f"delta must be a number in (0, 1), got {delta!r} (--delta)")
    check_epsilon_delta(epsilon, delta)
    if epsilon < MIN_EPSILON:
        sigma = math.sqrt(1 / (2 * rho_from_epsilon_delta(epsilon, delta)))
        raise ConfigError(
            f"epsilon={epsilon:g} is below {MIN_EPSILON:g}: even one count given the whole budget "
            f"would get noise of standard deviation {sigma:.2g}, so the release would be noise "
            "that looks like data; raise epsilon (--epsilon)"
        )
    if ledger is not None:
        from lookalike.privacy.ledger import PrivacyLedger

        if isinstance(ledger, (str, os.PathLike)):
            ledger = PrivacyLedger(ledger)
        elif not isinstance(ledger, PrivacyLedger):
            raise ConfigError(
                f"ledger must be a PrivacyLedger or the path of its file, got {type(ledger).__name__}"
            )
        if not isinstance(dataset, str) or not dataset.strip():
            raise ConfigError(
                "a ledger needs the dataset's name: the budget is kept per dataset "
                "(dataset=..., CLI: --dataset)"
            )
    elif dataset is not None:
        raise ConfigError("dataset names a budget in a ledger: give ledger=... as well (CLI: --ledger)")
    return PrivacyRequest(float(epsilon), float(delta), ledger, dataset, bool(register))


# ---------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class BudgetPlan:
    """A DP fit's (ε, δ), the zCDP budget ρ that implies it, and its named sub-budgets.

    ``parts`` maps a sub-budget's name (``discover``, ``measure``, ``train`` ...) to its ρ; they
    add up to ``rho``. ``delta_discovery`` is the δ set aside for thresholded category
    discovery (approximate zCDP).
    """

    epsilon: float
    delta: float
    rho: float
    delta_discovery: float
    parts: tuple[tuple[str, float], ...]

    @classmethod
    def split(cls, epsilon: float, delta: float, **shares: float) -> BudgetPlan:
        """A plan giving each named part its share of ρ (shares add up to 1)."""
        rho, delta_disc = plan_budget(epsilon, delta)
        if not shares or any(s < 0 for s in shares.values()) or abs(sum(shares.values()) - 1) > 1e-9:
            raise ConfigError(f"budget shares must be >= 0 and add up to 1, got {shares}")
        return cls(float(epsilon), float(delta), rho, delta_disc,
                   tuple((k, rho * s) for k, s in shares.items()))

    def rho_of(self, part: str) -> float:
        """ρ of the named part (0 when the plan has no such part)."""
        return dict(self.parts).get(part, 0.0)

    @property
    def delta_rho(self) -> float:
        """δ at which the zCDP (or Rényi-DP) part is converted: δ − δ_discovery."""
        return self.delta - self.delta_discovery


# ---------------------------------------------------------------------- releases and report
@dataclass(frozen=True)
class ReleaseRecord:
    """One release of a fit: what, by which mechanism, its cost (ρ, δ or an RDP curve) in ε."""

    name: str
    mechanism: str
    rho: float = 0.0
    delta: float = 0.0
    rdp: tuple[float, ...] | None = None
    detail: str = ""
    epsilon: float | None = None
    """Its cost alone as ε at the fit's δ (less δ_discovery)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Mechanism settings (DP-SGD: noise multiplier, sample rate, steps)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "mechanism": self.mechanism, "rho": self.rho, "delta": self.delta,
               "detail": self.detail, "epsilon": self.epsilon}
        if self.rdp is not None:
            out["rdp"] = list(self.rdp)
        out.update(self.params)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReleaseRecord:
        known = {"name", "mechanism", "rho", "delta", "detail", "epsilon", "rdp"}
        rdp = d.get("rdp")
        return cls(str(d["name"]), str(d.get("mechanism", "")), float(d.get("rho") or 0.0),
                   float(d.get("delta") or 0.0), None if rdp is None else tuple(map(float, rdp)),
                   str(d.get("detail", "")), None if d.get("epsilon") is None else float(d["epsilon"]),
                   {k: v for k, v in d.items() if k not in known})


@dataclass(frozen=True)
class PrivacyReport:
    """What a fit guarantees and what it released: the typed record of its privacy.

    ``releases`` lists every release with its cost; ``discovery`` says per column how each
    fact of its domain was obtained (declared, or released under DP); ``declared`` lists the
    facts the user declared public. Stored in the model file and shown on the release sheet.
    """

    differentially_private: bool
    guarantee: str
    epsilon: float | None = None
    delta: float | None = None
    epsilon_spent: float | None = None
    rho_budget: float | None = None
    rho_spent: float | None = None
    delta_discovery: float | None = None
    delta_total: float | None = None
    """δ the releases use together at ``epsilon``: thresholded discovery's plus the zCDP/RDP part's."""
    releases: tuple[ReleaseRecord, ...] = ()
    discovery: Mapping[str, Any] = field(default_factory=dict)
    declared: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def none(cls, how: str) -> PrivacyReport:
        """The report of a fit without DP: no formal guarantee, saying how it read the data."""
        return cls(False, f"none: {how} without differential privacy (epsilon=None)")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"differentially_private": self.differentially_private,
                               "guarantee": self.guarantee,
                               "releases": [r.to_dict() for r in self.releases]}
        for key in ("epsilon", "delta", "epsilon_spent", "rho_budget", "rho_spent", "delta_discovery",
                    "delta_total"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.discovery:
            out["discovery"] = dict(self.discovery)
        if self.declared:
            out["declared_public"] = {k: list(v) for k, v in self.declared.items()}
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> PrivacyReport:
        if not d:
            return cls.none("fitted")
        def num(key: str) -> float | None:
            return None if d.get(key) is None else float(d[key])
        return cls(
            bool(d.get("differentially_private", False)), str(d.get("guarantee", "")),
            num("epsilon"), num("delta"), num("epsilon_spent"), num("rho_budget"), num("rho_spent"),
            num("delta_discovery"), num("delta_total"),
            tuple(ReleaseRecord.from_dict(r) for r in d.get("releases") or ()),
            dict(d.get("discovery") or {}),
            {k: tuple(v) for k, v in (d.get("declared_public") or {}).items()},
        )


# ---------------------------------------------------------------------- check, reserve, settle
def precheck(request: PrivacyRequest, plan: BudgetPlan | None) -> None:
    """Refuse, before any data is read, a DP fit that the dataset's budget cannot pay for."""
    if not request.dp or request.ledger is None or plan is None:
        return
    dataset = cast(str, request.dataset)  # privacy_request gives a ledger only with a dataset
    request.ledger.check(
        dataset, rho=plan.rho, delta_approx=plan.delta_discovery,
        register=(plan.epsilon, plan.delta) if request.register else None,
    )


class Budget:
    """The live budget of one DP fit: its plan, and the releases the family records through it.

    zCDP releases go through :meth:`spend` (refused past the plan's ρ); a release that is not
    zCDP (DP-SGD) through :meth:`record_rdp` once, its curve planned by the family within the
    plan's (ε, δ).
    """

    def __init__(self, plan: BudgetPlan) -> None:
        self.plan = plan
        self.releases: list[ReleaseRecord] = []
        #: (ledger path, dataset, entry id) of the reservation, set by :func:`reserve`
        self.entry: tuple[str, str, int] | None = None

    @property
    def spent(self) -> float:
        """ρ of the zCDP releases so far."""
        return sum(r.rho for r in self.releases)

    @property
    def remaining(self) -> float:
        return max(0.0, self.plan.rho - self.spent)

    def spend(self, name: str, rho: float, *, mechanism: str = "gaussian", detail: str = "",
              delta: float = 0.0) -> float:
        """Record a zCDP release of cost ``rho``; BudgetExceededError if it passes the plan."""
        if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho >= 0):
            raise ConfigError(f"rho must be a finite number >= 0, got {rho!r}")
        if rho > self.remaining * (1 + 1e-9) + 1e-15:
            raise BudgetExceededError(
                f"release {name!r} costs rho={rho:.6g} but only {self.remaining:.6g} of "
                f"{self.plan.rho:.6g} remains (spent {self.spent:.6g})"
            )
        eps = epsilon_from_rho(rho, self.plan.delta_rho) if rho > 0 else 0.0
        self.releases.append(ReleaseRecord(name, mechanism, float(rho), float(delta), None, detail, eps))
        return float(rho)

    def add(self, releases: Sequence[Release]) -> None:
        """Record releases made by a mechanism module (domain discovery, 1-way measurements)."""
        for r in releases:
            self.spend(r.name, r.rho, mechanism=r.mechanism, detail=r.detail, delta=r.delta)

    def record_rdp(self, name: str, curve: list[float], *, mechanism: str, detail: str = "",
                   params: Mapping[str, Any] | None = None) -> None:
        """Record a release given by its Rényi-DP curve on RDP_ORDERS (DP-SGD training)."""
        if len(curve) != len(RDP_ORDERS):
            raise ConfigError(f"an RDP curve lists {len(RDP_ORDERS)} values, got {len(curve)}")
        eps = epsilon_from_rdp(curve, self.plan.delta_rho)
        self.releases.append(ReleaseRecord(name, mechanism, 0.0, 0.0, tuple(map(float, curve)), detail,
                                           eps, dict(params or {})))

    def curve(self) -> list[float] | None:
        """The fit's total RDP curve (zCDP releases as ρα), or None when every release is zCDP."""
        if not any(r.rdp is not None for r in self.releases):
            return None
        total = [self.spent * a for a in RDP_ORDERS]
        for r in self.releases:
            if r.rdp is not None:
                total = [t + v for t, v in zip(total, r.rdp, strict=True)]
        return total

    def epsilon_spent(self) -> float:
        curve = self.curve()
        if curve is not None:
            return epsilon_from_rdp(curve, self.plan.delta_rho)
        return epsilon_from_rho(self.spent, self.plan.delta_rho) if self.spent > 0 else 0.0

    def report(self, *, accounting: str, discovery: Mapping[str, Any],
               declared: Mapping[str, tuple[str, ...]]) -> PrivacyReport:
        p = self.plan
        d_disc = sum(r.delta for r in self.releases)
        curve = self.curve()
        d_rest = (delta_from_rdp(curve, p.epsilon) if curve is not None
                  else delta_from_rho(self.spent, p.epsilon) if self.spent > 0 else 0.0)
        return PrivacyReport(
            True, f"({p.epsilon:g}, {p.delta:g})-differential privacy ({accounting})",
            p.epsilon, p.delta, self.epsilon_spent(), p.rho, self.spent,
            d_disc, d_disc + d_rest, tuple(self.releases), dict(discovery),
            {k: tuple(v) for k, v in declared.items() if v},
        )


@contextlib.contextmanager
def reserve(request: PrivacyRequest, plan: BudgetPlan | None, *, mechanism: str,
            fingerprint: Callable[[], DataFingerprint | None] | None = None) -> Iterator[Budget | None]:
    """Charge ``plan`` to the request's ledger, yield the fit's :class:`Budget`, settle after.

    Yields None for a non-DP fit. The charge is reserved atomically (the dataset registered
    only now, when the request asks for it); ``fingerprint()`` (called once, after the data is
    open) lets the ledger recognise the data under another name. On success the entry is
    settled to the releases made; on failure it stays charged and is marked failed.
    """
    if not request.dp or plan is None:
        yield None
        return
    budget = Budget(plan)
    ledger = request.ledger
    if ledger is None:
        if getattr(_silence, "depth", 0) == 0:
            warnings.warn(
                f"this epsilon={plan.epsilon:g} fit is recorded in no privacy ledger: nothing stops "
                "the same data being spent again. Pass ledger=... and dataset=... (the CLI always "
                "records DP fits)", UnrecordedSpendWarning, stacklevel=5,
            )
        yield budget
        return
    dataset = cast(str, request.dataset)  # privacy_request gives a ledger only with a dataset
    entry = ledger.reserve(
        dataset, rho=plan.rho, delta_approx=plan.delta_discovery, mechanism=mechanism,
        epsilon=plan.epsilon, delta=plan.delta, detail=f"{mechanism} fit",
        fingerprint=fingerprint() if fingerprint is not None else None, register=request.register,
    )
    budget.entry = (str(ledger.path), dataset, entry.id)
    try:
        yield budget
    except BaseException as e:
        reason = f"failed: {type(e).__name__}: {e}"[:300]
        with contextlib.suppress(Exception):
            ledger.settle(entry.id, steps=[r.to_dict() for r in budget.releases], status=reason)
        raise
    curve = budget.curve()
    ledger.settle(
        entry.id, rho=budget.spent if curve is None else 0.0, rdp=curve,
        steps=[{k: v for k, v in r.to_dict().items() if k != "rdp"} for r in budget.releases],
    )
