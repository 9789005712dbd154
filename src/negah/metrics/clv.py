"""Customer lifetime value, simple form: arpu / churn_rate.

Revenue per active customer per period times the expected lifetime in periods
(1 / churn). Null when arpu or churn is null, or churn is 0 (an unbounded lifetime).
For model-based CLV see :mod:`negah.models`.
"""

from __future__ import annotations

from negah.metrics.churn import churn_rate
from negah.metrics.facts import PeriodFacts, Value, ratio
from negah.metrics.revenue import arpu


def clv(x: PeriodFacts) -> Value:
    a = arpu(x).value
    c = churn_rate(x).value
    return Value(ratio(a, c), a, c)
