"""Why customers leave: complaints by reason and product, the churn that follows each
reason against comparable customers, revenue lost, churn by NPS group, and spike
detection with false alarms controlled across all the cells tested.

Definitions (also in docs/actions.md)
-------------------------------------
*Churned after an index date* t: no purchase day in ``(t, t + window_days]``. Only index
dates with ``t + window_days <= as_of`` are evaluated (the outcome must be observable).

*Comparable customers*: customers who never complained, each given a pseudo index date
drawn (seeded) from the complainers' index dates on or after their own first purchase.
Both groups are stratified on their behaviour before the index date — purchase days in
the 365 days before (0, 1, 2–3, 4–7, 8+) × days since the last purchase (≤30, 31–90,
91–180, >180 or never) — and the comparable churn is the non-complainers' churn
standardised to the complainers' strata (the effect on the treated, as in a stratified
risk difference). Its variance is Σ w_s² (p1ₛ(1−p1ₛ)/n1ₛ + p0ₛ(1−p0ₛ)/n0ₛ); intervals are
normal (Wald) on the difference.

*Spikes*: for every cell (reason × product) and period P with at least
``min_baseline`` earlier periods, the count c(P) is tested against the cell's own trailing
``baseline_periods`` periods (b complaints over exposure E_b) by the exact conditional
test of two Poisson rates: under H0, c | c + b ~ Binomial(c + b, e_P / (e_P + E_b)), where
the exposure e is the product's purchase lines in each period (``exposure="orders"``;
all purchase lines for complaints without a known product), the days the data covers
(``exposure="time"``, so a partial last period is not penalised) or all complaints of the
period (``exposure="complaints"``). ``exposure="auto"`` (the default) is ``orders`` when
the store has orders, else ``time``: complaints that grow with the business are not a
spike (on `negah synth` with 1,000,000 customers, whose business grows 1.5-fold, time
exposure flags 111 growing cells besides the planted spike; orders exposure flags the
planted spike alone). p = P(X ≥ c). All cells × periods tested are adjusted together by
Benjamini–Hochberg; a spike is a test with q ≤ ``fdr``. Under the global null BH also
bounds the chance of any false alarm by ``fdr``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from negah.actions._data import json_value, last_date, opened, purchase_days, table_frame, to_records
from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SPIKE_COLUMNS = [
    "reason",
    "product_id",
    "period",
    "start",
    "end",
    "complete",
    "count",
    "baseline",
    "ratio",
    "statistic",
    "p_value",
    "q_value",
    "customers",
]


# ------------------------------------------------------------------------------------
# multiple testing
# ------------------------------------------------------------------------------------


def benjamini_hochberg(p: Sequence[float]) -> "Any":
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    import numpy as np

    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def _norm_reason(s: Any) -> str:
    import pandas as pd

    if s is None or (not isinstance(s, str) and pd.isna(s)):
        return "unspecified"
    t = " ".join(str(s).split())
    return t or "unspecified"


def _prep_complaints(c: "pd.DataFrame") -> "pd.DataFrame":
    import pandas as pd

    for col in ("customer_id", "complaint_date", "reason"):
        if col not in c.columns:
            raise InputError(f"complaints: missing column {col!r}; received {list(c.columns)}")
    c = c.copy()
    c["customer_id"] = c["customer_id"].astype(str)
    # _norm_reason, vectorised: white space folded, blank or missing = "unspecified"
    r = c["reason"]
    folded = r.astype(str).str.split().str.join(" ")
    c["reason"] = folded.where(r.notna() & (folded != ""), "unspecified").astype(object)
    c["complaint_date"] = pd.to_datetime(c["complaint_date"]).dt.normalize()
    if "product_id" in c.columns:
        p = c["product_id"]
        c["product_id"] = p.astype(str).astype(object).where(p.notna(), None)
    else:
        c["product_id"] = None
    return c.sort_values(["complaint_date", "customer_id", "reason"], kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------------------------
# spikes
# ------------------------------------------------------------------------------------


def detect_spikes(
    complaints: "pd.DataFrame",
    *,
    period: str = "month",
    calendar: str = "gregorian",
    first: Any = None,
    last: Any = None,
    baseline_periods: int = 6,
    min_baseline: int = 3,
    fdr: float = 0.05,
    exposure: str = "auto",
    product_orders: "pd.DataFrame | None" = None,
    by_product: bool = True,
    all_tests: bool = False,
) -> "pd.DataFrame":
    """Reason × product × period cells whose complaints are significantly above the cell's
    own trailing baseline (see the module docstring for the test).

    Parameters
    ----------
    complaints
        Frame with ``customer_id``, ``complaint_date``, ``reason`` and optionally ``product_id``.
    first, last
        The data's date range (default: the complaints' own range). Periods the range
        covers only in part get a smaller time exposure and ``complete = False``.
    baseline_periods, min_baseline
        Length of the trailing baseline window and the fewest earlier periods a test needs.
    fdr
        Benjamini–Hochberg false discovery rate over all cells × periods tested.
    exposure
        ``orders`` (needs ``product_orders`` with ``product_id`` (None for orders without
        one), ``day``, ``lines``), ``time`` (days covered), ``complaints`` (all complaints
        of the period) or ``auto``: ``orders`` when ``product_orders`` is given, else ``time``.
    all_tests
        Return every test, not only the spikes (for diagnostics).

    Returns
    -------
    DataFrame with :data:`SPIKE_COLUMNS`, sorted by q-value then reason, product, period.
    """
    import numpy as np
    import pandas as pd
    from scipy.stats import binom

    from negah.calendars import Calendar, to_date

    if exposure not in ("auto", "time", "orders", "complaints"):
        raise InputError(f"exposure {exposure!r}: expected auto, orders, time or complaints")
    if exposure == "auto":
        exposure = "orders" if product_orders is not None else "time"
    if not 0 < fdr < 1:
        raise InputError(f"fdr must be between 0 and 1, received {fdr}")
    if baseline_periods < 1 or min_baseline < 1 or min_baseline > baseline_periods:
        raise InputError(f"need 1 <= min_baseline <= baseline_periods; received {min_baseline}, {baseline_periods}")
    c = _prep_complaints(complaints)
    if not by_product:
        c["product_id"] = None
    if c.empty:
        return pd.DataFrame(columns=SPIKE_COLUMNS)
    f = to_date(first) if first is not None else c["complaint_date"].min().date()
    l_ = to_date(last) if last is not None else c["complaint_date"].max().date()
    f = min(f, c["complaint_date"].min().date())
    l_ = max(l_, c["complaint_date"].max().date())
    cal = Calendar(f, l_, period, calendar)
    P = len(cal)
    starts = np.array([np.datetime64(p.start) for p in cal.periods])
    pk = np.searchsorted(starts, c["complaint_date"].values.astype("datetime64[D]"), side="right") - 1
    c["pkey"] = pk
    # exposure per period (time), per cell later for orders
    covered = np.array(
        [(min(p.end, l_ + _dt.timedelta(days=1)) - max(p.start, f)).days for p in cal.periods], dtype=float
    )
    complete = np.array([p.start >= f and p.end <= l_ + _dt.timedelta(days=1) for p in cal.periods])
    if exposure == "complaints":
        tot = np.bincount(pk, minlength=P).astype(float)
    prod_exp: dict[Any, np.ndarray] = {}
    all_lines = covered
    if exposure == "orders":
        if product_orders is None:
            raise InputError("exposure='orders' needs the orders (purchase lines per product and day)")
        po = product_orders.copy()
        po["day"] = pd.to_datetime(po["day"]).values.astype("datetime64[D]")
        po["pkey"] = np.searchsorted(starts, po["day"].values, side="right") - 1
        po = po[(po["pkey"] >= 0) & (po["day"] < np.datetime64(cal.end))]
        all_lines = np.bincount(po["pkey"].values, weights=po["lines"].values.astype(float), minlength=P)
        for prod, g in po.dropna(subset=["product_id"]).groupby("product_id", sort=True):
            prod_exp[str(prod)] = np.bincount(g["pkey"].values, weights=g["lines"].values.astype(float), minlength=P)

    cells = c.groupby(["reason", "product_id"], sort=True, dropna=False)
    cols: dict[str, list] = {"reason": [], "product_id": [], "pkey": [], "count": [], "b": [], "et": [], "Eb": []}
    ts = np.arange(min_baseline, P)
    if len(ts) == 0:
        return pd.DataFrame(columns=SPIKE_COLUMNS)
    lo = np.maximum(0, ts - baseline_periods)
    for (reason, prod), g in cells:
        prod = None if prod is None or (isinstance(prod, float) and np.isnan(prod)) else prod
        counts = np.bincount(g["pkey"].values, minlength=P).astype(float)
        if exposure == "time":
            e = covered
        elif exposure == "complaints":
            e = tot
        else:  # the product's purchase lines; all lines when the complaint names no known product
            e = prod_exp.get(prod)
            if e is None:
                e = all_lines
        cc = np.concatenate([[0.0], np.cumsum(counts)])
        ce = np.concatenate([[0.0], np.cumsum(e)])
        b = cc[ts] - cc[lo]
        Eb = ce[ts] - ce[lo]
        et = e[ts]
        ok = (Eb > 0) & (et > 0)
        k = int(ok.sum())
        cols["reason"] += [reason] * k
        cols["product_id"] += [prod] * k
        cols["pkey"].append(ts[ok])
        cols["count"].append(counts[ts][ok])
        cols["b"].append(b[ok])
        cols["et"].append(et[ok])
        cols["Eb"].append(Eb[ok])
    if not cols["reason"]:
        return pd.DataFrame(columns=SPIKE_COLUMNS)
    tests = pd.DataFrame(
        {
            "reason": cols["reason"],
            "product_id": cols["product_id"],
            **{k: np.concatenate(cols[k]) for k in ("pkey", "count", "b", "et", "Eb")},
        }
    )
    pr = tests["et"] / (tests["et"] + tests["Eb"])
    n = tests["count"] + tests["b"]
    tests["p_value"] = np.where(tests["count"] > 0, binom.sf(tests["count"] - 1, n, pr), 1.0)
    tests["baseline"] = tests["b"] * tests["et"] / tests["Eb"]
    tests["statistic"] = (tests["count"] - tests["baseline"]) / np.sqrt(np.maximum(tests["baseline"], 0.5))
    tests["count"] = tests["count"].astype("int64")
    tests = tests.drop(columns=["b", "et", "Eb"])
    tests["q_value"] = benjamini_hochberg(tests["p_value"].values)
    if not all_tests:
        tests = tests[(tests["q_value"] <= fdr) & (tests["count"] > tests["baseline"])]
    tests = tests.copy()
    tests["period"] = [cal.periods[k].label for k in tests["pkey"]]
    tests["start"] = [cal.periods[k].start.isoformat() for k in tests["pkey"]]
    tests["end"] = [cal.periods[k].end.isoformat() for k in tests["pkey"]]
    tests["complete"] = [bool(complete[k]) for k in tests["pkey"]]
    tests["ratio"] = np.where(
        tests["baseline"] > 0, tests["count"] / tests["baseline"].where(tests["baseline"] > 0, 1), np.inf
    )
    who = []
    for r in tests.itertuples():
        m = (c["reason"] == r.reason) & (c["pkey"] == r.pkey)
        m &= c["product_id"].isna() if r.product_id is None else (c["product_id"] == r.product_id)
        who.append(sorted(set(c.loc[m, "customer_id"])))
    tests["customers"] = who
    tests = tests.sort_values(["q_value", "p_value", "reason", "pkey"], kind="mergesort", key=None).reset_index(
        drop=True
    )
    return tests[SPIKE_COLUMNS]


def _product_lines(store) -> "pd.DataFrame | None":
    """Purchase lines per (product_id, day) from the engine (product_id None when the orders
    have none), or None without orders."""
    from negah.metrics.base import normalize_orders

    o = store.table("orders")
    if o is None:
        return None
    has = "product_id" in o.columns
    n = normalize_orders(o, only=("day", "is_return"), keep=("product_id",) if has else ())
    p = n.filter(~n.is_return)
    if has:
        p = p.mutate(product_id=p.product_id.cast("string"))
        g = p.group_by(["product_id", "day"]).aggregate(lines=p.count())
    else:
        g = p.group_by("day").aggregate(lines=p.count())
    df = store.execute(g)
    if not has:
        df.insert(0, "product_id", None)
    df["product_id"] = df["product_id"].astype(object).where(df["product_id"].notna(), None)
    return df.sort_values(["day"], kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------------------------
# churn after a reason
# ------------------------------------------------------------------------------------

FREQ_BINS = [-1, 0, 1, 3, 7, 10**9]
FREQ_LABELS = ["0", "1", "2-3", "4-7", "8+"]
REC_BINS = [-1, 30, 90, 180, 10**9]
REC_LABELS = ["<=30d", "31-90d", "91-180d", ">180d"]


def _behaviour(days: "pd.DataFrame", idx: "pd.DataFrame", window_days: int) -> "pd.DataFrame":
    """For rows (customer_id, index_date): prior purchase days in 365 days, days since the
    last purchase before the index, prior-year revenue, churned after (no purchase in
    (t, t + window])."""
    import numpy as np
    import pandas as pd

    p = days[days["purchases"] > 0][["customer_id", "day", "rev"]]
    allrev = days[["customer_id", "day", "rev"]]
    idx = idx.reset_index(drop=True).copy()
    idx["_row"] = np.arange(len(idx))
    m = idx.merge(p, on="customer_id", how="left")
    t = m["index_date"]
    dd = (m["day"] - t).dt.days
    before = (dd <= 0) & (dd > -365)
    after = (dd > 0) & (dd <= window_days)
    prior = m[dd <= 0].groupby("_row")["day"].max()
    first = m.groupby("_row")["day"].min()
    out = idx.copy()
    out["prior_days"] = before.groupby(m["_row"]).sum().reindex(out["_row"]).fillna(0).values
    out["bought_after"] = after.groupby(m["_row"]).sum().reindex(out["_row"]).fillna(0).values > 0
    out["last_before"] = prior.reindex(out["_row"]).values
    out["first_purchase"] = first.reindex(out["_row"]).values
    rec = (out["index_date"] - out["last_before"]).dt.days
    out["since_last"] = rec.fillna(10**6)
    mr = idx.merge(allrev, on="customer_id", how="left")
    dr = (mr["day"] - mr["index_date"]).dt.days
    prev_rev = mr["rev"].where((dr <= 0) & (dr > -365), 0.0).groupby(mr["_row"]).sum()
    out["prior_revenue"] = prev_rev.reindex(out["_row"]).fillna(0.0).values
    out["churned"] = ~out["bought_after"]
    out["stratum"] = (
        pd.cut(out["prior_days"], FREQ_BINS, labels=FREQ_LABELS).astype(str)
        + "|"
        + pd.cut(out["since_last"], REC_BINS, labels=REC_LABELS).astype(str)
    )
    return out.drop(columns=["_row"])


def _standardised(treated: "pd.DataFrame", controls: "pd.DataFrame", z: float):
    """Stratified risk difference (treated − comparable controls), standardised to the
    treated's strata. Returns dict with churn_raised, churn_comparable, difference, low, high,
    coverage (share of treated in strata that have controls)."""
    import numpy as np

    t = treated.groupby("stratum")["churned"].agg(["sum", "count"])
    c = controls.groupby("stratum")["churned"].agg(["sum", "count"])
    j = t.join(c, lsuffix="_t", rsuffix="_c", how="left").fillna(0)
    ok = j["count_c"] > 0
    n1 = j["count_t"].sum()
    if n1 == 0:
        return None
    jj = j[ok]
    cover = jj["count_t"].sum() / n1
    if jj.empty:
        return {
            "churn_raised": float(j["sum_t"].sum() / n1),
            "churn_comparable": None,
            "difference": None,
            "low": None,
            "high": None,
            "coverage": 0.0,
        }
    w = jj["count_t"] / jj["count_t"].sum()
    p1 = jj["sum_t"] / jj["count_t"]
    p0 = jj["sum_c"] / jj["count_c"]
    diff = float((w * (p1 - p0)).sum())
    var = float((w**2 * (p1 * (1 - p1) / jj["count_t"] + p0 * (1 - p0) / jj["count_c"])).sum())
    # a floor so a difference between two all-0 / all-1 groups still has an interval
    var = max(var, 0.25 / (jj["count_t"].sum() ** 2))
    se = np.sqrt(var)
    return {
        "churn_raised": float((w * p1).sum()),
        "churn_comparable": float((w * p0).sum()),
        "difference": diff,
        "low": diff - z * se,
        "high": diff + z * se,
        "coverage": float(cover),
    }


def wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion k / n."""
    import math

    if n <= 0:
        return None, None
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class ReasonsReport:
    """What :func:`analyse` returns: DataFrames (and the settings that made them)."""

    by_reason: "pd.DataFrame"
    by_product: "pd.DataFrame"
    by_reason_product: "pd.DataFrame"
    churn_by_reason: "pd.DataFrame"
    churn_by_nps: "pd.DataFrame | None"
    spikes: "pd.DataFrame"
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": json_value(self.settings),
            "by_reason": to_records(self.by_reason),
            "by_product": to_records(self.by_product),
            "by_reason_product": to_records(self.by_reason_product),
            "churn_by_reason": to_records(self.churn_by_reason),
            "churn_by_nps": None if self.churn_by_nps is None else to_records(self.churn_by_nps),
            "spikes": to_records(self.spikes),
        }


def analyse(
    source: Any,
    *,
    period: str = "month",
    calendar: str = "gregorian",
    as_of: Any = None,
    window_days: int = 180,
    confidence: float = 0.95,
    fdr: float = 0.05,
    baseline_periods: int = 6,
    min_baseline: int = 3,
    exposure: str = "auto",
    pick_list: Sequence[str] | None = None,
    seed: int = 0,
) -> ReasonsReport:
    """Complaint analysis: counts by reason and product, churn after each reason against
    comparable customers (with confidence intervals), revenue lost, churn by NPS group, and
    spikes (see the module docstring).

    Parameters
    ----------
    source
        A Store, a DuckDB path, a database URL or a folder of canonical files.
    window_days
        A customer has churned after an index date when they buy nothing in the following
        ``window_days`` days.
    pick_list
        The configured reasons, listed first and in this order; other reason texts are
        kept (``in_pick_list`` False) — the pick-list is not a whitelist.
    """
    import numpy as np
    import pandas as pd
    from scipy.stats import norm

    from negah.calendars import to_date

    z = float(norm.ppf(0.5 + confidence / 2))
    with opened(source) as store:
        comp = _prep_complaints(table_frame(store, "complaints", what="negah reasons"))
        end = to_date(as_of) if as_of is not None else last_date(store)
        from negah.actions._data import first_date

        start = first_date(store)
        if end < start:
            from negah.errors import InputError

            raise InputError(
                f"--as-of {end.isoformat()} is before the data (it starts on {start.isoformat()}): choose a later date"
            )
        days = purchase_days(store) if store.has("orders") else None
        responses = table_frame(store, "responses", required=False)
        plines = _product_lines(store) if exposure in ("orders", "auto") else None
    comp = comp[comp["complaint_date"] <= pd.Timestamp(end)]
    picks = [_norm_reason(r) for r in (pick_list or [])]
    rank = {r: i for i, r in enumerate(picks)}

    def order_reasons(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df["in_pick_list"] = df["reason"].isin(picks) if picks else True
        df["_k"] = df["reason"].map(lambda r: rank.get(r, len(picks)))
        return (
            df.sort_values(["_k", "complaints", "reason"], ascending=[True, False, True], kind="mergesort")
            .drop(columns="_k")
            .reset_index(drop=True)
        )

    total = max(len(comp), 1)
    by_reason = (
        comp.groupby("reason", sort=True)
        .agg(complaints=("customer_id", "size"), customers=("customer_id", "nunique"))
        .reset_index()
    )
    by_reason["share"] = by_reason["complaints"] / total
    for r in picks:
        if r not in set(by_reason["reason"]):
            by_reason.loc[len(by_reason)] = {"reason": r, "complaints": 0, "customers": 0, "share": 0.0}
    by_reason = order_reasons(by_reason)
    cp = comp.assign(product_id=comp["product_id"].fillna("(none)"))
    by_product = (
        cp.groupby("product_id", sort=True)
        .agg(complaints=("customer_id", "size"), customers=("customer_id", "nunique"))
        .reset_index()
    )
    by_product["share"] = by_product["complaints"] / total
    by_product = by_product.sort_values(
        ["complaints", "product_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    by_rp = (
        cp.groupby(["reason", "product_id"], sort=True)
        .agg(complaints=("customer_id", "size"), customers=("customer_id", "nunique"))
        .reset_index()
    )
    by_rp = by_rp.sort_values(
        ["complaints", "reason", "product_id"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)

    # churn after each reason vs comparable non-complainers
    churn_rows = []
    cut = pd.Timestamp(end) - pd.Timedelta(days=window_days)
    if days is not None and not comp.empty:
        firsts = (
            comp[comp["complaint_date"] <= cut]
            .groupby(["reason", "customer_id"], sort=True)["complaint_date"]
            .min()
            .reset_index()
            .rename(columns={"complaint_date": "index_date"})
        )
        complainers = set(comp["customer_id"])
        fp = days[days["purchases"] > 0].groupby("customer_id")["day"].min()
        ctrl_ids = sorted(set(fp.index) - complainers)
        idx_dates = np.sort(firsts["index_date"].values.astype("datetime64[D]"))
        rng = np.random.default_rng(seed)
        if len(idx_dates) and ctrl_ids:
            fpd = fp.reindex(ctrl_ids).values.astype("datetime64[D]")
            lo = np.searchsorted(idx_dates, fpd, side="left")
            u = rng.random(len(ctrl_ids))
            has = lo < len(idx_dates)
            pick = np.minimum(lo + np.floor(u * (len(idx_dates) - lo)).astype(int), len(idx_dates) - 1)
            controls = pd.DataFrame(
                {"customer_id": np.array(ctrl_ids)[has], "index_date": pd.to_datetime(idx_dates[pick[has]])}
            )
            cb = _behaviour(days, controls, window_days)
        else:
            cb = None
        tb = _behaviour(days, firsts, window_days) if len(firsts) else None
        for reason in by_reason["reason"]:
            if tb is None:
                break
            t = tb[tb["reason"] == reason]
            if t.empty:
                continue
            st = _standardised(t, cb, z) if cb is not None and len(cb) else None
            lost_mask = t["churned"]
            row = {
                "reason": reason,
                "customers": int(len(t)),
                "churned": int(t["churned"].sum()),
                "churn_raised": float(t["churned"].mean()),
                "churn_comparable": None,
                "difference": None,
                "low": None,
                "high": None,
                "coverage": None,
                "revenue_lost": float(t.loc[lost_mask, "prior_revenue"].sum()),
                "excess_revenue_lost": None,
            }
            if st is not None:
                row.update({k: st[k] for k in ("churn_comparable", "difference", "low", "high", "coverage")})
                row["churn_raised"] = st["churn_raised"] if st["churn_comparable"] is not None else row["churn_raised"]
                if st["difference"] is not None:
                    row["excess_revenue_lost"] = float(st["difference"] * t["prior_revenue"].sum())
            churn_rows.append(row)
    churn_cols = [
        "reason",
        "customers",
        "churned",
        "churn_raised",
        "churn_comparable",
        "difference",
        "low",
        "high",
        "coverage",
        "revenue_lost",
        "excess_revenue_lost",
    ]
    churn_by_reason = pd.DataFrame(churn_rows, columns=churn_cols)

    nps_df = None
    if responses is not None and days is not None and not responses.empty:
        r = responses.copy()
        r["response_date"] = pd.to_datetime(r["response_date"]).dt.normalize()
        r = r[r["response_date"] <= cut].sort_values(["customer_id", "response_date"], kind="mergesort")
        r = r.drop_duplicates("customer_id", keep="last")
        r["group"] = np.where(r["score"] >= 9, "promoter", np.where(r["score"] >= 7, "passive", "detractor"))
        b = _behaviour(
            days,
            r[["customer_id", "response_date", "group"]].rename(columns={"response_date": "index_date"}),
            window_days,
        )
        rows = []
        for gname in ("promoter", "passive", "detractor"):
            g = b[b["group"] == gname]
            k, n = int(g["churned"].sum()), int(len(g))
            lo_, hi_ = wilson(k, n, z)
            rows.append(
                {
                    "group": gname,
                    "customers": n,
                    "churned": k,
                    "churn": (k / n) if n else None,
                    "low": lo_,
                    "high": hi_,
                    "revenue_lost": float(g.loc[g["churned"], "prior_revenue"].sum()),
                }
            )
        nps_df = pd.DataFrame(rows)

    spikes = detect_spikes(
        comp,
        period=period,
        calendar=calendar,
        first=start,
        last=end,
        baseline_periods=baseline_periods,
        min_baseline=min_baseline,
        fdr=fdr,
        exposure=exposure,
        product_orders=plines,
    )
    settings = {
        "period": period,
        "calendar": calendar,
        "as_of": end.isoformat(),
        "window_days": window_days,
        "confidence": confidence,
        "fdr": fdr,
        "baseline_periods": baseline_periods,
        "min_baseline": min_baseline,
        "exposure": ("orders" if plines is not None else "time") if exposure == "auto" else exposure,
        "pick_list": picks,
        "seed": seed,
    }
    return ReasonsReport(by_reason, by_product, by_rp, churn_by_reason, nps_df, spikes, settings)


def spikes(
    source: Any,
    *,
    period: str = "month",
    calendar: str = "gregorian",
    fdr: float = 0.05,
    baseline_periods: int = 6,
    min_baseline: int = 3,
    exposure: str = "auto",
    as_of: Any = None,
) -> "pd.DataFrame":
    """Only the spike detection of :func:`analyse`, reading complaints from ``source``."""
    import pandas as pd

    from negah.actions._data import first_date
    from negah.calendars import to_date

    with opened(source) as store:
        comp = table_frame(store, "complaints", what="spike detection")
        end = to_date(as_of) if as_of is not None else last_date(store)
        start = first_date(store)
        plines = _product_lines(store) if exposure in ("orders", "auto") else None
    comp = _prep_complaints(comp)
    comp = comp[comp["complaint_date"] <= pd.Timestamp(end)]
    return detect_spikes(
        comp,
        period=period,
        calendar=calendar,
        first=start,
        last=end,
        fdr=fdr,
        baseline_periods=baseline_periods,
        min_baseline=min_baseline,
        exposure=exposure,
        product_orders=plines,
    )
