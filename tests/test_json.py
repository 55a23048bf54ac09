"""``lookalike._json``: the one conversion of results to plain JSON (evaluate, audit, report)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from lookalike._json import JsonMixin, plain


class Colour(Enum):
    RED = "red"


class Size(StrEnum):
    BIG = "big"


@dataclass(frozen=True)
class Point(JsonMixin):
    one_way: float
    tags: tuple[str, ...] = ()
    _json_names: ClassVar[dict[str, str]] = {"one_way": "1way"}


@dataclass(frozen=True)
class Bare:
    x: np.int64


class WithToDict:
    def to_dict(self):
        return {"v": np.float32(0.5)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(0.25), 0.25),
        (np.int32(3), 3),
        (np.bool_(True), True),
        (float("nan"), None),
        (-math.inf, None),
        (np.float32("inf"), None),
        ((1, [2, np.int8(3)]), [1, [2, 3]]),
        (np.array([[1.5, np.nan]]), [[1.5, None]]),
        (frozenset({"a"}), ["a"]),
        ({1: "x", "b": None}, {"1": "x", "b": None}),
        (Colour.RED, "red"),
        (Size.BIG, "big"),  # a str subclass, still turned into a plain str
        (np.str_("x"), "x"),
        (Path("out") / "r.html", str(Path("out") / "r.html")),
        (datetime(2024, 1, 2, 3, 4), "2024-01-02 03:04:00"),
        (date(2024, 1, 2), "2024-01-02"),
        (pd.Timestamp("2024-01-02"), "2024-01-02 00:00:00"),
        (Point(np.float64(0.5), ("a",)), {"1way": 0.5, "tags": ["a"]}),
        (Bare(np.int64(4)), {"x": 4}),
        (WithToDict(), {"v": 0.5}),
        (object, repr(object)),
    ],
)
def test_plain(value, expected):
    out = plain(value)
    assert out == expected and type(out) is type(expected)
    json.dumps(out, allow_nan=False)  # always serialisable, strictly


def test_mixin_to_dict_renames_and_converts():
    assert Point(float("nan")).to_dict() == {"1way": None, "tags": []}


def test_results_share_the_one_implementation():
    from lookalike.evaluate import result
    from lookalike.report import _privacy, _report

    assert result.plain is plain and _report.plain is plain and _privacy.plain is plain
    assert issubclass(result.Evaluation, JsonMixin)
