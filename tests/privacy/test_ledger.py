"""The persistent ledger: limits, refusal, history, no double spending, data known by content."""

from __future__ import annotations

import multiprocessing as mp
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest

from lookalike import read_table
from lookalike.errors import BudgetExceededError, ConfigError, LedgerError
from lookalike.marginals.duckdb import DuckDBEngine
from lookalike.privacy import ledger as ledger_module
from lookalike.privacy.accountant import (
    RDP_ORDERS,
    delta_from_rho,
    epsilon_from_rdp,
    epsilon_from_rho,
    rho_from_epsilon_delta,
)
from lookalike.privacy.budget import plan_budget
from lookalike.privacy.fingerprint import fingerprint_frame
from lookalike.privacy.ledger import PrivacyLedger, fingerprint


@pytest.fixture
def ledger(tmp_path):
    return PrivacyLedger(tmp_path / "ledger.sqlite")


def test_limit_spend_history(ledger):
    ledger.set_limit("adult", epsilon=1.0, delta=1e-9)
    rho = rho_from_epsilon_delta(1.0, 1e-9)
    ledger.spend("adult", rho=rho / 4, mechanism="mst", detail="first", steps=[{"name": "measure"}])
    ledger.spend("adult", rho=rho / 4, mechanism="aim", model_file="m.lookalike")
    status = ledger.status("adult")
    assert status.rho_spent == pytest.approx(rho / 2)
    assert 0 < status.epsilon_spent < 1.0
    hist = ledger.releases("adult")
    assert [e.mechanism for e in hist] == ["mst", "aim"]
    assert hist[0].steps == [{"name": "measure"}]
    assert hist[1].model_file == "m.lookalike"


def test_persistent_across_instances(tmp_path):
    a = PrivacyLedger(tmp_path / "l.sqlite")
    a.set_limit("d", epsilon=2.0, delta=1e-6)
    a.spend("d", rho=0.01, mechanism="mst")
    b = PrivacyLedger(tmp_path / "l.sqlite")
    assert b.status("d").rho_spent == pytest.approx(0.01)


def test_refuses_over_spend_and_records_nothing(ledger):
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    limit = ledger.status("d").rho_limit
    ledger.spend("d", rho=0.9 * limit, mechanism="mst")
    with pytest.raises(BudgetExceededError, match=r"'d' exceeded: spent epsilon=.*requests rho=.*limit epsilon=1"):
        ledger.spend("d", rho=0.2 * limit, mechanism="mst")
    assert len(ledger.releases("d")) == 1


def test_check_answers_as_spend_would_and_records_nothing(ledger):
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    limit = ledger.status("d").rho_limit
    ledger.spend("d", rho=0.5 * limit, mechanism="mst")
    ledger.check("d", rho=0.5 * limit)  # exactly what is left: fits
    with pytest.raises(BudgetExceededError, match="'d' exceeded"):
        ledger.check("d", rho=0.6 * limit)
    # an RDP curve already spent counts as well: a DP-SGD release near the limit leaves no room
    ledger.spend("d", rho=0.0, rdp=[0.45 * limit * a for a in RDP_ORDERS], mechanism="dp-sgd")
    with pytest.raises(BudgetExceededError):
        ledger.check("d", rho=0.1 * limit)
    assert [e.mechanism for e in ledger.releases("d")] == ["mst", "dp-sgd"]
    with pytest.raises(ConfigError, match="no privacy budget"):
        ledger.check("unknown", rho=0.0)


def test_no_limit_is_an_error_naming_the_fix(ledger):
    with pytest.raises(ConfigError, match="lookalike budget"):
        ledger.spend("unknown", rho=0.1, mechanism="mst")


def test_limit_cannot_drop_below_spent(ledger):
    ledger.set_limit("d", epsilon=2.0, delta=1e-9)
    ledger.spend("d", rho=ledger.status("d").rho_limit * 0.8, mechanism="mst")
    with pytest.raises(BudgetExceededError, match="already spent"):
        ledger.set_limit("d", epsilon=0.5, delta=1e-9)


def test_file_digest_mismatch_still_refused_for_old_callers(ledger, tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2\n")
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    ledger.spend("d", rho=1e-4, mechanism="mst", data_fingerprint=fingerprint(tmp_path / "a.csv"))
    with pytest.raises(ConfigError, match="registered with another file"):
        ledger.spend("d", rho=1e-4, mechanism="mst",
                     data_fingerprint=fingerprint(tmp_path / "b.csv"))


def _spend_last(path, rho, barrier, results):
    ledger = PrivacyLedger(path)
    barrier.wait()
    try:
        ledger.spend("d", rho=rho, mechanism="mst")
        results.put("ok")
    except BudgetExceededError:
        results.put("refused")


def test_two_processes_cannot_both_spend_the_last_of_a_budget(tmp_path):
    path = tmp_path / "ledger.sqlite"
    ledger = PrivacyLedger(path)
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    limit = ledger.status("d").rho_limit
    ledger.spend("d", rho=0.4 * limit, mechanism="mst")
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_spend_last, args=(path, 0.5 * limit, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["ok", "refused"]
    assert ledger.status("d").rho_spent == pytest.approx(0.9 * limit)


# ----------------------------------------------------------------------------- reserve and settle
def _reserve(ledger, dataset="d", *, rho, fp=None, register=False, **kw):
    return ledger.reserve(dataset, rho=rho, mechanism="mst", epsilon=1.0, delta=1e-9,
                          fingerprint=fp, register=register, **kw)


def test_reserve_registers_in_the_same_transaction(ledger):
    rho = rho_from_epsilon_delta(1.0, 1e-9)
    entry = _reserve(ledger, "new", rho=rho, register=True)
    assert entry.status == "reserved" and ledger.releases("new")[0].status == "reserved"
    st = ledger.status("new")
    assert (st.epsilon_limit, st.delta) == (1.0, 1e-9) and st.rho_spent == pytest.approx(rho)
    # refused: nothing registered, nothing recorded
    with pytest.raises(BudgetExceededError,
                       match=r"'other' exceeded.*this fit \(epsilon=1, delta=1e-09\)"):
        _reserve(ledger, "other", rho=2 * rho, register=True)
    assert ledger.datasets() == ["new"] and ledger.releases("other") == []
    with pytest.raises(ConfigError, match="`lookalike budget unknown --set-epsilon"):
        _reserve(ledger, "unknown", rho=0.0)
    with pytest.raises(ConfigError, match="non-empty name"):
        _reserve(ledger, " ", rho=0.0, register=True)
    assert ledger.datasets() == ["new"]


def test_settle_replaces_the_cost_and_a_failed_fit_stays_charged(ledger):
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    rho = rho_from_epsilon_delta(1.0, 1e-9)
    done = _reserve(ledger, rho=rho / 2)
    ledger.settle(done.id, rho=rho / 4, steps=[{"name": "measure", "rho": rho / 4}],
                  model_file="m.lookalike")
    failed = _reserve(ledger, rho=rho / 4)
    ledger.settle(failed.id, steps=[], status="failed: DataError: bad column")
    first, second = ledger.releases("d")
    assert (first.status, first.model_file) == ("done", "m.lookalike")
    assert first.rho == pytest.approx(rho / 4)
    assert first.steps == [{"name": "measure", "rho": rho / 4}]
    assert (second.status, second.rho) == ("failed: DataError: bad column", pytest.approx(rho / 4))
    assert ledger.status("d").rho_spent == pytest.approx(rho / 2)
    with pytest.raises(ConfigError, match=rf"release #{done.id} is not reserved \(its status: do"):
        ledger.settle(done.id, steps=[])
    with pytest.raises(ConfigError, match="no release #999"):
        ledger.settle(999, steps=[])
    with pytest.raises(ConfigError, match="status must be 'done' or 'failed: <reason>'"):
        ledger.settle(_reserve(ledger, rho=0.0).id, steps=[], status="ok")


def test_dp_sgd_settles_to_its_curve_and_costs_epsilon(ledger):
    """A DP-SGD fit reserves its (ε, δ) as ρ, then settles to discovery ρ plus its RDP curve."""
    ledger.set_limit("d", epsilon=3.0, delta=1e-9)
    entry = _reserve(ledger, rho=rho_from_epsilon_delta(1.0, 1e-9))
    curve = [0.002 * a + 0.001 * a * a for a in RDP_ORDERS]
    ledger.settle(entry.id, rho=0.001, rdp=curve, steps=[])
    (e,) = ledger.releases("d")
    assert e.rdp == pytest.approx(curve) and e.rho == pytest.approx(0.001)
    total = [0.001 * a + c for a, c in zip(RDP_ORDERS, curve, strict=True)]
    assert e.epsilon_cost == pytest.approx(epsilon_from_rdp(total, 1e-9)) and e.epsilon_cost > 0
    assert ledger.status("d").epsilon_spent == pytest.approx(e.epsilon_cost)


def test_check_against_a_would_be_limit(ledger):
    rho = rho_from_epsilon_delta(1.0, 1e-9)
    ledger.check("new", rho=rho, register=(1.0, 1e-9))
    with pytest.raises(BudgetExceededError, match="'new' exceeded"):
        ledger.check("new", rho=1.01 * rho, register=(1.0, 1e-9))
    with pytest.raises(ConfigError, match="delta must lie strictly between 0 and 1"):
        ledger.check("new", rho=rho, register=(1.0, 2.0))
    assert ledger.datasets() == []


# ----------------------------------------------------------------------------- truthful accounting
def test_refusal_quotes_the_spent_epsilon_status_gives(ledger):
    """Releases with thresholded discovery (δ_approx): one spent ε, converted at δ − Σδ_approx."""
    ledger.set_limit("d", epsilon=3.0, delta=1e-9)
    rho, d_disc = plan_budget(1.0, 1e-9)
    for _ in range(2):
        ledger.spend("d", rho=rho, delta_approx=d_disc, mechanism="mst")
    st = ledger.status("d")
    expected = epsilon_from_rho(2 * rho, 1e-9 - 2 * d_disc)
    assert st.epsilon_spent == pytest.approx(expected)
    assert f"{expected:.4g}" != f"{epsilon_from_rho(2 * rho, 1e-9):.4g}"  # the two used to differ
    with pytest.raises(BudgetExceededError) as refused:
        ledger.check("d", rho=rho_from_epsilon_delta(3.0, 1e-9), delta_approx=d_disc)
    assert f"spent epsilon={st.epsilon_spent:.4g} " in str(refused.value)
    assert "use another dataset name" not in str(refused.value)


def test_delta_spent_is_what_the_check_compares(ledger):
    ledger.set_limit("d", epsilon=2.0, delta=1e-6)
    ledger.spend("d", rho=0.05, delta_approx=1e-8, mechanism="mst")
    st = ledger.status("d")
    assert st.delta_approx_spent == pytest.approx(1e-8)
    assert st.delta_spent == pytest.approx(1e-8 + delta_from_rho(0.05, 2.0))
    assert st.delta_spent < 1e-6 and st.fits(rho=0.0)


def test_epsilon_next_is_the_largest_fit_accepted(ledger):
    ledger.set_limit("d", epsilon=2.0, delta=1e-9)
    assert ledger.epsilon_next("d") == pytest.approx(2.0, rel=1e-6)
    ledger.spend("d", rho=ledger.status("d").rho_limit / 2, mechanism="mst")
    def zcdp(e, d):
        return rho_from_epsilon_delta(e, d), 0.0

    for plan in (zcdp, plan_budget):
        eps = ledger.epsilon_next("d", plan=plan)
        assert 0 < eps < 2.0
        rho, d_approx = plan(eps, 1e-9)
        ledger.check("d", rho=rho, delta_approx=d_approx)
        rho, d_approx = plan(eps * 1.001, 1e-9)
        with pytest.raises(BudgetExceededError):
            ledger.check("d", rho=rho, delta_approx=d_approx)
    # the plan setting δ aside for discovery leaves a smaller ε than pure zCDP
    assert ledger.epsilon_next("d", plan=plan_budget) < ledger.epsilon_next("d")
    ledger.spend("d", rho=ledger.status("d").rho_remaining, mechanism="mst")
    assert ledger.epsilon_next("d") < 1e-5  # what the check's rounding tolerance still admits


def test_limit_cannot_drop_below_an_rdp_spend(ledger):
    ledger.set_limit("d", epsilon=3.0, delta=1e-9)
    ledger.spend("d", rho=0.0, rdp=[0.05 * a for a in RDP_ORDERS], mechanism="dp-sgd")
    spent = ledger.status("d").epsilon_spent
    with pytest.raises(BudgetExceededError, match=f"already spent epsilon={spent:.4g}"):
        ledger.set_limit("d", epsilon=0.5 * spent, delta=1e-9)
    ledger.set_limit("d", epsilon=1.5 * spent, delta=1e-9)


# ----------------------------------------------------------------------------- content
def _fp(df):
    return fingerprint_frame(df)


def _adult_like(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, n), "hours": rng.integers(1, 99, n),
                         "income": rng.normal(5e4, 1e4, n).round(2),
                         "sex": rng.choice(["F", "M"], n), "city": rng.choice(list("abcdefgh"), n)})


def test_a_renamed_copy_is_refused_naming_the_first_name(ledger, tmp_path):
    df = _adult_like()
    df.to_csv(tmp_path / "adult.csv", index=False)
    shutil.copy(tmp_path / "adult.csv", tmp_path / "copy.csv")
    _reserve(ledger, "adult", rho=1e-4, register=True, fp=_fp(read_table(tmp_path / "adult.csv")))
    with pytest.raises(ConfigError, match="this table is dataset 'adult' in the privacy ledger "
                       r"\(same content: identical content\); fit with --dataset adult") as refused:
        _reserve(ledger, "copy", rho=1e-4, register=True, fp=_fp(read_table(tmp_path / "copy.csv")))
    assert "new dataset name" not in str(refused.value)
    assert "name of its own" not in str(refused.value)
    assert ledger.datasets() == ["adult"]  # the refused run registered nothing


@pytest.mark.parametrize("variant",
                         ["shuffled parquet", "duckdb", "dropped column", "3 edited rows"])
def test_the_same_data_is_recognised(ledger, tmp_path, variant):
    df = _adult_like()
    df.to_csv(tmp_path / "adult.csv", index=False)
    _reserve(ledger, "adult", rho=1e-4, register=True, fp=_fp(read_table(tmp_path / "adult.csv")))
    if variant == "shuffled parquet":
        df.sample(frac=1.0, random_state=0).to_parquet(tmp_path / "a.parquet")
        fp = _fp(read_table(tmp_path / "a.parquet"))
    elif variant == "duckdb":
        with DuckDBEngine(tmp_path / "adult.csv") as engine:
            fp = engine.fingerprint()
    elif variant == "dropped column":
        fp = _fp(df.drop(columns=["city"]))
    else:
        edited = df.copy()
        edited.loc[[3, 700, 1900], "income"] = [1.5, 2.5, 3.5]
        fp = _fp(edited)
    _reserve(ledger, "adult", rho=1e-4, fp=fp)  # the registered dataset: accepted
    with pytest.raises(ConfigError, match="this table is dataset 'adult'.*--dataset adult"):
        _reserve(ledger, "renamed", rho=1e-4, register=True, fp=fp)
    assert len(ledger.releases("adult")) == 2 and ledger.datasets() == ["adult"]
    assert ledger.status("adult").fingerprint == _fp(df)  # the first fit's, never replaced


def test_a_different_table_is_other_content(ledger):
    _reserve(ledger, "adult", rho=1e-4, register=True, fp=_fp(_adult_like()))
    other = _fp(_adult_like(1500, seed=1).drop(columns=["city"]))
    with pytest.raises(ConfigError, match=r"'adult' was registered with other content \(columns "
                       r"with other values: age, hours, income, sex; columns no longer there: "
                       r"city; rows: 2000 registered, 1500 now\).*give it a name of its own"):
        _reserve(ledger, "adult", rho=1e-4, fp=other)
    _reserve(ledger, "survey", rho=1e-4, register=True, fp=other)  # new data, new name: fine
    assert ledger.datasets() == ["adult", "survey"]


def test_an_old_file_digest_is_replaced_by_the_content_fingerprint(ledger):
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    ledger.spend("d", rho=1e-4, mechanism="mst", data_fingerprint="ab" * 32)  # an old SHA-256
    assert ledger.status("d").fingerprint is None
    fp = _fp(_adult_like(100))
    _reserve(ledger, "d", rho=1e-4, fp=fp)
    assert ledger.status("d").fingerprint == fp


def test_an_old_ledger_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE datasets (name TEXT PRIMARY KEY, fingerprint TEXT, epsilon REAL NOT NULL, "
        "delta REAL NOT NULL, rho_limit REAL NOT NULL, created REAL NOT NULL);"
        "CREATE TABLE releases (id INTEGER PRIMARY KEY AUTOINCREMENT, dataset TEXT NOT NULL, "
        "time REAL NOT NULL, mechanism TEXT NOT NULL, rho REAL NOT NULL, epsilon REAL, delta REAL, "
        "model_file TEXT, detail TEXT, steps TEXT);"
        f"INSERT INTO datasets VALUES ('d', '{'cd' * 32}', 1.0, 1e-9, 0.01, 0);"
        "INSERT INTO releases(dataset, time, mechanism, rho) VALUES ('d', 0, 'mst', 0.001);"
    )
    con.commit()
    con.close()
    ledger = PrivacyLedger(path)
    (e,) = ledger.releases("d")
    assert (e.status, e.delta_approx, e.rdp, e.rho) == ("done", 0.0, None, 0.001)
    assert ledger.status("d").fingerprint is None and ledger.status("d").rho_spent == 0.001


# ----------------------------------------------------------------------------- errors
def test_unusable_ledger_paths_are_clear_errors(tmp_path):
    with pytest.raises(LedgerError, match="is a folder; give a file path such as"):
        PrivacyLedger(tmp_path)
    (tmp_path / "garbage.sqlite").write_bytes(b"not a database at all " * 100)
    with pytest.raises(LedgerError, match=r"is not a lookalike privacy ledger \(file is not a"):
        PrivacyLedger(tmp_path / "garbage.sqlite")
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(LedgerError, match="cannot create the folder .*plain for the privacy"):
        PrivacyLedger(tmp_path / "plain" / "ledger.sqlite")
    con = sqlite3.connect(tmp_path / "other.db")
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match=r"not a lookalike privacy ledger \(its tables: orders\)"):
        PrivacyLedger(tmp_path / "other.db")


def test_a_locked_ledger_is_a_clear_error(tmp_path, monkeypatch):
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    monkeypatch.setattr(ledger_module, "LOCK_TIMEOUT_S", 0.05)
    other = sqlite3.connect(tmp_path / "ledger.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(LedgerError, match="is locked: another lookalike process holds it "
                           r"\(waited 0.05 s\); retry"):
            ledger.spend("d", rho=1e-4, mechanism="mst")
        with pytest.raises(LedgerError, match="another lookalike process"):
            ledger.status("d")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(ledger.releases("d")) == 0
