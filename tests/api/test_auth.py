"""Every endpoint and every role: keys, roles, 401/403, revocation, expiry, sessions, audit."""

from __future__ import annotations

import datetime as _dt

import pytest

from negah.api import keys as K

ROLES = ("viewer", "analyst", "admin")
ROW = {"customer_id": "new1", "order_date": "1998-07-01", "amount": 5}

# (method, path, json body, least role). Every /api route of the OpenAPI schema is here
# (test_every_route_is_listed checks it).
ENDPOINTS = [
    ("GET", "/api/store", None, "viewer"),
    ("GET", "/api/metrics", None, "viewer"),
    ("GET", "/api/cohorts", None, "viewer"),
    ("GET", "/api/at-risk", None, "viewer"),
    ("GET", "/api/segments", None, "viewer"),
    ("GET", "/api/reasons", None, "viewer"),
    ("GET", "/api/contact-plan", None, "viewer"),
    ("GET", "/api/models", None, "viewer"),
    ("GET", "/api/complaint-reasons", None, "viewer"),
    ("GET", "/api/me", None, "viewer"),
    ("GET", "/api/surveys", None, "viewer"),
    ("GET", "/api/customers/1", None, "viewer"),
    ("GET", "/api/dashboard/overview", None, "viewer"),
    ("GET", "/api/dashboard/trends", None, "viewer"),
    ("GET", "/api/dashboard/cohorts", None, "viewer"),
    ("GET", "/api/dashboard/revenue", None, "viewer"),
    ("GET", "/api/dashboard/growth", None, "viewer"),
    ("GET", "/api/dashboard/nps", None, "viewer"),
    ("GET", "/api/dashboard/clv", None, "viewer"),
    ("GET", "/api/dashboard/at-risk", None, "viewer"),
    ("GET", "/api/dashboard/complaints", None, "viewer"),
    ("GET", "/api/dashboard/contact-plan", None, "viewer"),
    ("POST", "/api/models/run", {"model": "bgnbd"}, "analyst"),
    ("GET", "/api/jobs", None, "analyst"),
    ("GET", "/api/jobs/JOBID", None, "analyst"),
    ("GET", "/api/jobs/JOBID/items", None, "analyst"),
    ("DELETE", "/api/models/MODELID", None, "admin"),
    ("POST", "/api/customers/1/complaints", {"reason": "price"}, "analyst"),
    ("POST", "/api/surveys", {"name": "Q3"}, "analyst"),
    ("GET", "/api/surveys/SURVEY/links", None, "analyst"),
    ("POST", "/api/surveys/SURVEY/send", {"dry_run": True}, "analyst"),
    ("POST", "/api/ingest/orders", {"event_id": "auth-1", "rows": [ROW]}, "admin"),
    ("DELETE", "/api/customers/2", None, "admin"),
    ("GET", "/api/keys", None, "admin"),
    ("POST", "/api/keys", {"role": "viewer"}, "admin"),
    ("PATCH", "/api/keys/KEYID", {"expires": "30d"}, "admin"),
    ("DELETE", "/api/keys/KEYID", None, "admin"),
    ("GET", "/api/audit", None, "admin"),
]


def _resolve(svc, path: str) -> str:
    if "SURVEY" in path:
        r = svc.client.post("/api/surveys", json={"name": "fixture"}, headers=svc.h("admin"))
        path = path.replace("SURVEY", r.json()["survey_id"])
    if "JOBID" in path:
        r = svc.client.post("/api/models/run", json={"model": "bgnbd"}, headers=svc.h("analyst"))
        assert r.status_code == 202, r.text
        path = path.replace("JOBID", r.json()["job_id"])
    if "MODELID" in path:
        path = path.replace("MODELID", "no-such-model")
    if "KEYID" in path:
        r = svc.client.post("/api/keys", json={"role": "viewer", "name": "victim"}, headers=svc.h("admin"))
        path = path.replace("KEYID", r.json()["key_id"])
    return path


def test_every_route_is_listed(ro_svc):
    schema = ro_svc.client.get("/openapi.json").json()
    listed = {(m, p) for m, p, _, _ in ENDPOINTS}
    for path, ops in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in ops:
            concrete = (
                path.replace("{customer_id}", "1")
                .replace("{table}", "orders")
                .replace("{survey_id}", "SURVEY")
                .replace("{key_id}", "KEYID")
                .replace("{job_id}", "JOBID")
                .replace("{model_id}", "MODELID")
            )
            if method.upper() == "DELETE" and concrete == "/api/customers/1":
                concrete = "/api/customers/2"
            assert (method.upper(), concrete) in listed, f"{method.upper()} {path} has no role test"


def test_health_needs_no_key(ro_svc):
    r = ro_svc.client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def _reads_only(method: str, path: str) -> bool:
    return method == "GET" and "SURVEY" not in path and "KEYID" not in path and "JOBID" not in path


@pytest.mark.parametrize("method,path,body,role", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_roles(request, method, path, body, role):
    # reads share one module-wide service (each page is computed once); writes get a fresh copy
    svc = request.getfixturevalue("ro_svc" if _reads_only(method, path) else "svc")
    path = _resolve(svc, path)
    # no key, a malformed key, a well-formed unknown key: 401
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer ngh_AAAAAAAA_" + "x" * 43},
        {"Authorization": "Basic abc"},
    ):
        r = svc.client.request(method, path, json=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
    for have in ROLES:
        r = svc.client.request(method, path, json=body, headers=svc.h(have))
        if K.role_allows(have, role):
            assert r.status_code not in (401, 403, 500), (have, r.status_code, r.text)
        else:
            assert r.status_code == 403, (have, r.text)
            assert r.json()["error"]["code"] == "forbidden"
            assert role in r.json()["error"]["message"]


def test_keys_are_stored_hashed(svc):
    import duckdb

    svc.client.get("/api/me", headers=svc.h("viewer"))
    con = duckdb.connect(str(svc.path), read_only=True)
    try:
        rows = con.execute("SELECT key_id, key_hash FROM _negah_keys").fetchall()
    finally:
        con.close()
    for key in svc.keys.values():
        assert all(key not in str(r) for r in rows)
        assert any(K.hash_key(key) == r[1] for r in rows)


def test_revoke_and_expiry_take_effect_at_once(svc):
    c = svc.client
    made = c.post("/api/keys", json={"role": "viewer", "name": "tmp"}, headers=svc.h("admin"))
    assert made.status_code == 201
    new = made.json()
    hdr = {"Authorization": f"Bearer {new['key']}"}
    assert c.get("/api/me", headers=hdr).json()["role"] == "viewer"
    listed = c.get("/api/keys", headers=svc.h("admin")).json()["keys"]
    assert new["key_id"] in {k["key_id"] for k in listed}
    assert all("key" not in k for k in listed)
    # an expiry in the past: refused
    r = c.patch(f"/api/keys/{new['key_id']}", json={"expires": "2000-01-01"}, headers=svc.h("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert c.get("/api/me", headers=hdr).status_code == 401
    r = c.patch(f"/api/keys/{new['key_id']}", json={"expires": None}, headers=svc.h("admin"))
    assert c.get("/api/me", headers=hdr).status_code == 200
    r = c.delete(f"/api/keys/{new['key_id']}", headers=svc.h("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert c.get("/api/me", headers=hdr).status_code == 401
    assert c.delete("/api/keys/zzzzzzzz", headers=svc.h("admin")).status_code == 422
    acts = [e["action"] for e in c.get("/api/audit", headers=svc.h("admin")).json()["entries"]]
    assert {"key.create", "key.expiry", "key.revoke"} <= set(acts)


def test_key_created_with_expiry_expires():
    table = {"abcdEFGH": (K.hash_key("ngh_abcdEFGH_" + "s" * 43), "viewer", _dt.datetime(2001, 1, 1), None)}
    assert K.verify(table, "ngh_abcdEFGH_" + "s" * 43, at=_dt.datetime(2000, 12, 31)) == ("abcdEFGH", "viewer")
    assert K.verify(table, "ngh_abcdEFGH_" + "s" * 43, at=_dt.datetime(2001, 1, 2)) is None
    assert K.verify(table, "ngh_abcdEFGH_" + "t" * 43, at=_dt.datetime(2000, 1, 1)) is None
    with pytest.raises(Exception, match="expected a duration"):
        K.parse_expiry("tomorrow")
    with pytest.raises(Exception, match="role 'boss' is not known"):
        K.check_role("boss")


def test_dashboard_session_login(svc):
    c = svc.client
    r = c.get("/dashboard/overview", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    bad = c.post("/login", data={"key": "ngh_wrong", "next": "/dashboard/trends"}, follow_redirects=False)
    assert bad.status_code == 401
    ok = c.post("/login", data={"key": svc.keys["viewer"], "next": "/dashboard/trends"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard/trends"
    assert c.get("/dashboard/trends").status_code == 200
    assert c.get("/api/me").json() == {"key_id": svc.keys["viewer"].split("_")[1], "role": "viewer", "via": "session"}
    # a session cannot write without the dashboard's header (no cross-site form posts)
    c.post("/logout")
    c.post("/login", data={"key": svc.keys["analyst"], "next": "/"}, follow_redirects=False)
    r = c.post("/api/customers/1/complaints", json={"reason": "price"})
    assert r.status_code == 403
    r = c.post("/api/customers/1/complaints", json={"reason": "price"}, headers={"X-Negah-Request": "1"})
    assert r.status_code == 201
    # open redirect refused
    r = c.post("/login", data={"key": svc.keys["viewer"], "next": "//evil.example"}, follow_redirects=False)
    assert r.headers["location"] == "/dashboard/overview"


def test_request_size_limit(base_store, tmp_path):
    import shutil

    from fastapi.testclient import TestClient

    from negah.api.app import create_app

    path = tmp_path / "s.duckdb"
    shutil.copy(base_store[0], path)
    c = TestClient(create_app(str(path), max_body=1000))
    h = {"Authorization": f"Bearer {base_store[1]['admin']}"}
    rows = [ROW] * 100
    r = c.post("/api/ingest/orders", json={"event_id": "big", "rows": rows}, headers=h)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
