"""Schema inference through the DuckDB engine classifies near-unique text as infer_schema does.

The bug: with ``engine="duckdb"`` a column of person names, e-mails or free text, unique per
row, was modelled as a category (written out as real names in non-DP fits, as "other" under
DP). Now the engine counts each text column's values and distinct values in SQL and, for those
with many, hands the counts, the lengths and words, and a bounded sample of distinct values to
the rules infer_schema uses (:func:`lookalike.schema._infer.text_kind`): the same kinds, formats,
sources and warnings, whether the table is read into pandas or stays in DuckDB.
"""

from __future__ import annotations

import re
import warnings

import duckdb
import faker
import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.marginals import duckdb as duckdb_engine
from lookalike.marginals.duckdb import DuckDBEngine, schema_from_duckdb
from lookalike.privacy.ledger import PrivacyLedger
from lookalike.report import build_release_sheet
from lookalike.schema import Kind, Schema, infer_schema
from lookalike.schema._fakes import detect_fake

N_ROWS = 300
CASE = r"[A-Z]{2}\-[0-9]{4}"
LABEL_WARNING = r"column 'label' has 300 distinct values in 300 rows: too many to model"
FREE_TEXT = r"column 'comment' looks like free text"
KINDS = {
    "name": (Kind.IDENTIFIER, "fake:name"),
    "label": (Kind.TEXT, None),
    "mail": (Kind.IDENTIFIER, "fake:email"),
    "comment": (Kind.TEXT, None),
    "case": (Kind.IDENTIFIER, CASE),
    "ref": (Kind.TEXT, None),
    "city": (Kind.CATEGORICAL, None),
    "sex": (Kind.CATEGORICAL, None),
    "age": (Kind.INTEGER, None),
    "score": (Kind.FLOAT, None),
}
OUT_COLUMNS = ["name", "mail", "case", "city", "sex", "age", "score"]


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """Names (280 distinct drawn for 300 rows, 6 set missing), a composite label unique per row, e-mails,
    free-text comments, case keys of one pattern, references of one width but one (no
    fixed-width pattern), 40 cities, and ordinary columns; sex and age depend on each other."""
    fake = faker.Faker("en_US")
    fake.seed_instance(5)
    names: list[str] = []
    while len(names) < 280:
        name = f"{fake.first_name()} {fake.last_name()}"
        if name not in names:
            names.append(name)
    rng = np.random.default_rng(5)
    names += list(rng.choice(names, N_ROWS - len(names)))
    names = list(rng.permutation(names))
    mails = [f"{n.lower().replace(' ', '.')}{i}@example.org" for i, n in enumerate(names)]
    for i in rng.choice(N_ROWS, 6, replace=False):
        names[i] = None
    year = rng.integers(1990, 2020, N_ROWS)
    sex = rng.choice(["F", "M"], N_ROWS)
    cities = [fake.city() for _ in range(40)]
    return pd.DataFrame({
        "name": names,
        "label": [f"{r}/{y}/{i}" for r, y, i in zip(
            rng.choice(["north", "south"], N_ROWS), year, range(N_ROWS), strict=True)],
        "mail": mails,
        "comment": [fake.sentence(nb_words=10) for _ in range(N_ROWS)],
        "case": [f"{a}{b}-{k:04d}" for a, b, k in zip(
            rng.choice(list("ABCDEFGH"), N_ROWS), rng.choice(list("KLMN"), N_ROWS),
            rng.choice(10_000, N_ROWS, replace=False), strict=True)],
        "ref": [f"R{i:05d}" for i in range(N_ROWS - 1)] + ["R000001"],
        "city": rng.choice(cities, N_ROWS),
        "sex": sex,
        "age": np.where(sex == "F", rng.integers(18, 50, N_ROWS), rng.integers(40, 90, N_ROWS)),
        "score": np.round(rng.normal(50, 10, N_ROWS), 1),
    })


@pytest.fixture(scope="module")
def files(people, tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("people")
    csv, parquet, database = (folder / f"people.{ext}" for ext in ("csv", "parquet", "duckdb"))
    people.to_csv(csv, index=False)
    people.to_parquet(parquet)
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE people AS SELECT * FROM people")
    return {"csv": csv, "parquet": parquet, "duckdb": database}


def _caught(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, sorted(str(w.message) for w in caught if issubclass(w.category, UserWarning))


def _facts(schema: Schema) -> dict[str, tuple]:
    return {c.name: (c.kind, c.format, c.source("kind"), c.source("format")) for c in schema}


@pytest.mark.parametrize("form", ["csv", "parquet", "duckdb"])
def test_duckdb_kinds_equal_infer_schemas(people, files, form):
    names = people["name"].dropna()
    assert 250 < names.nunique() < len(names) == N_ROWS - 6  # near-unique, not unique
    pandas_schema, pandas_warnings = _caught(infer_schema, people)
    table = {"table": "people"} if form == "duckdb" else {}
    duck_schema, duck_warnings = _caught(schema_from_duckdb, files[form], **table)
    assert {c.name: (c.kind, c.format) for c in pandas_schema} == KINDS
    # same kinds and formats, each read from the data (source "data"), and the same warnings
    assert _facts(duck_schema) == _facts(pandas_schema)
    assert duck_warnings == pandas_warnings
    assert len(duck_warnings) == 3
    assert any(re.match(LABEL_WARNING, w) for w in duck_warnings)
    assert any(re.match(FREE_TEXT, w) for w in duck_warnings)
    assert any(w.startswith("column 'ref' has 300 distinct values") for w in duck_warnings)
    # the CSV read into pandas first, as the default engine reads it, gives the same too
    read, _ = _caught(lambda: infer_schema(lookalike.read_table(files["csv"])))
    assert _facts(read) == _facts(pandas_schema)


def test_only_near_unique_columns_are_sampled_and_the_sample_is_bounded(files, monkeypatch):
    """Values leave DuckDB only for columns with many distinct values, at most ``SAMPLE`` of
    them each, chosen by the values (the same every run), all in one query; a sample smaller
    than the column classifies it as the whole does. Words are counted only in long text."""
    sampled: list[dict[str, pd.Series]] = []
    counted: list[str] = []
    samples, median_words = DuckDBEngine._distinct_samples, DuckDBEngine._median_words

    def names(src: str) -> dict[str, str]:
        return {c: n for n, c in re.findall(r'CAST\("(\w+)" AS VARCHAR\) AS (c\d+)', src)}

    def spy_samples(self, columns, src):
        found = samples(self, columns, src)
        sampled.append({names(src)[c]: v for c, v in found.items()})
        return found

    def spy_words(self, column, src):
        counted.append(names(src)[column])
        return median_words(self, column, src)

    monkeypatch.setattr(DuckDBEngine, "_distinct_samples", spy_samples)
    monkeypatch.setattr(DuckDBEngine, "_median_words", spy_words)
    monkeypatch.setattr(duckdb_engine, "FAKE_SAMPLE", 60)
    for _ in range(2):
        schema, _ = _caught(schema_from_duckdb, files["parquet"])
        assert {c.name: (c.kind, c.format) for c in schema} == KINDS
    first, second = sampled
    # city (40 of 300) and sex are categories: counted, never sampled
    assert set(first) == {"name", "label", "mail", "comment", "case", "ref"}
    for name, values in first.items():
        assert len(values) == 60 and values.is_unique and values.notna().all(), name
        pd.testing.assert_series_equal(values, second[name])
    assert counted == ["comment", "comment"]  # the only long text: its words, each run


def test_free_text_is_measured_over_all_rows_repeats_counted(tmp_path):
    """The shape rules read lengths and words over all rows, repeats counted, in SQL as in
    pandas. "mixed": 40 sentences once and 20 single words three times each (100 rows, 60
    distinct): most rows are one word, so it is not free text (over its distinct values it
    would be) but text of no pattern with too many values; "sentences": free text."""
    fake = faker.Faker("en_US")
    fake.seed_instance(9)
    sentences = [fake.sentence(nb_words=9) for _ in range(140)]
    words = list(dict.fromkeys(w for w in fake.words(200) if len(w) > 3))[:20]
    mixed = list(np.random.default_rng(9).permutation(sentences[:40] + words * 3))
    df = pd.DataFrame({"mixed": mixed, "sentences": sentences[40:], "x": np.arange(100) % 4})
    df.to_parquet(tmp_path / "t.parquet")
    pandas_schema, pandas_warnings = _caught(infer_schema, df)
    duck_schema, duck_warnings = _caught(schema_from_duckdb, tmp_path / "t.parquet")
    assert (pandas_schema["mixed"].kind, pandas_schema["sentences"].kind) == (Kind.TEXT, Kind.TEXT)
    assert _facts(duck_schema) == _facts(pandas_schema)
    assert duck_warnings == pandas_warnings
    assert [w.split(":")[0] for w in duck_warnings] == [
        "column 'mixed' has 60 distinct values in 100 rows", "column 'sentences' looks like free text"]


def _check_rows(rows: pd.DataFrame, people: pd.DataFrame, n: int) -> None:
    assert list(rows.columns) == OUT_COLUMNS  # label and comment excluded as text
    assert len(rows) == n
    assert detect_fake(rows["name"]) == "name"
    assert "other" not in set(rows["name"]) and "other" not in set(rows["mail"])
    assert rows["mail"].str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}").all()
    assert not set(rows["mail"]) & set(people["mail"])  # fakes, not the real addresses
    assert rows["case"].str.fullmatch(CASE).all()
    assert set(rows["sex"]) <= {"F", "M"}


@pytest.mark.parametrize("name,dp", [("mst", True), ("privbayes", False)])
def test_synthesize_through_duckdb_gives_fakes_and_excludes_free_text(people, files, tmp_path,
                                                                       name, dp):
    ledger = tmp_path / "ledger.sqlite"
    kw = {"epsilon": 1.0, "ledger": ledger, "dataset": "people"} if dp else {}
    if dp:
        PrivacyLedger(ledger).set_limit("people", epsilon=2.0, delta=1e-6)
    model, messages = _caught(lookalike.fit, files["csv"], name, engine="duckdb", seed=0, **kw)
    assert any(re.match(LABEL_WARNING, m) for m in messages)
    assert any(re.match(FREE_TEXT, m) for m in messages)
    assert model.engine == "duckdb"
    rows = model.sample(200, seed=1)
    _check_rows(rows, people, 200)
    pd.testing.assert_frame_equal(rows, model.sample(200, seed=1))
    if not dp:
        assert not set(rows["name"].dropna()) <= set(people["name"].dropna())  # fakes
        return
    assert len(PrivacyLedger(ledger).releases("people")) == 1
    # the DP release names the facts read from the rows without DP as the pandas path does
    in_memory, _ = _caught(lookalike.fit, people, name, seed=0, epsilon=1.0)
    withheld = build_release_sheet(model, rows).domain["withheld"]
    assert {"name: format", "mail: format", "case: format"} <= set(withheld)
    assert ({w for w in withheld if w.endswith(": format")}
            == {w for w in build_release_sheet(in_memory, rows).domain["withheld"]
                if w.endswith(": format")})


@pytest.mark.parametrize("name,dp", [("mst", True), ("privbayes", False)])
def test_cli_synth_with_the_duckdb_engine(people, files, tmp_path, cli, name, dp):
    out = tmp_path / f"{name}.csv"
    ledger = tmp_path / "ledger.sqlite"
    extra = ["--epsilon", "1", "--ledger", ledger, "--dataset", "people"] if dp else []
    if dp:
        PrivacyLedger(ledger).set_limit("people", epsilon=2.0, delta=1e-6)
    result = cli("synth", files["csv"], "-o", out, "-s", name, "-p", "engine=duckdb",
                 "-n", 200, "--seed", 0, *extra)
    assert result.exit_code == 0, result.output
    stderr = result.stderr.replace("\n", " ")
    assert re.search("warning: " + LABEL_WARNING, stderr)
    assert re.search("warning: " + FREE_TEXT, stderr)
    _check_rows(pd.read_csv(out), people, 200)
    if dp:
        assert len(PrivacyLedger(ledger).releases("people")) == 1
