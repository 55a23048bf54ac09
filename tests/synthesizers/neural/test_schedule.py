"""Default training schedules of the neural families: a stated function of the row count.

Non-DP ``tvae``/``ctgan``: 300 epochs at min(500, max(20, rows / 10)) rows a step, early stopping
("auto") only with at least 1,000 held-out rows. DP-SGD: its own rule on the noisy count.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import ConfigError
from lookalike.synthesizers.neural import CTGAN, DPCTGAN, DPTVAE, PATEGAN, TVAE, Schedule

# (rows, epochs, batch, patience, held-out rows, steps) of the defaults
TVAE_RULE = [
    (50, 300, 20, None, 0, 600),
    (500, 300, 50, None, 0, 3_000),
    (5_000, 300, 500, None, 0, 3_000),
    (9_994, 300, 500, None, 0, 5_700),  # 999 rows would be held out: too few
    (10_000, 300, 500, 30, 1_000, 5_400),
    (50_000, 300, 500, 30, 5_000, 27_000),
]
CTGAN_RULE = [  # patience None by default; the batch a multiple of pac = 10
    (50, 300, 20, None, 0, 600),
    (500, 300, 50, None, 0, 3_000),
    (1_234, 300, 120, None, 0, 3_000),
    (5_000, 300, 500, None, 0, 3_000),
    (50_000, 300, 500, None, 0, 30_000),
]


def _row(s: Schedule) -> tuple:
    assert isinstance(s, Schedule)
    return (s.n_rows, s.epochs, s.batch_size, s.patience, s.validation_rows, s.steps)


@pytest.mark.parametrize("expected", TVAE_RULE, ids=lambda e: f"n={e[0]}")
def test_tvae_default_schedule_follows_the_row_count_rule(expected):
    assert _row(TVAE().schedule(expected[0])) == expected


@pytest.mark.parametrize("expected", CTGAN_RULE, ids=lambda e: f"n={e[0]}")
def test_ctgan_default_schedule_follows_the_row_count_rule(expected):
    assert _row(CTGAN().schedule(expected[0])) == expected


@pytest.mark.parametrize("n", [200, 377, 1_000, 4_999, 12_345, 80_000])
@pytest.mark.parametrize("family", [TVAE, CTGAN], ids=lambda f: f.name)
def test_default_schedule_takes_at_least_3000_steps_from_200_rows(family, n):
    s, pac = family().schedule(n), 10 if family is CTGAN else 1
    assert s.epochs == 300 and s.steps >= 3_000
    assert s.batch_size == min(500, max(20, s.train_rows // 10)) // pac * pac


def test_auto_patience_also_applies_to_ctgan_and_given_values_are_kept():
    assert CTGAN(patience="auto").schedule(26_049).patience == 30
    assert CTGAN(patience="auto").schedule(9_000).patience is None
    assert TVAE(patience=5).schedule(300).patience == 5  # given: kept on a small table too
    assert TVAE(patience=None).schedule(50_000).patience is None
    s = TVAE(epochs=7, batch_size=64, validation_share=0.2).schedule(6_000)
    assert (s.epochs, s.batch_size, s.patience, s.validation_rows) == (7, 64, 30, 1_200)


@pytest.mark.parametrize(("n", "epochs", "batch"), [(50, 10, 20), (500, 12, 50), (5_000, 30, 500),
                                                     (50_000, 30, 500)])
@pytest.mark.parametrize("family", [DPTVAE, DPCTGAN], ids=lambda f: f.name)
def test_dp_sgd_schedule_keeps_its_shorter_rule(family, n, epochs, batch):
    s = family().schedule(n)
    assert (s.epochs, s.batch_size, s.patience, s.validation_rows) == (epochs, batch, None, 0)


def test_pategan_schedule_counts_iterations():
    assert [PATEGAN().schedule(n).epochs for n in (100, 1_000, 5_000)] == [50, 250, 300]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "never"])
def test_bad_patience_is_refused(bad):
    with pytest.raises(ConfigError, match=r"patience must be None, 'auto' or an integer >= 1, got"):
        TVAE(patience=bad).fit(pd.DataFrame({"a": [1, 2, 3] * 10}), seed=0)


# ----------------------------------------------------------------------------- fits
torch = pytest.importorskip("torch")


def _dependent(n: int, seed: int = 0) -> pd.DataFrame:
    """``flag`` is fixed by ``group`` (5% flipped), ``x`` ≈ 10 × the group's index."""
    rng = np.random.default_rng(seed)
    groups = np.array(list("abcd"))
    g = rng.integers(4, size=n)
    flag = (g < 2) ^ (rng.random(n) < 0.05)
    return pd.DataFrame({"group": groups[g], "flag": np.where(flag, "yes", "no"),
                         "x": (10.0 * g + rng.normal(0, 1, n)).round(2),
                         "noise": rng.choice(list("pqr"), n)})


def _agreement(rows: pd.DataFrame) -> float:
    """Share of rows whose flag follows the group rule: 0.95 in the data, 0.5 if independent."""
    return float((rows["group"].isin(["a", "b"]) == (rows["flag"] == "yes")).mean())


def test_tvae_defaults_learn_a_strong_dependence_on_a_small_table():
    """300 rows with the default schedule: 3,000 steps on all rows. The earlier rule (10 epochs,
    100 steps, 10% held out) left the columns independent here (agreement 0.51, correlation 0.01)."""
    torch.set_num_threads(1)
    model = TVAE(device="cpu").fit(_dependent(300), seed=0)
    tr = model.training_
    assert (tr["epochs"], tr["batch_size"], tr["patience"]) == (300, 30, None)
    assert "validation" not in tr["loss"]
    rows = model.sample(2_000, seed=1)
    # independent columns give 0.5 ± 0.011 (2,000 draws), the data 0.95; this fit 0.82
    assert _agreement(rows) > 0.7
    codes = rows["group"].map({"a": 0, "b": 1, "c": 2, "d": 3})
    assert np.corrcoef(codes, rows["x"])[0, 1] > 0.5


@pytest.mark.slow
def test_ctgan_defaults_learn_a_strong_dependence_on_a_small_table():
    """200 rows: 300 epochs of 10 steps of 20 rows (agreement 0.80). The earlier rule trained 100
    steps: agreement 0.505, as independent columns."""
    torch.set_num_threads(1)
    model = CTGAN(device="cpu").fit(_dependent(200), seed=0)
    assert (model.training_["epochs"], model.training_["batch_size"]) == (300, 20)
    assert _agreement(model.sample(2_000, seed=1)) > 0.7


def test_dp_sgd_plan_uses_the_schedule_of_the_noisy_count():
    """The accountant's sample rate and steps come from the batch and epochs actually used, both
    set from the noisy count ``n_estimate_``, never the exact one."""
    pytest.importorskip("opacus")
    real = lookalike.load_demo().sample(400, random_state=2).reset_index(drop=True)
    real = real[["age", "sex", "race", "income"]]
    model = DPTVAE(device="cpu").fit(real, epsilon=1.0, seed=0)
    n_est = model.n_estimate_
    s = DPTVAE().schedule(n_est)
    params = model.privacy_.releases[-1].params
    assert params["sample_rate"] == pytest.approx(s.batch_size / n_est)
    assert params["planned_steps"] == math.ceil(s.epochs / (s.batch_size / n_est))
    assert model.training_["steps"] == params["steps"]
    assert model.privacy_.epsilon_spent <= 1.0
