"""``lookalike budget``: the spent ε refusals quote, the next fit's room, each release's cost."""

from __future__ import annotations

import re

import pytest

from lookalike.errors import BudgetExceededError
from lookalike.privacy.accountant import RDP_ORDERS, epsilon_from_rdp, rho_from_epsilon_delta
from lookalike.privacy.budget import plan_budget
from lookalike.privacy.ledger import PrivacyLedger

CURVE = [0.002 * a + 0.0005 * a * a for a in RDP_ORDERS]  # a DP-SGD training's RDP curve


@pytest.fixture
def ledger(tmp_path) -> PrivacyLedger:
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("adult", epsilon=3.0, delta=1e-9)
    rho, d_disc = plan_budget(1.0, 1e-9)
    ledger.spend("adult", rho=rho, delta_approx=d_disc, mechanism="mst",
                 detail="mst fit [bold]select[/] 3-way", model_file="mst.lookalike")
    ledger.spend("adult", rho=0.0, rdp=CURVE, mechanism="dp-sgd", detail="dpctgan training")
    return ledger


def _row(output: str, mechanism: str) -> list[str]:
    (line,) = [ln for ln in output.splitlines() if f"  {mechanism}  " in ln]
    return line.split()


def test_budget_shows_what_the_ledger_accounts(cli, ledger):
    result = cli("budget", "adult", "--ledger", ledger.path)
    assert result.exit_code == 0, result.output
    st = ledger.status("adult")
    assert f"limit: epsilon=3, delta=1e-09 (rho={st.rho_limit:.6g})" in result.output
    assert f"spent: epsilon={st.epsilon_spent:.4g} at delta=1e-09 " in result.output
    assert f"delta used at epsilon=3: {st.delta_spent:.3g} of 1e-09" in result.output
    room = ledger.epsilon_next("adult", plan=plan_budget)
    shown = float(re.search(r"largest epsilon a next fit can spend \(at delta=1e-09\): (\S+)",
                            result.output).group(1))
    assert room * (1 - 1e-3) < shown <= room  # 4 digits, cut: never more than can be spent
    sgd = _row(result.output, "dp-sgd")  # # time mechanism epsilon cost status ...
    assert float(sgd[3]) > 0 and sgd[3] == f"{epsilon_from_rdp(CURVE, 1e-9):.4g}"
    assert sgd[4:7] == ["RDP", "curve", "done"]
    mst = _row(result.output, "mst")
    assert mst[3] == f"{ledger.releases('adult')[0].epsilon_cost:.4g}" and "mst.lookalike" in mst
    assert "mst fit [bold]select[/] 3-way" in result.output  # markup-like text shown as it is


def test_a_refusal_quotes_the_spent_epsilon_of_budget(cli, ledger):
    shown = cli("budget", "adult", "--ledger", ledger.path).output
    with pytest.raises(BudgetExceededError) as refused:
        ledger.check("adult", rho=rho_from_epsilon_delta(3.0, 1e-9), delta_approx=1e-10)
    quoted = re.search(r"spent epsilon=(\S+) ", str(refused.value)).group(1)
    assert re.search(r"spent: epsilon=(\S+) ", shown).group(1) == quoted
    assert quoted == f"{ledger.status('adult').epsilon_spent:.4g}"


def test_budget_sets_lists_and_fails_in_one_line(cli, tmp_path):
    path = tmp_path / "ledger.sqlite"
    result = cli("budget", "census", "--set-epsilon", "2", "--delta", "1e-8", "--ledger", path)
    assert result.exit_code == 0, result.output
    assert "limit: epsilon=2, delta=1e-08" in result.output and "releases: none" in result.output
    assert "largest epsilon a next fit can spend (at delta=1e-08): " in result.output
    assert f"ledger {path}: census" in cli("budget", "--ledger", path).output
    unknown = cli("budget", "other", "--ledger", path)
    assert unknown.exit_code == 1 and "no privacy budget" in unknown.output
    folder = cli("budget", "--ledger", tmp_path)
    assert folder.exit_code == 1 and "is a folder" in folder.output
    assert "Traceback" not in folder.output
