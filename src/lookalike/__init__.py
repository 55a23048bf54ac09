"""lookalike: privacy-preserving synthetic tabular data.

>>> import lookalike
>>> real = lookalike.load_demo().sample(2000, random_state=0)
>>> model = lookalike.get_synthesizer("cart").fit(real, seed=0)
>>> model.sample(5, seed=0).shape
(5, 15)

The public names are imported on first use, so that ``import lookalike`` (and the command's
start-up, which an interrupt may hit) stays cheap.
"""

from __future__ import annotations

from lookalike._version import __version__  # noqa: F401  (public)

_EXPORTS = {
    "Column": "lookalike.schema",
    "Kind": "lookalike.schema",
    "LookalikeError": "lookalike.errors",
    "Schema": "lookalike.schema",
    "Synthesizer": "lookalike.synthesizers",
    "available": "lookalike.synthesizers",
    "describe_synthesizer": "lookalike.synthesizers",
    "fit": "lookalike.api",
    "get_synthesizer": "lookalike.synthesizers",
    "infer_schema": "lookalike.schema",
    "load_demo": "lookalike.demo",
    "load_synthesizer": "lookalike.synthesizers",
    "query": "lookalike.query",
    "read_table": "lookalike.io",
    "sample_spark": "lookalike.synthesizers",
    "sample_to_file": "lookalike.synthesizers",
    "synthesize": "lookalike.api",
    "write_table": "lookalike.io",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lookalike' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
