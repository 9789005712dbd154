"""What works: does a loyalty program keep customers? Members against comparable
non-members, weighted on their behaviour before joining, and a purchase model with a
switch at joining for the latent outcome "still a customer".

Design (also in docs/actions.md)
--------------------------------
*Index dates.* A member's index is the day they joined (``customers.loyalty_joined``, or
the ``joined`` column of a frame you pass). Joining usually happens at a purchase, so the
comparison rows are **purchase occasions** of non-members on or after the program's launch
(the first join date), members' occasions before they join included: at each such occasion
the customer could have joined and did not (a sequential "target trial" emulation; Hernán &
Robins 2016). Every occasion is a candidate control row.

*Behaviour before the index* (strictly before the index day): purchase days (log), days
since the first purchase, days since the last purchase, revenue in the 365 days before,
mean gap, and the calendar time since launch. A logistic propensity model of membership on
these gives each control row the ATT weight e/(1 − e), normalised (Rosenbaum & Rubin
1983; Hirano, Imbens & Ridder 2003), so controls resemble members as they were before
joining. Standardised mean differences before and after weighting are reported.

*Outcomes and their estimands* (each row of ``effects`` says its own in ``estimand``; all
are effects on the treated, members − the same members without the program):

- ``retained_<H>d``: bought again in ``(t, t + H]``, members who joined at least H days
  before ``as_of`` against the weighted control rows with ``t + H <= as_of``. A control who
  joins later joins at a purchase, which already counts as buying again, so later joiners
  cannot bias this outcome;
- ``revenue_<H>d``: net revenue in ``(t, t + H]``, the same rows; intention-to-treat
  (controls who join later keep their revenue after joining: biased toward 0);
- ``alive_at_end``: being alive (not dropped out) at ``as_of``, every member. Being alive
  is latent, so it needs a model of drop-out: :mod:`negah.actions.program_model`, an
  MBG/NBD (Batislam et al. 2007) in which joining multiplies the purchase rate by κ and
  turns the drop-out probability p after a purchase into 1 − (1 − p)^θ, fitted once to
  every customer's whole history. ``members`` is the members' mean P(alive at as_of | their
  purchases), ``controls`` the same members' P(alive at as_of had they not joined | their
  purchases up to joining). This is what ``negah synth`` plants
  (``loyalty.effect_on_treated_alive_at_end``).

Intervals: percentile bootstrap over customers, members and non-members resampled
separately (every resample refits the propensity model and the purchase model; a customer
drawn k times weighs k; ``bootstrap`` resamples, seeded). The log-rank test compares the
time from the index to a lapse (``lapse_days`` without a purchase; censored at
``as_of``) between members and weighted controls (lifelines ``logrank_test``
with weights; intention-to-treat like the revenue).

Measured on ``negah synth`` (bench/program_study.py, docs/actions.md): 20 seeds of 4,000
customers, bias and 95 % interval coverage of ``alive_at_end`` and ``retained_180d``.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

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


def _rows_features(
    days: "pd.DataFrame", rows: "pd.DataFrame", launch: "pd.Timestamp", as_of: "pd.Timestamp", horizon: int, lapse: int
) -> "pd.DataFrame":
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
    before = dd < 0
    cnt_b = np.bincount(row[before], minlength=n)
    first = np.full(n, np.nan)
    np.fmin.at(first, row[before], dd[before].astype(float))
    lastb = np.full(n, np.nan)
    np.fmax.at(lastb, row[before], dd[before].astype(float))
    rev365 = np.bincount(row[before & (dd >= -365)], weights=m["rev"].values[before & (dd >= -365)], minlength=n)
    after = dd > 0
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
    out["T"] = T
    out["retained"] = ret
    out["revenue"] = revh
    out["followed"] = T >= horizon
    out["time_to_lapse"] = ttl
    out["lapsed"] = event
    return out


class _Rows:
    """The trial rows as arrays (features, member flag, outcomes), for cheap bootstrap refits."""

    def __init__(self, df: "pd.DataFrame"):
        import numpy as np

        X = df[FEATURES].values.astype(float)
        self.X = np.column_stack([X, np.log1p(np.maximum(df[["tenure", "since_last", "mean_gap"]].values, 0))])
        self.member = df["member"].values.astype(bool)
        self.followed = df["followed"].values.astype(bool)
        self.y = {"retained": df["retained"].values.astype(float), "revenue": df["revenue"].values.astype(float)}


def _propensity(rows: _Rows, c: "Any") -> "Any":
    """P(member | pre-index behaviour) per row (logistic; ``c``: row multiplicities)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    y = rows.member.astype(int)
    if y[c > 0].min() == y[c > 0].max():
        raise InputError("evaluate-program: need both members and non-members to compare")
    Xs = StandardScaler().fit(rows.X, sample_weight=c).transform(rows.X)
    lr = LogisticRegression(C=1.0, max_iter=1000)
    lr.fit(Xs, y, sample_weight=c)
    return np.clip(lr.predict_proba(Xs)[:, 1], 1e-4, 1 - 1e-4)


def _att_weights(rows: _Rows, e: "Any", c: "Any") -> "Any":
    """Members 1, control rows e/(1 − e), times the row multiplicities ``c``; the controls'
    weights normalised to sum to the members' count."""
    import numpy as np

    m = rows.member
    w = np.where(m, 1.0, e / (1 - e)) * c
    cw = w[~m].sum()
    if cw > 0:
        w[~m] *= w[m].sum() / cw
    return w


def _weighted(rows: _Rows, c: "Any") -> tuple[dict[str, float], "Any"]:
    """Retention and revenue within the horizon: members − ATT-weighted control rows."""
    import numpy as np

    w = _att_weights(rows, _propensity(rows, c), c)
    m, f = rows.member, rows.followed
    out: dict[str, float] = {}
    for name, y in rows.y.items():
        mt, mc = m & f & (w > 0), ~m & f & (w > 0)
        if mt.sum() == 0 or mc.sum() == 0:
            out[name + "_members"] = out[name + "_controls"] = out[name] = float("nan")
            continue
        a = np.sum(y[mt] * w[mt]) / np.sum(w[mt])
        b = np.sum(y[mc] * w[mc]) / np.sum(w[mc])
        out[name + "_members"], out[name + "_controls"], out[name] = a, b, a - b
    return out, w


def _alive(h: "Any", c: "Any", start: "Any" = None) -> tuple[dict[str, float], "Any"]:
    """The effect on the treated on being alive at as_of (:mod:`negah.actions.program_model`):
    members' P(alive | their purchases) against the same members had they not joined."""
    import numpy as np

    from negah.actions import program_model as pm

    f = pm.fit(h, c, start=start)
    m = h.member & ((h.u > 0) | h.at_purchase) & (c > 0)
    if not m.any():  # no member bought anything up to joining: no history to condition on
        nan = float("nan")
        return {"alive_at_end_members": nan, "alive_at_end_controls": nan, "alive_at_end": nan}, f
    hm, cm = h.take(np.flatnonzero(m)), c[m]
    a = float(np.sum(pm.p_alive(f, hm) * cm) / cm.sum())
    b = float(np.sum(pm.survival_from_join(f, hm, treated=False) * cm) / cm.sum())
    return {"alive_at_end_members": a, "alive_at_end_controls": b, "alive_at_end": a - b}, f


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
        rows.append(
            {
                "feature": f,
                "members": a.mean(),
                "controls": b.mean(),
                "controls_weighted": mw,
                "smd_before": (a.mean() - b.mean()) / sd,
                "smd_after": (a.mean() - mw) / sd,
            }
        )
    return pd.DataFrame(rows)


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Callable[[], None]]:
    """A tick function; with ``show``, a progress bar of the bootstrap on stderr."""
    if not show:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("bootstrap"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("bootstrap", total=total)
        yield lambda: bar.advance(task)


@dataclass
class ProgramReport:
    effects: "pd.DataFrame"
    balance: "pd.DataFrame"
    logrank: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": json_value(self.settings),
            "effects": to_records(self.effects),
            "balance": to_records(self.balance),
            "logrank": json_value(self.logrank),
        }


def _estimates(
    trial: _Rows, hist: Any, row_code: Any, hist_code: Any, is_member: Any, rng: Any, bootstrap: int, progress: bool
) -> tuple[dict[str, float], Any, Any, dict[str, list[float]]]:
    """Point estimates, ATT weights, the purchase-model fit and the bootstrap replicates (customers
    resampled within members and non-members; a customer drawn k times weighs k)."""
    import numpy as np

    from negah.errors import ConvergenceError

    alive = hist is not None
    est, w = _weighted(trial, np.ones(len(row_code)))
    fit0 = None
    if alive:
        a_est, fit0 = _alive(hist, np.ones(len(hist_code)))
        est.update(a_est)
    names = ["retained", "revenue"] + (["alive_at_end"] if alive else [])
    boots: dict[str, list[float]] = {k: [] for k in names}
    strata = [np.flatnonzero(is_member), np.flatnonzero(~is_member)]
    with _progress(progress and bootstrap > 0, int(bootstrap)) as tick:
        for _ in range(int(bootstrap)):
            cnt = np.zeros(len(is_member))
            for st in strata:
                cnt += np.bincount(rng.choice(st, len(st)), minlength=len(is_member))
            try:
                r, _ = _weighted(trial, cnt[row_code])
                if alive:
                    r.update(_alive(hist, cnt[hist_code], start=fit0)[0])
            except (InputError, ConvergenceError):  # a resample where a model cannot be fitted is skipped
                r = {}
            for k in names:
                if k in r:
                    boots[k].append(r[k])
            tick()
    return est, w, fit0, boots


def evaluate_program(
    source: Any,
    *,
    members: "pd.DataFrame | None" = None,
    as_of: Any = None,
    horizon_days: int = 180,
    lapse_days: int = 180,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    alive: bool = True,
    max_controls_per_customer: int = 12,
    progress: bool = False,
) -> ProgramReport:
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
        Also estimate the effect on being alive at ``as_of`` (the MBG/NBD with a switch at
        joining of :mod:`negah.actions.program_model`).
    max_controls_per_customer
        At most this many purchase occasions per non-member (the latest ones are dropped
        at random, seeded), to bound the work on long histories.
    progress
        Show a progress bar of the bootstrap on stderr.
    """
    import numpy as np
    import pandas as pd

    from negah.calendars import to_date

    with opened(source) as store:
        days = purchase_days(store)
        end = to_date(as_of) if as_of is not None else last_date(store, ("orders",))
        if members is None:
            if not store.has("customers"):
                raise InputError(
                    f"evaluate-program needs who joined and when: {store.location} has no customers "
                    "table; give --members FILE (customer_id, joined) or add customers.csv with "
                    "loyalty_member and loyalty_joined"
                )
            cust = table_frame(store, "customers", what="evaluate-program (loyalty_member, loyalty_joined)")
            if "loyalty_joined" not in cust.columns:
                raise InputError(
                    "customers: no loyalty_joined column; give --members FILE (customer_id, joined) "
                    "(members= in Python) or add loyalty_member and loyalty_joined to customers"
                )
            flag = (
                cust["loyalty_member"].map(_bool)
                if "loyalty_member" in cust.columns
                else cust["loyalty_joined"].notna()
            )
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
    p = days[(days["purchases"] > 0) & (days["day"] >= launch) & (days["day"] <= as_of_ts)]
    ctrl = p[["customer_id", "day"]].rename(columns={"day": "index_date"})
    jd = members.set_index("customer_id")["index_date"]
    ctrl = ctrl.assign(end_date=ctrl["customer_id"].map(jd).fillna(as_of_ts))
    ctrl = ctrl[ctrl["index_date"] < ctrl["end_date"]]
    if max_controls_per_customer:
        ctrl = ctrl.assign(_u=rng.random(len(ctrl))).sort_values(["customer_id", "_u"], kind="mergesort")
        ctrl = ctrl.groupby("customer_id", sort=True).head(max_controls_per_customer).drop(columns="_u")
    rows = pd.concat(
        [members[["customer_id", "index_date"]].assign(member=True, end_date=as_of_ts), ctrl.assign(member=False)],
        ignore_index=True,
    )
    df = _rows_features(days, rows, launch, as_of_ts, horizon_days, lapse_days)
    df = df.sort_values(
        ["member", "customer_id", "index_date"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    trial = _Rows(df)
    # every customer is one resampling unit: the trial rows' and the purchase model's
    hist = None
    if alive:
        from negah.actions.program_model import histories

        hist_ids, hist = histories(days, jd, as_of_ts)
    ids = np.union1d(df["customer_id"].values.astype(str), hist_ids if alive else np.array([], dtype=str))
    row_code = np.searchsorted(ids, df["customer_id"].values.astype(str))
    is_member = pd.Index(ids).isin(members["customer_id"])  # (np.isin on text compares every pair)
    hist_code = np.searchsorted(ids, hist_ids) if alive else None
    from negah.models.base import _one_blas_thread

    with _one_blas_thread():  # scipy's and sklearn's L-BFGS call BLAS on tiny vectors (see there)
        est, w, fit0, boots = _estimates(trial, hist, row_code, hist_code, is_member, rng, bootstrap, progress)
    names = list(boots)
    q = (1 - confidence) / 2
    n_followed = int((trial.member & trial.followed).sum())
    n_members = int(trial.member.sum())
    n_alive = int((hist.member & ((hist.u > 0) | hist.at_purchase)).sum()) if alive else 0
    what = {
        "retained": (
            f"retained_{horizon_days}d",
            n_followed,
            f"effect on the treated: share buying again within {horizon_days} days after the index day, "
            f"members who joined at least {horizon_days} days before as_of, against ATT-weighted "
            "purchase occasions of customers not (yet) members",
        ),
        "revenue": (
            f"revenue_{horizon_days}d",
            n_followed,
            f"effect on the treated: net revenue in the {horizon_days} days after the index day, same "
            "rows; intention-to-treat (controls who join later keep their revenue: biased toward 0)",
        ),
        "alive_at_end": (
            "alive_at_end",
            n_alive,
            "effect on the treated: members' P(alive at as_of | their purchases) minus the same "
            "members' P(alive at as_of had they not joined | their purchases up to joining), "
            "MBG/NBD with a switch at joining; `controls` is that counterfactual",
        ),
    }
    rows_out = []
    for k in names:
        v = np.array(boots[k], dtype=float)
        v = v[~np.isnan(v)]
        lo, hi = (np.quantile(v, q), np.quantile(v, 1 - q)) if len(v) >= 10 else (np.nan, np.nan)
        label, n, text = what[k]
        rows_out.append(
            {
                "outcome": label,
                "members": est[k + "_members"],
                "controls": est[k + "_controls"],
                "effect": est[k],
                "low": lo,
                "high": hi,
                "bootstrap": int(len(v)),
                "n": n,
                "estimand": text,
            }
        )
    effects = pd.DataFrame(rows_out)
    balance = _smd(df, w)
    lr = _logrank(df, w)
    settings = {
        "as_of": end.isoformat(),
        "launch": launch.date().isoformat(),
        "horizon_days": horizon_days,
        "lapse_days": lapse_days,
        "bootstrap": bootstrap,
        "confidence": confidence,
        "seed": seed,
        "members": n_members,
        "control_occasions": int((~df["member"]).sum()),
        "control_customers": int(df.loc[~df["member"], "customer_id"].nunique()),
        "weighting": "ATT inverse propensity (logistic on pre-index behaviour)",
    }
    if alive:
        settings["alive_model"] = {
            "model": "MBG/NBD with a switch at joining (negah.actions.program_model)",
            "customers": int(len(hist.x)),
            **fit0.params,
            "members_without_purchase_before_joining": int(hist.member.sum()) - n_alive,
        }
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
        r = logrank_test(
            df["time_to_lapse"].values[a],
            df["time_to_lapse"].values[b],
            event_observed_A=df["lapsed"].values[a],
            event_observed_B=df["lapsed"].values[b],
            weights_A=np.ones(a.sum()),
            weights_B=np.asarray(w)[b],
        )
    return {
        "test_statistic": float(r.test_statistic),
        "p_value": float(r.p_value),
        "members_lapsed": float(df["lapsed"].values[a].mean()),
        "controls_lapsed_weighted": float(np.sum(df["lapsed"].values[b] * np.asarray(w)[b]) / np.sum(np.asarray(w)[b])),
        "event": "lapse (no purchase for lapse_days)",
    }
