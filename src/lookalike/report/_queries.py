"""The page of private query answers: shareable, it holds only DP answers and synthetic ones."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lookalike._json import plain
from lookalike.report._document import Document
from lookalike.report._provenance import versions

__all__ = ["QueryPage", "build_query_page"]

SHAREABLE_ANSWERS = (
    "This page holds differentially private answers computed from the real rows (their cost "
    "is stated), and answers computed from synthetic rows; no exact real statistic."
)


@dataclass(frozen=True)
class QueryPage(Document):
    """DP answers of a query set with their intervals, beside the synthetic answers."""

    title: str
    created: str
    shareable: str
    dataset: str | None
    epsilon: float
    delta: float
    queries: tuple[Mapping[str, Any], ...]
    inside_share: float | None
    n_answers: int

    def to_dict(self) -> dict:
        return copy.deepcopy({
            "shareable": self.shareable, "title": self.title, "created": self.created,
            "dataset": self.dataset, "epsilon": self.epsilon, "delta": self.delta,
            "queries": [dict(q) for q in self.queries], "inside_share": self.inside_share,
            "n_answers": self.n_answers})

    def _render(self) -> str:
        from lookalike.report._html import _template

        return _template("queries.html.j2").render(s={**self.to_dict(), "versions": versions()})


def build_query_page(results: Sequence[Any], *, title: str = "lookalike private queries",
                     dataset: str | None = None) -> QueryPage:
    """The page of ``results`` (:class:`lookalike.query.QueryResult`): what they cost together
    (zCDP composition of the answers released now; answers given before cost nothing)."""
    from lookalike.privacy.accountant import epsilon_from_rho
    from lookalike.query.workload import utility_summary

    summary = utility_summary(results)
    delta = max((float(r.delta) for r in results if not r.reused), default=0.0)
    rho = float(summary["rho"])
    eps = epsilon_from_rho(rho, delta - float(summary["delta_approx"])) if rho > 0 else 0.0
    return QueryPage(title=title, created=datetime.now(UTC).isoformat(timespec="seconds"),
                     shareable=SHAREABLE_ANSWERS, dataset=dataset, epsilon=eps, delta=delta,
                     queries=tuple(plain(q) for q in summary["queries"]),
                     inside_share=summary["inside_share"], n_answers=summary["n_answers"])
