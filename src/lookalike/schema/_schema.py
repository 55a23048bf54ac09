"""A table's schema: an ordered set of columns, its JSON round trip, and conforming data to it."""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lookalike._files import atomic_output
from lookalike.errors import SchemaError, SourceNotFoundError
from lookalike.schema._columns import _FACTS, Column
from lookalike.schema._conform import conform_frame
from lookalike.schema._json import schema_parts_from_dict, schema_to_dict

DATA_FACTS_NOTE = (
    'Facts with "source": "data" were read from the private table. Handed back as a schema '
    "(--schema, or schema= as a path or dict), every fact in this file counts as declared "
    "public: a differentially private fit then uses these categories and bounds as they are, "
    "without spending budget on them, and a value that occurs once in the data (a rare "
    "category, the minimum, the maximum) becomes visible in the released model. Delete the "
    'facts you do not want to make public (keep "kind") to have them discovered under DP, or '
    "replace them with public knowledge (e.g. bounds [0, 120] for an age)."
)


@dataclass(frozen=True)
class Schema:
    """An ordered set of columns, plus the row count as an optional fact.

    ``n_rows`` is ``None`` unless known; in DP mode the row count is private unless declared.
    """

    columns: tuple[Column, ...]
    n_rows: int | None = None
    n_rows_source: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaError(f"schema names columns more than once: {dupes}")

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"no column {name!r} in the schema; columns are {self.names}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[Column]:
        """Columns a synthesizer models (not identifiers, not free text)."""
        return [c for c in self.columns if c.kind.modelled]

    def source(self, column: str, fact: str) -> str | None:
        return self[column].source(fact)

    def as_declared(self) -> Schema:
        """A copy in which every fact the schema states counts as declared public.

        This is what handing a schema over as JSON (a dict or a file) means: the facts it
        states are the user's declaration, whatever source they record. A fact not stated (a
        ``nullable`` left to the data) stays unstated. In a DP fit declared facts are public:
        categories and bounds copied from the data then show their rare values in the model.

        >>> s = Schema.from_dict({"columns": [{"name": "age", "kind": "integer",
        ...                          "bounds": {"value": [0, 99], "source": "data"}}]})
        >>> s.source("age", "bounds"), s.as_declared().source("age", "bounds")
        ('data', 'declared')
        """
        cols = []
        for c in self.columns:
            stated = [f for f in _FACTS if getattr(c, f) is not None]
            sources = {f: "default" if c.sources.get(f) == "default" else "declared"
                       for f in stated}
            cols.append(dataclasses.replace(c, sources=sources))
        n_src = None if self.n_rows is None else "declared"
        return dataclasses.replace(self, columns=tuple(cols), n_rows_source=n_src)

    def with_column(self, column: Column) -> Schema:
        """A copy with ``column`` replacing the one of the same name."""
        cols = tuple(column if c.name == column.name else c for c in self.columns)
        return dataclasses.replace(self, columns=cols)

    # ---------------------------------------------------------------- JSON round trip
    def to_dict(self) -> dict:
        return schema_to_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping) -> Schema:
        return cls(*schema_parts_from_dict(d))

    @classmethod
    def from_json(cls, text: str) -> Schema:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SchemaError(f"schema is not valid JSON: {e}") from None
        except RecursionError:
            raise SchemaError("schema JSON is nested too deep to be a schema; check the file") from None
        return cls.from_dict(d)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the JSON form; facts read from the data get a note and a warning.

        Handed back, the file is a declaration (:func:`as_schema`): the note in it and the
        warning say what that makes public.
        """
        d = self.to_dict()
        from_data = any(s == "data" for c in self.columns for s in c.sources.values())
        if from_data:
            d = {"note": DATA_FACTS_NOTE, **d}
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(d, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if from_data:
            warnings.warn(
                f"{path}: categories and bounds read from the data count as declared public when "
                "the file is handed back (CLI: --schema): a DP fit then shows them in the model, "
                "even a value that occurs once (a rare category, the minimum, the maximum); "
                'delete those facts (keep "kind") or replace them with public knowledge first',
                stacklevel=2,
            )
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Schema:
        """Read a schema file as written, each fact keeping its recorded source.

        To use a file as the user's declaration, read it with :func:`as_schema`.
        """
        p = Path(path)
        if p.is_dir():
            raise SchemaError(f"schema file {p} is a folder; give the path of a JSON file")
        if not p.exists():
            raise SourceNotFoundError(f"schema file {p} does not exist")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise SchemaError(f"schema file {p} is not UTF-8 text ({e.reason} at byte {e.start}); "
                              "save it as UTF-8 JSON") from None
        except OSError as e:
            raise SchemaError(f"cannot read schema file {p}: {e.strerror or e}") from None
        try:
            return cls.from_json(text)
        except SchemaError as e:
            raise SchemaError(f"schema file {p}: {e}") from None

    # ---------------------------------------------------------------- data conformance
    def conform(self, df: pd.DataFrame, *, actions: list[str] | None = None) -> pd.DataFrame:
        """Return ``df`` with the schema's columns, order and types.

        Values outside declared bounds are clipped and unknown categories become missing;
        each such action is appended to ``actions`` (and warned about), never silent.
        """
        notes = actions if actions is not None else []
        out = conform_frame(self, df, notes)
        if notes and actions is None:
            for note in notes:
                warnings.warn(note, stacklevel=2)
        return out
