"""The result of an evaluation: a tree of small frozen dataclasses with a JSON form.

:meth:`Evaluation.to_dict` returns plain JSON types only (no NumPy scalars; NaN and other
undefined values become ``None``); the HTML report reads that dictionary. Keys follow the
evaluation's JSON contract (``fidelity.marginals`` uses ``"1way"``, ``"2way"``, ``"3way"``).

>>> h = Histogram(("a", "b"), (0.5, 0.5), (0.25, 0.75))
>>> h.to_dict()
{'labels': ['a', 'b'], 'real': [0.5, 0.5], 'synthetic': [0.25, 0.75], 'edges': None, 'points': 0}
>>> Marginals(0.01, 0.03, float("nan"), 0).to_dict()
{'1way': 0.01, '2way': 0.03, '3way': None, 'n_3way': 0, 'n_2way': None}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from lookalike._json import JsonMixin as _Json
from lookalike._json import dataclass_dict as _fields
from lookalike._json import plain
from lookalike.evaluate.validity import Validity

__all__ = [
    "Associations",
    "ColumnFidelity",
    "Detection",
    "Evaluation",
    "FeatureImportance",
    "Fidelity",
    "Histogram",
    "Marginals",
    "Meta",
    "ModelScore",
    "PairMarginal",
    "Queries",
    "QueryExample",
    "Utility",
]


# ------------------------------------------------------------------------ fidelity
@dataclass(frozen=True)
class Histogram(_Json):
    """Shares of the real and synthetic rows per bin or category, for plotting.

    ``edges`` are the numeric bin edges (ISO strings for datetimes; None for categories).
    The first ``points`` entries are point masses: single values that hold a large share of
    the real rows (the 0 of capital-gain), counted apart so that a plot can draw them beside
    the histogram of the other values instead of inside one tall first bin; ``edges`` then
    cut the other values only.
    """

    labels: tuple[str, ...]
    real: tuple[float, ...]
    synthetic: tuple[float, ...]
    edges: tuple | None = None
    points: int = 0


@dataclass(frozen=True)
class ColumnFidelity(_Json):
    """Distances between one column's real and synthetic distributions (see fidelity)."""

    name: str
    kind: str
    tvd: float | None
    ks: float | None
    wasserstein: float | None
    missing_real: float
    missing_synthetic: float
    coverage: float | None
    rare_retention: float | None
    unseen_categories: int | None
    marginal_tvd: float
    hist: Histogram


@dataclass(frozen=True)
class Marginals(_Json):
    """Mean total-variation distance over 1-, 2- and (a sample of) 3-way marginals."""

    one_way: float
    two_way: float
    three_way: float
    n_3way: int
    n_2way: int | None = None
    _json_names: ClassVar[dict[str, str]] = {
        "one_way": "1way",
        "two_way": "2way",
        "three_way": "3way",
    }


@dataclass(frozen=True)
class Associations(_Json):
    """Pairwise association matrices (Cramér's V, η, Spearman ρ) and their difference."""

    columns: tuple[str, ...]
    real: tuple[tuple[float, ...], ...]
    synthetic: tuple[tuple[float, ...], ...]
    difference: tuple[tuple[float, ...], ...]
    mean_abs_difference: float
    measures: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class PairMarginal(_Json):
    """The 2-way marginal of one pair of columns, real and synthetic, on the marginals' bins.

    ``real`` and ``synthetic`` are shares of all rows, one row per label of ``columns[0]``
    and one column per label of ``columns[1]`` (the rarest categories of a long list merged
    into "other"); ``tvd`` is the pair's 2-way TVD on the full bins.
    """

    columns: tuple[str, str]
    tvd: float
    labels: tuple[tuple[str, ...], tuple[str, ...]]
    real: tuple[tuple[float, ...], ...]
    synthetic: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Fidelity(_Json):
    """Per-column distances, k-way marginal distances and associations.

    ``worst_pairs`` are the pairs of columns with the largest 2-way TVD, worst first, with
    their 2-way marginals, so that a report can list and draw them.
    """

    columns: tuple[ColumnFidelity, ...]
    marginals: Marginals
    associations: Associations
    worst_pairs: tuple[PairMarginal, ...] = ()


# ------------------------------------------------------------------------ utility
_CLASSIFICATION = ("roc_auc", "accuracy", "per_class_recall")
_REGRESSION = ("r2", "mae")


@dataclass(frozen=True)
class ModelScore(_Json):
    """Scores on the holdout of one model family trained on real or synthetic rows.

    The JSON form holds the classification or the regression metrics, whichever apply.

    >>> s = ModelScore("linear", "synthetic", r2=0.5, mae=3.0)
    >>> s.to_dict(), s.main
    ({'model': 'linear', 'train_on': 'synthetic', 'r2': 0.5, 'mae': 3.0}, 0.5)
    """

    model: str
    train_on: str
    roc_auc: float | None = None
    accuracy: float | None = None
    per_class_recall: Mapping[str, float | None] | None = None
    r2: float | None = None
    mae: float | None = None

    def to_dict(self) -> dict:
        out = _fields(self)
        for group in (_CLASSIFICATION, _REGRESSION):
            if all(getattr(self, k) is None for k in group):
                for k in group:
                    del out[k]
        return out

    @property
    def main(self) -> float | None:
        """The score the TSTR/TRTR ratio is taken of: ROC AUC, or R² for regression."""
        return self.r2 if self.roc_auc is None and self.accuracy is None else self.roc_auc


@dataclass(frozen=True)
class Utility(_Json):
    """Train-on-synthetic vs train-on-real scores on the same holdout, per model family."""

    target: str
    task: str
    holdout: str
    models: tuple[ModelScore, ...]
    ratios: Mapping[str, float | None]
    n_train_real: int = 0
    n_train_synthetic: int = 0
    n_test: int = 0


# ------------------------------------------------------------------------ detection
@dataclass(frozen=True)
class FeatureImportance(_Json):
    """How much the detector's ROC AUC drops when one feature is shuffled."""

    feature: str
    importance: float


@dataclass(frozen=True)
class Detection(_Json):
    """Cross-validated ROC AUC of a classifier telling real from synthetic rows."""

    auc: float
    auc_std: float
    folds: int
    top_features: tuple[FeatureImportance, ...]
    fold_aucs: tuple[float, ...] = ()
    n_per_class: int = 0


# ------------------------------------------------------------------------ queries
@dataclass(frozen=True)
class QueryExample(_Json):
    """One counting query, its real count, scaled synthetic count and relative error."""

    predicate: str
    real: float
    synthetic: float
    relative_error: float


@dataclass(frozen=True)
class Queries(_Json):
    """Relative errors of a random workload of counting queries."""

    n: int
    median_relative_error: float
    p90_relative_error: float
    mean_relative_error: float
    errors: tuple[float, ...]
    examples: tuple[QueryExample, ...]
    floor: float = 0.0


# ------------------------------------------------------------------------ the whole
@dataclass(frozen=True)
class Meta(_Json):
    """What was evaluated: sizes, target, seed, time taken, excluded columns, notes."""

    n_real: int
    n_synthetic: int
    n_holdout: int | None
    target: str | None
    seed: int
    seconds: float
    lookalike_version: str
    excluded_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation(_Json):
    """Everything :func:`lookalike.evaluate.evaluate` measured; ``to_json()`` for the report.

    ``verdict_sentences`` is the plain-language verdict, worded once by
    :func:`lookalike.evaluate.verdict.sentences` (and :meth:`Validity.sentences`) when the
    evaluation is made, and stored (``"verdict"`` in the JSON form). ``validity`` counts the
    synthetic values the real table rules out (:func:`lookalike.evaluate.validity.validity`).

    >>> import lookalike
    >>> from lookalike.evaluate import evaluate
    >>> real = lookalike.load_demo().sample(300, random_state=0)
    >>> synth = lookalike.load_demo().sample(300, random_state=1)
    >>> ev = evaluate(real, synth, n_queries=20, max_3way=5)
    >>> sorted(ev.headline())
    ['association_error', 'detection_auc', 'fidelity_2way', 'median_query_error', 'utility_ratio']
    >>> ev.headline()["utility_ratio"] is None
    True
    >>> ev.to_dict()["verdict"] == ev.verdict() == list(ev.verdict_sentences)
    True
    """

    meta: Meta
    fidelity: Fidelity
    utility: Utility | None
    detection: Detection
    queries: Queries
    verdict_sentences: tuple[str, ...]
    validity: Validity | None = None
    _json_names: ClassVar[dict[str, str]] = {"verdict_sentences": "verdict"}

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def headline(self) -> dict[str, float | None]:
        """Five numbers that summarise the evaluation (lower is better except utility)."""
        ratio = None if self.utility is None else self.utility.ratios.get("gradient_boosting")
        return plain(
            {
                "fidelity_2way": self.fidelity.marginals.two_way,
                "association_error": self.fidelity.associations.mean_abs_difference,
                "utility_ratio": ratio,
                "detection_auc": self.detection.auc,
                "median_query_error": self.queries.median_relative_error,
            }
        )

    def verdict(self) -> list[str]:
        """The stored plain-language sentences; thresholds in :mod:`lookalike.evaluate.verdict`."""
        return list(self.verdict_sentences)
