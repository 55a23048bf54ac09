"""Which near-unique text columns are taken for names, e-mails and the like, and their fakes.

Precision is measured on columns built here: Faker's own names, e-mails, phones, addresses and
companies in several locales (positives), against Adult's categorical columns, sentences,
capitalised words, product titles, product codes, jobs and slogans (negatives). Every case must
come out right: a wrong positive would replace a real column's values by fakes.
"""

from __future__ import annotations

import re

import faker
import numpy as np
import pandas as pd
import pytest

from lookalike.errors import SchemaError
from lookalike.schema import FAKE_PROVIDERS, Kind, Schema
from lookalike.schema._fakes import detect_fake
from lookalike.transform.fakes import fresh_fakes
from lookalike.transform.identifiers import fresh_identifiers

N = 400
LOCALES = ["en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "sv_SE", "pt_BR", "cs_CZ",
           "fi_FI", "tr_TR", "en_IN", "hu_HU", "da_DK"]
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")


def _faker_column(locale: str, provider: str, seed: int = 0) -> pd.Series:
    fake = faker.Faker(locale)
    fake.seed_instance(seed)
    return pd.Series([getattr(fake, provider)() for _ in range(N)])


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("provider", ["name", "first_name", "last_name", "email", "phone_number"])
def test_people_columns_are_detected(locale, provider):
    assert detect_fake(_faker_column(locale, provider)) == provider


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "fi_FI"])
def test_companies_are_detected(locale):
    assert detect_fake(_faker_column(locale, "company")) == "company"


def test_family_name_first_and_addresses_are_detected():
    fake = faker.Faker("en_GB")
    fake.seed_instance(1)
    last_first = pd.Series([f"{fake.last_name()}, {fake.first_name()}" for _ in range(N)])
    assert detect_fake(last_first) == "name_last_first"
    assert detect_fake(_faker_column("en_US", "street_address")) == "street_address"


def _negatives(adult: pd.DataFrame) -> dict[str, pd.Series]:
    fake = faker.Faker("en_US")
    fake.seed_instance(3)
    rng = np.random.default_rng(0)
    products = [f"{a} {b} {c}" for a, b, c in zip(
        rng.choice(["Blue", "Red", "Green", "Black", "White", "Classic", "Deluxe"], N),
        rng.choice(["Cotton", "Wool", "Leather", "Silk", "Denim"], N),
        rng.choice(["Shirt", "Jacket", "Hat", "Scarf", "Boots", "Gloves"], N), strict=True)]
    columns = {
        "sentences": [fake.sentence() for _ in range(N)],
        "capitalised words": [fake.word().capitalize() for _ in range(N)],
        "two capitalised words": [f"{fake.word().title()} {fake.word().title()}" for _ in range(N)],
        "product titles": products,
        "product codes": [f"AB-{i:04d}-{c}" for i, c in enumerate(rng.choice(list("XYZ"), N))],
        "jobs": [fake.job() for _ in range(N)],
        "slogans": [fake.catch_phrase() for _ in range(N)],
        "account numbers": [str(v) for v in rng.integers(10**9, 10**12, N)],
    }
    out = {k: pd.Series(v) for k, v in columns.items()}
    for name in adult.columns:
        if adult[name].dtype == object:
            out[f"adult {name}"] = adult[name]
    return out


def test_other_columns_are_not_taken_for_fakes(adult_full):
    negatives = _negatives(adult_full)
    found = {name: detect_fake(values) for name, values in negatives.items()}
    assert {name: p for name, p in found.items() if p is not None} == {}
    assert len(found) >= 16  # 8 built columns and Adult's 9 categorical ones


def test_few_distinct_values_are_never_fakes():
    # "White" and "Black" are family names, but a column of 5 values is categories
    race = pd.Series(["White", "Black", "Asian", "Brown", "Green"] * 40)
    assert detect_fake(race) is None


# ----------------------------------------------------------------------------- generating fakes

@pytest.mark.parametrize("provider", list(FAKE_PROVIDERS))
def test_fakes_look_like_what_they_replace(provider):
    values = fresh_fakes(provider, N, np.random.default_rng(0))
    assert len(values) == N and all(isinstance(v, str) and v for v in values)
    assert detect_fake(pd.Series(values)) == provider


def test_fakes_follow_the_seed_only():
    a = fresh_identifiers("fake:name", 50, np.random.default_rng(7), avoid={"x"})
    assert a == fresh_fakes("name", 50, np.random.default_rng(7))
    assert a != fresh_fakes("name", 50, np.random.default_rng(8))


def test_fake_emails_are_distinct_addresses():
    mails = fresh_fakes("email", 2000, np.random.default_rng(0))
    assert len(set(mails)) == 2000 and all(EMAIL.fullmatch(m) for m in mails)


def test_unknown_provider_is_named():
    with pytest.raises(SchemaError, match=r"'fake:nmae' names no fake provider; one of "
                                          r"fake:name, fake:name_last_first"):
        fresh_fakes("nmae", 3, np.random.default_rng(0))


# ----------------------------------------------------------------------------- schema format

def test_fake_format_round_trips_through_json():
    schema = Schema.from_dict({"columns": [
        {"name": "who", "kind": "identifier", "format": "fake:name"},
        {"name": "age", "kind": "integer", "bounds": [0, 99]}]})
    assert (schema["who"].kind, schema["who"].format) == (Kind.IDENTIFIER, "fake:name")
    assert Schema.from_json(schema.to_json()) == schema


def test_unknown_fake_format_is_refused_with_the_providers():
    declared = {"columns": [{"name": "who", "kind": "identifier", "format": "fake:nmae"}]}
    with pytest.raises(SchemaError, match=r"column 'who': format must be \"fake:\" and one of "
                                          r"the fake providers name, name_last_first, "
                                          r"first_name, .*company, got 'fake:nmae'"):
        Schema.from_dict(declared)


def test_given_names_with_middle_initials_are_given_names():
    """LA riots' first names ("Cesar A.", "Kevin J.", "George"; 45 of 63 with an initial after
    the name) were taken for full names: the synthetic first names came out as "Ms. Emily
    Castillo". A middle initial after a lone given name adds nothing; an initial before a
    name ("J. Smith") still makes a full name."""
    fake = faker.Faker("en_US")
    fake.seed_instance(3)
    given = [fake.first_name() + (f" {fake.random_uppercase_letter()}." if i % 3 else "")
             for i in range(N)]
    assert detect_fake(pd.Series(given)) == "first_name"
    initialled = [f"{fake.random_uppercase_letter()}. {fake.last_name()}" for _ in range(N)]
    assert detect_fake(pd.Series(initialled)) == "name"
