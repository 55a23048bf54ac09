"""Near-unique text that is regenerated as fakes: person names, e-mails, phones, addresses.

:func:`detect_fake` looks at the shape of a column's values (and, for names, whether they hold
given or family names that Faker knows) and returns the name of a fake provider, or None. The
schema records it as the identifier format ``"fake:<provider>"``; samplers then draw fresh
values of that kind with Faker (:mod:`lookalike.transform.fakes`).

Privacy: a fake is drawn from Faker's fixed vocabularies and the sampling seed only, so it holds
no real value and no statistic of the data. What the data decides is only which provider a
column gets; like the regular expression of any inferred identifier format, that choice is a
fact read from the rows (source ``"data"``), which a DP release sheet names as not covered by
the guarantee; declare the format in the schema to make it public.

>>> import pandas as pd
>>> given = ["Mary", "Jean-Luc", "Anna Maria", "Kenji"]
>>> family = ["O'Neil", "van der Berg", "Smith-Jones", "Ito", "Dupont", "Kowalski"]
>>> detect_fake(pd.Series([f"{g} {f}" for g in given for f in family]))
'name'
>>> detect_fake(pd.Series([f"{g[0].lower()}.{f[-3:]}@example.org" for g in given for f in family]))
'email'
>>> detect_fake(pd.Series([f"{f} {i}" for f in family for i in range(4)])) is None
True
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re

import numpy as np
import pandas as pd

__all__ = ["FAKE_PREFIX", "FAKE_PROVIDERS", "detect_fake", "fake_provider"]

FAKE_PREFIX = "fake:"

FAKE_PROVIDERS: dict[str, str] = {
    "name": "person names, given name first (Jane Doe)",
    "name_last_first": "person names, family name first (Doe, Jane)",
    "first_name": "given names (Jane)",
    "last_name": "family names (Doe)",
    "email": "e-mail addresses",
    "phone_number": "phone numbers",
    "street_address": "street addresses (12 Oak Street)",
    "company": "company names (Doe Ltd)",
}
"""Each provider a ``"fake:<provider>"`` identifier format may name, and what it draws."""

SAMPLE = 2000
"""At most this many distinct values (evenly spread over the column) are looked at."""

MIN_DISTINCT = 20
"""Fewer distinct values than this are categories, never fakes (a race column holding "White"
and "Black" is not a column of family names)."""

NAME_SHARE = 0.9
"""Share of values that must be shaped like a name (2-4 capitalised words, or one)."""

VOCABULARY_SHARE = 0.5
"""Share of name-shaped values that must hold a given name Faker knows (family name: 0.4)."""

PATTERN_SHARE = 0.95
"""Share of values that must match the e-mail, phone or address pattern."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)*\.[^\W\d_]{2,}")  # any letters: anna.müller@
_PHONE = re.compile(r"[0-9 ().\-/+]{7,}((x|ext\.?)\s?[0-9]{1,6})?", re.IGNORECASE)
_PHONE_MARK = re.compile(r"^[0+]|[ ().\-/]")  # unlike account numbers: a separator, a leading 0 or +
_PARTICLES = frozenset("van von der den de del della di da das dos du la le ter ten bin ibn al y"
                       .split())
_TITLES = frozenset("mr mrs ms miss mx dr prof sir jr sr ii iii iv md phd dds dvm esq herr frau "
                    "mme mlle m sig sra dott don dona pan pani".split())
_COMPANY = frozenset("inc llc ltd plc corp corporation co company group gmbh ag sa sas bv nv "
                     "limited llp lp holdings partners sons sro as srl spa ab oy oyj kg kgaa spk "
                     "sc oo ev ug mbh bhd pty pvt ltda sl sarl".split())
"""Legal suffixes of companies (lower case, dots removed): Ltd, GmbH, s.r.o., S.p.A., ..."""

COMPANY_SHARE = 0.25
"""Share of values that must end with a legal suffix (Faker's own companies: about 30%)."""
_STREET_ABBREVIATIONS = frozenset("st ave rd blvd ln dr ct pl sq hwy pkwy cir ter trl way"
                                  .split())


def fake_provider(fmt: str | None) -> str | None:
    """The provider of a ``"fake:<provider>"`` format (even an unknown one), else None."""
    if isinstance(fmt, str) and fmt.startswith(FAKE_PREFIX):
        return fmt[len(FAKE_PREFIX):]
    return None


def detect_fake(values: pd.Series) -> str | None:
    """The provider whose fakes look like ``values`` (non-missing texts), or None.

    Checked in order: e-mail addresses and phone numbers (patterns), street addresses (a house
    number and a street word such as "Street" or "Ave"), companies (a legal suffix such as
    "Ltd"), person names (2-4 capitalised words or initials, with particles such as "van der"
    and titles such as "Dr." allowed, mostly holding a known given name), then single given or
    family names. Shares are measured on the distinct values (at most :data:`SAMPLE`).
    """
    text = _sample(values)
    if len(text) == 0:
        return None
    if _share(text, _is_email) >= PATTERN_SHARE:
        return "email"
    if _share(text, _is_phone) >= PATTERN_SHARE and text.str.contains(_PHONE_MARK).mean() >= 0.5:
        return "phone_number"
    if _share(text, _is_street_address) >= PATTERN_SHARE:
        return "street_address"
    if _share(text, _is_company) >= COMPANY_SHARE:
        return "company"
    shaped = [w for w in map(_name_words, text) if w is not None]
    if len(shaped) < NAME_SHARE * len(text):
        return None
    return _name_provider(text, shaped)


def _sample(values: pd.Series) -> pd.Series:
    """The distinct non-empty values, at most :data:`SAMPLE` of them; none if fewer than
    :data:`MIN_DISTINCT`."""
    text = values.dropna().astype(str).str.strip()
    text = pd.Series(text[text != ""].unique())
    if len(text) < MIN_DISTINCT:
        return text.iloc[:0]
    if len(text) > SAMPLE:
        text = text.iloc[np.linspace(0, len(text) - 1, SAMPLE).astype(int)]
    return text.reset_index(drop=True)


def _share(text: pd.Series, test) -> float:
    return float(np.mean([test(v) for v in text]))


def _is_email(v: str) -> bool:
    return _EMAIL.fullmatch(v) is not None


def _is_phone(v: str) -> bool:
    if _PHONE.fullmatch(v) is None:
        return False
    digits = sum(ch.isdigit() for ch in re.split(r"x|ext", v, flags=re.IGNORECASE)[0])
    return 7 <= digits <= 15


def _is_street_address(v: str) -> bool:
    head, *rest = v.split(",")[0].split()
    if not rest or not head[0].isdigit():
        return False
    suffixes = _street_suffixes()
    return any(w.strip(".").lower() in suffixes for w in rest)


def _is_company(v: str) -> bool:
    tokens = v.replace(",", " ").split()
    return len(tokens) >= 2 and tokens[-1].replace(".", "").lower() in _COMPANY


def _name_words(v: str) -> tuple[tuple[str, ...], int] | None:
    """The words of ``v`` (initials, particles and titles left out), given name first, and how
    many names it has with the initials before its first one, when ``v`` is shaped like a
    person's name; else None. Initials after a name (a middle initial) add nothing: a column
    of given names written "Cesar A.", "Kevin J." (LA riots' first names) is one of given
    names, not of full names, while "J. Smith" has two.

    A comma marks "Family, Given"; 1 to 4 names or initials, each capitalised.
    """
    if v.count(",") > 1:
        return None
    family, _, given = v.partition(",")
    words: list[str] = []
    initials = leading = 0
    for token in given.split() + family.split():
        if token.strip(".").lower() in _TITLES or "." in token.strip(".") or token in _PARTICLES:
            continue  # titles, degrees (B.Sc., Dipl.-Ing.) and particles (van der)
        if not _capitalised(token):
            return None
        if len(token.rstrip(".")) == 1:
            initials += 1
            leading += not words
        else:
            words.append(token)
    if not words or not 1 <= len(words) + initials <= 4:
        return None
    return tuple(words), len(words) + leading


def _capitalised(token: str) -> bool:
    """A word or initial written with a capital first: letters, apostrophes, hyphens, a final
    dot."""
    word = token[:-1] if token.endswith(".") else token
    return bool(word) and word[0].isupper() and all(ch.isalpha() or ch in "'’-" for ch in word)


def _name_provider(text: pd.Series, shaped: list[tuple[tuple[str, ...], int]]) -> str | None:
    given, family = _vocabulary()
    if np.mean([n == 1 for _, n in shaped]) >= 0.5:
        first = np.mean([w[0].lower() in given for w, _ in shaped])
        last = np.mean([w[0].lower() in family for w, _ in shaped])
        if first >= VOCABULARY_SHARE and first >= last:
            return "first_name"
        return "last_name" if last >= 0.8 * VOCABULARY_SHARE else None
    known = np.mean([w[0].lower() in given or w[-1].lower() in given for w, _ in shaped])
    if known < VOCABULARY_SHARE:
        return None
    return "name_last_first" if text.str.contains(",").mean() >= 0.5 else "name"


@functools.cache
def _vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """Given and family names (lower case) of every Faker locale written in Latin letters
    (none without Faker: then no column is taken for names)."""
    try:
        import faker.providers.person as person
    except ImportError:
        return frozenset(), frozenset()

    given: set[str] = set()
    family: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        names = [n for a in ("first_names", "first_names_male", "first_names_female")
                 for n in _names(provider, a)]
        if names and np.mean([all(ord(ch) < 0x250 for ch in n) for n in names]) >= 0.9:
            given.update(n.lower() for n in names)
            family.update(n.lower() for n in _names(provider, "last_names"))
    return frozenset(given), frozenset(family)


def _names(provider: type, attr: str) -> list[str]:
    values = getattr(provider, attr, ())
    return list(values) if isinstance(values, tuple | list | dict) else []


@functools.cache
def _street_suffixes() -> frozenset[str]:
    try:
        from faker.providers.address.en_US import Provider
    except ImportError:
        return _STREET_ABBREVIATIONS
    return frozenset(s.lower() for s in Provider.street_suffixes) | _STREET_ABBREVIATIONS
