"""Calls into the library (metrics, models, predict, actions) for pages and reports.

The dashboard, the REST API and the HTML report all get their numbers here, from the
same library functions the CLI calls. A library part that is not installed or not
written yet gives :class:`Unavailable` ("not available yet: <what>") instead of an
error, so every page answers on a freshly imported store.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Unavailable:
    """A part of the library that cannot answer (yet), and why."""

    what: str
    reason: str = "not available yet"

    @property
    def message(self) -> str:
        return f"{self.reason}: {self.what}"


def find(candidates: Sequence[str]) -> Any | Unavailable:
    """The first importable ``module:attr`` of ``candidates``, else :class:`Unavailable`."""
    for c in candidates:
        mod, _, attr = c.partition(":")
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        f = getattr(m, attr, None)
        if callable(f):
            return f
    return Unavailable(" or ".join(candidates))


def call(candidates: Sequence[str], *args: Any, _raise: tuple = (), **kw: Any) -> Any | Unavailable:
    """Call the first available function of ``candidates``.

    Library errors that say the data cannot support the call (no table, too few rows,
    no trained model) come back as :class:`Unavailable` with the library's message;
    exceptions of the types in ``_raise`` (e.g. InputError for the caller's own
    parameters) propagate.
    """
    from negah.errors import NegahError

    f = find(candidates)
    if isinstance(f, Unavailable):
        return f
    try:
        return f(*args, **kw)
    except _raise:
        raise
    except NegahError as e:
        return Unavailable(candidates[0], str(e))
    except Exception as e:  # a library part failing must not take the page down: say so
        import logging

        logging.getLogger("negah.reports").warning("%s failed: %r", candidates[0], e, exc_info=True)
        return Unavailable(candidates[0], f"failed ({type(e).__name__}: {e})")


def metric_records(store: Any, *, period: str = "month", calendar: str = "gregorian",
                   metrics: Sequence[str] | None = None, segment: str | None = None,
                   start: Any = None, end: Any = None, basis: str = "orders") -> list[dict] | Unavailable:
    """The spec's metric records (``negah metrics --format json``)."""
    from negah.errors import InputError

    got = call(["negah.metrics:compute_records", "negah.metrics.engine:compute_records"], store, _raise=(InputError,),
               period=period, calendar=calendar,
               metrics=list(metrics) if metrics else None, segment=segment, start=start, end=end, basis=basis)
    return got


def records(value: Any) -> list[dict] | Unavailable:
    """A library result (DataFrame, list of dicts, dict, object with ``to_records``) as records."""
    if isinstance(value, Unavailable):
        return value
    if value is None:
        return []
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return frame_records(value)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, (list, tuple)):
        return [dict(v) if not isinstance(v, dict) and hasattr(v, "keys") else v for v in value]
    if hasattr(value, "as_dict"):
        return [value.as_dict()]
    return Unavailable(type(value).__name__, "unexpected result")


def frame_records(df: Any) -> list[dict]:
    """A DataFrame as JSON-ready records (NaN/NaT -> None, numpy scalars -> Python)."""
    out = []
    cols = [str(c) for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        out.append({c: py(v) for c, v in zip(cols, row)})
    return out


def py(v: Any) -> Any:
    """A JSON-ready Python value."""
    import datetime as _dt
    import decimal

    if v is None:
        return None
    if isinstance(v, float):
        return None if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, decimal.Decimal):
        return float(v) if v.is_finite() else None
    if isinstance(v, _dt.datetime):
        return v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    try:
        import numpy as np
        import pandas as pd

        if v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
        if isinstance(v, np.generic):
            return py(v.item())
        if pd.isna(v):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    return str(v)
