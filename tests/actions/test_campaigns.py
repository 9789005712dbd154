"""Campaign report: response, conversion and retained revenue by offer — by hand, and against
an independent pandas computation on synth data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from negah.actions.campaigns import campaign_report
from negah.errors import InputError
from tests.actions.builders import write_folder
from tests.metrics.conftest import make_store


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def ts(*values) -> pd.Series:
    return pd.Series([None if v is None else pd.Timestamp(v) for v in values], dtype=object)


def small() -> dict[str, pd.DataFrame]:
    """Offer A to c1 (responds, converts; buys 50 nine days later, 80 two months later) and c2
    (no response; buys 10 the day of the send, which does not count, and 20 thirty days
    later, which does); offer B to c3 (responds, no conversion, never buys again)."""
    campaigns = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "campaign_id": ["k1", "k1", "k2"],
            "offer": ["A", "A", "B"],
            "sent_at": ts("2024-01-01 09:00", "2024-01-01 09:00", "2024-02-01 10:00"),
            "responded_at": ts("2024-01-02 10:00", None, "2024-02-03 08:00"),
            "converted_at": ts("2024-01-05 10:00", None, None),
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c2", "c3"],
            "order_date": pd.to_datetime(["2024-01-10", "2024-03-01", "2024-01-01", "2024-01-31", "2023-12-01"]).date,
            "amount": [50.0, 80.0, 10.0, 20.0, 5.0],
        }
    )
    return {"campaigns": campaigns, "orders": orders}


def test_report_by_hand():
    s = make_store(**small())
    try:
        r = campaign_report(s).set_index("offer")
        both = campaign_report(s, by="both")
        by_campaign = campaign_report(s, by="campaign_id")
    finally:
        s.close()
    a, b = r.loc["A"], r.loc["B"]
    assert (a["sent"], a["responses"], a["conversions"]) == (2, 1, 1)
    assert (a["response_rate"], a["conversion_rate"], a["retained_rate"]) == (0.5, 0.5, 1.0)
    assert (a["revenue_after"], a["revenue_after_converted"]) == (70.0, 50.0)
    assert (b["sent"], b["responses"], b["conversions"], b["retained_rate"], b["revenue_after"]) == (1, 1, 0, 0.0, 0.0)
    lo, hi = wilson(1, 2)
    assert a["response_low"] == pytest.approx(lo) and a["response_high"] == pytest.approx(hi)
    assert (b["conversion_low"], b["conversion_high"]) == pytest.approx(wilson(0, 1))
    assert both[["offer", "campaign_id"]].values.tolist() == [["A", "k1"], ["B", "k2"]]
    assert by_campaign["campaign_id"].tolist() == ["k1", "k2"] and by_campaign["sent"].tolist() == [2, 1]


def test_window_and_errors():
    s = make_store(**small())
    try:
        r = campaign_report(s, window_days=29).set_index("offer")  # c2's purchase on day 30 falls out
        assert r.loc["A", "revenue_after"] == 50.0 and r.loc["A", "retained_rate"] == 0.5
        r = campaign_report(s, window_days=60).set_index("offer")  # c1's 2024-03-01 is day 60
        assert r.loc["A", "revenue_after"] == 150.0
        with pytest.raises(InputError, match="no 'channel' column"):
            campaign_report(s, by="channel")
    finally:
        s.close()


def test_against_pandas_on_synth(synth_small):
    out, truth = synth_small
    got = campaign_report(out).set_index("offer")
    c = pd.read_parquet(out / "campaigns.parquet")
    o = pd.read_parquet(out / "orders.parquet")
    o["amount"] = o["amount"].astype(float)
    ret = (o["amount"] < 0) | (o["quantity"] < 0) | (o["kind"] == "return")
    o["day"] = pd.to_datetime(o["order_date"])
    daily = o.groupby(["customer_id", "day"]).agg(rev=("amount", "sum"), bought=("amount", lambda s: 0))
    daily["bought"] = (~ret).groupby([o["customer_id"], o["day"]]).sum()
    daily = daily[daily["bought"] > 0].reset_index()
    c = c.reset_index(names="row")
    c["sent_day"] = pd.to_datetime(c["sent_at"]).dt.normalize()
    m = c[["row", "customer_id", "sent_day"]].merge(daily, on="customer_id")
    dd = (m["day"] - m["sent_day"]).dt.days
    inw = m[(dd > 0) & (dd <= 30)].groupby("row")["rev"].sum()
    c["revenue_after"] = c["row"].map(inw).fillna(0.0)
    c["retained"] = c["row"].isin(inw.index)
    c["converted"] = c["converted_at"].notna()
    want = c.groupby("offer").agg(
        sent=("row", "size"),
        responses=("responded_at", "count"),
        conversions=("converted_at", "count"),
        retained_rate=("retained", "mean"),
        revenue_after=("revenue_after", "sum"),
    )
    want["revenue_after_converted"] = c[c["converted"]].groupby("offer")["revenue_after"].sum()
    assert got.index.tolist() == sorted(want.index)
    for col in ("sent", "responses", "conversions"):
        assert got[col].tolist() == want[col].tolist(), col
    for col in ("retained_rate", "revenue_after", "revenue_after_converted"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-9, atol=1e-6, err_msg=col)
    np.testing.assert_allclose(got["response_rate"], want["responses"] / want["sent"])
    # the planted offers: observed response rates rank like the planted ones
    planted = pd.Series({k: v["response_rate"] for k, v in truth["campaigns"]["offers"].items()})
    assert got["response_rate"].rank().corr(planted.reindex(got.index).rank()) >= 0.8


def test_cli_campaigns(tmp_path):
    from typer.testing import CliRunner

    from negah.cli.main import app

    data = write_folder(tmp_path / "d", small())
    run = lambda *a: CliRunner().invoke(app, ["campaigns", "--data", str(data), *a])  # noqa: E731
    r1, r2 = run("--format", "json"), run("--format", "json")
    assert r1.exit_code == 0 and r1.stdout == r2.stdout
    rows = json.loads(r1.stdout)
    assert [(x["offer"], x["sent"], x["revenue_after"]) for x in rows] == [("A", 2, 70.0), ("B", 1, 0.0)]
    csv = run("--format", "csv").stdout.splitlines()
    assert csv[0].startswith("offer,sent,responses") and len(csv) == 3
