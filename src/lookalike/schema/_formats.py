"""Value formats read from data: the two tokens of a boolean, the format of an identifier.

An identifier's format is ``"integer"`` (a running number), a regular expression of
fixed-width character classes (keys such as ``[A-Z]{2}[0-9]{4}``), or ``"fake:<provider>"``
(names, e-mails and the like, regenerated with Faker: see :mod:`lookalike.schema._fakes`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from lookalike.schema._fakes import FAKE_PREFIX, detect_fake

_BOOLEAN_PAIRS = (
    {"true", "false"},
    {"yes", "no"},
    {"t", "f"},
    {"y", "n"},
)


def _boolean_tokens(nonnull: pd.Series) -> tuple:
    """The two tokens of a boolean column, false first, as written in the data. A column that
    writes a word in more than one case (Yes, YES, no, No) gets one spelling of each: the pair
    written in one style where there is one (title case, then lower, then upper case: Yes/No),
    else the first of each in sorted order. Its values are matched whatever their case.

    Only the distinct spellings decide (every engine reads those alike)."""
    if pd.api.types.is_bool_dtype(nonnull.dtype):
        return (False, True)
    spellings = sorted({str(v) for v in nonnull})
    true = [t for t in spellings if t.lower() in ("true", "yes", "t", "y")]
    false = [t for t in spellings if t not in true]
    if len(spellings) <= 2 or not (true and false):
        return tuple(false + true)
    for style in (str.istitle, str.islower, str.isupper):
        pair = [t for t in false if style(t)][:1] + [t for t in true if style(t)][:1]
        if len(pair) == 2:
            return tuple(pair)
    return (false[0], true[0])


_CLASSES = (("[0-9]", str.isdigit), ("[A-Z]", str.isupper), ("[a-z]", str.islower))
_CLASS_SIZES = {"0-9": 10, "A-Z": 26, "a-z": 26, "0-9a-f": 16}

KEY_ROOM = 4
"""A key pattern read from data must allow this many times the rows as distinct values, so that
fresh keys (never a real one) can be drawn for samples of the table's size and more."""


def _key_format(values: pd.Series) -> str | None:
    """The format to regenerate an identifier column in: ``"integer"`` for numbers, else a
    fixed-width key pattern, else a fake provider, else a looser pattern (None where none
    fits: keys are then running numbers)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "integer"
    text = values.astype(str)
    if len(text) == 0:  # a column declared identifier with no value: keys of 8 characters
        return "[A-Za-z0-9]{8}"
    strict = _fresh_key_pattern(text)
    if strict is not None:
        return strict
    provider = detect_fake(text)
    if provider is not None:
        return FAKE_PREFIX + provider
    return _identifier_format(text)


def _fresh_key_pattern(text: pd.Series, n: int | None = None) -> str | None:
    """The fixed-width pattern of keys all written alike, when it has room for fresh keys
    (:data:`KEY_ROOM` times ``n``, the column's values: by default as many as ``text`` holds;
    given when ``text`` is a sample of them); else None."""
    room = KEY_ROOM * (len(text) if n is None else n)
    # a letter every key writes (the K of K-00417) stays itself where there is room without it
    for letters in (True, False):
        fmt = _identifier_format(text, strict=True, letters=letters)
        if fmt is not None and _pattern_space(fmt) >= room:
            return fmt
    return None


def _pattern_space(fmt: str) -> float:
    """How many distinct values a pattern written by :func:`_identifier_format` allows."""
    space = 1.0
    for cls, count in re.findall(r"\[([^\]]+)\](?:\{(\d+)\})?", fmt):
        size = sum(_CLASS_SIZES.get(part, 0) for part in re.findall(r"0-9a-f|0-9|A-Z|a-z", cls))
        space *= float(max(size, 1)) ** int(count or 1)
    return space


def _identifier_format(values: pd.Series, strict: bool = False, letters: bool = False) -> str | None:
    """A regular expression of fixed-width character classes matching every value.

    Numeric identifiers return ``"integer"``. With ``strict``, return None unless all values
    share one length and at least one position is a character class (keys, not words); without
    it, keys of several lengths get one fixed width (digits only if they are all digits). With
    ``letters``, a letter that every value writes at one position is written as itself (a
    prefix: ``K\\-[0-9]{5}`` for K-00417), not as a class.
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "integer"
    text = values.astype(str)
    lengths = text.str.len().unique()
    if len(lengths) != 1 or lengths[0] == 0 or lengths[0] > 64:
        if strict:
            return None
        width = int(text.str.len().max())
        if width > 1 and text.str.fullmatch(r"[0-9]+").all():  # numbers written as text
            return f"[1-9][0-9]{{{width - 1}}}"
        return f"[A-Za-z0-9]{{{width}}}"
    arr = np.array([list(v) for v in text.iloc[:20000]])
    parts: list[str] = []
    for pos in range(arr.shape[1]):
        chars = set(arr[:, pos])
        if len(chars) == 1 and (not next(iter(chars)).isalnum()
                                or (letters and next(iter(chars)).isalpha())):
            parts.append(re.escape(next(iter(chars))))
            continue
        cls = [c for c, test in _CLASSES if any(test(ch) for ch in chars)]
        if any(not ch.isalnum() for ch in chars):
            return None
        if cls == ["[0-9]", "[a-z]"] and chars <= set("0123456789abcdef"):
            cls = ["[0-9a-f]"]
        parts.append("[" + "".join(c[1:-1] for c in cls) + "]")
    return _compress(parts)


def _compress(parts: list[str]) -> str:
    out, i = [], 0
    while i < len(parts):
        j = i
        while j + 1 < len(parts) and parts[j + 1] == parts[i]:
            j += 1
        out.append(parts[i] + (f"{{{j - i + 1}}}" if j > i else ""))
        i = j + 1
    return "".join(out)
