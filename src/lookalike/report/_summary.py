"""Headline numbers, the plain-language verdict, and the privacy statement of a report.

Pure functions of the evaluation (and privacy) dicts. Thresholds for the words "close",
"roughly", "far" are rules of thumb stated next to each number, not statistical tests.
Every number is written by :mod:`lookalike._format`. The privacy risk level and the overall
score come from :mod:`lookalike.report._risk`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lookalike import _format
from lookalike.errors import ConfigError
from lookalike.report import _risk
from lookalike.report._privacy import privacy_dict

__all__ = [
    "CONFIDENTIAL",
    "NO_GUARANTEE",
    "confidential_notice",
    "headline",
    "normalise_privacy",
    "privacy_statement",
    "verdict",
    "with_audit",
]

NO_GUARANTEE = (
    "No formal privacy guarantee: this model was fitted without differential privacy."
)
CONFIDENTIAL = (
    "Private report: it holds statistics of the real rows (row counts, histograms, extreme "
    "values, comparisons with the synthetic data). Keep it as private as the data itself."
)
SHARE_INSTEAD = "To describe the release to others, share its release sheet instead."
NO_ATTACKS = "No privacy attacks were run on this release; run `lookalike audit`."

# (upper bound, tone, words): the first row whose bound the value does not exceed wins
_FIDELITY = ((0.05, "good", "close to"), (0.15, "fair", "roughly like"), (math.inf, "poor", "far from"))
# detection is graded on |AUC - 0.5|: a classifier that is systematically wrong (AUC far
# below 0.5) tells the tables apart as surely as one that is right
_DETECTION = (
    (0.1, "good", "can barely tell synthetic rows from real ones"),
    (0.3, "fair", "can partly tell synthetic rows from real ones"),
    (math.inf, "poor", "easily tells synthetic rows from real ones"),
)
_QUERIES = ((0.05, "good", "accurately"), (0.2, "fair", "roughly"), (math.inf, "poor", "poorly"))
# utility is better when larger: bounds are lower bounds, checked from the top
_UTILITY = (
    (0.95, "good", "about as well as"),
    (0.8, "fair", "somewhat worse than"),
    (-math.inf, "poor", "much worse than"),
)


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _grade(value: float, table: tuple) -> tuple[str, str]:
    for bound, tone, words in table:
        if value <= bound:
            return tone, words
    return table[-1][1], table[-1][2]


def _grade_up(value: float, table: tuple) -> tuple[str, str]:
    for bound, tone, words in table:
        if value >= bound:
            return tone, words
    return table[-1][1], table[-1][2]


def _pick(*values: Any) -> float | None:
    for v in values:
        if finite(v):
            return float(v)
    return None


def fmt_eps(value: float | None) -> str:
    """Privacy parameters for people: ``1``, ``0.5``, ``1e-6``."""
    return _format.privacy_parameter(value)


def detection_words(auc: float) -> tuple[str, str]:
    """(tone, words) for a detection AUC, graded on its distance from 0.5 in either direction.

    >>> detection_words(0.27)[1]
    'can partly tell synthetic rows from real ones, but gets them the wrong way round more often than not (AUC below 0.5: it still tells them apart, often because real rows were copied into the synthetic table)'
    """
    tone, words = _grade(abs(auc - 0.5), _DETECTION)
    if auc < 0.5 - _DETECTION[0][0]:
        words += (", but gets them the wrong way round more often than not (AUC below 0.5: it "
                  "still tells them apart, often because real rows were copied into the "
                  "synthetic table)")
    return tone, words


def normalise_privacy(privacy: Mapping | None, model: Any = None) -> dict:
    """Check ``privacy`` and return it as ``{"epsilon", "delta", "releases", "attacks"}``.

    A privacy budget for a model that has no DP form is refused: the report would claim a
    guarantee the model cannot give.
    """
    if privacy is None:
        privacy = {}
    elif not isinstance(privacy, Mapping):
        raise ConfigError(
            "privacy must be a dict with 'epsilon', 'delta', 'releases' and/or 'attacks', "
            f"got {type(privacy).__name__}"
        )
    epsilon, delta = privacy.get("epsilon"), privacy.get("delta")
    releases = privacy.get("releases")
    fitted = privacy_dict(getattr(model, "privacy_", None))
    if epsilon is None and fitted.get("differentially_private"):
        epsilon, delta = fitted["epsilon"], fitted["delta"]
        releases = releases if releases is not None else fitted.get("releases")
    if epsilon is not None and (not finite(epsilon) or epsilon <= 0):
        raise ConfigError(f"privacy epsilon must be a positive number, got {epsilon!r}")
    if delta is not None and (not finite(delta) or not 0 <= delta < 1):
        raise ConfigError(f"privacy delta must be a number in [0, 1), got {delta!r}")
    if delta is not None and epsilon is None:
        raise ConfigError(f"privacy gives delta={delta!r} without epsilon; give both or neither")
    if epsilon is not None and model is not None and not getattr(model, "supports_dp", False):
        raise ConfigError(
            f"privacy gives epsilon={epsilon!r} but synthesizer {getattr(model, 'name', '?')!r} "
            "has no differentially private form; a report cannot claim a guarantee for it"
        )
    releases = [] if releases is None else list(releases)
    for i, row in enumerate(releases):
        if not isinstance(row, Mapping):
            raise ConfigError(f"privacy releases[{i}] must be a dict (a ledger row), got {row!r}")
    attacks = privacy.get("attacks")
    if attacks is not None and not isinstance(attacks, Mapping):
        raise ConfigError(f"privacy attacks must be a dict with a 'summary' list, got {attacks!r}")
    return {
        "guarantee": "differential privacy" if epsilon is not None else None,
        "epsilon": None if epsilon is None else float(epsilon),
        "delta": None if delta is None else float(delta),
        "releases": [dict(r) for r in releases],
        "attacks": None if attacks is None else dict(attacks),
        # how the fit spent its budget: discovery per column, what was declared public
        "fit": {k: fitted[k] for k in ("rho_budget", "rho_spent", "epsilon_spent", "delta_total",
                                       "discovery", "declared_public") if k in fitted},
    }


def with_audit(privacy: Mapping | None, audit: Mapping) -> dict:
    """``privacy`` with an audit's summary rows, verdict and details under ``"attacks"``."""
    out = dict(privacy or {})
    attacks = dict(out.get("attacks") or {})
    attacks["summary"] = list(audit.get("summary") or []) + list(attacks.get("summary") or [])
    attacks["verdict"] = list(audit.get("verdict") or [])
    attacks["audit"] = dict(audit)
    out["attacks"] = attacks
    return out


def confidential_notice(privacy: Mapping) -> str:
    """What the first screen of every private report says first: keep it private."""
    return CONFIDENTIAL if privacy.get("epsilon") is None else f"{CONFIDENTIAL} {SHARE_INSTEAD}"


def privacy_statement(privacy: Mapping) -> str:
    """The guarantee of the synthetic data and model, or plainly that there is none.

    Never a guarantee for the report itself: a report compares with the real rows.
    """
    if privacy.get("epsilon") is None:
        return NO_GUARANTEE
    eps, delta = fmt_eps(privacy["epsilon"]), fmt_eps(privacy.get("delta") or 0.0)
    return (
        f"The synthetic data and model satisfy (ε = {eps}, δ = {delta})-differential privacy. "
        "This report does not: it compares them with the real rows."
    )


def attack_rows(privacy: Mapping) -> list[dict]:
    """The attacks' summary rows ({"attack", "metric", "value", "ci"}), or []."""
    attacks = privacy.get("attacks") or {}
    rows = attacks.get("summary") or []
    return [dict(r) for r in rows if isinstance(r, Mapping)]


def headline(evaluation: Mapping, privacy: Mapping) -> dict:
    """The numbers on the first screen, read from the evaluation's sections."""
    given = evaluation.get("headline") or {}
    fidelity = evaluation.get("fidelity") or {}
    marginals = fidelity.get("marginals") or {}
    associations = fidelity.get("associations") or {}
    utility = evaluation.get("utility") or {}
    detection = evaluation.get("detection") or {}
    queries = evaluation.get("queries") or {}
    ratios = {str(k): float(v) for k, v in (utility.get("ratios") or {}).items() if finite(v)}
    risk = attack_rows(privacy)
    return {
        "fidelity_2way_tvd": _pick(
            marginals.get("2way"), given.get("fidelity_2way_tvd"), given.get("tvd_2way")
        ),
        "fidelity_1way_tvd": _pick(marginals.get("1way"), given.get("tvd_1way")),
        "association_error": _pick(
            associations.get("mean_abs_difference"), given.get("association_error")
        ),
        "utility_ratio": _pick(
            sum(ratios.values()) / len(ratios) if ratios else None, given.get("utility_ratio")
        ),
        "utility_ratios": ratios,
        "detection_auc": _pick(detection.get("auc"), given.get("detection_auc")),
        "detection_auc_std": _pick(detection.get("auc_std")),
        "median_query_error": _pick(
            queries.get("median_relative_error"), given.get("median_query_error")
        ),
        "privacy": {
            "guarantee": privacy.get("guarantee"),
            "epsilon": privacy.get("epsilon"),
            "delta": privacy.get("delta"),
        },
        "privacy_risk": risk or None,
    }


def judgements(head: Mapping, privacy: Mapping) -> dict:
    """The overall score and the privacy risk level of the first screen (:mod:`._risk`)."""
    attacks = privacy.get("attacks") or {}
    risk = _risk.privacy_risk(attacks.get("audit"))
    if not attacks.get("audit") and attack_rows(privacy):
        risk["sentence"] = ("Privacy risk not assessed: the attack summary alone gives no level; "
                            "run `lookalike audit` with a holdout for one.")
    return {"score": _risk.overall_score(head), "risk": risk}


def cards(head: Mapping, privacy: Mapping) -> list[dict]:
    """Headline numbers as cards: label, value, what it means, and a tone for colour."""
    out = []
    tvd = head.get("fidelity_2way_tvd")
    if tvd is not None:
        out.append(_card("Fidelity", _format.fixed(tvd), "mean 2-way TVD (0 = identical pairs, 1 = disjoint)",
                         _grade(tvd, _FIDELITY)[0]))
    assoc = head.get("association_error")
    if assoc is not None:
        out.append(_card("Association error", _format.fixed(assoc),
                         "mean |synthetic − real| pairwise association", _grade(assoc, _FIDELITY)[0]))
    ratio = head.get("utility_ratio")
    if ratio is not None:
        n = len(head.get("utility_ratios") or {})
        out.append(_card("Utility", _format.fixed(ratio, 2),
                         "score trained on synthetic / on real (1 = as good)"
                         + (f", mean of {n} models" if n > 1 else ""),
                         _grade_up(ratio, _UTILITY)[0]))
    auc = head.get("detection_auc")
    if auc is not None:
        std = head.get("detection_auc_std")
        note = "real-vs-synthetic classifier (0.5 = indistinguishable"
        note += "; below 0.5 it is systematically wrong, which also tells them apart)" if auc < 0.4 else ")"
        out.append(_card("Detection AUC", _format.fixed(auc), note, detection_words(auc)[0],
                         f"± {_format.fixed(std)}" if std is not None else ""))
    q = head.get("median_query_error")
    if q is not None:
        out.append(_card("Median query error", _format.share(q),
                         "relative error of random counting queries", _grade(q, _QUERIES)[0]))
    return out


_RISK_TONE = {"low": "good", "moderate": "fair", "high": "poor", _risk.NOT_ASSESSED: "neutral"}


def tiles(judged: Mapping, privacy: Mapping) -> dict:
    """The three tiles above the fold: overall score, privacy risk level, formal guarantee."""
    score = judged["score"]
    value = score["score"]
    tone = "neutral" if value is None else "good" if value >= 85 else "fair" if value >= 65 else "poor"
    risk = judged["risk"]
    if privacy.get("epsilon") is not None:
        guarantee = {"value": f"ε = {fmt_eps(privacy['epsilon'])}",
                     "note": f"δ = {fmt_eps(privacy.get('delta') or 0.0)}: differential privacy of "
                             "the synthetic data and model, not of this report", "tone": "good"}
    else:
        guarantee = {"value": "none", "note": NO_GUARANTEE, "tone": "poor"}
    return {
        "score": {"value": value, "parts": score["parts"], "tone": tone},
        "risk": {"level": risk["level"], "reasons": risk["reasons"], "sentence": risk["sentence"],
                 "tone": _RISK_TONE[risk["level"]]},
        "guarantee": guarantee,
    }


def _card(label: str, value: str, note: str, tone: str, extra: str = "") -> dict:
    return {"label": label, "value": value, "extra": extra, "note": note, "tone": tone}


def verdict(evaluation: Mapping, head: Mapping, privacy: Mapping | None = None) -> list[str]:
    """The evaluation's own verdict sentences (or sentences derived from the headline numbers),
    then, after an audit, the report's privacy risk sentence (:func:`._risk.privacy_risk`).

    The audit's own overall sentence is not repeated: the risk level weighs exact copies and
    the empirical ε, which the audit's sentence does not; its per-attack sentences are in the
    Privacy section.
    """
    attacks = (privacy or {}).get("attacks") or {}
    audit = attacks.get("audit")
    risk = [_risk.privacy_risk(audit)["sentence"]] if audit else []
    if audit and not evaluation:
        return risk
    return _evaluation_verdict(evaluation, head) + risk


def _evaluation_verdict(evaluation: Mapping, head: Mapping) -> list[str]:
    given = evaluation.get("verdict")
    if isinstance(given, str) and given.strip():
        return [given.strip()]
    if isinstance(given, (list, tuple)) and any(str(s).strip() for s in given):
        return [str(s).strip() for s in given if str(s).strip()]
    out = []
    tvd = head.get("fidelity_2way_tvd")
    if tvd is not None:
        words = _grade(tvd, _FIDELITY)[1]
        out.append(f"Pairs of columns are distributed {words} the real data (mean 2-way TVD {_format.fixed(tvd)}).")
    auc = head.get("detection_auc")
    if auc is not None:
        words = detection_words(auc)[1]
        out.append(f"A classifier {words} (AUC {_format.fixed(auc)}; 0.5 means indistinguishable).")
    ratio = head.get("utility_ratio")
    if ratio is not None:
        words = _grade_up(ratio, _UTILITY)[1]
        out.append(
            f"Models trained on synthetic rows score {words} models trained on real rows "
            f"(ratio {_format.fixed(ratio, 2)})."
        )
    q = head.get("median_query_error")
    if q is not None:
        words = _grade(q, _QUERIES)[1]
        out.append(f"Random counting queries are answered {words} (median relative error {_format.share(q)}).")
    if not out:
        out.append("The evaluation holds no headline numbers to judge these synthetic rows by.")
    return out
