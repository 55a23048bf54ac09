"""A fitted model's privacy facts as a plain dict, whatever form the model keeps them in.

A synthesizer's ``privacy_`` is a :class:`~lookalike.privacy.budget.PrivacyReport` (or, in
model files and older code, its dict). Reports read it only through :func:`privacy_dict`,
whose keys are those of ``PrivacyReport.to_dict()``: ``differentially_private``,
``guarantee``, ``epsilon``, ``delta``, ``epsilon_spent``, ``releases`` (each ``name``,
``mechanism``, ``rho``, ``delta``, ``detail``, ``epsilon``), ``discovery`` and
``declared_public``.

>>> privacy_dict({"differentially_private": True, "epsilon": 1.0})["epsilon"]
1.0
>>> privacy_dict(None)
{}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lookalike._json import plain
from lookalike.errors import ConfigError

__all__ = ["is_differentially_private", "privacy_dict"]


def privacy_dict(privacy: Any) -> dict:
    """``privacy`` (a dict, an object with ``to_dict()``, or None) as a plain dict."""
    if privacy is None:
        return {}
    if not isinstance(privacy, Mapping):
        to_dict = getattr(privacy, "to_dict", None)
        if not callable(to_dict):
            raise ConfigError(
                "a model's privacy_ must be a PrivacyReport or its dict, got "
                f"{type(privacy).__name__}"
            )
        privacy = to_dict()
    return plain(dict(privacy))


def is_differentially_private(model: Any) -> bool:
    """True when ``model`` was fitted with differential privacy (its ``privacy_`` says so)."""
    return bool(privacy_dict(getattr(model, "privacy_", None)).get("differentially_private"))
