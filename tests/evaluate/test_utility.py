"""Train-on-synthetic vs train-on-real utility."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.evaluate.tables import prepare
from lookalike.evaluate.utility import split_rows, utility


@pytest.fixture(scope="module")
def train_test(real):
    train, test = split_rows(len(real), 0)
    return real.iloc[train].reset_index(drop=True), real.iloc[test].reset_index(drop=True)


def _score(u, model, on):
    return next(s for s in u.models if s.model == model and s.train_on == on)


def test_real_as_synthetic_gives_ratio_one(train_test):
    train, test = train_test
    u = utility(prepare(train, train, test), "income", seed=0)
    assert u.holdout == "given" and u.task == "classification"
    # identical training rows and seed: identical models, identical scores
    assert u.ratios == {"gradient_boosting": pytest.approx(1.0), "linear": pytest.approx(1.0)}
    gb = _score(u, "gradient_boosting", "real")
    assert 0.85 < gb.roc_auc < 0.95  # Adult income AUC on 4,000 training rows
    assert set(gb.per_class_recall) == {"<=50K", ">50K"}
    assert gb.r2 is None and set(gb.to_dict()) == {
        "model", "train_on", "roc_auc", "accuracy", "per_class_recall"
    }


def test_shuffled_target_teaches_nothing(train_test):
    train, test = train_test
    rng = np.random.default_rng(0)
    fake = train.assign(income=train["income"].to_numpy()[rng.permutation(len(train))])
    u = utility(prepare(train, fake, test), "income", seed=0)
    # Labels independent of the features: the model fits noise, and its AUC on the real test
    # rows is 0.5 on average over shuffles. It is not 0.5 +- the test-size standard error
    # (0.02 here): the noise function still depends on the test features, which predict the
    # label, so each shuffle gives a random-direction AUC. Its sd, measured over 12 shuffles of
    # this table, is 0.035 (boosting) and 0.045 (linear); allow 3 of those.
    for model, sd in (("gradient_boosting", 0.035), ("linear", 0.045)):
        assert abs(_score(u, model, "synthetic").roc_auc - 0.5) < 3 * sd
        # against ~0.9 for the real-trained model
        assert u.ratios[model] < 0.7


def test_without_holdout_the_real_table_is_split(real):
    u = utility(prepare(real, real), "income", seed=0)
    assert u.holdout == "split"
    assert (u.n_test, u.n_train_real, u.n_train_synthetic) == (1000, 4000, 5000)


def test_regression_target_gives_r2_and_mae(train_test):
    train, test = train_test
    u = utility(prepare(train, train, test), "age", seed=0)
    assert u.task == "regression"
    gb = _score(u, "gradient_boosting", "real")
    assert gb.roc_auc is None and set(gb.to_dict()) == {"model", "train_on", "r2", "mae"}
    assert 0.2 < gb.r2 < 0.8 and 5 < gb.mae < 12  # age from the others: a fair but loose fit
    assert u.ratios["linear"] == pytest.approx(1.0)


def test_multiclass_target_uses_macro_one_vs_rest(train_test):
    train, test = train_test
    train = train.iloc[:2000]
    u = utility(prepare(train, train, test), "relationship", seed=0)
    gb = _score(u, "gradient_boosting", "synthetic")
    assert set(gb.per_class_recall) == set(train["relationship"].unique())
    assert 0.7 < gb.roc_auc <= 1.0


def test_one_class_synthetic_target_trains_a_constant_predictor(train_test):
    train, test = train_test
    u = utility(prepare(train, train.assign(income="<=50K"), test), "income", seed=0)
    for model in ("gradient_boosting", "linear"):
        s = _score(u, model, "synthetic")
        assert s.roc_auc == 0.5
        assert s.per_class_recall == {"<=50K": 1.0, ">50K": 0.0}
