"""Per-column distances, histograms and k-way marginals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lookalike.evaluate.fidelity import (
    coded_pair,
    column_fidelity,
    fidelity,
    histogram,
    ks_statistic,
    scaled_wasserstein,
)
from lookalike.evaluate.marginals import discretise_pair, mean_tvd
from lookalike.evaluate.tables import ColumnData, prepare
from lookalike.schema import Kind


@pytest.fixture(scope="module")
def self_fidelity(real):
    return fidelity(prepare(real, real), max_3way=50)


@pytest.fixture(scope="module")
def shuffled_fidelity(real, shuffled):
    return fidelity(prepare(real, shuffled), max_3way=50)


def test_real_against_itself_every_distance_is_zero(self_fidelity):
    for c in self_fidelity.columns:
        for value in (c.tvd, c.ks, c.wasserstein):
            assert value in (None, 0.0), c.name
        assert c.marginal_tvd == 0.0
        assert c.missing_real == c.missing_synthetic
        assert c.hist.real == c.hist.synthetic
        if c.kind == "categorical":
            assert (c.coverage, c.unseen_categories) == (1.0, 0)
    m = self_fidelity.marginals
    assert (m.one_way, m.two_way, m.three_way) == (0.0, 0.0, 0.0)
    assert m.n_3way == 50 and m.n_2way == 105


def test_shuffled_columns_keep_one_way_but_lose_pairs(shuffled_fidelity):
    m = shuffled_fidelity.marginals
    # permuting a column leaves its values unchanged, so every 1-way marginal is identical
    assert m.one_way < 0.01
    # Adult's columns are strongly dependent (relationship-sex, education-education-num, ...):
    # the independent product of the marginals is far from the joint in 2-way TVD
    assert m.two_way > 0.05
    assert m.three_way > m.two_way


def test_coded_pair_matches_the_benchmark_discretisation(real, shuffled):
    tables = prepare(real, shuffled)
    ours, theirs = coded_pair(tables), discretise_pair(real, shuffled)
    assert ours.sizes == theirs.sizes
    np.testing.assert_array_equal(ours.real, theirs.real)
    np.testing.assert_array_equal(ours.synth, theirs.synth)
    assert mean_tvd(ours, 2) == mean_tvd(theirs, 2)


def test_distances_on_known_shifts():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    col = ColumnData("x", Kind.FLOAT, a, a + 0.5)
    c = column_fidelity(col)
    # IQR of N(0, 1) is 1.349: a shift of 0.5 moves every value by 0.5 / 1.349 IQRs
    assert c.wasserstein == pytest.approx(0.5 / 1.349, rel=0.03)
    # KS of N(0,1) vs N(0.5,1): 2 Phi(0.25) - 1 = 0.197
    assert c.ks == pytest.approx(0.197, abs=0.015)
    assert ks_statistic(a, a) == 0.0 and scaled_wasserstein(a, a) == 0.0


def test_wasserstein_falls_back_to_the_range_when_iqr_is_zero():
    real = np.r_[np.zeros(90), np.arange(1.0, 11)]  # IQR 0, range 10
    assert scaled_wasserstein(real, real + 1) == pytest.approx(0.1)


def test_categories_coverage_rare_retention_and_unseen():
    real = pd.DataFrame({"c": ["a"] * 600 + ["b"] * 395 + ["r1"] * 3 + ["r2"] * 2, "n": range(1000)})
    synth = pd.DataFrame({"c": ["a"] * 600 + ["b"] * 390 + ["r1"] * 5 + ["new"] * 5, "n": range(1000)})
    c = column_fidelity(prepare(real, synth)["c"])
    assert c.coverage == 0.75  # a, b, r1 of a, b, r1, r2
    assert c.rare_retention == 0.5  # r1 of r1, r2 (each < 1%)
    assert c.unseen_categories == 1
    assert c.tvd == pytest.approx(0.5 * (5 + 2 + 2 + 5) / 1000)


def test_missing_rates_are_separate_from_distances():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
    synth = real.copy()
    synth.loc[:7, "x"] = np.nan  # two whole cycles of 1, 2, 3, 4
    c = column_fidelity(prepare(real, synth)["x"])
    assert (c.missing_real, c.missing_synthetic) == (0.0, 0.4)
    assert c.ks == 0.0  # the non-missing synthetic values have the real distribution


def test_histograms(real):
    tables = prepare(real, real)
    country = histogram(tables["native-country"])
    assert len(country.labels) == 32 and country.labels[-2:] == ("other", "missing")
    assert sum(country.real) == pytest.approx(1.0)
    fnlwgt = histogram(tables["fnlwgt"])
    assert len(fnlwgt.labels) == 30 and len(fnlwgt.edges) == 31
    assert sum(fnlwgt.synthetic) == pytest.approx(1.0)
    years = histogram(tables["education-num"])  # 16 whole numbers: one bin each
    assert years.labels == tuple(str(v) for v in range(1, 17))


def test_datetime_histogram_is_labelled_with_iso_dates():
    days = pd.Series(pd.date_range("2020-01-01", periods=400, freq="D"))
    real = pd.DataFrame({"day": days, "n": range(400)})
    tables = prepare(real, real.assign(day=days + pd.Timedelta(days=30)))
    h = histogram(tables["day"])
    assert h.labels[0] == "2020-01-01" and len(h.labels) == 30
    c = column_fidelity(tables["day"])
    assert c.ks == pytest.approx(30 / 400) and c.wasserstein == pytest.approx(30 / 199.5, rel=0.01)
