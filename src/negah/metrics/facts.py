"""Exact per-period facts and the small arithmetic the metric definitions share.

Each metric is a function of one :class:`PeriodFacts` returning a :class:`Value`
(value, numerator, denominator). Counts are ints, money is :class:`decimal.Decimal`,
and ratios are computed as exact fractions and rounded once to a float, so every engine
and every run gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

Number = int | Decimal | Fraction | float | None


class Value(NamedTuple):
    value: Number
    numerator: Number = None
    denominator: Number = None


def frac(x: Number) -> Fraction | None:
    if x is None:
        return None
    if isinstance(x, Fraction):
        return x
    if isinstance(x, float):
        return Fraction(x)
    return Fraction(x)


def ratio(num: Number, den: Number, scale: int = 1) -> Fraction | None:
    """``scale × num / den`` as an exact fraction, or None when undefined (den 0 or None)."""
    n, d = frac(num), frac(den)
    if n is None or d is None or d == 0:
        return None
    return scale * n / d


def count(x: Number) -> Value:
    """A count metric: null numerator and denominator."""
    return Value(x, None, None)


@dataclass
class PeriodFacts:
    """Everything the orders metrics need about one (segment, period)."""

    pkey: int
    has_prev: bool  # False for the first period of the data: P⁻ is unknown
    A: int = 0  # |A(P)|
    N: int = 0  # |N(P)|
    SA: int = 0  # |S ∩ A|
    R: int = 0  # |R(P)| repeat customers
    LN: int = 0  # new customers with >= 2 purchase orders in P
    S: int = 0  # |S(P)| = |A(P⁻)|
    prevA: int = 0  # |A(P⁻)|
    kept: Decimal = Decimal(0)
    lost: Decimal = Decimal(0)
    R0: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    returned: Decimal = Decimal(0)
    gap_sum_of_means: Fraction = Fraction(0)
    gap_customers: int = 0
    responses: int = 0
    promoters: int = 0
    detractors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def C(self) -> int:
        return self.S - self.SA

    @property
    def reactivated(self) -> int:
        return self.A - self.SA - self.N
