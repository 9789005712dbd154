"""Who to save first: value at risk = churn probability × CLV, ranked, with signals, reasons
and next steps — by hand on a built store, against pandas on synth data, and with a trained
churn classifier (model file, and the registry's newest model)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types

import numpy as np
import pandas as pd
import pytest

from negah.actions.at_risk import NEXT_STEP, at_risk
from negah.actions.segments import rfm
from negah.errors import InputError
from tests.actions.builders import EXPECTED_SIGNALS, signal_data, write_folder
from tests.metrics.conftest import make_store

CLV = {"v": 100.0, "w": 400.0, "x": 100.0, "y": 200.0, "z": 50.0}
P = {"v": 0.1, "w": 0.3, "x": 0.5, "y": 0.4, "z": 0.8}  # value at risk: v 10, w 120, x 50, y 80, z 40


@pytest.fixture()
def built():
    s = make_store(**signal_data())
    table = rfm(s, clv=pd.DataFrame({"customer_id": list(CLV), "clv": list(CLV.values())}))
    yield s, table
    s.close()


def scores(p: dict) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(p), "churn_probability": list(p.values())})


def test_ranked_by_value_at_risk_with_signals_and_next_steps(built):
    s, table = built
    df = at_risk(s, scores=scores(P), rfm_table=table)
    assert df["customer_id"].tolist() == ["w", "y", "x", "z", "v"]
    assert df["rank"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(df["value_at_risk"], [120, 80, 50, 40, 10])
    np.testing.assert_allclose(df["value_at_risk"], df["churn_probability"] * df["clv"])
    assert (df["method"] == "classifier (given scores)").all()
    by = df.set_index("customer_id")
    assert by["signals"].to_dict() == EXPECTED_SIGNALS
    first = {c: (v.split(":")[0] if v else "none") for c, v in EXPECTED_SIGNALS.items()}
    assert by["next_step"].to_dict() == {c: NEXT_STEP["en"][k] for c, k in first.items()}
    # reasons in words, with the customer's own numbers
    assert by.loc["x", "reasons"] == "no purchase for 50 days (usually every 10)"
    assert by.loc["y", "reasons"] == "complained about damaged 29 days ago"
    assert by.loc["z", "reasons"] == "gave NPS 3 (detractor)"
    assert by.loc["w", "reasons"] == "spent 90% less in the last 180 days"  # 180 against 1,800
    assert by.loc["v", "reasons"] == ""
    # the contact plan's best channel; none for customers never contacted
    assert by.loc["x", "channel"] == "sms" and by.loc["y", "channel"] == "email"
    assert by.loc[["v", "w", "z"], "channel"].isna().all()


def test_top_segment_min_value_and_ties(built):
    s, table = built
    full = at_risk(s, scores=scores(P), rfm_table=table)
    top2 = at_risk(s, scores=scores(P), rfm_table=table, top=2)
    pd.testing.assert_frame_equal(top2, full.head(2))
    seg = table.set_index("customer_id").loc["x", "segment"]
    only = at_risk(s, scores=scores(P), rfm_table=table, segment=seg)
    want = full[full["segment"] == seg]
    assert only["customer_id"].tolist() == want["customer_id"].tolist() and only["rank"].tolist() == list(
        range(1, len(want) + 1)
    )
    assert at_risk(s, scores=scores(P), rfm_table=table, min_value=45)["customer_id"].tolist() == ["w", "y", "x"]
    # equal values at risk: by customer_id
    tie = {c: 40.0 / CLV[c] for c in CLV}
    assert at_risk(s, scores=scores(tie), rfm_table=table)["customer_id"].tolist() == list("vwxyz")


def test_persian_reasons_and_next_steps(built):
    s, table = built
    by = at_risk(s, scores=scores(P), rfm_table=table, lang="fa").set_index("customer_id")
    assert by.loc["x", "next_step"] == NEXT_STEP["fa"]["overdue"]
    assert by.loc["x", "reasons"] == "۵۰ روز بدون خرید (معمولاً هر ۱۰ روز)"
    assert by.loc["z", "reasons"] == "امتیاز NPS ۳ (منتقد)"
    assert by.loc["x", "signals"] == "overdue"  # the codes stay machine-readable
    with pytest.raises(InputError, match="lang"):
        at_risk(s, scores=scores(P), rfm_table=table, lang="de")
    with pytest.raises(InputError, match="'x' appears more than once"):
        at_risk(s, scores=pd.concat([scores(P), scores({"x": 0.2})]), rfm_table=table)


def _signals_by_pandas(out, table: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """The signal codes recomputed from the raw files, independently of negah."""
    c = pd.read_parquet(out / "complaints.parquet")
    c["complaint_date"] = pd.to_datetime(c["complaint_date"])
    c = c[(c["complaint_date"] <= end) & (c["complaint_date"] > end - pd.Timedelta(days=180))]
    c = c.sort_values(["customer_id", "complaint_date", "reason"], ascending=[True, False, True])
    comp = c.drop_duplicates("customer_id").set_index("customer_id")["reason"]
    r = pd.read_parquet(out / "responses.parquet")
    r["response_date"] = pd.to_datetime(r["response_date"])
    r = r[r["response_date"] <= end]
    last = r.groupby("customer_id")["response_date"].transform("max")
    latest = r[r["response_date"] == last].groupby("customer_id")["score"].min()
    detr = set(latest[latest <= 6].index)
    o = pd.read_parquet(out / "orders.parquet")
    o["order_date"] = pd.to_datetime(o["order_date"])
    o = o[o["order_date"] <= end]
    o["amount"] = o["amount"].astype(float)
    ret = (o["amount"] < 0) | (o["quantity"] < 0) | (o["kind"] == "return")
    p = o[~ret].groupby("customer_id")["order_date"].agg(["min", "max", "nunique"])
    since = (end - p["max"]).dt.days
    usual = ((p["max"] - p["min"]).dt.days / (p["nunique"] - 1)).where(p["nunique"] > 1, 90.0)
    overdue = set(p.index[since > 2 * np.maximum(usual, 7.0)])
    dd = (end - o["order_date"]).dt.days
    recent = o[dd < 180].groupby("customer_id")["amount"].sum().round(6)  # cents: exact as in the engine
    prior = o[(dd >= 180) & (dd < 360)].groupby("customer_id")["amount"].sum().round(6)
    down = set(prior.index[(prior > 0) & (recent.reindex(prior.index).fillna(0) < 0.5 * prior)])
    codes = {}
    for cid in table["customer_id"]:
        parts = (
            ([f"complaint:{comp[cid]}"] if cid in comp.index else [])
            + (["detractor"] if cid in detr else [])
            + (["overdue"] if cid in overdue else [])
            + (["spend_down"] if cid in down else [])
        )
        codes[cid] = "; ".join(parts)
    return pd.Series(codes)


def test_btyd_ranking_and_signals_on_synth(synth_small):
    from negah.actions.contact import contact_plan

    out, _ = synth_small
    table = rfm(out)
    df = at_risk(out, model="btyd", rfm_table=table)
    assert len(df) == len(table) and (df["method"] == "btyd (1 - P(alive), MBG/NBD)").all()
    t = table.set_index("customer_id").loc[df["customer_id"]]
    np.testing.assert_allclose(df["churn_probability"], 1 - t["p_alive"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(df["value_at_risk"], df["churn_probability"] * t["clv"].to_numpy(), rtol=1e-12)
    v = df["value_at_risk"].to_numpy()
    assert (np.diff(v) <= 0).all()
    assert df["segment"].tolist() == t["segment"].tolist()
    # the same list without a precomputed RFM table, and --top is its head
    pd.testing.assert_frame_equal(at_risk(out, model="btyd", top=25), df.head(25))
    # signals against an independent pandas computation, for every customer
    want = _signals_by_pandas(out, table, pd.Timestamp("2024-12-31"))
    got = df.set_index("customer_id")["signals"]
    assert (got == want.reindex(got.index)).all(), got[got != want.reindex(got.index)].head()
    assert got.str.startswith("complaint:").sum() > 50 and (got == "").sum() > 50
    plan = contact_plan(out).set_index("customer_id")["best_channel"]
    ch = df.set_index("customer_id")["channel"]
    assert (ch.dropna() == plan.reindex(ch.dropna().index)).all() and ch.notna().sum() == len(plan)


# ------------------------------------------------------------------------------------
# with a trained churn classifier
# ------------------------------------------------------------------------------------


def test_model_file_scores_the_store(synth_small, churn_model_file):
    from negah.predict.backtest import score_store
    from negah.predict.modelfile import ChurnModel
    from negah.store import open_folder

    out, _ = synth_small
    df = at_risk(out, model=str(churn_model_file), top=40)
    assert df["method"].iloc[0] == "classifier (P(churn within 90 days), file churn.negah)"
    st = open_folder(str(out))
    try:
        m = ChurnModel.load(churn_model_file)
        want = score_store(m, st, dt.date(2025, 1, 1)).set_index("customer_id")  # the day after the data
        want_fa = score_store(m, st, dt.date(2025, 1, 1), lang="fa").set_index("customer_id")
    finally:
        st.close()
    w = want.loc[df["customer_id"]]
    np.testing.assert_allclose(df["churn_probability"], w["churn_probability"].to_numpy())
    joined = ["; ".join(x for x in r if x) for r in w[["reason_1", "reason_2", "reason_3"]].itertuples(index=False)]
    assert df["reasons"].tolist() == joined and all(joined)
    clv = rfm(out).set_index("customer_id").loc[df["customer_id"], "clv"].to_numpy()
    np.testing.assert_allclose(df["value_at_risk"], df["churn_probability"] * clv, rtol=1e-12)
    # the whole population is ranked, not only the rows shown
    full = at_risk(out, model=m, lang="fa")
    assert len(full) == len(want) and full["customer_id"].head(40).tolist() == df["customer_id"].tolist()
    fa = want_fa.loc[full["customer_id"].head(5)]
    assert full["reasons"].head(5).tolist() == [
        "؛ ".join(x for x in r if x) for r in fa[["reason_1", "reason_2", "reason_3"]].itertuples(index=False)
    ]


def test_model_that_cannot_score_is_refused(synth_small, churn_model_file):
    from negah.predict.modelfile import ChurnModel

    out, _ = synth_small
    m = ChurnModel.load(churn_model_file)
    table = rfm(out)
    with pytest.raises(InputError, match="use the future"):
        at_risk(out, model=m, as_of="2024-09-01")  # trained on data up to 2024-10-01
    snap = ChurnModel(m.preparer, m.classifier, {**m.meta, "mode": "snapshot"})
    with pytest.raises(InputError, match="snapshot"):
        at_risk(out, model=snap, rfm_table=table)
    with pytest.raises(InputError, match="does not exist"):
        at_risk(out, model="no/such/model.negah", rfm_table=table)


@pytest.fixture()
def stand_in_registry(monkeypatch):
    """A stand-in for negah.predict.registry (being written on the predict branch): the same
    ``load(store, model_id_or_name=None)`` contract — the newest store-mode model for None, an
    InputError when there is none."""
    reg = types.ModuleType("negah.predict.registry")
    reg.models = {}

    def load(store, model_id_or_name=None):
        key = model_id_or_name or "newest"
        if key not in reg.models:
            raise InputError(f"no stored churn model {key!r}")
        return reg.models[key]

    reg.load = load
    monkeypatch.setitem(sys.modules, "negah.predict.registry", reg)
    import negah.predict

    monkeypatch.setattr(negah.predict, "registry", reg, raising=False)
    return reg


def test_auto_uses_the_newest_compatible_stored_model(synth_small, churn_model_file, stand_in_registry):
    from negah.predict.modelfile import ChurnModel

    out, _ = synth_small
    table = rfm(out)

    def method(**kw):
        return at_risk(out, top=3, rfm_table=table, **kw)["method"].iloc[0]

    assert method().startswith("btyd")  # nothing stored
    m = ChurnModel.load(churn_model_file)
    stand_in_registry.models["newest"] = m
    stand_in_registry.models["weekly"] = m
    assert method() == "classifier (P(churn within 90 days), newest stored model)"
    assert method(model="weekly") == "classifier (P(churn within 90 days), stored model weekly)"
    # trained after the scoring date: auto falls back to BTYD, an explicit choice is refused
    assert at_risk(out, top=3, as_of="2024-09-01")["method"].iloc[0].startswith("btyd")
    with pytest.raises(InputError, match="future"):
        method(as_of="2024-09-01", model="weekly")
    with pytest.raises(InputError, match="no stored churn model 'monthly'"):
        method(model="monthly")


def test_auto_with_the_real_registry(synth_small, churn_model_file, tmp_path):
    registry = pytest.importorskip(
        "negah.predict.registry", reason="negah.predict.registry lands with the predict branch"
    )
    from negah.predict.modelfile import ChurnModel
    from negah.store import open_store
    from negah.store.ingest import import_frame

    out, _ = synth_small
    path = tmp_path / "s.duckdb"
    with open_store(path) as s:
        for name in ("orders", "complaints", "responses", "customers", "subscriptions", "contacts"):
            import_frame(s, name, pd.read_parquet(out / f"{name}.parquet"))
        assert at_risk(s, top=3)["method"].iloc[0].startswith("btyd")
        registry.save(s, ChurnModel.load(churn_model_file), name="weekly")
        assert at_risk(s, top=3)["method"].iloc[0].startswith("classifier")


# ------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------


def _cli(*args):
    from typer.testing import CliRunner

    from negah.cli.main import app

    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r


def test_cli_machine_readable_and_table(synth_small, churn_model_file):
    out, _ = synth_small
    args = ["actions", "at-risk", "--data", str(out), "--model", "btyd"]
    j1 = _cli(*args, "--format", "json", "--top", "30").stdout
    assert j1 == _cli(*args, "--format", "json", "--top", "30").stdout
    rows = json.loads(j1)
    assert [r["rank"] for r in rows] == list(range(1, 31))
    assert set(rows[0]) == {
        "rank",
        "customer_id",
        "churn_probability",
        "clv",
        "value_at_risk",
        "segment",
        "signals",
        "reasons",
        "next_step",
        "channel",
        "method",
    }
    csv1 = _cli(*args, "--format", "csv").stdout
    assert csv1 == _cli(*args, "--format", "csv").stdout
    full = pd.read_csv(pd.io.common.StringIO(csv1), dtype={"customer_id": str})
    assert len(full) > 3000 and full["customer_id"].head(30).tolist() == [r["customer_id"] for r in rows]
    # the table view shows the first 20 and says so on stderr
    r = _cli(*args)
    assert r.stdout.count("C0000") == 20 and "--top N" in r.stderr
    m = json.loads(
        _cli(
            "actions",
            "at-risk",
            "--data",
            str(out),
            "--model",
            str(churn_model_file),
            "--top",
            "3",
            "--lang",
            "fa",
            "--format",
            "json",
        ).stdout
    )
    assert m[0]["method"].startswith("classifier") and any("۰" <= ch <= "۹" for ch in m[0]["reasons"])


@pytest.mark.filterwarnings("ignore:CLV left empty")
def test_cli_at_risk_small_store(tmp_path):
    """Five customers: the BG/NBD cannot be fitted, so CLV is unknown; the rows stay (value
    unknown, listed last) and BTYD probabilities are refused with the way out."""
    from typer.testing import CliRunner

    from negah.cli.main import app

    data = write_folder(tmp_path / "d", signal_data())
    sc = tmp_path / "scores.csv"
    scores(P).to_csv(sc, index=False)
    rows = json.loads(_cli("actions", "at-risk", "--data", str(data), "--scores", str(sc), "--format", "json").stdout)
    assert [r["customer_id"] for r in rows] == list("vwxyz")
    assert all(r["value_at_risk"] is None for r in rows)
    assert {r["customer_id"]: r["signals"] for r in rows} == EXPECTED_SIGNALS
    r = CliRunner().invoke(app, ["actions", "at-risk", "--data", str(data), "--model", "btyd"])
    assert r.exit_code == 2 and "--scores" in r.output


def test_predict_score_output_brings_its_reasons(built):
    """`negah predict score` writes reason_1..3; at-risk reads them as the model's reasons."""
    s, table = built
    sc = scores(P)
    sc["reason_1"] = ["no purchase for long"] * len(sc)
    sc["reason_2"] = ["few orders", None, "", "few orders", "few orders"]  # v, w, x, y, z
    df = at_risk(s, scores=sc, rfm_table=table)
    by = df.set_index("customer_id")
    assert by.loc["v", "reasons"] == "no purchase for long; few orders"
    assert by.loc["w", "reasons"] == by.loc["x", "reasons"] == "no purchase for long"  # no empty parts


def test_likely_leavers_without_signals_are_not_left_in_the_regular_campaign(built):
    s, table = built
    df = at_risk(s, scores=scores({**P, "v": 0.9}), rfm_table=table).set_index("customer_id")
    assert df.loc["v", "signals"] in ("", None) or df.loc["v", "signals"] == []
    assert df.loc["v", "next_step"] == "reach out personally: likely to leave, though no signal says why"
    low = at_risk(s, scores=scores(P), rfm_table=table).set_index("customer_id")
    assert low.loc["v", "next_step"] == "keep in the regular campaign"  # 0.1: no signal, not likely


def test_persian_at_risk_table_is_persian(synth_small):
    import re

    from typer.testing import CliRunner

    from negah.cli.main import app

    out, _ = synth_small
    r = CliRunner().invoke(
        app,
        ["actions", "at-risk", "--data", str(out), "--model", "btyd", "--top", "5", "--lang", "fa"],
        env={"COLUMNS": "100"},
    )
    assert r.exit_code == 0, r.output
    text = r.stdout
    for word in ("رتبه", "ریسک ریزش", "ارزش در خطر", "گام بعدی", "بهترین کانال"):
        assert word in text
    for english in ("rank", "churn_probability", "value_at_risk", "next_step", "champions", "at_risk"):
        assert english not in text
    body = "\n".join(line for line in text.splitlines() if "│" in line)
    assert not re.search(r"(?<![A-Za-z0-9])[0-9]", re.sub(r"C[0-9]+", "", body)), "Latin digits besides ids"
    assert max(len(line) for line in text.splitlines()) <= 100
