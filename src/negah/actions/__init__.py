"""From numbers to action: who to save first, why customers leave, how to reach them,
what works, alerts and what-if projections. Names load lazily."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "at_risk": "negah.actions.at_risk",
    "rfm": "negah.actions.segments",
    "segment_summary": "negah.actions.segments",
    "analyse": "negah.actions.reasons",
    "detect_spikes": "negah.actions.reasons",
    "spikes": "negah.actions.reasons",
    "contact_plan": "negah.actions.contact",
    "evaluate_program": "negah.actions.programs",
    "campaign_report": "negah.actions.campaigns",
    "check": "negah.actions.alerts",
    "load_config": "negah.actions.alerts",
    "send_email": "negah.actions.notify",
    "post_webhook": "negah.actions.notify",
    "whatif": "negah.actions.whatif",
}
__all__ = sorted(_EXPORTS)

# ``at_risk`` and ``whatif`` are both a module and its function: load the (light) modules
# now and bind the names to the functions, so that ``from negah.actions import at_risk``
# gives the function (the import system binds a submodule to its parent on first load).
from negah.actions import at_risk as _at_risk_module  # noqa: E402
from negah.actions import whatif as _whatif_module  # noqa: E402

at_risk = _at_risk_module.at_risk
whatif = _whatif_module.whatif


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'negah.actions' has no attribute {name!r}")
