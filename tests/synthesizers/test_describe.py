"""Every synthesizer documents itself, and its documentation cannot drift from its code.

The hyper-parameters ``lookalike synthesizers NAME`` and :func:`lookalike.describe_synthesizer`
show are parsed from the class docstrings (numpy style, rendered by mkdocstrings too). Here:
each constructor parameter of each registered synthesizer is documented, in order, with a
meaning, its real default and a range; nothing documented is missing from the constructor; and
the stated range is the constructor's validation: values at and around each edge of the range,
and of wrong types, pass the validation exactly when the range contains them, and the ones
outside are refused by ``fit`` with a ConfigError naming the parameter before it reads a row.
"""

from __future__ import annotations

import inspect
import math

import pandas as pd
import pytest

import lookalike
from lookalike.errors import ConfigError
from lookalike.synthesizers.base import REGISTRY
from lookalike.synthesizers.describe import document, parse_range

NAMES = sorted(REGISTRY)
TINY = pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "x", "y"]})


def constructor_params(name: str) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(REGISTRY[name].__init__).parameters
    return {k: p for k, p in sig.items() if k != "self"}


def test_registry_is_what_available_lists():
    assert NAMES == lookalike.available()


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_is_documented_and_nothing_else(name):
    doc = lookalike.describe_synthesizer(name)
    params = constructor_params(name)
    assert [p.name for p in doc.params] == list(params), "documented in constructor order"
    for p in doc.params:
        assert p.meaning and p.valid and p.type, (name, p.name)
        assert p.default == params[p.name].default, (name, p.name)
        if p.default is None:
            assert p.none_means, f"{name}.{p.name}: say what None means"
        defaults = {k: v.default for k, v in params.items()}
        assert p.range.contains(p.default, defaults), f"{name}.{p.name}: default outside its range"


@pytest.mark.parametrize("name", NAMES)
def test_description_says_what_and_whether_dp(name):
    doc = lookalike.describe_synthesizer(name)
    assert "\n" not in doc.summary and len(doc.summary) < 110, doc.summary
    assert len(doc.description) > 200, "one paragraph: what, DP or not, when to pick, cost"
    assert "differential" in doc.description, "say whether it is differentially private"
    assert doc.supports_dp == REGISTRY[name].supports_dp


def _probe_id(value) -> str:
    return repr(value)[:30]


def _cases():
    for name in NAMES:
        doc = document(REGISTRY[name])
        defaults = {k: v.default for k, v in constructor_params(name).items()}
        for p in doc.params:
            seen = []
            for value in p.range.probes(defaults):
                key = (type(value), repr(value))
                if key not in seen:
                    seen.append(key)
                    yield pytest.param(name, p.name, value, p.range.contains(value, defaults),
                                       id=f"{name}.{p.name}={_probe_id(value)}")


CASES = list(_cases())


def test_probes_cover_both_sides_of_every_range():
    sides: dict[tuple[str, str], set[bool]] = {}
    for case in CASES:
        name, param, _, inside = case.values
        sides.setdefault((name, param), set()).add(inside)
    assert all(s == {True, False} for s in sides.values())
    assert sum(len(constructor_params(n)) for n in NAMES) == len(sides)


@pytest.mark.parametrize(("name", "param", "value", "inside"), CASES)
def test_stated_range_is_the_validation(name, param, value, inside):
    if inside:  # the validation accepts it (what a fit checks before reading any data)
        lookalike.get_synthesizer(name, **{param: value})._check_params()
    else:
        with pytest.raises(ConfigError, match=param):
            lookalike.get_synthesizer(name, **{param: value}).fit(TINY, seed=0)


def test_range_grammar():
    r = parse_range("number in (0, 1], or None; a note")
    assert (r.text, r.note) == ("number in (0, 1], or None", "a note")
    assert [r.contains(v) for v in (0, 0.5, 1, 1.5, None, math.nan, True)] == [
        False, True, True, False, True, False, False]
    r = parse_range("integer >= 1 and a multiple of pac, or None")
    assert [r.contains(v, {"pac": 10}) for v in (10, 30, 15, 0, None)] == [True, True, False, False, True]
    r = parse_range("'auto', 'cpu', 'cuda' or 'cuda:N'")
    assert [r.contains(v) for v in ("cuda:3", "cuda", "cuda:", "gpu")] == [True, True, False, False]
    r = parse_range("three numbers > 0")
    assert r.contains([1, 2, 3]) and not r.contains((1, 2)) and not r.contains((0, 1, 1))
    with pytest.raises(ValueError, match="cannot read"):
        parse_range("a positive integer")


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown synthesizer 'mts' \(did you mean 'mst'\?\).*'aim'"):
        lookalike.describe_synthesizer("mts")


def test_unknown_parameter_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"did you mean 'epochs'"):
        lookalike.describe_synthesizer("tvae").param("epoch")


def test_text_is_what_help_and_the_command_show():
    doc = lookalike.describe_synthesizer("tvae")
    text = str(doc)
    assert text.splitlines()[0].startswith("tvae (TVAE): ")
    assert "epochs : int or None, default None" in text
    assert "None: 300 at any row count" in " ".join(text.split())
    assert "--param" in text


def test_docstrings_parse_cleanly_for_the_api_reference():
    """mkdocstrings renders the same docstrings with griffe's numpy parser: no warnings, and it
    finds the same parameters with the same defaults."""
    griffe = pytest.importorskip("griffe")
    import logging

    for name in NAMES:
        cls = REGISTRY[name]
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append  # type: ignore[method-assign]
        logger = logging.getLogger("griffe")
        logger.addHandler(handler)
        try:
            sections = griffe.Docstring(inspect.cleandoc(cls.__doc__)).parse("numpy")
        finally:
            logger.removeHandler(handler)
        assert not [r.getMessage() for r in records if r.levelno >= logging.WARNING], name
        found = [s for s in sections if s.kind.value == "parameters"]
        assert len(found) == 1, name
        assert [p.name for p in found[0].value] == list(constructor_params(name)), name
