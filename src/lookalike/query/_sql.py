"""The aggregate SQL that :func:`lookalike.query` answers, parsed and checked before any data.

Parsed with ``sqlglot`` (DuckDB dialect), a maintained SQL parser: a query is one ``SELECT``
over one table whose output columns are group keys and aggregates,

    SELECT [key, ...] agg [AS name], ... FROM t [WHERE row filter] [GROUP BY key, ... | ALL]
        [ORDER BY output column] [LIMIT n]

with ``agg`` one of ``COUNT(*)``, ``COUNT(x)``, ``SUM(x)``, ``AVG(x)``, ``MEDIAN(x)``,
``QUANTILE_CONT(x, q)`` (also ``QUANTILE``, ``QUANTILE_DISC``, ``PERCENTILE_CONT(q) WITHIN
GROUP (ORDER BY x)``), ``x`` a column or a row-level expression. Keys and filters are
row-level expressions over the table's columns (one row's value depends on that row only, so
they cost nothing). ``ORDER BY`` and ``LIMIT`` apply to the released answers (post-processing).
Everything else is refused with :class:`QueryError`, which says what is supported: joins,
subqueries and ``WITH``, row-returning queries, ``DISTINCT``, ``HAVING``, windows, ``MIN``/
``MAX`` (one row decides them), arithmetic on aggregates (compute it from the answers) and
functions DuckDB does not ship (user functions).

>>> q = parse_query("SELECT sex, count(*) AS n, avg(age) FROM adult WHERE age > 30 GROUP BY sex")
>>> [k.name for k in q.keys], [(a.kind, a.arg) for a in q.aggregates]
(['sex'], [('count', None), ('avg', 'age')])
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from lookalike.errors import ConfigError

__all__ = ["SUPPORTED", "Aggregate", "Key", "ParsedQuery", "QueryError", "parse_query"]

SUPPORTED = (
    "supported: one aggregate query over one table, SELECT [keys,] COUNT(*) | COUNT(x) | SUM(x) "
    "| AVG(x) | MEDIAN(x) | QUANTILE_CONT(x, q) ... FROM t [WHERE row filter] [GROUP BY keys] "
    "[ORDER BY output columns] [LIMIT n]; x, keys and filters are expressions over the table's "
    "columns"
)
_DIALECT = "duckdb"
_QUANTILES = (exp.Quantile, exp.PercentileCont, exp.PercentileDisc)


class QueryError(ConfigError):
    """SQL that :func:`lookalike.query` does not answer, and why."""


@dataclass(frozen=True)
class Key:
    """A GROUP BY key: its output name, its SQL, and the plain column it is (None for an
    expression)."""

    name: str
    sql: str
    column: str | None


@dataclass(frozen=True)
class Aggregate:
    """One aggregate output column: ``kind`` count, sum, avg or quantile; ``arg`` the SQL of
    its argument (None for ``COUNT(*)``); ``q`` the quantile level."""

    name: str
    kind: str
    arg: str | None
    q: float | None = None
    column: str | None = None
    """The plain column ``arg`` is, unquoted (None for an expression)."""


@dataclass(frozen=True)
class ParsedQuery:
    """A checked query: its keys, aggregates, row filter and post-processing."""

    sql: str
    canonical: str
    """The query's parts in normalised spelling, without its table name: equal for the same
    query however it is spelled."""
    table: str
    keys: tuple[Key, ...]
    aggregates: tuple[Aggregate, ...]
    where: str | None
    columns: tuple[str, ...]
    """Output columns in SELECT order."""
    order: tuple[tuple[str, bool], ...] = ()
    """(output column, descending) pairs of ORDER BY."""
    limit: int | None = None
    functions: tuple[str, ...] = ()
    """Names of functions sqlglot does not know (checked against DuckDB's own before running)."""


def _refuse(what: str) -> QueryError:
    return QueryError(f"{what}: not answered. {SUPPORTED}")


def parse_query(sql: str) -> ParsedQuery:
    """Parse and check ``sql``; raises :class:`QueryError` naming what is not supported."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryError(f"a query is SQL text, got {sql!r}. {SUPPORTED}")
    try:
        statements = [s for s in sqlglot.parse(sql, read=_DIALECT) if s is not None]
    except sqlglot.errors.ParseError as e:
        raise QueryError(f"cannot parse the query ({str(e).splitlines()[0]}). {SUPPORTED}") from None
    if len(statements) != 1:
        raise _refuse(f"{len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Select):
        raise _refuse(f"a {tree.key.upper()} statement")
    for arg, what in (("with", "WITH (common table expressions)"), ("joins", "a join"),
                      ("laterals", "LATERAL"), ("having", "HAVING (filter the answers instead)"),
                      ("qualify", "QUALIFY"), ("distinct", "SELECT DISTINCT (it returns rows)"),
                      ("offset", "OFFSET"), ("windows", "WINDOW")):
        if tree.args.get(arg):
            raise _refuse(what)
    source = tree.args.get("from") or tree.args.get("from_")
    if source is None or not isinstance(source.this, exp.Table) or source.this.args.get("joins"):
        raise _refuse("a query without one table in FROM (subqueries and table functions too)")
    table = source.this.name
    for node in tree.walk():
        if node is tree:
            continue
        if isinstance(node, exp.Select | exp.Subquery | exp.Union | exp.Intersect | exp.Except):
            raise _refuse("a subquery")
        if isinstance(node, exp.Window):
            raise _refuse("a window function")
    where = tree.args.get("where")
    if where is not None and any(isinstance(n, exp.AggFunc) for n in where.walk()):
        raise _refuse("an aggregate in WHERE")
    group = tree.args.get("group")
    groups = list(group.expressions) if group else []
    items = list(tree.expressions)
    if group is not None and group.args.get("all"):  # GROUP BY ALL: every non-aggregate item
        groups = [it.unalias() for it in items
                  if not any(isinstance(n, exp.AggFunc) for n in it.walk())]
    aliases = {it.alias: it.this for it in items if isinstance(it, exp.Alias)}
    group_sql = []
    for g in groups:
        if isinstance(g, exp.Literal) and not g.is_string:  # GROUP BY 1
            pos = int(g.this)
            if not 1 <= pos <= len(items):
                raise QueryError(f"GROUP BY {pos}: the query has {len(items)} output columns")
            g = items[pos - 1].unalias()
        elif isinstance(g, exp.Column) and not g.table and g.name in aliases:
            g = aliases[g.name]
        if any(isinstance(n, exp.AggFunc) for n in g.walk()):
            raise _refuse("an aggregate in GROUP BY")
        group_sql.append(_norm(g))
    keys: list[Key] = []
    aggregates: list[Aggregate] = []
    names: list[str] = []
    for item in items:
        body = item.unalias()
        name = item.alias if isinstance(item, exp.Alias) else _default_name(body)
        if name in names:
            raise QueryError(f"two output columns are named {name!r}: name them apart with AS")
        names.append(name)
        if isinstance(body, exp.Star):
            raise _refuse("SELECT * (it returns rows)")
        if not any(isinstance(n, exp.AggFunc) for n in body.walk()):
            if _norm(body) not in group_sql:
                raise _refuse(f"output column {name!r} is neither an aggregate nor a GROUP BY "
                              "key (a query that returns rows)")
            keys.append(Key(name, _norm(body),
                            body.name if isinstance(body, exp.Column) and not body.table else None))
            continue
        aggregates.append(_aggregate(name, body))
    if not aggregates:
        raise _refuse("a query without an aggregate (it returns rows)")
    missing = [g for g in group_sql if g not in {k.sql for k in keys}]
    if missing:
        raise QueryError(f"GROUP BY {', '.join(missing)}: put each key in the SELECT list too, so "
                         "that each answer says which group it is")
    order = []
    if tree.args.get("order"):
        for o in tree.args["order"].expressions:
            ref = o.this
            if isinstance(ref, exp.Literal) and not ref.is_string:
                ref_name = names[int(ref.this) - 1] if 1 <= int(ref.this) <= len(names) else None
            else:
                text = ref.sql(_DIALECT)
                ref_name = (ref.name if isinstance(ref, exp.Column) and ref.name in names else
                            next((n for n, it in zip(names, items, strict=True)
                                  if it.unalias().sql(_DIALECT) == text), None))
            if ref_name is None:
                raise QueryError(f"ORDER BY {ref.sql(_DIALECT)}: order by an output column (the "
                                 f"answers are sorted after the noise is added); columns: {names}")
            order.append((ref_name, bool(o.args.get("desc"))))
    limit = None
    if tree.args.get("limit"):
        lim = tree.args["limit"].expression
        if not (isinstance(lim, exp.Literal) and not lim.is_string and str(lim.this).isdigit()):
            raise QueryError(f"LIMIT takes a whole number, got {lim.sql(_DIALECT)}")
        limit = int(lim.this)
    functions = sorted({n.name.lower() for n in tree.walk() if isinstance(n, exp.Anonymous)})
    where_sql = None if where is None else _norm(where.this)
    canonical = json.dumps({"keys": [[k.name, k.sql] for k in keys],
                            "aggregates": [[a.name, a.kind, a.arg, a.q] for a in aggregates],
                            "where": where_sql, "columns": names, "order": order, "limit": limit})
    return ParsedQuery(
        sql=sql, canonical=canonical, table=table, keys=tuple(keys),
        aggregates=tuple(aggregates), where=where_sql, columns=tuple(names), order=tuple(order),
        limit=limit, functions=tuple(functions))


def _norm(node: exp.Expression) -> str:
    """SQL of ``node`` as DuckDB reads it: unquoted names in lower case (DuckDB matches them
    case-insensitively), functions in lower case."""
    return node.sql(_DIALECT, normalize=True, normalize_functions="lower")


def _default_name(body: exp.Expression) -> str:
    """A column's name, else the expression as written (functions in lower case)."""
    if isinstance(body, exp.Column):
        return body.name
    return body.sql(_DIALECT, normalize_functions="lower")


def _aggregate(name: str, body: exp.Expression) -> Aggregate:
    """One SELECT item that holds an aggregate: it must be a supported aggregate itself."""
    agg = _aggregate_of(name, body)
    arg = sqlglot.parse_one(agg.arg, read=_DIALECT) if agg.arg is not None else None
    if isinstance(arg, exp.Column) and not arg.table:
        return Aggregate(agg.name, agg.kind, agg.arg, agg.q, arg.name)
    return agg


def _aggregate_of(name: str, body: exp.Expression) -> Aggregate:
    inner = body
    if isinstance(body, exp.WithinGroup):  # PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)
        if not isinstance(body.this, exp.PercentileCont | exp.PercentileDisc):
            raise _refuse(f"{body.sql(_DIALECT)}")
        order = body.expression.expressions
        if len(order) != 1:
            raise _refuse(f"{body.sql(_DIALECT)}")
        return Aggregate(name, "quantile", _arg_sql(order[0].this, name),
                         _level(body.this.this, name))
    if isinstance(inner, exp.Count):
        arg = inner.this
        if isinstance(arg, exp.Distinct):
            raise _refuse(f"COUNT(DISTINCT ...) in {name!r}")
        return Aggregate(name, "count", None if isinstance(arg, exp.Star) or arg is None
                         else _arg_sql(arg, name))
    if isinstance(inner, exp.Sum):
        return Aggregate(name, "sum", _arg_sql(inner.this, name))
    if isinstance(inner, exp.Avg):
        return Aggregate(name, "avg", _arg_sql(inner.this, name))
    if isinstance(inner, exp.Median):
        return Aggregate(name, "quantile", _arg_sql(inner.this, name), 0.5)
    if isinstance(inner, _QUANTILES):
        level = inner.args.get("quantile") or inner.args.get("expression")
        if level is None:
            raise QueryError(f"{name!r}: give the quantile level, e.g. QUANTILE_CONT(x, 0.9)")
        return Aggregate(name, "quantile", _arg_sql(inner.this, name), _level(level, name))
    if isinstance(inner, exp.Min | exp.Max):
        raise _refuse(f"{name!r}: MIN and MAX are decided by one row and have no useful DP "
                      "form; ask a quantile near 0 or 1 instead (QUANTILE_CONT(x, 0.99))")
    if isinstance(inner, exp.AggFunc):
        raise _refuse(f"the aggregate {inner.sql(_DIALECT)} ({name!r})")
    raise _refuse(f"{name!r} computes with the result of an aggregate (compute it from the "
                  "answers)")


def _arg_sql(arg: exp.Expression, name: str) -> str:
    if any(isinstance(n, exp.AggFunc) for n in arg.walk()):
        raise _refuse(f"an aggregate inside an aggregate ({name!r})")
    if isinstance(arg, exp.Distinct):
        raise _refuse(f"DISTINCT inside {name!r}")
    return _norm(arg)


def _level(node: exp.Expression, name: str) -> float:
    try:
        q = float(node.this) if isinstance(node, exp.Literal) and not node.is_string else None
    except ValueError:
        q = None
    if q is None or not 0 <= q <= 1:
        raise QueryError(f"{name!r}: the quantile level is a number in [0, 1], got "
                         f"{node.sql(_DIALECT)} (one level per aggregate)")
    return q
