"""The answers cache shared by workers and kept across restarts, the warmer, and shutdown.

Real processes where it matters: two `negah serve` workers, a restart, SIGTERM while warming.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from negah.api.sharedcache import sidecar


def _timings(path: Path) -> list[dict]:
    out = []
    for f in (sidecar(str(path)) / "cache").glob("*/timings.jsonl"):
        out += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    return out


def _client(path: Path):
    from fastapi.testclient import TestClient

    from negah.api.app import create_app

    return TestClient(create_app(str(path), warm=False))


@pytest.fixture
def store(base_store, tmp_path) -> tuple[Path, dict]:
    path = tmp_path / "s.duckdb"
    shutil.copy(base_store[0], path)
    return path, base_store[1]


def test_answers_are_shared_between_apps_and_restarts(store):
    """A second application on the same store (another worker, or the next start) answers
    from the disk without computing; the pages share one computation of the metric records;
    a new key does not invalidate; an ingest does."""
    path, keys = store
    h = {"Authorization": f"Bearer {keys['viewer']}"}
    a = _client(path)
    first = {p: a.get(f"/api/dashboard/{p}", headers=h).content for p in ("overview", "trends", "revenue", "growth")}
    t1 = _timings(path)
    records = [t for t in t1 if "'records'" in t["key"] and "'orders'" in t["key"]]
    assert len(records) == 1, records  # overview, trends, revenue and growth share one computation
    assert len([t for t in t1 if "'page'" in t["key"]]) == 4
    b = _client(path)  # another worker, or the service after a restart
    for p, body in first.items():
        assert b.get(f"/api/dashboard/{p}", headers=h).content == body
    assert _timings(path) == t1  # nothing computed again
    # a new key changes the file but not the data: still no computation
    made = a.post("/api/keys", json={"role": "viewer"}, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert made.status_code == 201
    assert b.get("/api/dashboard/trends", headers=h).content == first["trends"]
    assert _timings(path) == t1
    # an ingest changes the data version: the answer is computed again and differs
    r = a.post(
        "/api/ingest/orders",
        json={
            "event_id": "cache-1",
            "rows": [{"customer_id": f"new{i}", "order_date": "1998-06-20", "amount": 5} for i in range(30)],
        },
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )
    assert r.status_code == 200, r.text
    after = b.get("/api/dashboard/trends", headers=h)
    assert after.content != first["trends"]
    assert len(_timings(path)) > len(t1)
    kpi = {k["key"]: k["value"] for k in b.get("/api/dashboard/overview", headers=h).json()["kpis"]}
    assert kpi["store_customers"] == 2357 + 30
    # out of memory but on disk (an evicted answer): read from the disk without opening the store
    from negah.api.cache import ByteCache

    acc = b.app.state.access
    assert acc.cached(("test", "evicted"), lambda store: b"on disk") == b"on disk"
    acc.cache = ByteCache()
    opened: list = []
    plain_read = acc.read
    acc.read = lambda: (opened.append(1), plain_read())[1]
    assert acc.cached(("test", "evicted"), lambda store: b"computed again") == b"on disk"
    assert opened == []
    acc.read = plain_read


def test_one_computation_across_processes(store):
    """Two processes asking for the same page at the same moment compute it once (the other
    waits for the lock and reads the file)."""
    path, keys = store
    code = (
        "import sys; from fastapi.testclient import TestClient; from negah.api.app import create_app; "
        f"c = TestClient(create_app({str(path)!r}, warm=False)); "
        f"r = c.get('/api/dashboard/clv', headers={{'Authorization': 'Bearer {keys['viewer']}'}}); "
        "sys.stdout.write(str(r.status_code) + ' ' + str(len(r.content)))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1].decode()[-2000:] for o in outs]
    answers = {o[0].decode() for o in outs}
    assert len(answers) == 1 and answers.pop().startswith("200 ")
    keys_computed = [t["key"] for t in _timings(path)]
    assert len(keys_computed) == len(set(keys_computed)), keys_computed
    assert any("'clv'" in k for k in keys_computed) and any("'rfm'" in k for k in keys_computed)


def _serve(path: Path, workers: int):
    from tests.api.conftest import serve

    return serve(path, workers)


def test_two_workers_warm_together_and_compute_each_answer_once(store):
    """`negah serve --workers 2`: both workers warm the dashboard; every answer is computed
    by one of them once, and both serve the same bytes; a restart computes nothing."""
    import httpx

    from negah.api.fastpath import warm_targets

    path, keys = store
    h = {"Authorization": f"Bearer {keys['viewer']}"}
    pages = [t for t in warm_targets() if t[0].startswith("/api/dashboard/")]
    proc, base = _serve(path, 2)
    try:
        deadline = time.monotonic() + 600
        while len([t for t in _timings(path) if "'page'" in t["key"]]) < len(pages):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.5)
        seen = {}
        with httpx.Client(base_url=base, headers=h, timeout=120) as c:
            for p, q in pages:
                for _ in range(4):  # new connections: both workers answer
                    r = c.get(p + ("?" + q.decode() if q else ""), headers={"Connection": "close"})
                    assert r.status_code == 200
                    seen.setdefault((p, q), set()).add(r.content)
        assert all(len(v) == 1 for v in seen.values())
        keys_computed = [t["key"] for t in _timings(path)]
        assert len(keys_computed) == len(set(keys_computed)), sorted(keys_computed)
        assert {t["pid"] for t in _timings(path)} and len(keys_computed) >= len(pages)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    before = _timings(path)
    proc, base = _serve(path, 1)
    try:
        with httpx.Client(base_url=base, headers=h, timeout=120) as c:
            assert c.get("/api/dashboard/overview").status_code == 200
        time.sleep(1.0)
        assert _timings(path) == before  # the restart read every answer from disk
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)


@pytest.mark.parametrize("workers", [1, 2])
def test_shutdown_while_warming_does_not_hang(tmp_path, workers):
    """SIGTERM (and SIGINT) while the warmer computes pages on a bigger store: the server
    exits within the grace period instead of finishing the warm-up."""
    import duckdb

    from negah.store import open_store
    from negah.store.ingest import import_files

    path = tmp_path / "big.duckdb"
    pq = tmp_path / "orders.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT CAST(1 + (hash(i) % 30000) AS VARCHAR) AS customer_id,
                           DATE '2021-01-01' + CAST(hash(i * 7) % 1095 AS INTEGER) AS order_date,
                           CAST(5 + (hash(i * 13) % 20000) / 100.0 AS DECIMAL(18,4)) AS amount
                    FROM range(300000) t(i)) TO '{pq}' (FORMAT parquet)""")
    con.close()
    with open_store(str(path)) as s:
        import_files(s, [pq], table="orders")
    for sig in (signal.SIGTERM, signal.SIGINT) if workers == 1 else (signal.SIGTERM,):
        shutil.rmtree(sidecar(str(path)), ignore_errors=True)
        proc, _ = _serve(path, workers)
        time.sleep(1.5)  # the warmer is computing the first pages now
        assert proc.poll() is None
        t0 = time.monotonic()
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"negah serve --workers {workers} did not stop within 30 s of {sig!r}")
        took = time.monotonic() - t0
        assert took < 25, took
        # it stopped early: not every page was warmed
        assert len([t for t in _timings(path) if "'page'" in t["key"]]) < 20
    assert os.path.exists(path)


def test_data_version_sees_a_renamed_model_but_not_the_audit_log():
    """A model saved again under a new name keeps the registry's row count; the version
    still changes. Bookkeeping that is not data (the audit log) leaves it alone."""
    import duckdb

    from negah.api.sharedcache import data_version
    from negah.store.migrate import MODELS_DDL

    raw = duckdb.connect()
    raw.execute(MODELS_DDL)
    raw.execute("CREATE TABLE _negah_audit (ts TIMESTAMP, actor VARCHAR)")
    raw.execute(
        "INSERT INTO _negah_models VALUES ('m1', 'first', 'churn', 'store', now(), NULL, 90, NULL, NULL, "
        "'\\x00'::BLOB, 1)"
    )
    v1 = data_version(raw)
    raw.execute("UPDATE _negah_models SET name = 'renamed' WHERE model_id = 'm1'")
    v2 = data_version(raw)
    assert v2 != v1
    raw.execute("INSERT INTO _negah_audit VALUES (now(), 'cli')")
    assert data_version(raw) == v2
