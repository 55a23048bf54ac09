"""Neural generators in PyTorch: ctgan, tvae, and their DP forms dpctgan, dptvae, and pategan.

Registered always (so ``lookalike synthesizers`` lists them); torch and opacus are imported
only when a model is fitted or loaded (``pip install "lookalike[neural]"``). Each family's
``schedule(n_rows)`` gives the :class:`Schedule` (epochs, batch, early stopping) a fit on that
many rows takes with its settings: the defaults are a stated function of the row count.
"""

from lookalike.synthesizers.neural._base import Schedule
from lookalike.synthesizers.neural.ctgan import CTGAN
from lookalike.synthesizers.neural.dp import DPCTGAN, DPTVAE
from lookalike.synthesizers.neural.pategan import PATEGAN
from lookalike.synthesizers.neural.tvae import TVAE

__all__ = ["CTGAN", "TVAE", "DPCTGAN", "DPTVAE", "PATEGAN", "Schedule"]
