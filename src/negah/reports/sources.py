"""Calls into the library (metrics, models, predict, actions) for pages and reports.

The dashboard, the REST API and the HTML report all get their numbers from the same
library functions the CLI calls. When the library says the data cannot support a call
(no table, too few rows, no trained model: a :class:`~negah.errors.NegahError`),
:func:`attempt` gives :class:`Unavailable` with the library's message instead of an
error, so every page answers on a freshly imported store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence


@dataclass(frozen=True)
class Unavailable:
    """A part of the library that cannot answer (yet), and why."""

    what: str
    reason: str = "not available yet"

    @property
    def message(self) -> str:
        """The reason alone when it is the library's own sentence, else "not available yet: what"."""
        return self.reason if self.reason != "not available yet" else f"{self.reason}: {self.what}"


def attempt(what: str, fn: Callable[..., Any], *args: Any, reraise: tuple = (), **kw: Any) -> Any | Unavailable:
    """``fn(*args, **kw)``, or :class:`Unavailable` when the library says the data cannot
    support the call (a :class:`~negah.errors.NegahError`: no table, too few rows, no
    trained model), with the library's message.

    Exceptions of the types in ``reraise`` (e.g. InputError for the caller's own
    parameters) propagate, and so does anything that is not a NegahError: a bug is an
    error, not "not available".
    """
    from negah.errors import NegahError

    try:
        return fn(*args, **kw)
    except reraise:
        raise
    except NegahError as e:
        return Unavailable(what, str(e))


def metric_records(
    store: Any,
    *,
    period: str = "month",
    calendar: str = "gregorian",
    metrics: Sequence[str] | None = None,
    segment: str | None = None,
    start: Any = None,
    end: Any = None,
    basis: str = "orders",
) -> list[dict] | Unavailable:
    """The spec's metric records (``negah metrics --format json``); an invalid parameter
    (unknown metric or segment column) raises InputError."""
    from negah.errors import InputError
    from negah.metrics import compute_records

    return attempt(
        "metrics",
        compute_records,
        store,
        reraise=(InputError,),
        period=period,
        calendar=calendar,
        metrics=list(metrics) if metrics else None,
        segment=segment,
        start=start,
        end=end,
        basis=basis,
    )


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
