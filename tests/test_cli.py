"""Tests for the ``lookalike`` command, driving the real Typer app in-process.

Rich wraps long lines at the console width, so printed paths are compared with all whitespace
removed (:func:`flat`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.main import get_command

import lookalike
from lookalike.cli import app
from lookalike.schema import Kind, Schema, infer_schema
from lookalike.synthesizers import available

COMMANDS = get_command(app).commands
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
    "native-country", "income",
]


def flat(text: str) -> str:
    return "".join(text.split())


def has_flag(flag: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


@pytest.fixture(scope="module")
def adult_csv(tmp_path_factory, adult_full) -> Path:
    """600 rows of the demo table as a CSV file."""
    path = tmp_path_factory.mktemp("data") / "adult600.csv"
    adult_full.sample(600, random_state=0).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, cli, adult_csv) -> Path:
    path = tmp_path_factory.mktemp("model") / "adult.lookalike"
    result = cli("fit", adult_csv, "-o", path, "--seed", 0)
    assert result.exit_code == 0, result.output
    return path


# ----------------------------------------------------------------------------- help


def test_top_level_help_lists_commands_and_options(cli):
    result = cli("--help")
    assert result.exit_code == 0
    assert {"inspect", "fit", "sample", "synth", "demo", "synthesizers"} <= set(COMMANDS)
    for name in COMMANDS:
        assert has_flag(name, result.output), name
    for param in get_command(app).params:
        assert param.help and has_flag(param.opts[0], result.output), param.name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_help_mentions_every_option(cli, name):
    command = COMMANDS[name]
    result = cli(name, "--help")
    assert result.exit_code == 0
    assert command.help, f"{name} has no help text"
    assert flat(command.help.split("\n")[0])[:40] in flat(result.output)
    for param in command.params:
        assert param.help and param.help.strip(), f"{name} {param.name}: no help text"
        if param.param_type_name == "option":
            for flag in param.opts:
                assert has_flag(flag, result.output), f"{name}: {flag} missing from --help"
        else:
            assert param.name in result.output


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"lookalike {lookalike.__version__}"


def test_synthesizers_lists_families_and_parameters(cli):
    """The list names every family; 'synthesizers NAME' names every hyper-parameter (more in
    tests/test_cli_synthesizers.py)."""
    result = cli("-q", "synthesizers")
    assert result.exit_code == 0
    assert "lookalike synthesizers NAME" in result.stdout
    for name in available():
        assert name in result.stdout
        one = cli("-q", "synthesizers", name)
        assert one.exit_code == 0, one.output
        for param in lookalike.get_synthesizer(name).get_params():
            assert f"{param} : " in one.stdout, (name, param)


# ----------------------------------------------------------------------------- inspect


@pytest.fixture
def people_csv(tmp_path) -> Path:
    n = 30
    df = pd.DataFrame({
        "age": [20 + (7 * i) % 50 for i in range(n)],
        "city": (["Oslo", "Lima", None] * 10)[:n],
        "joined": [f"2021-03-{1 + i % 28:02d}" for i in range(n)],
        "member": ["yes", "no"] * (n // 2),
    })
    path = tmp_path / "people.csv"
    df.to_csv(path, index=False)
    return path


def test_inspect_prints_and_writes_schema(tmp_path, cli, people_csv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("inspect", "people.csv")
    assert result.exit_code == 0, result.output
    for name, kind in [("age", "integer"), ("city", "categorical"), ("joined", "datetime"),
                       ("member", "boolean")]:
        assert re.search(rf"{name}\s.*\s{kind}\s", result.stdout), name
    assert "30 rows × 4 columns" in result.stdout
    assert "people.schema.json" in flat(result.stdout)
    schema = Schema.load(tmp_path / "people.schema.json")
    assert schema == infer_schema(lookalike.read_table(people_csv))

    before = (tmp_path / "people.schema.json").read_bytes()
    again = cli("inspect", "people.csv")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert (tmp_path / "people.schema.json").read_bytes() == before


def test_inspect_output_and_drop(tmp_path, cli, people_csv):
    out = tmp_path / "custom.json"
    result = cli("inspect", people_csv, "-o", out, "--drop", "joined", "--drop", "member")
    assert result.exit_code == 0, result.output
    assert Schema.load(out).names == ["age", "city"]


# ----------------------------------------------------------------------------- fit and sample


def test_fit_writes_model_with_params(tmp_path, cli, adult_csv):
    path = tmp_path / "m.lookalike"
    result = cli("fit", adult_csv, "-o", path, "--seed", 0, "-p", "min_samples_leaf=10",
                 "--param", 'visit_order=["income", "sex"]')
    assert result.exit_code == 0, result.output
    assert "fitted cart on 600 rows" in result.stdout
    assert flat(f"model written to {path}") in flat(result.stdout)
    assert "no formal privacy guarantee" in result.stdout
    model = lookalike.load_synthesizer(path)
    assert model.name == "cart"
    assert model.get_params() == {"min_samples_leaf": 10, "max_depth": None,
                                  "visit_order": ["income", "sex"]}
    assert model.n_rows_ == 600 and model.schema_.names == ADULT_COLUMNS


@pytest.mark.parametrize("name", ["rows.csv", "rows.csv.gz", "rows.parquet"])
def test_sample_writes_n_rows(tmp_path, cli, model_file, name):
    out = tmp_path / name
    result = cli("sample", model_file, "-n", 250, "-o", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert "250 synthetic rows written to" in result.stdout
    assert flat(str(out)) in flat(result.stdout)
    rows = lookalike.read_table(out)
    assert rows.shape == (250, 15) and list(rows.columns) == ADULT_COLUMNS


def test_sample_conditions(tmp_path, cli, model_file):
    out = tmp_path / "rich.csv"
    result = cli("sample", model_file, "-n", 200, "-o", out, "--seed", 0,
                 "--condition", "income=>50K", "-c", 'race=["Black", "Other"]')
    assert result.exit_code == 0, result.output
    rows = lookalike.read_table(out)
    assert len(rows) == 200
    assert set(rows["income"]) == {">50K"}
    assert set(rows["race"]) <= {"Black", "Other"}


#: neural families train for a few epochs here: only the CLI/API equality is tested
_QUICK = {name: ["-p", "epochs=3"] for name in ("ctgan", "tvae", "dpctgan", "dptvae")} | {
    "pategan": ["-p", "iterations=30"]
}


@pytest.mark.parametrize(
    ("synthesizer", "params"),
    [(name, _QUICK.get(name, [])) for name in available()] + [("cart", ["-p", "min_samples_leaf=10"])],
)
def test_cli_fit_and_python_fit_write_identical_files(tmp_path, cli, adult_csv, synthesizer, params):
    result = cli("fit", adult_csv, "-o", tmp_path / "cli.lookalike", "-s", synthesizer,
                 "--seed", 7, *params)
    assert result.exit_code == 0, result.output
    kwargs = {k: json.loads(v) for k, v in (p.split("=") for p in params[1::2])}
    lookalike.fit(adult_csv, synthesizer, seed=7, **kwargs).save(tmp_path / "py.lookalike")
    assert (tmp_path / "cli.lookalike").read_bytes() == (tmp_path / "py.lookalike").read_bytes()


# ----------------------------------------------------------------------------- synth


def test_synth_seeds(tmp_path, cli, adult_csv):
    paths = {}
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        paths[name] = tmp_path / f"{name}.csv"
        result = cli("synth", adult_csv, "-o", paths[name], "--seed", seed)
        assert result.exit_code == 0, result.output
    assert paths["a"].read_bytes() == paths["b"].read_bytes()
    assert paths["a"].read_bytes() != paths["c"].read_bytes()
    rows = lookalike.read_table(paths["a"])
    assert rows.shape == (600, 15)  # as many rows as the input by default


def test_synth_rows_and_model_out(tmp_path, cli, adult_csv):
    out, model = tmp_path / "out.parquet", tmp_path / "m.lookalike"
    result = cli("synth", adult_csv, "-o", out, "-n", 50, "--model-out", model, "-s",
                 "independent", "--seed", 0)
    assert result.exit_code == 0, result.output
    assert len(lookalike.read_table(out)) == 50
    assert lookalike.load_synthesizer(model).name == "independent"


def test_synth_drop(tmp_path, cli, adult_csv):
    out = tmp_path / "out.csv"
    result = cli("synth", adult_csv, "-o", out, "--drop", "fnlwgt", "--seed", 0)
    assert result.exit_code == 0, result.output
    assert list(lookalike.read_table(out).columns) == [c for c in ADULT_COLUMNS if c != "fnlwgt"]


def _edited_inspect_output(cli, data: Path, path: Path) -> dict:
    assert cli("inspect", data, "-o", path).exit_code == 0
    schema = json.loads(path.read_text(encoding="utf-8"))
    for col in schema["columns"]:
        if col["name"] == "education-num":
            col["kind"] = "categorical"  # a plain value: declared
        if col["name"] == "age":
            col["bounds"] = [17, 60]
    return schema


@pytest.mark.parametrize("form", ["edited inspect output", "partial schema"])
def test_synth_schema_declared_kind_honoured(tmp_path, cli, adult_csv, form):
    path = tmp_path / "edited.json"
    if form == "partial schema":
        schema = {"columns": [{"name": "education-num", "kind": "categorical"},
                              {"name": "age", "kind": "integer", "bounds": [17, 60]}]}
    else:
        schema = _edited_inspect_output(cli, adult_csv, path)
    path.write_text(json.dumps(schema), encoding="utf-8")
    out, model_out = tmp_path / "out.csv", tmp_path / "m.lookalike"
    result = cli("synth", adult_csv, "-o", out, "--schema", path, "--model-out", model_out,
                 "--seed", 0)
    assert result.exit_code == 0, result.output
    model = lookalike.load_synthesizer(model_out)
    edu = model.schema_["education-num"]
    assert edu.kind is Kind.CATEGORICAL and edu.source("kind") == "declared"
    assert set(edu.categories) <= {str(v) for v in range(1, 17)}
    # the declared bound clips the data (with a warning) and so the synthetic ages
    assert model.schema_["age"].bounds == (17, 60)
    assert re.search(r"warning: column 'age': \d+ value\(s\) outside the declared bounds", result.stderr)
    rows = lookalike.read_table(out)
    assert rows["age"].max() <= 60
    assert set(rows["education-num"].astype(str)) <= set(edu.categories)


# ----------------------------------------------------------------------------- errors


@pytest.fixture
def paths(tmp_path, adult_csv, model_file) -> dict[str, Path]:
    bad_schema = tmp_path / "bad.schema.json"
    bad_schema.write_text('{"columns": [{"name": "age", "kind": "number"}]}', encoding="utf-8")
    return {"data": adult_csv, "model": model_file, "out": tmp_path / "out.csv",
            "missing": tmp_path / "missing.csv", "tmp": tmp_path, "bad_schema": bad_schema}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["synth", "{missing}", "-o", "{out}"], r"input file .*missing\.csv does not exist"),
        (["fit", "{data}", "-o", "{out}", "-s", "gan"], r"unknown synthesizer 'gan'"),
        (["fit", "{data}", "-o", "{out}", "-p", "min_samples_leaf"],
         r"--param expects NAME=VALUE, got 'min_samples_leaf'"),
        (["fit", "{data}", "-o", "{out}", "-p", "leaf=3"], r"has no hyper-parameter 'leaf'"),
        (["fit", "{data}", "-o", "{out}", "-p", "min_samples_leaf=0"], r"min_samples_leaf must be"),
        (["fit", "{data}", "-o", "{out}", "--seed", "-1"], r"seed must be a non-negative integer"),
        (["fit", "{data}", "-o", "{out}", "--drop", "zip"], r"cannot drop \['zip'\]"),
        (["fit", "{data}", "-o", "{out}", "--schema", "{missing}"], r"schema file .* does not exist"),
        (["synth", "{data}", "-o", "{out}", "--schema", "{bad_schema}"],
         r"column 'age': unknown kind 'number'"),
        (["synth", "{data}", "-o", "{out}", "-n", "0"], r"-n must be a positive number of rows, got 0"),
        (["synth", "{data}", "-o", "{tmp}/out.xlsx"], r"unknown output format '\.xlsx'"),
        (["sample", "{model}", "-n", "-3", "-o", "{out}"], r"positive number of rows, got -3"),
        (["sample", "{model}", "-n", "5", "-o", "{out}", "-c", "planet=Mars"],
         r"condition on unknown column 'planet'"),
        (["sample", "{model}", "-n", "5", "-o", "{out}", "-c", "income=rich"],
         r"condition on 'income': \['rich'\] not among its categories"),
        (["sample", "{model}", "-n", "5", "-o", "{out}", "-c", "age=old"],
         r"condition on 'age': \['old'\] are not integer values"),
        (["sample", "{missing}", "-n", "5", "-o", "{out}"], r"model file .*missing\.csv does not exist"),
        (["sample", "{data}", "-n", "5", "-o", "{out}"], r"not a readable lookalike model file"),
    ],
)
def test_errors_are_one_line_and_exit_1(cli, paths, args, match):
    result = cli(*[a.format(**paths) for a in args])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(match, lines[0]), lines[0]
    assert not paths["out"].exists()


def test_warnings_are_printed_not_raised(tmp_path, cli):
    # a free-text column: excluded with a warning, the run still succeeds
    n = 30
    df = pd.DataFrame({
        "note": [f"customer number {i} called about the late delivery of order {i * 7}" for i in range(n)],
        "stars": [1, 2, 3, 4, 5] * 6,
    })
    df.to_csv(tmp_path / "notes.csv", index=False)
    result = cli("synth", tmp_path / "notes.csv", "-o", tmp_path / "out.csv", "--seed", 0)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: column 'note' looks like free text")
    assert list(lookalike.read_table(tmp_path / "out.csv").columns) == ["stars"]


# ----------------------------------------------------------------------------- demo


@pytest.mark.slow
def test_demo(tmp_path, cli, adult_full):
    out_dir = tmp_path / "demo"
    result = cli("demo", "--out-dir", out_dir)
    assert result.exit_code == 0, result.output
    csv, model = out_dir / "adult_synthetic.csv", out_dir / "adult_model.lookalike"
    rows = lookalike.read_table(csv)
    assert rows.shape == (32561, 15)
    assert list(rows.columns) == list(adult_full.columns)
    # fitted on 80% of the table; the other 20% is the holdout of the report's utility test
    assert lookalike.load_synthesizer(model).n_rows_ == 32561 - 32561 // 5
    assert flat(str(csv)) in flat(result.stdout) and flat(str(model)) in flat(result.stdout)
    report = out_dir / "report.html"
    assert report.stat().st_size > 10_000 and (out_dir / "report.json").exists()
    assert flat(str(report)) in flat(result.stdout)
    assert "No formal privacy guarantee" in report.read_text(encoding="utf-8")
