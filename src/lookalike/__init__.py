"""lookalike: privacy-preserving synthetic tabular data.

>>> import lookalike
>>> real = lookalike.load_demo().sample(2000, random_state=0)
>>> model = lookalike.get_synthesizer("cart").fit(real, seed=0)
>>> model.sample(5, seed=0).shape
(5, 15)
"""

from lookalike._version import __version__  # noqa: E402

from lookalike.api import fit, synthesize  # noqa: E402
from lookalike.demo import load_demo  # noqa: E402
from lookalike.errors import LookalikeError  # noqa: E402
from lookalike.io import read_table, write_table  # noqa: E402
from lookalike.schema import Column, Kind, Schema, infer_schema  # noqa: E402
from lookalike.synthesizers import (  # noqa: E402
    Synthesizer,
    available,
    get_synthesizer,
    load_synthesizer,
)

__all__ = [
    "Column",
    "Kind",
    "LookalikeError",
    "Schema",
    "Synthesizer",
    "__version__",
    "available",
    "fit",
    "get_synthesizer",
    "infer_schema",
    "load_demo",
    "load_synthesizer",
    "read_table",
    "synthesize",
    "write_table",
]
