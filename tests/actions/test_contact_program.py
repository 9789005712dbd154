"""Contact plan and loyalty-program evaluation against negah synth's planted truths."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.actions.conftest import make_synth


def test_best_channel_matches_planted(tmp_path, monkeypatch):
    import negah.synth as synth
    from negah.actions.contact import contact_plan

    # the default synth has ~3 contacts per customer: too few to learn anyone's channel.
    monkeypatch.setattr(synth, "CONTACTS_PER_MONTH", 4.0)
    make_synth(tmp_path, 1500, 2)
    plan = contact_plan(tmp_path)
    truth = pd.read_parquet(tmp_path / "truth_customers.parquet")[["customer_id", "best_channel", "best_hour"]]
    m = plan.merge(truth, on="customer_id", suffixes=("", "_true"))
    enough = m[m["contacts"] >= 30]
    assert len(enough) >= 200
    assert (enough["best_channel"] == enough["best_channel_true"]).mean() > 0.55
    assert ((enough["best_hour"] - enough["best_hour_true"]).abs() <= 2).mean() > 0.6
    few = m[m["contacts"] < 3]
    # few contacts: shrunk toward the population, never an extreme rate
    assert few["channel_rate"].between(0.05, 0.6).all()


def test_loyalty_effect_inside_interval(synth_small):
    from negah.actions.programs import evaluate_program

    out, truth = synth_small
    rep = evaluate_program(out, bootstrap=10, seed=0)
    row = rep.effects.set_index("outcome").loc["alive_at_end"]
    t = truth["loyalty"]["effect_on_treated_alive_at_end"]
    assert row["low"] <= t <= row["high"]
