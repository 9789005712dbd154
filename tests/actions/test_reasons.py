"""Complaint analysis and spike detection on negah synth data (planted truths)."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from negah.actions.reasons import analyse, benjamini_hochberg, detect_spikes
from tests.actions.conftest import make_synth


def test_planted_spike_is_flagged(synth_small):
    out, truth = synth_small
    rep = analyse(out)
    sp = truth["spike"]
    flagged = rep.spikes[(rep.spikes["reason"] == sp["reason"]) & (rep.spikes["product_id"] == sp["product_id"])]
    assert list(flagged["period"]) == [sp["month"]]
    row = flagged.iloc[0]
    assert row["count"] == sp["complaints_in_spike_cell"]
    assert row["p_value"] < 1e-6 and row["baseline"] < row["count"] / 5
    assert len(row["customers"]) >= 1
    # only the planted cell is flagged on this seed
    assert len(rep.spikes) == 1


def test_false_alarm_rate_without_spike(tmp_path):
    """20 seeds of data without a spike: BH at fdr=0.05 bounds P(any false alarm) by 0.05
    under the global null; allow up to 3/20 (the 95th percentile of Binomial(20, 0.05) is 3)."""
    seeds_with_alarm = []
    for seed in range(20):
        d = tmp_path / f"s{seed}"
        make_synth(d, 800, 100 + seed, spike=False)
        c = pd.read_parquet(d / "complaints.parquet")
        sp = detect_spikes(c, first="2023-01-01", last="2024-12-31", fdr=0.05)
        if len(sp):
            seeds_with_alarm.append(seed)
    assert len(seeds_with_alarm) <= 3, seeds_with_alarm


def test_any_reason_text_is_accepted_and_pick_list_orders():
    c = pd.DataFrame(
        {
            "customer_id": ["1", "2", "3"],
            "complaint_date": ["2024-01-05"] * 3,
            "reason": ["  Mouse   jams ", "price", None],
        }
    )
    sp = detect_spikes(c, all_tests=True, min_baseline=1, baseline_periods=1)
    assert sp.empty  # one period only: nothing to compare with
    assert benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist() == [0.03, 0.04, 0.04]


def test_churn_by_reason_has_intervals(synth_small):
    out, _ = synth_small
    rep = analyse(out, pick_list=["price", "my own reason"])
    assert rep.by_reason["reason"].iloc[0] == "price"
    assert "my own reason" in set(rep.by_reason["reason"])
    cr = rep.churn_by_reason.dropna(subset=["difference"])
    assert len(cr) >= 5
    assert (cr["low"] <= cr["difference"]).all() and (cr["difference"] <= cr["high"]).all()
    assert set(rep.churn_by_nps["group"]) == {"promoter", "passive", "detractor"}


def test_cli_reasons_json(synth_small):
    from typer.testing import CliRunner

    from negah.cli.main import app

    out, truth = synth_small
    r = CliRunner().invoke(app, ["reasons", "--data", str(out), "--period", "month", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    s = d["spikes"][0]
    assert {"reason", "product_id", "period", "count", "baseline", "p_value"} <= set(s)
    assert (s["reason"], s["product_id"], s["period"]) == (
        truth["spike"]["reason"],
        truth["spike"]["product_id"],
        truth["spike"]["month"],
    )
    # CSV: one row per spike, its customer list joined with ';'
    c = CliRunner().invoke(app, ["reasons", "--data", str(out), "--period", "month", "--format", "csv"])
    assert c.exit_code == 0, c.output
    rows = list(csv.DictReader(io.StringIO(c.stdout)))
    assert [r["customers"] for r in rows] == [";".join(map(str, x["customers"])) for x in d["spikes"]]


@pytest.mark.parametrize("exposure", ["orders", "complaints"])
def test_planted_spike_with_other_exposures(synth_small, exposure):
    """Against the product's own purchase lines (or all complaints) per period instead of time."""
    from negah.actions.reasons import spikes

    out, truth = synth_small
    sp = spikes(out, exposure=exposure)
    s = truth["spike"]
    assert [(r.reason, r.product_id, r.period) for r in sp.itertuples()] == [(s["reason"], s["product_id"], s["month"])]


def test_growth_is_not_a_spike_per_purchase_lines():
    """A product whose sales grow six-fold over two years, complaints at a steady 5 % of its lines: per
    day (time exposure) the growth is flagged, per purchase line (orders exposure) nothing is;
    a real jump on top of the growth still is."""
    import numpy as np

    rng = np.random.default_rng(4)
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    lines = np.linspace(2000, 12000, 24).round()
    po = pd.DataFrame({"product_id": "P1", "day": months, "lines": lines})
    rows = []
    for m, n in zip(months, lines):
        k = rng.poisson(0.05 * n) + (120 if m == months[20] else 0)  # a planted jump in month 21
        rows += [(f"c{i}", m + pd.Timedelta(days=int(i % 28)), "jams", "P1") for i in range(k)]
    c = pd.DataFrame(rows, columns=["customer_id", "complaint_date", "reason", "product_id"])
    kw = dict(first="2023-01-01", last="2024-12-31", fdr=0.05)
    by_time = detect_spikes(c, exposure="time", **kw)
    by_lines = detect_spikes(c, product_orders=po, **kw)  # auto: orders, since they are given
    assert len(by_time) > 3
    assert by_lines["period"].tolist() == [months[20].strftime("%Y-%m")]
