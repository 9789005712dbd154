"""Customer counts, churn and retention (spec: "Sets" and the first rows of the table).

S(P) = A(P⁻); C(P) = S \\ A(P); N(P) = first-ever purchase order in P. New customers
never enter the churn rate. Anything that needs P⁻ is null in the data's first period.
"""

from __future__ import annotations

from negah.metrics.facts import PeriodFacts, Value, count, ratio


def active_customers(x: PeriodFacts) -> Value:
    return count(x.A)


def new_customers(x: PeriodFacts) -> Value:
    return count(x.N)


def churned_customers(x: PeriodFacts) -> Value:
    return count(x.C if x.has_prev else None)


def churn_rate(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    return Value(ratio(x.C, x.S), x.C, x.S)


def retention_rate(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    return Value(ratio(x.SA, x.S), x.SA, x.S)
