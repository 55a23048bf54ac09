"""Non-DP models keep a numeric column of codes on its own values.

The copula interpolated its quantiles and the neural models decoded Gaussian modes, then
rounded: they wrote the integers between a column's codes, values the data never has. In the
many-tables benchmark: compas' decile score 0 between its -1 and 1 (gaussian_copula, tvae,
ctgan), fair's education 10, 11, 15, 18, 19 beside 9, 12, 14, 16, 17, 20 (gaussian_copula),
cars' cylinders 7 (ctgan). Codes stored as decimals too: scikit-learn's diabetes keeps sex as
±0.0507, which came out as a continuum. DP models keep codes through their released bins
(elsewhere).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.transform.codes import CODE_LIMIT, CODE_ROWS, float_codes, integer_codes

N = 1_000
DRAWS = 4_000


def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=N)
    return pd.DataFrame({
        "score": np.select([x < -0.5, x < 0.3, x < 1], [70, 80, 90], 100),  # steps of 10
        "race": rng.choice([1, 2, 3, 5, 9], N, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
        "decile": np.where(rng.random(N) < 0.02, -1, rng.integers(1, 11, N)),  # -1: not scored
        "y": x + rng.normal(size=N),
        "age": rng.integers(18, 90, N),  # every integer of its range: not codes
        "sex": np.where(x + rng.normal(size=N) > 0, 0.0507, -0.0446),  # standardised 0/1
        "rating": rng.choice(np.arange(1.0, 5.5, 0.5), N),  # halves
        "weight": np.round(rng.normal(70, 10, N), 1),  # a measurement: many values, not codes
        # model years 2010-2020 without 2015 (cars' years lack 1981: tvae wrote it for 6%)
        "year": pd.to_datetime([f"{y}-01-01" for y in rng.choice(
            [y for y in range(2010, 2021) if y != 2015], N)]),
    })


def test_codes_are_integer_columns_with_gaps_and_few_values():
    assert integer_codes(np.array([1.0, 2, 3, 5, 9])).tolist() == [1, 2, 3, 5, 9]
    assert integer_codes(np.arange(18.0, 90)) is None  # no gap: rounding stays on values
    wide = np.arange(0.0, 2 * (CODE_LIMIT + 1), 2)  # gaps, but a measurement's many values
    assert integer_codes(wide) is None and integer_codes(wide[:CODE_LIMIT]) is not None


def test_decimal_codes_are_few_values_each_held_by_several_rows():
    two = np.array([0.0507, -0.0446] * CODE_ROWS)
    assert float_codes(two).tolist() == [-0.0446, 0.0507]
    assert float_codes(two[: 2 * CODE_ROWS - 1]) is None  # under CODE_ROWS rows a value
    assert float_codes(np.full(20, 1.5)) is None  # one value: a constant, not codes
    assert float_codes(np.repeat(np.linspace(0, 1, CODE_LIMIT + 1), CODE_ROWS)) is None  # many


@pytest.mark.parametrize("family", ["independent", "gaussian_copula", "cart", "tvae", "ctgan"])
def test_non_dp_families_write_only_the_codes_the_data_has(family, tmp_path):
    real = table()
    params = {"epochs": 10} if family in ("tvae", "ctgan") else {}
    model = lookalike.get_synthesizer(family, **params).fit(real, seed=0)
    loaded = lookalike.load_synthesizer(model.save(tmp_path / "m.lookalike"))
    for out in (model.sample(DRAWS, seed=1), loaded.sample(DRAWS, seed=1),
                model.sample(300, conditions=["score>=85"], seed=2)):
        for name in ("score", "race", "decile", "sex", "rating", "year"):
            assert set(out[name]) <= set(real[name]), (name, sorted(set(out[name]) - set(real[name])))
            assert out[name].dtype == real[name].dtype
        assert out["weight"].nunique() > 50  # a measurement stays one
    # each code's share as the data's: the copula's step function and the neural models'
    # calibration count the same codes (binomial sd of a share of 4,000 draws <= 0.008)
    if family in ("gaussian_copula", "tvae", "ctgan"):
        out = model.sample(DRAWS, seed=3)
        for name in ("score", "race", "decile", "sex", "rating", "year"):
            got = out[name].value_counts(normalize=True)
            want = real[name].value_counts(normalize=True)
            assert (got.reindex(want.index, fill_value=0) - want).abs().max() < 0.04, name
