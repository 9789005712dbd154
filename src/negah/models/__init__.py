"""negah's models of customer bases.

Non-contractual (purchase) models on the summary ``frequency, recency, T`` (and
``monetary_value``): :class:`BGNBD`, :class:`MBGNBD`, :class:`ParetoNBD` and
:class:`GammaGamma`; contractual retention: :class:`ShiftedBetaGeometric` (``SBG``).
Summaries come from :mod:`negah.models.summary`; model checks from
:mod:`negah.models.checks`. Every model follows the fitted-model contract of
:mod:`negah.models.base`. Names load lazily, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BGNBD": "negah.models.bgnbd",
    "MBGNBD": "negah.models.mbgnbd",
    "ParetoNBD": "negah.models.paretonbd",
    "GammaGamma": "negah.models.gammagamma",
    "ShiftedBetaGeometric": "negah.models.sbg",
    "SBG": "negah.models.sbg",
    "summary_from_orders": "negah.models.summary",
    "summary_from_store": "negah.models.summary",
    "calibration_holdout": "negah.models.checks",
    "p_alive_matrix": "negah.models.checks",
}

#: CLI / JSON name -> class name
PURCHASE_MODELS = {"bgnbd": "BGNBD", "mbgnbd": "MBGNBD", "paretonbd": "ParetoNBD"}
MODEL_NAMES = ("bgnbd", "paretonbd", "mbgnbd", "gammagamma", "sbg")

__all__ = sorted(_EXPORTS) + ["get_model", "PURCHASE_MODELS", "MODEL_NAMES"]


def get_model(name: str) -> type:
    """The model class for a CLI name (bgnbd, paretonbd, mbgnbd, gammagamma, sbg)."""
    from negah.errors import InputError

    cls = {
        "bgnbd": "BGNBD",
        "mbgnbd": "MBGNBD",
        "paretonbd": "ParetoNBD",
        "gammagamma": "GammaGamma",
        "sbg": "ShiftedBetaGeometric",
    }.get(name)
    if cls is None:
        raise InputError(f"model {name!r}: expected one of {', '.join(MODEL_NAMES)}")
    return getattr(importlib.import_module(_EXPORTS[cls]), cls)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'negah.models' has no attribute {name!r}")
