"""Tests for lookalike.schema: kind inference, declared facts, JSON round trip, conform."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import (
    ColumnMismatchError,
    MixedTypesError,
    OutputExistsError,
    SchemaError,
    SourceNotFoundError,
)
from lookalike.schema import Kind, Schema, infer_schema, parse_datetime

SSN_FORMAT = r"[0-9]{3}\-[0-9]{2}\-[0-9]{4}"


def only_column(values, name: str = "x"):
    """The inferred schema column of a one-column table holding ``values``."""
    return infer_schema(pd.DataFrame({name: values}))[name]


# ----------------------------------------------------------------------------- the demo table

ADULT = {  # name: (kind, nullable, bounds, number of categories), as documented for the table
    "age": ("integer", False, (17, 90), None),
    "workclass": ("categorical", True, None, 8),
    "fnlwgt": ("integer", False, (12285, 1484705), None),
    "education": ("categorical", False, None, 16),
    "education-num": ("integer", False, (1, 16), None),
    "marital-status": ("categorical", False, None, 7),
    "occupation": ("categorical", True, None, 14),
    "relationship": ("categorical", False, None, 6),
    "race": ("categorical", False, None, 5),
    "sex": ("categorical", False, None, 2),
    "capital-gain": ("integer", False, (0, 99999), None),
    "capital-loss": ("integer", False, (0, 4356), None),
    "hours-per-week": ("integer", False, (1, 99), None),
    "native-country": ("categorical", True, None, 41),
    "income": ("categorical", False, None, 2),
}


def test_infer_demo_adult(adult_full):
    schema = infer_schema(adult_full)
    assert schema.names == list(ADULT)
    assert (schema.n_rows, schema.n_rows_source) == (32561, "data")
    for col in schema:
        kind, nullable, bounds, n_categories = ADULT[col.name]
        assert (col.kind, col.nullable, col.bounds) == (kind, nullable, bounds), col.name
        assert (None if col.categories is None else len(col.categories)) == n_categories, col.name
        # every fact was read from the (private) data: none is declared
        facts = {f for f in ("kind", "nullable", "categories", "bounds") if getattr(col, f) is not None}
        assert {f: col.source(f) for f in facts} == dict.fromkeys(facts, "data"), col.name
    assert schema["income"].categories == ("<=50K", ">50K")
    assert [c.name for c in schema.modelled] == list(ADULT)


# ----------------------------------------------------------------------------- kinds

DATES = [f"2020-01-{d:02d}" for d in range(1, 21)]
STAMPS = [f"2020-01-{d:02d} 10:{d:02d}:00" for d in range(1, 21)]


@pytest.mark.parametrize(
    ("values", "kind", "facts"),
    [
        pytest.param(["true", "false"] * 10, "boolean", {"categories": ("false", "true")}, id="true/false"),
        pytest.param(["Yes", "No"] * 10, "boolean", {"categories": ("No", "Yes")}, id="Yes/No"),
        pytest.param(pd.array([True, False] * 10, dtype="boolean"), "boolean",
                     {"categories": (False, True)}, id="boolean dtype"),
        pytest.param(np.array([True, False] * 10), "boolean", {"categories": (False, True)}, id="bool"),
        pytest.param(np.linspace(0.5, 2.0, 20), "float", {"bounds": (0.5, 2.0)}, id="float"),
        pytest.param(pd.array([3, 1, 4, 1, 5] * 4, dtype="Int64"), "integer", {"bounds": (1, 5)},
                     id="integer"),
        pytest.param([1.0, 2.0, np.nan, 4.0] * 5, "integer", {"bounds": (1, 4), "nullable": True},
                     id="whole floats with NaN"),
        pytest.param(DATES, "datetime",
                     {"format": "%Y-%m-%d", "unit": "D", "bounds": ("2020-01-01", "2020-01-20")},
                     id="ISO dates"),
        pytest.param(STAMPS, "datetime",
                     {"format": "%Y-%m-%d %H:%M:%S", "unit": "s",
                      "bounds": ("2020-01-01T10:01:00", "2020-01-20T10:20:00")},
                     id="ISO timestamps"),
        pytest.param(pd.to_datetime(DATES), "datetime",
                     {"format": None, "unit": "D", "bounds": ("2020-01-01", "2020-01-20")},
                     id="datetime64 dtype"),
        pytest.param(["b", "a", None, "c"] * 5, "categorical",
                     {"categories": ("a", "b", "c"), "nullable": True}, id="categorical"),
        pytest.param(["x1", "12", "y"] * 7, "categorical", {"categories": ("12", "x1", "y")},
                     id="mostly text with a number"),
    ],
)
def test_kinds(values, kind, facts):
    col = only_column(values)
    assert col.kind is Kind(kind)
    for fact, expected in facts.items():
        assert getattr(col, fact) == expected, fact
    assert col.source("kind") == "data"


def test_two_digit_years_compas_like():
    # the first rows of COMPAS: born in the 20th century, "47" is 1947 and not 2047
    dob = ["4/18/47", "2/6/85", "1/22/94", "5/14/73", "1/21/90", "8/22/73", "7/23/74", "2/25/73",
           "6/10/94", "6/1/88"] * 2
    col = only_column(dob, "dob")
    assert (col.kind, col.format, col.unit) == ("datetime", "%m/%d/%y", "D")
    assert col.bounds == ("1947-04-18", "1994-06-10")
    years = Schema((col,)).conform(pd.DataFrame({"dob": dob}))["dob"].dt.year
    assert years.tolist()[:2] == [1947, 1985]


def test_two_digit_years_window_after_largest_gap():
    # birth dates from '19 to '98: the 100-year window starts at 19, so "19" is 1919
    dob = [f"10/14/{y:02d}" for y in range(19, 99)]
    col = only_column(dob, "dob")
    assert col.pivot_year == 2018
    assert col.bounds == ("1919-10-14", "1998-10-14")
    parsed = parse_datetime(pd.Series(dob), col.format, col.pivot_year)
    assert parsed.dt.year.tolist() == list(range(1919, 1999))


def test_two_digit_years_across_2000():
    # 1990..2010: the gap is 11..89, so the window is 1990..2089
    years = [*range(90, 100), *range(0, 11)]
    col = only_column([f"6/1/{y:02d}" for y in years], "d")
    assert col.pivot_year == 2089
    assert col.bounds == ("1990-06-01", "2010-06-01")


@pytest.mark.parametrize(
    ("text", "pivot", "year"),
    [
        ("4/18/47", 2046, 1947),  # after the pivot: one century back
        ("4/18/47", 2047, 2047),  # on the pivot: kept
        ("1/1/19", 2018, 1919),
        ("1/1/18", 2018, 2018),
        ("1/1/05", 2046, 2005),
        ("1/1/70", 2018, 1970),
        ("1/1/69", 2080, 2069),  # strptime reads 69 as 1969, before the window 1981..2080
        ("1/1/68", 2080, 2068),
        ("1/1/47", None, 2047),  # no pivot: strptime's own rule (69..99 -> 19xx, else 20xx)
    ],
)
def test_parse_datetime_pivot(text, pivot, year):
    assert parse_datetime(pd.Series([text]), "%m/%d/%y", pivot).dt.year.tolist() == [year]


def _ssns(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{rng.integers(100, 1000)}-{rng.integers(10, 100)}-{i:04d}" for i in range(n)]


@pytest.mark.parametrize(
    ("name", "values", "fmt"),
    [
        ("ssn", _ssns(30), SSN_FORMAT),
        ("key", [f"{v:08x}" for v in np.random.default_rng(1).integers(2**28, 2**32, 30)],
         "[0-9a-f]{8}"),
        ("code", [f"AB{i:04d}" for i in range(30)], "AB[0-9]{4}"),  # a prefix every key writes
        ("code", [f"{'ABCD'[i % 4]}{'XY'[i % 2]}{i:04d}" for i in range(30)], "[A-Z]{2}[0-9]{4}"),
        ("id", pd.array(range(100, 130), dtype="Int64"), "integer"),  # unique, consecutive
        ("customer_id", pd.array(np.random.default_rng(2).choice(10**6, 30, replace=False),
                                 dtype="Int64"), "integer"),  # unique, named like a key
        ("row", pd.array(np.random.default_rng(3).permutation(30) + 1, dtype="Int64"), "integer"),
    ],
)
def test_identifiers(name, values, fmt):
    df = pd.DataFrame({name: values, "y": [1, 2, 3] * 10})
    col = infer_schema(df)[name]
    assert (col.kind, col.format) == ("identifier", fmt)
    assert not col.kind.modelled
    if fmt != "integer":
        assert all(re.fullmatch(fmt, v) for v in values)


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("id", pd.array([1, 2, 3] * 10, dtype="Int64"), "integer"),  # repeated: not a key
        ("count", pd.array(np.arange(30) * 7, dtype="Int64"), "integer"),  # unique, gaps, no key name
    ],
)
def test_not_identifiers(name, values, kind):
    assert only_column(values, name).kind == kind


def test_free_text_excluded_with_warning():
    rng = np.random.default_rng(0)
    words = "the room was clean and quiet but breakfast came late every single day".split()
    reviews = [" ".join(rng.choice(words, 9)) + f" ({i})" for i in range(30)]
    df = pd.DataFrame({"review": reviews, "stars": [1, 2, 3, 4, 5] * 6})
    with pytest.warns(UserWarning, match=r"column 'review' looks like free text.*excluded"):
        schema = infer_schema(df)
    assert schema["review"].kind is Kind.TEXT
    assert [c.name for c in schema.modelled] == ["stars"]


# ----------------------------------------------------------------------------- declared facts

DECLARED = {
    "columns": [
        {"name": "age", "kind": "float", "bounds": [0, 120]},
        {"name": "income", "kind": "categorical", "categories": ["<=50K", ">50K", "unknown"]},
        {"name": "workclass", "kind": "categorical", "nullable": True},
    ]
}


@pytest.mark.parametrize("as_schema", [True, False], ids=["Schema", "mapping"])
def test_declared_facts_win(adult_small, as_schema):
    declared = Schema.from_dict(DECLARED) if as_schema else DECLARED
    schema = infer_schema(adult_small, declared=declared)
    age, income, workclass = schema["age"], schema["income"], schema["workclass"]
    assert (age.kind, age.bounds) == (Kind.FLOAT, (0, 120))  # the data alone says integer, 17..90
    assert (age.source("kind"), age.source("bounds")) == ("declared", "declared")
    assert income.categories == ("<=50K", ">50K", "unknown")
    assert income.source("categories") == "declared"
    # a declared kind without a domain: the domain is read from the data
    assert workclass.source("categories") == "data" and "Private" in workclass.categories
    assert workclass.nullable and workclass.source("nullable") == "declared"
    # every other column is inferred as without a declared schema
    for name in ("sex", "fnlwgt"):
        col = schema[name]
        assert {col.source(f) for f in ("kind", "nullable", "categories", "bounds")} - {None} == {"data"}
    assert schema.names == list(adult_small.columns)


# ----------------------------------------------------------------------------- JSON round trip


def test_json_round_trip_file(tmp_path, adult_small):
    schema = infer_schema(adult_small.head(300))
    with pytest.warns(UserWarning, match=r"read from the data count as declared public"):
        path = schema.save(tmp_path / "adult.schema.json")
    assert Schema.load(path) == schema
    assert json.loads(path.read_text(encoding="utf-8"))["note"].startswith('Facts with "source"')
    entry = json.loads(path.read_text(encoding="utf-8"))["columns"][0]
    assert entry == {
        "name": "age",
        "kind": {"value": "integer", "source": "data"},
        "nullable": {"value": False, "source": "data"},
        "bounds": {"value": list(schema["age"].bounds), "source": "data"},
    }
    with pytest.raises(OutputExistsError, match="already exists"):
        schema.save(path)
    with pytest.warns(UserWarning):
        schema.save(path, overwrite=True)
    declared = schema.as_declared()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing read from the data: no note, no warning
        declared.save(path, overwrite=True)
    assert "note" not in json.loads(path.read_text(encoding="utf-8"))


def test_json_round_trip_every_kind():
    schema = Schema.from_dict({
        "n_rows": 10,
        "columns": [
            {"name": "d", "kind": "datetime", "format": "%m/%d/%y", "pivot_year": 2018,
             "unit": "D", "bounds": ["1919-01-01", "1998-12-31"]},
            {"name": "b", "kind": "boolean", "categories": ["no", "yes"], "nullable": True},
            {"name": "f", "kind": "float", "bounds": [-1.5, 2.5]},
            {"name": "ssn", "kind": "identifier", "format": SSN_FORMAT},
            {"name": "t", "kind": "text"},
        ],
    })
    assert Schema.from_json(schema.to_json()) == schema
    assert (schema.n_rows, schema.n_rows_source) == (10, "declared")


def test_plain_values_are_declared_and_recorded_sources_kept(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"columns": [
        {"name": "age", "kind": "integer", "bounds": [0, 120]},
        {"name": "score", "kind": {"value": "float", "source": "data"},
         "bounds": {"value": [0, 10], "source": "dp(rho=0.01)"}},
        {"name": "city", "kind": "categorical", "categories": {"value": ["a", "b"]}},
    ]}), encoding="utf-8")
    schema = Schema.load(path)
    # "nullable" not written: recorded as a default, to be read from the data when fitting
    assert schema["age"].sources == {"kind": "declared", "bounds": "declared", "nullable": "default"}
    assert schema.source("score", "kind") == "data"
    assert schema.source("score", "bounds") == "dp(rho=0.01)"
    assert schema.source("city", "categories") == "declared"  # {"value"} without a source
    assert schema["age"].bounds == (0, 120)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object with a 'columns' list"),
        ('{"columns": [{"kind": "integer"}]}', r"column #1 must be an object with a 'name'"),
        ('{"columns": [{"name": "age"}]}', r"column 'age' has no 'kind'"),
        ('{"columns": [{"name": "age", "kind": "number"}]}', r"column 'age': unknown kind 'number'"),
        ('{"columns": [{"name": "age", "kind": "integer", "colour": "red"}]}',
         r"column 'age': unknown schema fields \['colour'\]"),
        ('{"columns": [{"name": "age", "kind": "integer", "bounds": [90, 17]}]}',
         r"column 'age': bounds \[90, 17\] are not low <= high"),
        ('{"columns": [{"name": "age", "kind": "integer", "bounds": [17]}]}',
         r"column 'age': bounds must be \[low, high\]"),
        ('{"columns": [{"name": "a", "kind": "text"}, {"name": "a", "kind": "text"}]}',
         r"names columns more than once: \['a'\]"),
        ('{"format": "other-tool", "columns": []}', "not a lookalike schema"),
        ('{"version": 99, "columns": []}', "newer than this lookalike"),
        ('{"version": "one", "columns": []}', "schema version must be an integer, got 'one'"),
        ('{"columns": {"age": "integer"}}', "JSON object with a 'columns' list"),
        ('{"columns": [{"name": "d", "kind": "datetime", "bounds": ["2020-01-01", "1999-12-31"]}]}',
         r"column 'd': bounds \[2020-01-01, 1999-12-31\] are not low <= high"),
        ('{"columns": [{"name": "d", "kind": "datetime", "bounds": ["2020-01-01", "soon"]}]}',
         r"column 'd': bounds \['2020-01-01', 'soon'\] are not two datetime values"),
        ('{"columns": [{"name": "age", "kind": "integer", "bounds": ["young", 90]}]}',
         r"column 'age': bounds \['young', 90\] are not two integer values"),
    ],
)
def test_bad_schema_json(tmp_path, text, match):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=match):
        Schema.load(path)


def test_load_missing_schema_file(tmp_path):
    with pytest.raises(SourceNotFoundError, match=r"schema file .*nope\.json does not exist"):
        Schema.load(tmp_path / "nope.json")


def test_unknown_column_lookup_names_it():
    schema = Schema.from_dict({"columns": [{"name": "a", "kind": "text"}]})
    with pytest.raises(SchemaError, match=r"no column 'b' in the schema"):
        schema["b"]


# ----------------------------------------------------------------------------- conform

CONFORM = Schema.from_dict({"columns": [
    {"name": "age", "kind": "integer", "bounds": [20, 60], "nullable": True},
    {"name": "city", "kind": "categorical", "categories": ["Lima", "Oslo"], "nullable": True},
]})


def messy() -> pd.DataFrame:
    return pd.DataFrame({
        "age": pd.array([10, 30, 70, None], dtype="Int64"),
        "city": ["Lima", "Rome", "Oslo", None],
    }, index=[5, 6, 7, 8])


def test_conform_clips_declared_bounds_and_drops_unknown_categories():
    actions: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reported in actions, not warned
        out = CONFORM.conform(messy(), actions=actions)
    assert out["age"].tolist() == [20, 30, 60, pd.NA]
    assert out["age"].dtype == "Int64"
    assert out["city"].tolist()[:3] == ["Lima", None, "Oslo"] and out["city"].isna().tolist()[3]
    assert list(out.index) == [0, 1, 2, 3]
    assert len(actions) == 2
    assert re.search(r"'age': 2 value\(s\) outside the declared bounds \[20, 60\] were clipped", actions[0])
    assert re.search(r"'city': 1 value\(s\) not among the schema's categories \(e\.g\. \['Rome'\]\)"
                     r" were set to missing", actions[1])


def test_conform_warns_without_actions_list():
    with pytest.warns(UserWarning) as caught:
        CONFORM.conform(messy())
    messages = [str(w.message) for w in caught]
    assert any("'age': 2 value(s) outside the declared bounds" in m for m in messages)
    assert any("'city': 1 value(s) not among the schema's categories" in m for m in messages)


def test_conform_keeps_values_outside_bounds_read_from_data():
    schema = infer_schema(pd.DataFrame({"age": [20, 30, 40, 50, 60] * 2}))
    actions: list[str] = []
    out = schema.conform(pd.DataFrame({"age": [5, 99] * 5}), actions=actions)
    assert out["age"].tolist() == [5, 99] * 5 and actions == []


def test_conform_orders_columns_like_the_schema():
    out = CONFORM.conform(messy()[["city", "age"]], actions=[])
    assert list(out.columns) == ["age", "city"]


@pytest.mark.parametrize(
    ("df", "match"),
    [
        (pd.DataFrame({"age": [30]}), r"missing from the data: \['city'\]"),
        (pd.DataFrame({"age": [30], "city": ["Lima"], "zip": [1]}), r"not in the schema: \['zip'\]"),
        (pd.DataFrame({"years": [30], "city": ["Lima"]}),
         r"missing from the data: \['age'\]; not in the schema: \['years'\]"),
    ],
)
def test_conform_column_mismatch(df, match):
    with pytest.raises(ColumnMismatchError, match=match):
        CONFORM.conform(df)


def test_conform_declared_number_holding_text():
    df = pd.DataFrame({"age": ["30", "forty"], "city": ["Lima", "Oslo"]})
    with pytest.raises(MixedTypesError, match=r"column 'age' is declared integer but holds text.*row 2: 'forty'"):
        CONFORM.conform(df)


@pytest.mark.parametrize(
    ("column", "df"),
    [
        ("age", pd.DataFrame({"age": pd.array([30, None], dtype="Int64"), "city": ["a", "b"]})),
        ("city", pd.DataFrame({"age": [30, 40], "city": ["a", None]})),
        ("city", pd.DataFrame({"age": [30, 40], "city": ["a", "z"]})),  # unknown -> missing
    ],
)
def test_conform_missing_values_in_a_column_that_cannot_be_missing(column, df):
    schema = Schema.from_dict({"columns": [
        {"name": "age", "kind": "integer"},
        {"name": "city", "kind": "categorical", "categories": ["a", "b"]},
    ]})
    with pytest.raises(SchemaError, match=rf"column '{column}' has 1 missing value\(s\) \(first in row 2\).*\"nullable\": true"):
        schema.conform(df, actions=[])


# ----------------------------------------------------------------------------- shared datasets


def test_adult_ssn_identifier(shared_datasets):
    df = lookalike.read_table(shared_datasets / "adult_ssn" / "adult_ssn.csv")
    schema = infer_schema(df)
    ssn = schema["ssn"]
    assert (ssn.kind, ssn.format) == ("identifier", SSN_FORMAT)
    assert df["ssn"].str.fullmatch(ssn.format).all()
    assert "ssn" not in [c.name for c in schema.modelled]
    assert all(schema[c].nullable for c in schema.names if c != "ssn")  # injected missing values


def test_compas_two_digit_birth_years(shared_datasets):
    df = lookalike.read_table(shared_datasets / "compas" / "compas_reduced.csv")
    schema = infer_schema(df)
    dob = schema["dob"]
    assert (dob.kind, dob.format, dob.unit) == ("datetime", "%m/%d/%y", "D")
    actions: list[str] = []
    out = schema.conform(df, actions=actions)
    assert actions == []
    # age at screening (2013-2014 in Broward County) + birth year: 2013..2016 for nearly all rows
    screening = out["dob"].dt.year + out["age"]
    assert screening.between(2013, 2016).mean() >= 0.99
    assert out["dob"].dt.year.between(1900, 2000).all()
