"""Fresh fakes for the identifier formats ``"fake:<provider>"``: names, e-mails, phones, ...

Values come from Faker (``en_US``), seeded from the sampling generator, so equal seeds give
equal fakes. They depend on nothing but the provider and the seed: no real value, no statistic
of the data. That is also why, unlike regular-expression keys, fakes are not checked against
the real values: skipping a real name would make the output depend on the real rows (a common
name that never appears in a large sample would tell that it is in the data). A fake equal to
a real value is a draw from Faker's public vocabulary, not a copy.

E-mail addresses and phone numbers are drawn without repeats while Faker can still find new
ones; names repeat as names do.

>>> import numpy as np
>>> names = fresh_fakes("name", 3, np.random.default_rng(0))
>>> names == fresh_fakes("name", 3, np.random.default_rng(0)), len(names)
(True, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lookalike.errors import ConfigError, SchemaError
from lookalike.schema import FAKE_PROVIDERS

__all__ = ["fresh_fakes"]

LOCALE = "en_US"

_MAKERS: dict[str, Callable[[Any], str]] = {
    "name": lambda f: f.name(),
    "name_last_first": lambda f: f"{f.last_name()}, {f.first_name()}",
    "first_name": lambda f: f.first_name(),
    "last_name": lambda f: f.last_name(),
    "email": lambda f: f.email(),
    "phone_number": lambda f: f.phone_number(),
    "street_address": lambda f: f.street_address(),
    "company": lambda f: f.company(),
}
_DISTINCT = ("email", "phone_number")
_TRIES = 20  # draws per wanted value before repeats are allowed


def fresh_fakes(provider: str, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` fakes of ``provider`` (a key of :data:`lookalike.schema.FAKE_PROVIDERS`)."""
    make = _MAKERS.get(provider)
    if make is None:
        raise SchemaError(
            f"identifier format 'fake:{provider}' names no fake provider; one of "
            + ", ".join(f"fake:{p}" for p in FAKE_PROVIDERS)
        )
    fake = _faker()
    fake.seed_instance(int(rng.integers(2**63)))
    if provider not in _DISTINCT:
        return [make(fake) for _ in range(n)]
    out: dict[str, None] = {}
    for _ in range(_TRIES * n):
        out[make(fake)] = None
        if len(out) == n:
            return list(out)
    return list(out) + [make(fake) for _ in range(n - len(out))]


def _faker() -> Any:
    try:
        from faker import Faker
    except ImportError:  # a core dependency; only a broken install lacks it
        raise ConfigError(
            "identifier formats 'fake:...' need the faker package: pip install faker"
        ) from None
    return Faker(LOCALE)
