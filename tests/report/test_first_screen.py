"""What a reader acts on (issue 18, friction 7): one number format, a privacy risk level with
its reasons, an overall score with its definition, wide tables summarised, spikes drawn apart,
DCR histograms, provenance without blanks, the audit's verdict once."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike import _format
from lookalike.audit import audit as run_audit
from lookalike.evaluate.fidelity import coded_pair, column_fidelity, histogram, worst_pairs
from lookalike.evaluate.marginals import marginal_tvd
from lookalike.evaluate.tables import prepare
from lookalike.report import build_report
from lookalike.report._risk import overall_score, privacy_risk

sys.path.insert(0, str(Path(__file__).parent))
from wide import wide_table  # noqa: E402

EXPONENT = re.compile(r"\d\.\d+e[+-]?\d+", re.I)
LOW_HEAD = "The attacks show a low privacy risk."


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _summary(html: str) -> str:
    start = html.index('<section id="summary"')
    return html[start : html.index("</section>", start)]


def _rate(value: float, lo: float, hi: float) -> dict:
    return {"value": value, "ci": [lo, hi]}


def _attack(name: str, auc: float, ci: tuple[float, float], eps: float) -> dict:
    return {"name": name, "auc": auc, "auc_ci": list(ci), "tpr_at_1pct": 0.02, "tpr_at_01pct": 0.0,
            "advantage": 0.05, "epsilon": {"epsilon": eps}, "n_members": 5000, "n_non_members": 2000,
            "roc": {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.55, 1.0]}}


def copying_audit(*, exact: float = 0.0184, eps: float = 2.34, auc: float = 0.56) -> dict:
    """An audit's dict in which the audit's own head sentence says "low privacy risk" while
    1.84% of synthetic rows copy a training row (above chance) and ε ≥ 2.34 is proven."""
    return {
        "meta": {"n_real": 5000, "n_synthetic": 5000, "n_holdout": 2000, "seed": 0, "seconds": 3.0},
        "similarity": {
            "exact_match": _rate(exact, exact * 0.8, exact * 1.2),
            "exact_match_holdout": _rate(0.001, 0.0005, 0.002),
            "exact_match_train_equal": _rate(exact / 2, exact * 0.4, exact * 0.6),
            "dcr_median_train": 0.9, "dcr_median_holdout": 1.1, "dcr_p05_train": 0.0,
            "dcr_p05_holdout": 0.2, "nndr_median_train": 0.7, "n_synthetic": 5000,
            "n_reference": 5000, "warning": "Similarity metrics are not privacy guarantees.",
            "dcr_hist": {"edges": [0.0, 1.0, 2.0, 3.0], "train": [0.3, 0.5, 0.2],
                         "holdout": [0.1, 0.6, 0.3]},
        },
        "membership": {"distance": _attack("distance", auc, (auc - 0.02, auc + 0.02), eps),
                       "density": _attack("density", 0.52, (0.50, 0.54), 0.4)},
        "attribute": [], "singling_out": None, "linkability": None, "targets": [],
        "most_exposed": [],
        "summary": [{"attack": "membership inference (distance)", "metric": "ROC AUC",
                     "value": auc, "ci": [auc - 0.02, auc + 0.02]}],
        "verdict": [LOW_HEAD, "Membership inference (distance attack): slightly better than chance.",
                    "Similarity (not a guarantee): 1.8% of synthetic rows copy a training row."],
    }


# ----------------------------------------------------------------------------- 1. numbers
def test_counts_and_bins_share_one_format(small_evaluation):
    ev = copy.deepcopy(small_evaluation)
    ev["queries"]["examples"] = [{"predicate": "fnlwgt in [1.2285e+04, 1.48e+06]", "real": 21815.0,
                                  "synthetic": 21790.4, "relative_error": 0.0012}]
    age = ev["fidelity"]["columns"][0]  # an integer column with "[17, 20)"-style labels
    age["hist"]["labels"] = [f"[{1.2285e4 * (i + 1):.4g}, {1.2285e4 * (i + 2):.4g})"
                             for i in range(len(age["hist"]["labels"]))]
    html = build_report(ev).to_html()
    text = _text(html)
    assert "21,815" in text and "21,790" in text
    assert "12,280–24,570" in html  # an axis label of the age plot, from "[1.228e+04, 2.457e+04)"
    assert not EXPONENT.search(text), EXPONENT.search(text)
    assert not EXPONENT.search(html), EXPONENT.search(html)  # SVG text included


def test_evaluation_labels_numeric_bins_without_exponents():
    rng = np.random.default_rng(0)
    income = np.r_[12_280.0, rng.uniform(12_280, 61_370, 1998).round(2), 61_370.0]
    real = pd.DataFrame({"income": income})
    labels = histogram(prepare(real, real)["income"]).labels
    assert labels[0] == "12,280–13,916" and labels[-1] == "59,734–61,370"
    assert not any(EXPONENT.search(x) for x in labels)


# ----------------------------------------------------------------------------- 2. risk
def test_copies_and_a_proven_epsilon_are_never_low_risk(small_evaluation):
    risk = privacy_risk(copying_audit())
    assert risk["level"] == "moderate"
    names = {r["name"]: r for r in risk["reasons"]}
    assert names["copies"]["value"] == "1.8%" and names["copies"]["grade"] == 2
    assert names["epsilon"]["value"] == "ε ≥ 2.34" and names["epsilon"]["grade"] == 2
    assert names["membership"]["value"] == "0.560"
    report = build_report(small_evaluation, audit=copying_audit())
    html = report.to_html()
    summary = _text(_summary(html))
    assert "Privacy risk" in summary and "moderate" in summary and "7 attacks" not in summary
    assert "copies of training rows" in summary and "ε ≥ 2.34" in summary
    assert not any("low privacy risk" in s.lower() or "risk low" in s.lower() for s in report.verdict)
    assert LOW_HEAD not in html  # the audit's own head sentence would contradict the level


@pytest.mark.parametrize(
    ("kwargs", "level"),
    [({"exact": 0.0, "eps": 0.0, "auc": 0.5}, "low"),
     ({"exact": 0.0, "eps": 3.5, "auc": 0.5}, "high"),
     ({"exact": 0.2, "eps": 0.0, "auc": 0.5}, "high"),
     ({"exact": 0.0, "eps": 0.5, "auc": 0.8}, "high")],
)
def test_risk_level_is_the_worst_reading(kwargs, level):
    assert privacy_risk(copying_audit(**kwargs))["level"] == level


def test_no_audit_or_no_holdout_is_not_assessed():
    assert privacy_risk(None)["level"] == "not assessed"
    no_holdout = copying_audit(exact=0.0)
    no_holdout["membership"] = None
    no_holdout["similarity"]["exact_match_holdout"] = None
    assert privacy_risk(no_holdout)["level"] == "not assessed"


def test_detection_far_below_half_tells_the_tables_apart(small_evaluation):
    ev = copy.deepcopy(small_evaluation)
    ev["detection"]["auc"] = 0.27
    report = build_report(ev)
    sentence = next(s for s in report.verdict if "classifier" in s)
    assert "barely" not in sentence and "wrong way round" in sentence
    card = next(c for c in _card_tones(report.to_html()) if c[0] == "Detection AUC")
    assert card[1] != "tone-good"


def _card_tones(html: str) -> list[tuple[str, str]]:
    """(label, tone class) of each headline card."""
    found = re.findall(r'<div class="card (tone-\w+)">\s*<div class="card-label">([^<]+)</div>', html)
    return [(label, tone) for tone, label in found]


# ----------------------------------------------------------------------------- 3. score
def test_overall_score_is_the_mean_of_its_parts_and_explained(small_evaluation):
    head = {"fidelity_2way_tvd": 0.1, "detection_auc": 0.7, "utility_ratio": 0.9,
            "median_query_error": 0.2}
    # (0.9 + 0.6 + 0.9 + 0.8) / 4 = 0.8
    assert overall_score(head)["score"] == 80
    assert overall_score({"detection_auc": 0.27})["score"] == 54  # |0.27 - 0.5| counts
    assert overall_score({})["score"] is None
    html = build_report(small_evaluation).to_html()
    summary = _summary(html)
    assert "Overall score" in summary and "/ 100" in summary
    how = summary[summary.index("<details"):summary.index("</details>")]
    assert "0 means" in how and "100 means" in how and "TVD" in how and "AUC" in how


# ----------------------------------------------------------------------------- 4. wide tables
def _wide_evaluation(n_rows: int = 1500, n_cols: int = 200, n_pairs: int = 400) -> dict:
    """An evaluation dict of a 200-column table, made from its parts in seconds: per-column
    distances and histograms, Spearman associations on codes, and the worst of a seeded
    sample of pairs (a full evaluation measures all 19,900 and takes a minute)."""
    real = wide_table(n_rows, n_cols, seed=0)
    synth = lookalike.get_synthesizer("independent").fit(real, seed=0).sample(n_rows, seed=1)
    tables = prepare(real, synth)
    columns = [column_fidelity(c).to_dict() for c in tables.columns]
    pair = coded_pair(tables)
    rng = np.random.default_rng(0)
    picks = {tuple(sorted(rng.choice(n_cols, 2, replace=False))) for _ in range(n_pairs)}
    two_way = {(pair.names[i], pair.names[j]): marginal_tvd(pair, (i, j)) for i, j in picks}
    ranks = lambda codes: pd.DataFrame(codes).corr(method="spearman").fillna(0).to_numpy()  # noqa: E731
    r, s = ranks(pair.real), ranks(pair.synth)
    return {
        "meta": {"n_real": n_rows, "n_synthetic": n_rows},
        "fidelity": {
            "columns": columns,
            "marginals": {"1way": 0.02, "2way": float(np.mean(list(two_way.values()))), "n_2way": 19900},
            "associations": {"columns": list(pair.names), "real": r.tolist(), "synthetic": s.tolist(),
                             "difference": (s - r).tolist(),
                             "mean_abs_difference": float(np.abs(s - r).mean())},
            "worst_pairs": [w.to_dict() for w in worst_pairs(tables, pair, two_way)],
        },
        "detection": {"auc": 0.71},
    }


def test_a_200_column_report_is_small_and_summarised(tmp_path):
    report = build_report(_wide_evaluation(), audit=copying_audit(), title="wide")
    page = report.write_html(tmp_path / "wide.html")
    html = page.read_text(encoding="utf-8")
    size = page.stat().st_size
    assert size < 5_000_000, f"200-column report is {size:,} bytes"
    summary = _text(_summary(html))
    assert "Overall score" in summary and "Privacy risk" in summary and "moderate" in summary
    assert "Pairs of columns" in summary  # the verdict
    assert html.count('data-plot="col-') == 40  # the 40 worst columns are drawn
    assert "160 of 200 columns not drawn" in _text(html)
    assert "160 of 200 columns left out of the heatmaps" in _text(html)
    heat = re.search(r'data-plot="assoc-real".*?</svg>', html, re.S).group(0)
    assert heat.count("b0") + heat.count("b1") > 0 and heat.count("<text") <= 2 * 40 + 30
    assert "The 20 pairs reproduced worst" in _text(html)
    assert html.count('data-plot="pair-') == 6
    assert "pairs whose association differs most" in _text(html)


def test_heatmap_columns_are_clustered_by_association():
    from lookalike.report._plots import heatmap_order

    names = ["a1", "b1", "a2", "b2"]
    real = [[1, 0, 0.9, 0], [0, 1, 0, 0.9], [0.9, 0, 1, 0], [0, 0.9, 0, 1]]
    order, left_out = heatmap_order({"columns": names, "real": real, "difference": real})
    groups = ["".join(names[i][0] for i in order)]
    assert groups[0] in ("aabb", "bbaa") and left_out == []


# ----------------------------------------------------------------------------- 5. spikes
def test_zero_inflated_column_is_drawn_as_a_spike_beside_the_rest():
    rng = np.random.default_rng(0)
    gain = np.where(rng.random(3000) < 0.9, 0, rng.integers(100, 99_999, 3000))
    real = pd.DataFrame({"capital-gain": gain})
    col = column_fidelity(prepare(real, real)["capital-gain"])
    assert col.hist.points == 1 and col.hist.labels[0] == "0"
    assert col.hist.real[0] == pytest.approx(0.9, abs=0.02)
    assert sum(col.hist.real[1:]) == pytest.approx(0.1, abs=0.02)
    ev = {"fidelity": {"columns": [col.to_dict()]}}
    html = build_report(ev).to_html()
    svg = re.search(r'data-plot="col-1".*?</svg>', html, re.S).group(0)
    assert "single values" in svg and "other values" in svg and "= 0" in svg


# ----------------------------------------------------------------------------- 6. DCR
def test_audit_section_draws_dcr_histograms_with_the_warning(small_evaluation):
    adult = lookalike.load_demo().sample(900, random_state=0)
    train, holdout = adult.iloc[:600], adult.iloc[600:]
    copied = pd.concat([train.iloc[:300], holdout.iloc[:300]])  # half copies of training rows
    result = run_audit(train, copied, holdout, seed=0)
    hist = result.similarity.dcr_hist
    assert hist.holdout is not None and len(hist.train) == len(hist.edges) - 1
    assert hist.train[0] >= 0.5 > hist.holdout[0] - 0.45  # copies pile up at 0 on one side
    html = build_report(small_evaluation, audit=result).to_html()
    privacy = html[html.index('<section id="privacy"'):]
    assert 'data-plot="dcr"' in privacy
    after = _text(privacy[privacy.index('data-plot="dcr"'):])
    assert "not privacy guarantees" in after[:1500]
    assert privacy_risk(result.to_dict())["level"] == "high"


# ----------------------------------------------------------------------------- 7. provenance
def test_provenance_has_no_blank_rows_and_the_audit_verdict_is_printed_once(small_evaluation):
    report = build_report(small_evaluation, audit=copying_audit())
    html = report.to_html()
    provenance = html[html.index('<section id="provenance"'):html.index("<footer>")]
    assert "—" not in provenance
    findings = "Membership inference (distance attack): slightly better than chance."
    assert html.count(findings) == 1
    assert html.count(report.verdict[-1]) == 1  # the risk sentence, on the first screen only


def test_first_section_holds_verdict_risk_level_and_score(small_evaluation):
    report = build_report(small_evaluation, audit=copying_audit())
    summary = _summary(report.to_html())
    assert summary.index('id="score-tile"') < summary.index('id="risk-tile"') < summary.index(
        'class="verdict"')
    assert all(s in _text(summary) for s in report.verdict[:2])
    assert _format.share(0.0184) in _text(summary)
