"""The synthetic business (negah.synth): determinism, canonical schema, planted truths."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

import negah.synth  # noqa: F401  (the module; ``negah.synth`` the attribute is the facade function)
from negah.errors import InputError
from negah.store import schema as S

synth = sys.modules["negah.synth"]

TABLES = synth.TABLE_NAMES
SMALL = dict(customers=1500, seed=7, block_size=500, progress=False)


def _read(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        return pq.read_table(path)
    return pcsv.read_csv(path)


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def biz(tmp_path_factory) -> tuple[Path, dict]:
    """One business big enough for the planted effects to show (about 50k order rows)."""
    out = tmp_path_factory.mktemp("biz")
    res = synth.generate(out, customers=6000, seed=11, block_size=2000, progress=False, workers=1)
    return out, res


def _t(biz, name: str):
    return pq.read_table(biz[0] / f"{name}.parquet").to_pandas()


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_byte_identical_files(tmp_path):
    for fmt in ("csv", "parquet"):
        a, b = tmp_path / f"a_{fmt}", tmp_path / f"b_{fmt}"
        synth.generate(a, fmt=fmt, workers=1, **SMALL)
        synth.generate(b, fmt=fmt, workers=1, **SMALL)
        fa, fb = _files(a), _files(b)
        assert sorted(fa) == sorted([f"{t}.{fmt}" for t in TABLES] + [f"truth_customers.{fmt}", "ground_truth.json"])
        assert fa == fb


def test_other_seed_gives_other_data(tmp_path):
    synth.generate(tmp_path / "a", fmt="csv", workers=1, **SMALL)
    synth.generate(tmp_path / "b", fmt="csv", workers=1, **{**SMALL, "seed": 8})
    assert (tmp_path / "a" / "orders.csv").read_bytes() != (tmp_path / "b" / "orders.csv").read_bytes()


def test_write_batches_and_processes_never_change_the_data(tmp_path):
    """Seeds are per block of customers: the write batch and the worker count are free."""
    one = tmp_path / "one"
    many = tmp_path / "many"
    synth.generate(one, fmt="csv", chunk_customers=10_000, workers=1, **SMALL)
    synth.generate(many, fmt="csv", chunk_customers=1, workers=2, **SMALL)
    assert _files(one) == _files(many)
    # Parquet: row groups differ (one per batch), the content does not
    p1, p2 = tmp_path / "p1", tmp_path / "p2"
    synth.generate(p1, chunk_customers=10_000, workers=1, **SMALL)
    synth.generate(p2, chunk_customers=1, workers=1, **SMALL)
    assert pq.ParquetFile(p2 / "orders.parquet").num_row_groups == 3
    for t in TABLES + ("truth_customers",):
        assert pq.read_table(p1 / f"{t}.parquet").equals(pq.read_table(p2 / f"{t}.parquet")), t


# ------------------------------------------------------------------ schema
ARROW_KINDS = {
    "id": pa.types.is_string,
    "text": pa.types.is_string,
    "date": pa.types.is_date32,
    "timestamp": pa.types.is_timestamp,
    "money": pa.types.is_decimal,
    "number": pa.types.is_integer,
    "int": pa.types.is_integer,
    "bool": pa.types.is_boolean,
}


def test_files_follow_the_canonical_schema(biz):
    out, res = biz
    for name in TABLES:
        t = pq.read_table(out / f"{name}.parquet")
        spec = S.table(name)
        assert set(spec.required) <= set(t.column_names), name
        for f in t.schema:
            col = spec.column(f.name)
            assert col is not None, f"{name}.{f.name} is not a canonical column"
            assert ARROW_KINDS[col.kind](f.type), f"{name}.{f.name}: {f.type} for {col.kind}"
            if col.allowed:
                assert set(t.column(f.name).drop_null().unique().to_pylist()) <= set(col.allowed)
            if col.required:
                assert t.column(f.name).null_count == 0, f"{name}.{f.name} has nulls"
        assert t.num_rows == res["rows"][name]
    o = _t(biz, "orders")
    ret = o[o.kind == "return"]
    assert len(ret) and (ret.quantity < 0).all() and (ret.amount < 0).all()
    pur = o[o.kind == "purchase"]
    assert (pur.quantity > 0).all() and (pur.amount > 0).all()
    # amounts are exact 2-decimal values; a return's order_id is one of the customer's purchase orders
    assert pq.read_table(out / "orders.parquet").schema.field("amount").type == pa.decimal128(18, 2)
    assert set(zip(ret.customer_id, ret.order_id)) <= set(zip(pur.customer_id, pur.order_id))
    r = _t(biz, "responses")
    assert r.score.between(0, 10).all()
    c = _t(biz, "customers")
    assert c.customer_id.is_unique and len(c) == 6000
    assert set(c.columns) >= {
        "signup_date",
        "plan",
        "country",
        "acquisition_channel",
        "loyalty_member",
        "loyalty_joined",
    }
    assert c.loyalty_joined.notna().eq(c.loyalty_member).all()
    # every row of every table is dated inside the window
    lo, hi = np.datetime64("2023-01-01"), np.datetime64("2025-01-01")
    for name in TABLES:
        t = pq.read_table(out / f"{name}.parquet")
        col = t.column(S.table(name).date_column).to_numpy().astype("datetime64[s]")
        assert (col >= lo).all() and (col < hi).all(), name


def test_output_imports_into_a_duckdb_store(tmp_path):
    """The lead's importer accepts every table (Parquet) and the CSV orders, with exact sums."""
    from negah.store import open_store
    from negah.store.ingest import import_files

    pq_dir, csv_dir = tmp_path / "pq", tmp_path / "csv"
    res = synth.generate(pq_dir, workers=1, **SMALL)
    synth.generate(csv_dir, fmt="csv", workers=1, **SMALL)
    store = open_store(tmp_path / "s.duckdb")
    try:
        import_files(store, [pq_dir])
        for name in TABLES:
            n = store.con.raw_sql(f"select count(*) from {name}").fetchone()[0]
            assert n == res["rows"][name], name
        total = store.con.raw_sql("select sum(amount) from orders").fetchone()[0]
        import_files(store, [csv_dir / "orders.csv"], mode="replace")
        assert store.con.raw_sql("select count(*) from orders").fetchone()[0] == res["rows"]["orders"]
        assert store.con.raw_sql("select sum(amount) from orders").fetchone()[0] == total
    finally:
        store.close()
    assert total == pq.read_table(pq_dir / "orders.parquet").column("amount").to_pandas().sum()


# ------------------------------------------------------------------ sizes and the ground truth files
def test_size_and_ground_truth_files(biz):
    out, res = biz
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth == res["truth"]
    assert truth["seed"] == 11 and truth["customers"] == 6000 and truth["rows"] == res["rows"]
    per_customer = res["rows"]["orders"] / 6000
    assert 5 <= per_customer <= 10
    tc = _t(biz, "truth_customers")
    assert len(tc) == 6000 and tc.customer_id.is_unique
    assert set(tc.best_channel) <= {"phone", "email", "sms", "chat"} and tc.best_hour.between(8, 21).all()
    assert (tc.dropped_out == tc.dropout_date.notna()).all()
    assert (tc.alive_at_end == ~tc.dropped_out).all()
    # purchases per customer in the truth = purchase orders in the data
    o = _t(biz, "orders")
    n_orders = o[o.kind == "purchase"].groupby("customer_id").order_id.nunique()
    assert (n_orders.reindex(tc.customer_id).to_numpy() == tc.purchases.to_numpy()).all()
    rr = truth["orders_model"]["product_return_rate_units"]
    assert 0.09 <= rr <= 0.20
    units = o.quantity.abs()
    assert rr == pytest.approx(units[o.kind == "return"].sum() / units[o.kind == "purchase"].sum(), abs=1e-6)


def test_orders_option_approximates_order_rows(tmp_path):
    res = synth.generate(tmp_path / "o", orders=12_000, seed=3, block_size=1000, progress=False, workers=1)
    assert 0.75 * 12_000 <= res["rows"]["orders"] <= 1.25 * 12_000


# ------------------------------------------------------------------ planted truths
def test_planted_complaint_spike_stands_out(biz, tmp_path):
    out, res = biz
    spike = res["truth"]["spike"]
    assert spike["reason"] in synth.REASONS
    c = _t(biz, "complaints")
    c["month"] = c.complaint_date.astype(str).str[:7]
    cell = c[(c.reason == spike["reason"]) & (c.product_id == spike["product_id"])].groupby("month").size()
    in_spike = cell.get(spike["month"], 0)
    others = cell.drop(spike["month"], errors="ignore")
    assert in_spike == spike["complaints_in_spike_cell"]
    assert in_spike >= 10 and in_spike > 5 * max(others.max() if len(others) else 0, 1)
    # the spike month also has more complaints in total than the months around it
    per_month = c.groupby("month").size()
    i = list(per_month.index).index(spike["month"])
    assert per_month.iloc[i] > max(per_month.iloc[i - 1], per_month.iloc[i + 1])

    calm = synth.generate(
        tmp_path / "calm", customers=6000, seed=11, block_size=2000, spike=False, progress=False, workers=1
    )
    assert calm["truth"]["spike"] is None
    c2 = pq.read_table(tmp_path / "calm" / "complaints.parquet").to_pandas()
    c2["month"] = c2.complaint_date.astype(str).str[:7]
    cell2 = c2[(c2.reason == spike["reason"]) & (c2.product_id == spike["product_id"])].groupby("month").size()
    assert cell2.max() < in_spike / 3


def test_loyalty_program_works_and_naive_comparison_overstates_it(biz):
    out, res = biz
    tc = _t(biz, "truth_customers")
    members = tc[tc.loyalty_member]
    assert len(members) > 300
    alive = members.alive_at_end.mean()
    without = members.alive_without_loyalty.mean()
    assert alive > without  # the program keeps members
    assert (members.alive_at_end >= members.alive_without_loyalty).all()
    non = tc[~tc.loyalty_member]
    assert (non.alive_at_end == non.alive_without_loyalty).all()
    naive = alive - non.alive_at_end.mean()
    true_effect = alive - without
    assert naive > true_effect  # confounded: members were better customers anyway
    lt = res["truth"]["loyalty"]
    assert lt["effect_on_treated_alive_at_end"] == pytest.approx(true_effect, abs=1e-6)
    assert lt["naive_difference_alive_at_end"] == pytest.approx(naive, abs=1e-6)
    assert lt["dropout_log_odds"] < 0
    # members had better latent values before joining (the confounding)
    assert members.purchase_rate.median() > non.purchase_rate.median()
    assert members.dropout_p.median() < non.dropout_p.median()


def test_loyalty_effect_on_retention_within_180_days(biz):
    """The truth of evaluate-program's retained_180d: the first purchase day after the join day is
    the orders' own, and only a no-program dropout on the join day changes retention."""
    out, res = biz
    tc = _t(biz, "truth_customers")
    m = tc[tc.loyalty_member].set_index("customer_id")
    assert (
        tc.loc[~tc.loyalty_member, ["next_purchase_after_join", "dropout_on_join_day_without_loyalty"]]
        .isna()
        .all()
        .all()
    )
    o = _t(biz, "orders")
    o = o[o.kind == "purchase"].merge(m[["loyalty_joined"]], left_on="customer_id", right_index=True)
    nxt = o[o.order_date > o.loyalty_joined].groupby("customer_id").order_date.min()
    assert (nxt.reindex(m.index) == m.next_purchase_after_join).where(m.next_purchase_after_join.notna(), True).all()
    assert nxt.reindex(m.index).isna().eq(m.next_purchase_after_join.isna()).all()
    end = pd.Timestamp(res["truth"]["end"])
    joined = pd.to_datetime(m.loyalty_joined)
    followed = joined <= end - pd.Timedelta(days=180)
    gap = (pd.to_datetime(m.next_purchase_after_join) - joined).dt.days
    retained = (gap <= 180)[followed]
    without = retained & ~m.dropout_on_join_day_without_loyalty[followed].astype(bool)
    lt = res["truth"]["loyalty"]
    assert lt["members_followed_180d"] == followed.sum() > 200
    assert lt["members_retained_180d"] == pytest.approx(retained.mean(), abs=1e-6)
    assert lt["effect_on_treated_retained_180d"] == pytest.approx(retained.mean() - without.mean(), abs=1e-6)
    assert 0 < lt["effect_on_treated_retained_180d"] < lt["effect_on_treated_alive_at_end"]


def test_nps_follows_satisfaction_and_satisfaction_lowers_churn(biz):
    r = _t(biz, "responses")
    tc = _t(biz, "truth_customers").set_index("customer_id")
    sat = tc.satisfaction.reindex(r.customer_id).to_numpy()
    assert np.corrcoef(sat, r.score.to_numpy())[0, 1] > 0.5
    hi = tc[tc.satisfaction > 1].dropout_logit_base.mean()
    lo = tc[tc.satisfaction < -1].dropout_logit_base.mean()
    assert hi < lo


def test_complaint_reasons_raise_churn(biz):
    out, res = biz
    drivers = {d["feature"]: d for d in res["truth"]["churn_drivers"]}
    for reason in synth.REASONS:
        assert drivers[f"complaint:{reason}"]["dropout_log_odds"] > 0
    assert drivers["loyalty_member"]["direction"] == "-"
    # in the data: among customers with the same number of purchases, complainers drop out more often
    tc = _t(biz, "truth_customers")
    few = tc[tc.purchases.between(2, 4)]
    assert few[few.complaints > 0].dropped_out.mean() > few[few.complaints == 0].dropped_out.mean()


def test_contacts_respond_best_on_the_best_channel_and_hour(biz):
    ct = _t(biz, "contacts")
    tc = _t(biz, "truth_customers").set_index("customer_id")
    ct["responded"] = ct.outcome != "no_response"
    best_ch = tc.best_channel.reindex(ct.customer_id).to_numpy()
    best_h = tc.best_hour.reindex(ct.customer_id).to_numpy()
    on = ct.channel.to_numpy() == best_ch
    assert ct.responded[on].mean() > 1.8 * ct.responded[~on].mean()
    gap = np.abs(ct.contacted_at.dt.hour.to_numpy() - best_h)
    assert ct.responded[gap <= 1].mean() > 1.5 * ct.responded[gap >= 5].mean()
    assert set(ct.channel) == {"phone", "email", "sms", "chat"}


def test_subscriptions_have_upgrades_downgrades_and_churn(biz):
    s = _t(biz, "subscriptions").sort_values(["subscription_id", "start_date"])
    s["prev_mrr"] = s.groupby("subscription_id").mrr.shift()
    s["prev_end"] = s.groupby("subscription_id").end_date.shift()
    chg = s[s.prev_mrr.notna()]
    assert (chg.mrr > chg.prev_mrr).sum() > 10 and (chg.mrr < chg.prev_mrr).sum() > 10
    assert (chg.start_date == chg.prev_end).all()  # a plan change is seamless
    last = s.groupby("subscription_id").tail(1)
    assert last.end_date.notna().sum() > 100 and last.end_date.isna().sum() > 100
    assert (s.end_date.isna() | (s.end_date > s.start_date)).all()


def test_spend_matches_true_acquisition_cost(biz):
    out, res = biz
    acq = res["truth"]["acquisition"]
    sp = _t(biz, "spend")
    c = _t(biz, "customers")
    for ch, cac in acq["true_cac"].items():
        spent = float(sp[sp.channel == ch].amount.sum())
        n = int((c.acquisition_channel == ch).sum())
        assert spent / n == pytest.approx(cac, rel=0.1), ch
    assert "organic" not in set(sp.channel)


def test_campaigns_respond_and_convert_by_offer(biz):
    cp = _t(biz, "campaigns")
    assert cp.responded_at.notna().any() and cp.converted_at.notna().any()
    assert (cp.converted_at.isna() | cp.responded_at.notna()).all()
    assert (cp.responded_at.isna() | (cp.responded_at >= cp.sent_at)).all()
    rate = cp.groupby("offer").responded_at.apply(lambda x: x.notna().mean())
    assert rate["discount_20"] > rate["bonus_points"]


def test_setting_a_model_parameter_on_the_package_changes_the_model(tmp_path, monkeypatch):
    """``negah.synth.X = v`` reaches the generators (they read negah.synth.params) and is undone."""
    import negah.synth.params as params

    before = params.CONTACTS_PER_MONTH
    base = synth.generate(tmp_path / "base", customers=300, seed=4, fmt="csv", progress=False)
    monkeypatch.setattr(synth, "CONTACTS_PER_MONTH", 3.0)
    assert params.CONTACTS_PER_MONTH == 3.0
    more = synth.generate(tmp_path / "more", customers=300, seed=4, fmt="csv", progress=False)
    assert more["truth"]["contacts"]["contacts_per_month"] == 3.0
    assert more["rows"]["contacts"] > 5 * base["rows"]["contacts"]
    assert more["rows"]["orders"] == base["rows"]["orders"]  # the purchase process draws first
    monkeypatch.undo()
    assert synth.CONTACTS_PER_MONTH == params.CONTACTS_PER_MONTH == before


# ------------------------------------------------------------------ errors and the command line
def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(InputError, match="format: 'xlsx'"):
        synth.generate(tmp_path, customers=10, fmt="xlsx", progress=False)
    with pytest.raises(InputError, match="start: '2024-13-01' is not a date"):
        synth.generate(tmp_path, customers=10, start="2024-13-01", progress=False)
    with pytest.raises(InputError, match="before start"):
        synth.generate(tmp_path, customers=10, start="2024-01-01", end="2023-01-01", progress=False)
    with pytest.raises(InputError, match="customers: 0"):
        synth.generate(tmp_path, customers=0, progress=False)
    synth.generate(tmp_path / "x", customers=10, fmt="csv", progress=False)
    with pytest.raises(InputError, match="already holds"):
        synth.generate(tmp_path / "x", customers=10, fmt="parquet", progress=False)


def test_cli_synth(tmp_path):
    from typer.testing import CliRunner

    from negah.cli.main import app

    runner = CliRunner()
    out = tmp_path / "cli"
    r = runner.invoke(
        app,
        [
            "synth",
            str(out),
            "--customers",
            "300",
            "--seed",
            "5",
            "--format",
            "csv",
            "--start",
            "2024-01-01",
            "--end",
            "2024-06-30",
            "--no-spike",
            "--no-progress",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["customers"] == 300 and summary["rows"]["orders"] > 300
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["start"] == "2024-01-01" and truth["end"] == "2024-06-30" and truth["spike"] is None
    r = runner.invoke(app, ["synth", str(tmp_path / "y"), "--customers", "3", "--orders", "30"])
    assert r.exit_code == 1 and "not both" in r.output
