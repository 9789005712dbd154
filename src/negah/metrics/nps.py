"""Net promoter score: 100 × (promoters − detractors) / responses in P.

Promoters score 9–10, detractors 0–6 (the standard; the source article prints the
formula reversed and calls "under 6" detractors — negah follows the standard).
"""

from __future__ import annotations

from negah.metrics.facts import PeriodFacts, Value, ratio


def nps(x: PeriodFacts) -> Value:
    num = x.promoters - x.detractors
    return Value(ratio(num, x.responses, scale=100), num, x.responses)
