"""The report's overall score; its privacy risk level is :func:`lookalike.audit.risk.privacy_risk`.

**Overall score** (:func:`overall_score`): 0–100, how closely the synthetic table matches the
real one on the measures the evaluation took, each put on a 0–1 scale where 1 is "as the real
data" and 0 "as different as the measure allows":

- fidelity: 1 − mean 2-way TVD (1-way if no pairs were measured);
- detection: 1 − 2 × |AUC − 0.5| (a classifier at chance gives 1; one that always separates the
  tables, right or systematically wrong, gives 0);
- utility: the mean TSTR/TRTR ratio, capped at 1 (models trained on synthetic rows as good as
  those trained on real rows give 1);
- queries: 1 − median relative error of the counting queries, floored at 0.

The score is 100 × the plain mean of the parts measured: equal weights, because no part is
known to matter more for a use nobody has named; the parts are listed beside it. It says
nothing about privacy (that is the risk level's job) and it is no substitute for the parts.

>>> privacy_risk(None)["level"]
'not assessed'
>>> overall_score({"fidelity_2way_tvd": 0.1, "detection_auc": 0.7})["score"]
75
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lookalike import _format
from lookalike.audit.risk import LEVELS, NOT_ASSESSED, privacy_risk

__all__ = ["LEVELS", "NOT_ASSESSED", "overall_score", "privacy_risk", "score_parts"]


def _num(v: Any) -> float | None:
    return float(v) if _format.is_number(v) else None


def score_parts(head: Mapping) -> list[dict]:
    """The parts of the overall score: ``{"name", "measure", "value", "part"}`` (part in [0, 1])."""
    parts = []
    tvd = _num(head.get("fidelity_2way_tvd"))
    one = _num(head.get("fidelity_1way_tvd"))
    if tvd is not None:
        parts.append(("fidelity", "1 − mean 2-way TVD", _format.fixed(tvd), 1 - tvd))
    elif one is not None:
        parts.append(("fidelity", "1 − mean 1-way TVD", _format.fixed(one), 1 - one))
    auc = _num(head.get("detection_auc"))
    if auc is not None:
        parts.append(("detection", "1 − 2 × |AUC − 0.5|", f"AUC {_format.fixed(auc)}",
                      1 - 2 * abs(auc - 0.5)))
    ratio = _num(head.get("utility_ratio"))
    if ratio is not None:
        parts.append(("utility", "TSTR/TRTR ratio, capped at 1", _format.fixed(ratio, 2), ratio))
    q = _num(head.get("median_query_error"))
    if q is not None:
        parts.append(("queries", "1 − median relative error", _format.share(q), 1 - q))
    return [{"name": n, "measure": m, "value": v, "part": min(1.0, max(0.0, p))}
            for n, m, v, p in parts]


def overall_score(head: Mapping) -> dict:
    """``{"score": int 0–100 or None, "parts": score_parts(head)}`` (module docstring)."""
    parts = score_parts(head)
    if not parts:
        return {"score": None, "parts": []}
    mean = sum(p["part"] for p in parts) / len(parts)
    return {"score": int(round(100 * mean)), "parts": parts}
