"""Per-customer reasons: the features that push a customer's churn score up, in plain words.

The contributions come from the model itself (LightGBM's TreeSHAP values, or the exact
linear contributions of the logistic baseline). A customer's reasons are the (up to) three
features with the largest *positive* contribution — what raises this customer's risk above
the average — written in English or Persian with the customer's own value:
"no purchase for 94 days", "2 complaints about late delivery", "۹۴ روز بدون خرید".

Phrasing is vectorised: each feature's distinct values are phrased once.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from negah.i18n import LANGS
from negah.predict.prepare import Preparer, format_number

_FA_DIGITS = str.maketrans("0123456789.-+%", "۰۱۲۳۴۵۶۷۸۹٫−+٪")


def fa_digits(text: str) -> str:
    """ASCII digits (and . - + %) in ``text`` as Persian ones."""
    return text.translate(_FA_DIGITS)


def _n(v: float) -> str:
    return format_number(v)


def _pct(v: float) -> str:
    return format_number(round(100 * v))


def _signed(v: float) -> str:
    s = format_number(round(v, 2))
    return s if s.startswith("-") or s == "0" else "+" + s


# name -> (value formatter, en template, fa template, en if missing, fa if missing)
# templates take {v} (formatted value), {w} (window days), {h} (horizon days)
STORE_PHRASES: dict[str, tuple[Callable[[float], str], str, str, str, str]] = {
    "recency_days": (_n, "no purchase for {v} days", "{v} روز بدون خرید", "", ""),
    "frequency": (_n, "{v} orders in total", "{v} سفارش در مجموع", "", ""),
    "purchase_days": (_n, "bought on {v} different days", "خرید در {v} روز مختلف", "", ""),
    "monetary_total": (_n, "total spend {v}", "مجموع خرید {v}", "", ""),
    "avg_order_value": (_n, "average order {v}", "میانگین سفارش {v}", "", ""),
    "tenure_days": (_n, "customer for {v} days", "{v} روز سابقه مشتری", "", ""),
    "orders_recent": (_n, "{v} orders in the last {w} days", "{v} سفارش در {w} روز اخیر", "", ""),
    "orders_prior": (_n, "{v} orders in the {w} days before that", "{v} سفارش در {w} روز پیش از آن", "", ""),
    "purchase_trend": (
        _signed,
        "orders changed by {v} in the last {w} days vs the {w} before",
        "تغییر تعداد سفارش در {w} روز اخیر نسبت به {w} روز قبل: {v}",
        "",
        "",
    ),
    "spend_recent": (_n, "spent {v} in the last {w} days", "خرید {v} در {w} روز اخیر", "", ""),
    "spend_prior": (_n, "spent {v} in the {w} days before that", "خرید {v} در {w} روز پیش از آن", "", ""),
    "spend_change": (
        lambda v: _signed(round(100 * v)),
        "spending changed by {v}% in the last {w} days vs the {w} before",
        "تغییر مبلغ خرید در {w} روز اخیر نسبت به {w} روز قبل: {v}%",
        "no spending in the {w} days before the last {w}",
        "بدون خرید در {w} روز پیش از {w} روز اخیر",
    ),
    "returns": (_n, "{v} returns", "{v} مرجوعی", "", ""),
    "return_rate": (_pct, "{v}% of spending returned", "{v}% از خرید مرجوع شده", "", ""),
    "complaints_total": (_n, "{v} complaints", "{v} شکایت", "", ""),
    "complaints_recent": (_n, "{v} complaints in the last {w} days", "{v} شکایت در {w} روز اخیر", "", ""),
    "days_since_complaint": (
        _n,
        "last complaint {v} days ago",
        "آخرین شکایت {v} روز پیش",
        "no complaints",
        "بدون شکایت",
    ),
    "nps_last": (_n, "last NPS score {v}", "آخرین امتیاز NPS: {v}", "no survey answer", "بدون پاسخ به نظرسنجی"),
    "nps_change": (
        _signed,
        "NPS score changed by {v}",
        "تغییر امتیاز NPS: {v}",
        "only one survey answer",
        "تنها یک پاسخ به نظرسنجی",
    ),
    "days_since_nps": (
        _n,
        "last survey answer {v} days ago",
        "آخرین پاسخ به نظرسنجی {v} روز پیش",
        "no survey answer",
        "بدون پاسخ به نظرسنجی",
    ),
    "nps_responses": (_n, "{v} survey answers", "{v} پاسخ به نظرسنجی", "", ""),
    "contacts_recent": (_n, "contacted {v} times in the last {w} days", "{v} تماس در {w} روز اخیر", "", ""),
    "contact_response_rate": (
        _pct,
        "responded to {v}% of contacts",
        "پاسخ به {v}% از تماس‌ها",
        "never contacted",
        "بدون تماس",
    ),
    "days_since_contact": (_n, "last contact {v} days ago", "آخرین تماس {v} روز پیش", "never contacted", "بدون تماس"),
    "subscriptions_active": (_n, "{v} active subscriptions", "{v} اشتراک فعال", "", ""),
    "mrr_now": (_n, "monthly revenue {v}", "درآمد ماهانه {v}", "", ""),
    "mrr_change": (
        _signed,
        "monthly revenue changed by {v} in the last {w} days",
        "تغییر درآمد ماهانه در {w} روز اخیر: {v}",
        "",
        "",
    ),
    "subscription_tenure_days": (_n, "subscriber for {v} days", "{v} روز اشتراک", "never subscribed", "بدون اشتراک"),
    "plan_changes": (_n, "{v} plan changes", "{v} بار تغییر طرح", "", ""),
    "loyalty_days": (
        _n,
        "loyalty member for {v} days",
        "{v} روز عضویت در باشگاه مشتریان",
        "not a loyalty member",
        "عضو باشگاه مشتریان نیست",
    ),
    "p_alive": (_pct, "{v}% chance of still being active (BTYD model)", "احتمال فعال بودن {v}% (مدل BTYD)", "", ""),
    "expected_purchases": (
        lambda v: format_number(round(v, 1)),
        "{v} purchases expected in the next {h} days",
        "{v} خرید مورد انتظار در {h} روز آینده",
        "",
        "",
    ),
}
STORE_TEXT_PHRASES = {  # categorical store features: name -> (en, fa) with {v} the category
    "plan_now": ("plan {v}", "طرح {v}"),
    "country": ("country {v}", "کشور {v}"),
    "acquisition_channel": ("acquired through {v}", "جذب از طریق {v}"),
    "customer_plan": ("tier {v}", "سطح {v}"),
}


class Describer:
    """Phrases feature values of one model in one language.

    Parameters
    ----------
    preparer
        The fitted :class:`Preparer` (column kinds, vocabularies, medians).
    mode
        ``"store"`` (negah's own features, phrased by :data:`STORE_PHRASES`) or
        ``"snapshot"`` (a user's columns, phrased generically: "MonthlyCharges is high (95.2)").
    context
        ``window`` and ``horizon`` days, and ``reasons`` (feature name -> complaint reason text).
    """

    def __init__(self, preparer: Preparer, mode: str, lang: str = "en", context: dict[str, Any] | None = None):
        if lang not in LANGS:
            from negah.errors import InputError

            raise InputError(f"language must be one of {', '.join(LANGS)}, received {lang!r}")
        self.preparer = preparer
        self.mode = mode
        self.lang = lang
        self.context = context or {}

    def says_missing(self, j: int) -> bool:
        """Whether a missing value of feature ``j`` can be a reason ("no survey answer").

        negah's own numeric features without a missing-value phrase (BTYD values when the
        fit failed, ratios without a denominator) are never given as reasons when missing.
        """
        if self.mode != "store":
            return True
        name = self.preparer.features[j].name
        if name in STORE_PHRASES:
            return bool(STORE_PHRASES[name][3])
        return name in self.context.get("reasons", {}) or name in STORE_TEXT_PHRASES

    def phrase(self, j: int, x: float) -> str:
        text = self._phrase(j, x)
        return fa_digits(text) if self.lang == "fa" else text

    def _phrase(self, j: int, x: float) -> str:
        spec = self.preparer.features[j]
        name = spec.name
        fa = self.lang == "fa"
        missing = x != x
        if self.mode == "store":
            ctx = {"w": self.context.get("window", ""), "h": self.context.get("horizon", "")}
            reasons = self.context.get("reasons", {})
            if name in reasons:
                reason = reasons[name]
                if missing or x == 0:
                    return f"بدون شکایت درباره {reason}" if fa else f"no complaints about {reason}"
                v = format_number(x)
                if fa:
                    return f"{v} شکایت درباره {reason}"
                return f"{v} complaint{'s' if v != '1' else ''} about {reason}"
            if name == "loyalty_member" and not missing:
                if x >= 0.5:
                    return "عضو باشگاه مشتریان" if fa else "loyalty member"
                return "عضو باشگاه مشتریان نیست" if fa else "not a loyalty member"
            if name in STORE_TEXT_PHRASES and spec.kind == "categorical":
                if missing:
                    return f"{name}: نامشخص" if fa else f"{name} unknown"
                tpl = STORE_TEXT_PHRASES[name][1 if fa else 0]
                return tpl.format(v=self.preparer.display_value(j, x))
            if name in STORE_PHRASES:
                fmt, en, fa_t, en_miss, fa_miss = STORE_PHRASES[name]
                if missing:
                    t = fa_miss if fa else en_miss
                    if t:
                        return t.format(**ctx)
                else:
                    return (fa_t if fa else en).format(v=fmt(x), **ctx)
        return self._generic(j, x)

    def _generic(self, j: int, x: float) -> str:
        spec = self.preparer.features[j]
        name = spec.name
        fa = self.lang == "fa"
        if x != x:
            return f"{name} خالی است" if fa else f"{name} is blank"
        if spec.kind == "categorical":
            return (
                f"{name}: {self.preparer.display_value(j, x)}"
                if fa
                else f"{name} is {self.preparer.display_value(j, x)}"
            )
        if spec.kind == "bool":
            yes = x >= 0.5
            return f"{name}: {'بله' if yes else 'خیر'}" if fa else f"{name}: {'yes' if yes else 'no'}"
        if spec.kind == "date":
            return date_phrase(name, x, fa)
        v = format_number(x)
        med = spec.median
        if med is None or med != med or x == med:
            return f"{name}: {v}" if fa else f"{name} is {v}"
        if x > med:
            return f"{name} بالاست ({v})" if fa else f"{name} is high ({v})"
        return f"{name} پایین است ({v})" if fa else f"{name} is low ({v})"


_DATE_WORDS = {"date", "dt", "day", "datum", "tarikh", "تاریخ"}
_LINK_WORDS = {"of", "at", "on"}


def date_label(name: str) -> str:
    """A date column's name as words: ``last_order_date`` and ``LastOrderDate`` -> ``last order``,
    ``contract_end`` -> ``contract end``; the name itself when nothing else is left."""
    import re

    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    words = [w for w in re.split(r"[\W_]+", spaced.lower()) if w]
    while words and words[-1] in _DATE_WORDS | _LINK_WORDS:
        words.pop()
    while words and words[0] in _DATE_WORDS | _LINK_WORDS:
        words.pop(0)
    return " ".join(words) or str(name)


def date_phrase(name: str, days: float, fa: bool = False) -> str:
    """``last order 94 days ago``, ``contract end in 30 days``, ``signup today`` (or Persian)."""
    from negah.predict.prepare import days_text

    label = date_label(name)
    d = int(round(days))
    if fa:
        when = "امروز" if d == 0 else (f"{d} روز پیش" if d > 0 else f"{-d} روز دیگر")
        return f"{label}: {when}"
    return f"{label} {days_text(d)}"


def top_reasons(contrib: np.ndarray, k: int = 3) -> np.ndarray:
    """Indices (n, k) of the k largest positive contributions per row, -1 where fewer.

    Ties go to the lower feature index, so the order is the same on every run.
    """
    n, p = contrib.shape
    k_eff = min(k, p)
    # stable: sort by -contribution, then feature index
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k_eff]
    vals = np.take_along_axis(contrib, order, axis=1)
    order = np.where(vals > 0, order, -1)
    if k_eff < k:
        order = np.hstack([order, -np.ones((n, k - k_eff), dtype=order.dtype)])
    return order


def reason_columns(contrib: np.ndarray, X: np.ndarray, describer: Describer, k: int = 3) -> list[np.ndarray]:
    """``k`` object arrays of reason texts (``""`` where a row has fewer positive drivers)."""
    silent = [j for j in range(X.shape[1]) if not describer.says_missing(j)]
    if silent:
        contrib = contrib.copy()
        for j in silent:
            contrib[np.isnan(X[:, j]), j] = 0.0
    idx = top_reasons(contrib, k)
    n = X.shape[0]
    cols = [np.full(n, "", dtype=object) for _ in range(k)]
    for j in np.unique(idx[idx >= 0]):
        rows_any = (idx == j).any(axis=1)
        vals = X[rows_any, j]
        u, inv = np.unique(vals, return_inverse=True)
        texts = np.array([describer.phrase(int(j), float(v)) for v in u], dtype=object)
        phrased = np.empty(n, dtype=object)
        phrased[rows_any] = texts[inv.reshape(-1)]
        for slot in range(k):
            m = idx[:, slot] == j
            cols[slot][m] = phrased[m]
    return cols
