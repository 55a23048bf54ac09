"""Fresh identifiers in the format of a real key column, never the real keys themselves.

Formats are a small subset of regular expressions, as inferred by the schema: character
classes with fixed counts (``[0-9]{3}\\-[0-9]{2}``) and literal characters; ``"integer"``
means a running number. Values are drawn uniformly from the format, are unique, and avoid any
keys passed in ``avoid`` (the real ones, when the caller still holds them). ``"fake:<provider>"``
draws names, e-mails and the like with Faker instead (:mod:`lookalike.transform.fakes`): they
depend on no real value, so they neither avoid real ones nor need to be unique.

>>> import numpy as np
>>> ids = fresh_identifiers(r"[0-9]{3}\\-[0-9]{2}", 3, np.random.default_rng(0))
>>> len(set(ids)), all(len(i) == 6 and i[3] == "-" for i in ids)
(3, True)
"""

from __future__ import annotations

import re

import numpy as np

from lookalike.errors import SchemaError
from lookalike.schema import FAKE_PREFIX
from lookalike.transform.fakes import fresh_fakes

__all__ = ["fresh_identifiers", "format_space", "integer_identifiers"]

_TOKEN = re.compile(r"\[([^\]]+)\](?:\{(\d+)\})?|\\(.)|(.)")


def _parse(fmt: str) -> list[str]:
    """Per output position, the alphabet it draws from."""
    positions: list[str] = []
    for m in _TOKEN.finditer(fmt):
        cls, count, escaped, literal = m.groups()
        if cls is not None:
            alphabet = _expand(cls, fmt)
            positions.extend([alphabet] * int(count or 1))
        else:
            positions.append(escaped if escaped is not None else literal)
    if not positions:
        raise SchemaError(f"identifier format {fmt!r} is empty")
    return positions


def _expand(cls: str, fmt: str) -> str:
    out, i = [], 0
    while i < len(cls):
        if i + 2 < len(cls) and cls[i + 1] == "-":
            a, b = cls[i], cls[i + 2]
            if ord(b) < ord(a):
                raise SchemaError(f"identifier format {fmt!r}: bad range {a}-{b}")
            out.extend(chr(c) for c in range(ord(a), ord(b) + 1))
            i += 3
        else:
            out.append(cls[i])
            i += 1
    return "".join(dict.fromkeys(out))


def format_space(fmt: str) -> float:
    """How many distinct values the format can produce."""
    if fmt == "integer" or fmt.startswith(FAKE_PREFIX):
        return float("inf")
    return float(np.prod([float(len(a)) for a in _parse(fmt)]))


def integer_identifiers(n: int, avoid: set | None = None) -> np.ndarray:
    """The ``n`` smallest whole numbers from 1 that are not in ``avoid`` (int64, in order):
    the keys of format ``"integer"``.

    >>> integer_identifiers(4, {2, 3.0, "4"}).tolist()
    [1, 4, 5, 6]
    """
    taken = avoid or set()
    skip = set()
    for v in taken:  # the numbers equal to a real key (as ``k in avoid`` tests them)
        try:
            k = int(v)
        except (TypeError, ValueError, OverflowError):
            continue
        if 1 <= k <= n + len(taken) and k in taken:
            skip.add(k)
    candidates = np.arange(1, n + len(skip) + 1, dtype=np.int64)
    if skip:
        candidates = candidates[~np.isin(candidates, np.fromiter(skip, dtype=np.int64))]
    return candidates[:n]


def fresh_identifiers(
    fmt: str, n: int, rng: np.random.Generator, avoid: set | None = None
) -> list:
    """``n`` unique identifiers in format ``fmt`` that are not in ``avoid`` (fakes: see
    :func:`~lookalike.transform.fakes.fresh_fakes`)."""
    if fmt.startswith(FAKE_PREFIX):
        return fresh_fakes(fmt[len(FAKE_PREFIX):], n, rng)
    if fmt == "integer":
        return integer_identifiers(n, avoid).tolist()
    positions = _parse(fmt)
    space = format_space(fmt)
    taken = set(avoid or ())
    if space - len(taken) < 2 * n:
        raise SchemaError(
            f"identifier format {fmt!r} allows only {space:,.0f} values: too few for {n:,} fresh "
            "unique keys; widen the format in the schema"
        )
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        m = (n - len(out)) + 16
        cols = [
            np.array(list(a))[rng.integers(0, len(a), m)] if len(a) > 1 else np.full(m, a)
            for a in positions
        ]
        for v in ("".join(chars) for chars in zip(*cols, strict=True)):
            if v not in seen and v not in taken:
                seen.add(v)
                out.append(v)
                if len(out) == n:
                    break
    return out
