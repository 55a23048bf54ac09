"""Plain-language sentences on an audit, from stated thresholds.

The thresholds are rules of thumb, not tests; each sentence carries the number and interval it
rests on. A risk counts as *shown* only when its 95% interval excludes no risk (its lower end
is above 0; for an AUC, above 0.5): otherwise the attack found nothing it could tell from
chance, which is evidence about this attack, never a guarantee.

>>> grade_auc(0.52, (0.49, 0.55)), grade_auc(0.58, (0.57, 0.59)), grade_auc(0.9, (0.88, 0.92))
(0, 1, 3)
>>> grade_risk(0.05, (0.0, 0.1)), grade_risk(0.2, (0.1, 0.3)), grade_risk(0.6, (0.5, 0.7))
(0, 2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lookalike.audit.result import AuditMeta, claim_checks

if TYPE_CHECKING:
    from lookalike.audit.attribute import AttributeInference
    from lookalike.audit.linkability import Linkability
    from lookalike.audit.membership import Membership
    from lookalike.audit.similarity import Similarity
    from lookalike.audit.singling_out import SinglingOut

__all__ = ["LEVELS", "grade_auc", "grade_risk", "sentences"]

LEVELS = ("none shown", "low", "moderate", "high")
AUC = (0.6, 0.75)  # membership AUC: low below the first, moderate below the second, else high
RISK = (0.1, 0.3)  # Anonymeter-style risk in [0, 1]: same reading


def grade_auc(auc: float | None, ci: tuple[float, float] | None) -> int:
    """0 none shown, 1 low, 2 moderate, 3 high: a membership AUC against chance (0.5)."""
    if auc is None or ci is None or ci[0] is None or not ci[0] > 0.5:
        return 0
    return 1 if auc < AUC[0] else 2 if auc < AUC[1] else 3


def grade_risk(value: float | None, ci: tuple[float, float] | None) -> int:
    """0 none shown, 1 low, 2 moderate, 3 high: a risk in [0, 1] whose interval is above 0."""
    if value is None or ci is None or ci[0] is None or not ci[0] > 0 or value != value:
        return 0
    return 1 if value < RISK[0] else 2 if value < RISK[1] else 3


def _level(g: int) -> str:
    return "no risk shown, risk" if g == 0 else f"{LEVELS[g]} risk"


def _ci(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def sentences(
    *,
    meta: AuditMeta,
    similarity: Similarity,
    membership: Membership | None,
    attribute: Sequence[AttributeInference],
    singling_out: SinglingOut | None,
    linkability: Linkability | None,
    shadow: Any = None,
) -> tuple[str, ...]:
    """Short sentences on each attack's result, the overall level first.

    Called once per audit by :func:`lookalike.audit.api.build_result`, which stores them on the
    :class:`~lookalike.audit.result.AuditResult` (``verdict()`` returns them).
    """
    parts: list[tuple[int, str]] = []
    m = membership
    if m is not None:
        best = max((m.distance, m.density), key=lambda a: a.auc)
        g = grade_auc(best.auc, best.auc_ci)
        words = (
            "cannot tell training records from other real records better than chance",
            "tells training records from others slightly better than chance",
            "tells training records from others clearly better than chance",
            "tells training records from others easily",
        )[g]
        parts.append((g, f"Membership inference ({best.name} attack): an attacker with the synthetic "
                         f"data {words} (ROC AUC {best.auc:.3f} {_ci(best.auc_ci)}; TPR "
                         f"{best.tpr_at_1pct:.1%} at 1% FPR; empirical ε ≥ {best.epsilon.epsilon:.2f})."))
    if attribute:
        worst = max(attribute, key=lambda a: (a.risk.value if a.risk.value == a.risk.value else -1))
        g = grade_risk(worst.risk.value, worst.risk.ci)
        qis = meta.quasi_identifiers
        known = "the other columns" if qis is None else ", ".join(qis)
        if g == 0:
            text = (f"Attribute inference: knowing {known}, the synthetic data reveals no secret "
                    f"beyond what the other real records reveal (largest risk "
                    f"{worst.risk.value:.2f} {_ci(worst.risk.ci)}, for {worst.secret!r}).")
        else:
            text = (f"Attribute inference: knowing {known}, the synthetic data reveals "
                    f"{worst.secret!r} of training records beyond what the other real records "
                    f"reveal ({LEVELS[g]} risk {worst.risk.value:.2f} {_ci(worst.risk.ci)}; guessed "
                    f"right {worst.attack.value:.0%} of the time against {worst.reference.value:.0%}).")
        parts.append((g, text))
    so = singling_out
    if so is not None and so.n_queries:
        g = grade_risk(so.risk.value, so.risk.ci)
        parts.append((g, f"Singling out: {_level(g)} {so.risk.value:.2f} {_ci(so.risk.ci)} "
                         f"({so.attack.value:.0%} of {so.n_queries} predicates read off the synthetic "
                         f"data isolate one training record, {so.control.value:.0%} one holdout record)."))
    lk = linkability
    if lk is not None:
        g = grade_risk(lk.risk.value, lk.risk.ci)
        parts.append((g, f"Linkability: {_level(g)} {lk.risk.value:.2f} {_ci(lk.risk.ci)} "
                         f"({lk.attack.value:.0%} of training records linked through one synthetic "
                         f"row, {lk.control.value:.0%} of holdout records)."))
    sh = shadow
    if sh is not None and sh.targets:
        g = grade_auc(sh.mean_auc, sh.mean_auc_ci)
        worst_t = max(sh.targets, key=lambda t: t.auc)
        parts.append((g, f"Shadow-model attack on {len(sh.targets)} exposed records "
                         f"({sh.n_fits} fits each way): mean AUC {sh.mean_auc:.3f} {_ci(sh.mean_auc_ci)}; "
                         f"most exposed row {worst_t.row} at AUC {worst_t.auc:.3f}, "
                         f"empirical ε ≥ {worst_t.epsilon.epsilon:.2f}."))
    s = similarity
    sim = (f"Similarity (not a guarantee): {s.exact_match.value:.1%} of synthetic rows copy a "
           f"training row exactly")
    if s.exact_match_holdout is not None:
        sim += f" ({s.exact_match_holdout.value:.1%} match a holdout row)"
    if s.closer_to_train is not None:
        sim += (f"; {s.closer_to_train.value:.1%} are closer to a training row than to a holdout row "
                f"(about {s.closer_expected:.1%} expected without copying)")
    sim += "."
    level = max((g for g, _ in parts), default=0)
    if not parts:
        head = ("Only similarity was measured (no holdout was given): the attacks need real "
                "rows the synthesizer never saw.")
    else:
        head = (
            "No attack showed a privacy risk beyond chance; this is evidence, not a guarantee.",
            "The attacks show a low privacy risk.",
            "The attacks show a moderate privacy risk.",
            "The attacks show a high privacy risk: the synthetic data reveals facts about "
            "individual training records.",
        )[level]
    tail = []
    checks = claim_checks(meta.epsilon_claimed, membership, shadow)
    if checks:
        claimed = meta.epsilon_claimed
        broken = [c for c in checks if c["violation"]]
        strongest = max(checks, key=lambda c: c["empirical_epsilon"])
        if broken:
            worst = max(broken, key=lambda c: c["empirical_epsilon"])
            certain = any(c["kind"] == "audit" for c in broken)
            head = (("DP VIOLATION: " if certain else "Possible DP violation: ")
                    + f"{worst['attack']} proves ε ≥ {worst['empirical_epsilon']:.2f} at 95% "
                    f"confidence, above the claimed ε = {claimed:g}"
                    + ("." if certain else " (one fitted model, an indicative bound).")
                    + " The release does not deliver its guarantee: check the fit for a bug or"
                    " for rows that are not independent (one person in several rows).")
        else:
            tail.append(f"Claimed ε = {claimed:g}: no attack proves more (strongest empirical "
                        f"lower bound {strongest['empirical_epsilon']:.2f}, {strongest['attack']}).")
    if parts and sh is None:
        tail.append("These attacks score all records at once, while the risk sits with a few "
                    "exposed ones: the shadow-model attack (--shadow N, or shadow=N) measures "
                    "those one by one.")
    return (head, *(t for _, t in parts), sim, *tail)
