"""Repeat purchases, loyal customers and time between purchases.

Repeat and loyal counts are in purchase orders, not days: a second order on the day of
the first-ever order is a repeat purchase. Gaps are in days between consecutive distinct
purchase days of one customer; a gap belongs to the period of its later day.
"""

from __future__ import annotations

from negah.metrics.facts import PeriodFacts, Value, ratio


def repeat_purchase_rate(x: PeriodFacts) -> Value:
    return Value(ratio(x.R, x.A), x.R, x.A)


def loyal_customer_rate(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    num = x.SA + x.LN
    den = x.S + x.N
    return Value(ratio(num, den), num, den)


def time_between_purchases_days(x: PeriodFacts) -> Value:
    return Value(ratio(x.gap_sum_of_means, x.gap_customers), x.gap_sum_of_means, x.gap_customers)
