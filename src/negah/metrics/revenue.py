"""Revenue churn, net revenue retention and ARPU.

rev(c,P) sums ``amount`` over all of c's rows dated in P (purchases minus returns);
R0 = Σ_{c∈S} rev(c,P⁻). Revenue churn is null only when R0 = 0 (or in the first period).
"""

from __future__ import annotations

from negah.metrics.facts import PeriodFacts, Value, ratio


def revenue_churn_gross(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    return Value(ratio(x.lost, x.R0), x.lost, x.R0)


def revenue_churn_net(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    num = x.R0 - x.kept
    return Value(ratio(num, x.R0), num, x.R0)


def net_revenue_retention(x: PeriodFacts) -> Value:
    if not x.has_prev:
        return Value(None, None, None)
    return Value(ratio(x.kept, x.R0), x.kept, x.R0)


def arpu(x: PeriodFacts) -> Value:
    return Value(ratio(x.revenue, x.A), x.revenue, x.A)
