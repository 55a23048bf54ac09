"""The privacy contract over the whole registry, through every entry point.

Every family × {Python API, ``lookalike synth``, ``lookalike fit`` + ``sample``} × {DP where
supported, non-DP} × {NumPy, DuckDB engine where supported} × {``--drop``, declared schema}:
the output has the input's columns less the dropped ones; a DP run charges the ledger exactly
once (and what ``budget`` shows is what the fit's accountant spent); a refused run charges and
registers nothing and writes nothing; a DP model file and its synthetic rows hold no value
that occurs once in the training rows, nor the exact row count.
"""

from __future__ import annotations

import json
import re
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import lookalike
from lookalike.cli import app
from lookalike.errors import BudgetExceededError
from lookalike.privacy.ledger import PrivacyLedger
from lookalike.synthesizers import available, get_synthesizer

N_ROWS = 387  # an unusual number, so that finding it in an output means something
UNIQUE_CITY = "Qzx-unique-7"
UNIQUE_INCOME = 123457.25
# the contract is under test, not quality: the smallest settings that still train
_NEURAL = {"epochs": 1, "max_modes": 2, "batch_size": 100}
QUICK = {"ctgan": _NEURAL, "tvae": _NEURAL, "dpctgan": {**_NEURAL, "noise_multiplier": 2.0},
         "dptvae": {**_NEURAL, "noise_multiplier": 2.0}, "pategan": {"iterations": 5, "max_modes": 2}}
EPSILON = 3.0  # small tables need some budget for DP-SGD's first step


def _families() -> list[str]:
    return available()


def _is_dp(name: str) -> bool:
    return get_synthesizer(name).supports_dp


def _has_engine(name: str) -> bool:
    return "engine" in get_synthesizer(name).get_params()


def _cases() -> list[tuple[str, bool, str, str]]:
    cases = []
    for name in _families():
        for dp in ([False, True] if _is_dp(name) else [False]):
            for engine in (["numpy", "duckdb"] if _has_engine(name) else ["numpy"]):
                for variant in ("drop", "schema"):
                    cases.append((name, dp, engine, variant))
    return cases


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = N_ROWS
    city = rng.choice(["Oslo", "Rome", "Lima"], n, p=[0.5, 0.3, 0.2]).astype(object)
    city[17] = UNIQUE_CITY
    income = np.round(rng.gamma(4.0, 9000.0, n), 2)
    income[42] = UNIQUE_INCOME
    return pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "income": income,
        "city": city,
        "member": np.where(rng.random(n) < 0.3, "yes", "no"),
        "sex": rng.choice(["F", "M"], n),
    })


@pytest.fixture(scope="module")
def files(table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    csv = folder / "people.csv"
    table.to_csv(csv, index=False)
    schema = {"columns": [
        {"name": "age", "kind": "integer", "bounds": [18, 80]},
        {"name": "income", "kind": "float", "bounds": [0, 100000]},
        {"name": "city", "kind": "categorical", "categories": ["Oslo", "Rome", "Lima"],
         "nullable": True},
        {"name": "member", "kind": "categorical", "categories": ["no", "yes"]},
        {"name": "sex", "kind": "categorical", "categories": ["F", "M"]},
    ]}
    schema_path = folder / "people.schema.json"
    schema_path.write_text(json.dumps(schema))
    return csv, schema_path


def _params(name: str, engine: str) -> dict:
    params = dict(QUICK.get(name, {}))
    if _has_engine(name):
        params["engine"] = engine
    return params


def _cli_params(params: dict) -> list[str]:
    out = []
    for k, v in params.items():
        out += ["-p", f"{k}={json.dumps(v) if not isinstance(v, str) else v}"]
    return out


def _run(args: list[str]):
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _expected_columns(table: pd.DataFrame, variant: str) -> list[str]:
    return [c for c in table.columns if not (variant == "drop" and c == "sex")]


NOISY_COUNTS = {"n_estimate", "noisy_rows", "total"}


def _without_noisy_counts(value):
    if isinstance(value, dict):
        return {k: _without_noisy_counts(v) for k, v in value.items() if k not in NOISY_COUNTS}
    if isinstance(value, list):
        return [_without_noisy_counts(v) for v in value]
    return value


def _check_no_leak(model_path, rows: pd.DataFrame) -> None:
    """No once-occurring training value and not the exact row count in a DP release."""
    assert UNIQUE_CITY not in set(rows["city"].dropna().astype(str))
    assert not np.isclose(pd.to_numeric(rows["income"], errors="coerce"), UNIQUE_INCOME).any()
    with zipfile.ZipFile(model_path) as zf:
        meta = zf.read("model.json").decode()
        arrays = [np.load(zf.open(n), allow_pickle=False) for n in zf.namelist() if n.endswith(".npy")]
    assert UNIQUE_CITY not in meta
    assert "123457.25" not in meta and "123457" not in meta
    # the noisy row count may round to the true one by chance: its fields are left out
    exact = json.dumps(_without_noisy_counts(json.loads(meta)))
    assert not re.search(rf"(?<![\d.]){N_ROWS}(?![\d.])", exact), "exact row count in the model file"
    for arr in arrays:
        if arr.dtype.kind == "f":
            assert not np.isclose(arr, UNIQUE_INCOME).any()


@pytest.mark.parametrize("name,dp,engine,variant", _cases(),
                         ids=lambda v: v if isinstance(v, str) else ("dp" if v else "exact"))
def test_entry_points_keep_the_contract(name, dp, engine, variant, table, files, tmp_path):
    csv, schema_path = files
    params = _params(name, engine)
    schema = str(schema_path) if variant == "schema" else None
    drop = ["sex"] if variant == "drop" else []
    expected = _expected_columns(table, variant)
    ledger_path = tmp_path / "ledger.sqlite"
    if dp:  # room for the three fits below
        PrivacyLedger(ledger_path).set_limit("people", epsilon=4 * EPSILON, delta=1e-9)
    dp_args = ["--epsilon", str(EPSILON), "--ledger", str(ledger_path), "--dataset", "people"]
    common = [*(["--schema", schema] if schema else []), *sum((["--drop", c] for c in drop), []),
              *_cli_params(params), "--seed", "0"]

    # 1. Python API
    api_kw = {"epsilon": EPSILON, "ledger": ledger_path, "dataset": "people"} if dp else {}
    model = lookalike.fit(str(csv), name, schema=schema, drop=drop, seed=0, **api_kw, **params)
    rows = model.sample(50, seed=1)
    assert list(rows.columns) == expected
    if dp:  # what the ledger shows is what the fit's accountant spent
        ledger = PrivacyLedger(ledger_path)
        assert len(ledger.releases("people")) == 1
        assert ledger.status("people").epsilon_spent == pytest.approx(
            model.privacy_.epsilon_spent, rel=1e-6, abs=1e-9)
        assert model.privacy_.epsilon_spent <= EPSILON * (1 + 1e-9)
    # 2. lookalike synth
    out_csv = tmp_path / "synth.csv"
    model_out = tmp_path / "synth.lookalike"
    result = _run(["synth", str(csv), "-s", name, "-o", str(out_csv), "-n", "60",
                   "--model-out", str(model_out), *common, *(dp_args if dp else [])])
    assert result.exit_code == 0, result.output
    synth_rows = pd.read_csv(out_csv)
    assert list(synth_rows.columns) == expected
    # 3. lookalike fit + sample
    fit_out = tmp_path / "fit.lookalike"
    result = _run(["fit", str(csv), "-s", name, "-o", str(fit_out), *common,
                   *(dp_args if dp else [])])
    assert result.exit_code == 0, result.output
    sampled = tmp_path / "sampled.csv"
    result = _run(["sample", str(fit_out), "-n", "40", "-o", str(sampled), "--seed", "2"])
    assert result.exit_code == 0, result.output
    fitted_rows = pd.read_csv(sampled)
    assert list(fitted_rows.columns) == expected

    if not dp:
        assert not ledger_path.exists() or PrivacyLedger(ledger_path).datasets() == []
        return
    # one reservation per DP run (API, synth, fit), each settled as done
    assert [e.mechanism for e in ledger.releases("people")] == [name] * 3
    for path, frame in ((model_out, synth_rows), (fit_out, fitted_rows)):
        _check_no_leak(path, frame)


@pytest.mark.parametrize("name", [n for n in _families() if _is_dp(n)])
def test_refused_runs_charge_and_register_nothing(name, files, tmp_path):
    csv, _ = files
    ledger_path = tmp_path / "ledger.sqlite"
    ledger = PrivacyLedger(ledger_path)
    ledger.set_limit("people", epsilon=0.5, delta=1e-9)
    out_csv = tmp_path / "out.csv"
    params = _cli_params(_params(name, "numpy"))
    # over budget: refused before reading, nothing charged, nothing written
    result = _run(["synth", str(csv), "-s", name, "-o", str(out_csv), "--epsilon", "1",
                   "--ledger", str(ledger_path), "--dataset", "people", *params])
    assert result.exit_code == 1 and "budget" in result.output
    assert ledger.releases("people") == [] and not out_csv.exists()
    with pytest.raises(BudgetExceededError):
        lookalike.fit(str(csv), name, epsilon=1, ledger=ledger_path, dataset="people",
                      **_params(name, "numpy"))
    assert ledger.releases("people") == []
    # refused for a bad option after the budget would fit: a new dataset is not registered
    for bad in (["--target", "typo", "--report", str(tmp_path / "r.html")],
                ["-n", "0"], ["--condition", "nosuch=1"]):
        result = _run(["synth", str(csv), "-s", name, "-o", str(out_csv), "--epsilon", "1",
                       "--ledger", str(ledger_path), "--dataset", "fresh", *params, *bad])
        assert result.exit_code == 1, (bad, result.output)
        assert "fresh" not in ledger.datasets(), bad
        assert not out_csv.exists()


def test_dp_fit_without_a_ledger_warns_once(table):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        get_synthesizer("mst").fit(table, epsilon=1, seed=0)
    texts = [str(w.message) for w in caught if "ledger" in str(w.message)]
    assert len(texts) == 1 and "recorded in no privacy ledger" in texts[0]


@pytest.mark.parametrize("name", [n for n in _families() if not _is_dp(n)])
def test_non_dp_families_refuse_dp_options(name, table, tmp_path):
    model = get_synthesizer(name, **QUICK.get(name, {}))
    for kw in ({"epsilon": 1.0}, {"delta": 1e-9}, {"ledger": tmp_path / "l.sqlite"}):
        with pytest.raises(lookalike.LookalikeError, match="epsilon|differentially private"):
            model.fit(table, **kw)
