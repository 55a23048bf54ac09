"""A privacy risk level from an audit's results, with the reasons it rests on: the first
sentence of the audit's verdict and the report's risk tile.

**Privacy risk level** (:func:`privacy_risk`): ``low``, ``moderate``, ``high`` or ``not
assessed``, from an audit's results, with the reasons it rests on. Each reason grades one kind
of evidence; the level is the worst grade, so no single reassuring number can hide another:

- *copies*: the share of synthetic rows equal to a training row. It is above chance when the
  synthetic rows match a sample of the training rows (as large as the holdout) more often than
  they match the holdout: the lower end of the first rate's 95% interval is above the second
  rate. Copies above chance make the level at least moderate; 5% of synthetic rows or more
  copying training rows beyond chance make it high.
- *empirical ε*: the largest lower bound on ε (95% confidence) that a membership attack proves.
  Below 1 it is low; from 1 (an attacker's true-positive rate e ≈ 2.7 times its false-positive
  rate somewhere) moderate; from 3 (20 times) high. A bound above the ε the release claims is
  high whatever its size: the release does not deliver its guarantee.
- *membership AUC*: the best membership attack's ROC AUC, graded as the audit does
  (:func:`lookalike.audit.verdict.grade_auc`: shown only when its interval is above 0.5; low
  below 0.6, moderate below 0.75, high from there).
- the other attacks (attribute inference, singling out, linkability) count when they show a
  moderate or high risk (:func:`lookalike.audit.verdict.grade_risk`).

Without an audit, or without a holdout (the attacks need real rows the synthesizer never saw),
the level is ``not assessed``: never low. These are rules of thumb on evidence, not a
guarantee; only differential privacy gives one.

>>> privacy_risk(None)["level"]
'not assessed'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lookalike import _format
from lookalike.audit.verdict import grade_auc, grade_risk

__all__ = ["COPIES_HIGH", "EPSILON", "LEVELS", "NOT_ASSESSED", "privacy_risk"]

LEVELS = ("low", "low", "moderate", "high")
"""Level by grade: 0 (nothing shown) and 1 read "low"."""
NOT_ASSESSED = "not assessed"
COPIES_HIGH = 0.05
"""Share of synthetic rows copying training rows beyond chance that makes the level high."""
EPSILON = (1.0, 3.0)
"""Empirical ε lower bound: moderate from the first, high from the second."""


def _num(v: Any) -> float | None:
    return float(v) if _format.is_number(v) else None


def _rate(entry: Any) -> tuple[float | None, tuple[float, float] | None]:
    if not isinstance(entry, Mapping):
        return None, None
    ci = entry.get("ci")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_format.is_number(c) for c in ci):
        return _num(entry.get("value")), (float(ci[0]), float(ci[1]))
    return _num(entry.get("value")), None


def _copies(similarity: Mapping) -> dict | None:
    exact, _ = _rate(similarity.get("exact_match"))
    if exact is None:
        return None
    hold, _ = _rate(similarity.get("exact_match_holdout"))
    equal, equal_ci = _rate(similarity.get("exact_match_train_equal"))
    text = f"{_format.share(exact)} of synthetic rows copy a training row exactly"
    if hold is None or equal is None or equal_ci is None:
        grade = None  # no baseline: chance cannot be ruled out, so it is never "low" evidence
        text += "; without a holdout, chance cannot be ruled out"
    else:
        above = equal_ci[0] > hold
        excess = max(0.0, equal - hold)
        grade = 0 if not above else (3 if excess >= COPIES_HIGH else 2)
        text += (
            f"; {_format.share(equal)} match a sample of training rows as large as the holdout "
            f"against {_format.share(hold)} for the holdout: "
            + ("more than chance" if above else "no more than chance")
        )
    return {"name": "copies", "label": "copies of training rows", "value": _format.share(exact),
            "grade": grade, "text": text + "."}


def _epsilon(audit: Mapping) -> dict | None:
    bounds: list[tuple[float, str]] = []
    membership = audit.get("membership") or {}
    for key in ("distance", "density"):
        eps = _num(((membership.get(key) or {}).get("epsilon") or {}).get("epsilon"))
        if eps is not None:
            bounds.append((eps, f"membership inference ({key})"))
    for t in (audit.get("shadow") or {}).get("targets") or []:
        eps = _num((t.get("epsilon") or {}).get("epsilon"))
        if eps is not None:
            bounds.append((eps, f"shadow-model attack, row {t.get('row')}"))
    if not bounds:
        return None
    eps, source = max(bounds)
    claimed = _num((audit.get("meta") or {}).get("epsilon_claimed"))
    grade = 0 if eps <= 0 else 1 if eps < EPSILON[0] else 2 if eps < EPSILON[1] else 3
    text = f"the {source} proves ε ≥ {_format.fixed(eps, 2)} at 95% confidence"
    if claimed is not None and eps > claimed:
        grade = 3
        text += (f", above the claimed ε = {_format.privacy_parameter(claimed)}: the release does "
                 "not deliver its guarantee")
    elif claimed is not None:
        text += f", within the claimed ε = {_format.privacy_parameter(claimed)}"
    return {"name": "epsilon", "label": "empirical ε (lower bound)",
            "value": f"ε ≥ {_format.fixed(eps, 2)}", "grade": grade, "text": text + "."}


def _membership(audit: Mapping) -> dict | None:
    membership = audit.get("membership") or {}
    best = None
    for key in ("distance", "density"):
        a = membership.get(key) or {}
        auc = _num(a.get("auc"))
        if auc is not None and (best is None or auc > best[0]):
            best = (auc, key, a.get("auc_ci"))
    if best is None:
        return None
    auc, key, ci = best
    ci = tuple(ci) if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
    grade = grade_auc(auc, ci)  # type: ignore[arg-type]
    text = (f"the {key} membership attack reaches ROC AUC {_format.fixed(auc)} "
            f"{_format.interval(ci)} (0.5 is chance)")
    return {"name": "membership", "label": "membership attack AUC", "value": _format.fixed(auc),
            "grade": grade, "text": text + "."}


def _others(audit: Mapping) -> list[dict]:
    found = []
    attacks = [(f"attribute inference of {a.get('secret')!r}", a.get("risk"))
               for a in audit.get("attribute") or []]
    attacks += [("singling out", (audit.get("singling_out") or {}).get("risk")),
                ("linkability", (audit.get("linkability") or {}).get("risk"))]
    for name, risk in attacks:
        value, ci = _rate(risk)
        g = grade_risk(value, ci) if value is not None else 0
        if g >= 2:
            found.append({"name": name, "label": name, "value": _format.fixed(value, 2), "grade": g,
                          "text": f"{name}: risk {_format.fixed(value, 2)} {_format.interval(ci, 2)}."})
    return found


def privacy_risk(audit: Mapping | None) -> dict:
    """``{"level", "reasons": [{"name", "label", "value", "grade", "text"}], "sentence"}``.

    ``audit`` is the dict of :meth:`AuditResult.to_dict`, or None. See the module docstring.
    """
    if not audit:
        return {"level": NOT_ASSESSED, "reasons": [],
                "sentence": "Privacy risk not assessed: no privacy attacks were run "
                            "(run `lookalike audit` with a holdout)."}
    reasons = [r for r in (_copies(audit.get("similarity") or {}), _epsilon(audit),
                           _membership(audit)) if r is not None]
    reasons += _others(audit)
    attacked = bool(audit.get("membership"))
    if not attacked:
        level = NOT_ASSESSED
        why = ("no holdout was given, so no attack could run (they need real rows the "
               "synthesizer never saw)")
    else:
        worst = max((r["grade"] for r in reasons if r["grade"] is not None), default=0)
        level = LEVELS[worst]
        raising = [r for r in reasons if r["grade"] is not None and r["grade"] == worst and worst >= 2]
        if raising:
            why = "; ".join(r["text"].rstrip(".") for r in raising)
        else:
            why = ("no attack showed more than a low risk ("
                   + ", ".join(f"{r['label']} {r['value']}" for r in reasons)
                   + "); this is evidence, not a guarantee")
    sentence = (f"Privacy risk {level}: {why}." if level != NOT_ASSESSED
                else f"Privacy risk not assessed: {why}.")
    return {"level": level, "reasons": reasons, "sentence": sentence}
