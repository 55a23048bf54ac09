"""A schema the user hands over is a declaration; a malformed one is refused by column and fact.

``lookalike inspect`` writes facts read from the data ("source": "data"). Given back with
``--schema`` (or ``schema=`` as a path or dict), every fact stated there counts as declared
public, so an edited bound shapes a DP fit. A Schema object keeps the sources it records, so
an inferred schema passed along in code never makes the data's facts public by accident.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import SchemaError
from lookalike.schema import DATA_FACTS_NOTE, Schema, as_schema, infer_schema, resolve_schema

N = 400


def people(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "sex": rng.choice(["F", "M"], n),
        "city": rng.choice(["Lima", "Oslo", "Rome", "Pune"], n),
    })


@pytest.fixture
def people_csv(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    people().to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- declared


def test_inspect_edit_fit_dp_uses_the_edited_bounds(cli, people_csv, tmp_path):
    schema_path = tmp_path / "people.schema.json"
    inspected = cli("inspect", people_csv, "-o", schema_path)
    assert inspected.exit_code == 0, inspected.output
    assert "count as declared public when the file is handed back" in inspected.stderr
    written = json.loads(schema_path.read_text())
    assert written["note"] == DATA_FACTS_NOTE  # says what handing it back makes public
    age = next(c for c in written["columns"] if c["name"] == "age")
    assert age["bounds"]["source"] == "data"
    age["bounds"]["value"] = [30, 50]  # edited; "source" still says "data"
    schema_path.write_text(json.dumps(written))
    model_path = tmp_path / "m.lookalike"
    result = cli("fit", people_csv, "-o", model_path, "-s", "mst", "--epsilon", 1,
                 "--ledger", tmp_path / "ledger", "--schema", schema_path, "--seed", 0)
    assert result.exit_code == 0, result.output
    model = lookalike.load_synthesizer(model_path)
    assert model.schema_["age"].bounds == (30, 50)
    assert model.schema_.source("age", "bounds") == "declared"
    assert model.schema_.source("city", "categories") == "declared"  # stated in the file
    rows = model.sample(2000, seed=0)
    assert rows["age"].between(30, 50).all()
    assert "bounds" in model.privacy_.declared["age"]


@pytest.mark.parametrize("given", ["path", "dict"])
def test_a_schema_given_as_json_is_declared_whole(people_csv, tmp_path, given):
    df = people()
    inferred = infer_schema(df)
    with pytest.warns(UserWarning, match="count as declared public"):
        path = inferred.save(tmp_path / "s.json")
    source = path if given == "path" else json.loads(path.read_text())
    declared = as_schema(source)
    for col in declared:
        assert set(col.sources.values()) == {"declared"}, col
    assert declared.n_rows_source == "declared"
    assert resolve_schema(df, source) == declared
    assert Schema.load(path) == inferred  # read as written: the round trip keeps "data"


def test_a_schema_object_keeps_its_sources():
    df = people()
    inferred = infer_schema(df)
    assert as_schema(inferred) is inferred
    assert resolve_schema(df, inferred).source("age", "bounds") == "data"
    assert inferred.as_declared().source("age", "bounds") == "declared"


def test_inferred_schema_passed_along_is_not_made_public():
    # lookalike.fit hands its inferred Schema to the synthesizer: DP must still discover
    model = lookalike.fit(people(), "mst", epsilon=1.0, seed=0)
    assert model.schema_.source("age", "bounds").startswith("dp(")
    assert model.schema_.source("city", "categories").startswith("dp(")
    assert dict(model.privacy_.declared) == {}


def test_kinds_only_schema_leaves_domains_to_dp_discovery(tmp_path):
    path = tmp_path / "kinds.json"
    path.write_text(json.dumps({"columns": [
        {"name": "age", "kind": "float"}, {"name": "city", "kind": "categorical"}]}))
    model = lookalike.get_synthesizer("mst").fit(people(), path, epsilon=1.0, seed=0)
    assert model.schema_.source("age", "kind") == "declared"
    assert model.schema_.source("age", "bounds").startswith("dp(")
    assert model.schema_.source("city", "categories").startswith("dp(")


def test_facts_read_for_an_edited_kind_are_dropped_declared_ones_refused():
    inferred = infer_schema(people()).to_dict()
    age = inferred["columns"][0]
    age["kind"] = "categorical"  # was integer: its bounds, read from the data, no longer apply
    schema = as_schema(inferred)
    assert schema["age"].bounds is None and "bounds" not in schema["age"].sources
    age["bounds"] = [0, 120]  # written by the user: a mistake to point out
    with pytest.raises(SchemaError, match=r"column 'age': 'bounds' is a fact of integer"):
        as_schema(inferred)


# ----------------------------------------------------------------------------- malformed facts


def column(**facts) -> dict:
    return {"columns": [{"name": "age", **facts}]}


BAD_FACTS = [  # (facts of column 'age', what the message says after "column 'age': ")
    ({"kind": "integer", "bounds": ["a", "b"]},
     r"bounds \['a', 'b'\] are not two integer values; write them as \[low, high\], e\.g\."),
    ({"kind": "float", "bounds": [0, 1, 2]}, r"bounds must be \[low, high\], got \[0, 1, 2\]"),
    ({"kind": "float", "bounds": 5}, r"bounds must be \[low, high\], got 5"),
    ({"kind": "integer", "bounds": [9, 1]}, r"bounds \[9, 1\] are not low <= high"),
    ({"kind": "float", "bounds": [math.nan, 1.0]}, r"bounds \[nan, 1\.0\] are not two float"),
    ({"kind": "float", "bounds": [0, math.inf]}, r"bounds \[0, inf\] are not two float"),
    ({"kind": "integer", "bounds": [0.5, 10]}, r"bounds \[0\.5, 10\] are not two integer"),
    ({"kind": "integer", "bounds": [True, 10]}, r"bounds \[True, 10\] are not two integer"),
    ({"kind": "datetime", "bounds": ["2020-01-01", 5]},
     r"bounds \['2020-01-01', 5\] are not two datetime"),
    ({"kind": "categorical", "bounds": [0, 1]},
     r"'bounds' is a fact of integer and float and datetime columns, not of a categorical"),
    ({"kind": "categorical", "categories": "abc"},
     r"categories must be a non-empty list of values.*got 'abc'"),
    ({"kind": "categorical", "categories": []}, r"categories must be a non-empty list"),
    ({"kind": "categorical", "categories": [["a"]]},
     r"categories must be a list of texts or numbers \(not \['a'\]\)"),
    ({"kind": "categorical", "categories": ["a", "a"]},
     r"categories must be a list without repeats \(repeated: \['a'\]\)"),
    ({"kind": "boolean", "categories": ["n", "y", "m"]},
     r"categories must be the two tokens of a boolean"),
    ({"kind": "integer", "categories": ["a"]},
     r"'categories' is a fact of categorical and boolean columns"),
    ({"kind": ["integer"]}, r"unknown kind \['integer'\]"),
    ({"kind": "integer", "nullable": "yes"}, r"nullable must be true or false, got 'yes'"),
    ({"kind": "datetime", "unit": "h"}, r'unit must be "D" \(days\) or "s" \(seconds\), got \'h\''),
    ({"kind": "datetime", "pivot_year": "1950"}, r"pivot_year must be a four-digit year"),
    ({"kind": "datetime", "format": "YYYY"}, r"format must be a strftime pattern"),
    ({"kind": "identifier", "format": "[0-9"}, r'format must be "integer" or a regular expression'),
    ({"kind": "integer", "colour": "red"}, r"unknown schema fields \['colour'\]"),
    ({"kind": "integer", "bounds": {"valu": [0, 1]}},
     r"bounds is written as an object.*\['valu'\]"),
    ({"kind": "integer", "bounds": {"value": [0, 1], "source": 5}},
     r"bounds: source must be a text"),
]


@pytest.mark.parametrize(("facts", "match"), BAD_FACTS)
def test_malformed_facts_are_named(facts, match):
    with pytest.raises(SchemaError, match="column 'age': " + match):
        as_schema(column(**facts))


@pytest.mark.parametrize(
    ("schema", "match"),
    [
        ({"n_rows": "many", "columns": []}, r"n_rows must be a whole number of rows \(0 or more\)"),
        ({"colums": [], "columns": []}, r"unknown schema fields \['colums'\] at the top level"),
    ],
)
def test_malformed_top_level_fields_are_named(schema, match):
    with pytest.raises(SchemaError, match=match):
        as_schema(schema)


def test_malformed_schema_file_is_named_with_its_path(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(column(kind="integer", bounds=["a", "b"])))
    with pytest.raises(SchemaError, match=r"schema file .*bad\.json: column 'age': bounds"):
        Schema.load(path)
    path.write_bytes(b'{"columns": [\xff]}')
    with pytest.raises(SchemaError, match=r"bad\.json is not UTF-8 text"):
        Schema.load(path)
    with pytest.raises(SchemaError, match=r"is a folder; give the path of a JSON file"):
        Schema.load(tmp_path)
    with pytest.raises(SchemaError, match=r"a schema is a Schema, its dict form or the path"):
        as_schema(42)


def test_numpy_numbers_are_accepted_as_bounds():
    df = people()
    schema = as_schema(column(kind="integer", bounds=[df["age"].min(), df["age"].max()]))
    assert schema["age"].bounds == (int(df["age"].min()), int(df["age"].max()))


@pytest.mark.parametrize(
    ("facts", "shown"),
    [
        ({"kind": "integer", "bounds": ["a", "b"]},
         "column 'age': bounds ['a', 'b'] are not two integer values; write them as [low, high], "
         "e.g. [0, 120]"),
        ({"kind": "integer", "bounds": [1]}, "column 'age': bounds must be [low, high], got [1]"),
    ],
)
def test_bad_schema_through_the_cli_keeps_brackets(one_error_line, cli, people_csv, tmp_path, facts, shown):
    schema = tmp_path / "bad.json"
    schema.write_text(json.dumps({"columns": [{"name": "age", **facts}]}))
    result = cli("fit", people_csv, "-o", tmp_path / "m.lookalike", "--schema", schema)
    line = one_error_line(result)
    assert shown in line  # rich markup must not swallow "[low, high]"
    assert not (tmp_path / "m.lookalike").exists()
