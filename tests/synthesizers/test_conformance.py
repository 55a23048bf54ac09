"""Every registered synthesizer honours the protocol: fit, sample, seeds, save/load, schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import ConfigError, NotFittedError
from lookalike.synthesizers import available, get_synthesizer

#: neural families train for a few epochs here: the protocol is what is tested, not quality
QUICK = {name: {"epochs": 3} for name in ("ctgan", "tvae", "dpctgan", "dptvae")} | {
    "pategan": {"iterations": 30}
}


def make(name: str, **params):
    """A synthesizer of family ``name`` with the quick settings of this file."""
    return get_synthesizer(name, **(QUICK.get(name, {}) | params))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Small mixed table: numeric with missing, categorical with missing, dates, booleans, ids."""
    rng = np.random.default_rng(0)
    n = 400
    age = rng.integers(18, 80, n).astype(float)
    age[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "id": [f"{i:03d}-{rng.integers(10, 99)}" for i in range(n)],
            "age": pd.array(np.where(np.isnan(age), None, age), dtype="Int64"),
            "score": rng.normal(50, 10, n),
            "city": rng.choice(["Oslo", "Rome", "Lima", None], n, p=[0.5, 0.3, 0.15, 0.05]),
            "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
            "member": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize("name", available())
def test_fit_sample_types_and_columns(name, table):
    model = make(name).fit(table, seed=0)
    rows = model.sample(300, seed=1)
    assert list(rows.columns) == list(table.columns)
    assert rows["age"].dtype == "Int64"
    assert rows["score"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(rows["joined"])
    assert rows["member"].dtype == bool  # the input's own dtype (numpy bool, nothing missing)
    assert set(rows["city"].dropna()) <= {"Oslo", "Rome", "Lima"}
    # missing values are modelled, not dropped: 10% missing ages -> some missing in 300 rows
    assert rows["age"].isna().sum() > 0
    assert rows["city"].isna().sum() > 0


@pytest.mark.parametrize("name", available())
def test_identifiers_regenerated_never_copied(name, table):
    model = make(name).fit(table, seed=0)
    rows = model.sample(400, seed=1)
    assert rows["id"].is_unique
    assert not set(rows["id"]) & set(table["id"])
    assert rows["id"].str.fullmatch(r"[0-9]{3}-[0-9]{2}").all()


@pytest.mark.parametrize("name", available())
def test_seed_reproducible(name, table):
    a = make(name).fit(table, seed=3).sample(200, seed=4)
    b = make(name).fit(table, seed=3).sample(200, seed=4)
    c = make(name).fit(table, seed=3).sample(200, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="id").equals(c.drop(columns="id"))


@pytest.mark.parametrize("name", available())
def test_save_load_round_trip(name, table, tmp_path):
    model = make(name).fit(table, seed=0)
    path = model.save(tmp_path / f"{name}.lookalike")
    loaded = lookalike.load_synthesizer(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert loaded.schema_ == model.schema_
    pd.testing.assert_frame_equal(
        model.sample(100, seed=7).drop(columns="id"), loaded.sample(100, seed=7).drop(columns="id")
    )
    # and the class method of the family loads it too
    assert type(type(model).load(path)) is type(model)


@pytest.mark.parametrize("name", available())
def test_save_twice_identical_bytes(name, table, tmp_path):
    a = make(name).fit(table, seed=0).save(tmp_path / "a")
    b = make(name).fit(table, seed=0).save(tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", available())
def test_conditions_honoured(name, table):
    model = make(name).fit(table, seed=0)
    rows = model.sample(50, conditions={"city": "Lima"}, seed=2)
    assert len(rows) == 50
    assert (rows["city"] == "Lima").all()


@pytest.mark.parametrize("name", available())
def test_constructor_only_stores(name):
    s = make(name)
    assert not hasattr(s, "schema_")
    with pytest.raises(NotFittedError, match="not fitted"):
        s.sample(10)


def test_bad_hyper_parameter_named():
    with pytest.raises(ConfigError, match="min_samples_leaf"):
        get_synthesizer("cart", min_samples_leaf=0).fit(pd.DataFrame({"a": range(20)}))
    with pytest.raises(ConfigError, match="n_bins"):
        get_synthesizer("independent", n_bins=1).fit(pd.DataFrame({"a": range(20)}))


@pytest.mark.parametrize("name", available())
def test_boolean_columns_keep_the_inputs_spelling(name):
    """A yes/no (Y/N, true/false) column comes back as the input wrote it, missing as missing."""
    rng = np.random.default_rng(0)
    n = 300
    answer = rng.choice(["yes", "no"], n).astype(object)
    answer[rng.random(n) < 0.1] = None
    table = pd.DataFrame({"answer": answer, "flag": rng.choice(["Y", "N"], n),
                          "ok": rng.choice(["true", "false"], n), "x": rng.normal(size=n)})
    rows = make(name).fit(table, seed=0).sample(200, seed=1)
    assert set(rows["answer"].dropna()) <= {"yes", "no"} and rows["answer"].isna().any()
    assert set(rows["flag"]) <= {"Y", "N"} and set(rows["ok"]) <= {"true", "false"}
    assert len(set(rows["flag"])) == 2
    conditioned = make(name).fit(table, seed=0).sample(20, conditions={"flag": "Y"}, seed=2)
    assert (conditioned["flag"] == "Y").all()
