"""Every step over a few seconds reports progress (issue 18, friction 4): evaluate, mst, aim and
large samples, through ``lookalike._progress.set_listener`` (what a terminal bar shows)."""

from __future__ import annotations

import pytest

import lookalike._progress as prog
from lookalike import get_synthesizer
from lookalike.evaluate import evaluate


@pytest.fixture
def heard():
    seen: list[tuple[str, float | None, float]] = []
    prog.set_listener(lambda d, t, c: seen.append((d, t, c)))
    yield seen
    prog.set_listener(None)


def _steps(seen, prefix):
    return [s for s in seen if s[0].startswith(prefix)]


def test_evaluate_reports_its_stages(heard, adult_small):
    evaluate(adult_small.iloc[:300], adult_small.iloc[300:600], target="income")
    steps = _steps(heard, "evaluating")
    names = [d for d, _, _ in steps]
    for stage in ("marginals", "utility", "detection", "queries", "validity"):
        assert any(stage in n for n in names), names
    assert steps[-1][1] == 6 and steps[-1][2] == 6  # completed


def test_drawing_the_report_reports_progress(heard, adult_small):
    """Drawing a report takes about half a second a figure (7-10 s for 15 columns)."""
    from lookalike.report import build_report

    ev = evaluate(adult_small.iloc[:300], adult_small.iloc[300:600], target="income")
    build_report(ev)._render()
    steps = _steps(heard, "report: drawing")
    total = steps[0][1]
    assert len(steps) > 15 and steps[-1][2] == total  # one step a column, to the end


@pytest.mark.parametrize("name, prefix", [("mst", "mst: estimating"), ("aim", "aim: measuring")])
def test_marginal_models_report_progress(heard, adult_small, name, prefix):
    get_synthesizer(name).fit(adult_small.iloc[:800], epsilon=1.0, seed=0)
    steps = _steps(heard, prefix)
    assert len(steps) > 3
    total = steps[0][1]
    assert all(0 <= c <= total + 1e-9 for _, _, c in steps)
    if name == "aim":  # hundredths of the budget: the last round spends what is left
        assert steps[-1][2] == pytest.approx(100, abs=0.5)


def test_large_samples_report_progress_and_keep_keys_unique(heard, monkeypatch):
    import numpy as np
    import pandas as pd

    import lookalike.synthesizers.base as base

    monkeypatch.setattr(base, "SAMPLE_CHUNK", 1_000)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": [f"K-{i:06d}" for i in range(500)], "x": rng.normal(size=500),
                          "g": rng.choice(["a", "b"], 500)})
    model = get_synthesizer("independent").fit(table, seed=0)
    rows = model.sample(3_500, seed=1)
    assert len(rows) == 3_500 and rows["id"].is_unique  # keys drawn once, over every chunk
    steps = _steps(heard, "independent: sampling")
    assert [c for _, _, c in steps] == [0, 1_000, 2_000, 3_000, 3_500]


def test_a_bar_inside_another_is_silent_not_an_error(monkeypatch):
    """Only one live display may run: a step inside another's (a shadow attack refitting cart
    inside the audit's bar) draws nothing instead of raising rich's LiveError."""
    monkeypatch.setattr(prog, "enabled", lambda: True)
    with prog.progress("outer", 2) as outer:
        with prog.progress("inner", 3) as inner:
            inner()
            inner()
        outer()
    with prog.progress("again", 1) as again:  # the state is reset afterwards
        again()
