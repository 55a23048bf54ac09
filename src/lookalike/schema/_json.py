"""The JSON form of a schema: written with every fact's source, read back with checks.

A fact is written as ``{"value": ..., "source": ...}``; a fact written as a plain value counts
as declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from lookalike.errors import SchemaError
from lookalike.schema._columns import _FACTS, Column, Kind
from lookalike.schema._facts import check_facts

if TYPE_CHECKING:
    from lookalike.schema._schema import Schema

SCHEMA_FORMAT = "lookalike-schema"
SCHEMA_VERSION = 1
_TOP = ("format", "version", "note", "n_rows", "columns")


def schema_to_dict(schema: Schema) -> dict:
    """The JSON-ready dict of ``schema``: format, version, row count and columns."""
    cols = []
    for c in schema.columns:
        entry: dict[str, Any] = {"name": c.name}
        for fact in _FACTS:
            value = getattr(c, fact)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = [_jsonable(v) for v in value]
            entry[fact] = {"value": _jsonable(value), "source": c.source(fact)}
        cols.append(entry)
    out: dict[str, Any] = {"format": SCHEMA_FORMAT, "version": SCHEMA_VERSION}
    if schema.n_rows is not None:
        out["n_rows"] = {"value": schema.n_rows, "source": schema.n_rows_source or "declared"}
    out["columns"] = cols
    return out


def schema_parts_from_dict(d: Mapping) -> tuple[tuple[Column, ...], int | None, str | None]:
    """Columns, row count and its source from a schema's dict form, checked."""
    if not isinstance(d, Mapping) or not isinstance(d.get("columns"), list):
        raise SchemaError("a schema is a JSON object with a 'columns' list")
    unknown = sorted(set(d) - set(_TOP))
    if unknown:
        raise SchemaError(f"unknown schema fields {unknown} at the top level; known: {list(_TOP)}")
    if d.get("format", SCHEMA_FORMAT) != SCHEMA_FORMAT:
        raise SchemaError(f"not a lookalike schema (format {d.get('format')!r})")
    try:
        version = int(d.get("version", SCHEMA_VERSION))
    except (TypeError, ValueError):
        raise SchemaError(f"schema version must be an integer, got {d['version']!r}") from None
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"schema version {d['version']} is newer than this lookalike understands "
            f"({SCHEMA_VERSION}); upgrade lookalike"
        )
    columns = [_column_from_dict(entry, i) for i, entry in enumerate(d["columns"])]
    n_rows, n_src = _unpack(d.get("n_rows"), "n_rows")
    whole = isinstance(n_rows, int) and not isinstance(n_rows, bool)
    if n_rows is not None and (not whole or n_rows < 0):
        raise SchemaError(f"n_rows must be a whole number of rows (0 or more), got {n_rows!r}")
    return tuple(columns), n_rows, n_src


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, Kind):
        return v.value
    return v


def _unpack(entry: Any, where: str) -> tuple[Any, str | None]:
    """A fact's value and source: ``{"value": v, "source": s}``, or a plain value (declared)."""
    if not isinstance(entry, Mapping):
        return entry, (None if entry is None else "declared")
    extra = sorted(set(entry) - {"value", "source"})
    if "value" not in entry or extra:
        raise SchemaError(
            f"{where} is written as an object: it must be {{\"value\": ..., \"source\": ...}} "
            f"(got the fields {sorted(entry)}), or a plain value"
        )
    source = entry.get("source", "declared")
    if not isinstance(source, str) or not source:
        raise SchemaError(f"{where}: source must be a text such as \"declared\", got {source!r}")
    return entry["value"], source


def _column_from_dict(entry: Mapping, i: int) -> Column:
    if not isinstance(entry, Mapping) or "name" not in entry:
        raise SchemaError(f"schema column #{i + 1} must be an object with a 'name'")
    name = str(entry["name"])
    unknown = set(entry) - {"name", *_FACTS}
    if unknown:
        raise SchemaError(
            f"column {name!r}: unknown schema fields {sorted(unknown)}; known: {_FACTS}"
        )
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for fact in _FACTS:
        value, src = _unpack(entry.get(fact), f"column {name!r}: {fact}")
        if value is None:
            continue
        facts[fact] = value
        sources[fact] = src or "declared"
    if "kind" not in facts:
        raise SchemaError(f"column {name!r} has no 'kind'; one of {[k.value for k in Kind]}")
    facts = check_facts(name, facts, sources)
    if "nullable" not in facts:  # not written: read it from the data (see resolve_schema)
        facts["nullable"], sources["nullable"] = False, "default"
    return Column(name=name, sources=sources, **facts)
