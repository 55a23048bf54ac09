"""Every bad input of the spec, through the public pipeline: a LookalikeError naming the problem.

File-reading cases are unit-tested in test_io.py; here they go through ``lookalike.fit`` (or
the CLI) to show that nothing on the way swallows or garbles them. The last part checks that a
failed run leaves no partial output and that no command overwrites a file unless asked.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lookalike
import lookalike.io
from lookalike.errors import (
    ColumnError,
    ColumnMismatchError,
    ConditionError,
    ConfigError,
    DataError,
    DuplicateColumnError,
    EmptyDataError,
    EncodingError,
    LookalikeError,
    MixedTypesError,
    ModelFileError,
    NonFiniteError,
    SchemaError,
    SourceNotFoundError,
    UnknownFormatError,
)

N = 24  # rows of the small tables below: enough to model (at least 10), small enough to be fast


def base(n: int = N) -> pd.DataFrame:
    """A clean little table; each bad case adds or changes one column."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "sex": rng.choice(["F", "M"], n),
        "score": rng.normal(50, 10, n).round(2),
    })


def csv_file(tmp_path: Path, df: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def raw_file(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("name", "content", "error", "match"),
    [
        ("data.xlsx", b"PK\x03\x04 not really a spreadsheet", UnknownFormatError,
         r"cannot tell the format of .*data\.xlsx"),
        ("data.csv", "", EmptyDataError, r"data\.csv is empty"),
        ("data.csv", "\n\n  \n", EmptyDataError, r"data\.csv is empty"),
        ("data.csv", "age,sex,score\n", EmptyDataError, r"has a header \(3 columns\) but no data rows"),
        ("data.csv", "age,sex,age\n1,F,2\n", DuplicateColumnError,
         r"duplicate column names: 'age' at positions 1, 3"),
        ("data.csv", "name,town\nJosé,Zürich\n".encode("cp1252"), EncodingError,
         r"data\.csv is not valid utf-8: byte 0xe9 on line 2"),
        ("data.csv", "age,score\n30,1.5\n40,inf\n", NonFiniteError,
         r"column 'score' in .*data\.csv has 1 infinite value"),
        ("data.csv", "age,score\n30,NaN\n40,2.5\n", NonFiniteError,
         r"column 'score' in .*data\.csv has 1 NaN value"),
        ("data.csv", "age,sex,score\n30,F,1.5\n", EmptyDataError,
         r"the table has 1 data row; lookalike needs at least 10 rows"),
    ],
    ids=["unknown format", "empty", "blank lines", "header only", "duplicate columns",
         "not UTF-8", "inf in CSV", "NaN in CSV", "one data row"],
)
def test_bad_files(tmp_path, name, content, error, match):
    path = raw_file(tmp_path, content, name)
    with pytest.raises(error, match=match):
        lookalike.fit(path, "cart", seed=0)


def test_missing_file(tmp_path):
    raw_file(tmp_path, "a\n1\n", "adult.csv")
    with pytest.raises(SourceNotFoundError, match=r"adlut\.csv does not exist; did you mean .*adult\.csv"):
        lookalike.fit(tmp_path / "adlut.csv", "cart")


# ----------------------------------------------------------------------------- columns


def _with(n: int = N, **columns) -> pd.DataFrame:
    return base(n).assign(**columns)


MIXED = [str(v) for v in range(N)]
MIXED[4] = "twelve"


@pytest.mark.parametrize(
    ("df", "error", "match"),
    [
        (_with(score=MIXED), MixedTypesError,
         r"column 'score' mixes numbers and text .*row 5: 'twelve'"),
    ],
    ids=["mixed numbers and text"],  # one value or none: kept (test_constant_columns.py)
)
def test_bad_columns(tmp_path, df, error, match):
    with pytest.raises(error, match=match):
        lookalike.fit(csv_file(tmp_path, df), "cart", seed=0)
    with pytest.raises(error, match=match):  # and from a DataFrame
        lookalike.fit(df, "cart", seed=0)


def test_too_many_categories_are_excluded_with_a_warning(tmp_path):
    # at most half the rows (at least 20) may be distinct categories: 30 > 50 / 2, and
    # "town 7" / "town 17" share no pattern: excluded as text, the run goes on (was refused)
    df = _with(50, city=[f"town {i % 30}" for i in range(50)])
    message = (r"column 'city' has 30 distinct values in 50 rows: too many to model as "
               r"categories \(at most 25 here\).*declare it in a schema.*--drop 'city'")
    for data in (csv_file(tmp_path, df), df):
        with pytest.warns(UserWarning, match=message):
            model = lookalike.fit(data, "cart", seed=0)
        assert "city" not in model.sample(10, seed=0).columns


def test_inf_in_a_numeric_dataframe_column():
    df = _with(score=[1.5] * (N - 2) + [np.inf, -np.inf])
    with pytest.raises(NonFiniteError, match=r"column 'score' .*2 infinite values"):
        lookalike.fit(df, "cart", seed=0)


def test_drop_unknown_column(tmp_path):
    with pytest.raises(ColumnMismatchError, match=r"cannot drop \['zip'\]"):
        lookalike.fit(csv_file(tmp_path, base()), "cart", drop=["zip"])


def test_malformed_schema_file(tmp_path):
    schema = tmp_path / "edited.json"
    schema.write_text('{"columns": [{"name": "age", "kind": "integer", "bounds": [90, 17]}]}')
    with pytest.raises(SchemaError, match=r"column 'age': bounds \[90, 17\] are not low <= high"):
        lookalike.fit(csv_file(tmp_path, base()), "cart", schema=schema)


def test_schema_naming_absent_column(tmp_path):
    schema = {"columns": [{"name": "income", "kind": "categorical"}]}
    with pytest.raises(ColumnMismatchError, match=r"not in the data: \['income'\]"):
        lookalike.fit(csv_file(tmp_path, base()), "cart", schema=schema)


# ----------------------------------------------------------------------------- options


@pytest.fixture(scope="module")
def model():
    return lookalike.fit(base(200), "cart", seed=0)


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory) -> Path:
    return model.save(tmp_path_factory.mktemp("model") / "model.lookalike")


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_sample_bad_n(model, n):
    with pytest.raises(ConfigError, match=rf"positive integer, got {n!r}"):
        model.sample(n)


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("gan", {}, r"unknown synthesizer 'gan'; choose one of \[.*'cart', "),
        ("cart", {"min_samples_leaf": 0}, r"min_samples_leaf must be an integer >= 1, got 0"),
        ("cart", {"max_depht": 3}, r"'cart' has no hyper-parameter 'max_depht'.*'max_depth'"),
        ("independent", {"n_bins": "many"}, r"n_bins must be an integer >= 2, got 'many'"),
    ],
    ids=["unknown synthesizer", "bad value", "unknown hyper-parameter", "wrong type"],
)
def test_bad_synthesizer_options(tmp_path, name, params, match):
    with pytest.raises(ConfigError, match=match):
        lookalike.fit(csv_file(tmp_path, base()), name, **params)


@pytest.mark.parametrize(
    ("conditions", "match"),
    [
        ({"income": ">50K"}, r"condition on unknown column 'income'"),
        ({"sex": "X"}, r"condition on 'sex': \['X'\] not among its categories \['F', 'M'\]"),
        ({"sex": []}, r"condition on 'sex' lists no values"),
        ({"age": "old"}, r"condition on 'age': \['old'\] are not integer values"),
        ({"age": 200}, r"condition on 'age': 200 lies outside the column's domain \[18, 79\]"),
    ],
    ids=["unknown column", "unknown category", "no values", "text for a number", "value never seen"],
)
def test_bad_conditions(model, conditions, match):
    with pytest.raises(ConditionError, match=match):
        model.sample(10, conditions=conditions, seed=0)


# ----------------------------------------------------------------------------- model files


def _truncated(model_file: Path) -> bytes:
    return model_file.read_bytes()[: model_file.stat().st_size // 2]


def _foreign_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("weights.json", "{}")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p, m: p.write_bytes(np.random.default_rng(0).bytes(4096)),
         r"is not a readable lookalike model file \(BadZipFile"),
        (lambda p, m: p.write_bytes(_truncated(m)), r"it may be truncated"),
        (lambda p, m: _foreign_zip(p), r"is a zip archive but not a lookalike model file \(no model\.json"),
        (lambda p, m: p.write_text('{"synthesizer": "cart"}'), r"is not a readable lookalike model file"),
    ],
    ids=["random bytes", "truncated", "zip without model.json", "JSON file"],
)
def test_bad_model_files(tmp_path, model_file, make, match):
    path = tmp_path / "bad.lookalike"
    make(path, model_file)
    with pytest.raises(ModelFileError, match=match):
        lookalike.load_synthesizer(path)


def test_model_file_missing_and_folder(tmp_path):
    with pytest.raises(SourceNotFoundError, match=r"model file .*gone\.lookalike does not exist"):
        lookalike.load_synthesizer(tmp_path / "gone.lookalike")
    with pytest.raises(ModelFileError, match="is a directory"):
        lookalike.load_synthesizer(tmp_path)


def test_model_file_of_another_family(model_file):
    with pytest.raises(ModelFileError, match=r"holds a 'cart' model, not 'independent'"):
        lookalike.get_synthesizer("independent").load(model_file)


def test_bad_model_file_through_cli(tmp_path, cli, model_file):
    bad = raw_file(tmp_path, _truncated(model_file), "model.lookalike")
    result = cli("sample", bad, "-n", 5, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "may be truncated" in result.stderr
    assert not (tmp_path / "out.csv").exists()


# ----------------------------------------------------------------------------- safe outputs


def leftovers(folder: Path, name: str) -> list[str]:
    """Temporary files of an atomic write of ``name`` left in ``folder``."""
    return [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.")]


def test_failed_synth_leaves_no_output(tmp_path, cli):
    data = csv_file(tmp_path, _with(score=MIXED))
    result = cli("synth", data, "-o", tmp_path / "out.csv", "--model-out", tmp_path / "m.lookalike")
    assert result.exit_code == 1
    assert "'score' mixes numbers and text" in result.stderr
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "m.lookalike").exists()
    assert leftovers(tmp_path, "out.csv") == [] and leftovers(tmp_path, "m.lookalike") == []


def _failing_write(df, tmp, **kwargs):
    Path(tmp).write_text("half a tab")  # a partial file, then the disk "fills up"
    raise DataError("simulated failure while writing")


@pytest.mark.parametrize("existing", [False, True], ids=["new output", "existing output"])
def test_failure_while_writing_leaves_nothing_and_keeps_the_old_file(
    tmp_path, cli, monkeypatch, existing
):
    data = csv_file(tmp_path, base())
    out = tmp_path / "out.csv"
    if existing:
        out.write_bytes(b"precious\n")
    monkeypatch.setattr(lookalike.io, "_write_csv", _failing_write)
    result = cli("synth", data, "-o", out, "--seed", 0, *(["--overwrite"] if existing else []))
    assert result.exit_code == 1 and "simulated failure while writing" in result.stderr
    assert leftovers(tmp_path, "out.csv") == []
    if existing:
        assert out.read_bytes() == b"precious\n"
    else:
        assert not out.exists()


@pytest.fixture
def inputs(tmp_path, model_file) -> dict[str, Path]:
    return {"data": csv_file(tmp_path, base()), "model": model_file}


COMMANDS = {  # command: (arguments, output file, how to read what --overwrite wrote)
    "synth": (["{data}", "-o", "{out}", "--seed", "0"], "out.csv", lookalike.read_table),
    "sample": (["{model}", "-n", "7", "-o", "{out}"], "out.csv", lookalike.read_table),
    "fit": (["{data}", "-o", "{out}", "--seed", "0"], "model.lookalike", lookalike.load_synthesizer),
    "inspect": (["{data}", "-o", "{out}"], "schema.json", lookalike.Schema.load),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_existing_output_kept_unless_overwrite(tmp_path, cli, inputs, command):
    args, name, read = COMMANDS[command]
    out = tmp_path / name
    out.write_bytes(b"precious\n")
    argv = [a.format(out=out, **inputs) for a in args]

    refused = cli(command, *argv)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ")
    assert "already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert out.read_bytes() == b"precious\n"
    assert leftovers(tmp_path, name) == []

    replaced = cli(command, *argv, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert out.read_bytes() != b"precious\n"
    read(out)  # a complete, readable file
    assert leftovers(tmp_path, name) == []


def test_synth_refuses_existing_model_out_before_fitting(tmp_path, cli, inputs):
    model_out = tmp_path / "m.lookalike"
    model_out.write_bytes(b"precious\n")
    result = cli("synth", inputs["data"], "-o", tmp_path / "out.csv", "--model-out", model_out)
    assert result.exit_code == 1 and "m.lookalike already exists" in result.stderr
    assert model_out.read_bytes() == b"precious\n"
    assert not (tmp_path / "out.csv").exists()


def test_every_error_here_is_a_lookalike_error():
    # the classes used above all share the root, so `except LookalikeError` catches each
    for cls in (ColumnError, ConditionError, ConfigError, DuplicateColumnError, EmptyDataError,
                EncodingError, MixedTypesError, ModelFileError, NonFiniteError,
                SourceNotFoundError, UnknownFormatError, ColumnMismatchError):
        assert issubclass(cls, LookalikeError)


def test_missing_values_where_the_schema_forbids_them(adult_small):
    # a column declared "nullable": false may not be missing; workclass is missing in ~6% of
    # rows. Before, CART silently turned those rows into the last category.
    schema = {"columns": [{"name": "workclass", "kind": "categorical", "nullable": False}]}
    with pytest.raises(SchemaError, match=r"column 'workclass' has \d+ missing value\(s\).*\"nullable\": true"):
        lookalike.fit(adult_small, "cart", schema=schema, seed=0)
    del schema["columns"][0]["nullable"]  # not written: read from the data
    rows = lookalike.fit(adult_small, "cart", schema=schema, seed=0).sample(2000, seed=0)
    assert rows["workclass"].isna().mean() == pytest.approx(adult_small["workclass"].isna().mean(), abs=0.03)
    schema["columns"][0]["nullable"] = True
    rows = lookalike.fit(adult_small, "cart", schema=schema, seed=0).sample(2000, seed=0)
    assert rows["workclass"].isna().mean() == pytest.approx(adult_small["workclass"].isna().mean(), abs=0.03)
