"""MST and AIM under DP: the budget is kept, accuracy follows ε, models hold no rows, the ledger
refuses over-spending before the data is read."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import lookalike
from lookalike.errors import BudgetExceededError, ConfigError
from lookalike.evaluate.marginals import discretise_pair, mean_tvd
from lookalike.privacy.ledger import PrivacyLedger


@pytest.fixture(scope="module")
def adult_8k(adult_full):
    return adult_full.sample(8000, random_state=1).reset_index(drop=True)


def _two_way(real, synth) -> float:
    return mean_tvd(discretise_pair(real, synth[list(real.columns)], n_bins=20), 2)


@pytest.mark.parametrize("name", ["mst", "aim"])
def test_budget_is_spent_exactly_and_every_release_listed(name, adult_8k):
    params = {"rounds": 12} if name == "aim" else {}
    model = lookalike.get_synthesizer(name, **params).fit(adult_8k, epsilon=1.0, delta=1e-9, seed=0)
    p = model.privacy_
    assert p.differentially_private
    assert p.rho_spent <= p.rho_budget * (1 + 1e-9)
    assert p.rho_spent >= 0.99 * p.rho_budget  # nothing left unused
    assert p.epsilon_spent <= 1.0 + 1e-9
    assert p.delta_total <= 1e-9 * (1 + 1e-6)
    kinds = {r.mechanism for r in p.releases}
    assert {"gaussian_threshold", "discrete_gaussian", "exponential"} <= kinds
    assert sum(r.rho for r in p.releases) == pytest.approx(p.rho_spent, rel=1e-9)
    # the row count is private: the default sample size is a noisy estimate near it
    assert model.n_rows_ is None
    assert abs(model.n_estimate_ - len(adult_8k)) < 0.05 * len(adult_8k)


def test_accuracy_follows_epsilon(adult_8k):
    """ε = 10 must beat ε = 0.1 clearly: noise σ shrinks 100-fold."""
    errs = {}
    for eps in (0.1, 10.0):
        model = lookalike.get_synthesizer("mst").fit(adult_8k, epsilon=eps, seed=0)
        errs[eps] = _two_way(adult_8k, model.sample(8000, seed=0))
    assert errs[10.0] < 0.75 * errs[0.1], errs
    assert errs[10.0] < 0.08, errs


def test_non_dp_fit_is_marked_and_exact(adult_8k):
    model = lookalike.get_synthesizer("mst").fit(adult_8k, seed=0)
    assert not model.privacy_.differentially_private
    assert model.n_rows_ == len(adult_8k)
    assert _two_way(adult_8k, model.sample(8000, seed=0)) < 0.06


def test_model_file_holds_no_raw_values(adult_8k, tmp_path):
    """fnlwgt values that occur once in the data must not be stored in a DP model file.

    The file holds noisy counts and numbers derived from round-number cells, so a unique value
    can only appear by coincidence (a few at most); storing rows would put thousands there,
    and the extremes (the first values a bounds leak would show) never.
    """
    model = lookalike.get_synthesizer("mst").fit(adult_8k, epsilon=1.0, seed=0)
    path = model.save(tmp_path / "m.lookalike")
    counts = adult_8k["fnlwgt"].value_counts()
    unique = {int(v) for v in counts[counts == 1].index}
    assert len(unique) > 1000
    found = set()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            raw = z.read(name)
            if name.endswith(".json"):
                found |= unique & _numbers_in(json.dumps(json.loads(raw)))
            elif name.endswith(".npy"):
                arr = np.load(z.open(name), allow_pickle=False)
                if np.issubdtype(arr.dtype, np.number):
                    found |= unique & {int(x) for x in arr.ravel() if float(x).is_integer()}
    assert len(found) <= 5, f"raw fnlwgt values in the model file: {sorted(found)[:10]}"
    extremes = {int(adult_8k["fnlwgt"].min()), int(adult_8k["fnlwgt"].max())}
    assert not found & extremes
    again = lookalike.load_synthesizer(path)
    assert again.privacy_.differentially_private
    assert again.sample(10, seed=1).equals(model.sample(10, seed=1))


def _numbers_in(text: str) -> set[int]:
    import re

    return {int(float(x)) for x in re.findall(r"-?\d+(?:\.\d+)?", text) if float(x).is_integer()}


def test_ledger_refuses_before_reading(tmp_path, adult_small):
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("adult", epsilon=1.2, delta=1e-9)  # zCDP: two ε=1 fits cost ~ε=1.45
    lookalike.get_synthesizer("mst").fit(adult_small, epsilon=1.0, ledger=ledger, dataset="adult", seed=0)
    assert len(ledger.releases("adult")) == 1
    assert ledger.releases("adult")[0].steps  # each release of the fit is recorded
    # the second fit does not fit in the limit: refused before the (missing) file is opened
    with pytest.raises(BudgetExceededError, match="exceeded"):
        lookalike.get_synthesizer("mst").fit(
            tmp_path / "does-not-exist.csv", epsilon=1.0, ledger=ledger, dataset="adult"
        )
    with pytest.raises(BudgetExceededError):
        lookalike.fit(tmp_path / "does-not-exist.csv", "mst", epsilon=1.0, ledger=ledger, dataset="adult")
    assert len(ledger.releases("adult")) == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": 1.0, "delta": 1.0}, "delta"),
        ({"epsilon": 1.0, "delta": 0.0}, "delta"),
        ({"delta": 1e-9}, "epsilon"),
    ],
)
def test_bad_privacy_parameters(kwargs, match, adult_small):
    with pytest.raises(ConfigError, match=match):
        lookalike.get_synthesizer("mst").fit(adult_small, **kwargs)


def test_non_dp_family_refuses_epsilon(adult_small):
    with pytest.raises(ConfigError, match="no differentially private form"):
        lookalike.get_synthesizer("cart").fit(adult_small, epsilon=1.0)


def test_cli_dp_synth_is_charged(tmp_path, cli, adult_small):
    data = tmp_path / "people.csv"
    adult_small.to_csv(data, index=False)
    ledger = tmp_path / "ledger.sqlite"
    args = ["synth", data, "-o", tmp_path / "a.csv", "-s", "mst", "--epsilon", "1", "--ledger", ledger]
    first = cli(*args)
    assert first.exit_code == 0, first.output
    assert "differential privacy" in first.output and "people" in first.output
    assert len(lookalike.read_table(tmp_path / "a.csv")) > 1500
    again = cli(*args[:3], tmp_path / "b.csv", *args[4:])
    assert again.exit_code == 1
    assert "exceeded" in again.output
    assert not (tmp_path / "b.csv").exists()
