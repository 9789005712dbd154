"""Display strings of the dashboard and the report beyond the metric names: chart and
table titles, column headers, empty states, reason codes, next steps, period names.

Merged under :data:`negah.reports.i18n.STRINGS` (which wins on a clash). Keys:
``chart.<id>``, ``table.<id>``, ``col.<column>``, ``empty.<id>``, ``reason.<code>``,
``kind.<timeline kind>``, ``seg.<segment>``; the library's English next steps and
method names are keys themselves, so their Persian text is found by the English one.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # charts
    "chart.churn_rate": "Churn and retention rate", "chart.active_customers": "Active, new and churned customers",
    "chart.repeat_purchase_rate": "Repeat purchase, loyal customer and return rates",
    "chart.revenue_churn_net": "Revenue churn and net revenue retention", "chart.mrr": "Monthly recurring revenue",
    "chart.mrr_movements": "MRR movements: new, expansion, contraction, churned",
    "chart.new_customers": "New vs churned customers", "chart.customer_growth_rate": "Customer growth vs churn rate",
    "chart.nps": "NPS per period (−100 to 100)", "chart.score_distribution": "Answers per score (0–10)",
    "chart.clv": "Average CLV per period", "chart.clv_distribution": "Customers by CLV (model, one year)",
    "chart.segments": "Customers per RFM segment", "chart.complaints": "Complaints per reason",
    "chart.cohorts": "Retention of each first-purchase cohort, by periods since the first purchase",
    # tables
    "table.metrics": "Metrics per period", "table.segments": "RFM segments", "table.at_risk":
    "Who to save first: churn risk × customer value", "table.reasons": "Complaints by reason and product",
    "table.spikes": "Complaint spikes", "table.contact_plan": "Best channel and time to reach each customer",
    "table.comments": "Latest survey comments", "table.timeline": "Timeline", "table.reason": "Why at risk",
    "show_all": "Show all {n}", "rows_shown": "{shown} of {n} shown",
    # empty states
    "empty.chart": "No data for this chart in the selected range.", "empty.table": "Nothing to list yet.",
    "empty.spikes": "No unusual rise in complaints was found.", "empty.comments": "No survey comments yet.",
    "empty.at_risk": "No customer to list yet.", "empty.contact_plan": "No contact plan yet.",
    "empty.reason": "No reason recorded.",
    # columns
    "col.period": "Period", "col.metric": "Metric", "col.value": "Value", "col.rank": "Rank",
    "col.customer_id": "Customer", "col.churn_probability": "Churn risk", "col.clv": "CLV",
    "col.value_at_risk": "Value at risk", "col.segment": "Segment", "col.reasons": "Reasons",
    "col.next_step": "Next step", "col.channel": "Best channel", "col.method": "Risk from",
    "col.customers": "Customers", "col.revenue": "Revenue", "col.clv_mean": "Mean CLV",
    "col.clv_total": "Total CLV", "col.profitable": "Profitable share", "col.reason": "Reason",
    "col.product_id": "Product", "col.count": "Complaints", "col.response_date": "Date", "col.score": "Score",
    "col.comment": "Comment", "col.contacts": "Contacts", "col.responses": "Responses",
    "col.best_channel": "Best channel", "col.channel_rate": "Response rate", "col.channel_contacts":
    "Contacts on it", "col.second_channel": "Second channel", "col.best_hour": "Best hour",
    "col.hour_rate": "Response rate at that hour", "col.best_weekday": "Best weekday",
    "col.weekday_rate": "Response rate that day", "col.confidence": "Confidence", "col.date": "Date",
    "col.kind": "Kind", "col.detail": "Detail", "col.amount": "Amount", "col.quantity": "Quantity",
    "col.order_id": "Order", "col.status": "Status", "col.text": "Text", "col.direction": "Direction",
    "col.outcome": "Outcome", "col.campaign_id": "Campaign", "col.offer": "Offer", "col.survey_id": "Survey",
    "col.responded_at": "Responded", "col.converted_at": "Converted", "col.spike": "Spike",
    "col.expected": "Expected", "col.observed": "Observed", "col.p_value": "p-value", "col.q_value": "q-value",
    "col.ratio": "Ratio", "detail.channel": "Channel", "detail.reason": "Reason",
    # timeline kinds
    "kind.order": "Order", "kind.return": "Return", "kind.complaint": "Complaint", "kind.contact": "Contact",
    "kind.nps": "Survey answer", "kind.campaign": "Campaign",
    # RFM segments
    "seg.champions": "Champions", "seg.loyal": "Loyal", "seg.potential": "Potential", "seg.new": "New",
    "seg.promising": "Promising", "seg.need_attention": "Need attention", "seg.cant_lose": "Can't lose",
    "seg.at_risk": "At risk", "seg.hibernating": "Hibernating", "seg.lost": "Lost",
    # at-risk reasons and complaint reasons
    "reason.overdue": "overdue", "reason.detractor": "survey detractor", "reason.spend_down": "spending less",
    "reason.complaint": "complaint", "reason.none": "none",
    "price": "price", "quality": "quality", "delivery": "delivery", "service": "service", "billing": "billing",
    "product_missing": "product missing", "other": "other",
    # misc
    "menu": "Pages", "hover_hint": "Point at the chart to read the values.", "low": "low", "medium": "medium",
    "high": "high", "nps_range": "−100 to 100",
    "Mon": "Mon", "Tue": "Tue", "Wed": "Wed", "Thu": "Thu", "Fri": "Fri", "Sat": "Sat", "Sun": "Sun",
}

FA: dict[str, str] = {
    "chart.churn_rate": "نرخ ریزش و ماندگاری", "chart.active_customers": "مشتریان فعال، جدید و ریزش‌کرده",
    "chart.repeat_purchase_rate": "نرخ خرید تکراری، مشتریان وفادار و مرجوعی",
    "chart.revenue_churn_net": "ریزش درآمد و ماندگاری خالص درآمد", "chart.mrr": "درآمد ماهانه تکرارشونده",
    "chart.mrr_movements": "تغییرات درآمد ماهانه: جدید، افزایش، کاهش، از دست رفته",
    "chart.new_customers": "مشتریان جدید در برابر ریزش‌کرده", "chart.customer_growth_rate":
    "نرخ رشد مشتری در برابر نرخ ریزش", "chart.nps": "شاخص خالص ترویج در هر دوره (از منفی ۱۰۰ تا ۱۰۰)",
    "chart.score_distribution": "تعداد پاسخ‌ها برای هر امتیاز (۰ تا ۱۰)", "chart.clv": "میانگین ارزش طول عمر در هر دوره",
    "chart.clv_distribution": "مشتریان بر پایهٔ ارزش طول عمر (مدل، یک سال)",
    "chart.segments": "مشتریان در هر بخش RFM", "chart.complaints": "شکایت‌ها بر پایهٔ دلیل",
    "chart.cohorts": "ماندگاری هر کوهورت نخستین خرید، بر پایهٔ دوره‌های پس از نخستین خرید",
    "table.metrics": "شاخص‌ها در هر دوره", "table.segments": "بخش‌های RFM",
    "table.at_risk": "چه کسی را اول نگه داریم: ریسک ریزش × ارزش مشتری", "table.reasons": "شکایت‌ها بر پایهٔ دلیل و محصول",
    "table.spikes": "جهش شکایت‌ها", "table.contact_plan": "بهترین کانال و زمان تماس با هر مشتری",
    "table.comments": "تازه‌ترین نظرهای نظرسنجی", "table.timeline": "رویدادها", "table.reason": "چرا در خطر است",
    "show_all": "نمایش همهٔ {n} ردیف", "rows_shown": "{shown} از {n} ردیف",
    "empty.chart": "در این بازه داده‌ای برای این نمودار نیست.", "empty.table": "هنوز چیزی برای نمایش نیست.",
    "empty.spikes": "افزایش غیرعادی در شکایت‌ها دیده نشد.", "empty.comments": "هنوز نظری ثبت نشده است.",
    "empty.at_risk": "هنوز مشتری‌ای برای نمایش نیست.", "empty.contact_plan": "هنوز برنامهٔ تماسی نیست.",
    "empty.reason": "دلیلی ثبت نشده است.",
    "col.period": "دوره", "col.metric": "شاخص", "col.value": "مقدار", "col.rank": "رتبه", "col.customer_id": "مشتری",
    "col.churn_probability": "ریسک ریزش", "col.clv": "ارزش طول عمر", "col.value_at_risk": "ارزش در خطر",
    "col.segment": "بخش", "col.reasons": "دلیل‌ها", "col.next_step": "گام بعدی", "col.channel": "بهترین کانال",
    "col.method": "ریسک از", "col.customers": "مشتریان", "col.revenue": "درآمد", "col.clv_mean": "میانگین ارزش طول عمر",
    "col.clv_total": "جمع ارزش طول عمر", "col.profitable": "سهم سودآور", "col.reason": "دلیل", "col.product_id": "محصول",
    "col.count": "شکایت‌ها", "col.response_date": "تاریخ", "col.score": "امتیاز", "col.comment": "نظر",
    "col.contacts": "تماس‌ها", "col.responses": "پاسخ‌ها", "col.best_channel": "بهترین کانال",
    "col.channel_rate": "نرخ پاسخ", "col.channel_contacts": "تماس‌ها در آن کانال", "col.second_channel": "کانال دوم",
    "col.best_hour": "بهترین ساعت", "col.hour_rate": "نرخ پاسخ در آن ساعت", "col.best_weekday": "بهترین روز هفته",
    "col.weekday_rate": "نرخ پاسخ در آن روز", "col.confidence": "اطمینان", "col.date": "تاریخ", "col.kind": "نوع",
    "col.detail": "جزئیات", "col.amount": "مبلغ", "col.quantity": "تعداد", "col.order_id": "سفارش",
    "col.status": "وضعیت", "col.text": "متن", "col.direction": "جهت", "col.outcome": "نتیجه",
    "col.campaign_id": "کارزار", "col.offer": "پیشنهاد", "col.survey_id": "نظرسنجی", "col.responded_at": "پاسخ",
    "col.converted_at": "تبدیل", "col.spike": "جهش", "col.expected": "انتظار", "col.observed": "مشاهده",
    "col.p_value": "مقدار p", "col.q_value": "مقدار q", "col.ratio": "نسبت", "detail.channel": "کانال",
    "detail.reason": "دلیل",
    "kind.order": "سفارش", "kind.return": "مرجوعی", "kind.complaint": "شکایت", "kind.contact": "تماس",
    "kind.nps": "پاسخ نظرسنجی", "kind.campaign": "کارزار",
    "seg.champions": "قهرمانان", "seg.loyal": "وفادار", "seg.potential": "بالقوه", "seg.new": "تازه",
    "seg.promising": "امیدبخش", "seg.need_attention": "نیازمند توجه", "seg.cant_lose": "نباید از دست برود",
    "seg.at_risk": "در خطر", "seg.hibernating": "خفته", "seg.lost": "از دست رفته",
    "reason.overdue": "خرید عقب افتاده", "reason.detractor": "منتقد در نظرسنجی", "reason.spend_down": "کاهش خرید",
    "reason.complaint": "شکایت", "reason.none": "هیچ",
    "price": "قیمت", "quality": "کیفیت", "delivery": "ارسال", "service": "خدمات", "billing": "صورت‌حساب",
    "product_missing": "کالای ناموجود", "other": "سایر",
    "send a win-back offer": "فرستادن پیشنهاد بازگشت",
    "resolve the open complaint and follow up personally": "رسیدگی به شکایت باز و پیگیری شخصی",
    "call to hear what went wrong (survey detractor)": "تماس برای شنیدن مشکل (منتقد در نظرسنجی)",
    "offer a loyalty reward to restore spend": "پیشنهاد پاداش وفاداری برای بازگرداندن خرید",
    "keep in the regular campaign": "ماندن در کارزار معمول",
    "reach out personally: likely to leave, though no signal says why":
        "شخصاً تماس بگیرید: احتمال رفتنش زیاد است، هرچند نشانه‌ای دلیلش را نمی‌گوید",
    "btyd (1 - P(alive), MBG/NBD)": "مدل MBG/NBD (۱ − احتمال فعال بودن)", "classifier": "مدل پیش‌بینی ریزش",
    "phone": "تلفن", "email": "ایمیل", "sms": "پیامک", "chat": "گفت‌وگوی آنلاین", "push": "اعلان", "dashboard": "داشبورد", "web": "وب",
    "inbound": "ورودی", "outbound": "خروجی", "answered": "پاسخ داده", "no_answer": "بی‌پاسخ", "open": "باز",
    "menu": "صفحه‌ها", "hover_hint": "برای دیدن مقدارها نشانگر را روی نمودار ببرید.", "low": "کم",
    "medium": "متوسط", "high": "زیاد", "nps_range": "از منفی ۱۰۰ تا ۱۰۰",
    "Mon": "دوشنبه", "Tue": "سه‌شنبه", "Wed": "چهارشنبه", "Thu": "پنجشنبه", "Fri": "جمعه", "Sat": "شنبه",
    "Sun": "یکشنبه",
    # the pages' own notes (library messages stay as the library writes them)
    "no orders yet: import orders (customer_id, order_date, amount)":
        "هنوز سفارشی نیست: سفارش‌ها را وارد کنید (customer_id، order_date، amount)",
    "no survey answers yet: import responses or create a survey":
        "هنوز پاسخ نظرسنجی‌ای نیست: پاسخ‌ها را وارد کنید یا یک نظرسنجی بسازید",
    "no complaints yet: import complaints or log one on a customer's page":
        "هنوز شکایتی نیست: شکایت‌ها را وارد کنید یا در صفحهٔ یک مشتری ثبت کنید",
    "no contacts yet: import contacts (customer_id, contacted_at, channel)":
        "هنوز سابقهٔ تماسی نیست: تماس‌ها را وارد کنید (customer_id، contacted_at، channel)",
    "the contact history gives no plan yet (too few contacts per customer)":
        "سابقهٔ تماس هنوز برای برنامه کافی نیست (تماس‌های هر مشتری کم است)",
}

# Month names for period labels (Persian display)
JALALI_MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن",
                 "اسفند"]
GREGORIAN_MONTHS_FA = ["ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت", "سپتامبر", "اکتبر",
                       "نوامبر", "دسامبر"]
JALALI_SEASONS = ["بهار", "تابستان", "پاییز", "زمستان"]

UI = {"en": EN, "fa": FA}
