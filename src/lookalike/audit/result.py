"""What an audit returns: every attack's result, the claim check and the verdict, as values.

:class:`AuditResult` holds its verdict sentences, computed once by the function that builds it
(:func:`lookalike.audit.api.build_result`, from :mod:`lookalike.audit.verdict`); this module
imports neither, so the verdict depends on result types and never the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lookalike._json import JsonMixin as _Json
from lookalike._json import plain
from lookalike.audit.attribute import AttributeInference
from lookalike.audit.linkability import Linkability
from lookalike.audit.membership import Membership
from lookalike.audit.similarity import Similarity
from lookalike.audit.singling_out import SinglingOut

__all__ = ["AuditMeta", "AuditResult", "ExposedRecord", "TargetReport", "claim_checks"]


@dataclass(frozen=True)
class ExposedRecord(_Json):
    """A training row that stands out to the membership attacks: row number and scores only.

    ``distance`` and ``density`` are the shares of holdout records the row outscores in each
    attack (1: it looks more like a member than every non-member does).
    """

    row: int
    distance: float
    density: float


@dataclass(frozen=True)
class TargetReport(_Json):
    """Everything the audit measured about one target row (row numbers and scores, never values)."""

    row: int
    reason: str
    exposure: float | None
    distance: float | None
    density: float | None
    secrets_inferred: Mapping[str, bool] = field(default_factory=dict)
    secrets_inferred_reference: Mapping[str, bool] = field(default_factory=dict)
    shadow_auc: float | None = None
    shadow_auc_ci: tuple[float, float] | None = None
    shadow_epsilon: float | None = None


@dataclass(frozen=True)
class AuditMeta(_Json):
    """What was audited: sizes, seed, time taken per attack, excluded columns, notes."""

    n_real: int
    n_synthetic: int
    n_holdout: int | None
    seed: int
    seconds: float
    timings: Mapping[str, float]
    lookalike_version: str
    secret: str | None = None
    quasi_identifiers: tuple[str, ...] | None = None
    excluded_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: the (ε, δ) the model claims (its DP fit), None for a model without a DP guarantee
    epsilon_claimed: float | None = None
    delta_claimed: float | None = None


def claim_checks(claimed: float | None, membership: Membership | None, shadow: Any) -> list[dict]:
    """Each membership attack's empirical ε lower bound beside ``claimed`` (empty without a claim).

    ``violation`` is True where the bound exceeds the claim. The shadow-model bound comes from
    independent fits, the textbook audit (``kind`` "audit"); the untargeted ones from one
    fitted model, whose records are not independent trials, so theirs is ``indicative``
    (Steinke, Nasr, Jagielski 2023 give the one-run analysis; their bound is lower).

    >>> claim_checks(None, None, None)  # no claim: nothing to check
    []
    """
    if claimed is None:
        return []
    rows = []
    if membership is not None:
        for a in (membership.distance, membership.density):
            rows.append({"attack": f"membership inference ({a.name})", "kind": "indicative",
                         "empirical_epsilon": a.epsilon.epsilon})
    if shadow is not None:
        for t in shadow.targets:
            rows.append({"attack": f"shadow-model membership, row {t.row}", "kind": "audit",
                         "empirical_epsilon": t.epsilon.epsilon})
    for r in rows:
        r["claimed_epsilon"] = claimed
        r["violation"] = bool(r["empirical_epsilon"] > claimed)
    return plain(rows)


@dataclass(frozen=True)
class AuditResult(_Json):
    """Every attack's result; ``summary()`` for the report's first screen, ``verdict()`` in words.

    Parts that need a holdout (membership, attribute inference, singling out, linkability) are
    None or empty without one; ``shadow`` is None unless the shadow-model attack ran.
    ``verdict_sentences`` were computed from the other fields when the result was built.
    """

    meta: AuditMeta
    similarity: Similarity
    membership: Membership | None
    attribute: tuple[AttributeInference, ...]
    singling_out: SinglingOut | None
    linkability: Linkability | None
    targets: tuple[TargetReport, ...]
    most_exposed: tuple[ExposedRecord, ...]
    verdict_sentences: tuple[str, ...]
    shadow: Any = None  # lookalike.audit.shadow.ShadowResult

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.pop("verdict_sentences")
        out["summary"] = self.summary()
        out["dp_check"] = self.dp_check()
        out["verdict"] = self.verdict()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def verdict(self) -> list[str]:
        """Plain-language sentences, the overall level first (:mod:`lookalike.audit.verdict`)."""
        return list(self.verdict_sentences)

    def dp_check(self) -> list[dict]:
        """Each attack's empirical ε lower bound beside the claimed ε (see :func:`claim_checks`)."""
        return claim_checks(self.meta.epsilon_claimed, self.membership, self.shadow)

    def summary(self) -> list[dict]:
        """One row per attack: ``{"attack", "metric", "value", "ci"}``, strongest evidence first."""
        rows: list[dict] = []

        def add(attack: str, metric: str, value: Any, ci: Any) -> None:
            rows.append(plain({"attack": attack, "metric": metric, "value": value, "ci": ci}))

        if self.membership is not None:
            for a in (self.membership.distance, self.membership.density):
                add(f"membership inference ({a.name})", "ROC AUC", a.auc, a.auc_ci)
        if self.shadow is not None:
            add("shadow-model membership", f"mean AUC, {len(self.shadow.targets)} targets",
                self.shadow.mean_auc, self.shadow.mean_auc_ci)
        if self.attribute:
            worst = max(self.attribute, key=lambda a: a.risk.value if a.risk.value == a.risk.value else -1)
            add("attribute inference", f"risk, {worst.secret}", worst.risk.value, worst.risk.ci)
        if self.singling_out is not None:
            add("singling out", "risk", self.singling_out.risk.value, self.singling_out.risk.ci)
        if self.linkability is not None:
            add("linkability", "risk", self.linkability.risk.value, self.linkability.risk.ci)
        s = self.similarity
        add("exact matches (similarity)", "share of synthetic rows", s.exact_match.value, s.exact_match.ci)
        if s.closer_to_train is not None:
            add("distance to closest record (similarity)", "share closer to training",
                s.closer_to_train.value, s.closer_to_train.ci)
        return rows
