"""What if churn moved? Customers and revenue projected over N periods at the current
churn and at another one (the articles' 10 % → 5 %).

The retention model: an sBG (Fader & Hardie 2007) fitted to the survival of the customers
active in a base period over the following periods (:class:`negah.models.sbg.
ShiftedBetaGeometric`), so churn falls as a cohort ages as it does in the data. The
scenario scales every period's churn by ``target / current`` (current = the base
period's churn), keeping the model's shape; ``model="constant"`` uses a constant churn
instead. New customers per period (default: the mean of the last three complete periods)
join in both projections as new cohorts; revenue = customers × ARPU of the base period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def whatif(source: Any, *, churn: float, periods: int = 24, period: str = "month",
           calendar: str = "gregorian", new_per_period: float | None = None,
           model: str = "sbg") -> "pd.DataFrame":
    """Projection table: ``step, customers_now, customers_scenario, revenue_now,
    revenue_scenario, revenue_gain, cumulative_gain`` (+ attrs with the inputs)."""
    import numpy as np
    import pandas as pd

    import negah
    from negah.actions._data import opened
    from negah.errors import InputError

    if not 0 <= churn < 1:
        raise InputError(f"churn {churn}: expected a fraction in [0, 1), e.g. 0.05")
    if periods < 1:
        raise InputError(f"periods {periods}: expected at least 1")
    with opened(source) as store:
        df = negah.metrics(store, period=period, calendar=calendar,
                           metrics=["active_customers", "new_customers", "churn_rate", "arpu"])
    comp = df[df["complete"].astype(bool)]
    wide = comp.pivot_table(index="period", columns="metric", values="value", aggfunc="first").sort_index()
    wide = wide.astype(float).dropna(subset=["churn_rate"])
    if len(wide) < 2:
        raise InputError("whatif: needs at least two complete periods with a churn rate")
    base = wide.iloc[-1]
    c0 = float(wide["churn_rate"].iloc[-3:].mean())
    arpu = float(base["arpu"])
    n0 = float(base["active_customers"])
    new = float(wide["new_customers"].iloc[-3:].mean()) if new_per_period is None else float(new_per_period)
    # churn by cohort age
    ages = np.arange(1, periods + 1)
    if model == "sbg":
        try:
            from negah.models.sbg import ShiftedBetaGeometric

            surv = np.cumprod(1 - wide["churn_rate"].values[-12:])
            counts = np.concatenate([[1000.0], 1000.0 * surv])
            m = ShiftedBetaGeometric().fit(counts)
            hazard = np.asarray(m.churn_probability(ages), dtype=float)
            hazard = hazard * (c0 / max(hazard[0], 1e-9))
        except Exception:
            hazard = np.full(periods, c0)
            model = "constant"
    else:
        hazard = np.full(periods, c0)
    k = churn / c0 if c0 > 0 else 1.0

    def project(h: np.ndarray) -> np.ndarray:
        out = np.zeros(periods)
        cohorts: list[tuple[float, int]] = [(n0, 0)]
        for t in range(periods):
            nxt = []
            for size, age in cohorts:
                size = size * (1 - min(1.0, h[min(age, periods - 1)]))
                nxt.append((size, age + 1))
            nxt.append((new, 0))
            cohorts = nxt
            out[t] = sum(s for s, _ in cohorts)
        return out

    now = project(hazard)
    scen = project(np.minimum(1.0, hazard * k))
    res = pd.DataFrame({"step": ages, "customers_now": now, "customers_scenario": scen,
                        "revenue_now": now * arpu, "revenue_scenario": scen * arpu})
    res["revenue_gain"] = res["revenue_scenario"] - res["revenue_now"]
    res["cumulative_gain"] = res["revenue_gain"].cumsum()
    res.attrs.update({"current_churn": c0, "target_churn": churn, "arpu": arpu, "base_period": str(wide.index[-1]),
                      "customers": n0, "new_per_period": new, "model": model, "period": period})
    return res
