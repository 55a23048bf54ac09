"""build_report and Report: contents, escaping, privacy statements, files and JSON."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from lookalike import infer_schema
from lookalike.errors import ConfigError, OutputExistsError
from lookalike.report import Report, build_report
from lookalike.report._summary import NO_ATTACKS, NO_GUARANTEE

EVIL = "<script>alert('x')</script>"
EVIL_CATEGORY = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def report(evaluation, fitted_model) -> Report:
    return build_report(evaluation, model=fitted_model, title="Adult with CART", seed=7)


@pytest.fixture(scope="module")
def html(report) -> str:
    return report.to_html()


def _text(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ----------------------------------------------------------------------------- files
def test_write_html_and_json_create_files(report, tmp_path):
    page = report.write_html(tmp_path / "out" / "report.html")
    data = report.write_json(tmp_path / "out" / "report.json")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads(data.read_text(encoding="utf-8"))["title"] == "Adult with CART"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json"]


@pytest.mark.parametrize("method", ["write_html", "write_json"])
def test_existing_file_is_refused_unless_overwrite(report, tmp_path, method):
    target = tmp_path / "existing"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="already exists.*overwrite=True"):
        getattr(report, method)(target)
    assert target.read_text(encoding="utf-8") == "keep me"
    getattr(report, method)(target, overwrite=True)
    assert target.read_text(encoding="utf-8") != "keep me"


@pytest.mark.parametrize("method", ["write_html", "write_json"])
def test_failed_write_leaves_old_file_and_no_partial(report, tmp_path, monkeypatch, method):
    target = tmp_path / "report.out"
    target.write_text("old", encoding="utf-8")
    real_write = Path.write_text

    def half_then_fail(self, text, *args, **kwargs):
        real_write(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        getattr(report, method)(target, overwrite=True)
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.out"]


# ----------------------------------------------------------------------------- self-contained
def test_html_loads_nothing_from_elsewhere(html):
    assert not re.search(r"""(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html, re.I)
    assert "@import" not in html
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "<iframe" not in html.lower()
    # the page also tells the browser to refuse anything it might still try to load
    assert "default-src 'none'" in html


def test_every_plot_is_inline_svg_and_counted(html):
    svgs = re.findall(r'<svg class="plot" data-plot="([^"]+)"', html)
    count = int(re.search(r'<meta name="lookalike-plots" content="(\d+)">', html).group(1))
    assert len(svgs) == count == 15 + 3 + 2  # columns, heatmaps, utility, query errors
    assert len(set(svgs)) == len(svgs)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids repeat across plots"
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_html_for_adult_stays_small(html):
    size = len(html.encode("utf-8"))
    assert size < 3_000_000, f"{size:,} bytes"


def test_rendering_is_deterministic(report):
    from lookalike.report._html import render_html

    assert render_html(report.to_dict()) == report.to_html()


# ----------------------------------------------------------------------------- escaping
def test_malicious_names_are_escaped(evaluation_factory):
    evaluation = evaluation_factory(1, rename={"age": EVIL, "income": EVIL_CATEGORY})
    evaluation["fidelity"]["columns"] = evaluation["fidelity"]["columns"][:2]  # quicker to draw
    evaluation["fidelity"]["columns"][1]["hist"]["labels"][0] = EVIL  # a category
    evaluation["queries"]["examples"][0]["predicate"] = f"{EVIL} >= 40"
    evaluation["detection"]["top_features"][0]["feature"] = EVIL
    df = pd.DataFrame({EVIL: [1, 2, 3, 4] * 5, "colour": [EVIL_CATEGORY, "red"] * 10})
    html = build_report(evaluation, schema=infer_schema(df), title=EVIL).to_html()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;" in html  # shown as text, in tables and in the SVG plots
    plots = re.findall(r"<svg .*?</svg>", html, re.S)
    assert any("&lt;script&gt;" in svg for svg in plots)


def test_dollar_signs_are_text_not_tex(evaluation_factory):
    evaluation = evaluation_factory(2, rename={"capital-gain": "gain in $ (US$)"})
    columns = evaluation["fidelity"]["columns"]
    evaluation["fidelity"]["columns"] = [c for c in columns if "$" in c["name"]]
    html = build_report(evaluation).to_html()
    assert "gain in $ (US$)" in html


# ----------------------------------------------------------------------------- privacy
def test_non_dp_model_says_no_guarantee(report, html):
    assert NO_GUARANTEE == (
        "No formal privacy guarantee: this model was fitted without differential privacy."
    )
    first_screen = html[: html.index('<section id="fidelity">')]
    assert NO_GUARANTEE in first_screen
    assert "differential privacy" not in first_screen.replace(NO_GUARANTEE, "")
    assert report.privacy["epsilon"] is None
    assert report.headline["privacy"]["guarantee"] is None
    assert "none" in _text(html[html.index('<section id="privacy">') :])


def test_epsilon_renders_the_guarantee_and_releases(small_evaluation, dp_privacy):
    report = build_report(small_evaluation, privacy=dp_privacy)
    html = report.to_html()
    assert "(ε = 1, δ = 1e-6)-differential privacy" in html
    assert NO_GUARANTEE not in html
    for release in dp_privacy["releases"]:
        assert release["name"] in html
        assert release["mechanism"] in html
    assert report.headline["privacy"] == {
        "guarantee": "differential privacy",
        "epsilon": 1.0,
        "delta": 1e-6,
    }
    assert report.provenance["releases"] == dp_privacy["releases"]


def test_dp_report_flags_schema_facts_read_from_the_data(small_evaluation, fitted_model, dp_privacy):
    html = build_report(small_evaluation, schema=fitted_model.schema_, privacy=dp_privacy).to_html()
    assert "not covered by DP" in html
    assert "Facts read from the private data without DP are not covered by the guarantee" in html


def test_epsilon_for_a_non_dp_model_is_refused(evaluation, fitted_model, dp_privacy):
    with pytest.raises(ConfigError, match="'cart' has no differentially private form"):
        build_report(evaluation, model=fitted_model, privacy=dp_privacy)


@pytest.mark.parametrize(
    ("privacy", "message"),
    [
        ({"epsilon": -1}, "epsilon must be a positive number, got -1"),
        ({"epsilon": float("nan")}, "epsilon must be a positive number"),
        ({"epsilon": 1, "delta": 1.5}, r"delta must be a number in \[0, 1\), got 1.5"),
        ({"delta": 1e-6}, "without epsilon"),
        ({"epsilon": 1, "releases": ["oops"]}, r"releases\[0\] must be a dict"),
        ("epsilon=1", "privacy must be a dict"),
    ],
)
def test_bad_privacy_is_refused(evaluation, privacy, message):
    with pytest.raises(ConfigError, match=message):
        build_report(evaluation, privacy=privacy)


def test_attack_summary_is_shown_when_present(small_evaluation, fitted_model):
    attacks = {
        "summary": [
            {"attack": "membership inference (distance)", "metric": "advantage", "value": 0.031,
             "ci": [0.012, 0.05]},
            {"attack": "singling out", "metric": "risk", "value": 0.004, "ci": None},
        ]
    }
    report = build_report(small_evaluation, model=fitted_model, privacy={"attacks": attacks})
    html = report.to_html()
    text = _text(html)
    assert NO_ATTACKS not in html
    assert "membership inference (distance)" in text and "[0.012, 0.05]" in text
    assert "Privacy risk" in text  # the card on the first screen
    assert NO_GUARANTEE in html  # attacks are evidence, not a guarantee
    assert report.headline["privacy_risk"][0]["value"] == 0.031


def test_no_attacks_says_how_to_run_them(html):
    assert NO_ATTACKS.replace("`", "&#96;") in html or NO_ATTACKS in html


# ----------------------------------------------------------------------------- content
def test_first_screen_has_verdict_and_cards(report, html):
    first = _text(html[: html.index('<section id="fidelity">')])
    for label in ("Fidelity", "Association error", "Utility", "Detection AUC", "Median query error"):
        assert label.upper() in first.upper()
    assert "0.061" in first  # mean 2-way TVD
    assert "0.634" in first  # detection AUC
    assert report.verdict[0].startswith("Pairs of columns are distributed roughly like")
    assert math.isclose(report.headline["utility_ratio"], (0.97 + 0.94 + 0.95) / 3)


def test_evaluation_verdict_sentences_win(small_evaluation):
    given = dict(small_evaluation, verdict=["Synthetic rows are close.", "Use them for testing."])
    report = build_report(given)
    assert report.verdict == ("Synthetic rows are close.", "Use them for testing.")
    assert "Use them for testing." in report.to_html()


def test_provenance_lists_model_schema_versions_and_seed(report, html, fitted_model):
    prov = report.provenance
    assert prov["synthesizer"]["name"] == "cart"
    assert prov["synthesizer"]["params"] == fitted_model.get_params()
    assert prov["schema"] == fitted_model.schema_.to_dict()
    assert set(prov["versions"]) >= {"lookalike", "python", "numpy", "pandas", "scikit-learn"}
    assert prov["seeds"] == {"report": 7, "fit": 0, "evaluation": 0}
    text = _text(html)
    assert "min_samples_leaf=5" in text
    assert "read from the data" in text
    assert "scikit-learn" in text


def test_sparse_evaluation_renders():
    sparse = {
        "meta": {"n_real": None, "n_synthetic": None, "target": None},
        "fidelity": {"columns": [], "marginals": {"1way": None, "2way": None}, "associations": None},
        "utility": None,
        "detection": None,
        "queries": None,
    }
    report = build_report(sparse)
    html = report.to_html()
    assert '<meta name="lookalike-plots" content="0">' in html
    assert "No utility evaluation" in html
    assert report.verdict == (
        "The evaluation holds no headline numbers to judge these synthetic rows by.",
    )


def test_object_with_to_dict_is_accepted(evaluation):
    class Evaluation:
        def to_dict(self):
            return evaluation

    assert build_report(Evaluation()).evaluation == build_report(evaluation).evaluation


@pytest.mark.parametrize("bad", [None, 3, "evaluation.json", [1, 2]])
def test_non_evaluation_is_refused(bad):
    with pytest.raises(ConfigError, match="build_report needs an evaluation"):
        build_report(bad)


def test_unfitted_model_is_refused(evaluation):
    from lookalike import get_synthesizer

    with pytest.raises(ConfigError, match="not fitted"):
        build_report(evaluation, model=get_synthesizer("cart"))


# ----------------------------------------------------------------------------- JSON
def test_json_round_trips_with_the_same_numbers(report, tmp_path):
    data = json.loads(report.write_json(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(data) == {
        "confidential", "title", "created", "verdict", "headline", "privacy", "provenance", "evaluation",
    }
    assert data == json.loads(json.dumps(report.to_dict()))
    assert data["headline"]["fidelity_2way_tvd"] == 0.061
    assert data["evaluation"]["detection"]["auc"] == 0.634


def test_nan_becomes_null_in_json(evaluation):
    broken = json.loads(json.dumps(evaluation))
    broken["detection"]["auc"] = float("nan")
    report = build_report(broken)
    assert json.loads(report.to_json())["evaluation"]["detection"]["auc"] is None
    assert report.headline["detection_auc"] is None
