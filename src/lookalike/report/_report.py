"""The private report value and :func:`build_report`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lookalike._json import plain
from lookalike._rng import Seed
from lookalike.errors import ConfigError
from lookalike.report import _summary
from lookalike.report._document import Document
from lookalike.report._provenance import provenance

__all__ = ["Report", "build_report"]


@dataclass(frozen=True)
class Report(Document):
    """A private report: verdict, headline numbers, privacy, provenance and the evaluation.

    It compares the synthetic data with the real rows, so it is as private as they are; its
    first screen and its JSON (``confidential``) say so. Build one with :func:`build_report`.
    ``to_dict`` and ``write_json`` hold the same numbers as the HTML page of ``write_html``.
    """

    title: str
    created: str
    confidential: str
    verdict: tuple[str, ...]
    headline: Mapping[str, Any]
    privacy: Mapping[str, Any]
    provenance: Mapping[str, Any]
    evaluation: Mapping[str, Any] = field(repr=False)

    def to_dict(self) -> dict:
        """Plain JSON data: confidential (first), title, created, verdict, headline, privacy,
        provenance, evaluation."""
        return {
            "confidential": self.confidential,
            "title": self.title,
            "created": self.created,
            "verdict": list(self.verdict),
            "headline": copy.deepcopy(dict(self.headline)),
            "privacy": copy.deepcopy(dict(self.privacy)),
            "provenance": copy.deepcopy(dict(self.provenance)),
            "evaluation": copy.deepcopy(dict(self.evaluation)),
        }

    def _render(self) -> str:
        from lookalike.report._html import render_html

        return render_html(self.to_dict())


def build_report(
    evaluation: Any = None,
    *,
    model: Any = None,
    schema: Any = None,
    privacy: Mapping | None = None,
    title: str = "lookalike report",
    seed: Seed = None,
    audit: Any = None,
) -> Report:
    """Assemble a report from an evaluation, the fitted model, its schema and privacy facts.

    ``evaluation`` is the dict of ``Evaluation.to_dict()`` (or any object with ``to_dict``);
    it may be None when ``audit`` is given, for a privacy-only report. ``audit`` is an
    :class:`lookalike.audit.AuditResult` (or its ``to_dict()``): its attack summary goes to
    the privacy line of the first screen, its overall verdict to the verdict, and the whole
    audit (ROC curves, per-target risks, most exposed rows by number) to the Privacy section,
    under ``privacy["attacks"]``.
    ``schema`` defaults to ``model.schema_``; each of its facts is shown with its source
    (declared public, read from the data, or a DP release). ``privacy`` is None for a model
    fitted without differential privacy, whose report then says plainly that no formal
    guarantee holds; otherwise ``{"epsilon", "delta", "releases": [ledger rows],
    "attacks": {"summary": [{"attack", "metric", "value", "ci"}]}}``, any part optional.
    A report draws no random numbers; ``seed`` (the pipeline's seed, if any) is recorded in
    its provenance. The report is private whatever the model: it holds the real row count,
    real histograms and comparisons. For a DP release, :func:`build_release_sheet` makes the
    shareable description.

    >>> import pathlib, tempfile
    >>> evaluation = {"fidelity": {"marginals": {"2way": 0.041}}, "detection": {"auc": 0.56}}
    >>> report = build_report(evaluation, title="demo", seed=0)
    >>> report.headline["fidelity_2way_tvd"], report.headline["detection_auc"]
    (0.041, 0.56)
    >>> report.verdict[0]
    'Pairs of columns are distributed close to the real data (mean 2-way TVD 0.041).'
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> page = report.write_html(folder / "report.html")
    >>> "No formal privacy guarantee" in page.read_text(encoding="utf-8")
    True
    >>> report.confidential.startswith("Private report")
    True
    >>> list(report.to_dict())
    ['confidential', 'title', 'created', 'verdict', 'headline', 'privacy', 'provenance', 'evaluation']
    """
    if hasattr(audit, "to_dict") and callable(audit.to_dict):
        audit = audit.to_dict()
    if audit is not None and not isinstance(audit, Mapping):
        raise ConfigError(
            f"audit must be an AuditResult or the dict of its to_dict(), got {type(audit).__name__}"
        )
    if evaluation is None and audit is not None:
        evaluation = {}
    if hasattr(evaluation, "to_dict") and callable(evaluation.to_dict):
        evaluation = evaluation.to_dict()
    if not isinstance(evaluation, Mapping):
        raise ConfigError(
            "build_report needs an evaluation: the dict of Evaluation.to_dict() or an object "
            f"with to_dict(), got {type(evaluation).__name__}"
        )
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"report title must be a non-empty string, got {title!r}")
    evaluation = plain(evaluation)
    if audit is not None:
        privacy = _summary.with_audit(privacy, plain(audit))
    priv = plain(_summary.normalise_privacy(privacy, model))
    created = datetime.now(UTC)
    head = _summary.headline(evaluation, priv)
    return Report(
        title=title.strip(),
        created=created.isoformat(timespec="seconds"),
        confidential=_summary.confidential_notice(priv),
        verdict=tuple(_summary.verdict(evaluation, head, priv)),
        headline=head,
        privacy=priv,
        provenance=provenance(
            evaluation, model=model, schema=schema, privacy=priv, seed=seed, created=created
        ),
        evaluation=evaluation,
    )
