"""The cheap attacks on Adult subsamples: a copy of the training rows leaks, an
independent-columns synthesizer does not (within the attacks' 95% intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.audit.attribute import attribute_inference
from lookalike.audit.linkability import linkability
from lookalike.audit.membership import membership
from lookalike.audit.similarity import WARNING, similarity
from lookalike.audit.singling_out import singling_out
from lookalike.errors import ConfigError
from lookalike.evaluate.tables import prepare


@pytest.fixture(scope="module")
def split(adult_full) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = adult_full.sample(8000, random_state=1).reset_index(drop=True)
    return rows.iloc[:6000].reset_index(drop=True), rows.iloc[6000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def copy_tables(split):
    train, holdout = split
    return prepare(train, train, holdout)


@pytest.fixture(scope="module")
def independent_tables(split):
    train, holdout = split
    synth = lookalike.get_synthesizer("independent").fit(train, seed=0).sample(len(train), seed=0)
    return prepare(train, synth, holdout)


# ---------------------------------------------------------------------------- similarity
def test_copy_is_all_exact_matches_and_closer_to_training(copy_tables):
    s = similarity(copy_tables, seed=0)
    assert s.exact_match.value == 1.0
    assert s.exact_match_holdout.value < 0.01
    assert s.dcr_median_train == 0.0 < s.dcr_median_holdout
    assert s.closer_to_train.ci[0] > s.closer_expected
    assert s.warning == WARNING and "not privacy guarantees" in s.to_dict()["warning"]


def test_independent_is_as_close_to_holdout_as_to_training(independent_tables):
    s = similarity(independent_tables, seed=0)
    assert s.exact_match.value < 0.01
    lo, hi = s.closer_to_train.ci
    assert lo <= s.closer_expected <= hi


# ---------------------------------------------------------------------------- membership
def test_distance_attack_finds_a_copy(copy_tables):
    m = membership(copy_tables, seed=0)
    assert m.distance.auc > 0.99 and m.distance.tpr_at_1pct > 0.9
    assert m.distance.epsilon.epsilon > 3
    assert m.density.auc > 0.95
    assert m.distance.n_members == 6000 and m.distance.n_non_members == 2000


def test_membership_on_independent_columns_is_chance(independent_tables):
    m = membership(independent_tables, seed=0)
    for attack in (m.distance, m.density):
        lo, hi = attack.auc_ci
        assert lo <= 0.5 <= hi, attack.name
        assert attack.epsilon.epsilon < 0.5


def test_membership_json_has_no_per_record_scores(copy_tables):
    d = membership(copy_tables, seed=0).to_dict()
    assert "member_scores" not in d["distance"] and len(d["distance"]["roc"]["fpr"]) <= 250


def test_membership_needs_a_holdout(split):
    train, _ = split
    with pytest.raises(ConfigError, match="needs a holdout"):
        membership(prepare(train, train), seed=0)


# ---------------------------------------------------------------------------- attribute inference
def test_attribute_inference_from_a_copy_beats_the_holdout_reference(copy_tables):
    (a,) = attribute_inference(copy_tables, secrets=["occupation"], seed=0, n_targets=300)
    assert a.attack.value > a.reference.ci[1]
    assert a.risk.ci[0] > 0.8 and a.risk_vs_control.ci[0] > 0.8
    assert "occupation" not in a.quasi_identifiers


def test_attribute_inference_from_independent_columns_adds_nothing(independent_tables):
    results = attribute_inference(independent_tables, secrets=["occupation", "income"], seed=0, n_targets=300)
    for a in results:
        assert a.risk.ci[0] == 0.0, a.secret
        assert a.attack.value <= a.reference.ci[1]


def test_attribute_inference_reports_named_targets_without_values(copy_tables):
    (a,) = attribute_inference(copy_tables, secrets=["sex"], targets=[5, 17], seed=0, n_targets=100)
    assert a.target_rows == (5, 17) and a.target_hits == (True, True)
    assert set(a.to_dict()) >= {"attack", "reference", "control", "baseline", "risk"}


def test_attribute_inference_names_a_bad_column(copy_tables):
    with pytest.raises(ConfigError, match=r"secret names \['salary'\].*choose among"):
        attribute_inference(copy_tables, secrets=["salary"], seed=0)
    with pytest.raises(ConfigError, match="quasi_identifiers names"):
        attribute_inference(copy_tables, secrets=["sex"], quasi_identifiers=["age", "zip"], seed=0)


# ---------------------------------------------------------------------------- singling out
def test_singling_out_is_riskier_for_a_copy_than_for_independent_columns(copy_tables, independent_tables):
    copy = singling_out(copy_tables, n_attacks=200, seed=0)
    indep = singling_out(independent_tables, n_attacks=200, seed=0)
    assert copy.attack.value == 1.0 and copy.risk.ci[0] > 0.8
    assert indep.risk.ci[0] < 0.05
    assert copy.risk.value > indep.risk.ci[1]
    assert copy.baseline.value < 0.2  # random predicates rarely single anyone out


# ---------------------------------------------------------------------------- linkability
def test_linkability_links_a_copy_and_not_independent_columns(copy_tables, independent_tables):
    copy = linkability(copy_tables, seed=0, n_attacks=300)
    indep = linkability(independent_tables, seed=0, n_attacks=300)
    assert copy.risk.ci[0] > 0.5
    assert indep.risk.ci[0] == 0.0
    assert set(copy.columns[0]).isdisjoint(copy.columns[1])


def test_linkability_refuses_overlapping_columns(copy_tables):
    with pytest.raises(ConfigError, match="no column in both"):
        linkability(copy_tables, columns=(["age", "sex"], ["sex"]), seed=0)


# ---------------------------------------------------------------------------- seeds
def test_equal_seeds_give_equal_results(independent_tables):
    a = singling_out(independent_tables, n_attacks=50, seed=3).to_dict()
    b = singling_out(independent_tables, n_attacks=50, seed=3).to_dict()
    assert a == b
    m1, m2 = membership(independent_tables, seed=3), membership(independent_tables, seed=3)
    assert np.array_equal(m1.density.member_scores, m2.density.member_scores)
