"""Product return rate: units returned in P / units sold in P (units = |quantity|).

Not bounded by 1: a period can return more units than it sold.
"""

from __future__ import annotations

from negah.metrics.facts import PeriodFacts, Value, ratio


def product_return_rate(x: PeriodFacts) -> Value:
    return Value(ratio(x.returned, x.sold), x.returned, x.sold)
