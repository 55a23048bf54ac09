"""What each synthesizer is and what its hyper-parameters mean, read from its class docstring.

One source of truth: every registered synthesizer class documents itself in numpy style (the
same text the API reference renders), and :func:`describe_synthesizer` parses it for
``lookalike synthesizers NAME`` and for the API. The class docstring is laid out as::

    One-line summary (what the table of synthesizers shows).

    One paragraph: what it models, whether it is differentially private, when to pick it,
    what it costs.

    Parameters
    ----------
    epochs : int or None, default None
        What the parameter does.
        None: what a None default means concretely (the rule the code applies).
        Range: integer >= 1, or None.

    Notes
    -----
    Measurements and background (not shown by the command).

``Range:`` is written in a small grammar that is both readable and checkable: alternatives
separated by commas or "or", each one of ``None``, ``True``, ``False``, a quoted text or an
integer literal, ``integer >= A`` (optionally ``and a multiple of NAME``), ``integer in [A, B]``,
``number > A``, ``number >= A``, ``number in (A, B)`` (brackets say which ends are included),
``tuple of integers >= A``, ``three numbers > A`` (a fixed count), ``list of column names``, and
``'cuda:N'`` (a GPU index). Text after a top-level ";" is a note for people. The tests check,
for every parameter of every registered synthesizer, that values inside the stated range pass
the constructor's validation and values outside it are refused with a
:class:`~lookalike.errors.ConfigError`, so the documentation and the code cannot drift apart.

>>> doc = describe_synthesizer("cart")
>>> doc.param("min_samples_leaf").valid
'integer >= 1'
>>> doc.param("min_samples_leaf").default
5
"""

from __future__ import annotations

import ast
import difflib
import inspect
import math
import re
import textwrap
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from lookalike.errors import ConfigError

if TYPE_CHECKING:
    from lookalike.synthesizers.base import Synthesizer

__all__ = ["ParamDoc", "SynthesizerDoc", "ValidRange", "describe_synthesizer", "parse_range"]

_NUM = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"
_COUNTS = {"two": 2, "three": 3, "four": 4}


# ----------------------------------------------------------------------------- ranges
@dataclass(frozen=True)
class _Literal:
    value: Any

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        return type(v) is type(self.value) and v == self.value

    def probes(self, params: dict[str, Any]) -> list[Any]:
        if isinstance(self.value, str):
            return [self.value, self.value.upper(), "nonsense"]
        if isinstance(self.value, bool) or self.value is None:
            return [self.value]
        return [self.value, self.value - 1, self.value + 1, float(self.value) + 0.5]


@dataclass(frozen=True)
class _Integer:
    low: int
    high: int | None = None
    multiple_of: str | None = None

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        if isinstance(v, bool) or not isinstance(v, Integral):
            return False
        x = int(v)
        if x < self.low or (self.high is not None and x > self.high):
            return False
        return not (self.multiple_of and x % params[self.multiple_of])

    def probes(self, params: dict[str, Any]) -> list[Any]:
        lo = self.low
        out: list[Any] = [lo - 1, lo, lo + 1, lo + 1000, lo + 0.5, float(lo), True, "x", [lo]]
        if self.high is not None:
            out += [self.high, self.high + 1]
        if self.multiple_of:
            m = params[self.multiple_of]
            out += [m, 2 * m, m + 1]
        return out


@dataclass(frozen=True)
class _Number:
    low: float | None
    high: float | None
    low_open: bool
    high_open: bool

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(float(v)):
            return False
        x = float(v)
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return not (self.high is not None and (x >= self.high if self.high_open else x > self.high))

    def probes(self, params: dict[str, Any]) -> list[Any]:
        lo, hi = self.low, self.high
        span = (hi - lo) if lo is not None and hi is not None else max(1.0, abs(lo or 0.0))
        d = span * 1e-3
        out: list[Any] = [True, "x", float("nan"), float("inf"), -float("inf")]
        for edge in (lo, hi):
            if edge is not None:
                out += [edge, edge - d, edge + d, int(edge) if float(edge).is_integer() else edge]
        if lo is not None and hi is not None:
            out.append((lo + hi) / 2)
        elif lo is not None:
            out += [lo + 1, lo + 1e6]
        return out


@dataclass(frozen=True)
class _Widths:
    """A non-empty tuple (or list) of integers >= low: hidden layer widths."""

    low: int

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        return isinstance(v, (list, tuple)) and len(v) > 0 and all(
            _Integer(self.low).contains(x, params) for x in v)

    def probes(self, params: dict[str, Any]) -> list[Any]:
        lo = self.low
        return [(lo,), (lo, lo + 63), [lo + 7, lo], (), (lo - 1,), (lo, 1.5), (lo, True), lo, "x"]


@dataclass(frozen=True)
class _Shares:
    """Exactly ``count`` finite numbers > low (budget shares)."""

    count: int
    low: float

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        num = _Number(self.low, None, True, False)
        return isinstance(v, (list, tuple)) and len(v) == self.count and all(
            num.contains(x, params) for x in v)

    def probes(self, params: dict[str, Any]) -> list[Any]:
        k, lo = self.count, self.low
        ones = [lo + 1.0] * k
        return [tuple(ones), ones, tuple(ones[:-1]), tuple(ones + [1.0]), (lo, *ones[1:]),
                (lo - 1, *ones[1:]), ("x", *ones[1:]), (float("inf"), *ones[1:]), lo + 1, "x"]


@dataclass(frozen=True)
class _Columns:
    """Column names (whether they are the table's is checked when fitting, against its schema)."""

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        return isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)

    def probes(self, params: dict[str, Any]) -> list[Any]:
        return [["a", "b"], [], "a", [1], 5]


@dataclass(frozen=True)
class _GpuIndex:
    """``'cuda:N'`` with N a GPU index (whether that GPU exists is checked when fitting)."""

    def contains(self, v: Any, params: dict[str, Any]) -> bool:
        return isinstance(v, str) and re.fullmatch(r"cuda:\d+", v) is not None

    def probes(self, params: dict[str, Any]) -> list[Any]:
        return ["cuda:0", "cuda:12", "cuda:", "cuda:x", "gpu", 0]


_Alternative = _Literal | _Integer | _Number | _Widths | _Shares | _Columns | _GpuIndex


@dataclass(frozen=True)
class ValidRange:
    """The values a hyper-parameter accepts, parsed from its ``Range:`` line.

    ``text`` is the range as written; ``note`` the explanation after a ";" (or "").

    >>> r = parse_range("integer >= 1, or None")
    >>> r.contains(3), r.contains(None), r.contains(0), r.contains(2.5), r.contains(True)
    (True, True, False, False, False)
    """

    text: str
    note: str
    alternatives: tuple[_Alternative, ...]

    def contains(self, value: Any, params: dict[str, Any] | None = None) -> bool:
        """Whether ``value`` lies in the range; ``params`` holds the other hyper-parameters,
        needed when the range names one ("integer >= 1 and a multiple of pac")."""
        return any(alt.contains(value, params or {}) for alt in self.alternatives)

    def probes(self, params: dict[str, Any]) -> list[Any]:
        """Values at and around every edge of the range, and of the wrong type: what a test
        of the validation tries (each is inside or outside, by :meth:`contains`)."""
        out: list[Any] = []
        for alt in self.alternatives:
            out += alt.probes(params)
        out += [None, {"a": 1}]
        return out


def _split_top(text: str) -> list[str]:
    """Split on commas and the word "or" outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, False, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        if not quote and depth == 0:
            if ch == ",":
                parts.append(cur)
                cur = ""
                i += 1
                continue
            if text.startswith(" or ", i):
                parts.append(cur)
                cur = ""
                i += 4
                continue
        cur += ch
        i += 1
    parts.append(cur)
    return [p.strip().removeprefix("or ").strip() for p in parts if p.strip()]


def _alternative(token: str) -> _Alternative:
    if token == "'cuda:N'":
        return _GpuIndex()
    if re.fullmatch(rf"None|True|False|'[^']*'|{_NUM}", token):
        return _Literal(ast.literal_eval(token))
    if m := re.fullmatch(rf"integer (>=|>) ({_NUM})(?: and a multiple of (\w+))?", token):
        low = int(m[2]) + (m[1] == ">")
        return _Integer(low, None, m[3])
    if m := re.fullmatch(rf"integer in \[({_NUM}), ({_NUM})\]", token):
        return _Integer(int(m[1]), int(m[2]))
    if m := re.fullmatch(rf"number (>=|>) ({_NUM})", token):
        return _Number(float(m[2]), None, m[1] == ">", False)
    if m := re.fullmatch(rf"number in ([\[(])({_NUM}), ({_NUM})([\])])", token):
        return _Number(float(m[2]), float(m[3]), m[1] == "(", m[4] == ")")
    if m := re.fullmatch(rf"tuple of integers >= ({_NUM})", token):
        return _Widths(int(m[1]))
    if m := re.fullmatch(rf"({'|'.join(_COUNTS)}) numbers > ({_NUM})", token):
        return _Shares(_COUNTS[m[1]], float(m[2]))
    if token == "list of column names":
        return _Columns()
    raise ValueError(f"cannot read the range alternative {token!r}")


def parse_range(text: str) -> ValidRange:
    """Parse a ``Range:`` line (see the module docstring for its grammar)."""
    text = " ".join(text.split()).rstrip(".")
    head, _, note = text.partition(";")
    return ValidRange(text=head.strip(), note=note.strip(),
                      alternatives=tuple(_alternative(t) for t in _split_top(head)))


# ----------------------------------------------------------------------------- docs
@dataclass(frozen=True)
class ParamDoc:
    """One hyper-parameter: its name, type, default (the constructor's), meaning, what a None
    default stands for, and its valid range (``valid`` as written, ``range`` parsed)."""

    name: str
    type: str
    default: Any
    default_text: str
    meaning: str
    none_means: str
    valid: str
    range: ValidRange

    def text(self, width: int = 88) -> str:
        """The parameter as ``lookalike synthesizers NAME`` prints it."""
        head = f"{self.name} : {self.type}, default {self.default_text}"
        body = [self.meaning]
        if self.none_means:
            body.append(f"None: {self.none_means}")
        body.append(f"Range: {self.valid}" + (f"; {self.range.note}" if self.range.note else ""))
        lines = [head]
        for para in body:
            lines += textwrap.wrap(para, width=width, initial_indent="    ", subsequent_indent="    ")
        return "\n".join(lines)


@dataclass(frozen=True)
class SynthesizerDoc:
    """A synthesizer family: ``name``, one-line ``summary``, the ``description`` paragraph
    (what it models, DP or not, when to pick it, its cost), whether it has a differentially
    private form (``supports_dp``) and its hyper-parameters in constructor order.

    ``str()`` gives the text ``lookalike synthesizers NAME`` prints.
    """

    name: str
    class_name: str
    summary: str
    description: str
    supports_dp: bool
    params: tuple[ParamDoc, ...]

    def param(self, name: str) -> ParamDoc:
        """The hyper-parameter ``name`` (ConfigError with the valid names if there is none)."""
        for p in self.params:
            if p.name == name:
                return p
        names = [p.name for p in self.params]
        raise ConfigError(f"synthesizer {self.name!r} has no hyper-parameter {name!r}"
                          f"{_did_you_mean(name, names)}; its hyper-parameters are {names}")

    def text(self, width: int = 88) -> str:
        """The synthesizer and each hyper-parameter, wrapped at ``width`` characters."""
        dp = ("differentially private with --epsilon (otherwise a non-DP fit)" if self.supports_dp
              else "not differentially private")
        lines = [f"{self.name} ({self.class_name}): {self.summary}", f"DP: {dp}", ""]
        lines += textwrap.wrap(self.description, width=width)
        lines.append("")
        example = next((p for p in self.params if p.default is not None), None)
        how = ("Hyper-parameters: pass each as --param NAME=VALUE on the command line (VALUE "
               "read as JSON: null for None, [64, 64] for a tuple)")
        if example is not None:
            how += (f", e.g. --param {example.name}={_json(example.default)}, or as "
                    f"lookalike.get_synthesizer({self.name!r}, {example.name}={example.default!r})")
        lines += textwrap.wrap(how + ".", width=width)
        for p in self.params:
            lines += ["", p.text(width)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def describe_synthesizer(name: str) -> SynthesizerDoc:
    """What synthesizer ``name`` models and each of its hyper-parameters (meaning, default,
    what a None default means, valid range), from its class docstring.

    An unknown name raises :class:`~lookalike.errors.ConfigError` naming the closest valid
    name and all of them.

    >>> doc = describe_synthesizer("mst")
    >>> doc.supports_dp, doc.param("engine").range.contains("duckdb")
    (True, True)
    """
    from lookalike.synthesizers.base import REGISTRY, available

    if name not in REGISTRY:
        raise ConfigError(f"unknown synthesizer {name!r}{_did_you_mean(name, available())}; "
                          f"choose one of {available()}")
    return document(REGISTRY[name])


def document(cls: type[Synthesizer]) -> SynthesizerDoc:
    """Parse ``cls``'s docstring into a :class:`SynthesizerDoc`; ValueError names what is
    malformed (the tests run it on every registered class)."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    intro, sections = _sections(doc)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", intro) if p.strip()]
    if len(paragraphs) < 2:
        raise ValueError(f"{cls.__name__}: the docstring needs a one-line summary and a "
                         "description paragraph before its sections")
    signature = inspect.signature(cls.__init__).parameters
    params = tuple(_param(cls.__name__, entry, signature)
                   for entry in _items(sections.get("Parameters", "")))
    return SynthesizerDoc(name=cls.name, class_name=cls.__name__, summary=_plain(paragraphs[0]),
                          description=_plain(" ".join(paragraphs[1:])),
                          supports_dp=bool(cls.supports_dp),
                          params=params)


def _sections(doc: str) -> tuple[str, dict[str, str]]:
    """The text before the first numpy section, and each section's body by its title."""
    lines = doc.splitlines()
    heads = [i for i in range(len(lines) - 1)
             if lines[i].strip() and set(lines[i + 1].strip()) == {"-"}
             and len(lines[i + 1].strip()) == len(lines[i].strip())]
    intro = "\n".join(lines[: heads[0]] if heads else lines)
    sections = {}
    for k, i in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(lines)
        sections[lines[i].strip()] = "\n".join(lines[i + 2: end])
    return intro, sections


def _items(body: str) -> list[list[str]]:
    """The entries of a Parameters section: a header line at column 0, indented lines after."""
    items: list[list[str]] = []
    for line in body.splitlines():
        if line and not line[0].isspace():
            items.append([line])
        elif line.strip() and items:
            items[-1].append(line.strip())
    return items


def _param(owner: str, entry: list[str], signature: Any) -> ParamDoc:
    m = re.fullmatch(r"(\w+) : (.+), default (.+)", entry[0].strip())
    if not m:
        raise ValueError(f"{owner}: parameter line {entry[0]!r} is not 'name : type, default VALUE'")
    name, type_text, default_text = m[1], m[2], m[3]
    if name not in signature:
        raise ValueError(f"{owner}: documented parameter {name!r} is not a constructor parameter")
    default = signature[name].default
    try:
        stated = ast.literal_eval(default_text)
    except (ValueError, SyntaxError):
        raise ValueError(f"{owner}.{name}: default {default_text!r} is not a Python literal") from None
    if stated != default or type(stated) is not type(default):
        raise ValueError(f"{owner}.{name}: documented default {default_text} but the constructor's "
                         f"is {default!r}")
    fields: dict[str, list[str]] = {"meaning": [], "None": [], "Range": []}
    current = "meaning"
    for line in entry[1:]:
        for key in ("None", "Range"):
            if line.startswith(f"{key}:"):
                current, line = key, line[len(key) + 1:].strip()
        fields[current].append(line)
    meaning, none_means, valid = (_plain(" ".join(fields[k]).strip())
                                  for k in ("meaning", "None", "Range"))
    if not meaning or not valid:
        raise ValueError(f"{owner}.{name}: the entry needs a meaning and a 'Range:' line")
    if default is None and not none_means:
        raise ValueError(f"{owner}.{name}: the default is None: say what it means ('None: ...')")
    try:
        parsed = parse_range(valid)
    except ValueError as e:
        raise ValueError(f"{owner}.{name}: {e}") from None
    return ParamDoc(name=name, type=type_text, default=default, default_text=default_text,
                    meaning=meaning, none_means=none_means, valid=parsed.text, range=parsed)


def _plain(text: str) -> str:
    """reStructuredText markup as plain text for a terminal: ``x`` and :func:`~a.b.x` as `x`."""
    text = re.sub(r":(?:func|meth|class|mod|attr|data):`~?([\w.]+)`",
                  lambda m: f"`{m[1].rsplit('.', 1)[-1]}`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def _did_you_mean(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _json(value: Any) -> str:
    import json

    return json.dumps(list(value) if isinstance(value, tuple) else value)
