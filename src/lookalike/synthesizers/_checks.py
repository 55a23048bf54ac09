"""Validation of hyper-parameters, one message style: the option, the range, the value given.

Each synthesizer's ``_check_params`` uses these so that what it accepts is exactly the range its
docstring states (``Range:`` lines, :mod:`lookalike.synthesizers.describe`; the tests hold the
two together). Booleans are refused where numbers are meant (``True`` is an int in Python but
``--param epochs=true`` is a mistake), and so are NaN and infinities.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

from lookalike.errors import ConfigError

__all__ = ["check_choice", "check_device", "check_int", "check_number", "check_widths", "is_int", "widths"]


def is_int(value: Any) -> bool:
    """An integer, not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: int, high: int | None = None, *, none: bool = False,
              what: str = "") -> None:
    """``value`` is an integer in ``[low, high]`` (or None when ``none``); ``what`` is said
    after the name, e.g. " (parents per column)"."""
    if none and value is None:
        return
    if not is_int(value) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ConfigError(f"{name}{what} must be an integer {bound}{', or None' if none else ''}, "
                          f"got {value!r}")


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False, none: bool = False) -> None:
    """``value`` is a finite number within the bounds (open or closed), or None when ``none``."""
    if none and value is None:
        return
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            bound = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            bound = f"{'>' if low_open else '>='} {low:g}"
        else:
            bound = f"{'<' if high_open else '<='} {high:g}"
        raise ConfigError(f"{name} must be a finite number {bound}{', or None' if none else ''}, "
                          f"got {value!r}")


def check_widths(name: str, value: Any) -> None:
    """Hidden layer widths: a non-empty tuple or list of integers >= 1 (``[256, 256]``)."""
    if not isinstance(value, (list, tuple)) or not value or not all(is_int(w) and w >= 1 for w in value):
        raise ConfigError(f"{name} must be a non-empty list of layer widths, integers >= 1 "
                          f"(e.g. [256, 256]), got {value!r}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """``value`` is one of ``choices`` (compared with their type: True is not 1)."""
    options = list(choices)
    if not any(type(value) is type(c) and value == c for c in options):
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")


def check_device(name: str, value: Any) -> None:
    """A PyTorch device name lookalike can use: 'auto', 'cpu', 'cuda' or 'cuda:N' (whether
    that GPU exists is checked when fitting, where PyTorch is loaded)."""
    if not isinstance(value, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", value):
        raise ConfigError(f"{name} must be 'auto', 'cpu', 'cuda' or 'cuda:N' (N a GPU index), "
                          f"got {value!r}")


def widths(value: Any) -> Any:
    """Layer widths as a tuple (a model file gives lists back); anything else as given, for
    :func:`check_widths` to refuse with a clear message when fitting."""
    return tuple(value) if isinstance(value, (list, tuple)) else value
