"""Property tests on generated order logs, against the pandas oracle (tests/metrics/oracle.py)."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negah.metrics.engine import compute_records
from negah.metrics.output import to_json

from .conftest import make_store
from .oracle import oracle

CUSTOMERS = ["1", "2", "3", "007", "7", "b"]
D0 = dt.date(2024, 1, 1)

row = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(CUSTOMERS),
        "order_date": st.integers(0, 150).map(lambda k: D0 + dt.timedelta(days=k)),
        "amount": st.integers(-3000, 9000).map(lambda c: f"{c / 100:.2f}"),
        "order_id": st.one_of(st.none(), st.sampled_from(["o1", "o2", "o3", "o4", "o5", "7", "007"])),
        "quantity": st.one_of(st.none(), st.integers(-3, 5)),
        "kind": st.one_of(st.none(), st.sampled_from(["purchase", "return", "Return "])),
    }
)


@st.composite
def logs(draw):
    rows = draw(st.lists(row, min_size=1, max_size=40))
    df = pd.DataFrame(rows)
    drop = draw(st.sets(st.sampled_from(["order_id", "quantity", "kind"])))
    return df.drop(columns=sorted(drop))


# Each example runs the engine (an Ibis compile and a DuckDB query, ~0.1-0.5 s): the
# example counts keep the module at well under a minute on an idle 2-core machine while
# every property still sees every period/calendar choice and all optional-column subsets.
def _settings(n: int):
    return settings(
        max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
    )


SETTINGS = _settings(25)
PERIODS = st.sampled_from(
    [("month", "gregorian"), ("week", "gregorian"), ("month", "jalali"), ("quarter", "jalali"), ("year", "jalali")]
)  # quarters and years: day masks of several words


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


@_settings(35)
@given(df=logs(), pc=PERIODS)
def test_engine_matches_the_oracle(df, pc):
    period, calendar = pc
    with make_store(orders=df) as s:
        recs = compute_records(
            s,
            period=period,
            calendar=calendar,
            metrics=[m for m in _spec_metrics() if m != "nps"] + ["reactivated_customers"],
        )
    want = oracle(df, period=period, calendar=calendar)
    assert len(recs) == len({(m, p) for (m, p) in want if m != "nps"})
    for r in recs:
        v, n, d = want[(r["metric"], r["period"])]
        assert _close(r["value"], v), (r, v)
        if r["metric"] not in ("active_customers", "new_customers", "churned_customers", "reactivated_customers"):
            assert _close(r["numerator"], n), (r, n)
            assert _close(r["denominator"], d), (r, d)


def _spec_metrics():
    from negah.metrics.engine import SPEC_METRICS

    return list(SPEC_METRICS)


def _by(recs):
    out = {}
    for r in recs:
        out.setdefault(r["period"], {})[r["metric"]] = r
    return out


@SETTINGS
@given(df=logs())
def test_identities_bounds_and_nulls(df):
    with make_store(orders=df) as s:
        recs = compute_records(s, metrics=_spec_metrics()[:12] + ["reactivated_customers"])
    periods = _by(recs)
    for i, (_label, m) in enumerate(periods.items()):
        if i == 0:
            # the first period has no P⁻: every metric needing it is null
            for name in (
                "churn_rate",
                "retention_rate",
                "revenue_churn_gross",
                "revenue_churn_net",
                "net_revenue_retention",
                "loyal_customer_rate",
                "churned_customers",
            ):
                assert m[name]["value"] is None
            continue
        S = m["churn_rate"]["denominator"]
        C = m["churned_customers"]["value"]
        A = m["active_customers"]["value"]
        N = m["new_customers"]["value"]
        Re = m["reactivated_customers"]["value"]
        assert A == S - C + N + Re
        c, r = m["churn_rate"]["value"], m["retention_rate"]["value"]
        if S == 0:
            assert c is None and r is None
        else:
            assert Fraction(c) + Fraction(r) == 1 or math.isclose(c + r, 1.0, rel_tol=1e-15)
        for name in ("churn_rate", "retention_rate", "repeat_purchase_rate", "loyal_customer_rate"):
            v = m[name]["value"]
            assert v is None or 0 <= v <= 1
        if m["revenue_churn_gross"]["denominator"] == 0:
            assert m["revenue_churn_gross"]["value"] is None
        if A == 0:
            assert m["repeat_purchase_rate"]["value"] is None


@_settings(15)
@given(df=logs(), seed=st.integers(0, 2**31 - 1))
def test_invariant_to_row_order_and_byte_identical(df, seed):
    with make_store(orders=df) as s:
        a = to_json(compute_records(s))
        b = to_json(compute_records(s))
    with make_store(orders=df.sample(frac=1, random_state=seed).reset_index(drop=True)) as s:
        c = to_json(compute_records(s))
    assert a == b == c


@_settings(40)
@given(df=logs(), data=st.data())
def test_invariant_to_splitting_an_order_into_lines(df, data):
    df = df.copy()
    if "order_id" not in df.columns:
        df["order_id"] = [f"x{i}" for i in range(len(df))]
    df["order_id"] = df["order_id"].fillna("solo")
    i = data.draw(st.integers(0, len(df) - 1))
    r = df.iloc[i].to_dict()
    amt = float(r["amount"])
    q = r.get("quantity")
    kind = r.get("kind")
    is_ret = (
        amt < 0
        or (q is not None and not pd.isna(q) and q < 0)
        or (isinstance(kind, str) and kind.strip().lower() == "return")
    )
    # split the line in two lines of the same order, same day and same sign
    part = data.draw(st.integers(0, 100)) / 100
    a1 = round(amt * part, 2)
    one, two = dict(r), dict(r)
    one["amount"], two["amount"] = f"{a1:.2f}", f"{amt - a1:.2f}"
    if "quantity" not in df.columns or q is None or pd.isna(q):
        return  # a line without quantity counts 1 unit: splitting it changes units, by the spec
    if True:
        q1 = int(q) // 2 if q >= 0 else -((-int(q)) // 2)
        one["quantity"], two["quantity"] = q1, int(q) - q1
        if q1 == 0 or int(q) - q1 == 0:
            return  # a zero-unit line could not be told apart; nothing to check

    def returns(line: dict) -> bool:  # the spec's rule, per line
        k, qq = line.get("kind"), line.get("quantity")
        return (
            float(line["amount"]) < 0
            or (qq is not None and not pd.isna(qq) and qq < 0)
            or (isinstance(k, str) and k.strip().lower() == "return")
        )

    if returns(one) != is_ret or returns(two) != is_ret:
        return  # a part that reads as the other kind of line (a zero-amount part of a return) is another log
    split = pd.concat([df.drop(index=df.index[i]), pd.DataFrame([one, two])], ignore_index=True)
    with make_store(orders=df) as s:
        a = to_json(compute_records(s))
    with make_store(orders=split) as s:
        b = to_json(compute_records(s))
    assert a == b
