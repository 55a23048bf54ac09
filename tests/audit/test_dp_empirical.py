"""Our DP synthesizers on a worst-case neighbouring pair: the attack never proves more than ε.

D is 200 Adult rows (age, workclass, race, sex, capital-gain) with no record of workclass
"Never-worked"; D' adds one extreme record (Never-worked, race Other, age 90, capital-gain
99,999). Categories and bounds are declared public, so the rare category is in every model's
domain and only the noisy counts can reveal the record. The attack scores each synthetic table
by how many rows carry the record's workclass.

A DP fit at ε = 1 passes when the empirical bound at confidence 0.99 stays at or below 1: by
construction (see :mod:`lookalike.audit.epsilon`) a correct ε-DP fit fails with probability at
most 1%. DP noise comes from OpenDP and is not seedable, so these runs differ each time. The
non-DP control (CART, seeded, reproducible) shows the same attack and fit count can prove more
than ε = 1 when a synthesizer copies the record. ``benchmarks/audit_dp_empirical.py`` runs the
same check with many more fits.
"""

from __future__ import annotations

import pytest

from lookalike.audit._dp_check import neighbour_epsilon
from lookalike.schema import infer_schema

EPSILON = 1.0
DELTA = 1e-9
N_FITS = 50  # per side
COLUMNS = ["age", "workclass", "race", "sex", "capital-gain"]
EXTREME = {"age": 90, "workclass": "Never-worked", "race": "Other", "sex": "Female", "capital-gain": 99_999}


@pytest.fixture(scope="module")
def pair(adult_full):
    table = adult_full[COLUMNS]
    data = table[table["workclass"] != EXTREME["workclass"]].sample(200, random_state=0).reset_index(drop=True)
    declared = infer_schema(table).to_dict()  # every fact written as a plain value counts as declared
    schema = {
        "columns": [
            {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in col.items()}
            for col in declared["columns"]
        ]
    }
    return data, schema


def _score(synth):
    return float((synth["workclass"] == EXTREME["workclass"]).sum())


@pytest.mark.slow  # 100 fits each (~65 s on 2 cores): with the whole-table fits, in make test-slow
@pytest.mark.parametrize("name", ["mst", "privbayes"])
def test_dp_fit_never_proves_more_than_its_epsilon(pair, name):
    data, schema = pair
    bound = neighbour_epsilon(
        name, data, EXTREME, _score, n_fits=N_FITS, schema=schema, epsilon=EPSILON, delta=DELTA,
        confidence=0.99, seed=0,
    )
    assert bound.n_members == bound.n_non_members == N_FITS
    assert bound.epsilon <= EPSILON


def test_control_non_dp_fit_is_caught(pair):
    """CART copies the record's rare category often enough for the bound to exceed ε = 1.

    CART puts the category in about half its outputs with the record and never without it;
    with 100 fits per side (50 on the evaluation half) that proves ε ≈ log(0.39/0.071) ≈ 1.7.
    """
    data, schema = pair
    bound = neighbour_epsilon("cart", data, EXTREME, _score, n_fits=100, schema=schema, confidence=0.95, seed=0)
    assert bound.epsilon > EPSILON
