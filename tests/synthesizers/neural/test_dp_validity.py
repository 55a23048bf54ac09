"""DP neural families on a small table of codes and flags: issue 17's validity rules.

dpctgan, dptvae and pategan fit a 3,000-row table at ε = 1 with nothing declared (a few epochs:
the rules are post-processing of what was released, whatever the training), and their output
must hold: no spurious missing value (at most validity's 0.1% per column), integer columns as
integers, no value outside the discovered domain, none outside the real one for categories,
codes only within the noise of discovery, binary columns with both values, and a support that
survives the model file.

OpenDP's noise is not seedable, so each bound below holds with a margin the noise reaches only
with tiny probability, stated at the assertion. The noise, at ε = 1 (ρ ≈ 0.0149) over six
columns: each column's calibration 1-way costs ONE_WAY_SHARE·ρ/6 ≈ 2.5e-4, of which the plain
count of a numeric column keeps half (σ ≈ 64 rows) and of a categorical one a quarter
(σ ≈ 90; discovery borrows the rest); discovery, sized to the table (about 22% of ρ), gives
each numeric column's top-level cells σ ≈ 48.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import small_clinic

import lookalike
from lookalike.errors import ConfigError
from lookalike.evaluate.validity import validity

pytest.importorskip("torch")
pytest.importorskip("opacus")

# few steps and two modes a number (fitting the modes to 20,000 draws from the DP bins takes
# most of a fit's time; wide modes put more values between the codes: a harder test of decoding)
QUICK = {"dpctgan": {"epochs": 2, "max_modes": 2}, "dptvae": {"epochs": 2, "max_modes": 2},
         "pategan": {"iterations": 20, "max_modes": 2}}
CODES = ["flag", "race", "score", "year", "outcome"]  # integer columns, all codes


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """3,000 rows: a 0/1 flag split 50/50, sex F/M 45/55, a race code 1–5 (10% each for 4 and
    5), a score in steps of 10, a year 1995–2003, a 0/1 outcome with about 13.5% ones."""
    return small_clinic.clinic(flag_share=0.5, sex_shares=(0.45, 0.55),
                               race_shares=(0.4, 0.25, 0.15, 0.1, 0.1),
                               outcome=(0.06, 0.15, 0.0), days=False)


def _fit(name: str, table: pd.DataFrame, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the small-table warning names 'sex' at this size
        return lookalike.get_synthesizer(name, **QUICK[name], **params).fit(table, epsilon=1.0, seed=0)


@pytest.fixture(scope="module", params=sorted(QUICK))
def fitted(request, table):
    model = _fit(request.param, table)
    return request.param, model, model.sample(len(table), seed=1)


def _inside_domain(model, synth: pd.DataFrame) -> dict[str, float]:
    """Per numeric column, the share of values that lie outside the bin their code gives them
    in the model's discovered domain (0 when the domain rule holds)."""
    out = {}
    for codec in model.domain_.codecs:
        if codec.bins is not None:
            x = synth[codec.column.name].to_numpy(dtype=float, na_value=np.nan)
            x = x[~np.isnan(x)]
            out[codec.column.name] = float(np.mean(codec.bins.within(x) != x)) if len(x) else 0.0
    return out


def test_no_spurious_missing_values(fitted, table):
    # no column has a missing value: each missing state's noisy count (σ ≈ 64-90) reaches 4σ
    # with probability 3e-5, else calibration gives it no mass and its slot is never chosen
    name, model, synth = fitted
    v = validity(table, synth)
    for col in v.columns:
        assert col.spurious_missing <= col.missing_tolerance, (name, col.name, col.spurious_missing)
    assert set(model.support_) == set(table.columns), (name, sorted(model.support_))


def test_integer_columns_stay_integers(fitted):
    name, _, synth = fitted
    for col in CODES:
        assert pd.api.types.is_integer_dtype(synth[col].dtype), (name, col, synth[col].dtype)
        x = synth[col].dropna().to_numpy(dtype=float)
        assert np.all(x == np.round(x)), (name, col)


def test_values_stay_in_the_discovered_domain(fitted):
    # decoding puts every number inside its bin (a point bin: its value): holds exactly
    name, model, synth = fitted
    assert _inside_domain(model, synth) == dict.fromkeys(CODES, 0.0), name


def _phantom_rows(model, col: str, real: set, n: int) -> float:
    """The most of ``n`` calibrated rows that the model's bins of ``col`` holding a value no
    real row has (cells discovery let through on noise) may receive: each bin's quota is its
    calibration share of ``n`` rounded up."""
    codecs, targets = model.calibration_
    j = codecs.names.index(col)
    bins, target = codecs.codecs[j].bins, targets[j]
    share = target / target.sum()
    out = 0.0
    for k in range(bins.n_bins):
        lo, hi = int(bins.lower[k]), int(bins.upper[k])
        if hi - lo + 1 > len(real) or not set(range(lo, hi + 1)) <= real:
            out += float(np.ceil(share[k] * n))
    return out


def test_codes_and_categories_stay_in_the_real_domain(fitted, table):
    # sex: "other" (true count 0, σ ≈ 90) is drawn only if its count passes 4σ (3e-5). Codes: a
    # value no row holds comes only from a cell discovery let through on noise (in 1,000
    # simulated discoveries of this table: year 1995-2003 gained 2004-2007 in a few %, race 6-9
    # less often), and calibration gives each bin exactly its quota: at most that cell's noisy
    # share (rounded up), never a value the model made up between or beyond the codes
    name, model, synth = fitted
    assert synth["sex"].isin({"F", "M"}).all(), name
    for col in CODES:
        real = set(table[col].tolist())
        outside = int((~synth[col].isin(real)).sum())
        bound = _phantom_rows(model, col, real, len(synth))
        assert outside <= bound, (name, col, outside, bound)


def test_binary_columns_keep_both_values(fitted, table):
    # the outcome's 1s (405 rows) clear discovery's top-level cut (4.5σ ≈ 214) by 4σ (3e-5);
    # calibration then gives them their noisy share, 5σ above 5% of the rows
    name, _, synth = fitted
    for col in ["flag", "sex", "outcome"]:
        shares = synth[col].value_counts(normalize=True)
        assert len(shares) == 2 and shares.min() >= 0.05, (name, col, shares.to_dict())


def test_conditional_draws_keep_the_rules(fitted):
    # conditions turn calibration off: support and domain still hold (the output slots of
    # unsupported codes are never chosen, numbers decode inside their bins)
    name, model, _ = fitted
    rows = model.sample(300, conditions={"sex": ["F"]}, seed=2)
    assert set(rows["sex"]) == {"F"}
    assert rows.isna().sum().sum() == 0, name
    assert _inside_domain(model, rows) == dict.fromkeys(CODES, 0.0), name


def test_support_survives_save_and_load(fitted, table, tmp_path):
    name, model, _ = fitted
    model.save(tmp_path / "m.lkl")
    again = lookalike.load_synthesizer(tmp_path / "m.lkl")
    assert set(again.support_) == set(model.support_)
    assert all(np.array_equal(again.support_[k], model.support_[k]) for k in model.support_)
    synth = again.sample(len(table), seed=1)
    assert synth.isna().sum().sum() == 0, name
    assert _inside_domain(again, synth) == dict.fromkeys(CODES, 0.0), name


def test_uncalibrated_gan_measures_its_categories(table):
    # without calibration dpctgan measures its categorical 1-ways alone (σ ≈ 27 here): "other"
    # and the missing state of sex fall under 4σ and are never drawn; numbers stay in the
    # domain. A numeric column's missing state has no count to test and is left to the network.
    model = _fit("dpctgan", table, calibrate=False)
    assert model.calibration_ is None and "sex" in model.support_
    synth = model.sample(len(table), seed=1)
    assert set(synth["sex"].dropna()) <= {"F", "M"} and synth["sex"].notna().all()
    assert _inside_domain(model, synth) == dict.fromkeys(CODES, 0.0)


@pytest.mark.parametrize(("share", "calibrate", "match"), [
    (0.9, True, r"discovery_share=0\.9 leaves no budget .* take 0\.11: use a discovery_share below 0\.89"),
    (0.995, False, r"leaves no budget .* take 0\.01"),
    (1.5, True, "must be None .* or lie strictly between 0 and 1, got 1.5"),
    ("auto", True, "must be None"),
])
def test_discovery_share_is_checked_before_reading(share, calibrate, match, table):
    with pytest.raises(ConfigError, match=match):
        lookalike.get_synthesizer("dptvae", discovery_share=share, calibrate=calibrate).fit(
            table, epsilon=1.0, seed=0)
