"""What if churn moved? Customers and revenue projected over N periods at the current churn
and at another one (the articles' 10 % → 5 %), on a retention model fitted to the data.

Lifetimes (spells)
------------------
A *spell* is one uninterrupted customer life; churn is its end. Survival is monotone by
construction (a spell never comes back; a customer who returns starts a new spell).

* **subscriptions** — a spell is a run of overlapping or back-to-back subscriptions
  (``start_date ≤ t < end_date``, as in the metric spec); it ends when no subscription is
  active, and is open (alive today) when it has no end or ends after ``as_of``.
* **orders** — a customer is active while their last purchase is at most ``window_days``
  (W, default 90) days old, and has lapsed once they go longer than that without buying. A
  spell is a run of purchase days with no gap over W. It lives W days for sure after its
  start (the grace window); after that, being active at start + W + x ⇔ a purchase of the
  spell on or after start + x. So the churn process of a spell is the survival of its
  purchases, measured from its start: alive at age k ⇔ a purchase at or after start + k
  periods, known once W days have passed (observed up to ``as_of − W + 1``). Open spells
  (a purchase in the last W days) are today's active customers.

Ages are counted from each spell's start in periods of fixed length (week 7 days, month
30.4375, quarter 91.3125, year 365.25). A spell whose age-k instant is after the last day
whose status is known is censored at its last observed age: right-censored lifetimes.

The retention model
-------------------
A shifted-beta-geometric model (Fader & Hardie 2007, :mod:`negah.models.sbg`) is fitted by
maximum likelihood to all spells, pooled into series of equal observation length (its
likelihood, Σ lost·ln P(T=t) + survivors·ln S(K), handles the censoring). Its hazard at
age t ≥ 1 is h(t) = α / (α + β + t − 1): churn falls as customers age, as in real cohorts.
``model="constant"`` uses a constant hazard instead (the geometric MLE: churn events /
periods at risk of the same spells).

Projection
----------
Today's customers are the open spells, each at its age (for orders, its age minus the
grace window; a customer still in the grace window cannot lapse before it ends). Each
survives to step t with S(age + t) / S(age). *Current churn* is the model's churn over the
next period of today's customers: 1 − Σ S(age + 1)/S(age) / N. A *target* churn c* scales
the hazard at every age by k = c* / current, so today's customers churn at exactly c* next
period; for the sBG this is again an sBG, α' = kα and β' = β + (1 − k)α (a target that
would push a hazard above 1 is refused). A target equal to the current churn gives the
same projection, and a lower one more customers and revenue at every step. New spells
join at the start of every period (default: the mean of the last three periods before
``as_of``) and age by the same model. Step t reports the expected customers at the end of
period t; revenue = customers × revenue per customer per period: for orders, the net
revenue of the last three periods over the active customer-periods in them; for
subscriptions, the mean MRR of today's subscribers × the period in months.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.store.connect import Store

PERIOD_DAYS = {"week": 7.0, "month": 30.4375, "quarter": 91.3125, "year": 365.25}
RECENT_PERIODS = 3


def whatif(
    source: Any,
    *,
    churn: float,
    periods: int = 24,
    period: str = "month",
    new_per_period: float | None = None,
    model: str = "sbg",
    basis: str = "auto",
    window_days: int = 90,
    as_of: Any = None,
) -> "pd.DataFrame":
    """Projection table: ``step, customers_now, customers_scenario, revenue_now,
    revenue_scenario, revenue_gain, cumulative_gain``; ``attrs`` hold the inputs and the
    fitted model (``current_churn``, ``target_churn``, ``alpha``, ``beta``, ...).

    ``basis``: ``orders``, ``subscriptions`` or ``auto`` (orders when the store has them).
    ``as_of``: last observed day (default: the last order, or subscription start/end, date).
    Periods are fixed lengths counted from each spell's start, not calendar periods.
    """
    import numpy as np
    import pandas as pd

    from negah.actions._data import opened

    if not 0 <= churn < 1:
        raise InputError(f"churn {churn}: expected a fraction in [0, 1), e.g. 0.05")
    if periods < 1:
        raise InputError(f"periods {periods}: expected at least 1")
    if period not in PERIOD_DAYS:
        raise InputError(f"period {period!r}: expected one of {', '.join(PERIOD_DAYS)}")
    if model not in ("sbg", "constant"):
        raise InputError(f"model {model!r}: expected sbg or constant")
    if window_days < 1:
        raise InputError(f"window {window_days}: expected at least 1 day")
    length = PERIOD_DAYS[period]
    with opened(source) as store:
        basis = _basis(store, basis)
        end = _end(store, basis, as_of)
        if basis == "orders":
            sp = order_spells(store, end, window_days)
            horizon = end - _dt.timedelta(days=window_days - 1)
            arpu = _order_arpu(store, sp, end, length)
        else:
            sp = subscription_spells(store, end)
            horizon = end
            arpu = _mrr_arpu(store, end, length)
    if sp.empty:
        raise InputError(f"whatif: no {basis} before {end}; nothing to project")
    ages, K = spell_ages(sp, end, horizon, length)
    series = survivor_series(ages, K)
    if not series:
        raise InputError(
            f"whatif: no {basis} spell is observed for a whole {period} yet (the data end on {end}"
            + (f"; lapses need {window_days} days to be seen" if basis == "orders" else "")
            + ")"
        )
    lost = sum(float(x[0] - x[-1]) for x in series)
    exposure = sum(float(np.sum(x[:-1])) for x in series)
    observed = lost / exposure if exposure > 0 else 0.0
    grace = window_days if basis == "orders" else 0
    open_ = sp["open"].to_numpy()
    start = sp["start"].to_numpy().astype("datetime64[D]").astype(np.int64)[open_]
    # ages in periods (real numbers; negative while in the grace window), rounded to 1/100 period
    age = np.round((np.datetime64(end, "D").astype(np.int64) - grace - start) / length, 2)
    if new_per_period is None:
        lo = np.datetime64(end, "D") - np.timedelta64(int(round(RECENT_PERIODS * length)), "D")
        new = float(np.sum(sp["start"].to_numpy().astype("datetime64[D]") > lo)) / RECENT_PERIODS
    else:
        new = float(new_per_period)
    new_age = -grace / length  # a new spell's age when it joins
    tmax = int(np.ceil(max(age.max(initial=0), 0))) + periods + 2
    params: dict[str, float] = {}
    if model == "sbg":
        from negah.models.sbg import ShiftedBetaGeometric

        m = ShiftedBetaGeometric().fit(series)
        a_, b_ = float(m.params_["alpha"]), float(m.params_["beta"])
        params = {"alpha": a_, "beta": b_}
        hazard = a_ / (a_ + b_ + np.arange(tmax))  # h(t) for t = 1 … tmax
    else:
        hazard = np.full(tmax, observed)
    current = _next_churn(age, hazard)
    k = churn / current if current > 0 else 1.0
    if np.max(k * hazard) > 1:
        raise InputError(
            f"churn {churn}: too high for this retention model (current {current:.4f}); at most "
            f"{current / float(np.max(hazard)):.4f} keeps every period's churn at or below 1"
        )
    now = project(age, hazard, new, new_age, periods)
    scen = project(age, k * hazard, new, new_age, periods)
    res = pd.DataFrame(
        {
            "step": np.arange(1, periods + 1),
            "customers_now": now,
            "customers_scenario": scen,
            "revenue_now": now * arpu,
            "revenue_scenario": scen * arpu,
        }
    )
    res["revenue_gain"] = res["revenue_scenario"] - res["revenue_now"]
    res["cumulative_gain"] = res["revenue_gain"].cumsum()
    res.attrs.update(
        {
            "current_churn": float(current),
            "target_churn": float(churn),
            "observed_churn": observed,
            "arpu": float(arpu),
            "as_of": end.isoformat(),
            "customers": float(len(age)),
            "new_per_period": new,
            "model": model,
            "period": period,
            "basis": basis,
            "window_days": window_days if basis == "orders" else None,
            "spells": int(len(sp)),
            **params,
        }
    )
    return res


# ------------------------------------------------------------------------------------
# spells
# ------------------------------------------------------------------------------------


def _basis(store: "Store", basis: str) -> str:
    if basis == "auto":
        if store.has("orders"):
            return "orders"
        if store.has("subscriptions"):
            return "subscriptions"
        raise InputError(f"{store.location}: whatif needs orders or subscriptions")
    if basis not in ("orders", "subscriptions"):
        raise InputError(f"basis {basis!r}: expected orders, subscriptions or auto")
    if not store.has(basis):
        raise InputError(f"table {basis!r} is missing from {store.location}: --basis {basis} needs it")
    return basis


def _end(store: "Store", basis: str, as_of: Any) -> _dt.date:
    from negah.actions._data import last_date
    from negah.calendars import to_date

    return to_date(as_of) if as_of is not None else last_date(store, (basis,))


def order_spells(store: "Store", end: _dt.date, window_days: int) -> "pd.DataFrame":
    """Spells of purchase days (no gap over ``window_days``) up to ``end``, from the engine:
    ``start``, ``last`` (last purchase day) and ``open`` (a purchase in the last ``window_days``)."""
    import ibis
    import pandas as pd

    from negah.metrics.base import normalize_orders

    n = normalize_orders(store.table("orders"), only=("customer_id", "day", "is_return"))
    p = n.filter(~n.is_return & (n.day <= end)).select("customer_id", "day").distinct()
    p = p.mutate(prev=p.day.lag().over(group_by=p.customer_id, order_by=p.day))
    gap = p.prev.isnull() | (p.day > p.prev + ibis.interval(days=int(window_days)))
    p = p.mutate(new=ibis.ifelse(gap, 1, 0))
    p = p.mutate(spell=p.new.sum().over(ibis.cumulative_window(group_by=p.customer_id, order_by=p.day)))
    g = p.group_by(["customer_id", "spell"]).aggregate(start=p.day.min(), last=p.day.max())
    df = store.execute(g.select("start", "last"))
    out = pd.DataFrame({"start": pd.to_datetime(df["start"]), "last": pd.to_datetime(df["last"])})
    e = pd.Timestamp(end)
    out["end"] = out["last"] + pd.Timedelta(days=1)  # alive at d <=> d <= last
    out["open"] = (e - out["last"]).dt.days < window_days
    return out


def subscription_spells(store: "Store", end: _dt.date) -> "pd.DataFrame":
    """Runs of overlapping or back-to-back subscriptions per customer started by ``end``:
    ``start``, ``end`` (exclusive; NaT = no end) and ``open`` (active after ``end``)."""
    import numpy as np
    import pandas as pd

    t = store.table("subscriptions")
    cols = {"customer_id": t.customer_id.cast("string"), "start": t.start_date}
    cols["stop"] = t.end_date if "end_date" in t.columns else t.start_date.cast("date")
    q = t.filter(t.start_date <= end).select(**cols)
    df = store.execute(q)
    if "end_date" not in t.columns:
        df["stop"] = pd.NaT
    if df.empty:
        return pd.DataFrame(columns=["start", "end", "open"])
    df["start"] = pd.to_datetime(df["start"])
    far = pd.Timestamp("2262-01-01")
    stop = pd.to_datetime(df["stop"]).fillna(far)
    df["stop"] = stop.where(stop > df["start"], df["start"])  # an empty subscription covers nothing
    df = df.sort_values(["customer_id", "start", "stop"], kind="mergesort").reset_index(drop=True)
    reach = df.groupby("customer_id", sort=False)["stop"].cummax()
    prev = reach.groupby(df["customer_id"], sort=False).shift(1)
    df["spell"] = (prev.isna() | (df["start"] > prev)).astype(np.int64).groupby(df["customer_id"], sort=False).cumsum()
    g = df.groupby(["customer_id", "spell"], sort=False).agg(start=("start", "min"), end=("stop", "max"))
    out = g.reset_index(drop=True)
    out["open"] = out["end"] > pd.Timestamp(end)
    out["end"] = out["end"].where(out["end"] < far)
    return out


def spell_ages(sp: "pd.DataFrame", end: _dt.date, horizon: _dt.date, length: float) -> tuple[Any, Any]:
    """Per spell: (ages survived, last observed age K). A spell is alive at age k when alive at
    start + k·length; ages after ``horizon`` (the last day whose status is known) are censored."""
    import numpy as np

    start = sp["start"].to_numpy().astype("datetime64[D]").astype(np.int64)
    h = np.datetime64(horizon, "D").astype(np.int64)
    K = np.floor((h - start) / length).astype(np.int64)
    K = np.maximum(K, -1)  # started after the horizon: nothing observed
    e = sp["end"].to_numpy().astype("datetime64[D]")
    e = np.where(np.isnat(e), np.datetime64("2262-01-01"), e).astype("datetime64[D]").astype(np.int64)
    # alive at start + k·length <=> start + k·length < end  <=> k < (end - start) / length
    alive = np.ceil((e - start) / length).astype(np.int64) - 1
    alive = np.where(sp["open"].to_numpy(), np.maximum(alive, K), alive)
    return np.minimum(np.maximum(alive, 0), np.maximum(K, 0)), K


def survivor_series(ages: Any, K: Any) -> list[Any]:
    """Spells pooled by observation length K ≥ 1 into survivor series [N0, N1, …, NK]."""
    import numpy as np

    out = []
    for k in np.unique(K[K >= 1]):
        a = ages[K == k]
        cnt = np.bincount(a, minlength=k + 1).astype(float)
        out.append(cnt[::-1].cumsum()[::-1])  # N_j = spells alive at age ≥ j
    return out


# ------------------------------------------------------------------------------------
# value per customer-period
# ------------------------------------------------------------------------------------


def _order_arpu(store: "Store", sp: "pd.DataFrame", end: _dt.date, length: float) -> float:
    """Net revenue of the last :data:`RECENT_PERIODS` periods / customer-periods alive in them."""
    import numpy as np

    from negah.metrics.base import normalize_orders

    days = int(round(RECENT_PERIODS * length))
    lo = end - _dt.timedelta(days=days - 1)
    n = normalize_orders(store.table("orders"), only=("day", "amount"))
    n = n.filter((n.day >= lo) & (n.day <= end))
    rev = store.execute(n.aggregate(rev=n.amount.sum().cast("float64")))["rev"].iloc[0]
    rev = 0.0 if rev is None or rev != rev else float(rev)
    s = sp["start"].to_numpy().astype("datetime64[D]").astype(np.int64)
    e = np.where(
        sp["open"].to_numpy(),
        np.datetime64(end, "D").astype(np.int64) + 1,
        sp["end"].to_numpy().astype("datetime64[D]").astype(np.int64),
    )
    a, b = np.datetime64(lo, "D").astype(np.int64), np.datetime64(end, "D").astype(np.int64) + 1
    alive_days = np.clip(np.minimum(e, b) - np.maximum(s, a), 0, None).sum()
    return rev / (alive_days / length) if alive_days > 0 else 0.0


def _mrr_arpu(store: "Store", end: _dt.date, length: float) -> float:
    """Mean MRR of the customers subscribed on ``end`` × the period in months (0 without mrr)."""
    t = store.table("subscriptions")
    if "mrr" not in t.columns:
        return 0.0
    act = (
        t.filter((t.start_date <= end) & (t.end_date.isnull() | (t.end_date > end)))
        if "end_date" in t.columns
        else t.filter(t.start_date <= end)
    )
    q = act.aggregate(mrr=act.mrr.sum().cast("float64"), n=act.customer_id.nunique())
    r = store.execute(q).iloc[0]
    if not r["n"]:
        return 0.0
    return float(r["mrr"]) / float(r["n"]) * length / PERIOD_DAYS["month"]


# ------------------------------------------------------------------------------------
# projections
# ------------------------------------------------------------------------------------


def _survival(hazard: Any) -> Any:
    """S(t) for t = 0 … len(hazard) from h(1) … h(T)."""
    import numpy as np

    return np.concatenate([[1.0], np.cumprod(1.0 - hazard)])


def _at(S: Any, x: Any) -> Any:
    """S at real ages ``x``: 1 at ages ≤ 0 (the grace window), linear between whole periods."""
    import numpy as np

    x = np.clip(np.asarray(x, dtype=float), 0.0, len(S) - 1.0)
    i = np.minimum(np.floor(x).astype(np.int64), len(S) - 2)
    f = x - i
    return S[i] + f * (S[i + 1] - S[i])


def _next_churn(age: Any, hazard: Any) -> float:
    """The model's churn over the next period of customers at real ``age`` (may be < 0)."""
    import numpy as np

    if len(age) == 0:
        return float(hazard[0])
    S = _survival(hazard)
    return float(1.0 - np.mean(_at(S, age + 1) / _at(S, age)))


def project(age: Any, hazard: Any, new: float, new_age: float, periods: int) -> Any:
    """Expected customers at the end of steps 1 … ``periods``: today's at ``age`` (S(age+t)/S(age))
    plus ``new`` joining at the start of every period at ``new_age`` (< 0 during a grace window)."""
    import numpy as np

    S = _survival(hazard)
    ages, counts = np.unique(age, return_counts=True)
    steps = np.arange(1, periods + 1)
    base = (counts[None, :] * _at(S, ages[None, :] + steps[:, None]) / _at(S, ages)[None, :]).sum(axis=1)
    # the cohort that joined at the start of step j is new_age + (t − j + 1) periods old at the end of step t
    return base + new * np.cumsum(_at(S, new_age + steps))
