"""English and Persian strings, number and date formatting for the dashboard and reports.

English is the default. Persian pages are right-to-left, show Persian digits and Jalali
dates and periods. JSON and CSV keep ASCII digits; only display text is translated.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from negah.calendars import persian_digits
from negah.i18n import FA_NUMBER, LANGS, METRIC_NAMES

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app": "negah",
        "overview": "Overview",
        "trends": "Churn and retention",
        "cohorts": "Cohorts",
        "revenue": "Revenue churn and MRR",
        "growth": "Growth vs churn",
        "nps": "NPS",
        "clv": "CLV",
        "at_risk": "At risk",
        "complaints": "Complaint reasons",
        "contact_plan": "Contact plan",
        "customer": "Customer",
        "customers": "Customers",
        "login": "Log in",
        "logout": "Log out",
        "api_key": "API key",
        "language": "فارسی",
        "period": "Period",
        "calendar": "Calendar",
        "segment": "Segment",
        "apply": "Apply",
        "week": "Week",
        "month": "Month",
        "quarter": "Quarter",
        "year": "Year",
        "gregorian": "Gregorian",
        "jalali": "Jalali",
        "none": "(all)",
        "store_customers": "Customers",
        "store_orders": "Order lines",
        "store_revenue": "Revenue",
        "store_range": "Data from",
        "benchmark": "Benchmark",
        "alert": "Status",
        "alert_ok": "OK",
        "industry": "Industry",
        "industry_saas": "SaaS",
        "industry_retail": "Retail and online shops",
        "industry_finance": "Banking and finance",
        "industry_consulting": "Consulting and services",
        "alert_warn": "above range: watch",
        "alert_alert": "alert",
        "not_available": "Not available yet",
        "score_distribution": "Score distribution",
        "responses": "Responses",
        "comment": "Comment",
        "score": "Score",
        "date": "Date",
        "reason": "Reason",
        "product": "Product",
        "count": "Count",
        "spike": "Spike",
        "risk": "Risk",
        "customer_id": "Customer",
        "timeline": "Timeline",
        "log_complaint": "Log a complaint",
        "save": "Save",
        "saved": "Saved",
        "text": "Text",
        "kind": "Kind",
        "amount": "Amount",
        "detail": "Detail",
        "report_title": "negah retention report",
        "generated": "Generated",
        "store": "Store",
        "cohort": "Cohort",
        "periods_since": "Periods since first purchase",
        "survey_title": "How likely are you to recommend us to a friend or colleague?",
        "survey_low": "Not at all likely",
        "survey_high": "Extremely likely",
        "submit": "Send",
        "survey_thanks": "Thank you for your answer.",
        "survey_used": "This link has already been used or is not valid.",
        "value": "Value",
        "clv_distribution": "CLV distribution",
        "segments": "Segments",
        "channel": "Channel",
        "open_customer": "Open",
        "search_customer": "Customer id",
        "revenue_total": "Revenue",
        "series_value": "Value",
        "error": "Error",
        "login_help": "Paste an API key created with `negah keys create`.",
    },
    "fa": {
        "app": "نگاه",
        "overview": "نمای کلی",
        "trends": "ریزش و نگهداشت",
        "cohorts": "کوهورت‌ها",
        "revenue": "ریزش درآمد و درآمد ماهانه",
        "growth": "رشد در برابر ریزش",
        "nps": "شاخص خالص ترویج",
        "clv": "ارزش طول عمر مشتری",
        "at_risk": "مشتریان در خطر",
        "complaints": "دلایل شکایت",
        "contact_plan": "برنامه تماس",
        "customer": "مشتری",
        "customers": "مشتریان",
        "login": "ورود",
        "logout": "خروج",
        "api_key": "کلید دسترسی",
        "language": "English",
        "period": "دوره",
        "calendar": "تقویم",
        "segment": "بخش",
        "apply": "اعمال",
        "week": "هفته",
        "month": "ماه",
        "quarter": "فصل",
        "year": "سال",
        "gregorian": "میلادی",
        "jalali": "شمسی",
        "none": "(همه)",
        "store_customers": "مشتریان",
        "store_orders": "ردیف‌های سفارش",
        "store_revenue": "درآمد",
        "store_range": "داده از",
        "benchmark": "معیار صنعت",
        "alert": "وضعیت",
        "industry": "صنعت",
        "industry_saas": "نرم‌افزار به‌عنوان خدمت (SaaS)",
        "industry_retail": "خرده‌فروشی و فروشگاه آنلاین",
        "industry_finance": "بانکداری و خدمات مالی",
        "industry_consulting": "مشاوره و خدمات",
        "alert_ok": "خوب",
        "alert_warn": "بالاتر از محدوده: زیر نظر",
        "alert_alert": "هشدار",
        "not_available": "هنوز در دسترس نیست",
        "score_distribution": "توزیع امتیاز",
        "responses": "پاسخ‌ها",
        "comment": "نظر",
        "score": "امتیاز",
        "date": "تاریخ",
        "reason": "دلیل",
        "product": "محصول",
        "count": "تعداد",
        "spike": "جهش",
        "risk": "ریسک",
        "customer_id": "مشتری",
        "timeline": "رویدادها",
        "log_complaint": "ثبت شکایت",
        "save": "ذخیره",
        "saved": "ذخیره شد",
        "text": "متن",
        "kind": "نوع",
        "amount": "مبلغ",
        "detail": "جزئیات",
        "report_title": "گزارش ماندگاری نگاه",
        "generated": "تهیه شده",
        "store": "پایگاه داده",
        "cohort": "کوهورت",
        "periods_since": "دوره‌ها پس از نخستین خرید",
        "survey_title": "چقدر احتمال دارد ما را به یک دوست یا همکار پیشنهاد کنید؟",
        "survey_low": "اصلاً",
        "survey_high": "حتماً",
        "submit": "ارسال",
        "survey_thanks": "از پاسخ شما سپاسگزاریم.",
        "survey_used": "این پیوند قبلاً استفاده شده یا معتبر نیست.",
        "value": "مقدار",
        "clv_distribution": "توزیع ارزش طول عمر",
        "segments": "بخش‌ها",
        "channel": "کانال",
        "open_customer": "باز کردن",
        "search_customer": "شناسه مشتری",
        "revenue_total": "درآمد",
        "series_value": "مقدار",
        "error": "خطا",
        "login_help": "کلیدی را که با `negah keys create` ساخته‌اید وارد کنید.",
    },
}

for _lang in LANGS:  # metric names: one source of truth, shared with the command line
    STRINGS[_lang].update(METRIC_NAMES[_lang])


def check_lang(lang: str | None) -> str:
    lang = (lang or "en").lower().strip()
    return lang if lang in LANGS else "en"


def t(key: str, lang: str = "en") -> str:
    """The display string for ``key`` in ``lang`` (English, then the key itself, as fallback)."""
    return STRINGS.get(lang, STRINGS["en"]).get(key) or STRINGS["en"].get(key) or key


def ui(prefix: str, key: str, lang: str = "en") -> str:
    """The display string of ``prefix.key`` (a column, table, chart title …), else of ``key``."""
    got = STRINGS.get(lang, STRINGS["en"]).get(f"{prefix}.{key}") or STRINGS["en"].get(f"{prefix}.{key}")
    return got or t(key, lang)


def digits(text: Any, lang: str = "en") -> str:
    """``text`` with Persian digits, decimal (٫) and thousands (٬) separators, minus and
    percent signs in Persian; unchanged in English."""
    return str(text).translate(FA_NUMBER) if lang == "fa" else str(text)


def plain_digits(text: Any, lang: str = "en") -> str:
    """``text`` with Persian digits only (for ids and codes: signs and separators stay)."""
    return persian_digits(text) if lang == "fa" else str(text)


def period_label(label: Any, lang: str = "en", calendar: str = "gregorian", compact: bool = False) -> str:
    """A period label for display: as is in English (``1997-03``, ``1997-Q2``); in Persian
    with month or season names and Persian digits (``خرداد ۱۳۷۷``, ``تابستان ۱۳۷۷``), or
    with ``compact`` (chart axes) ``۱۳۷۷/۰۳``."""
    import re

    from negah.reports.ui_strings import GREGORIAN_MONTHS_FA, JALALI_MONTHS, JALALI_SEASONS

    s = str(label)
    if lang != "fa":
        return s
    jal = calendar == "jalali"
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", s)
    if m and compact:
        return persian_digits("/".join(x for x in m.groups() if x))
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if m:
        names = JALALI_MONTHS if jal else GREGORIAN_MONTHS_FA
        return persian_digits(f"{names[int(m[2]) - 1]} {m[1]}")
    m = re.fullmatch(r"(\d{4})-Q([1-4])", s)
    if m:
        return persian_digits(f"{JALALI_SEASONS[int(m[2]) - 1]} {m[1]}" if jal else f"سه‌ماههٔ {m[2]} {m[1]}")
    m = re.fullmatch(r"(\d{4})-W(\d{2})", s)
    if m:
        return persian_digits(f"هفتهٔ {int(m[2])} {m[1]}")
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if m:  # a Jalali week, labelled by its first day
        return persian_digits(f"هفتهٔ {int(m[3])} {JALALI_MONTHS[int(m[2]) - 1]} {m[1]}")
    return persian_digits(s)


def fmt(value: Any, kind: str = "num", lang: str = "en") -> str:
    """Format a value for display: ``pct`` (fraction -> %), ``int``, ``num``, ``money``, ``pts``."""
    if value is None:
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return digits(value, lang)
    if kind == "pct":
        s = f"{v * 100:.1f}%"
    elif kind == "int":
        s = f"{v:,.0f}"
    elif kind == "pts":
        s = f"{v:.1f}"
    elif kind == "money":
        s = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    else:
        s = f"{v:,.2f}"
    return digits(s, lang)


def fmt_date(value: Any, lang: str = "en") -> str:
    """ISO date for English; Jalali date with Persian digits for Persian."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = _dt.date.fromisoformat(value[:10])
        except ValueError:
            return digits(value, lang)
    if isinstance(value, _dt.datetime):
        value = value.date()
    if lang == "fa":
        import jdatetime

        j = jdatetime.date.fromgregorian(date=value)
        return digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}", lang)
    return value.isoformat()


def _merge_ui_strings() -> None:
    from negah.reports.ui_strings import UI

    for lang in LANGS:
        STRINGS[lang] = {**UI[lang], **STRINGS[lang]}


_merge_ui_strings()
