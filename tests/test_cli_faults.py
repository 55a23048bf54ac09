"""Bad input, faults and crafted files through the command line: a named error, never a traceback.

Each case builds its files in a fresh folder, runs one ``lookalike`` command in-process, and
checks: exit code 1, exactly one ``error:`` line naming the problem, no traceback, and no
output created or replaced (every file in the folder is byte-identical afterwards, and none is
added). The cases are listed in one table so that their count is the count in the issue.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lookalike.cli import app

N = 240


def _people(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "income": np.round(rng.gamma(4.0, 9000.0, n), 2),
        "city": rng.choice(["Oslo", "Rome", "Lima"], n),
        "member": rng.choice(["yes", "no"], n),
    })


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    """A small independent model file, made once, to craft damaged copies from."""
    folder = tmp_path_factory.mktemp("model")
    _people().to_csv(folder / "p.csv", index=False)
    result = CliRunner().invoke(app, ["fit", str(folder / "p.csv"), "-s", "independent",
                                      "-o", str(folder / "m.lookalike")])
    assert result.exit_code == 0, result.output
    return folder / "m.lookalike"


# ------------------------------------------------------------------------------ builders
def csv(name: str = "p.csv", df: pd.DataFrame | None = None) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (_people() if df is None else df).to_csv(d / name, index=False)
    return make


def text(name: str, content: str | bytes) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (d / name).write_bytes(content)
        else:
            (d / name).write_text(content)
    return make


def folder(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).mkdir()


def schema(columns: list[dict], name: str = "s.json") -> Callable[[Path], None]:
    return text(name, json.dumps({"columns": columns}))


GOOD_SCHEMA = [{"name": "age", "kind": "integer"}, {"name": "income", "kind": "float"},
               {"name": "city", "kind": "categorical"}, {"name": "member", "kind": "categorical"}]


def with_col(i: int, **change) -> list[dict]:
    cols = [dict(c) for c in GOOD_SCHEMA]
    cols[i].update(change)
    return cols


def limited_ledger(epsilon: float = 0.5, dataset: str = "p") -> Callable[[Path], None]:
    def make(d: Path) -> None:
        from lookalike.privacy.ledger import PrivacyLedger

        PrivacyLedger(d / "l.sqlite").set_limit(dataset, epsilon=epsilon, delta=1e-9)
    return make


def fitted_on(dataset: str) -> Callable[[Path], None]:
    """A ledger where the demo table is already registered as ``dataset``."""
    def make(d: Path) -> None:
        import lookalike

        lookalike.fit(str(d / "p.csv"), "mst", epsilon=1.0, ledger=d / "l.sqlite",
                      dataset=dataset, register=True, seed=0)
    return make


def model_copy(edit: Callable[[dict, dict], None] | None = None, raw: bytes | None = None):
    """A copy of the fitted model, its JSON and arrays edited by ``edit(meta, members)``."""
    def make(d: Path, source: Path) -> None:
        if raw is not None:
            (d / "m.lookalike").write_bytes(raw)
            return
        with zipfile.ZipFile(source) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        meta = json.loads(members.pop("model.json"))
        if edit is not None:
            edit(meta, members)
        with zipfile.ZipFile(d / "m.lookalike", "w", zipfile.ZIP_DEFLATED) as zf:
            if not meta.pop("__omit__", False):
                zf.writestr("model.json", meta.pop("__raw__", None) or json.dumps(meta))
            for n, b in members.items():
                zf.writestr(n, b)
    make.needs_model = True
    return make


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _huge_header(shape: tuple) -> bytes:
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    text_ = repr(header).encode() + b" " * 10
    text_ += b" " * (-(len(text_) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text_).to_bytes(2, "little") + text_


def _first_array(members: dict) -> str:
    return next(n for n in sorted(members) if n.endswith(".npy"))


def _set_edges_nan(meta: dict, members: dict) -> None:
    name = next((n for n in sorted(members) if "edges" in n), _first_array(members))
    arr = np.load(io.BytesIO(members[name]), allow_pickle=False).astype(float)
    arr[len(arr) // 2] = np.nan
    members[name] = _npy(arr)


def _huge_shape(meta: dict, members: dict) -> None:
    members[_first_array(members)] = _huge_header((10**12,))


def _bomb(meta: dict, members: dict) -> None:
    members[_first_array(members)] = _npy(np.zeros(200_000_000 // 8 * 8, dtype=np.uint8).view("<f8"))


def _deep(meta: dict, members: dict) -> None:
    meta["__raw__"] = "[" * 200_000 + "]" * 200_000


def _set(key: str, value) -> Callable[[dict, dict], None]:
    def edit(meta: dict, members: dict) -> None:
        meta[key] = value
    return edit


def _zip_without_meta(meta: dict, members: dict) -> None:
    meta["__omit__"] = True


# ------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    match: str
    setup: tuple = ()


P = "p.csv"
SYNTH = ["synth", P, "-o", "out.csv"]
DP = ["--epsilon", "1", "--ledger", "l.sqlite"]

CASES = [
    # ---- options and hyper-parameters (nothing read)
    Case("unknown synthesizer", [*SYNTH, "-s", "nope"], "unknown synthesizer", (csv(),)),
    Case("unknown hyper-parameter", [*SYNTH, "-s", "mst", "-p", "nosuch=1"], "no hyper-parameter", (csv(),)),
    Case("bad hyper-parameter value", [*SYNTH, "-s", "mst", "-p", "n_bins=1"], "n_bins", (csv(),)),
    Case("param without =", [*SYNTH, "-p", "n_bins"], "NAME=VALUE", (csv(),)),
    Case("bad engine", [*SYNTH, "-s", "mst", "-p", "engine=gpu"], "engine", (csv(),)),
    Case("discovery share 1", [*SYNTH, "-s", "aim", "-p", "discovery_share=1", *DP], "discovery_share", (csv(),)),
    Case("neural epochs 0", [*SYNTH, "-s", "tvae", "-p", "epochs=0"], "epochs", (csv(),)),
    Case("rows 0", [*SYNTH, "-n", "0"], "-n", (csv(),)),
    Case("rows negative", [*SYNTH, "-n", "-5"], "-n", (csv(),)),
    Case("sample rows 0", ["sample", "m.lookalike", "-n", "0", "-o", "s.csv"], "-n", (model_copy(),)),
    Case("epsilon 0", [*SYNTH, "-s", "mst", "--epsilon", "0", "--ledger", "l.sqlite"], "epsilon", (csv(),)),
    Case("epsilon negative", [*SYNTH, "-s", "mst", "--epsilon", "-1", "--ledger", "l.sqlite"], "epsilon", (csv(),)),
    Case("epsilon nan", [*SYNTH, "-s", "mst", "--epsilon", "nan", "--ledger", "l.sqlite"], "epsilon", (csv(),)),
    Case("epsilon inf", [*SYNTH, "-s", "mst", "--epsilon", "inf", "--ledger", "l.sqlite"], "epsilon", (csv(),)),
    Case("epsilon 1e-12", [*SYNTH, "-s", "mst", "--epsilon", "1e-12", "--ledger", "l.sqlite"], "below", (csv(),)),
    Case("delta 1.5", [*SYNTH, "-s", "mst", *DP, "--delta", "1.5"], "delta", (csv(),)),
    Case("delta 0", [*SYNTH, "-s", "mst", *DP, "--delta", "0"], "delta", (csv(),)),
    Case("delta without epsilon", [*SYNTH, "--delta", "1e-9"], "--epsilon", (csv(),)),
    Case("dataset without epsilon", [*SYNTH, "--dataset", "d"], "--epsilon", (csv(),)),
    Case("ledger without epsilon", [*SYNTH, "--ledger", "l.sqlite"], "--epsilon", (csv(),)),
    Case("cart with epsilon", [*SYNTH, *DP], "no differentially private form", (csv(),)),
    Case("ctgan with epsilon", [*SYNTH, "-s", "ctgan", *DP], "no differentially private form", (csv(),)),
    Case("fit cart with epsilon", ["fit", P, "-o", "m2.lookalike", *DP], "no differentially private", (csv(),)),
    Case("target without report", [*SYNTH, "--target", "city"], "--report", (csv(),)),
    Case("holdout without report", [*SYNTH, "--holdout", P], "--report", (csv(),)),
    Case("condition without =", [*SYNTH, "-c", "city"], "COLUMN=VALUE|NAME=VALUE", (csv(),)),
    Case("condition unknown column", [*SYNTH, "-c", "nosuch=1"], "unknown column", (csv(),)),
    Case("condition unknown value", [*SYNTH, "-s", "independent", "-c", "city=Paris"], "Paris", (csv(),)),
    Case("duckdb with encoding", [*SYNTH, "-s", "mst", "-p", "engine=duckdb", "--encoding", "latin-1"],
         "engine=duckdb", (csv(),)),
    Case("negative seed", [*SYNTH, "--seed", "-1"], "seed", (csv(),)),
    # ---- outputs (checked before anything is read or charged)
    Case("output exists", [*SYNTH], "already exists", (csv(), text("out.csv", "keep me"))),
    Case("dp output exists", [*SYNTH, "-s", "mst", *DP], "already exists", (csv(), text("out.csv", "keep"))),
    Case("model-out exists", [*SYNTH, "--model-out", "m.lookalike"], "already exists",
         (csv(), text("m.lookalike", "keep"))),
    Case("report exists", [*SYNTH, "--report", "r.html"], "already exists", (csv(), text("r.html", "keep"))),
    Case("report json exists", [*SYNTH, "--report", "r.html"], "already exists", (csv(), text("r.json", "{}"))),
    Case("dp release sheet exists", [*SYNTH, "-s", "mst", *DP, "--report", "r.html"], "already exists",
         (csv(), text("r.release.html", "keep"))),
    Case("same path twice", [*SYNTH, "--model-out", "out.csv"], "twice", (csv(),)),
    Case("output under a file", ["synth", P, "-o", "f.txt/out.csv"], "f.txt", (csv(), text("f.txt", "x"))),
    Case("output is a folder", ["synth", P, "-o", "d"], "directory|folder|exists", (csv(), folder("d"))),
    Case("unknown output format", ["synth", P, "-o", "out.xyz"], "xyz|format", (csv(),)),
    Case("fit output exists", ["fit", P, "-o", "m.lookalike"], "already exists", (csv(), text("m.lookalike", "k"))),
    Case("sample output exists", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "already exists",
         (model_copy(), text("s.csv", "keep"))),
    Case("inspect output exists", ["inspect", P, "-o", "s.json"], "already exists", (csv(), text("s.json", "{}"))),
    Case("evaluate output exists", ["evaluate", P, P, "-o", "r.html"], "already exists",
         (csv(), text("r.html", "keep"))),
    Case("audit output exists", ["audit", P, P, "-o", "a.html"], "already exists", (csv(), text("a.html", "k"))),
    # ---- report inputs (checked before the charge)
    Case("target typo", [*SYNTH, "-s", "mst", *DP, "--report", "r.html", "--target", "typo"], "typo", (csv(),)),
    Case("holdout other columns", [*SYNTH, "--report", "r.html", "--holdout", "h.csv"], "columns",
         (csv(), csv("h.csv", _people().drop(columns="city")))),
    Case("holdout missing", [*SYNTH, "--report", "r.html", "--holdout", "nope.csv"], "nope.csv", (csv(),)),
    # ---- input tables
    Case("missing input", ["synth", "nope.csv", "-o", "out.csv"], "nope.csv", ()),
    Case("input is a folder", ["synth", "d", "-o", "out.csv"], "d", (folder("d"),)),
    Case("empty file", ["synth", "e.csv", "-o", "out.csv"], "empty", (text("e.csv", ""),)),
    Case("header only", ["synth", "e.csv", "-o", "out.csv"], "no rows|empty|header", (text("e.csv", "a,b\n"),)),
    Case("garbage bytes", ["synth", "g.csv", "-o", "out.csv"], "g.csv",
         (text("g.csv", bytes(range(256)) * 40),)),
    Case("duplicate columns", ["synth", "d.csv", "-o", "out.csv"], "duplicate|twice|share",
         (text("d.csv", "a,a\n1,2\n3,4\n"),)),
    Case("infinite values", ["synth", "i.csv", "-o", "out.csv"], "infinite|inf",
         (text("i.csv", "a,b\n1,x\ninf,y\n3,x\n"),)),
    Case("invalid utf-8", ["synth", "u.csv", "-o", "out.csv", "--encoding", "utf-8"], "utf-8|UTF-8|encod",
         (text("u.csv", b"a,b\n1,caf\xe9\n2,x\n"),)),
    Case("ragged rows", ["synth", "r.csv", "-o", "out.csv"], "r.csv",
         (text("r.csv", "a,b\n1,2\n3,4,5,6\n"),)),
    Case("table on a csv", [*SYNTH, "--table", "t"], "table", (csv(),)),
    Case("query on a csv", [*SYNTH, "--query", "select 1"], "query", (csv(),)),
    Case("missing sqlite database", ["synth", "sqlite:///nope.db", "--table", "t", "-o", "out.csv"],
         "nope.db|not exist|no such", ()),
    Case("drop unknown column", [*SYNTH, "--drop", "nosuch"], "nosuch", (csv(),)),
    Case("drop every column", [*SYNTH, "--drop", "age", "--drop", "income", "--drop", "city",
                               "--drop", "member"], "no column|no columns|empty", (csv(),)),
    Case("spark with a decimal comma", [*SYNTH, "-s", "mst", "--engine", "spark", "--decimal", ","],
         "engine=spark", (csv(),)),
    Case("duckdb drop unknown", [*SYNTH, "-s", "mst", "-p", "engine=duckdb", "--drop", "nosuch"], "nosuch",
         (csv(),)),
    # ---- schemas
    Case("schema missing", [*SYNTH, "--schema", "nope.json"], "nope.json", (csv(),)),
    Case("schema not json", [*SYNTH, "--schema", "s.json"], "s.json|JSON", (csv(), text("s.json", "{oops"))),
    Case("schema bounds text", [*SYNTH, "--schema", "s.json"], "bounds", (csv(), schema(with_col(0, bounds=["a", "b"])))),
    Case("schema bounds length", [*SYNTH, "--schema", "s.json"], "bounds", (csv(), schema(with_col(0, bounds=[1])))),
    Case("schema bounds reversed", [*SYNTH, "--schema", "s.json"], "bounds", (csv(), schema(with_col(1, bounds=[9, 1])))),
    Case("schema unknown kind", [*SYNTH, "--schema", "s.json"], "kind", (csv(), schema(with_col(2, kind="colour")))),
    Case("schema categories not list", [*SYNTH, "--schema", "s.json"], "categories",
         (csv(), schema(with_col(2, categories="Oslo")))),
    Case("schema absent column", [*SYNTH, "--schema", "s.json"], "nosuch",
         (csv(), schema([*GOOD_SCHEMA, {"name": "nosuch", "kind": "float"}]))),
    Case("schema deep json", [*SYNTH, "--schema", "s.json"], "s.json|deep|nest",
         (csv(), text("s.json", "[" * 100_000 + "]" * 100_000))),
    Case("schema forbids missing", ["synth", "m.csv", "-o", "out.csv", "--schema", "s.json"], "missing",
         (text("m.csv", "age,income,city,member\n" + "\n".join(f"{20 + i % 50},{i}.5,Oslo,yes" for i in range(40))
               + "\n30,,Rome,no\n"), schema(with_col(1, nullable=False)))),
    # ---- the ledger
    Case("ledger is a folder", [*SYNTH, "-s", "mst", "--epsilon", "1", "--ledger", "d"], "d",
         (csv(), folder("d"))),
    Case("ledger is garbage", [*SYNTH, "-s", "mst", *DP], "l.sqlite", (csv(), text("l.sqlite", "not a db " * 99))),
    Case("ledger under a file", [*SYNTH, "-s", "mst", "--epsilon", "1", "--ledger", "f/l.sqlite"], "f",
         (csv(), text("f", "x"))),
    Case("over budget", [*SYNTH, "-s", "mst", *DP, "--dataset", "p"], "budget", (csv(), limited_ledger())),
    Case("renamed copy", ["synth", "copy.csv", "-o", "out.csv", "-s", "mst", *DP], "dataset 'p'",
         (csv(), csv("copy.csv"), fitted_on("p"))),
    Case("budget bad limit", ["budget", "d", "--set-epsilon", "-1", "--ledger", "l.sqlite"], "epsilon", ()),
    Case("budget unknown dataset", ["budget", "nope", "--ledger", "l.sqlite"], "nope", ()),
    # ---- model files
    Case("model missing", ["sample", "nope.lookalike", "-n", "5", "-o", "s.csv"], "nope.lookalike", ()),
    Case("model is a folder", ["sample", "d", "-n", "5", "-o", "s.csv"], "d", (folder("d"),)),
    Case("model not a zip", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "m.lookalike",
         (model_copy(raw=b"hello world" * 10),)),
    Case("model truncated", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "m.lookalike",
         (model_copy(raw=b"PK\x03\x04" + b"\x00" * 40),)),
    Case("model without json", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "model.json",
         (model_copy(_zip_without_meta),)),
    Case("model json garbage", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "m.lookalike",
         (model_copy(lambda m, a: m.update(__raw__="{not json")),)),
    Case("model json deep", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "deep|nest|depth",
         (model_copy(_deep),)),
    Case("model huge shape", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "shape|limit|large",
         (model_copy(_huge_shape),)),
    Case("model nan edges", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "finite|NaN|nan",
         (model_copy(_set_edges_nan),)),
    Case("model newer format", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "newer",
         (model_copy(_set("version", 99)),)),
    Case("model unknown family", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "unknown family",
         (model_copy(_set("synthesizer", "wizard")),)),
    Case("model foreign format", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "format",
         (model_copy(_set("format", "other")),)),
    Case("model without state", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv"], "damaged|state",
         (model_copy(lambda m, a: m.pop("state")),)),
    Case("model condition unknown", ["sample", "m.lookalike", "-n", "5", "-o", "s.csv", "-c", "x=1"],
         "unknown column", (model_copy(),)),
    # ---- evaluate, audit, inspect
    Case("evaluate missing synthetic", ["evaluate", P, "nope.csv", "-o", "r.html"], "nope.csv", (csv(),)),
    Case("evaluate other columns", ["evaluate", P, "s.csv", "-o", "r.html"], "'extra'",
         (csv(), csv("s.csv", _people().assign(extra=1)))),
    Case("evaluate target typo", ["evaluate", P, P, "-o", "r.html", "--target", "typo"], "typo", (csv(),)),
    Case("audit targets out of range", ["audit", P, P, "--holdout", "h.csv", "--targets", "99999", "-o", "a.html"],
         "99999", (csv(), csv("h.csv", _people(seed=1)))),
    Case("audit targets text", ["audit", P, P, "--targets", "x,y", "-o", "a.html"], "--targets", (csv(),)),
    Case("audit shadow without model", ["audit", P, P, "--holdout", "h.csv", "--shadow", "10", "-o", "a.html"],
         "--model", (csv(), csv("h.csv", _people(seed=1)))),
    Case("audit unknown secret", ["audit", P, P, "--holdout", "h.csv", "--secret", "nosuch", "-o", "a.html"],
         "nosuch", (csv(), csv("h.csv", _people(seed=1)))),
    Case("audit holdout of the training rows", ["audit", P, P, "--holdout", P, "-o", "a.html"],
         "shares 240 of its 240 rows", (csv(),)),
    Case("evaluate holdout of the training rows", ["evaluate", P, P, "--holdout", P, "-o", "r.html"],
         "not held out", (csv(),)),
    Case("inspect missing", ["inspect", "nope.csv"], "nope.csv", ()),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_ends_in_one_named_error(case, tmp_path, fitted, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for make in case.setup:
        make(tmp_path, fitted) if getattr(make, "needs_model", False) else make(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, case.args, catch_exceptions=False)
    output = result.output
    assert "Traceback" not in output
    assert result.exit_code == 1, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    import re

    assert re.search(case.match, errors[0]), errors[0]
    after = {p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith("-journal")}
    created = {p for p in after - set(before) if p.name != "l.sqlite"}
    assert not created, f"created {sorted(map(str, created))}"
    assert not any(".partial" in p.name for p in after)
    for p, content in before.items():
        assert p.read_bytes() == content or p.name == "l.sqlite", f"{p} changed"


def test_there_are_at_least_80_cases():
    assert len(CASES) >= 80


def test_a_refused_dp_run_registers_nothing(tmp_path, monkeypatch):
    """The ledger file may be created, but no dataset is registered by a refused run."""
    from lookalike.privacy.ledger import PrivacyLedger

    monkeypatch.chdir(tmp_path)
    csv()(tmp_path)
    for family, bad in (("mst", ["--report", "r.html", "--target", "typo"]), ("mst", ["-n", "0"]),
                        ("mst", ["-c", "nosuch=1"]), ("mst", ["-p", "nosuch=1"]), ("cart", []),
                        ("mst", ["--epsilon", "1e-12"])):
        for command in ([*SYNTH, "-s", family, *DP, *bad], ["fit", P, "-o", "m.lookalike", "-s", family,
                                                            *DP, *bad]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code in (1, 2), (command, result.output)  # 2: typer's own usage error
            assert "Traceback" not in result.output
    assert PrivacyLedger(tmp_path / "l.sqlite").datasets() == []
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "m.lookalike").exists()


def test_locked_ledger_is_a_named_error(tmp_path, monkeypatch):
    import lookalike.privacy.ledger as ledger_module

    monkeypatch.chdir(tmp_path)
    csv()(tmp_path)
    ledger_module.PrivacyLedger(tmp_path / "l.sqlite").set_limit("p", epsilon=5, delta=1e-9)
    monkeypatch.setattr(ledger_module, "LOCK_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(tmp_path / "l.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = CliRunner().invoke(app, [*SYNTH, "-s", "mst", *DP, "--dataset", "p"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "another" in result.output.lower() or "locked" in result.output.lower()
    assert not (tmp_path / "out.csv").exists()


def test_interrupt_during_start_up_is_one_line(monkeypatch, capsys):
    """Ctrl-C while the command imports its libraries (numpy, pandas, ...): one line, exit 130."""
    import sys

    from lookalike import _entry

    class Interrupting:
        def find_spec(self, name, path=None, target=None):
            if name == "lookalike.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "lookalike.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as stop:
        _entry.main()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "lookalike: interrupted\n"


def test_interrupt_in_a_command_is_one_line(tmp_path, monkeypatch):
    """Ctrl-C while a command runs: one line, exit code 130, no output left behind."""
    import lookalike.api

    monkeypatch.chdir(tmp_path)
    csv()(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lookalike.api, "load_data", interrupted)
    result = CliRunner().invoke(app, SYNTH)
    assert result.exit_code == 130 and "Traceback" not in result.output
    assert result.output.startswith("error: interrupted")
    assert not (tmp_path / "out.csv").exists()


def test_dp_report_with_a_free_text_column_is_written(tmp_path, monkeypatch):
    """A column the model leaves out (free text) is left out of the report's comparisons: the
    run does not fail after its charge."""
    monkeypatch.chdir(tmp_path)
    df = _people(300)
    df["note"] = [f"free text number {i} about this and that" for i in range(len(df))]
    csv("t.csv", df)(tmp_path)
    result = CliRunner().invoke(app, ["synth", "t.csv", "-o", "out.csv", "-s", "mst", *DP,
                                      "--report", "r.html", "--target", "member"])
    assert result.exit_code == 0, result.output
    assert "leaves them out" in result.output
    assert (tmp_path / "r.html").exists() and (tmp_path / "r.release.html").exists()
