"""Calibration of neural samples to measured 1-way marginals: exact quotas, order kept, charged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.evaluate.marginals import discretise_pair, mean_tvd
from lookalike.schema import infer_schema
from lookalike.synthesizers.neural._calibrate import calibrate_choices, calibrate_values, quotas
from lookalike.transform.encoder import TableEncoder


def test_quotas_sum_to_n_and_follow_the_target():
    q = quotas(np.array([3.0, -1.0, 1.0, 0.5]), 9)
    assert q.sum() == 9 and q[1] == 0
    assert np.abs(q / 9 - np.array([3, 0, 1, 0.5]) / 4.5).max() <= 1 / 9


@pytest.mark.parametrize("concentration", [0.05, 1.0, 50.0])  # near one-hot … near uniform outputs
def test_choices_meet_the_quotas_and_move_the_least_sure_rows(concentration):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(4, concentration), size=5000)
    target = np.array([40.0, 30.0, 20.0, 10.0])
    pick = calibrate_choices(probs, target)
    assert np.bincount(pick, minlength=4).tolist() == quotas(target, 5000).tolist()
    # a row the generator was sure about keeps its category more often than an unsure one
    top = probs.max(axis=1)
    kept = pick == probs.argmax(axis=1)
    assert kept[top > np.quantile(top, 0.75)].mean() >= kept[top < np.quantile(top, 0.25)].mean()


def test_values_map_monotonically_onto_the_bin_shares():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"x": rng.gamma(2.0, 10.0, 4000)})
    codec = TableEncoder.fit(real, infer_schema(real), n_bins=10).codecs[0]
    target = np.bincount(codec.encode(real["x"]), minlength=codec.size).astype(float)
    fake = pd.Series(rng.normal(20.0, 3.0, 3000))  # too narrow: most values must move
    out = calibrate_values(fake, codec, target, rng)
    assert np.bincount(codec.encode(out), minlength=codec.size).tolist() == quotas(target, 3000).tolist()
    # monotone: a larger generated value never lands in a lower bin
    before, after = fake.to_numpy(), codec.encode(out)
    order = np.argsort(before)
    assert (np.diff(after[order]) >= 0).all()
    # values already in the bin they are mapped to are left as generated
    same = codec.encode(fake) == after
    assert same.any() and np.array_equal(out.to_numpy()[same], before[same])


def test_equal_values_move_in_the_order_given_not_at_random():
    """A 0/1 code: each value is a bin of its own, so every 1 ties with every other 1. The rows
    that leave an over-full code are those whose ``order`` (the generator's expected value) lies
    nearest the code they move to, whatever the random tie-breaker draws."""
    rng = np.random.default_rng(2)
    real = pd.DataFrame({"y": np.r_[np.zeros(600), np.ones(400)].astype(int)})
    codec = TableEncoder.fit(real, infer_schema(real), n_bins=10).codecs[0]
    target = np.bincount(codec.encode(real["y"]), minlength=codec.size).astype(float)
    fake = pd.Series(np.r_[np.zeros(400), np.ones(600)].astype(int))  # 200 ones too many
    soft = np.r_[rng.uniform(0.0, 0.5, 400), rng.uniform(0.5, 1.0, 600)]
    for seed in range(3):
        out = calibrate_values(fake, codec, target, np.random.default_rng(seed), order=soft)
        assert int(out.sum()) == 400
        moved = (fake == 1).to_numpy() & (out == 0).to_numpy()
        # the 200 ones with the lowest expected value, exactly
        assert set(np.flatnonzero(moved)) == set(np.argsort(soft)[400:600])
    with pytest.raises(ValueError, match="order has shape"):
        calibrate_values(fake, codec, target, rng, order=soft[:10])


def test_expected_values_weigh_each_mode_by_the_outputs():
    """Two modes at 0 and 10 (σ = 1, α = (x − μ) / 4σ): the expected value is Σ p_k (μ_k + 4α),
    clipped to the column's bounds, with the missing slot left out of the weights."""
    from lookalike.synthesizers.neural._encoding import NeuralEncoder
    from lookalike.transform.normalizer import ModeNormalizer

    real = pd.DataFrame({"y": [0.0, 10.0, 0.5, None] * 5})
    norm = ModeNormalizer(np.array([0.0, 10.0]), np.ones(2), np.full(2, 0.5), -2.0, 12.0)
    enc = NeuralEncoder({}, {"y": norm}, {"y": True}, infer_schema(real))
    tanh, modes = enc.spans
    assert (tanh.size, modes.size) == (1, 3)  # α, two modes, missing
    x = np.zeros((4, enc.dim))
    x[:, modes.start : modes.start + 3] = [[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.25, 0.25, 0.5], [0.0, 1.0, 0.0]]
    x[:, tanh.start] = [0.0, 0.25, 0.0, 0.9]  # the last: 10 + 3.6, clipped to 12
    assert np.allclose(enc.expected_values(x)["y"], [0.0, 0.3 * 1 + 0.7 * 11, 5.0, 12.0])


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    real = lookalike.load_demo().sample(2000, random_state=3).reset_index(drop=True)
    return real[["age", "sex", "race", "hours-per-week", "income"]]


def _one_way(real: pd.DataFrame, synth: pd.DataFrame) -> float:
    return mean_tvd(discretise_pair(real, synth[list(real.columns)], n_bins=10), 1)


def test_dp_fit_pays_for_the_one_ways_and_calibration_brings_them_close(small):
    pytest.importorskip("torch")
    pytest.importorskip("opacus")
    kw = {"epochs": 1, "batch_size": 100}
    on = lookalike.get_synthesizer("dptvae", **kw).fit(small, epsilon=2.0, seed=0)
    off = lookalike.get_synthesizer("dptvae", calibrate=False, **kw).fit(small, epsilon=2.0, seed=0)
    names = [r.name for r in on.privacy_.releases]
    assert [f"1-way {c}" for c in small.columns] == [n for n in names if n.startswith("1-way ")]
    assert not any(n.startswith("1-way ") for n in (r.name for r in off.privacy_.releases))
    for model in (on, off):
        assert model.privacy_.epsilon_spent <= 2.0 * (1 + 1e-9)
    # calibration puts each column's shares on its released (noisy) 1-way: off by rounding
    # only, at most one row a cell (~15 cells / 4,000 = 0.004; measured <= 0.002)
    encoder, targets = on.calibration_
    drawn = on.sample(2000, seed=1)
    codes = encoder.encode(drawn)
    for j, target in enumerate(targets):
        shares = np.bincount(codes[:, j], minlength=len(target)) / len(codes)
        assert 0.5 * np.abs(shares - target / target.sum()).sum() < 0.01, encoder.names[j]
    # against the real rows the DP noise adds (DP-SGD noise is not seeded, so neither is this):
    # sigma ~ 25 per count (a tenth of rho = 0.04 over 5 columns) on 2,000 rows and ~15 cells a
    # column gives E|TVD| ~ 15 * 25 * 0.8 / 4,000 = 0.075 at most; measured over 30 fits mean
    # 0.07, sd 0.02, max 0.13; one epoch leaves the uncalibrated model far off (~0.5)
    err_on = _one_way(small, drawn)
    err_off = _one_way(small, off.sample(2000, seed=1))
    assert err_on < 0.2
    assert err_on < err_off / 3


def test_conditional_draws_are_not_calibrated(small):
    pytest.importorskip("torch")
    model = lookalike.get_synthesizer("tvae", epochs=2, batch_size=100, patience=None).fit(small, seed=0)
    out = model.sample(300, conditions={"income": [">50K"]}, seed=2)
    assert (out["income"] == ">50K").all()
    # unconditional samples carry the exact training shares (non-DP targets are exact counts)
    shares = model.sample(2000, seed=3)["sex"].value_counts(normalize=True)
    real = small["sex"].value_counts(normalize=True)
    assert np.abs(shares - real).max() <= 1 / 2000 + 1e-12
