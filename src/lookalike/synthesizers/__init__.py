"""Synthesizers behind one protocol and a name registry.

>>> from lookalike.synthesizers import available
>>> {"independent", "gaussian_copula", "cart"} <= set(available())
True
"""

from lookalike.synthesizers import (  # noqa: F401  (registers them)
    aim,
    cart,
    copula,
    independent,
    mst,
    neural,  # noqa: F401  (registers ctgan, tvae, dpctgan, dptvae, pategan)
    privbayes,
)
from lookalike.synthesizers._bulk import sample_spark, sample_to_file
from lookalike.synthesizers.base import (
    Synthesizer,
    available,
    get_synthesizer,
    load_synthesizer,
    register,
)
from lookalike.synthesizers.describe import describe_synthesizer

__all__ = ["Synthesizer", "available", "describe_synthesizer", "get_synthesizer", "load_synthesizer",
           "register", "sample_spark", "sample_to_file"]
