"""Conditions for sampling: values, missing values, ranges and per-row condition tables.

A condition fixes what synthetic rows hold in some columns; the other columns follow the
model's conditional distribution given them. Three forms:

* **expressions** (CLI ``--condition``, API ``conditions=["age>=30", "sex=Female"]``):
  ``COLUMN=VALUE`` (``VALUE`` may be a JSON list: any of its values), ``COLUMN=null`` (a
  missing value; the empty value and ``NA``, ``N/A``, ``n/a``, ``NULL``, ``None``, ``#N/A``, the
  spellings the readers take for missing, work too), ``COLUMN>=V``, ``COLUMN>V``,
  ``COLUMN<=V``, ``COLUMN<V`` and ``LOW<=COLUMN<HIGH`` on numeric and datetime columns (dates
  as ISO text, ``dob<2000-01-01``); conditions on several columns all hold (AND), two on one
  column both hold;
* a **mapping** ``{column: value}``: a value, a list of values (any of them), ``None`` (missing)
  or, on a numeric or datetime column, a comparison as text (``{"age": ">=30"}``);
* a **table** (a DataFrame, CLI ``--conditions file.csv``): one synthetic row per row of the
  table, in order, each with the values its row gives (a cell in any form a mapping value
  takes; an empty cell leaves that column free; a missing-value spelling asks for a missing
  value).

Every condition is checked against the model's schema before anything is drawn: an unknown
column, a value outside the column's categories or bounds, a range on a categorical column
or conditions no value can meet fail at once, naming the column and the fix.

Conditioning is post-processing of the released model: it reads no data, so it costs no
privacy budget and keeps a DP model's guarantee whatever the conditions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import ConditionError
from lookalike.schema import Column, Kind, Schema
from lookalike.transform.encoder import ColumnCodec, from_numbers, to_numbers

__all__ = ["Condition", "ConditionPlan", "MISSING_SPELLINGS", "plan_conditions", "parse_expression",
           "check_expressions", "precheck", "read_condition_table", "code_weights", "decode_conditioned",
           "describe"]

#: the spellings of a missing value in conditions: the ones the CSV reader takes for missing
#: (:data:`lookalike.io.NA_TOKENS`) and the empty value
MISSING_SPELLINGS = ("", "NA", "N/A", "n/a", "NULL", "null", "None", "#N/A")

_OPERATORS = ("<=", ">=", "==", "<", ">", "=")
_FORMS = "COLUMN=VALUE, COLUMN=null, COLUMN>=VALUE (also >, <=, <) or LOW<=COLUMN<HIGH"


@dataclass(frozen=True)
class Condition:
    """What one column may hold: listed ``values`` (labels, or numbers in the column's unit)
    or, when ``values`` is None, any number in the interval from ``low`` to ``high``; a missing
    value too when ``missing``.

    >>> c = Condition(low=30, high=40, high_open=True)
    >>> c.allows_numbers(np.array([29, 30, 39.5, 40, np.nan])).tolist()
    [False, True, True, False, False]
    """

    values: frozenset | None = None
    missing: bool = False
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    @property
    def is_range(self) -> bool:
        return self.values is None

    @property
    def empty(self) -> bool:
        if self.missing:
            return False
        if self.values is not None:
            return not self.values
        return self.low > self.high or (self.low == self.high and (self.low_open or self.high_open))

    def in_range(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(invalid="ignore"):
            above = x > self.low if self.low_open else x >= self.low
            below = x < self.high if self.high_open else x <= self.high
        return above & below

    def allows_numbers(self, x: np.ndarray) -> np.ndarray:
        """Which numbers (NaN: missing) the condition allows."""
        x = np.asarray(x, dtype=float)
        nan = np.isnan(x)
        if self.values is None:
            ok = self.in_range(x) & ~nan
        else:
            ok = np.isin(x, np.fromiter(self.values, float, len(self.values)))
        return ok | (nan & self.missing)

    def allows_labels(self, s: pd.Series) -> np.ndarray:
        """Which labels (categories, booleans; missing as NA) the condition allows."""
        na = s.isna().to_numpy(dtype=bool)
        ok = s.isin(list(self.values or ())).to_numpy(dtype=bool) & ~na
        return ok | (na & self.missing)

    def __and__(self, other: Condition) -> Condition:
        """Both conditions at once (two conditions on one column)."""
        missing = self.missing and other.missing
        if self.values is None and other.values is None:
            # on equal bounds the open one is the stricter
            low, low_open = max((self.low, self.low_open), (other.low, other.low_open))
            high, closed = min((self.high, not self.high_open), (other.high, not other.high_open))
            return Condition(None, missing, low, high, low_open, not closed)
        listed, rest = (self, other) if self.values is not None else (other, self)
        keep: frozenset = listed.values or frozenset()
        if rest.values is None:  # listed numbers inside the other's range
            keep = frozenset(v for v in keep if bool(rest.in_range(np.array([float(v)]))[0]))
        else:
            keep = keep & rest.values
        return Condition(keep, missing)


Conditions = dict[str, Condition]


@dataclass(frozen=True)
class ConditionPlan:
    """Conditions resolved against a schema: one group per distinct set of conditions, with the
    number of rows to draw under it and (for a table) the output positions of those rows."""

    groups: tuple[tuple[Conditions, int, np.ndarray | None], ...] = field(default=())
    n_rows: int | None = None  # rows the conditions fix (a table: its length); None: the caller's n

    @property
    def per_row(self) -> bool:
        return self.n_rows is not None


def describe(conds: Conditions, schema: Schema) -> str:
    """The conditions as text, e.g. ``age >= 30 and < 40, workclass = null``."""
    return ", ".join(_describe_one(schema[name], c) for name, c in conds.items())


def _show(col: Column, v: Any) -> str:
    """One value as the user would write it (dates as dates, whole numbers without .0)."""
    if col.kind is Kind.DATETIME and isinstance(v, (int, float, np.number)):
        stamp = from_numbers(np.array([float(v)]), col).iloc[0]
        return str(stamp.date()) if col.unit == "D" else str(stamp)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _describe_one(col: Column, c: Condition) -> str:
    if c.values is not None:
        parts = [_show(col, v) for v in sorted(c.values, key=str)] + (["null"] if c.missing else [])
        return f"{col.name} = {' or '.join(parts)}"
    bounds = []
    if c.low > -math.inf:
        bounds.append(f"{'>' if c.low_open else '>='} {_show(col, c.low)}")
    if c.high < math.inf:
        bounds.append(f"{'<' if c.high_open else '<='} {_show(col, c.high)}")
    text = " and ".join(bounds) or "any value"
    return f"{col.name} {text}{' or null' if c.missing else ''}"


# ----------------------------------------------------------------------------------- parsing
def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() in MISSING_SPELLINGS


def parse_expression(text: str, columns: Sequence[str], option: str = "conditions") -> tuple[str, str, Any]:
    """``(column, operator, value)`` of one expression; a two-sided range ``LOW<=COLUMN<HIGH``
    gives ``(column, "range", (low_op, low, high_op, high))``. Only the syntax and the column
    name are checked here (no schema needed: the CLI checks them before a fit).
    """
    if not isinstance(text, str):
        raise ConditionError(f"{option}: expected text like {_FORMS}, got {text!r}")
    known = set(columns)
    m = re.search(r"[<>=]", text)
    if m:
        left = text[: m.start()].strip()
        if left in known:
            rest = text[m.start():]
            op = next(o for o in _OPERATORS if rest.startswith(o))
            return left, "=" if op == "==" else op, rest[len(op):].strip()
        two = re.fullmatch(r"\s*(.+?)\s*(<=|<|>=|>)\s*(.+?)\s*(<=|<|>=|>)\s*(.+?)\s*", text)
        if two and two.group(3) in known:
            lo, op1, name, op2, hi = two.groups()
            if (op1[0] == "<") != (op2[0] == "<"):
                raise ConditionError(
                    f"{option} {text!r}: a two-sided range takes < or <= on both sides "
                    f"(e.g. 30<={name}<40)"
                )
            if op1[0] == ">":  # 40>age>=30: the same range written downwards
                lo, op1, op2, hi = hi, op2.replace(">", "<"), op1.replace(">", "<"), lo
            return name, "range", (op1, lo, op2, hi)
        raise ConditionError(
            f"condition on unknown column {left!r} ({option} {text!r}; write {_FORMS}); "
            f"columns: {list(columns)}"
        )
    raise ConditionError(f"{option} expects {_FORMS}, got {text!r} (COLUMN=VALUE)")


def check_expressions(items: Sequence[str], columns: Sequence[str], option: str = "--condition") -> None:
    """Check the syntax and column of each expression (before a fit: no schema needed)."""
    for item in items:
        parse_expression(item, columns, option)


def _number(col: Column, raw: Any, option: str) -> float:
    """One value of a numeric or datetime column as a number in the column's unit."""
    try:
        if col.kind is Kind.DATETIME:
            if isinstance(raw, str):
                ts = pd.to_datetime(raw.strip(), format="ISO8601", errors="coerce")
                if pd.isna(ts) and col.format:
                    ts = pd.to_datetime(raw.strip(), format=col.format, errors="coerce")
                raw = ts
            x = float(to_numbers(pd.Series([raw]), col)[0])
        else:
            if isinstance(raw, bool):
                raise ValueError
            x = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError, OverflowError):
        x = math.nan
    if math.isnan(x) or math.isinf(x):
        example = "2000-01-31" if col.kind is Kind.DATETIME else "42"
        raise ConditionError(
            f"condition on {col.name!r}: {[raw]} are not {col.kind.value} values "
            f"({option}; write a value like {example})"
        )
    if col.kind is Kind.INTEGER and not x.is_integer():
        raise ConditionError(
            f"condition on {col.name!r}: {raw!r} is not a whole number, and {col.name!r} is an "
            f"integer column ({option}; give a whole number, or a range such as "
            f"{col.name}>={math.floor(x)})"
        )
    return x


def _label(col: Column, raw: Any, option: str) -> Any:
    """One value of a categorical or boolean column, as the model's label."""
    if col.kind is Kind.BOOLEAN:
        if isinstance(raw, (bool, np.bool_)):
            return bool(raw)
        lookup = {str(t).lower(): i == 1 for i, t in enumerate(col.categories or (False, True))}
        lookup.update({"true": True, "false": False})
        key = str(raw).strip().lower()
        if key in lookup:
            return lookup[key]
        allowed = [str(t) for t in (col.categories or (False, True))]
    else:
        if col.categories is None:  # categories not public yet (a DP fit discovers them)
            return raw.strip() if isinstance(raw, str) else raw
        cats = list(col.categories)
        if raw in cats:
            return raw
        by_text = {str(c): c for c in cats}
        if isinstance(raw, str) and raw.strip() in by_text:
            return by_text[raw.strip()]
        allowed = sorted(map(str, cats))
    raise ConditionError(
        f"condition on {col.name!r}: {[raw]} not among its categories {allowed} ({option}; "
        "use one of them, or null for a missing value)"
    )


def _values(col: Column, raws: Sequence[Any], option: str) -> Condition:
    """An equality condition: any of ``raws`` (a missing spelling: a missing value)."""
    if not raws:
        raise ConditionError(f"condition on {col.name!r} lists no values ({option})")
    missing = any(_is_missing(r) for r in raws)
    given = [r for r in raws if not _is_missing(r)]
    if col.kind in (Kind.CATEGORICAL, Kind.BOOLEAN):
        values = frozenset(_label(col, r, option) for r in given)
    else:
        values = frozenset(_number(col, r, option) for r in given)
    return Condition(values, missing)


def _comparison(col: Column, op: str, raw: Any, option: str) -> Condition:
    if col.kind not in (Kind.INTEGER, Kind.FLOAT, Kind.DATETIME):
        fix = (f"to ask for the category {op + str(raw)!r} write {col.name}={op}{raw}"
               if col.kind is Kind.CATEGORICAL else "list the values it may take instead")
        raise ConditionError(
            f"condition on {col.name!r}: a range ({op}) needs a numeric or datetime column, and "
            f"{col.name!r} is {col.kind.value} ({option}; {fix})"
        )
    if _is_missing(raw):
        raise ConditionError(f"condition on {col.name!r}: {op} needs a value, got {raw!r} ({option})")
    x = _number(col, raw, option)
    if op in ("<", "<="):
        return Condition(None, False, high=x, high_open=op == "<")
    return Condition(None, False, low=x, low_open=op == ">")


def _cell(col: Column, value: Any, option: str) -> Condition:
    """A mapping value or table cell: a value, a list, a missing spelling or a comparison."""
    if isinstance(value, Condition):
        return value
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
        return _values(col, list(value), option)
    if isinstance(value, str) and col.kind.numeric:
        text = value.strip()
        m = re.fullmatch(r"(<=|>=|<|>)\s*(.+)", text)
        if m:
            return _comparison(col, m.group(1), m.group(2), option)
    return _values(col, [value], option)


def _from_expression(col: Column, op: str, value: Any, option: str) -> Condition:
    if op == "range":
        op1, lo, op2, hi = value
        return (_comparison(col, ">" if op1 == "<" else ">=", lo, option)
                & _comparison(col, op2, hi, option))
    if op == "=":
        raws: list[Any] = [value]
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                raws = parsed
        return _values(col, raws, option)
    return _comparison(col, op, value, option)


def _column(schema: Schema, name: str, option: str) -> Column:
    if name not in schema:
        raise ConditionError(f"condition on unknown column {name!r} ({option}); columns: {schema.names}")
    col = schema[name]
    if not col.kind.modelled:
        raise ConditionError(
            f"cannot condition on {name!r} ({option}): it is a {col.kind.value} column, not "
            "modelled (identifiers are drawn fresh, free text is left out)"
        )
    return col


def _checked(col: Column, cond: Condition, option: str, what: str) -> Condition:
    """``cond`` against the column's domain: missing values, bounds, impossible ranges."""
    if cond.empty:
        raise ConditionError(
            f"conditions on {col.name!r} cannot all hold ({what}: no value meets them; {option})"
        )
    if cond.missing and not col.nullable:
        rest = Condition(cond.values, False, cond.low, cond.high, cond.low_open, cond.high_open)
        if rest.empty or (cond.values is not None and not cond.values):
            raise ConditionError(
                f"condition on {col.name!r} asks for a missing value, but {col.name!r} is never "
                f"missing in this model (its schema says nullable: false) ({option}; drop the "
                "condition or ask for a value)"
            )
        cond = rest
    bounds = col.numeric_bounds() if col.kind.numeric else None
    if bounds is not None:
        lo, hi = bounds
        span = Condition(None, False, lo, hi)
        if cond.values is not None:
            outside = [v for v in cond.values if not span.in_range(np.array([v]))[0]]
            if outside:
                shown = " or ".join(_show(col, v) for v in sorted(outside))
                raise ConditionError(
                    f"condition on {col.name!r}: {shown} lies outside the "
                    f"column's domain {_domain_text(col)} ({option}; ask for a value inside it)"
                )
        elif (cond & span).empty and not cond.missing:
            raise ConditionError(
                f"condition on {col.name!r}: {_describe_one(col, cond)} leaves no value of the "
                f"column's domain {_domain_text(col)} ({option}; widen the range into it)"
            )
    return cond


def _domain_text(col: Column) -> str:
    lo, hi = col.bounds or (None, None)
    return f"[{lo}, {hi}] ({col.source('bounds') or 'declared'})"


def _resolve(schema: Schema, items: list[tuple[str, Condition]], option: str, what: str) -> Conditions:
    out: Conditions = {}
    for name, cond in items:
        out[name] = out[name] & cond if name in out else cond
    return {name: _checked(schema[name], cond, option, what) for name, cond in out.items()}


def _table_conditions(table: pd.DataFrame, schema: Schema, option: str) -> ConditionPlan:
    names = [str(c) for c in table.columns]
    for name in names:
        _column(schema, name, option)
    if len(table) == 0:
        raise ConditionError(f"{option}: the condition table has no rows (one row per synthetic row)")
    groups: dict[tuple, tuple[Conditions, list[int]]] = {}
    for i, row in enumerate(table.itertuples(index=False, name=None)):
        items = []
        for name, cell in zip(names, row, strict=True):
            if cell is None or cell is pd.NA or (isinstance(cell, float) and math.isnan(cell)) or (
                    isinstance(cell, str) and cell.strip() == ""):
                continue  # an empty cell leaves the column free
            items.append((name, _cell(schema[name], cell, f"{option}, row {i + 1}")))
        conds = _resolve(schema, items, f"{option}, row {i + 1}", f"row {i + 1}")
        key = tuple(sorted(conds.items(), key=lambda kv: kv[0]))
        if key not in groups:
            groups[key] = (conds, [])
        groups[key][1].append(i)
    return ConditionPlan(
        tuple((c, len(pos), np.asarray(pos, dtype=np.int64)) for c, pos in groups.values()),
        n_rows=len(table),
    )


def plan_conditions(conditions: Any, schema: Schema, option: str = "conditions") -> ConditionPlan:
    """Any accepted form of ``conditions`` resolved against ``schema`` (see the module text).

    Raises :class:`~lookalike.errors.ConditionError` naming the column, ``option`` and the fix
    for an unknown column, a value outside the domain, a range on a categorical column or
    conditions no value can meet.
    """
    if isinstance(conditions, ConditionPlan):
        return conditions
    if conditions is None:
        return ConditionPlan()
    if isinstance(conditions, pd.DataFrame):
        return _table_conditions(conditions, schema, option)
    if hasattr(conditions, "to_pandas") and not isinstance(conditions, (Mapping, str)):
        return _table_conditions(conditions.to_pandas(), schema, option)
    items: list[tuple[str, Condition]] = []
    if isinstance(conditions, str):
        conditions = [conditions]
    if isinstance(conditions, Mapping):
        for name, value in conditions.items():
            col = _column(schema, str(name), option)
            items.append((col.name, _cell(col, value, option)))
    elif isinstance(conditions, (list, tuple)):
        columns = schema.names
        for text in conditions:
            name, op, value = parse_expression(text, columns, option)
            col = _column(schema, name, option)
            items.append((name, _from_expression(col, op, value, option)))
    else:
        raise ConditionError(
            f"{option} must be a mapping {{column: value}}, expressions like ['age>=30'], or a "
            f"table (DataFrame) of per-row conditions, got {type(conditions).__name__}"
        )
    if not items:
        return ConditionPlan()
    return ConditionPlan(((_resolve(schema, items, option, "together"), 0, None),))


def precheck(conditions: Any, columns: Sequence[str], schema: Schema | None,
             option: str = "--condition") -> None:
    """Check ``conditions`` before a fit (and before any DP charge) with what is known then:
    the syntax and columns, and, with a ``schema``, kinds and values against the facts that
    are public (declared, or the kinds a DP plan resolved); categories, bounds and missing
    values a DP fit has yet to discover are checked after it."""
    if conditions is None:
        return
    if isinstance(conditions, pd.DataFrame):
        unknown = [str(c) for c in conditions.columns if str(c) not in set(columns)]
        if unknown:
            raise ConditionError(f"condition on unknown column {unknown[0]!r} ({option}); "
                                 f"columns: {list(columns)}")
    elif isinstance(conditions, (list, tuple)):
        check_expressions(conditions, columns, option)
    if schema is None:
        return
    import dataclasses

    public = []
    for col in schema.columns:
        declared = {f for f in ("categories", "bounds", "nullable") if col.source(f) == "declared"}
        public.append(dataclasses.replace(
            col, categories=col.categories if "categories" in declared else None,
            bounds=col.bounds if "bounds" in declared else None,
            nullable=col.nullable if "nullable" in declared else True))
    plan_conditions(conditions, Schema(tuple(public)), option)


def read_condition_table(path: Any, option: str = "--conditions") -> pd.DataFrame:
    """A CSV (or Parquet) file of per-row conditions, every cell as text: an empty cell leaves
    its column free, a missing-value spelling (``null``, ``NA``...) asks for a missing value."""
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise ConditionError(f"{option} {path}: no such file")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, sep=None, engine="python")
    except (ValueError, pd.errors.ParserError) as e:
        raise ConditionError(f"{option} {path}: not a readable CSV file ({e})") from None


# ------------------------------------------------------------- codes of a discretised model
def code_weights(codec: ColumnCodec, cond: Condition) -> np.ndarray:
    """Per code of ``codec``, the probability that a row with that code meets ``cond``
    (a continuous column's point value: the in-bin density at it).

    Categories and the missing state are in or out (1 or 0). A bin's weight is the share of
    its in-bin distribution inside the range (:meth:`~lookalike.transform.discretize.Bins.
    u_interval`), so that the model's code probabilities times these weights are exactly the
    conditional distribution of the codes, before any draw.
    """
    w = np.zeros(codec.size)
    if codec.has_missing and cond.missing:
        w[codec.n_values] = 1.0
    if codec.categories is not None:
        for v in cond.values or ():
            w[list(codec.categories).index(v)] = 1.0
        return w
    bins = codec.bins
    assert bins is not None  # a numeric column's codes are bins
    if cond.values is None:
        a, b = bins.u_interval(cond.low, cond.high, cond.low_open, cond.high_open)
        w[: codec.n_values] = b - a
    else:
        w[: codec.n_values] = _value_weights(bins, sorted(cond.values)).sum(axis=1)
    return w


def _value_weights(bins, values: list[float]) -> np.ndarray:
    """(bins × values): the probability of each value in each bin, or its density where the
    bin's values are continuous (a point value has probability 0 there)."""
    out = np.zeros((bins.n_bins, len(values)))
    width = np.maximum(bins.upper - bins.lower, 1e-12)
    for k, v in enumerate(values):
        a, b = bins.u_interval(v, v)
        mass = b - a
        inside = (bins.lower <= v) & (v <= bins.upper)
        h = width * 1e-6
        dens = np.zeros(bins.n_bins)
        for i in np.flatnonzero(inside & (mass <= 0)):
            one = type(bins)(bins.lower[i:i + 1], bins.upper[i:i + 1],
                             None if bins.shape is None else bins.shape[i:i + 1], bins.integer)
            lo_a, hi_b = one.u_interval(v - h[i], v + h[i])
            dens[i] = (hi_b[0] - lo_a[0]) / (2 * h[i]) if hi_b[0] > lo_a[0] else 0.0
        out[:, k] = np.where(mass > 0, mass, dens)
    return out


def decode_conditioned(codecs: Sequence[ColumnCodec], codes: np.ndarray, conds: Conditions,
                       frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """``frame`` (the decoded ``codes``) with each conditioned numeric column redrawn inside its
    condition: a range by the truncated inverse CDF of each row's bin, listed values set
    exactly (one of those in the row's bin, in proportion to their weights). Exact given the
    codes, with no rejection: a bin's in-bin draw does not depend on the other columns."""
    for j, codec in enumerate(codecs):
        name = codec.column.name
        cond = conds.get(name)
        if cond is None or codec.bins is None:
            continue
        c = codes[:, j]
        rows = np.flatnonzero(c < codec.n_values)
        x = np.full(len(c), np.nan)
        if len(rows):
            cr = c[rows]
            if cond.values is None:
                a, b = codec.bins.u_interval(cond.low, cond.high, cond.low_open, cond.high_open)
                u = a[cr] + rng.random(len(rows)) * (b[cr] - a[cr])
                x[rows] = codec.bins.value_at(cr, u)
            else:
                values = sorted(cond.values)
                w = _value_weights(codec.bins, values)[cr]
                cum = np.cumsum(w, axis=1)
                pick = (rng.random(len(rows)) * cum[:, -1])[:, None] >= cum
                x[rows] = np.asarray(values)[np.minimum(pick.sum(axis=1), len(values) - 1)]
        frame[name] = from_numbers(x, codec.column).set_axis(frame.index)
    return frame
