"""Calendar periods against known dates (Gregorian ISO weeks, Jalali months/quarters/years)."""

from __future__ import annotations

import datetime as dt

import pytest

from negah.calendars import Calendar, period_of, persian_digits, to_date
from negah.errors import InputError

D = dt.date


def test_farvardin_1399_and_1400_start_the_jalali_years():
    y1399 = period_of("2020-03-20", "year", "jalali")
    assert (y1399.label, y1399.start, y1399.end) == ("1399", D(2020, 3, 20), D(2021, 3, 21))
    y1400 = period_of("2021-03-21", "year", "jalali")
    assert (y1400.label, y1400.start) == ("1400", D(2021, 3, 21))
    assert period_of("2020-03-19", "year", "jalali").label == "1398"


def test_esfand_has_30_days_in_leap_1399_and_29_in_common_1400():
    esf99 = period_of("2021-03-20", "month", "jalali")
    assert (esf99.label, esf99.start, esf99.end) == ("1399-12", D(2021, 2, 19), D(2021, 3, 21))
    assert (esf99.end - esf99.start).days == 30
    esf00 = period_of("2022-03-20", "month", "jalali")
    assert (esf00.label, esf00.start, esf00.end) == ("1400-12", D(2022, 2, 20), D(2022, 3, 21))
    assert (esf00.end - esf00.start).days == 29


def test_jalali_months_and_quarters():
    far = period_of("2020-04-01", "month", "jalali")
    assert (far.label, far.start, far.end) == ("1399-01", D(2020, 3, 20), D(2020, 4, 20))
    mehr = period_of("2020-09-22", "month", "jalali")  # 1 Mehr 1399
    assert (mehr.label, mehr.start, (mehr.end - mehr.start).days) == ("1399-07", D(2020, 9, 22), 30)
    q2 = period_of("2020-07-01", "quarter", "jalali")
    assert (q2.label, q2.start, q2.end) == ("1399-Q2", D(2020, 6, 21), D(2020, 9, 22))
    q4 = period_of("2021-03-01", "quarter", "jalali")
    assert (q4.label, q4.start, q4.end) == ("1399-Q4", D(2020, 12, 21), D(2021, 3, 21))


def test_jalali_weeks_start_on_saturday_labelled_by_that_saturday():
    w = period_of("2020-03-25", "week", "jalali")
    assert w.start.weekday() == 5 and w.start == D(2020, 3, 21)
    assert w.label == "1399-01-02" and w.end == D(2020, 3, 28)
    assert period_of("2020-03-21", "week", "jalali").start == D(2020, 3, 21)
    assert period_of("2020-03-20", "week", "jalali").label == "1398-12-24"


def test_gregorian_iso_weeks_months_quarters_years():
    w = period_of("2011-03-01", "week")
    assert (w.label, w.start, w.end) == ("2011-W09", D(2011, 2, 28), D(2011, 3, 7))
    assert period_of("2021-01-03", "week").label == "2020-W53"  # ISO year differs
    assert period_of("2011-03-15", "month").label == "2011-03"
    q = period_of("2011-03-15", "quarter")
    assert (q.label, q.start, q.end) == ("2011-Q1", D(2011, 1, 1), D(2011, 4, 1))
    y = period_of("2011-12-31", "year")
    assert (y.label, y.end) == ("2011", D(2012, 1, 1))


def test_calendar_is_contiguous_and_day_table_maps_every_day():
    cal = Calendar("2020-02-25", "2021-04-02", "month", "jalali")
    for a, b in zip(cal.periods, cal.periods[1:]):
        assert a.end == b.start
    days = cal.days_frame()
    assert days["d"].iloc[0] == cal.start and len(days) == (cal.end - cal.start).days
    for d, k in zip(days["d"], days["pkey"]):
        assert cal.periods[k].contains(d)
    assert cal.index_of("2020-03-20") == 1


def test_labels_ascii_and_persian_digits_for_display():
    assert period_of("2020-06-01", "month", "jalali").label == "1399-03"
    assert persian_digits("1399-03") == "۱۳۹۹-۰۳"


def test_jalali_input_dates_and_errors():
    assert to_date("1399-01-01") == D(2020, 3, 20)
    assert to_date("۱۴۰۰/۰۱/۰۱") == D(2021, 3, 21)
    with pytest.raises(InputError, match="period 'day' is not known"):
        period_of("2020-01-01", "day")
    with pytest.raises(InputError, match="is not a date"):
        to_date("31/31/2020")


@pytest.mark.parametrize(
    "period, calendar", [("week", "jalali"), ("month", "gregorian"), ("quarter", "jalali"), ("year", "gregorian")]
)
def test_day_masks_count_every_day_of_a_period(period, calendar):
    """The roll-up's day masks: OR-ing the bits of a period's days and counting the set bits
    (the SQL popcount) gives its number of days, for every word layout (1 to 6 words)."""
    from negah.metrics.base import bit_or, calendar_table, mask_words, popcount
    from negah.store.connect import open_store

    cal = Calendar(D(2019, 12, 25), D(2021, 1, 10), period, calendar)
    words = mask_words(cal)
    assert words == {"week": 1, "month": 1, "quarter": 2, "year": 6}[period]
    with open_store(":memory:") as s:
        t = calendar_table(s, cal, words)
        m = t.group_by("pkey").aggregate(n=t.count(), **{f"m{w}": bit_or(t[f"b{w}"]) for w in range(words)})
        m = popcount(m, {"days": [f"m{w}" for w in range(words)]})
        df = s.execute(m.select("pkey", "n", "days").order_by("pkey"))
    assert df["days"].tolist() == df["n"].tolist() == [(p.end - p.start).days for p in cal.periods]
