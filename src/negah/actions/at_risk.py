"""Who to save first: customers ranked by expected value at risk = churn probability × CLV,
with their reasons and a suggested next step — a list ready for a CRM campaign.

Churn probability, in order of preference (the ``method`` column says which was used):

* ``scores``: a frame of a classifier's scores (``customer_id``, ``churn_probability`` and
  optionally ``reasons``);
* ``model``: a trained store-mode churn classifier (:mod:`negah.predict`) — a
  :class:`~negah.predict.modelfile.ChurnModel`, a model file, or a model id / name in the
  store's model registry. The store is scored as of the day after ``as_of`` (the
  classifier's cut-off is the first day not observed) and the calibrated probability of
  churning within the model's horizon is used, with the model's own reasons in words
  (English or Persian). ``model="auto"`` (the default) uses the newest stored store-mode
  churn model when the registry has one that fits the store (its label table is present
  and it was trained on data up to ``as_of`` at the latest), else the BTYD probability;
* BTYD: 1 − P(alive) from an MBG/NBD fit (Batislam, Denizel & Filiztekin 2007; unlike the
  BG/NBD it lets a customer without a repeat purchase be gone).

CLV comes from :func:`negah.actions.segments.rfm` (MBG/NBD × Gamma-Gamma × margin).

Signals read from the data (the ``signals`` column, most urgent first, machine-readable):
``complaint:<reason>`` (a complaint in the last 180 days; the latest one), ``detractor``
(latest NPS answer 0–6; on a day with several answers the lowest), ``overdue`` (days since
the last purchase above twice the customer's usual gap, at least 7 days; 90 days when
there is no repeat purchase) and ``spend_down`` (net revenue of the last 180 days under
half of the 180 days before). The next step follows the first signal and names nothing
more than the action; ``channel`` is the contact plan's best channel. ``reasons`` says
why in words: the classifier's reasons when a model scored the customer, else the signals.

Everything after the ranking is computed only for the rows returned (``top``, ``segment``),
vectorised; the per-customer summary and the model fits are done once.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from negah.actions._data import end_date, opened
from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.predict.modelfile import ChurnModel
    from negah.store.connect import Store

SIGNAL_DAYS = 180
LIKELY = 0.5  # a churn probability from which a customer without signals is still reached out to
NEXT_STEP = {
    "en": {
        "complaint": "resolve the open complaint and follow up personally",
        "detractor": "call to hear what went wrong (survey detractor)",
        "overdue": "send a win-back offer",
        "spend_down": "offer a loyalty reward to restore spend",
        "likely": "reach out personally: likely to leave, though no signal says why",
        "none": "keep in the regular campaign",
    },
    "fa": {
        "complaint": "شکایت باز را حل کنید و شخصاً پیگیری کنید",
        "detractor": "تماس بگیرید و بپرسید چه چیزی درست پیش نرفت (منتقد در نظرسنجی)",
        "overdue": "پیشنهاد بازگشت بفرستید",
        "spend_down": "پاداش وفاداری پیشنهاد دهید تا خریدش برگردد",
        "likely": "شخصاً تماس بگیرید: احتمال رفتنش زیاد است، هرچند نشانه‌ای دلیلش را نمی‌گوید",
        "none": "در کمپین‌های عادی بماند",
    },
}
COLUMNS = [
    "rank",
    "customer_id",
    "churn_probability",
    "clv",
    "value_at_risk",
    "segment",
    "signals",
    "reasons",
    "next_step",
    "channel",
    "method",
]
BTYD_METHOD = "btyd (1 - P(alive), MBG/NBD)"


def at_risk(
    source: Any,
    *,
    top: int | None = None,
    segment: str | list[str] | None = None,
    model: Any = "auto",
    scores: "pd.DataFrame | None" = None,
    as_of: Any = None,
    margin: float = 1.0,
    horizon_days: int = 365,
    min_value: float = 0.0,
    lang: str = "en",
    rfm_table: "pd.DataFrame | None" = None,
    plan: "pd.DataFrame | None" = None,
) -> "pd.DataFrame":
    """The ranked list: :data:`COLUMNS`, highest value at risk first (ties by customer_id).

    Parameters
    ----------
    model
        ``"auto"`` (default), ``"btyd"``, a :class:`~negah.predict.modelfile.ChurnModel`, a
        model file path, or a model id / name in the store's registry (see the module docstring).
    scores
        A classifier's scores instead of ``model``.
    as_of
        Last day of the data used (inclusive; default: the last order date).
    lang
        ``en`` or ``fa``: the language of ``reasons`` and ``next_step``.
    rfm_table, plan
        A :func:`negah.actions.segments.rfm` table and a :func:`negah.actions.contact.contact_plan`
        frame already computed for this store and ``as_of`` (the service reuses its own).
    """
    import numpy as np
    import pandas as pd

    from negah.actions.segments import rfm

    if lang not in NEXT_STEP:
        raise InputError(f"lang {lang!r}: expected one of {', '.join(NEXT_STEP)}")
    with opened(source) as store:
        end = end_date(store, as_of)
        cm, method = (None, "classifier (given scores)") if scores is not None else resolve_model(store, model, end)
        table = rfm_table if rfm_table is not None else rfm(store, as_of=end, margin=margin, horizon_days=horizon_days)
        feats = None
        if cm is not None:
            from negah.predict.backtest import store_features_for

            feats = store_features_for(cm, store, end + _dt.timedelta(days=1))
        complaint = _recent_complaints(store, end)
        detractor = _detractors(store, end)
        if plan is None and store.has("contacts"):
            from negah.actions.contact import contact_plan

            plan = contact_plan(store, parts=("channel",))
    t = table.copy()
    given_reasons = None
    if scores is not None:
        sc = scores.copy()
        parts = [c for c in ("reason_1", "reason_2", "reason_3") if c in sc.columns]
        if "reasons" not in sc.columns and parts:
            # `negah predict score` writes its reasons as reason_1..3: one text, as the model's
            sc["reasons"] = [
                "; ".join(str(x) for x in row if isinstance(x, str) and x.strip())
                for row in sc[parts].itertuples(index=False, name=None)
            ]
        for col in ("customer_id", "churn_probability"):
            if col not in sc.columns:
                raise InputError(
                    f"scores: no {col!r} column; expected customer_id, churn_probability[, reasons or reason_1..3 as `negah predict score` writes them], "
                    f"received {list(sc.columns)}"
                )
        sc["customer_id"] = sc["customer_id"].astype(str)
        dup = sc["customer_id"][sc["customer_id"].duplicated()]
        if len(dup):
            raise InputError(f"scores: customer_id {dup.iloc[0]!r} appears more than once; give one score per customer")
        keep = ["customer_id", "churn_probability"] + (["reasons"] if "reasons" in sc.columns else [])
        t = t.merge(sc[keep], on="customer_id", how="inner", validate="one_to_one")
        if "reasons" in t.columns:
            given_reasons = t.pop("reasons")
    elif cm is not None:
        p = pd.Series(np.round(cm.predict_proba(feats), 6), index=feats["customer_id"].astype(str).to_numpy())
        t = t[t["customer_id"].isin(p.index)].copy()
        t["churn_probability"] = t["customer_id"].map(p).to_numpy(dtype=float)
    else:
        if "p_alive" not in t.columns or (len(t) and t["p_alive"].isna().all()):
            raise InputError(
                f"at-risk: no BTYD churn probability for these {len(t)} customers (the MBG/NBD model "
                "did not fit, or the RFM table has no p_alive); train a churn model "
                "(negah predict train) and pass --model, or give --scores"
            )
        t["churn_probability"] = 1.0 - t["p_alive"].to_numpy(dtype=float)
    t["method"] = method
    t["value_at_risk"] = t["churn_probability"] * t["clv"]
    if given_reasons is not None:
        t["_given"] = given_reasons.to_numpy()
    if segment:
        from negah.actions.segments import SEGMENTS

        segs = [segment] if isinstance(segment, str) else list(segment)
        unknown = [s for s in segs if s not in SEGMENTS]
        if unknown:
            raise InputError(f"segment {unknown[0]!r} is not an RFM segment: expected one of {', '.join(SEGMENTS)}")
        t = t[t["segment"].isin(segs)]
    t = t[~(t["value_at_risk"] < min_value)]  # an unknown value (no CLV) stays, listed last
    if not t["customer_id"].is_monotonic_increasing:
        t = t.sort_values("customer_id", kind="mergesort")
    # a stable sort on the value keeps equal values in customer_id order (no string sort)
    t = t.sort_values("value_at_risk", ascending=False, kind="mergesort", na_position="last")
    if top:
        t = t.head(int(top))
    t = t.reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    codes, words, first = signals(t, complaint, detractor, lang=lang)
    t["signals"] = codes
    # no signal, yet likely to leave (the model sees what the rules do not): not "regular"
    first = np.where(
        (np.asarray(first, dtype=object) == "none") & (t["churn_probability"].to_numpy() >= LIKELY),
        "likely",
        np.asarray(first, dtype=object),
    )
    t["next_step"] = pd.Series(first).map(NEXT_STEP[lang]).to_numpy()
    if cm is not None and len(t):
        f = feats.set_index(feats["customer_id"].astype(str)).loc[t["customer_id"]].reset_index(drop=True)
        sc = cm.score(f, lang=lang, reasons=3)
        rs = sc[[c for c in sc.columns if c.startswith("reason_")]]
        t["reasons"] = _join(*(rs[c] for c in rs.columns), sep="؛ " if lang == "fa" else "; ")
    elif given_reasons is not None:
        t["reasons"] = [_text(v) for v in t["_given"]]
    else:
        t["reasons"] = words
    t["channel"] = (
        t["customer_id"].map(plan.set_index("customer_id")["best_channel"]).to_numpy()
        if plan is not None and len(plan)
        else None
    )
    return t[COLUMNS]


# ------------------------------------------------------------------------------------
# the churn model
# ------------------------------------------------------------------------------------


def resolve_model(store: "Store", model: Any, as_of: _dt.date) -> tuple["ChurnModel | None", str]:
    """(the classifier to use or None for BTYD, the ``method`` text) — see the module docstring.

    ``as_of`` is the last observed day (inclusive). An explicit model that cannot score the
    store raises :class:`InputError`; ``"auto"`` falls back to BTYD instead.
    """
    from pathlib import Path

    from negah.errors import ModelError
    from negah.predict.modelfile import ChurnModel

    if model is None or (isinstance(model, str) and model.strip().lower() in ("btyd", "bgnbd", "mbgnbd", "")):
        return None, BTYD_METHOD
    auto = isinstance(model, str) and model.strip().lower() == "auto"
    if isinstance(model, ChurnModel):
        m, ref = model, "given model"
    elif auto:
        try:
            m = _registry_load(store, None)
        except (InputError, ModelError):
            m = None  # no stored model, or one this negah cannot read: BTYD
        if m is None or incompatible(m, store, as_of):
            return None, BTYD_METHOD
        ref = "newest stored model" + (f" {_model_ref(m)}" if _model_ref(m) else "")
    elif isinstance(model, Path) or Path(str(model)).is_file() or Path(str(model)).suffix or "/" in str(model):
        m, ref = ChurnModel.load(model), f"file {Path(str(model)).name}"
    else:
        m = _registry_load(store, str(model))  # an unknown id or name: InputError with the stored ones
        ref = f"stored model {model}"
    if not auto:
        why = incompatible(m, store, as_of)
        if why:
            raise InputError(f"model ({ref}): {why}")
    tr = m.meta.get("training", {})
    return m, f"classifier (P(churn within {tr.get('horizon', '?')} days), {ref})"


def _model_ref(m: "ChurnModel") -> str:
    reg = m.meta.get("registry") if isinstance(m.meta.get("registry"), dict) else {}
    for k in ("name", "id", "model_id"):
        v = reg.get(k) or m.meta.get(k)
        if v:
            return str(v)
    return ""


def _registry_load(store: "Store", name: str | None) -> "ChurnModel":
    """The registry's model (``name`` None: the newest store-mode churn model)."""
    from negah.predict import registry

    return registry.load(store, name)


def incompatible(m: "ChurnModel", store: "Store", as_of: _dt.date) -> str:
    """Why ``m`` cannot score ``store`` as of ``as_of`` (last observed day), or ``""``."""
    meta = m.meta
    if meta.get("mode") != "store":
        return "it was trained on a table (snapshot mode), not on a store; train one with `negah predict train --store`"
    label = meta.get("label") or "orders"
    if not store.has(label):
        return f"it predicts {label} churn and the store has no {label} table"
    trained = meta.get("training", {}).get("as_of")
    if trained and _dt.date.fromisoformat(str(trained)[:10]) > as_of + _dt.timedelta(days=1):
        return (
            f"it was trained on data up to {trained}, after the scoring date {as_of + _dt.timedelta(days=1)}: "
            "scoring an earlier date with it would use the future"
        )
    return ""


# ------------------------------------------------------------------------------------
# signals and reasons
# ------------------------------------------------------------------------------------


def _recent_complaints(store: "Store", end: _dt.date) -> "pd.DataFrame | None":
    """The latest complaint in the last :data:`SIGNAL_DAYS` days per customer (``customer_id,
    reason, days``); on a day with several, the first reason in text order."""
    import pandas as pd

    c = store.table("complaints")
    if c is None:
        return None
    lo = end - _dt.timedelta(days=SIGNAL_DAYS)
    q = c.filter((c.complaint_date <= end) & (c.complaint_date > lo)).select(
        customer_id=c.customer_id.cast("string"), day=c.complaint_date.cast("date"), reason=c.reason
    )
    df = store.execute(q)
    if df.empty:
        return None
    from negah.actions.reasons import _norm_reason

    df["customer_id"] = df["customer_id"].astype(str)
    df["reason"] = df["reason"].map(_norm_reason)
    df["day"] = pd.to_datetime(df["day"])
    df = df.sort_values(["customer_id", "day", "reason"], ascending=[True, False, True], kind="mergesort")
    df = df.drop_duplicates("customer_id", keep="first")
    df["days"] = (pd.Timestamp(end) - df["day"]).dt.days
    return df.set_index("customer_id")[["reason", "days"]]


def _detractors(store: "Store", end: _dt.date) -> "pd.Series | None":
    """Score of the latest NPS answer per customer when it is 0–6 (lowest of that day), in the engine."""
    r = store.table("responses")
    if r is None:
        return None
    r = r.filter(r.response_date <= end)
    r = r.mutate(customer_id=r.customer_id.cast("string"))
    r = r.mutate(latest=r.response_date.max().over(group_by=r.customer_id))
    r = r.filter(r.response_date == r.latest)
    g = r.group_by("customer_id").aggregate(score=r.score.min().cast("int64"))
    df = store.execute(g.filter(g.score <= 6))
    if df.empty:
        return None
    return df.set_index(df["customer_id"].astype(str))["score"]


PHRASES = {  # signal -> (English, Persian) with the customer's numbers
    "complaint": ("complained about {r} {d} days ago", "{d} روز پیش درباره {r} شکایت کرد"),
    "detractor": ("gave NPS {s} (detractor)", "امتیاز NPS {s} (منتقد)"),
    "overdue": ("no purchase for {d} days (usually every {g})", "{d} روز بدون خرید (معمولاً هر {g} روز)"),
    "spend_down": ("spent {p}% less in the last 180 days", "خرید {p}% کمتر در ۱۸۰ روز اخیر"),
}


def signals(
    t: "pd.DataFrame", complaint: "pd.DataFrame | None", detractor: "pd.Series | None", *, lang: str = "en"
) -> tuple[Any, Any, Any]:
    """(codes, words, first code) per row of an :func:`negah.actions.segments.rfm` frame.

    Vectorised: the tests are array operations, and text is made only for the rows a
    signal fires on."""
    import numpy as np
    import pandas as pd

    n = len(t)
    cid = pd.Index(t["customer_id"])
    k = 1 if lang == "fa" else 0
    codes, words, flags = [], [], []

    def add(name: str, mask: Any, code: Any, text: Any) -> None:
        """``code(i)`` / ``text(i)`` make the strings of row i, called only where ``mask`` is set."""
        c = np.full(n, "", dtype=object)
        w = np.full(n, "", dtype=object)
        idx = np.flatnonzero(mask)
        c[idx] = [code(i) for i in idx]
        w[idx] = [text(i) for i in idx]
        codes.append(c)
        words.append(w)
        flags.append((name, mask))

    if complaint is not None:
        j = complaint.index.get_indexer(cid)
        reason = complaint["reason"].to_numpy(dtype=object)
        days = complaint["days"].to_numpy()
        add(
            "complaint",
            j >= 0,
            lambda i: "complaint:" + reason[j[i]],
            lambda i: PHRASES["complaint"][k].format(r=reason[j[i]], d=int(days[j[i]])),
        )
    if detractor is not None:
        j = detractor.index.get_indexer(cid)
        score = detractor.to_numpy()
        add("detractor", j >= 0, lambda i: "detractor", lambda i: PHRASES["detractor"][k].format(s=int(score[j[i]])))
    since = t["recency_days"].to_numpy(dtype=float)
    pdays = t["purchase_days"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        usual = np.where(pdays > 1, (t["tenure_days"].to_numpy(dtype=float) - since) / (pdays - 1), 90.0)
    add(
        "overdue",
        since > 2 * np.maximum(usual, 7.0),
        lambda i: "overdue",
        lambda i: PHRASES["overdue"][k].format(d=int(since[i]), g=int(np.rint(usual[i]))),
    )
    rb = t["revenue_prior_180d"].to_numpy(dtype=float)
    rr = t["revenue_180d"].to_numpy(dtype=float)
    down = (rb > 0) & (rr < 0.5 * rb)
    add(
        "spend_down",
        down,
        lambda i: "spend_down",
        lambda i: PHRASES["spend_down"][k].format(p=int(min(np.rint(100 * (1 - rr[i] / rb[i])), 1000))),
    )
    first = np.full(n, "none", dtype=object)
    for name, m in reversed(flags):
        first = np.where(m, name, first)
    text = _join(*words, sep="؛ " if k else "; ")
    if k:
        from negah.predict.reasons import fa_digits

        text = np.array([fa_digits(x) if x else x for x in text], dtype=object)
    return _join(*codes), text, first


def _join(*cols: Any, sep: str = "; ") -> Any:
    """Row-wise join of string columns with ``sep``, skipping empty strings."""
    import numpy as np
    import pandas as pd

    cols = [pd.Series(np.asarray(c, dtype=object)).fillna("").astype(str).tolist() for c in cols]
    if not cols:
        return np.array([], dtype=object)
    return np.array([sep.join([x for x in row if x]) for row in zip(*cols)], dtype=object)


def _text(v: Any) -> str:
    import numpy as np

    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, str):
        return v
    return "; ".join(str(x) for x in v)
