"""RFM scores, named segments, CLV deciles and `profitable`: hand-worked expectations on a
built store, the one-query roll-up against negah.models.summary, and the CLI views."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from negah.actions.segments import SEGMENTS, name_segment, rfm, segment_names, segment_summary
from tests.actions.builders import END, EXPECTED_RFM, rfm_orders, write_folder
from tests.metrics.conftest import make_store


@pytest.fixture()
def five():
    s = make_store(orders=rfm_orders())
    yield s
    s.close()


def test_rfm_scores_and_segments_by_hand(five):
    given = pd.DataFrame({"customer_id": list("abcde"), "clv": [50.0, 40.0, 30.0, 20.0, 10.0]})
    t = rfm(five, clv=given).set_index("customer_id")
    assert list(t.index) == list("abcde")
    for c, (r, f, m, seg, rec, pdays, rev) in EXPECTED_RFM.items():
        row = t.loc[c]
        assert (row["R"], row["F"], row["M"], row["segment"]) == (r, f, m, seg), c
        assert (row["recency_days"], row["purchase_days"], row["revenue"]) == (rec, pdays, rev), c
        assert row["rfm"] == f"{r}{f}{m}"
    # a: first purchase 80 days before the end; the return-only day is not a purchase day
    assert t.loc["a", "tenure_days"] == 80
    # net revenue in the last 180 days / the 180 before (d bought 100 at 100, 130, 160 days; e at 300, 330)
    assert t.loc["d", "revenue_180d"] == 300 and t.loc["d", "revenue_prior_180d"] == 0
    assert t.loc["e", "revenue_180d"] == 0 and t.loc["e", "revenue_prior_180d"] == 200
    # CLV deciles (10 = top): ranks 5..1 of 5 → deciles 10, 8, 6, 4, 2; profitable = CLV >= median (30)
    assert t["clv_decile"].tolist() == [10, 8, 6, 4, 2]
    assert t["profitable"].tolist() == [True, True, True, False, False]
    assert (t["clv_method"] == "given").all()
    t35 = rfm(five, clv=given, min_clv=35).set_index("customer_id")
    assert t35["profitable"].tolist() == [True, True, False, False, False]


def test_as_of_cuts_the_data(five):
    # 55 days earlier: a's purchases at 0, 20, 40 days (and the return at 30) are not seen yet, c's neither
    t = rfm(five, as_of=END - pd.Timedelta(days=55), clv=pd.DataFrame({"customer_id": [], "clv": []}))
    t = t.set_index("customer_id")
    assert "c" not in t.index
    assert t.loc["a", "purchase_days"] == 2 and t.loc["a", "revenue"] == 250 and t.loc["a", "recency_days"] == 5
    assert t.loc["b", "purchase_days"] == 1 and t.loc["b", "tenure_days"] == 15
    assert t["clv"].isna().all() and not t["profitable"].any() and (t["clv_decile"] == 0).all()


def test_ties_get_the_same_score():
    from negah.actions.segments import _score

    assert _score([10, 10, 20, 30, 40]).tolist() == [2, 2, 3, 4, 5]  # average rank 1.5 / 5 → ceil(1.5) = 2
    assert _score([7, 7, 7, 7]).tolist() == [4, 4, 4, 4]  # average rank 2.5 / 4 = 0.625 → ceil(3.125)


def test_vectorised_segments_match_the_rules():
    combos = list(itertools.product(range(1, 6), repeat=3))
    r, f, m = (np.array(v) for v in zip(*combos))
    got = segment_names(r, f, m)
    assert got.tolist() == [name_segment(*c) for c in combos]
    assert set(got) == set(SEGMENTS)


def test_rollup_matches_the_btyd_summary(synth_small):
    """The one-query per-customer roll-up gives the BTYD summary of negah.models.summary."""
    from negah.actions._data import customer_rollup
    from negah.metrics.base import open_source
    from negah.models.summary import summary_from_store

    out, _ = synth_small
    store, _ = open_source(str(out))
    try:
        got = customer_rollup(store, "2024-12-31")
        want = summary_from_store(store, calibration_end="2024-12-31")
        orders = store.execute(store.table("orders"))
    finally:
        store.close()
    assert got["customer_id"].tolist() == want["customer_id"].tolist()
    for c in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, err_msg=c)
    # net revenue (purchases minus returns) and the 180-day windows, against pandas
    orders["customer_id"] = orders["customer_id"].astype(str)
    orders["amount"] = orders["amount"].astype(float)
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    end = pd.Timestamp("2024-12-31")
    dd = (end - orders["order_date"]).dt.days
    for col, mask in (("revenue", dd >= 0), ("revenue_recent", dd < 180), ("revenue_prior", (dd >= 180) & (dd < 360))):
        want_c = orders[mask].groupby("customer_id")["amount"].sum().reindex(got["customer_id"]).fillna(0.0)
        np.testing.assert_allclose(got[col].to_numpy(), want_c.to_numpy(), rtol=1e-9, atol=1e-6, err_msg=col)


def test_model_clv_on_synth(synth_small):
    out, _ = synth_small
    t = rfm(out)
    assert (t["clv_method"] == "mbgnbd+gammagamma").all()
    assert (t["clv"] >= 0).all() and t["p_alive"].between(0, 1).all()
    # deciles split the customers into tenths; profitable = at or above the median
    counts = t["clv_decile"].value_counts().sort_index()
    assert counts.index.tolist() == list(range(1, 11)) and counts.max() - counts.min() <= 1
    assert t["profitable"].tolist() == (t["clv"] >= t["clv"].median()).tolist()
    # a higher decile never has a lower CLV
    assert (t.groupby("clv_decile")["clv"].min().diff().dropna() >= 0).all()
    # margin scales CLV and nothing else
    t3 = rfm(out, margin=0.3)
    np.testing.assert_allclose(t3["clv"].to_numpy(), 0.3 * t["clv"].to_numpy(), rtol=1e-12)
    assert t3["segment"].tolist() == t["segment"].tolist()


def test_segment_summary_against_pandas(synth_small):
    out, _ = synth_small
    t = rfm(out)
    s = segment_summary(t).set_index("segment")
    assert list(s.index) == [x for x in SEGMENTS if x in set(t["segment"])]
    g = t.groupby("segment")
    pd.testing.assert_series_equal(s["customers"], g.size().reindex(s.index), check_names=False)
    np.testing.assert_allclose(s["revenue"], g["revenue"].sum().reindex(s.index))
    np.testing.assert_allclose(s["clv_mean"], g["clv"].mean().reindex(s.index))
    np.testing.assert_allclose(s["profitable_share"], g["profitable"].mean().reindex(s.index))
    assert s["share"].sum() == pytest.approx(1.0)


def _cli(*args):
    from typer.testing import CliRunner

    from negah.cli.main import app

    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r


@pytest.mark.filterwarnings("ignore:CLV left empty")  # five customers cannot identify an MBG/NBD
def test_cli_segments_views(tmp_path):
    data = write_folder(tmp_path / "d", {"orders": rfm_orders()})
    table = _cli("segments", "--data", str(data)).stdout
    # the table view is the summary: one row per segment, no customer rows
    assert "champions" in table and "profitable_share" in table and "│ a " not in table
    per = _cli("segments", "--data", str(data), "--per-customer").stdout
    assert "│ a " in per
    j1 = _cli("segments", "--data", str(data), "--format", "json").stdout
    j2 = _cli("segments", "--data", str(data), "--format", "json").stdout
    assert j1 == j2
    rows = json.loads(j1)
    assert [r["customer_id"] for r in rows] == list("abcde")
    assert [r["segment"] for r in rows] == [v[3] for v in EXPECTED_RFM.values()]
    summ = json.loads(_cli("segments", "--data", str(data), "--format", "json", "--summary").stdout)
    assert sorted(r["segment"] for r in summ) == sorted(v[3] for v in EXPECTED_RFM.values())
    csv = _cli("segments", "--data", str(data), "--format", "csv").stdout
    assert csv.splitlines()[0].startswith("customer_id,recency_days") and len(csv.splitlines()) == 6


def test_persian_segment_tables(synth_small):
    import re

    from typer.testing import CliRunner

    from negah.cli.main import app

    out, _ = synth_small
    for args in (["--summary"], ["--per-customer"]):
        r = CliRunner().invoke(app, ["segments", "--data", str(out), "--lang", "fa", *args], env={"COLUMNS": "110"})
        assert r.exit_code == 0, r.output
        text = r.stdout
        body = "\n".join(line for line in text.splitlines() if "│" in line or "┃" in line)
        assert "بخش" in body and "ارزش طول عمر" in body
        for english in ("champions", "lost", "revenue", "share", "recency_days", "True", "False"):
            assert english not in body, english
        # Latin digits only inside ids, RFM codes and the method name
        rest = re.sub(r"C[0-9]+|mbgnbd\+\w+", "", body)
        assert not re.search(r"[0-9]", rest)
