"""Privacy attacks on synthetic data and the risks they measure.

:func:`audit` runs the attacks that need no refitting (similarity, membership inference by
distance and density, attribute inference, singling out, linkability) and, when asked, the
shadow-model attack of :func:`shadow_attack` on the most exposed records
(:func:`select_targets`); :func:`empirical_epsilon` turns an attack's scores into a lower
bound on ε. Nothing here is a guarantee: attacks give evidence of risk, and finding none is
evidence about those attacks only.
"""

from lookalike.audit.api import AuditResult, audit
from lookalike.audit.epsilon import EpsilonBound, empirical_epsilon
from lookalike.audit.shadow import ShadowResult, TargetRisk, shadow_attack
from lookalike.audit.targets import Targets, select_targets

__all__ = [
    "AuditResult",
    "EpsilonBound",
    "ShadowResult",
    "TargetRisk",
    "Targets",
    "audit",
    "empirical_epsilon",
    "select_targets",
    "shadow_attack",
]
