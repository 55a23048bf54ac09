"""The release sheet shares only what a DP release discloses; the private report says it is private.

The acceptance test plants values that occur exactly once in the training rows (a unique
minimum and maximum, categories seen once) and a row count that is no round number, fits every
DP family, and scans the release sheet, the private report and the model file for them.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import ConfigError, OutputExistsError
from lookalike.report import (
    ReleaseSheet,
    build_release_sheet,
    build_report,
    is_differentially_private,
    report_paths,
)
from lookalike.report._privacy import privacy_dict
from lookalike.report._summary import CONFIDENTIAL, NO_GUARANTEE

pytestmark = pytest.mark.filterwarnings("ignore:this epsilon=.* is recorded in no privacy ledger")

N_REAL = 537
"""Training rows: no round number, so a match is the row count and not a coincidence."""
N_SYNTHETIC = 300
ONCE_NUMBERS = (123457.25, -4321.75)
ONCE_CATEGORIES = ("Qzx-unique-7", "Vrb-single-3")
EPSILON = 1.0

DP_FAMILIES = {
    "mst": {},
    "aim": {},
    "privbayes": {},
    "dptvae": {"epochs": 1, "batch_size": 50},
    "dpctgan": {"epochs": 1, "batch_size": 50},
    "pategan": {"iterations": 5, "n_teachers": 4},
}
NEURAL = ("dptvae", "dpctgan", "pategan")
NOISY_COUNT_KEYS = ("n_estimate", "noisy_rows", "total")
"""Model-file fields holding the DP estimate of the row count: noisy, so they may equal it by
chance (about 1% at these noise scales) without leaking it."""


def planted_table() -> pd.DataFrame:
    """N_REAL rows where only the planted values occur exactly once."""
    rng = np.random.default_rng(7)
    n = N_REAL - len(ONCE_NUMBERS)
    amount = np.resize(np.arange(20.0, 70.0), n)  # every regular value about 10 times
    city = np.resize(np.array(["north", "south", "east", "west"]), N_REAL - len(ONCE_CATEGORIES))
    table = pd.DataFrame(
        {
            "amount": np.concatenate([rng.permutation(amount), ONCE_NUMBERS]),
            "city": np.concatenate([rng.permutation(city), ONCE_CATEGORIES]),
            "income": rng.choice(["<=50K", ">50K"], N_REAL),
        }
    )
    return table.sample(frac=1.0, random_state=3).reset_index(drop=True)


def once_values(table: pd.DataFrame) -> set:
    out = set()
    for col in table.columns:
        counts = table[col].value_counts()
        out |= set(counts[counts == 1].index)
    return out


def number_forms(value: float) -> set[str]:
    """``value`` as a report or sheet may print it (the sign left off: '-' or '−')."""
    v = abs(value)
    return {repr(v), f"{v:,}", f"{v:g}", f"{v:.3f}", f"{v:,.3f}", f"{v:.4g}", f"{v:,.0f}", f"{v:.0f}"}


def _token(text: str) -> re.Pattern:
    # a number on its own: not part of a longer number, a decimal, a word or an id
    return re.compile(rf"(?<![\w.,]){re.escape(text)}(?!\w|[.,]\d)")


def leaks(text: str) -> list[str]:
    """The planted once-occurring values and the exact row count found in ``text``."""
    found = [c for c in ONCE_CATEGORIES if c in text]
    for value in ONCE_NUMBERS:
        found += [f"{value}: {form!r}" for form in number_forms(value) if _token(form).search(text)]
    found += [f"row count {form!r}" for form in {str(N_REAL), f"{N_REAL:,}"} if _token(form).search(text)]
    return found


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    table = planted_table()
    # the scan below is only meaningful if the planted values are exactly the ones seen once
    assert once_values(table) == set(ONCE_NUMBERS) | set(ONCE_CATEGORIES)
    assert len(table) == N_REAL != N_SYNTHETIC
    return table


@pytest.fixture(scope="module")
def fitted(real):
    """family name -> (model, synthetic rows), fitted once per module."""
    cache = {}

    def get(name: str):
        if name not in cache:
            if name in NEURAL:
                pytest.importorskip("torch")
                pytest.importorskip("opacus")
            model = lookalike.get_synthesizer(name, **DP_FAMILIES[name])
            model.fit(real, epsilon=EPSILON, seed=0)
            cache[name] = (model, model.sample(N_SYNTHETIC, seed=1))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def private_report(real, fitted):
    from lookalike.evaluate import evaluate

    model, rows = fitted("mst")
    ev = evaluate(real, rows, target="income", n_queries=60, max_3way=5, seed=0)
    return build_report(ev, model=model, seed=0)


# ----------------------------------------------------------------------------- acceptance
@pytest.mark.parametrize("family", list(DP_FAMILIES))
def test_release_sheet_holds_no_real_statistic(family, fitted, tmp_path):
    model, rows = fitted(family)
    sheet = build_release_sheet(model, rows)
    html = sheet.write_html(tmp_path / "r.release.html").read_text(encoding="utf-8")
    text = sheet.write_json(tmp_path / "r.release.json").read_text(encoding="utf-8")
    assert leaks(html) == [] and leaks(text) == []
    # ... and it does describe the release
    data = json.loads(text)
    assert data["synthetic"]["n_rows"] == N_SYNTHETIC and f"{N_SYNTHETIC}" in html
    assert data["guarantee"]["epsilon"] == EPSILON and data["guarantee"]["differentially_private"]
    assert data["releases"] and all({"name", "mechanism"} <= set(r) for r in data["releases"])
    assert [r["name"] for r in data["releases"]] == [
        r["name"] for r in privacy_dict(model.privacy_)["releases"]
    ]
    assert data["synthesizer"]["name"] == family
    assert data["domain"]["discovery"]  # the domain was found under DP, and the sheet says how
    assert "(ε = 1, δ = 1e-9)-differential privacy" in html


def test_the_scan_finds_the_planted_values_in_the_private_report(private_report):
    """The same scan on the private report finds them: it is not blind."""
    html, text = private_report.to_html(), private_report.to_json()
    for page in (html, text):
        found = leaks(page)
        assert any(f.startswith("row count") for f in found), found
        assert "Qzx-unique-7" in found and "Vrb-single-3" in found
        assert any(f.startswith("-4321.75") for f in found), found  # the real minimum, a bin label
    assert any(f.startswith("123457.25") for f in leaks(text))  # the maximum: a bin edge


def model_file_leaks(model, folder: Path) -> tuple[dict, list[str]]:
    """The saved model's JSON, and the planted values and row count found in it and its
    arrays (the DP estimate of the row count left out of the search)."""
    path = model.save(folder / f"{model.name}.lookalike")
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("model.json"))
        arrays = {n: np.load(io.BytesIO(z.read(n)), allow_pickle=False)
                  for n in z.namelist() if n.endswith(".npy")}
    found = leaks(json.dumps(_without(meta, NOISY_COUNT_KEYS), ensure_ascii=False))
    for name, arr in arrays.items():
        if arr.dtype.kind in "fiu":
            found += [f"{name}: {v}" for v in ONCE_NUMBERS if np.any(arr.astype(float) == v)]
        else:
            found += [f"{name}: {c}" for c in set(map(str, arr.ravel())) & set(ONCE_CATEGORIES)]
    return meta, found


@pytest.mark.parametrize("family", list(DP_FAMILIES))
def test_model_file_holds_no_real_statistic(family, fitted, tmp_path):
    model, _ = fitted(family)
    meta, found = model_file_leaks(model, tmp_path)
    assert meta["fit"]["n_rows"] is None  # the exact count is not kept
    assert found == [], family


def test_the_model_file_scan_finds_them_in_a_model_without_dp(real, tmp_path):
    cart = lookalike.get_synthesizer("cart").fit(real, seed=0)
    _, found = model_file_leaks(cart, tmp_path)
    assert {"Qzx-unique-7", f"row count '{N_REAL}'"} <= set(found), found
    assert any(f.endswith(": 123457.25") for f in found), found  # a leaf of its trees


def _without(value, keys):
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


# ----------------------------------------------------------------------------- the sheet
def test_sheet_lists_declared_and_dp_facts_and_withholds_data_facts(real, fitted):
    model, rows = fitted("mst")
    fake = copy.copy(model)
    cols = list(model.schema_.columns)
    cols[0] = cols[0].replace(source="data", bounds=(-4321.75, 123457.25))
    cols[1] = cols[1].replace(source="declared", categories=("north", "south", "east", "west"))
    fake.schema_ = type(model.schema_)(tuple(cols))
    sheet = build_release_sheet(fake, rows)
    assert sheet.domain["withheld"] == ["amount: bounds"]
    assert leaks(sheet.to_html()) == [] and leaks(sheet.to_json()) == []
    assert "not covered by the guarantee" in sheet.to_html()
    assert "Except: the model's schema holds 1 fact(s) read from the real rows" in sheet.guarantee["statement"]
    city = next(c for c in sheet.domain["columns"] if c["name"] == "city")
    assert {"fact": "categories", "value": ["north", "south", "east", "west"], "source": "declared"} in city["facts"]
    amount = next(c for c in sheet.domain["columns"] if c["name"] == "amount")
    assert all(f["fact"] != "bounds" for f in amount["facts"])


def test_sheet_summarises_the_synthetic_rows_only(fitted):
    model, rows = fitted("mst")
    sheet = build_release_sheet(model, rows, title="payroll", seed=1)
    amount = next(c for c in sheet.synthetic["columns"] if c["name"] == "amount")
    assert amount["min"] == rows["amount"].min() and amount["max"] == rows["amount"].max()
    assert amount["median"] == pytest.approx(rows["amount"].median())
    assert sum(amount["hist"]["synthetic"]) == pytest.approx(1.0)
    city = next(c for c in sheet.synthetic["columns"] if c["name"] == "city")
    shares = rows["city"].astype(str).value_counts(normalize=True)
    assert dict(zip(city["hist"]["labels"], city["hist"]["synthetic"], strict=True)) == pytest.approx(
        shares.to_dict()
    )
    assert sheet.provenance["sample_seed"] == 1 and "seed" not in json.dumps(sheet.synthesizer)
    html = sheet.to_html()
    assert html.count('<svg class="plot"') == 3 and 'content="3"' in html
    assert "<title>Release sheet: payroll</title>" in html
    assert list(sheet.to_dict())[0] == "shareable"


def test_sheet_files_refuse_to_overwrite(fitted, tmp_path):
    model, rows = fitted("mst")
    sheet = build_release_sheet(model, rows)
    sheet.write_json(tmp_path / "s.json")
    with pytest.raises(OutputExistsError):
        sheet.write_json(tmp_path / "s.json")
    assert isinstance(sheet, ReleaseSheet) and json.loads((tmp_path / "s.json").read_text()) == sheet.to_dict()


def test_sheet_is_refused_for_a_model_without_dp(real):
    cart = lookalike.get_synthesizer("cart").fit(real, seed=0)
    assert not is_differentially_private(cart)
    with pytest.raises(ConfigError, match="'cart' was fitted without differential privacy: a release sheet"):
        build_release_sheet(cart, cart.sample(50, seed=0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m, rows: (lookalike.get_synthesizer("mst"), rows), "'mst' is not fitted"),
        (lambda m, rows: ("mst", rows), "model must be a lookalike synthesizer, got str"),
        (lambda m, rows: (m, rows.to_dict()), "synthetic must be a pandas DataFrame"),
        (lambda m, rows: (m, rows.assign(salary=1)), r"columns the model does not produce: \['salary'\]"),
    ],
)
def test_bad_sheet_input_is_refused(fitted, make, message):
    model, rows = fitted("mst")
    with pytest.raises(ConfigError, match=message):
        build_release_sheet(*make(model, rows))


def test_blank_title_is_refused(fitted):
    model, rows = fitted("mst")
    with pytest.raises(ConfigError, match="release sheet title must be a non-empty string"):
        build_release_sheet(model, rows, title=" ")


# ----------------------------------------------------------------------------- the private report
def test_private_report_says_so_first(private_report):
    html = private_report.to_html()
    body = html[html.index("<main>"):]
    first = body[: body.index('<section id="summary"')]
    assert body.index(CONFIDENTIAL) < body.index("<header")  # before anything else
    assert "keep this report as private as the data" in first.lower()
    assert "share its release sheet instead" in first
    assert list(private_report.to_dict())[0] == "confidential"
    assert private_report.to_dict()["confidential"].startswith(CONFIDENTIAL)


def test_dp_private_report_never_claims_the_guarantee_for_itself(private_report):
    html = private_report.to_html()
    assert "This release satisfies" not in html
    assert (
        "The synthetic data and model satisfy (ε = 1, δ = 1e-9)-differential privacy. "
        "This report does not: it compares them with the real rows."
    ) in html


def test_non_dp_private_report_says_no_guarantee_and_private(small_evaluation):
    report = build_report(small_evaluation)
    html = report.to_html()
    assert NO_GUARANTEE in html and CONFIDENTIAL in html
    assert report.confidential == CONFIDENTIAL  # no release sheet to point to
    assert "<title>Private: lookalike report</title>" in html


# ----------------------------------------------------------------------------- helpers
def test_report_paths_name_the_sheet_beside_the_report():
    assert report_paths(Path("out/r.html"), dp=False) == [Path("out/r.html"), Path("out/r.json")]
    assert [p.name for p in report_paths("out/r.html", dp=True)] == [
        "r.html", "r.json", "r.release.html", "r.release.json",
    ]
    with pytest.raises(ConfigError, match=r"report path 'r.JSON' ends in .json, where its numbers go"):
        report_paths("r.JSON", dp=False)


def test_privacy_dict_reads_dicts_and_objects():
    class Facts:
        def to_dict(self):
            return {"differentially_private": True, "epsilon": np.float64(2.0)}

    assert privacy_dict(Facts()) == {"differentially_private": True, "epsilon": 2.0}
    assert privacy_dict({"differentially_private": False}) == {"differentially_private": False}
    with pytest.raises(ConfigError, match="privacy_ must be a PrivacyReport or its dict, got int"):
        privacy_dict(3)


# ----------------------------------------------------------------------------- the CLI
@pytest.fixture
def planted_csv(tmp_path, real) -> Path:
    path = tmp_path / "a.csv"
    real.to_csv(path, index=False)
    return path


def test_cli_dp_synth_writes_the_private_report_and_the_release_sheet(cli, planted_csv, tmp_path):
    """The finding: `synth -s mst --epsilon 1 --report r.html` wrote one report that claimed DP
    while showing the real row count, real histograms and once-occurring values."""
    report = tmp_path / "r.html"
    # -n: by default a DP fit samples its noisy row count, which is the real count (537)
    # about one run in a hundred: shown on the sheet, it would be DP output, not a leak
    result = cli("synth", planted_csv, "-s", "mst", "--epsilon", 1, "--report", report,
                 "--target", "income", "-o", tmp_path / "dp.csv", "--seed", 0, "-n", N_SYNTHETIC,
                 "--ledger", tmp_path / "ledger.sqlite")
    assert result.exit_code == 0, result.output
    flat = "".join(result.stdout.split())
    assert f"privatereport(keepasprivateasthedata):{''.join(str(report).split())}" in flat
    assert f"releasesheet(shareable):{''.join(str(tmp_path / 'r.release.html').split())}" in flat
    private = report.read_text(encoding="utf-8")
    assert "This release satisfies" not in private and CONFIDENTIAL in private
    assert json.loads((tmp_path / "r.json").read_text())["confidential"].startswith(CONFIDENTIAL)
    assert leaks(private)  # the private report does show real statistics...
    for name in ("r.release.html", "r.release.json"):  # ...the shareable sheet none
        assert leaks((tmp_path / name).read_text(encoding="utf-8")) == [], name
    sheet = json.loads((tmp_path / "r.release.json").read_text())
    assert sheet["synthetic"]["n_rows"] == len(pd.read_csv(tmp_path / "dp.csv")) == N_SYNTHETIC


def test_cli_evaluate_writes_a_private_report_and_no_sheet(cli, planted_csv, tmp_path):
    other = tmp_path / "b.csv"
    planted_table().sample(200, random_state=1).to_csv(other, index=False)
    result = cli("evaluate", planted_csv, other, "-o", tmp_path / "e.html")
    assert result.exit_code == 0, result.output
    assert "private report (keep as private as the data)" in " ".join(result.stdout.split())
    assert "release sheet" not in result.stdout
    assert (tmp_path / "e.json").exists() and not (tmp_path / "e.release.html").exists()
    assert NO_GUARANTEE in (tmp_path / "e.html").read_text(encoding="utf-8")


def test_write_report_checks_every_path_before_evaluating(fitted, real, tmp_path, monkeypatch):
    import lookalike.evaluate
    from lookalike.cli import _write_report

    def no_evaluation(*args, **kwargs):
        raise AssertionError("evaluated although an output exists")

    monkeypatch.setattr(lookalike.evaluate, "evaluate", no_evaluation)
    model, rows = fitted("mst")
    (tmp_path / "r.release.json").write_text("keep me")
    with pytest.raises(OutputExistsError, match=r"r\.release\.json"):
        _write_report(real, rows, None, None, tmp_path / "r.html", False, model=model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.release.json"]
    assert (tmp_path / "r.release.json").read_text() == "keep me"


def test_sheet_reads_text_dates_in_their_own_format(tmp_path):
    """Synthetic dates written as the input wrote them (16.11.2020) are summarised in that
    format. Before, the sheet guessed the format from the first value: 01.02.2021 first made it
    month-first, and every later date past the 12th of a month read as nothing."""
    rng = np.random.default_rng(0)
    days = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, 2000), "D")
    real = pd.DataFrame({"visit": days.strftime("%d.%m.%Y"), "n": rng.integers(0, 9, 2000)})
    model = lookalike.fit(real, "mst", seed=0, epsilon=1.0, ledger=tmp_path / "l.sqlite",
                          dataset="visits", register=True)
    rows = model.sample(300, seed=1)
    parsed = pd.to_datetime(rows["visit"], format="%d.%m.%Y")
    rows = rows.iloc[np.argsort(~(parsed.dt.day <= 12).to_numpy(), kind="stable")]  # one first
    assert pd.to_datetime(rows["visit"].iloc[0], format="%d.%m.%Y").day <= 12
    sheet = build_release_sheet(model, rows).to_dict()
    visit = next(c for c in sheet["synthetic"]["columns"] if c["name"] == "visit")
    assert (visit["min"], visit["max"]) == (parsed.min().isoformat(), parsed.max().isoformat())
    assert visit["hist"]["synthetic"] == pytest.approx(
        np.histogram(parsed.astype("int64"), bins=len(visit["hist"]["synthetic"]))[0] / 300)
