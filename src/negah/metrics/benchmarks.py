"""Place the business against the industry churn ranges of the source articles.

Yearly churn (spec, "Benchmarks"):

* orders: ``churn_rate`` measured with ``period="year"`` — never compounded from monthly
  churn (a customer who buys once a quarter is not churned every month). The latest
  complete year whose previous year is complete too is used; when the data holds no
  such year the latest year with a value is used and marked ``complete: false``.
* subscriptions: monthly churn compounded, 1 − (1 − c)^12, with c the mean monthly
  ``churn_rate`` over the last (up to) 12 complete months.

Ranges (yearly churn): SaaS 5–10% (strong companies under 5%), retail and online shops
20–30%, banking and financial services 10–15%, consulting and customer services under
10%. Yearly churn above 10% raises the articles' alert: measure satisfaction and find
the cause. For retail, the product return rate is also set against online B2C's 9–20%.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from negah.errors import InputError

INDUSTRIES: dict[str, dict[str, Any]] = {
    "saas": {"name": "SaaS", "fa": "نرم‌افزار به‌عنوان خدمت (SaaS)", "low": 0.05, "high": 0.10, "strong": 0.05},
    "retail": {"name": "retail and online shops", "fa": "خرده‌فروشی و فروشگاه‌های آنلاین", "low": 0.20, "high": 0.30},
    "finance": {"name": "banking and financial services", "fa": "بانکداری و خدمات مالی", "low": 0.10, "high": 0.15},
    "consulting": {"name": "consulting and customer services", "fa": "مشاوره و خدمات مشتری", "low": None, "high": 0.10},
}
ALERT_THRESHOLD = 0.10
RETURN_RANGE = (0.09, 0.20)


def _position(v: float, low: float | None, high: float | None) -> str:
    if low is not None and v < low:
        return "below"
    if high is not None and v > high:
        return "above"
    return "within"


def benchmark(
    source: Any, industry: str, basis: str = "orders", calendar: str = "gregorian", engine: str = "duckdb"
) -> list[dict[str, Any]]:
    """Benchmark records: yearly churn (and, for retail, the return rate) against the ranges."""
    from negah.metrics.base import open_source
    from negah.metrics.engine import compute_records

    ind = str(industry).lower().strip()
    if ind not in INDUSTRIES:
        raise InputError(f"industry {industry!r} is not known: expected one of {', '.join(INDUSTRIES)}")
    spec = INDUSTRIES[ind]
    store, opened = open_source(source, engine=engine)
    try:
        out: list[dict[str, Any]] = []
        if basis == "subscriptions":
            recs = compute_records(store, "month", calendar, ["churn_rate"], basis="subscriptions")
            months = [r for r in recs if r["complete"] and r["value"] is not None][-12:]
            if not months:
                value = None
                period = None
                complete = False
            else:
                c = sum(Fraction(r["value"]) for r in months) / len(months)
                value = float(1 - (1 - c) ** 12)
                period = f"{months[0]['period']}..{months[-1]['period']}"
                complete = True
            method = f"1 - (1 - mean monthly churn)^12 over {len(months)} complete months"
        else:
            recs = compute_records(store, "year", calendar, ["churn_rate", "product_return_rate"])
            churn = [r for r in recs if r["metric"] == "churn_rate"]
            value, period, complete = None, None, False
            for i in range(len(churn) - 1, 0, -1):
                r = churn[i]
                if r["value"] is not None and r["complete"] and churn[i - 1]["complete"]:
                    value, period, complete = r["value"], r["period"], True
                    break
            else:
                withv = [r for r in churn if r["value"] is not None]
                if withv:
                    value, period = withv[-1]["value"], withv[-1]["period"]
            method = "churn_rate with period=year (not compounded)"
        rec: dict[str, Any] = {
            "metric": "yearly_churn",
            "industry": ind,
            "period": period,
            "value": value,
            "complete": complete,
            "method": method,
            "range_low": spec["low"],
            "range_high": spec["high"],
            "position": None if value is None else _position(value, spec["low"], spec["high"]),
            "alert": bool(value is not None and value > ALERT_THRESHOLD),
        }
        if value is None:
            rec["message"] = "not enough data: yearly churn needs two consecutive years of orders"
        elif rec["alert"]:
            rec["message"] = (
                "yearly churn above 10%: measure customer satisfaction (nps, complaints) and find the cause"
            )
        elif ind == "saas" and value < spec["strong"]:
            rec["message"] = "under 5%: the range of strong SaaS companies"
        else:
            rec["message"] = f"{rec['position']} the {spec['name']} range"
        out.append(rec)
        if ind == "retail" and basis != "subscriptions":
            rr = [r for r in recs if r["metric"] == "product_return_rate" and r["value"] is not None]
            full = [r for r in rr if r["complete"]] or rr
            if full:
                r = full[-1]
                out.append(
                    {
                        "metric": "product_return_rate",
                        "industry": ind,
                        "period": r["period"],
                        "value": r["value"],
                        "complete": r["complete"],
                        "method": "units returned / units sold, yearly",
                        "range_low": RETURN_RANGE[0],
                        "range_high": RETURN_RANGE[1],
                        "position": _position(r["value"], *RETURN_RANGE),
                        "alert": r["value"] > RETURN_RANGE[1],
                        "message": (
                            f"{_position(r['value'], *RETURN_RANGE)} the online B2C return range (9-20%)"
                            if r["value"]
                            else "no returned units in the data: a rate of 0 is "
                            "below the online B2C return range (9-20%), unless returns are not "
                            "recorded (a return is a line with negative quantity or amount, "
                            "or kind=return)"
                        ),
                    }
                )
        return out
    finally:
        if opened:
            store.close()


def _pct(v: float | None, fa: bool, places: int = 1) -> str:
    """``12.3%`` (``—`` when unknown), in Persian typography with ``fa``."""
    from negah.i18n import fa_number

    s = "—" if v is None else f"{100 * v:.{places}f}%"
    return fa_number(s) if fa else s


def describe(rec: dict[str, Any], lang: str = "en") -> str:
    """One line of text for a benchmark record (``negah benchmark``'s table), in English or
    Persian: the value, its period, the industry range and the verdict."""
    from negah.calendars import persian_digits
    from negah.i18n import metric_name

    fa = lang == "fa"
    spec = INDUSTRIES[rec["industry"]]
    ret = rec["metric"] == "product_return_rate"
    lo, hi = rec.get("range_low"), rec.get("range_high")
    if fa:
        rng = f"{_pct(lo, fa, 0)} تا {_pct(hi, fa, 0)}" if lo is not None else f"زیر {_pct(hi, fa, 0)}"
        where = "بازه مرجوعی فروشگاه‌های آنلاین B2C" if ret else f"بازه {spec['fa']}"
        strong = f"؛ شرکت‌های قوی زیر {_pct(spec['strong'], fa, 0)}" if not ret and "strong" in spec else ""
        name = metric_name("yearly_churn" if not ret else "product_return_rate", "fa")
        period = persian_digits(str(rec["period"] or "")).replace("..", " تا ")
        part = "" if rec["complete"] else " (دوره ناقص)"
        if rec["value"] is None:
            verdict = "داده کافی نیست: ریزش سالانه به دو سال پیاپی سفارش نیاز دارد"
        elif rec["alert"] and not ret:
            verdict = "هشدار: ریزش سالانه بالای ۱۰٪ است؛ رضایت مشتریان را بسنجید (NPS، شکایت‌ها) و علت را پیدا کنید"
        elif not ret and "strong" in spec and rec["value"] < spec["strong"]:
            verdict = "زیر ۵٪: در بازه شرکت‌های قوی SaaS"
        elif ret and not rec["value"]:
            verdict = (
                "در داده هیچ کالای مرجوعی نیست: نرخ صفر پایین‌تر از " + where + " است، مگر آن‌که "
                "مرجوعی‌ها ثبت نشده باشند (مرجوعی ردیفی با مقدار یا مبلغ منفی یا kind=return است)"
            )
        else:
            verdict = {"below": "پایین‌تر از", "above": "بالاتر از", "within": "درون"}[rec["position"]] + " " + where
            if rec["alert"]:
                verdict = "هشدار: " + verdict
        return f"{name} {period}{part}: {_pct(rec['value'], fa)}  [{where}: {rng}{strong}]  {verdict}"
    rng = f"{_pct(lo, fa, 0)}–{_pct(hi, fa, 0)}" if lo is not None else f"under {_pct(hi, fa, 0)}"
    strong = f"; strong companies under {_pct(spec['strong'], fa, 0)}" if not ret and "strong" in spec else ""
    where = "online B2C return range" if ret else f"{spec['name']} range"
    part = "" if rec["complete"] else " (incomplete period)"
    alert = "ALERT " if rec["alert"] else ""
    return (
        f"{rec['metric']} {rec['period'] or ''}{part}: {_pct(rec['value'], fa)}  [{where}: {rng}{strong}]  "
        f"{alert}{rec['message']}"
    )
