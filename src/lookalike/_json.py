"""Plain JSON values from results: one conversion shared by evaluate, audit and report.

:func:`plain` turns dataclasses, NumPy numbers and arrays, enums, paths and dates into the
types ``json.dumps`` writes, with NaN and infinities as ``None`` (strict JSON has no NaN).
:class:`JsonMixin` gives a frozen dataclass a ``to_dict`` built on it.

>>> import numpy as np
>>> plain({"a": np.float64(0.5), "b": (np.int64(1), float("nan")), 2: np.bool_(True)})
{'a': 0.5, 'b': [1, None], '2': True}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any, ClassVar

import numpy as np

__all__ = ["JsonMixin", "dataclass_dict", "plain"]


def plain(obj: Any) -> Any:
    """``obj`` as plain JSON types: dataclasses and ``to_dict()`` objects to dicts, arrays,
    tuples and sets to lists, NumPy scalars to Python ones, NaN/inf to None, paths and dates to
    text; anything else to its ``repr`` (so the result always serialises).
    """
    if isinstance(obj, Enum):  # first: a StrEnum is a str, an IntEnum an int
        return plain(obj.value)
    if obj is None:
        return None
    if isinstance(obj, str):
        return str(obj)  # numpy.str_ and other subclasses too
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset, np.ndarray)):
        return [plain(v) for v in obj]
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (datetime, date, np.datetime64)):
        return str(obj)
    if callable(getattr(obj, "to_dict", None)):
        return plain(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclass_dict(obj)
    return repr(obj)


def dataclass_dict(obj: Any) -> dict:
    """A dataclass's fields as plain JSON, renamed by its ``_json_names`` (field → key)."""
    names = getattr(obj, "_json_names", {})
    return {names.get(f.name, f.name): plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


class JsonMixin:
    """Mixin for frozen dataclasses: ``to_dict`` through :func:`plain`, keys renamed by
    ``_json_names`` (e.g. ``{"one_way": "1way"}``)."""

    _json_names: ClassVar[dict[str, str]] = {}

    def to_dict(self) -> dict:
        return dataclass_dict(self)
