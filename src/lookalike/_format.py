"""Numbers for people: the one format of counts, amounts, shares and bin labels.

Reports, evaluation histograms and release sheets all write numbers through these functions,
so a count reads ``21,815`` whether it was counted in the real rows or scaled from the
synthetic ones, a bin reads ``12,280–61,370``, and a share reads ``12.3%``; nothing a person
reads is in exponent notation (``2.179e+04``) except privacy parameters (``δ = 1e-9``), whose
convention that is.

>>> count(21815.0), count(21790.4), number(0.000123456), number(1234567.891)
('21,815', '21,790', '0.0001235', '1,234,568')
>>> share(0.1234), share(0.0004), share(None)
('12.3%', '0.04%', '—')
>>> bin_labels([0.0, 12280.4, 61366.7, 99999.0])
['0–12,280', '12,280–61,367', '61,367–99,999']
>>> bin_labels([17.0, 19.43, 21.87])
['17–19.4', '19.4–21.9']
>>> privacy_parameter(1.0), privacy_parameter(1e-9), privacy_parameter(0.25)
('1', '1e-9', '0.25')
>>> readable("[1.2285e+04, 1.06e+05)"), readable("age in [17, 2.5e+01]")
('12,285–106,000', 'age in [17, 25]')
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MISSING",
    "bin_labels",
    "count",
    "fixed",
    "interval",
    "is_number",
    "number",
    "privacy_parameter",
    "readable",
    "share",
]

MISSING = "—"
"""What a table cell shows for a number that was not measured."""

SIGNIFICANT = 4
"""Significant digits of an amount below 1,000 (above it, whole numbers)."""


def is_number(value: Any) -> bool:
    """A finite number (int, float or NumPy scalar), not a bool or a string."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def count(value: Any) -> str:
    """A number of rows, whole, with thousands separators (a scaled count is rounded)."""
    if not is_number(value):
        return MISSING
    return f"{round(float(value)):,}"


def number(value: Any, significant: int = SIGNIFICANT) -> str:
    """Any amount: whole numbers with separators, others to ``significant`` digits, no exponent.

    Values of 1,000 or more are rounded to whole numbers; smaller ones keep ``significant``
    significant digits (trailing zeros dropped).
    """
    if not is_number(value):
        return MISSING
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 10 ** (significant - 1) or (v.is_integer() and abs(v) < 1e15):
        return f"{v:,.0f}"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:,.{min(decimals, 12)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def fixed(value: Any, digits: int = 3) -> str:
    """A score on a fixed scale (TVD, AUC, ratio): ``digits`` decimals, always shown."""
    if not is_number(value):
        return MISSING
    return f"{float(value):,.{digits}f}"


def share(value: Any, digits: int | None = None) -> str:
    """A share in [0, 1] as a percentage: one decimal, more when it is below 0.1%."""
    if not is_number(value):
        return MISSING
    v = float(value) * 100
    if digits is None:
        digits = 1
        if v != 0 and abs(v) < 0.1:
            digits = min(6, -math.floor(math.log10(abs(v))))
    return f"{v:,.{digits}f}%"


def interval(bounds: Any, significant: int = 3) -> str:
    """A confidence interval ``[lo, hi]``, each end to ``significant`` digits."""
    if (
        isinstance(bounds, (list, tuple))
        and len(bounds) == 2
        and all(is_number(b) for b in bounds)
    ):
        return f"[{number(bounds[0], significant)}, {number(bounds[1], significant)}]"
    return MISSING


def _decimals(edges: Sequence[float]) -> int:
    """Decimals that tell consecutive edges apart: one digit below the smallest step."""
    steps = [abs(b - a) for a, b in zip(edges[:-1], edges[1:], strict=True) if b != a]
    if not steps:
        return 0
    step = min(steps)
    if step >= 10 or all(float(e).is_integer() for e in edges):
        return 0
    return max(0, min(8, 1 - math.floor(math.log10(step))))


def edge(value: float, decimals: int) -> str:
    """One bin edge with ``decimals`` decimals, separators, trailing zeros dropped."""
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def bin_labels(edges: Sequence[float]) -> list[str]:
    """``lo–hi`` labels of consecutive numeric bins, as precise as their width needs."""
    values = [float(e) for e in edges]
    d = _decimals(values)
    return [f"{edge(a, d)}–{edge(b, d)}" for a, b in zip(values[:-1], values[1:], strict=True)]


def privacy_parameter(value: Any) -> str:
    """ε and δ as privacy papers write them: ``1``, ``0.5``, ``1e-6``."""
    if not is_number(value):
        return MISSING
    text = f"{float(value):.3g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{int(exp)}"
    return text


_FLOAT = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
_RANGE = re.compile(rf"^\[({_FLOAT}), ({_FLOAT})[)\]]$", re.I)
_EXPONENT = re.compile(r"-?\d+(?:\.\d+)?e[+-]?\d+", re.I)


def readable(label: str) -> str:
    """A label written elsewhere, in this format: ``[a, b)`` bins become ``a–b`` and numbers
    in exponent notation are written out (for evaluations saved by older versions)."""
    m = _RANGE.match(label.strip())
    if m:
        return f"{number(float(m.group(1)))}–{number(float(m.group(2)))}"
    return _EXPONENT.sub(lambda x: number(float(x.group(0))), label)
