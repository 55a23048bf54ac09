"""audit(): one call, every attack, errors that name the option, seeds, and the report."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import lookalike
from lookalike.audit import AuditResult, audit
from lookalike.audit.api import build_result
from lookalike.errors import ColumnMismatchError, ConfigError, TargetError
from lookalike.report import build_report


@pytest.fixture(scope="module")
def split(adult_full) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = adult_full.sample(2500, random_state=2).reset_index(drop=True)
    return rows.iloc[:2000].reset_index(drop=True), rows.iloc[2000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(split):
    return lookalike.get_synthesizer("independent").fit(split[0], seed=0)


@pytest.fixture(scope="module")
def copy_result(split) -> AuditResult:
    train, holdout = split
    return audit(train, train, holdout, secret="occupation", targets=[3, 40], seed=0)


def test_a_copy_is_judged_high_risk(copy_result):
    r = copy_result
    assert r.verdict()[0].startswith("Privacy risk high")
    assert r.membership.distance.auc > 0.99
    assert [a.secret for a in r.attribute] == ["occupation"]
    assert [t.row for t in r.targets] == [3, 40]
    assert all(t.distance > 0.9 for t in r.targets)  # a copied row outscores most non-members
    rows = r.summary()
    assert rows[0]["attack"] == "membership inference (distance)"
    assert {"attack", "metric", "value", "ci"} == set(rows[0])
    assert set(r.meta.timings) >= {"similarity", "membership", "attribute", "singling_out", "linkability"}


def test_json_is_strict_and_complete(copy_result):
    d = json.loads(copy_result.to_json())
    assert set(d) >= {"meta", "similarity", "membership", "attribute", "singling_out", "linkability",
                      "targets", "most_exposed", "summary", "verdict"}
    assert len(d["most_exposed"]) == 10 and set(d["most_exposed"][0]) == {"row", "distance", "density"}


def test_equal_seeds_give_equal_results(split):
    train, holdout = split
    synth = train.sample(frac=1.0, random_state=0)
    a = audit(train, synth, holdout, secret="sex", seed=5).to_dict()
    b = audit(train, synth, holdout, secret="sex", seed=5).to_dict()
    for d in (a, b):
        d["meta"].pop("seconds"), d["meta"].pop("timings")
    assert a == b


def test_without_holdout_only_similarity_runs(split):
    train, _ = split
    r = audit(train, train, seed=0)
    assert r.membership is None and r.attribute == () and r.singling_out is None
    assert any("no holdout" in n for n in r.meta.notes)
    assert r.verdict()[0].startswith("Only similarity was measured")


def test_holdout_with_other_columns_names_them(split):
    train, holdout = split
    with pytest.raises(ColumnMismatchError, match=r"missing from the holdout: \['income'\].*--holdout"):
        audit(train, train, holdout.drop(columns="income"), seed=0)


def test_unknown_secret_and_quasi_identifier_name_the_option(split):
    train, holdout = split
    with pytest.raises(ConfigError, match=r"secret names \['salary'\]"):
        audit(train, train, holdout, secret="salary")
    with pytest.raises(ConfigError, match=r"quasi_identifiers names \['zip'\]"):
        audit(train, train, holdout, quasi_identifiers="age,zip")


def test_targets_out_of_range_are_refused(split):
    train, holdout = split
    with pytest.raises(TargetError, match="out of range"):
        audit(train, train, holdout, targets=[5, 2000])


def test_shadow_needs_a_model_and_enough_fits(split, model):
    train, holdout = split
    with pytest.raises(ConfigError, match="give its model file"):
        audit(train, train, holdout, shadow=10)
    with pytest.raises(ConfigError, match=r"shadow=2 \(--shadow\) is too few"):
        audit(train, train, holdout, model=model, shadow=2)


def test_shadow_refits_the_models_synthesizer_with_its_settings(split, model, monkeypatch):
    import lookalike.audit.shadow as shadow_module

    train, holdout = split
    seen = {}
    real_attack = shadow_module.shadow_attack

    def spy(real, synthesizer, **kwargs):
        seen.update(synthesizer=synthesizer, **kwargs)
        return real_attack(real, synthesizer, **{**kwargs, "reference_size": 200, "progress": False})

    monkeypatch.setattr(shadow_module, "shadow_attack", spy)
    synth = model.sample(len(train), seed=0)
    r = audit(train, synth, holdout, model=model, shadow=4, targets=[1, 2], secret="sex", seed=0)
    assert seen["synthesizer"] == "independent" and seen["params"] == model.get_params()
    assert seen["n_fits"] == 4 and seen["epsilon"] is None
    assert list(seen["targets"].rows) == [1, 2]
    assert [t.row for t in r.shadow.targets] == [1, 2]
    assert all(t.shadow_auc is not None for t in r.targets)
    assert any(row["attack"] == "shadow-model membership" for row in r.summary())


def test_report_has_the_privacy_section_and_never_a_targets_values(split, copy_result):
    train, _ = split
    rep = build_report(audit=copy_result, title="audit")
    html = rep.to_html()
    assert 'data-plot="roc-membership"' in html
    assert rep.headline["privacy_risk"][0]["attack"] == "membership inference (distance)"
    assert rep.verdict[0].startswith("Privacy risk high")  # the report's level, with reasons
    for row in (3, 40):  # fnlwgt is all but unique: its value would give the record away
        assert f">{train.loc[row, 'fnlwgt']}<" not in html and f"{train.loc[row, 'fnlwgt']:,}" not in html
    assert "not privacy guarantees" in html


def test_report_with_evaluation_appends_the_privacy_risk_sentence(copy_result):
    evaluation = {"fidelity": {"marginals": {"2way": 0.04}}, "detection": {"auc": 0.55}}
    rep = build_report(evaluation, audit=copy_result)
    assert rep.verdict[-1].startswith("Privacy risk high")
    assert copy_result.verdict()[0] not in rep.to_html()  # the audit's own head: not repeated
    assert rep.verdict[0].startswith("Pairs of columns")


def test_shadow_of_a_dp_model_uses_its_epsilon_and_delta(monkeypatch):
    import lookalike.audit.shadow as shadow_module
    from lookalike.audit.api import _run_shadow

    class DPModel:
        name = "mst"
        privacy_ = {"differentially_private": True, "epsilon": 1.0, "delta": 1e-9}

        def get_params(self):
            return {"degree": 2}

    seen = {}
    monkeypatch.setattr(shadow_module, "shadow_attack", lambda real, synth, **kw: seen.update(synth=synth, **kw))
    _run_shadow(pd.DataFrame({"a": [1]}), DPModel(), 8, None, None, 0)
    assert (seen["synth"], seen["params"], seen["epsilon"], seen["delta"], seen["n_fits"]) == (
        "mst", {"degree": 2}, 1.0, 1e-9, 8
    )


def test_empirical_epsilon_above_the_claim_is_flagged(copy_result):
    """A copy of the training rows proves a large ε: claimed 0.5 is flagged, claimed 1000 is not."""
    import dataclasses

    assert copy_result.dp_check() == []  # no claim, nothing to check
    bound = copy_result.membership.distance.epsilon.epsilon
    assert bound > 0.5  # thousands of copied rows: the distance attack is near perfect

    def claiming(eps):
        parts = {f.name: getattr(copy_result, f.name) for f in dataclasses.fields(copy_result)}
        parts.pop("verdict_sentences")  # build_result computes them from the new claim
        return build_result(**{**parts, "meta": dataclasses.replace(copy_result.meta, epsilon_claimed=eps)})

    broken = claiming(0.5)
    assert any(c["violation"] and c["kind"] == "indicative" for c in broken.dp_check())
    assert broken.verdict()[0].startswith("Possible DP violation")
    assert "claimed ε = 0.5" in broken.verdict()[0]
    fine = claiming(1000.0)
    assert not any(c["violation"] for c in fine.dp_check())
    assert any(v.startswith("Claimed ε = 1000: no attack proves more") for v in fine.verdict())
    assert json.loads(broken.to_json())["dp_check"][0]["claimed_epsilon"] == 0.5


def test_claimed_epsilon_must_be_positive(split):
    train, holdout = split
    with pytest.raises(ConfigError, match="claimed_epsilon"):
        audit(train, train, holdout, claimed_epsilon=0, seed=0)


def test_verdict_is_computed_once_and_stored(copy_result, monkeypatch):
    """The sentences live on the result: reading them calls no verdict code again."""
    import lookalike.audit.verdict as verdict_module

    def refuse(**_):
        raise AssertionError("the verdict was computed again")

    monkeypatch.setattr(verdict_module, "sentences", refuse)
    assert copy_result.verdict() == list(copy_result.verdict_sentences)
    assert copy_result.verdict()[0].startswith("Privacy risk high")
    assert copy_result.to_dict()["verdict"] == copy_result.verdict()
    assert "verdict_sentences" not in copy_result.to_dict()


def test_verdict_and_result_modules_do_not_import_each_other():
    """verdict.py reads result types only; the result types import no verdict and no api."""
    import ast
    import inspect

    import lookalike.audit.result as result_module
    import lookalike.audit.verdict as verdict_module

    def imported(module) -> set[str]:
        tree = ast.parse(inspect.getsource(module))
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }

    assert "lookalike.audit.api" not in imported(verdict_module)
    assert not imported(result_module) & {"lookalike.audit.api", "lookalike.audit.verdict"}


def test_the_audit_verdict_weighs_copies_and_epsilon_as_the_report_does(copy_result):
    """The audit's own first sentence (printed by `lookalike audit`) is the report's risk
    level: a release whose synthetic rows copy training rows is never called low risk there."""
    from lookalike.audit.risk import privacy_risk

    level = privacy_risk(copy_result.to_dict())
    assert level["level"] == "high"
    assert copy_result.verdict()[0] == level["sentence"]
