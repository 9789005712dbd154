"""Growth against churn: customer growth rate, reactivations, net adds, quick ratio.

Reactivated(P) = A(P) \\ (S ∪ N); net customer adds = |N| + |Reactivated| − |C|
(= |A(P)| − |S(P)|); quick ratio = (|N| + |Reactivated|) / |C|.
"""

from __future__ import annotations

from negah.metrics.facts import PeriodFacts, Value, count, ratio


def customer_growth_rate(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    diff = x.A - x.prevA
    return Value(ratio(diff, x.prevA), diff, x.prevA)


def reactivated_customers(x: PeriodFacts) -> Value:
    return count(x.reactivated if x.has_prev else None)


def net_customer_adds(x: PeriodFacts) -> Value:
    return count(x.N + x.reactivated - x.C if x.has_prev else None)


def quick_ratio(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    num = x.N + x.reactivated
    return Value(ratio(num, x.C), num, x.C)
