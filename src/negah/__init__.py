"""negah: customer retention and churn analytics.

The public facade. Everything here is re-exported lazily so that ``import negah`` stays
fast; heavy libraries load only when a function that needs them runs.

>>> import negah
>>> store = negah.open_store("negah.duckdb")          # doctest: +SKIP
>>> negah.metrics(store, period="month")               # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, str]] = {
    # store
    "open_store": ("negah.store.connect", "open_store"),
    "open_folder": ("negah.store.folder", "open_folder"),
    "Store": ("negah.store.connect", "Store"),
    "import_files": ("negah.store.ingest", "import_files"),
    "import_frame": ("negah.store.ingest", "import_frame"),
    # synthetic data and bundled samples
    "load_cdnow": ("negah.datasets", "load_cdnow"),
    # errors
    "NegahError": ("negah.errors", "NegahError"),
    "InputError": ("negah.errors", "InputError"),
    "StoreError": ("negah.errors", "StoreError"),
}


_SUBPACKAGES = {
    "synth",
    "demo",
    "store",
    "models",
    "predict",
    "actions",
    "datasets",
    "calendars",
    "reports",
    "errors",
    "config",
}


def __getattr__(name: str) -> Any:
    if name == "metrics":
        # negah.metrics is a callable package: negah.metrics(store, period="month", ...)
        return importlib.import_module("negah.metrics")
    if name in _SUBPACKAGES:
        return importlib.import_module(f"negah.{name}")
    if name in _EXPORTS:
        mod, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'negah' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS) + list(_SUBPACKAGES) + ["metrics"])
