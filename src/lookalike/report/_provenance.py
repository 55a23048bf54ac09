"""Where a report's numbers came from: schema facts and their sources, releases, model, versions."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import numpy as np

from lookalike._json import plain
from lookalike._version import __version__
from lookalike.errors import ConfigError
from lookalike.schema import Schema

__all__ = ["model_dict", "provenance", "schema_dict", "versions"]

_PACKAGES = ("numpy", "pandas", "scikit-learn", "matplotlib", "jinja2")


def versions() -> dict[str, str | None]:
    """Versions of lookalike, Python and the libraries that computed the numbers."""
    out: dict[str, str | None] = {"lookalike": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def schema_dict(schema: Any, model: Any = None) -> dict | None:
    """The schema as ``Schema.to_dict()`` (every fact with its source), or None if unknown."""
    if schema is None and model is not None:
        schema = getattr(model, "schema_", None)
    if schema is None:
        return None
    if isinstance(schema, Schema):
        return schema.to_dict()
    if isinstance(schema, Mapping):
        return Schema.from_dict(schema).to_dict()  # validates, and fills in sources
    raise ConfigError(f"schema must be a lookalike Schema or its dict, got {type(schema).__name__}")


def model_dict(model: Any) -> dict | None:
    """The synthesizer's family, settings and fit facts."""
    if model is None:
        return None
    if not hasattr(model, "get_params") or not hasattr(model, "name"):
        raise ConfigError(f"model must be a lookalike synthesizer, got {type(model).__name__}")
    if not hasattr(model, "schema_"):
        raise ConfigError(f"synthesizer {model.name!r} is not fitted; a report describes a fitted model")
    return {
        "name": model.name,
        "params": plain(model.get_params()),
        "supports_dp": bool(getattr(model, "supports_dp", False)),
        "n_rows": plain(getattr(model, "n_rows_", None)),
        "seed": plain(getattr(model, "seed_", None)),
        "fit_seconds": plain(getattr(model, "fit_seconds_", None)),
        "conform_actions": plain(list(getattr(model, "conform_actions_", []) or [])),
    }


def provenance(
    evaluation: Mapping,
    *,
    model: Any,
    schema: Any,
    privacy: Mapping,
    seed: Any,
    created: datetime | None = None,
) -> dict:
    """Everything needed to say how the report's numbers were produced."""
    meta = evaluation.get("meta") or {}
    synth = model_dict(model)
    created = created or datetime.now(UTC)
    return {
        "schema": schema_dict(schema, model),
        "releases": plain(privacy.get("releases") or []),
        "synthesizer": synth,
        "evaluation": plain(dict(meta)),
        "versions": versions(),
        "seeds": {
            "report": plain(seed) if not isinstance(seed, np.random.Generator) else "Generator",
            "fit": synth["seed"] if synth else None,
            "evaluation": plain(meta.get("seed")),
        },
        "timestamps": {
            "report_created": created.isoformat(timespec="seconds"),
            "fit_seconds": synth["fit_seconds"] if synth else None,
            "evaluation_seconds": plain(meta.get("seconds")),
        },
    }
