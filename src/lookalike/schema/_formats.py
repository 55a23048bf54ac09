"""Value formats read from data: the two tokens of a boolean, the pattern of an identifier."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_BOOLEAN_PAIRS = (
    {"true", "false"},
    {"yes", "no"},
    {"t", "f"},
    {"y", "n"},
)


def _boolean_tokens(nonnull: pd.Series) -> tuple:
    """The two tokens of a boolean column, false first (as written in the data)."""
    if pd.api.types.is_bool_dtype(nonnull.dtype):
        return (False, True)
    tokens = sorted({str(v) for v in nonnull}, key=lambda t: t.lower() in ("true", "yes", "t", "y"))
    return tuple(tokens)


_CLASSES = (("[0-9]", str.isdigit), ("[A-Z]", str.isupper), ("[a-z]", str.islower))


def _identifier_format(values: pd.Series, strict: bool = False) -> str | None:
    """A regular expression of fixed-width character classes matching every value.

    Numeric identifiers return ``"integer"``. With ``strict``, return None unless all values
    share one length and at least one position is a character class (keys, not words); without
    it, keys of several lengths get one fixed width (digits only if they are all digits).
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
        if len(chars) == 1 and not next(iter(chars)).isalnum():
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
