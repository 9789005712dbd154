"""Acquisition cost against retention: CAC and CLV / CAC.

An optional ``spend`` table (spend_date, amount[, channel]) gives, per period,
``acquisition_spend`` (Σ amount), ``cac`` = spend / new customers, and
``clv_to_cac`` = clv / cac. Segmented by ``acquisition_channel`` (a customers column),
each channel's spend is set against the new customers acquired through it; under any
other segment spend cannot be attributed and the three metrics are null.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from negah.metrics.clv import clv
from negah.metrics.facts import PeriodFacts, Value, count, ratio

if TYPE_CHECKING:  # pragma: no cover
    from negah.calendars import Calendar
    from negah.store.connect import Store


def acquisition_spend(x: PeriodFacts) -> Value:
    return count(x.extra.get("spend"))


def cac(x: PeriodFacts) -> Value:
    spend = x.extra.get("spend")
    if spend is None:
        return Value(None, None, None)
    return Value(ratio(spend, x.N), spend, x.N)


def clv_to_cac(x: PeriodFacts) -> Value:
    c = cac(x).value
    v = clv(x).value
    return Value(ratio(v, c), v, c)


ACQUISITION_METRICS = {
    "acquisition_spend": acquisition_spend,
    "cac": cac,
    "clv_to_cac": clv_to_cac,
}


def add_spend(store: "Store", cal: "Calendar", segment: str | None, grid: dict[tuple[Any, int], PeriodFacts]) -> None:
    """Put each (segment, period)'s spend into ``x.extra['spend']`` (Decimal or None)."""
    from negah.metrics.base import calendar_table
    from negah.metrics.engine import _dec, _py

    sp = store.table("spend")
    if sp is None:
        return
    by_channel = segment == "acquisition_channel" and "channel" in sp.columns
    if segment is not None and not by_channel:
        for x in grid.values():
            x.extra["spend"] = None
        return
    days = calendar_table(store, cal)
    j = sp.inner_join(days, sp.spend_date == days.d)
    keys = ["channel", "pkey"] if by_channel else ["pkey"]
    df = store.execute(j.group_by(keys).aggregate(spend=j.amount.sum()))
    for x in grid.values():
        x.extra["spend"] = Decimal(0)
    for r in df.to_dict("records"):
        seg = _py(r["channel"]) if by_channel else None
        key = (seg, int(r["pkey"]))
        if key not in grid:
            grid[key] = PeriodFacts(pkey=key[1], has_prev=key[1] > 0)
            # a channel with spend but no customers: fill its other periods too
            for p in cal.periods:
                grid.setdefault(
                    (seg, p.index), PeriodFacts(pkey=p.index, has_prev=p.index > 0, extra={"spend": Decimal(0)})
                )
        grid[key].extra["spend"] = _dec(r["spend"])
