"""The spec's worked examples ("Worked examples from the source articles")."""

from __future__ import annotations

import datetime as dt

import pandas as pd

import negah
from negah.metrics.engine import compute_records

from .conftest import make_store


def _rec(recs, metric, period):
    [r] = [r for r in recs if r["metric"] == metric and r["period"] == period]
    return r


def test_churn_1000_customers_150_lost_is_0_15():
    rows = [(f"c{i}", "2023-06-01", 10) for i in range(1000)]
    rows += [(f"c{i}", "2024-06-01", 10) for i in range(150, 1000)]
    s = make_store(orders=pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]))
    recs = compute_records(s, period="year", metrics=["churn_rate", "churned_customers"])
    r = _rec(recs, "churn_rate", "2024")
    assert (r["value"], r["numerator"], r["denominator"]) == (0.15, 150, 1000)
    assert _rec(recs, "churned_customers", "2024")["value"] == 150


def test_nps_500_answers_147_promoters_41_detractors_is_21_2():
    scores = [10] * 100 + [9] * 47 + [7] * 200 + [8] * 112 + [6] * 20 + [0] * 21
    assert len(scores) == 500
    resp = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(500)], "response_date": ["2024-05-10"] * 500, "score": scores}
    )
    orders = pd.DataFrame({"customer_id": ["c0"], "order_date": ["2024-05-01"], "amount": [1]})
    s = make_store(orders=orders, responses=resp)
    r = _rec(compute_records(s, metrics=["nps"]), "nps", "2024-05")
    assert r["value"] == 21.2 and (r["numerator"], r["denominator"]) == (106, 500)


def test_time_between_purchases_7_then_14_days_is_10_5():
    d0 = dt.date(2024, 1, 1)
    days = [d0, d0 + dt.timedelta(days=7), d0 + dt.timedelta(days=21)]
    s = make_store(orders=pd.DataFrame({"customer_id": ["x"] * 3, "order_date": days, "amount": [5, 5, 5]}))
    r = _rec(compute_records(s, metrics=["time_between_purchases_days"]), "time_between_purchases_days", "2024-01")
    assert r["value"] == 10.5 and (r["numerator"], r["denominator"]) == (10.5, 1)


def test_arpu_and_clv_1e9_toman_2000_customers_churn_0_2():
    # year 2023: 2,500 active customers; 2024: 2,000 of them active (yearly churn 500/2500 = 0.2),
    # spending 1,000,000,000 toman together.
    rows = [(f"c{i}", "2023-03-01", 1) for i in range(2500)]
    rows += [(f"c{i}", "2024-03-01", 500_000) for i in range(2000)]
    s = make_store(orders=pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]))
    df = negah.metrics(s, period="year", metrics=["churn_rate", "arpu", "clv"])
    got = {m: v for m, p, v in zip(df.metric, df.period, df.value) if p == "2024"}
    assert got == {"churn_rate": 0.2, "arpu": 500_000.0, "clv": 2_500_000.0}
