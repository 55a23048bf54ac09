"""Inference never gives up on a column with many distinct values (issue 17).

The issue's table: 1,446 rows with person names (1,294 distinct) and a composite label unique
per row was refused by every synthesizer ("too many categories to model"). Now near-unique
text is classified: keys of one pattern are identifiers regenerated in that pattern; names and
e-mails are identifiers regenerated as fakes; free text and labels without a pattern are
excluded as text with a warning naming the column; the run goes on, through the API and the
CLI, DP or not.
"""

from __future__ import annotations

import json
import re
import warnings

import faker
import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.privacy.ledger import PrivacyLedger
from lookalike.schema import Kind, Schema, infer_schema
from lookalike.schema._fakes import detect_fake

N_ROWS = 1446
N_NAMES = 1294
LABEL_WARNING = (r"column 'label' has 1,446 distinct values in 1,446 rows: too many to model "
                 r"as categories \(at most 723 here\).*excluded from the model.*declare it in "
                 r"a schema \(CLI: --schema\): 'categorical'.*'identifier' with a format.*"
                 r"fake:<provider>.*--drop 'label'")
FREE_TEXT = r"column 'comment' looks like free text"
CASE = r"[A-Z]{2}\-[0-9]{4}\-[0-9]{3}"
SYNTHESIZERS = ["independent", "cart", "mst"]


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """The issue's shape: names (1,294 distinct of 1,446), a composite label unique per row
    of no fixed pattern, a case number of one pattern, e-mails, a free-text comment, and
    ordinary columns."""
    fake = faker.Faker("de_DE")
    fake.seed_instance(17)
    names: list[str] = []
    while len(names) < N_NAMES:
        name = fake.first_name() + " " + fake.last_name()
        if name not in names:
            names.append(name)
    rng = np.random.default_rng(17)
    names += list(rng.choice(names, N_ROWS - N_NAMES))
    mails = [f"{n.lower().replace(' ', '.')}{i}@example.org" for i, n in enumerate(names)]
    region = rng.choice(["north", "south", "east", "west"], N_ROWS)
    year = rng.integers(1990, 2020, N_ROWS)
    return pd.DataFrame({
        "ehead": rng.permutation(names),
        "label": [f"{r}/{y}/{i}" for r, y, i in zip(region, year, range(N_ROWS), strict=True)],
        "case": [f"{a}{b}-{y}-{i:03d}" for a, b, y, i in zip(
            rng.choice(list("ABCDEFGH"), N_ROWS), rng.choice(list("KLMN"), N_ROWS), year,
            rng.integers(0, 1000, N_ROWS), strict=True)],
        "mail": mails,
        "comment": [fake.sentence(nb_words=10) for _ in range(N_ROWS)],
        "age": rng.integers(18, 90, N_ROWS),
        "sex": rng.choice(["F", "M"], N_ROWS),
        "score": np.round(rng.normal(50, 10, N_ROWS), 1),
    })


def _infer(df: pd.DataFrame) -> tuple[Schema, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = infer_schema(df)
    return schema, [str(w.message) for w in caught]


def test_the_issue_table_is_classified_not_refused(people):
    assert people["ehead"].nunique() == N_NAMES  # the issue's column
    schema, messages = _infer(people)
    kinds = {c.name: (c.kind, c.format) for c in schema}
    assert kinds == {
        "ehead": (Kind.IDENTIFIER, "fake:name"),
        "label": (Kind.TEXT, None),
        "case": (Kind.IDENTIFIER, CASE),
        "mail": (Kind.IDENTIFIER, "fake:email"),
        "comment": (Kind.TEXT, None),
        "age": (Kind.INTEGER, None),
        "sex": (Kind.CATEGORICAL, None),
        "score": (Kind.FLOAT, None),
    }
    assert len(messages) == 2
    assert re.search(LABEL_WARNING, messages[0]) and re.search(FREE_TEXT, messages[1])


def test_near_unique_keys_of_one_pattern_are_identifiers(people):
    case = people["case"]
    assert case.nunique() < len(case)  # not unique: a few cases repeat
    assert infer_schema(people[["case", "age"]])["case"].format == CASE


def test_a_pattern_without_room_for_fresh_keys_is_not_a_key():
    # 2,600 possible keys for 1,446 unique rows: fresh keys could not avoid the real ones
    keys = [f"{chr(65 + i // 100 % 26)}{i % 100:02d}" for i in range(N_ROWS)]
    df = pd.DataFrame({"code": keys, "x": np.arange(N_ROWS) % 3})
    with pytest.warns(UserWarning, match=r"column 'code' has 1,446 distinct values"):
        assert infer_schema(df)["code"].kind is Kind.TEXT


def test_a_declared_identifier_of_names_gets_fakes(people):
    declared = {"columns": [{"name": "ehead", "kind": "identifier"}]}
    col = infer_schema(people[["ehead", "age"]], declared=declared)["ehead"]
    assert (col.format, col.source("format")) == ("fake:name", "data")


def _check_rows(rows: pd.DataFrame, people: pd.DataFrame, n: int) -> None:
    assert list(rows.columns) == ["ehead", "case", "mail", "age", "sex", "score"]
    assert len(rows) == n
    assert detect_fake(rows["ehead"]) == "name"
    assert rows["mail"].str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}").all()
    assert rows["mail"].nunique() == n
    assert rows["case"].str.fullmatch(CASE).all()
    assert not set(rows["case"]) & set(people["case"])  # fresh keys, never a real one
    assert not set(rows["mail"]) & set(people["mail"])


@pytest.mark.parametrize("name", SYNTHESIZERS)
def test_every_synthesizer_runs_through_the_api(people, name, tmp_path):
    dp = name == "mst"
    ledger = tmp_path / "ledger.sqlite"
    if dp:
        PrivacyLedger(ledger).set_limit("people", epsilon=3.0, delta=1e-6)
    kw = {"epsilon": 1.0, "delta": 1e-9, "ledger": ledger, "dataset": "people"} if dp else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lookalike.fit(people, name, seed=0, **kw)
        rows = model.sample(500, seed=1)
        again = model.sample(500, seed=1)
    _check_rows(rows, people, 500)
    pd.testing.assert_frame_equal(rows, again)  # fakes follow the seed
    model.save(tmp_path / "m.lookalike")
    loaded = lookalike.load_synthesizer(tmp_path / "m.lookalike")
    assert detect_fake(loaded.sample(300, seed=2)["ehead"]) == "name"
    if dp:
        assert len(PrivacyLedger(ledger).releases("people")) == 1
        # the provider was read from the rows, as any inferred identifier format: not public
        assert model.schema_.source("ehead", "format") == "data"


def test_inspect_writes_a_schema_that_synth_takes_back(people, cli, tmp_path):
    data = tmp_path / "people.csv"
    people.to_csv(data, index=False)
    schema_path = tmp_path / "people.schema.json"
    result = cli("inspect", data, "-o", schema_path)
    assert result.exit_code == 0, result.output
    assert re.search(r"warning: " + LABEL_WARNING, result.stderr.replace("\n", " "))
    written = json.loads(schema_path.read_text())
    formats = {c["name"]: c.get("format") for c in written["columns"]}
    assert {k: (v["value"] if isinstance(v, dict) else v) for k, v in formats.items()
            if v is not None} == {"ehead": "fake:name", "case": CASE, "mail": "fake:email"}
    inferred = Schema.load(schema_path)
    assert [(c.name, c.kind, c.format) for c in inferred] == \
           [(c.name, c.kind, c.format) for c in infer_schema(lookalike.read_table(data))]

    ledger = tmp_path / "ledger.sqlite"
    PrivacyLedger(ledger).set_limit("people", epsilon=3.0, delta=1e-6)
    for name in SYNTHESIZERS:
        out = tmp_path / f"{name}.csv"
        dp = ["--epsilon", "1", "--ledger", ledger, "--dataset", "people"] if name == "mst" else []
        result = cli("synth", data, "-o", out, "-s", name, "--schema", schema_path, "-n", 400,
                     "--seed", 0, *dp)
        assert result.exit_code == 0, result.output
        _check_rows(pd.read_csv(out), people, 400)
    assert len(PrivacyLedger(ledger).releases("people")) == 1
