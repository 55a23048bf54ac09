"""The persistent ledger: limits, refusal, history, and no double spending across processes."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from lookalike.errors import BudgetExceededError, ConfigError
from lookalike.privacy.accountant import RDP_ORDERS, rho_from_epsilon_delta
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


def test_fingerprint_mismatch(ledger, tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2\n")
    ledger.set_limit("d", epsilon=1.0, delta=1e-9)
    ledger.spend("d", rho=1e-4, mechanism="mst", data_fingerprint=fingerprint(tmp_path / "a.csv"))
    with pytest.raises(ConfigError, match="other content"):
        ledger.spend("d", rho=1e-4, mechanism="mst", data_fingerprint=fingerprint(tmp_path / "b.csv"))


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
