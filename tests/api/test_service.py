"""Ingest, queries, customers, surveys, erasure: the service against the library."""

from __future__ import annotations

import re

import pytest

import negah

ORDER = {"customer_id": "n1", "order_date": "1998-07-01", "amount": 12.5, "order_id": "o1"}
BATCHES = {
    "orders": [ORDER],
    "subscriptions": [{"customer_id": "n1", "start_date": "1998-01-01", "mrr": 9}],
    "responses": [{"customer_id": "n1", "response_date": "1998-05-02", "score": 9}],
    "complaints": [{"customer_id": "n1", "complaint_date": "1998-05-02", "reason": "price"}],
    "contacts": [{"customer_id": "n1", "contacted_at": "1998-05-02 09:30", "channel": "phone"}],
    "campaigns": [{"customer_id": "n1", "sent_at": "1998-05-02 09:30", "offer": "10%"}],
}


@pytest.mark.parametrize("table", sorted(BATCHES))
def test_ingest_every_table_idempotent(svc, table):
    c, h = svc.client, svc.h("admin")
    body = {"event_id": f"ev-{table}", "rows": BATCHES[table]}
    r1 = c.post(f"/api/ingest/{table}", json=body, headers=h)
    assert r1.status_code == 200, r1.text
    assert r1.json()["rows"] == 1 and r1.json()["skipped"] is False
    r2 = c.post(f"/api/ingest/{table}", json=body, headers=h)
    assert r2.json()["skipped"] is True and r2.json()["rows"] == 0
    with negah.open_store(str(svc.path), read_only=True) as s:
        t = s.table(table)
        assert s.execute(t.filter(t.customer_id == "n1").count()) == 1


def test_ingest_all_or_nothing(svc):
    c, h = svc.client, svc.h("admin")
    rows = [ORDER, {"customer_id": "n2", "order_date": "31/02/1998", "amount": "x"}]
    r = c.post("/api/ingest/orders", json={"event_id": "bad", "rows": rows}, headers=h)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_input" and "nothing was written" in err["message"]
    cols = {(p["row"], p["column"]) for p in err["problems"]}
    assert (2, "order_date") in cols and (2, "amount") in cols
    with negah.open_store(str(svc.path), read_only=True) as s:
        t = s.table("orders")
        assert s.execute(t.filter(t.customer_id.isin(["n1", "n2"])).count()) == 0
    missing = c.post("/api/ingest/orders", json={"event_id": "m", "rows": [{"customer_id": "a"}]}, headers=h)
    assert missing.status_code == 422 and any(
        p["column"] in ("order_date", "amount") or "order_date" in p["message"]
        for p in missing.json()["error"]["problems"]
    )
    for bad in (
        {"rows": [ORDER]},
        {"event_id": "", "rows": [ORDER]},
        {"event_id": "x", "rows": []},
        {"event_id": "x", "rows": [ORDER], "extra": 1},
    ):
        assert c.post("/api/ingest/orders", json=bad, headers=h).status_code == 422
    assert c.post("/api/ingest/spend", json={"event_id": "s", "rows": [ORDER]}, headers=h).status_code == 422


def test_metrics_equal_library_and_refresh_after_ingest(svc):
    c, h = svc.client, svc.h("viewer")
    r = c.get("/api/metrics", params={"period": "quarter", "metric": ["churn_rate", "active_customers"]}, headers=h)
    assert r.status_code == 200
    want = negah.metrics.compute_records(str(svc.path), period="quarter", metrics=["churn_rate", "active_customers"])
    got = r.json()["records"]
    assert [(g["metric"], g["period"], g["value"]) for g in got] == [
        (w["metric"], w["period"], pytest.approx(w["value"]) if w["value"] is not None else None) for w in want
    ]
    before = {(g["metric"], g["period"]): g["value"] for g in got}
    # an ingest changes the store version: the cached answer is not served again
    c.post(
        "/api/ingest/orders",
        json={
            "event_id": "late",
            "rows": [{"customer_id": f"z{i}", "order_date": "1998-06-15", "amount": 1} for i in range(50)],
        },
        headers=svc.h("admin"),
    )
    after = {
        (g["metric"], g["period"]): g["value"]
        for g in c.get(
            "/api/metrics", params={"period": "quarter", "metric": ["churn_rate", "active_customers"]}, headers=h
        ).json()["records"]
    }
    assert after[("active_customers", "1998-Q2")] == before[("active_customers", "1998-Q2")] + 50


def test_jalali_and_bad_parameters(ro_svc):
    c, h = ro_svc.client, ro_svc.h("viewer")
    r = c.get("/api/metrics", params={"calendar": "jalali", "period": "year", "metric": "churn_rate"}, headers=h)
    assert [x["period"] for x in r.json()["records"]] == ["1375", "1376", "1377"]
    assert c.get("/api/metrics", params={"period": "decade"}, headers=h).status_code == 422
    assert c.get("/api/metrics", params={"metric": "nonsense"}, headers=h).status_code == 422
    assert c.get("/api/metrics", params={"segment": "no_such_col"}, headers=h).status_code == 422
    assert c.get("/api/metrics", params={"segment": "x; DROP TABLE orders"}, headers=h).status_code == 422
    seg = c.get("/api/metrics", params={"segment": "plan", "metric": "active_customers", "period": "year"}, headers=h)
    assert seg.status_code == 200 and {x.get("segment") for x in seg.json()["records"]} >= {"gold", "basic"}


def test_dashboard_pages_answer_and_match_library(ro_svc):
    c, h = ro_svc.client, ro_svc.h("viewer")
    recs = negah.metrics.compute_records(str(ro_svc.path), period="month")
    churn = [r for r in recs if r["metric"] == "churn_rate" and r["value"] is not None and r["complete"]][-1]
    ov = c.get("/api/dashboard/overview", headers=h).json()
    kpi = {k["key"]: k for k in ov["kpis"]}
    assert (
        kpi["churn_rate"]["value"] == pytest.approx(churn["value"]) and kpi["churn_rate"]["period"] == churn["period"]
    )
    assert kpi["store_customers"]["value"] == 2357 + 0
    assert kpi["yearly_churn"]["band"]["low"] == 0.20 and kpi["yearly_churn"]["alert"] in ("ok", "warn", "alert")
    coh = c.get("/api/dashboard/cohorts", headers=h).json()
    assert coh["charts"][0]["type"] == "heatmap" and coh["charts"][0]["z"][0][0] == 1
    nps = c.get("/api/dashboard/nps", headers=h).json()
    assert sum(nps["charts"][-1]["series"][0]["values"]) == 30
    for page in ("trends", "revenue", "growth", "clv", "at-risk", "complaints", "contact-plan"):
        body = c.get(f"/api/dashboard/{page}", headers=h).json()
        assert body["page"] == page.replace("-", "_")
        assert body["charts"] or body["tables"] or body["notes"]


def test_get_routes_answer_on_fresh_and_empty_stores(tmp_path):
    """Every GET route without path parameters answers 200 on a fresh store (no model)
    and on an empty one."""
    from fastapi.testclient import TestClient

    from negah.api import keys as K
    from negah.api.app import create_app
    from negah.store import open_store
    from negah.store.ingest import import_frame

    import pandas as pd

    for name, rows in (("empty", None), ("fresh", [ORDER, {**ORDER, "customer_id": "n2"}])):
        path = tmp_path / f"{name}.duckdb"
        with open_store(str(path)) as s:
            if rows:
                import_frame(s, "orders", pd.DataFrame(rows))
            key = K.create_key(s.con.con, "admin")[0]
        app = create_app(str(path))
        c = TestClient(app)
        for p, ops in app.openapi()["paths"].items():
            if "get" in ops and "{" not in p:
                r = c.get(p, headers={"Authorization": f"Bearer {key}"})
                assert r.status_code == 200, (name, p, r.text)


def test_customer_profile_and_complaint(svc):
    c = svc.client
    prof = c.get("/api/customers/3", headers=svc.h("viewer")).json()
    kinds = {e["kind"] for e in prof["timeline"]}
    assert {"order", "nps", "complaint"} <= kinds
    assert prof["customer"]["name"] == "Customer 3"
    assert "risk" in prof and "clv" in prof and "reasons" in prof
    assert c.get("/api/customers/nobody", headers=svc.h("viewer")).status_code == 404
    reasons = c.get("/api/complaint-reasons", headers=svc.h("viewer")).json()["reasons"]
    r = c.post(
        "/api/customers/3/complaints", json={"reason": reasons[0], "text": "late again"}, headers=svc.h("analyst")
    )
    assert r.status_code == 201
    after = c.get("/api/customers/3", headers=svc.h("viewer")).json()
    assert any(e["kind"] == "complaint" and e["detail"].get("text") == "late again" for e in after["timeline"])
    audit = c.get("/api/audit", headers=svc.h("admin")).json()["entries"]
    assert audit[0]["action"] == "complaint.create" and audit[0]["actor"].startswith("key:")


def test_erase_customer_api(svc):
    """The rows go, and so do the copies beside the store: the saved answers (which hold
    per-customer rows) and the customer's id and e-mail in the job records."""
    import json as _json
    import os

    from negah.api.sharedcache import sidecar

    c = svc.client
    assert c.get("/api/customers/3", headers=svc.h("viewer")).status_code == 200
    assert c.get("/api/dashboard/at-risk", headers=svc.h("viewer")).status_code == 200
    cache = sidecar(str(svc.path)) / "cache"
    saved = [p for p in cache.rglob("*") if p.is_file()]
    assert saved, "the answers are saved beside the store"
    jobs = sidecar(str(svc.path)) / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    (jobs / "j000000000001.json").write_text(
        _json.dumps(
            {"job_id": "j000000000001", "status": "done", "result": {"failures": ["c3@example.com", "c4@example.com"]}}
        )
    )
    (jobs / "j000000000001.items.jsonl").write_text(
        '{"customer_id": "3", "to": "c3@example.com", "status": "sent", "at": "2026-03-13"}\n'
        '{"customer_id": "4", "to": "c4@example.com", "status": "sent", "at": "2026-03-13"}\n'
    )
    r = c.delete("/api/customers/3", headers=svc.h("admin"))
    body = r.json()
    assert r.status_code == 200 and body["removed"]["orders"] > 0 and body["removed"]["customers"] == 1
    assert "retrain" in body["note"]
    assert body["cached_answers_removed"] >= 1 and body["job_records_changed"] == 2
    assert not any(p.exists() for p in saved)
    job = _json.loads((jobs / "j000000000001.json").read_text())
    assert job["result"]["failures"] == ["[erased]", "c4@example.com"]
    items = (jobs / "j000000000001.items.jsonl").read_text()
    assert "c3@example.com" not in items and "c4@example.com" in items
    assert [_json.loads(x)["customer_id"] for x in items.splitlines()] == ["[erased]", "4"]
    assert items.count("2026-03-13") == 2  # only the customer's own values: not every text with a '3'
    assert os.stat(jobs / "j000000000001.json").st_mode & 0o077 == 0
    assert c.get("/api/customers/3", headers=svc.h("viewer")).status_code == 404
    assert c.get("/api/audit", headers=svc.h("admin")).json()["entries"][0]["action"] == "customer.erase"


def test_survey_link_answers_once(svc):
    c = svc.client
    s = c.post("/api/surveys", json={"name": "Spring", "lang": "fa"}, headers=svc.h("analyst")).json()
    links = c.get(f"/api/surveys/{s['survey_id']}/links", params={"limit": 100000}, headers=svc.h("analyst")).json()
    assert links["total"] >= 2357
    link = next(x for x in links["links"] if x["customer_id"] == "5")
    assert link["email"] == "c5@example.com"
    path = re.sub(r"^https?://[^/]+", "", link["url"])
    page = c.get(path)
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "۱۰" in page.text
    before = c.get("/api/dashboard/nps", headers=svc.h("viewer")).json()
    n0 = sum(before["charts"][-1]["series"][0]["values"])
    r = c.post(path, data={"score": 10, "comment": "عالی"})
    assert r.status_code == 200 and "سپاس" in r.text
    after = c.get("/api/dashboard/nps", headers=svc.h("viewer")).json()
    assert sum(after["charts"][-1]["series"][0]["values"]) == n0 + 1
    assert after["charts"][-1]["series"][0]["values"][10] == before["charts"][-1]["series"][0]["values"][10] + 1
    again = c.post(path, data={"score": 0})
    assert again.status_code == 403
    token = path.split("/s/")[1].split("?")[0]
    forged = token.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
    assert c.get(f"/s/{forged}").status_code == 403
    assert c.post(f"/s/{forged}", data={"score": 5}).status_code == 403
    assert (
        c.post(
            path.replace(token, links["links"][0]["url"].split("/s/")[1].split("?")[0]), data={"score": 11}
        ).status_code
        == 422
    )
    listed = c.get("/api/surveys", headers=svc.h("viewer")).json()["surveys"]
    assert listed[0]["answers"] == 1
    dry = c.post(f"/api/surveys/{s['survey_id']}/send", json={"dry_run": True}, headers=svc.h("analyst")).json()
    assert dry["would_send"] == 40 and dry["without_email"] == links["total"] - 40


def test_survey_email_through_smtp(base_store, tmp_path):
    """POST /api/surveys/{id}/send e-mails one signed link per customer with an e-mail through
    the alerts config's [smtp] settings (a local aiosmtpd server) in a background job: 202 at
    once, then the job's result and one item per recipient (a refused address fails alone,
    recorded with the server's reason)."""
    import shutil
    import socket

    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from fastapi.testclient import TestClient

    from negah.actions.alerts import load_config
    from negah.api.app import create_app
    from tests.api.conftest import wait_job

    got = []

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address == "c7@example.com":
                return "550 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            got.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    ctl = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        cfg = tmp_path / "negah.toml"
        cfg.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "survey@example.com"\n')
        path = tmp_path / "s.duckdb"
        shutil.copy(base_store[0], path)
        keys = base_store[1]
        c = TestClient(create_app(str(path), smtp=load_config(cfg).smtp, warm=False))
        h = {"Authorization": f"Bearer {keys['analyst']}"}
        s = c.post("/api/surveys", json={"name": "Spring"}, headers=h).json()
        r = c.post(f"/api/surveys/{s['survey_id']}/send", json={}, headers=h)
        assert r.status_code == 202, r.text
        assert r.json()["recipients"] == 40 and r.headers["location"] == r.json()["status_url"]
        job = wait_job(c, r.json()["job_id"], h)
        assert job["status"] == "done", job
        res = job["result"]
        assert res["sent"] == 39 and res["failed"] == 1 and res["not_sent"] == 0
        assert res["failures"][0]["customer_id"] == "7" and "550" in res["failures"][0]["message"]
        assert len(got) == 39 and job["items"] == 40
        rcpt, text = next(x for x in got if x[0] == ["c5@example.com"])
        assert "/s/" in text and "Subject: Spring" in text
        items = c.get(f"/api/jobs/{job['job_id']}/items", params={"limit": 1000}, headers=h).json()["items"]
        assert {i["status"] for i in items} == {"sent", "failed"} and len(items) == 40
        failed = c.get(f"/api/jobs/{job['job_id']}/items", params={"status": "failed"}, headers=h).json()["items"]
        assert [(i["customer_id"], i["email"]) for i in failed] == [("7", "c7@example.com")]
        audit = c.get("/api/audit", headers={"Authorization": f"Bearer {keys['admin']}"}).json()["entries"]
        assert audit[0]["action"] == "survey.send" and audit[0]["detail"]["sent"] == 39
        listed = c.get("/api/jobs", headers=h).json()["jobs"]
        assert listed[0]["job_id"] == job["job_id"]
    finally:
        ctl.stop()
    # no [smtp] settings: says so, sends nothing
    c2 = TestClient(create_app(str(path), warm=False))
    none = c2.post(f"/api/surveys/{s['survey_id']}/send", json={}, headers=h).json()
    assert none["available"] is False and none["sent"] == 0 and "--config" in none["message"]
    # an unreachable server: every recipient fails with the reason, the job still ends
    cfg.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "survey@example.com"\ntimeout = 2\n')
    c3 = TestClient(create_app(str(path), smtp=load_config(cfg).smtp, warm=False))
    job = wait_job(c3, c3.post(f"/api/surveys/{s['survey_id']}/send", json={}, headers=h).json()["job_id"], h)
    assert job["status"] == "done" and job["result"]["failed"] == 40 and job["result"]["sent"] == 0
    assert (
        "Connection" in job["result"]["failures"][0]["message"] or "refused" in job["result"]["failures"][0]["message"]
    )


def test_fast_path_cached_bytes_etag_gzip_and_auth(svc):
    """A repeated GET is answered by the ASGI fast path: same bytes, ETag and 304, gzip when
    asked; bad or revoked keys are still refused; an ingest changes the answer."""
    import gzip

    from negah.api.fastpath import Warmer

    c, h = svc.client, svc.h("viewer")
    first = c.get("/api/store", headers=h)
    fast = c.app.state.fast  # built with the middleware stack, on the first request
    hits = fast.hits
    again = c.get("/api/store", headers={**h, "Accept-Encoding": "identity"})
    assert fast.hits == hits + 1 and again.content == first.content and again.headers["etag"]
    assert (
        c.get(
            "/api/store", headers={**h, "If-None-Match": again.headers["etag"], "Accept-Encoding": "identity"}
        ).status_code
        == 304
    )
    big = c.get("/api/dashboard/trends", headers=h)
    raw = c.get("/api/dashboard/trends", headers={**h, "Accept-Encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip" and raw.json() == big.json()
    assert len(gzip.compress(raw.content)) < len(big.content)
    assert c.get("/api/store", headers={"Authorization": "Bearer ngh_AAAAAAAA_" + "x" * 43}).status_code == 401
    assert c.get("/api/store").status_code == 401
    made = c.post("/api/keys", json={"role": "viewer"}, headers=svc.h("admin")).json()
    nh = {"Authorization": f"Bearer {made['key']}"}
    assert c.get("/api/store", headers=nh).status_code == 200
    c.delete(f"/api/keys/{made['key_id']}", headers=svc.h("admin"))
    assert c.get("/api/store", headers=nh).status_code == 401
    n0 = c.get("/api/store", headers=h).json()["orders"]
    # the warmer primes answers for the new store version after an ingest
    warmer = fast.warmer = Warmer(fast, targets=[("/api/store", b"")])
    fast.root = c.app
    warmer.start()
    c.post("/api/ingest/orders", json={"event_id": "fp", "rows": [ORDER]}, headers=svc.h("admin"))
    import time

    t = time.monotonic()
    while svc.client.app.state.access.version() not in warmer.warmed and time.monotonic() - t < 60:
        time.sleep(0.05)
    hits = fast.hits
    assert c.get("/api/store", headers=h).json()["orders"] == n0 + 1 and fast.hits == hits + 1


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd", "mbgnbd", "gammagamma"])
def test_models_run_btyd_fits_in_a_job(ro_svc, model):
    """POST /api/models/run fits the BTYD model in a background job (202 at once); the job's
    result is the library's fit on the store's customer summary."""
    from negah.models import get_model
    from negah.models.summary import summary_from_store
    from tests.api.conftest import wait_job

    c, h = ro_svc.client, ro_svc.h("analyst")
    r = c.post("/api/models/run", json={"model": model, "calibration_end": "1997-12-31"}, headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued" and r.headers["location"] == f"/api/jobs/{r.json()['job_id']}"
    job = wait_job(c, r.json()["job_id"], h)
    assert job["status"] == "done", job
    got = job["result"]
    with negah.open_store(str(ro_svc.path), read_only=True) as s:
        summary = summary_from_store(s, calibration_end="1997-12-31", time_unit="week")
    m = get_model(model)()
    if model == "gammagamma":
        m.fit(summary["frequency"], summary["monetary_value"])
    else:
        m.fit(summary["frequency"], summary["recency"], summary["T"])
    want = m.to_dict()
    assert got["model"] == model and got["n"] == want["n_customers"] == got["n_customers"]
    assert got["params"] == pytest.approx(want["params"], rel=1e-9)
    assert got["std_errors"] == pytest.approx(want["std_errors"], rel=1e-6)
    assert got["log_likelihood"] == pytest.approx(want["log_likelihood"], rel=1e-12)
    assert got["calibration_end"] == "1997-12-31" and got["time_unit"] == "week"


def test_models_run_reports_what_the_data_cannot_support(tmp_path):
    """A fit the data cannot support fails as a job with the library's message (not a 500)."""
    from fastapi.testclient import TestClient

    from negah.api import keys as K
    from negah.api.app import create_app
    from negah.store import open_store
    from tests.api.conftest import wait_job

    path = tmp_path / "empty.duckdb"
    with open_store(str(path)) as s:
        key = K.create_key(s.con.con, "analyst")[0]
    c = TestClient(create_app(str(path), warm=False))
    h = {"Authorization": f"Bearer {key}"}
    job = wait_job(c, c.post("/api/models/run", json={"model": "bgnbd"}, headers=h).json()["job_id"], h)
    assert job["status"] == "failed" and "import orders" in job["error"]["message"]
    assert c.get("/api/jobs/j000000000000", headers=h).status_code == 404
    assert c.get("/api/jobs/nonsense", headers=h).status_code == 422


def test_models_list_and_churn_training(svc, monkeypatch):
    """GET /api/models lists the registry; POST /api/models/run {"model": "churn"} trains with
    negah.predict.train_store in a job and saves to the registry; DELETE removes it. The fit
    holds no store connection and no read lock, so writers need not wait for it."""
    import negah.predict.backtest as bt
    from tests.api.conftest import wait_job

    c = svc.client
    acc = c.app.state.access
    during_fit: list = []
    fit = bt.fit_training_data

    def watched(*a, **kw):
        during_fit.append((len(acc._open), acc.lock._readers, acc.lock._writer))
        return fit(*a, **kw)

    monkeypatch.setattr(bt, "fit_training_data", watched)
    listed = c.get("/api/models", headers=svc.h("viewer")).json()
    from negah.predict import registry

    assert listed["available"] is True and listed["rows"] == []
    r = c.post("/api/models/run", json={"model": "churn", "name": "first"}, headers=svc.h("analyst"))
    assert r.status_code == 202, r.text
    job = wait_job(c, r.json()["job_id"], svc.h("analyst"), timeout=900)
    assert job["status"] == "done", job
    assert during_fit == [(0, 0, False)]
    res = job["result"]
    assert res["as_of"] == "1998-07-01" and res["metrics"]
    rows = c.get("/api/models", headers=svc.h("viewer")).json()["rows"]
    assert len(rows) == 1
    mid = str(rows[0].get("model_id", rows[0].get("id")))
    with negah.open_store(str(svc.path), read_only=True) as s:
        assert str(registry.list_models(s)[0].get("model_id", registry.list_models(s)[0].get("id"))) == mid
        loaded = registry.load(s, mid)
    assert loaded.meta["training"]["as_of"] == "1998-07-01"
    assert c.delete(f"/api/models/{mid}", headers=svc.h("analyst")).status_code == 403
    assert c.delete(f"/api/models/{mid}", headers=svc.h("admin")).json()["deleted"] is True
    assert c.get("/api/models", headers=svc.h("viewer")).json()["rows"] == []
    assert c.delete(f"/api/models/{mid}", headers=svc.h("admin")).status_code == 404
    acts = [e["action"] for e in c.get("/api/audit", headers=svc.h("admin")).json()["entries"]]
    assert {"model.save", "model.delete"} <= set(acts)


def test_a_job_of_an_earlier_process_with_the_same_pid_is_not_running(tmp_path):
    """A restarted worker may get the pid of the one that died (PID 1 in a container): its
    queued or running jobs are reported failed, not running forever; its own are running."""
    import json as _json
    import os

    from negah.api.jobs import PROCESS, Jobs

    jobs = Jobs(tmp_path / "jobs")
    jobs.root.mkdir(parents=True)
    base = {
        "kind": "model",
        "params": {},
        "actor": "t",
        "created_at": "2026-12-01T00:00:00",
        "started_at": None,
        "finished_at": None,
        "progress": None,
        "result": None,
        "error": None,
        "pid": os.getpid(),
    }
    (jobs.root / "j000000000aaa.json").write_text(
        _json.dumps({**base, "job_id": "j000000000aaa", "status": "running", "process": "an-earlier-one"})
    )
    (jobs.root / "j000000000bbb.json").write_text(
        _json.dumps({**base, "job_id": "j000000000bbb", "status": "running", "process": PROCESS})
    )
    old = jobs.get("j000000000aaa")
    assert old["status"] == "failed" and "interrupted" in old["error"]["message"]
    assert jobs.get("j000000000bbb")["status"] == "running"
