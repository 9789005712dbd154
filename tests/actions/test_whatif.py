"""What-if on the fitted retention model: spells by hand, parameter recovery of the sBG on
simulated subscriptions, and the projection's identities (target = current churn changes
nothing; lower churn gives more customers and revenue, monotone in the target)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from negah.actions.whatif import (
    PERIOD_DAYS,
    order_spells,
    project,
    spell_ages,
    subscription_spells,
    survivor_series,
    whatif,
)
from negah.errors import InputError
from tests.actions.builders import write_folder
from tests.metrics.conftest import make_store

D0 = dt.date(2024, 1, 1)


def d(k: int) -> dt.date:
    return D0 + dt.timedelta(days=k)


def test_order_spells_by_hand():
    """W = 30: p buys on days 0, 20, 40 (one spell, lapsed) and 100 (a new spell, open on day
    110); q buys on day 85 (open); r buys on days 0 and 31 (a gap of 31 > 30: two spells)."""
    orders = pd.DataFrame(
        {
            "customer_id": ["p", "p", "p", "p", "q", "r", "r", "p"],
            "order_date": [d(0), d(20), d(40), d(100), d(85), d(0), d(31), d(110)],
            "amount": [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, -5.0],
        }
    )  # a return is no purchase
    s = make_store(orders=orders)
    try:
        sp = order_spells(s, d(110), 30)
    finally:
        s.close()
    got = sorted((str(a.date()), str(b.date()), o) for a, b, o in zip(sp["start"], sp["last"], sp["open"]))
    assert got == sorted(
        [
            (str(d(0)), str(d(40)), False),
            (str(d(100)), str(d(100)), True),
            (str(d(85)), str(d(85)), True),
            (str(d(0)), str(d(0)), False),
            (str(d(31)), str(d(31)), False),
        ]
    )
    assert (sp["end"] == sp["last"] + pd.Timedelta(days=1)).all()


def test_subscription_spells_by_hand():
    """s1: back-to-back Jan–Mar and Mar–May are one spell; June on is a second, open one.
    s2: Jan 15–Apr with an overlapping Feb subscription inside it: one spell."""
    subs = pd.DataFrame(
        {
            "customer_id": ["s1", "s1", "s1", "s2", "s2"],
            "start_date": [
                dt.date(2024, 1, 1),
                dt.date(2024, 3, 1),
                dt.date(2024, 6, 1),
                dt.date(2024, 1, 15),
                dt.date(2024, 2, 1),
            ],
            "end_date": [dt.date(2024, 3, 1), dt.date(2024, 5, 1), None, dt.date(2024, 4, 1), dt.date(2024, 3, 1)],
            "mrr": [10.0, 10.0, 10.0, 20.0, 5.0],
        }
    )
    s = make_store(subscriptions=subs)
    try:
        sp = subscription_spells(s, dt.date(2024, 6, 30))
    finally:
        s.close()
    got = sorted(
        (str(a.date()), None if pd.isna(b) else str(b.date()), o) for a, b, o in zip(sp["start"], sp["end"], sp["open"])
    )
    assert got == [("2024-01-01", "2024-05-01", False), ("2024-01-15", "2024-04-01", False), ("2024-06-01", None, True)]


def test_ages_and_survivor_series_by_hand():
    """Periods of 10 days, data known to day 35. A: days 0–24 (alive at ages 1, 2: 10 < 25,
    20 < 25); B: days 0–5 (dies at age 1); C: open since day 12 (observed to age 2: 12 + 20
    ≤ 35); D: starts on day 30 (nothing observed yet)."""
    sp = pd.DataFrame(
        {
            "start": pd.to_datetime([d(0), d(0), d(12), d(30)]),
            "end": pd.to_datetime([d(25), d(6), None, None]),
            "open": [False, False, True, True],
        }
    )
    ages, K = spell_ages(sp, d(35), d(35), 10.0)
    assert ages.tolist() == [2, 0, 2, 0] and K.tolist() == [3, 3, 2, 0]
    series = survivor_series(ages, K)
    # K = 2: C alone [1, 1, 1]; K = 3: A and B: 2 at age 0, 1 at ages 1 and 2, none at 3
    assert [x.tolist() for x in series] == [[1.0, 1.0, 1.0], [2.0, 1.0, 1.0, 0.0]]


def test_project_by_hand():
    h = np.full(10, 0.1)
    np.testing.assert_allclose(project(np.array([0.0, 0.0]), h, 0.0, 0.0, 3), 2 * 0.9 ** np.arange(1, 4))
    # a customer in the grace window (age −1) cannot lapse in the first period; S is linear between ages
    np.testing.assert_allclose(project(np.array([-1.0]), h, 0.0, 0.0, 2), [1.0, 0.9])
    np.testing.assert_allclose(project(np.array([]), h, 10.0, -0.5, 2), [10 * 0.95, 10 * 0.95 + 10 * 0.855])


@pytest.fixture(scope="module")
def sbg_subscriptions(tmp_path_factory):
    """20,000 subscribers joining evenly over 36 months; churn θ ~ Beta(0.8, 2.4) per month
    (Fader & Hardie's sBG), lifetimes geometric in θ; the data end after 36 months."""
    rng = np.random.default_rng(11)
    n, months = 20_000, 36
    L = PERIOD_DAYS["month"]
    start = np.floor(rng.uniform(0, months * L, n)).astype(int)
    theta = rng.beta(0.8, 2.4, n)
    T = rng.geometric(theta)  # the month at whose end the subscriber leaves
    stop = start + np.floor(T * L).astype(int)  # alive at start + k months <=> k < T
    end = int(months * L)
    subs = pd.DataFrame(
        {
            "customer_id": [f"u{i:05d}" for i in range(n)],
            "start_date": [d(int(x)) for x in start],
            "end_date": [None if x > end else d(int(x)) for x in stop],
            "mrr": 10.0,
        }
    )
    path = write_folder(tmp_path_factory.mktemp("sbg") / "data", {"subscriptions": subs})
    return path, d(end)


def test_sbg_recovers_the_planted_retention(sbg_subscriptions):
    path, end = sbg_subscriptions
    w = whatif(path, churn=0.05, periods=12, basis="subscriptions", as_of=end)
    a = w.attrs
    assert a["basis"] == "subscriptions" and a["model"] == "sbg"
    assert a["alpha"] == pytest.approx(0.8, rel=0.12) and a["beta"] == pytest.approx(2.4, rel=0.12)
    assert a["arpu"] == pytest.approx(10.0)  # MRR 10, monthly periods
    # the revenue columns are customers × revenue per customer
    np.testing.assert_allclose(w["revenue_now"], 10.0 * w["customers_now"])


@pytest.mark.parametrize("model", ["sbg", "constant"])
@pytest.mark.parametrize("basis", ["orders", "subscriptions"])
def test_projection_identities_on_synth(synth_small, model, basis):
    out, _ = synth_small
    base = whatif(out, churn=0.05, periods=18, model=model, basis=basis)
    cur = base.attrs["current_churn"]
    assert 0 < cur < 1
    same = whatif(out, churn=cur, periods=18, model=model, basis=basis)
    np.testing.assert_allclose(same["customers_scenario"], same["customers_now"], rtol=1e-12)
    np.testing.assert_allclose(same["revenue_gain"], 0.0, atol=1e-6 * same["revenue_now"].max())
    # lower churn: more customers and revenue at every step; the gain grows with the cut
    targets = np.linspace(0.2 * cur, min(1.3 * cur, 0.99), 6)
    runs = [whatif(out, churn=float(c), periods=18, model=model, basis=basis) for c in targets]
    for lo, hi in zip(runs, runs[1:]):
        assert (lo["customers_scenario"] > hi["customers_scenario"]).all()
        assert (lo["revenue_scenario"] >= hi["revenue_scenario"]).all()
    lower = runs[0]
    assert (lower["customers_scenario"] > lower["customers_now"]).all()
    assert (lower["revenue_gain"] > 0).all() and (np.diff(lower["cumulative_gain"]) > 0).all()
    # the projection at the current churn does not depend on the target asked
    for r in runs:
        np.testing.assert_allclose(r["customers_now"], base["customers_now"], rtol=1e-12)


def test_whatif_inputs_are_checked(synth_small):
    out, _ = synth_small
    for kw, msg in (
        ({"churn": 1.2}, "fraction"),
        ({"churn": 0.1, "periods": 0}, "at least 1"),
        ({"churn": 0.1, "period": "day"}, "period 'day'"),
        ({"churn": 0.1, "model": "x"}, "sbg or constant"),
        ({"churn": 0.99}, "too high"),
    ):
        with pytest.raises(InputError, match=msg):
            whatif(out, **kw)


def test_sbg_fit_takes_series_of_any_length():
    from negah.models.sbg import ShiftedBetaGeometric

    series = [[1000, 631, 468, 382, 326], [800, 500, 380]]
    padded = np.array([[1000, 631, 468, 382, 326], [800, 500, 380, np.nan, np.nan]])
    a = ShiftedBetaGeometric().fit(series).params_
    b = ShiftedBetaGeometric().fit(padded).params_
    assert a == pytest.approx(b, rel=1e-9)


def test_cli_whatif(synth_small):
    from typer.testing import CliRunner

    from negah.cli.main import app

    out, _ = synth_small
    args = ["whatif", "--data", str(out), "--churn", "0.05", "--periods", "6"]
    r1 = CliRunner().invoke(app, args + ["--format", "json"])
    r2 = CliRunner().invoke(app, args + ["--format", "json"])
    assert r1.exit_code == 0, r1.output
    assert r1.stdout == r2.stdout
    doc = json.loads(r1.stdout)
    assert doc["settings"]["target_churn"] == 0.05 and doc["settings"]["model"] == "sbg"
    assert [p["step"] for p in doc["projection"]] == list(range(1, 7))
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0
    body = table.stdout
    assert "revenue_now" in body and "e+0" not in body and "," in body  # money, never scientific notation
    assert "churn" in table.stderr and "alpha" in table.stderr
    csv = CliRunner().invoke(app, args + ["--format", "csv"]).stdout.splitlines()
    assert csv[0] == "step,customers_now,customers_scenario,revenue_now,revenue_scenario,revenue_gain,cumulative_gain"
