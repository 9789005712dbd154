"""Periods in the Gregorian and Jalali (Solar Hijri) calendars — one mechanism.

A *period* is a half-open calendar interval ``[start, end)``: a week, month, quarter or
year. Every engine groups dates into periods the same way: negah builds a small
**calendar table** in Python (one row per day of the date range the data needs:
``d`` the date, ``dn`` the day number since 1970-01-01, ``pkey`` the period's index) and
ships it to the engine as a memtable / temporary table, where it is joined on the date.
No Python UDF runs inside an engine, so DuckDB, PostgreSQL, MySQL/MariaDB and Spark all
group identically, and Jalali periods cost what Gregorian ones do.

Periods (``spec/metrics.md``, "Periods"):

* Gregorian weeks are ISO weeks (Monday start, label ``%G-W%V``, e.g. ``2011-W09``);
  months ``2011-03``, quarters ``2011-Q1``, years ``2011``.
* Jalali weeks start on Saturday and are labelled by the Jalali date of that Saturday
  (``1399-01-02``); months ``1399-03``; quarters are months 1-3, 4-6, 7-9, 10-12
  (``1399-Q1``); the year starts on 1 Farvardin (``1399``).
* Labels always use ASCII digits; :func:`persian_digits` renders them for display.
* ``start``/``end`` are Gregorian dates also for Jalali periods.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PERIODS = ("week", "month", "quarter", "year")
CALENDARS = ("gregorian", "jalali")
EPOCH = _dt.date(1970, 1, 1)

_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class Period:
    """One period: ``index`` counts periods from the first of a :class:`Calendar`."""

    index: int
    label: str
    start: _dt.date
    end: _dt.date  # exclusive

    def contains(self, d: _dt.date) -> bool:
        return self.start <= d < self.end


def check(period: str, calendar: str) -> tuple[str, str]:
    """Validate ``period``/``calendar`` names (case-insensitive) and return them normalised."""
    p = str(period).lower().strip()
    c = str(calendar).lower().strip()
    if c in ("solar", "shamsi", "persian", "solar_hijri"):
        c = "jalali"
    if p not in PERIODS:
        raise InputError(f"period {period!r} is not known: expected one of {', '.join(PERIODS)}")
    if c not in CALENDARS:
        raise InputError(f"calendar {calendar!r} is not known: expected one of {', '.join(CALENDARS)}")
    return p, c


def persian_digits(text: object) -> str:
    """``text`` with ASCII digits replaced by Persian digits (for display only)."""
    return str(text).translate(_PERSIAN)


def to_date(value: object) -> _dt.date:
    """A Gregorian date from a date, datetime, pandas Timestamp or ISO / Jalali string.

    Strings with a year below 1700 (``1399-01-01``, ``1399/1/1``) are read as Jalali.
    """
    if value is None:
        raise InputError("date is missing: expected YYYY-MM-DD")
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()  # type: ignore[union-attr]
    s = str(value).strip().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789"))
    parts = s.replace("/", "-").split("T")[0].split(" ")[0].split("-")
    try:
        y, m, d = (int(x) for x in parts)
        if y < 1700:
            import jdatetime

            return jdatetime.date(y, m, d).togregorian()
        return _dt.date(y, m, d)
    except (ValueError, TypeError):
        raise InputError(
            f"date {value!r} is not a date: expected YYYY-MM-DD (Gregorian) or a Jalali date such as 1399-01-01"
        ) from None


# ------------------------------------------------------------------------------------
# period starts
# ------------------------------------------------------------------------------------

# Months, quarters and years are runs of whole months in both calendars: the same
# arithmetic on (year, month), whichever calendar the pair is in.
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _first_month(month: int, period: str) -> int:
    """The first month of the month, quarter or year that contains ``month``."""
    n = _MONTHS[period]
    return (month - 1) // n * n + 1


def _following(year: int, month: int, period: str) -> tuple[int, int]:
    """(year, month) of the period after the one starting at ``month``."""
    m = month - 1 + _MONTHS[period]
    return year + m // 12, m % 12 + 1


def _label(year: int, month: int, period: str) -> str:
    """``1399-03``, ``1399-Q1`` or ``1399`` (weeks are labelled by each calendar its own way)."""
    if period == "month":
        return f"{year:04d}-{month:02d}"
    if period == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}"


def _gregorian_start(d: _dt.date, period: str) -> _dt.date:
    if period == "week":
        return d - _dt.timedelta(days=d.weekday())
    return _dt.date(d.year, _first_month(d.month, period), 1)


def _gregorian_next(s: _dt.date, period: str) -> _dt.date:
    if period == "week":
        return s + _dt.timedelta(days=7)
    return _dt.date(*_following(s.year, s.month, period), 1)


def _gregorian_label(s: _dt.date, period: str) -> str:
    if period == "week":
        y, w, _ = s.isocalendar()
        return f"{y:04d}-W{w:02d}"
    return _label(s.year, s.month, period)


def _jalali_start(d: _dt.date, period: str) -> _dt.date:
    import jdatetime

    if period == "week":
        # Saturday start: Python weekday() is Monday=0 ... Saturday=5
        return d - _dt.timedelta(days=(d.weekday() - 5) % 7)
    j = jdatetime.date.fromgregorian(date=d)
    return jdatetime.date(j.year, _first_month(j.month, period), 1).togregorian()


def _jalali_next(s: _dt.date, period: str) -> _dt.date:
    import jdatetime

    if period == "week":
        return s + _dt.timedelta(days=7)
    j = jdatetime.date.fromgregorian(date=s)
    return jdatetime.date(*_following(j.year, j.month, period), 1).togregorian()


def _jalali_label(s: _dt.date, period: str) -> str:
    import jdatetime

    j = jdatetime.date.fromgregorian(date=s)
    if period == "week":
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    return _label(j.year, j.month, period)


def period_start(d: object, period: str = "month", calendar: str = "gregorian") -> _dt.date:
    """The first day of the period that contains ``d``."""
    period, calendar = check(period, calendar)
    day = to_date(d)
    return (_jalali_start if calendar == "jalali" else _gregorian_start)(day, period)


def period_of(d: object, period: str = "month", calendar: str = "gregorian") -> Period:
    """The period that contains ``d`` (``index`` 0)."""
    period, calendar = check(period, calendar)
    s = period_start(d, period, calendar)
    nxt = _jalali_next if calendar == "jalali" else _gregorian_next
    lab = _jalali_label if calendar == "jalali" else _gregorian_label
    return Period(0, lab(s, period), s, nxt(s, period))


# ------------------------------------------------------------------------------------
# calendars
# ------------------------------------------------------------------------------------


class Calendar:
    """The contiguous periods that cover ``[first, last]`` (both dates included).

    >>> cal = Calendar("2020-03-01", "2020-04-30", "month", "jalali")
    >>> [p.label for p in cal.periods]
    ['1398-12', '1399-01', '1399-02']
    """

    def __init__(self, first: object, last: object, period: str = "month", calendar: str = "gregorian"):
        self.period, self.calendar = check(period, calendar)
        self.first = to_date(first)
        self.last = to_date(last)
        if self.last < self.first:
            raise InputError(f"calendar range is empty: {self.first} is after {self.last}")
        jal = self.calendar == "jalali"
        nxt = _jalali_next if jal else _gregorian_next
        lab = _jalali_label if jal else _gregorian_label
        s = (_jalali_start if jal else _gregorian_start)(self.first, self.period)
        periods: list[Period] = []
        while s <= self.last:
            e = nxt(s, self.period)
            periods.append(Period(len(periods), lab(s, self.period), s, e))
            s = e
        self.periods: list[Period] = periods

    def __len__(self) -> int:
        return len(self.periods)

    def __repr__(self) -> str:
        return (
            f"<Calendar {self.calendar} {self.period} {self.periods[0].label}.."
            f"{self.periods[-1].label} ({len(self)} periods)>"
        )

    @property
    def start(self) -> _dt.date:
        return self.periods[0].start

    @property
    def end(self) -> _dt.date:
        return self.periods[-1].end

    def index_of(self, d: object) -> int | None:
        """Index of the period containing ``d``, or None outside the calendar."""
        import bisect

        day = to_date(d)
        if day < self.start or day >= self.end:
            return None
        starts = [p.start for p in self.periods]
        return bisect.bisect_right(starts, day) - 1

    def days_frame(self) -> "pd.DataFrame":
        """One row per day of the calendar: ``d`` (date), ``dn`` (days since 1970-01-01),
        ``pkey`` (period index). This is the table joined in the engine."""
        import numpy as np
        import pandas as pd

        first = (self.start - EPOCH).days
        last = (self.end - EPOCH).days
        dn = np.arange(first, last, dtype=np.int64)
        starts = np.array([(p.start - EPOCH).days for p in self.periods], dtype=np.int64)
        pkey = np.searchsorted(starts, dn, side="right") - 1
        d = np.datetime64("1970-01-01", "D") + dn.astype("timedelta64[D]")
        return pd.DataFrame({"d": pd.Series(d).dt.date, "dn": dn, "pkey": pkey.astype(np.int64)})

    def memtable(self):
        """The day table as an Ibis memtable (``d`` date, ``dn`` int64, ``pkey`` int64)."""
        import ibis

        return ibis.memtable(self.days_frame(), schema={"d": "date", "dn": "int64", "pkey": "int64"})
