"""What works: does a loyalty program keep customers? Members against comparable
non-members, weighted on their behaviour before joining.

Design (also in docs/actions.md)
--------------------------------
*Index dates.* A member's index is the day they joined (``customers.loyalty_joined``, or
the ``joined`` column of a frame you pass). Joining usually happens at a purchase, so the
comparison rows are **purchase occasions** of non-members on or after the program's launch
(the first join date): at each such occasion the customer could have joined and did not
(a sequential "target trial" emulation; Hernán & Robins 2016). Every occasion is a
candidate control row.

*Behaviour before the index* (strictly before the index day): purchase days (log), days
since the first purchase, days since the last purchase, revenue in the 365 days before,
mean gap, and the calendar time since launch. A logistic propensity model of membership on
these gives each control row the ATT weight e/(1 − e), normalised (Rosenbaum & Rubin
1983; Hirano, Imbens & Ridder 2003), so controls resemble members as they were before
joining. Standardised mean differences before and after weighting are reported.

*Outcomes.*

- ``retained_<H>d``: bought again in ``(t, t + H]`` (rows with ``t + H <= as_of``);
- ``revenue_<H>d``: net revenue in ``(t, t + H]``;
- ``alive_at_end``: the probability of being alive at ``as_of``, from an MBG/NBD model
  (Batislam et al. 2007) fitted separately to the members' and to the weighted controls'
  purchases after the index (the index purchase is the model's first purchase), averaged
  over each group — members drop out at their own rate, not the population's.

The effect is members − weighted controls. Intervals: percentile bootstrap over customers
(every resample refits the propensity model and the two MBG/NBD models; ``bootstrap``
resamples, seeded). The log-rank test compares the time from the index to a lapse
(``lapse_days`` without a purchase; censored at ``as_of − lapse_days``) between members and
weighted controls (lifelines ``logrank_test`` with weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from negah.actions._data import json_value, last_date, opened, purchase_days, table_frame, to_records
from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FEATURES = ["log_purchases", "tenure", "since_last", "rev_365", "mean_gap", "since_launch"]


def _bool(v: Any) -> bool:
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "t", "yes", "y")
    return bool(v)


def _rows_features(days: "pd.DataFrame", rows: "pd.DataFrame", launch: "pd.Timestamp",
                   as_of: "pd.Timestamp", horizon: int, lapse: int) -> "pd.DataFrame":
    """Features before and outcomes after each (customer_id, index_date) row."""
    import numpy as np
    import pandas as pd

    p = days[days["purchases"] > 0][["customer_id", "day", "rev"]]
    r = rows.reset_index(drop=True).copy()
    r["_row"] = np.arange(len(r))
    m = r[["_row", "customer_id", "index_date"]].merge(p, on="customer_id", how="inner")
    dd = (m["day"] - m["index_date"]).dt.days.values
    row = m["_row"].values
    n = len(r)
    ends = r["end_date"] if "end_date" in r.columns else pd.Series(as_of, index=r.index)
    T_end = (ends - r["index_date"]).dt.days.values.astype(float)
    in_fu = dd <= T_end[row]
    before = dd < 0
    cnt_b = np.bincount(row[before], minlength=n)
    first = np.full(n, np.nan)
    np.fmin.at(first, row[before], dd[before].astype(float))
    lastb = np.full(n, np.nan)
    np.fmax.at(lastb, row[before], dd[before].astype(float))
    rev365 = np.bincount(row[before & (dd >= -365)], weights=m["rev"].values[before & (dd >= -365)], minlength=n)
    after = dd > 0
    af = after & in_fu
    x = np.bincount(row[af], minlength=n).astype(float)
    lasta = np.zeros(n)
    np.maximum.at(lasta, row[af], dd[af].astype(float))
    T = (as_of - r["index_date"]).dt.days.values.astype(float)
    inh = after & (dd <= horizon)
    ret = np.bincount(row[inh], minlength=n) > 0
    revh = np.bincount(row[inh], weights=m["rev"].values[inh], minlength=n)
    # time to lapse: first gap (index or purchase after it) followed by `lapse` days without a purchase
    ttl = np.full(n, np.nan)
    event = np.zeros(n, dtype=bool)
    mm = m[after | (dd == 0)][["_row"]].assign(dd=dd[after | (dd == 0)])
    seq = pd.concat([pd.DataFrame({"_row": np.arange(n), "dd": 0}), mm], ignore_index=True)
    seq = seq.drop_duplicates().sort_values(["_row", "dd"], kind="mergesort")
    nxt = seq.groupby("_row")["dd"].shift(-1)
    horizon_end = T
    gap_end = nxt.fillna(pd.Series(horizon_end[seq["_row"].values], index=seq.index))
    lapsed = (gap_end - seq["dd"]) > lapse
    lapsed &= (seq["dd"] + lapse) <= pd.Series(horizon_end[seq["_row"].values], index=seq.index)
    firstlapse = seq[lapsed].groupby("_row")["dd"].min()
    event[firstlapse.index.values] = True
    ttl[firstlapse.index.values] = firstlapse.values + lapse
    ttl = np.where(event, ttl, np.maximum(T, 0.0))
    out = r.drop(columns="_row")
    out["log_purchases"] = np.log1p(cnt_b)
    tenure = np.where(np.isnan(first), 0.0, -first)
    out["tenure"] = tenure
    out["since_last"] = np.where(np.isnan(lastb), 0.0, -lastb)
    out["rev_365"] = rev365
    out["mean_gap"] = np.where(cnt_b > 1, tenure / np.maximum(cnt_b - 1, 1), tenure)
    out["since_launch"] = (r["index_date"] - launch).dt.days.values.astype(float)
    out["x"] = x
    out["tx"] = lasta
    out["T"] = T
    out["T_fu"] = T_end
    out["retained"] = ret
    out["revenue"] = revh
    out["followed"] = T >= horizon
    out["time_to_lapse"] = ttl
    out["lapsed"] = event
    return out


def _propensity(df: "pd.DataFrame") -> "Any":
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X = df[FEATURES].values.astype(float)
    X = np.column_stack([X, np.log1p(np.maximum(df[["tenure", "since_last", "mean_gap"]].values, 0))])
    Xs = StandardScaler().fit_transform(X)
    y = df["member"].values.astype(int)
    if y.min() == y.max():
        raise InputError("evaluate-program: need both members and non-members to compare")
    lr = LogisticRegression(C=1.0, max_iter=1000)
    lr.fit(Xs, y)
    e = lr.predict_proba(Xs)[:, 1]
    return np.clip(e, 1e-4, 1 - 1e-4)


def _att_weights(df: "pd.DataFrame", e: "Any") -> "Any":
    import numpy as np

    m = df["member"].values
    w = np.where(m, 1.0, e / (1 - e))
    # normalise each group to sum to its treated count (members' weights are 1)
    cw = w[~m].sum()
    if cw > 0:
        w[~m] *= m.sum() / cw
    return w


def _fit_mbg(d: "pd.DataFrame", w: "Any"):
    import numpy as np

    from negah.models.mbgnbd import MBGNBD

    ok = d["T_fu"].values > 0
    if ok.sum() < 10:
        return None, ok
    x, tx, T, ww = d["x"].values[ok], d["tx"].values[ok], d["T_fu"].values[ok], np.asarray(w)[ok]
    return MBGNBD().fit(x, tx, T, weights=ww), ok


def survival_after_purchase(model: Any, tau: "Any", grid: int = 400) -> "Any":
    """P(alive τ days after a purchase) under an MBG/NBD model, unconditional on later data.

    Alive after the purchase with probability 1 − p; later purchases arrive at rate λ and
    each ends the life with probability p, so the death time is Exp(λp):
    S(τ | λ, p) = (1 − p) e^{−λpτ}. Integrating λ ~ Gamma(r, α) gives
    (1 − p) (α / (α + pτ))^r, and p ~ Beta(a, b) is integrated on a quantile grid.
    """
    import numpy as np
    from scipy.stats import beta as beta_dist

    r, alpha, a, b = (model.r_, model.alpha_, model.a_, model.b_)
    if getattr(model, "boundary_", None):  # a, b -> inf: every customer has the drop-out probability p_
        p = np.full(1, model.p_)
    else:
        p = beta_dist.ppf((np.arange(grid) + 0.5) / grid, a, b)
    tau = np.asarray(tau, dtype=float)
    return ((1 - p)[None, :] * (alpha / (alpha + p[None, :] * tau[:, None])) ** r).mean(axis=1)


def _alive(df: "pd.DataFrame", w: "Any") -> tuple[float, float]:
    """(members' mean P(alive at as_of) given their data, the same members' counterfactual
    survival under the weighted controls' model)."""
    import numpy as np

    m = df["member"].values
    mm, okm = _fit_mbg(df[m], np.ones(m.sum()))
    cm, _ = _fit_mbg(df[~m], np.asarray(w)[~m])
    if mm is None or cm is None:
        return float("nan"), float("nan")
    d = df[m]
    pa = mm.probability_alive(d["x"].values, d["tx"].values, d["T"].values)
    tau = d["T"].values
    ut, inv = np.unique(tau, return_inverse=True)
    cf = survival_after_purchase(cm, ut)[inv]
    return float(pa.mean()), float(cf.mean())


def _estimate(df: "pd.DataFrame", *, with_alive: bool) -> dict[str, float]:
    import numpy as np

    e = _propensity(df)
    w = _att_weights(df, e)
    m = df["member"].values
    out: dict[str, float] = {}
    f = df["followed"].values
    for name in ("retained", "revenue"):
        y = df[name].values.astype(float)
        mt = m & f
        mc = ~m & f
        if mt.sum() == 0 or mc.sum() == 0:
            out[name + "_members"] = out[name + "_controls"] = out[name] = float("nan")
            continue
        a = y[mt].mean()
        b = np.sum(y[mc] * w[mc]) / np.sum(w[mc])
        out[name + "_members"], out[name + "_controls"], out[name] = a, b, a - b
    if with_alive:
        a, b = _alive(df, w)
        out["alive_at_end_members"], out["alive_at_end_controls"], out["alive_at_end"] = a, b, a - b
    out["_weights"] = w  # type: ignore[assignment]
    return out


def _smd(df: "pd.DataFrame", w: "Any") -> "pd.DataFrame":
    import numpy as np
    import pandas as pd

    m = df["member"].values
    rows = []
    for f in FEATURES:
        x = df[f].values.astype(float)
        a, b = x[m], x[~m]
        sd = np.sqrt((a.var() + b.var()) / 2) or 1.0
        wb = w[~m]
        mw = np.sum(b * wb) / np.sum(wb)
        rows.append({"feature": f, "members": a.mean(), "controls": b.mean(), "controls_weighted": mw,
                     "smd_before": (a.mean() - b.mean()) / sd, "smd_after": (a.mean() - mw) / sd})
    return pd.DataFrame(rows)


@dataclass
class ProgramReport:
    effects: "pd.DataFrame"
    balance: "pd.DataFrame"
    logrank: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": json_value(self.settings), "effects": to_records(self.effects),
                "balance": to_records(self.balance), "logrank": json_value(self.logrank)}


def evaluate_program(source: Any, *, members: "pd.DataFrame | None" = None, as_of: Any = None,
                     horizon_days: int = 180, lapse_days: int = 180, bootstrap: int = 200,
                     confidence: float = 0.95, seed: int = 0, alive: bool = True,
                     max_controls_per_customer: int = 12) -> ProgramReport:
    """Members of a program against comparable non-members (see the module docstring).

    Parameters
    ----------
    source
        A Store, a DuckDB path, a database URL or a folder of canonical files.
    members
        ``customer_id, joined`` of the program's members (default: ``customers`` rows with
        ``loyalty_member`` true and a ``loyalty_joined`` date). Use it for any campaign or
        offer that customers enter on a date.
    horizon_days
        Follow-up window of the retention and revenue outcomes.
    bootstrap
        Bootstrap resamples (over customers) for the intervals; 0 for none.
    alive
        Also estimate the effect on being alive at ``as_of`` (MBG/NBD per group).
    max_controls_per_customer
        At most this many purchase occasions per non-member (the latest ones are dropped
        at random, seeded), to bound the work on long histories.
    """
    import numpy as np
    import pandas as pd

    from negah.calendars import to_date

    with opened(source) as store:
        days = purchase_days(store)
        end = to_date(as_of) if as_of is not None else last_date(store, ("orders",))
        if members is None:
            cust = table_frame(store, "customers", what="evaluate-program (loyalty_member, loyalty_joined)")
            if "loyalty_joined" not in cust.columns:
                raise InputError("customers: no loyalty_joined column; pass members=customer_id,joined "
                                 "or add loyalty_member and loyalty_joined to customers")
            flag = cust["loyalty_member"].map(_bool) if "loyalty_member" in cust.columns else cust["loyalty_joined"].notna()
            mem = cust[flag & cust["loyalty_joined"].notna()][["customer_id", "loyalty_joined"]]
            members = mem.rename(columns={"loyalty_joined": "joined"})
    members = members.copy()
    if not {"customer_id", "joined"} <= set(members.columns):
        raise InputError(f"members: expected columns customer_id, joined; received {list(members.columns)}")
    members["customer_id"] = members["customer_id"].astype(str)
    members["index_date"] = pd.to_datetime(members["joined"]).dt.normalize()
    as_of_ts = pd.Timestamp(end)
    members = members[members["index_date"] <= as_of_ts].drop_duplicates("customer_id")
    if members.empty:
        raise InputError("evaluate-program: no members with a join date up to as_of")
    launch = members["index_date"].min()
    rng = np.random.default_rng(seed)
    memset = set(members["customer_id"])
    p = days[(days["purchases"] > 0) & (days["day"] >= launch) & (days["day"] <= as_of_ts)]
    ctrl = p[["customer_id", "day"]].rename(columns={"day": "index_date"})
    jd = members.set_index("customer_id")["index_date"]
    ctrl = ctrl.assign(end_date=ctrl["customer_id"].map(jd).fillna(as_of_ts))
    ctrl = ctrl[ctrl["index_date"] < ctrl["end_date"]]
    if max_controls_per_customer:
        ctrl = ctrl.assign(_u=rng.random(len(ctrl))).sort_values(["customer_id", "_u"], kind="mergesort")
        ctrl = ctrl.groupby("customer_id", sort=True).head(max_controls_per_customer).drop(columns="_u")
    rows = pd.concat([members[["customer_id", "index_date"]].assign(member=True, end_date=as_of_ts),
                      ctrl.assign(member=False)], ignore_index=True)
    df = _rows_features(days, rows, launch, as_of_ts, horizon_days, lapse_days)
    df = df.sort_values(["member", "customer_id", "index_date"], ascending=[False, True, True],
                        kind="mergesort").reset_index(drop=True)
    est = _estimate(df, with_alive=alive)
    w = est.pop("_weights")
    names = ["retained", "revenue"] + (["alive_at_end"] if alive else [])
    boots: dict[str, list[float]] = {k: [] for k in names}
    if bootstrap:
        ids = df["customer_id"].values
        codes, uniq = pd.factorize(ids)
        groups = [np.flatnonzero(codes == i) for i in range(len(uniq))] if len(uniq) < 0 else None
        order = np.argsort(codes, kind="mergesort")
        bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
        mem_codes = np.unique(codes[df["member"].values])
        non_codes = np.setdiff1d(np.arange(len(uniq)), mem_codes)
        for _ in range(int(bootstrap)):
            pick = np.concatenate([rng.choice(mem_codes, len(mem_codes)), rng.choice(non_codes, len(non_codes))])
            idx = np.concatenate([order[bounds[c]:bounds[c + 1]] for c in pick])
            b = df.iloc[idx].reset_index(drop=True)
            try:
                r = _estimate(b, with_alive=alive)
            except Exception:  # a resample where a model cannot be fitted is skipped
                continue
            for k in names:
                boots[k].append(r[k])
        del groups
    a = (1 - confidence) / 2
    rows_out = []
    for k in names:
        v = np.array(boots[k], dtype=float)
        v = v[~np.isnan(v)]
        lo, hi = (np.quantile(v, a), np.quantile(v, 1 - a)) if len(v) >= 10 else (np.nan, np.nan)
        label = {"retained": f"retained_{horizon_days}d", "revenue": f"revenue_{horizon_days}d"}.get(k, k)
        rows_out.append({"outcome": label, "members": est[k + "_members"], "controls": est[k + "_controls"],
                         "effect": est[k], "low": lo, "high": hi, "bootstrap": int(len(v))})
    effects = pd.DataFrame(rows_out)
    balance = _smd(df, w)
    lr = _logrank(df, w)
    settings = {"as_of": end.isoformat(), "launch": launch.date().isoformat(), "horizon_days": horizon_days,
                "lapse_days": lapse_days, "bootstrap": bootstrap, "confidence": confidence, "seed": seed,
                "members": int(df["member"].sum()), "control_occasions": int((~df["member"]).sum()),
                "control_customers": int(df.loc[~df["member"], "customer_id"].nunique()),
                "weighting": "ATT inverse propensity (logistic on pre-index behaviour)"}
    return ProgramReport(effects, balance, lr, settings)


def _logrank(df: "pd.DataFrame", w: Any) -> dict[str, Any]:
    import numpy as np

    from lifelines.statistics import logrank_test

    m = df["member"].values
    ok = df["time_to_lapse"].values > 0
    a, b = m & ok, ~m & ok
    if a.sum() == 0 or b.sum() == 0:
        return {"test_statistic": None, "p_value": None}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = logrank_test(df["time_to_lapse"].values[a], df["time_to_lapse"].values[b],
                         event_observed_A=df["lapsed"].values[a], event_observed_B=df["lapsed"].values[b],
                         weights_A=np.ones(a.sum()), weights_B=np.asarray(w)[b])
    return {"test_statistic": float(r.test_statistic), "p_value": float(r.p_value),
            "members_lapsed": float(df["lapsed"].values[a].mean()),
            "controls_lapsed_weighted": float(np.sum(df["lapsed"].values[b] * np.asarray(w)[b]) / np.sum(np.asarray(w)[b])),
            "event": "lapse (no purchase for lapse_days)"}
