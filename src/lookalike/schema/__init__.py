"""Column kinds, domains and bounds of a table, each fact marked declared or read from data.

A :class:`Schema` is the contract between a table and every model: which columns exist, what
kind each is, which categories and bounds it may take, whether it may be missing. Each fact
records where it came from (``"declared"`` by the user, ``"data"`` read from the private
table, or a DP release). In DP mode only declared or DP-released facts may shape a model; facts
read from the data are free only for non-DP fits.

The JSON form is meant to be edited (``lookalike inspect`` writes it). :meth:`Schema.load` and
:meth:`Schema.from_dict` read it back as written: a plain value counts as declared, a fact
written as ``{"value": ..., "source": ...}`` keeps its recorded source. A schema handed to a fit
as a file or dict is the user's declaration (:func:`as_schema`): every fact it states counts as
declared public, whatever source it records; to fix kinds only, state only the kinds.

Numbers that no numeric dtype holds exactly are never rounded silently: a column of unique
fixed-width integers beyond the 64-bit range (20-digit keys) is an identifier kept as text; any
other such column is modelled as categories (few distinct values, kept exactly) or as floats,
with a warning naming the column.
Text with too many distinct values to be categories is classified, never refused: keys, fakes
(``"fake:name"``, ``"fake:email"``, ...) or excluded free text. Dates beyond 2262 (a sentinel
such as 9999-12-31) are modelled like any date, held as ``datetime64[us]``.

>>> import pandas as pd
>>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62] * 4, "sex": ["F", "M", "M", "F", "M"] * 4})
>>> schema = infer_schema(df)
>>> schema["age"].kind.value, schema["age"].bounds, schema.source("age", "bounds")
('integer', (23, 62), 'data')
>>> Schema.from_json(schema.to_json()) == schema
True
"""


from lookalike.schema._columns import MIN_ROWS, Column, Kind
from lookalike.schema._datetimes import datetime_to_number, number_to_datetime, parse_datetime
from lookalike.schema._fakes import FAKE_PREFIX, FAKE_PROVIDERS
from lookalike.schema._infer import as_schema, infer_schema, resolve_schema, with_declared
from lookalike.schema._json import SCHEMA_FORMAT, SCHEMA_VERSION
from lookalike.schema._schema import DATA_FACTS_NOTE, Schema

__all__ = [
    "DATA_FACTS_NOTE",
    "FAKE_PREFIX",
    "FAKE_PROVIDERS",
    "MIN_ROWS",
    "SCHEMA_FORMAT",
    "SCHEMA_VERSION",
    "Column",
    "Kind",
    "Schema",
    "as_schema",
    "datetime_to_number",
    "infer_schema",
    "number_to_datetime",
    "parse_datetime",
    "resolve_schema",
    "with_declared",
]
