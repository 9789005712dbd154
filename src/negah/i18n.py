"""Display names of the metrics (English and Persian) and Persian number typography.

The one source of truth for what a metric is called on screen: the command line's tables
(:mod:`negah.metrics.output`) and the dashboard and reports (:mod:`negah.reports.i18n`)
both read :data:`METRIC_NAMES`. Persian wording follows the retention literature:
ریزش for churn, نگهداشت for retention (one word everywhere), مرجوعی for returns.

Persian numbers are written with Persian digits, the Persian decimal separator ``٫``
(U+066B), the thousands separator ``٬`` (U+066C) and the minus sign ``−``
(:func:`fa_number`); labels such as ``1399-03`` only change their digits
(:func:`negah.calendars.persian_digits`). JSON and CSV always keep ASCII.
"""

from __future__ import annotations

import re

from negah.calendars import persian_digits

LANGS = ("en", "fa")

METRIC_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "active_customers": "Active customers",
        "new_customers": "New customers",
        "churned_customers": "Churned customers",
        "churn_rate": "Churn rate",
        "retention_rate": "Retention rate",
        "revenue_churn_gross": "Gross revenue churn",
        "revenue_churn_net": "Net revenue churn",
        "net_revenue_retention": "Net revenue retention",
        "repeat_purchase_rate": "Repeat purchase rate",
        "loyal_customer_rate": "Loyal customer rate",
        "product_return_rate": "Product return rate",
        "time_between_purchases_days": "Days between purchases",
        "nps": "NPS",
        "arpu": "ARPU",
        "clv": "CLV",
        "customer_growth_rate": "Customer growth rate",
        "reactivated_customers": "Reactivated",
        "net_customer_adds": "Net customer adds",
        "quick_ratio": "Quick ratio",
        "acquisition_spend": "Acquisition spend",
        "cac": "CAC",
        "clv_to_cac": "CLV / CAC",
        "mrr": "MRR",
        "mrr_new": "New MRR",
        "mrr_expansion": "Expansion MRR",
        "mrr_contraction": "Contraction MRR",
        "mrr_churned": "Churned MRR",
        "mrr_reactivated": "Reactivated MRR",
        "yearly_churn": "Yearly churn",
    },
    "fa": {
        "active_customers": "مشتریان فعال",
        "new_customers": "مشتریان جدید",
        "churned_customers": "مشتریان ریزش‌کرده",
        "churn_rate": "نرخ ریزش",
        "retention_rate": "نرخ نگهداشت",
        "revenue_churn_gross": "ریزش ناخالص درآمد",
        "revenue_churn_net": "ریزش خالص درآمد",
        "net_revenue_retention": "نگهداشت خالص درآمد",
        "repeat_purchase_rate": "نرخ خرید مجدد",
        "loyal_customer_rate": "نرخ مشتریان وفادار",
        "product_return_rate": "نرخ مرجوعی کالا",
        "time_between_purchases_days": "فاصله میان خریدها (روز)",
        "nps": "شاخص خالص ترویج‌کنندگان",
        "arpu": "درآمد به ازای هر مشتری",
        "clv": "ارزش طول عمر مشتری",
        "customer_growth_rate": "نرخ رشد مشتری",
        "reactivated_customers": "مشتریان بازگشته",
        "net_customer_adds": "افزایش خالص مشتریان",
        "quick_ratio": "نسبت سریع رشد",
        "acquisition_spend": "هزینه جذب مشتری",
        "cac": "هزینه جذب هر مشتری",
        "clv_to_cac": "نسبت ارزش طول عمر به هزینه جذب",
        "mrr": "درآمد ماهانه تکرارشونده",
        "mrr_new": "درآمد ماهانه جدید",
        "mrr_expansion": "افزایش درآمد ماهانه",
        "mrr_contraction": "کاهش درآمد ماهانه",
        "mrr_churned": "درآمد ماهانه ریزش‌کرده",
        "mrr_reactivated": "درآمد ماهانه بازگشته",
        "yearly_churn": "ریزش سالانه",
    },
}

# Activity-window metrics carry their window in the name: churn_rate_90d.
_WINDOW = re.compile(r"^(active_customers|churned_customers|churn_rate|retention_rate)_(\d+)d$")
_WINDOW_FMT = {"en": "{name} ({days}-day window)", "fa": "{name} (پنجره {days} روزه)"}

FA_NUMBER = str.maketrans("0123456789.,-%", "۰۱۲۳۴۵۶۷۸۹٫٬−٪")


def metric_name(metric: str, lang: str = "en") -> str:
    """The display name of ``metric`` in ``lang`` (the metric's own name when unknown)."""
    names = METRIC_NAMES.get(lang, METRIC_NAMES["en"])
    if metric in names:
        return names[metric]
    m = _WINDOW.match(metric)
    if m:
        days = persian_digits(m.group(2)) if lang == "fa" else m.group(2)
        return _WINDOW_FMT.get(lang, _WINDOW_FMT["en"]).format(name=names[m.group(1)], days=days)
    return metric


def fa_number(text: object) -> str:
    """A formatted number (``-1,234.5%``) in Persian typography (``−۱٬۲۳۴٫۵%``)."""
    return str(text).translate(FA_NUMBER)
