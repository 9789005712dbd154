"""Subscriptions (MRR), cohorts, growth, segments, activity windows, acquisition, benchmarks."""

from __future__ import annotations


import pandas as pd
import pytest

import negah
from negah.errors import InputError
from negah.metrics.benchmarks import benchmark
from negah.metrics.cohorts import cohort_records
from negah.metrics.engine import compute_records

from .conftest import make_store


def _get(recs, metric, period, **kw):
    out = [
        r for r in recs if r["metric"] == metric and r["period"] == period and all(r.get(k) == v for k, v in kw.items())
    ]
    assert len(out) == 1, (metric, period, kw)
    return out[0]


SUBS = pd.DataFrame(
    [
        # customer, start, end (exclusive), mrr
        ("s1", "a", "2024-01-01", None, 100),
        ("s2", "b", "2024-01-01", "2024-02-15", 50),  # churns in Feb
        ("s3", "c", "2024-01-10", None, 30),  # new in Jan
        ("s4", "c", "2024-02-05", None, 20),  # expansion in Feb
        ("s5", "d", "2023-12-01", "2024-01-01", 10),  # gone before Jan
        ("s6", "d", "2024-02-20", None, 40),  # reactivated in Feb
    ],
    columns=["subscription_id", "customer_id", "start_date", "end_date", "mrr"],
)


def test_subscription_mrr_movements_by_hand():
    s = make_store(subscriptions=SUBS)
    recs = compute_records(s, basis="subscriptions")
    feb = {r["metric"]: r for r in recs if r["period"] == "2024-02"}
    # s = Feb 1: a 100, b 50, c 30 -> 180; e = Mar 1: a 100, c 50, d 40 -> 190
    assert feb["mrr"]["value"] == 190.0
    assert (feb["churn_rate"]["numerator"], feb["churn_rate"]["denominator"]) == (1, 3)
    assert feb["mrr_churned"]["value"] == 50.0 and feb["mrr_expansion"]["value"] == 20.0
    assert feb["mrr_contraction"]["value"] == 0.0 and feb["mrr_reactivated"]["value"] == 40.0
    assert feb["mrr_new"]["value"] == 0.0 and feb["new_customers"]["value"] == 0
    assert feb["revenue_churn_gross"]["value"] == 50 / 180
    assert feb["revenue_churn_net"]["value"] == 30 / 180
    assert feb["net_revenue_retention"]["value"] == 150 / 180
    jan = {r["metric"]: r for r in recs if r["period"] == "2024-01"}
    # spec: N = active at e with first start in [s, e): a and b (starting on s) count; c too.
    # mrr_new only counts customers not already active at s (c), keeping the MRR identity.
    assert jan["new_customers"]["value"] == 3 and jan["mrr_new"]["value"] == 30.0
    # the movement identity, every period
    by = {}
    for r in recs:
        by.setdefault(r["period"], {})[r["metric"]] = r["value"]
    labels = list(by)
    for prev, cur in zip(labels, labels[1:]):
        m = by[cur]
        assert m["mrr"] == pytest.approx(
            by[prev]["mrr"]
            + m["mrr_new"]
            + m["mrr_reactivated"]
            + m["mrr_expansion"]
            - m["mrr_contraction"]
            - m["mrr_churned"]
        )


ORD = pd.DataFrame(
    [
        ("a", "2024-01-05", 10),
        ("a", "2024-02-03", 20),
        ("a", "2024-03-01", 5),
        ("b", "2024-01-20", 40),
        ("b", "2024-03-15", 40),
        ("c", "2024-02-10", 8),
        ("c", "2024-02-11", 8),
    ],
    columns=["customer_id", "order_date", "amount"],
)
CUST = pd.DataFrame(
    {"customer_id": ["a", "b", "c"], "plan": ["gold", "basic", "gold"], "acquisition_channel": ["ads", "seo", "ads"]}
)


def test_cohort_matrix_customers_and_revenue():
    s = make_store(orders=ORD)
    recs = cohort_records(s)
    cell = {(r["cohort"], r["offset"]): r for r in recs}
    assert cell[("2024-01", 0)]["value"] == 1.0
    assert (cell[("2024-01", 1)]["numerator"], cell[("2024-01", 1)]["denominator"]) == (1, 2)
    assert cell[("2024-01", 2)]["value"] == 1.0
    assert cell[("2024-02", 1)]["value"] == 0.0
    rev = {(r["cohort"], r["offset"]): r for r in cohort_records(s, value="revenue")}
    assert rev[("2024-01", 2)]["value"] == 45 / 50


def test_growth_and_quick_ratio():
    s = make_store(orders=ORD)
    recs = compute_records(
        s, metrics=["new_customers", "reactivated_customers", "churned_customers", "net_customer_adds", "quick_ratio"]
    )
    mar = {r["metric"]: r["value"] for r in recs if r["period"] == "2024-03"}
    # S(Mar) = {a, c}; A(Mar) = {a, b}: churned c, reactivated b
    assert mar == {
        "new_customers": 0,
        "reactivated_customers": 1,
        "churned_customers": 1,
        "net_customer_adds": 0,
        "quick_ratio": 1.0,
    }


def test_segments_partition_the_counts():
    s = make_store(orders=ORD, customers=CUST)
    recs = compute_records(s, segment="plan", metrics=["active_customers", "churn_rate"])
    assert {r["segment"] for r in recs} == {"basic", "gold"}
    assert _get(recs, "active_customers", "2024-02", segment="gold")["value"] == 2
    assert _get(recs, "churn_rate", "2024-03", segment="gold")["value"] == 0.5
    with pytest.raises(InputError, match="segment 'nope' is not a column of customers"):
        compute_records(s, segment="nope")


def test_activity_window_churn():
    s = make_store(orders=ORD)
    recs = compute_records(s, active_window="40d", metrics=["churn_rate_40d", "active_customers_40d"])
    # Mar 1: a (Feb 3), c (Feb 11) active; b (Jan 20 + 40 = Feb 29) not.
    # Apr 1: a (Mar 1), b (Mar 15) active; c churned.
    r = _get(recs, "churn_rate_40d", "2024-03")
    assert (r["numerator"], r["denominator"]) == (1, 2)
    assert _get(recs, "active_customers_40d", "2024-03")["value"] == 2
    # the default names keep the spec's meaning
    assert compute_records(s, metrics=["churn_rate"])[-1]["value"] == 0.5


def test_acquisition_cac_and_clv_to_cac():
    spend = pd.DataFrame(
        {
            "spend_date": ["2024-02-01", "2024-02-20", "2024-03-03"],
            "amount": [30, 10, 5],
            "channel": ["ads", "seo", "ads"],
        }
    )
    s = make_store(orders=ORD, customers=CUST, spend=spend)
    recs = compute_records(s)
    assert _get(recs, "cac", "2024-02")["value"] == 40.0  # 40 spent, 1 new customer (c)
    assert _get(recs, "cac", "2024-03")["value"] is None  # no new customers
    seg = compute_records(s, segment="acquisition_channel", metrics=["acquisition_spend", "cac"])
    assert _get(seg, "cac", "2024-02", segment="ads")["value"] == 30.0
    assert _get(seg, "cac", "2024-02", segment="seo")["value"] is None


def test_benchmark_uses_yearly_churn_and_flags_above_10_percent():
    rows = [(f"c{i}", "2022-01-01", 10) for i in range(100)] + [(f"c{i}", "2022-12-20", 10) for i in range(100)]
    rows += [(f"c{i}", "2023-06-01", 10) for i in range(75)] + [("z", "2023-12-31", 1)]
    s = make_store(orders=pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]))
    [b] = benchmark(s, "saas")
    assert b["value"] == 0.25 and b["period"] == "2023" and b["complete"] is True
    assert b["position"] == "above" and b["alert"] is True
    with pytest.raises(InputError, match="industry 'toys'"):
        benchmark(s, "toys")


def test_subscription_benchmark_compounds_monthly_churn():
    s = make_store(subscriptions=SUBS)
    [b] = benchmark(s, "saas", basis="subscriptions")
    assert b["method"].startswith("1 - (1 - mean monthly churn)^12")


def test_negah_metrics_is_callable_and_a_package():
    s = make_store(orders=ORD)
    df = negah.metrics(s, metrics="churn_rate")
    assert list(df.columns) == ["metric", "period", "start", "end", "value", "numerator", "denominator", "complete"]
    assert df.value.tolist() == [None, 0.5, 0.5]
    assert negah.metrics.available_metrics()[0] == "active_customers"


def test_unknown_metric_and_missing_tables_are_clear_errors():
    s = make_store(orders=ORD)
    with pytest.raises(InputError, match="metric 'churn' is not known"):
        compute_records(s, metrics=["churn"])
    with pytest.raises(InputError, match="needs survey answers"):
        compute_records(s, metrics=["nps"])
    with pytest.raises(InputError, match="needs a subscriptions table"):
        compute_records(s, basis="subscriptions")


def test_from_to_only_narrow_the_output():
    s = make_store(orders=ORD)
    recs = compute_records(s, metrics=["new_customers", "churn_rate"], start="2024-02-15", end="2024-02-20")
    assert {r["period"] for r in recs} == {"2024-02"}
    assert _get(recs, "churn_rate", "2024-02")["value"] == 0.5  # P⁻ still seen
