"""Acquisition cohorts: the retention matrix.

A customer's cohort is the period of their first-ever purchase order. Cell k of cohort
K is, for ``value="customers"``, the share of K's customers active (with a purchase
order) in period K + k; for ``value="revenue"``, the revenue of K's customers in K + k
(all their rows: purchases minus returns) over their revenue in K. Cell 0 of the
customers matrix is 1 by definition. Records: ``cohort``, ``cohort_start``, ``offset``,
``period``, ``start``, ``end``, ``value``, ``numerator``, ``denominator``, ``complete``.
"""

from __future__ import annotations

from negah.metrics.base import flag as _flag

import datetime as _dt
from typing import Any

from negah.errors import InputError
from negah.metrics.facts import ratio

VALUES = ("customers", "revenue")


def cohort_records(
    source: Any,
    period: str = "month",
    calendar: str = "gregorian",
    value: str = "customers",
    start: Any = None,
    end: Any = None,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """The cohort matrix as records, ordered by cohort then offset."""
    from negah.calendars import Calendar, check, to_date
    from negah.metrics.base import date_range, open_source
    from negah.metrics.engine import _dec, _int, _out
    from negah.metrics.rollup import customer_periods

    period, calendar = check(period, calendar)
    value = str(value).lower().strip()
    if value not in VALUES:
        raise InputError(f"cohort value {value!r} is not known: expected customers or revenue")
    lo = to_date(start) if start is not None else None
    hi = to_date(end) if end is not None else None
    store, opened = open_source(source, engine=engine)
    try:
        if store.table("orders") is None:
            raise InputError(f"{store.location}: cohorts need an orders table (customer_id, order_date, amount)")
        rng = date_range(store, ("orders",))
        if rng is None:
            return []
        cal = Calendar(rng[0], rng[1], period, calendar)
        cp = customer_periods(store, cal, day_masks=False)
        # a customer's cohort: the period of their first purchase order (= first purchase day)
        act = cp.filter(cp.norders > 0)
        first = act.group_by("customer_id").aggregate(cohort=act.pkey.min())
        x = cp.inner_join(first, "customer_id")
        x = x.filter(x.pkey >= x.cohort)
        agg = x.group_by(["cohort", "pkey"]).aggregate(
            active=_flag(x.norders > 0).sum(),
            rev=x.rev.sum(),
        )
        df = store.execute(agg)
    finally:
        if opened:
            store.close()
    cells: dict[tuple[int, int], tuple[int, Any]] = {}
    for r in df.to_dict("records"):
        cells[(_int(r["cohort"]), _int(r["pkey"]))] = (_int(r["active"]), _dec(r["rev"]))
    cohorts = sorted({k for k, _ in cells})
    out: list[dict[str, Any]] = []
    last = len(cal) - 1
    for k in cohorts:
        K = cal.periods[k]
        if lo is not None and K.end <= lo:
            continue
        if hi is not None and K.start > hi:
            continue
        size, rev0 = cells[(k, k)]
        for p in range(k, last + 1):
            P = cal.periods[p]
            n, rev = cells.get((k, p), (0, _dec(0)))
            num, den = (n, size) if value == "customers" else (rev, rev0)
            complete = P.start >= rng[0] and P.end - _dt.timedelta(days=1) <= rng[1]
            out.append(
                {
                    "cohort": K.label,
                    "cohort_start": K.start.isoformat(),
                    "offset": p - k,
                    "period": P.label,
                    "start": P.start.isoformat(),
                    "end": P.end.isoformat(),
                    "value": _out(ratio(num, den)),
                    "numerator": _out(num),
                    "denominator": _out(den),
                    "complete": bool(complete),
                }
            )
    return out


def cohorts(
    source: Any,
    period: str = "month",
    calendar: str = "gregorian",
    value: str = "customers",
    start: Any = None,
    end: Any = None,
    engine: str = "duckdb",
):
    """The cohort matrix as a long DataFrame (one row per cohort × offset)."""
    import pandas as pd

    recs = cohort_records(source, period, calendar, value, start, end, engine)
    cols = [
        "cohort",
        "cohort_start",
        "offset",
        "period",
        "start",
        "end",
        "value",
        "numerator",
        "denominator",
        "complete",
    ]
    return pd.DataFrame({c: pd.Series([r[c] for r in recs], dtype=object) for c in cols})


def matrix(records: list[dict[str, Any]]):
    """Records → wide matrix (rows cohorts, columns offsets 0, 1, …) of values."""
    import pandas as pd

    if not records:
        return pd.DataFrame()
    df = pd.DataFrame(records)
    return df.pivot(index="cohort", columns="offset", values="value")
