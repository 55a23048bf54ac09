"""Plain-language sentences on an evaluation, from stated thresholds.

Each threshold below is a rule of thumb for tables of a few thousand rows or more, not a test:
sampling noise alone gives a 1-way TVD of about sqrt(k / (2πn)) for a k-category column of n
rows (0.01 for k = 20, n = 30,000), so "close" starts a little above that.

>>> from lookalike.evaluate.verdict import grade
>>> grade(0.004, ONE_WAY), grade(0.3, ONE_WAY)
(0, 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lookalike.evaluate.result import Detection, Fidelity, Queries, Utility

__all__ = ["grade", "sentences"]

# (good below, fair below); at or above the second: poor
ONE_WAY = (0.02, 0.05)  # mean 1-way TVD
TWO_WAY = (0.05, 0.10)  # mean 2-way TVD
ASSOCIATION = (0.03, 0.08)  # mean |Δ| of Cramér's V / η / Spearman ρ
QUERY = (0.05, 0.15)  # median relative error of counting queries
DETECTION = (0.60, 0.80)  # detection ROC AUC (0.5: indistinguishable)
COPIES = 0.40  # detection AUC below this: the detector is fooled by real rows copied into the
# synthetic table (a row seen as "real" in training comes back as "synthetic" in the test fold)
UTILITY = (0.95, 0.85)  # TSTR / TRTR ratio: good at or above the first, fair above the second
WEAK_AUC = 0.55  # a real-trained model scoring below this barely predicts the target...
WEAK_R2 = 0.05  # ...and likewise for regression: the ratio then says little


def grade(value: float, limits: tuple[float, float]) -> int:
    """0 good, 1 fair, 2 poor: ``value`` against (good below, fair below) ``limits``."""
    return 0 if value < limits[0] else 1 if value < limits[1] else 2


def _utility_grade(ratio: float) -> int:
    return 0 if ratio >= UTILITY[0] else 1 if ratio >= UTILITY[1] else 2


def sentences(
    fidelity: Fidelity, utility: Utility | None, detection: Detection, queries: Queries
) -> tuple[str, ...]:
    """Short sentences, one per part of an evaluation, each with the number it rests on.

    :func:`lookalike.evaluate.evaluate` calls it once and stores the sentences on the
    :class:`~lookalike.evaluate.Evaluation` (``ev.verdict()`` returns them).
    """
    out: list[str] = []
    m = fidelity.marginals
    out.append(
        (
            "Column distributions are close",
            "Column distributions differ somewhat",
            "Column distributions differ clearly",
        )[grade(m.one_way, ONE_WAY)]
        + f" (mean 1-way TVD {m.one_way:.3f})."
    )
    if m.two_way == m.two_way:  # not NaN
        out.append(
            (
                "Pairs of columns are reproduced well",
                "Pairs of columns are reproduced approximately",
                "Pairs of columns are reproduced poorly",
            )[grade(m.two_way, TWO_WAY)]
            + f" (mean 2-way TVD {m.two_way:.3f})."
        )
    a = fidelity.associations.mean_abs_difference
    if a == a:
        out.append(
            (
                "Associations between columns are preserved",
                "Associations between columns are partly preserved",
                "Associations between columns are largely lost or distorted",
            )[grade(a, ASSOCIATION)]
            + f" (mean absolute difference {a:.3f})."
        )
    unseen = [c.name for c in fidelity.columns if c.unseen_categories]
    if unseen:
        out.append(f"Synthetic data holds categories never seen in the real data in {unseen}.")
    if utility is not None:
        u = utility
        ratio = u.ratios.get("gradient_boosting")
        if ratio is None:
            out.append(
                f"Utility for {u.target!r} could not be compared (the real-trained score is not positive)."
            )
        else:
            out.append(
                (
                    f"Models trained on synthetic data predict {u.target!r} nearly as well as on real data",
                    f"Models trained on synthetic data predict {u.target!r} somewhat worse than on real data",
                    f"Models trained on synthetic data predict {u.target!r} much worse than on real data",
                )[_utility_grade(ratio)]
                + f" (gradient boosting TSTR/TRTR {ratio:.2f})."
            )
        real_gb = next(
            (m for m in u.models if m.model == "gradient_boosting" and m.train_on == "real"), None
        )
        main = None if real_gb is None else real_gb.main
        weak = WEAK_AUC if u.task == "classification" else WEAK_R2
        if main is not None and main < weak:
            name = "AUC" if u.task == "classification" else "R²"
            out.append(
                f"Even models trained on real data barely predict {u.target!r} ({name} "
                f"{main:.2f}), so the utility ratio says little."
            )
        if u.holdout == "split":
            out.append(
                "No holdout was given: the real table was split 80/20, so the synthetic data may "
                "have been fitted on the test rows and utility is flattered."
            )
    d = detection.auc
    if d < COPIES:
        out.append(
            f"A classifier scores synthetic rows as real more often than chance (AUC {d:.2f}): "
            "many synthetic rows are likely copies of real rows, a privacy risk to audit."
        )
    else:
        out.append(
            (
                f"A classifier can barely tell synthetic from real rows (AUC {d:.2f}).",
                f"A classifier tells synthetic from real rows fairly often (AUC {d:.2f}): some rows look unrealistic.",
                f"A classifier tells synthetic from real rows easily (AUC {d:.2f}): the rows are not realistic one by one.",
            )[grade(d, DETECTION)]
        )
    q = queries.median_relative_error
    out.append(
        (
            "Counting queries are answered accurately",
            "Counting queries are answered approximately",
            "Counting queries are answered poorly",
        )[grade(q, QUERY)]
        + f" (median relative error {q:.3f} over {queries.n:,} queries)."
    )
    return tuple(out)
