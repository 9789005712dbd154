"""Fixtures for the service tests: a real DuckDB store with every table, keys of every role."""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)

DATASETS = Path(__file__).resolve().parents[2] / "src" / "negah" / "datasets"


def build_store(path: Path, orders_rows: int | None = None) -> dict[str, str]:
    """CDNOW sample orders plus small customers/responses/complaints/contacts/subscriptions
    tables; returns a key per role."""
    import pandas as pd

    from negah.api import keys as K
    from negah.store import open_store
    from negah.store.ingest import import_files, import_frame

    with open_store(str(path)) as s:
        if orders_rows is None:
            import_files(s, [DATASETS / "cdnow_sample_orders.csv"], table="orders")
        else:
            import_frame(s, "orders", pd.read_csv(DATASETS / "cdnow_sample_orders.csv", dtype=str).head(orders_rows))
        ids = [str(i) for i in range(1, 41)]
        import_frame(
            s,
            "customers",
            pd.DataFrame(
                {
                    "customer_id": ids,
                    "name": [f"Customer {i}" for i in ids],
                    "email": [f"c{i}@example.com" for i in ids],
                    "plan": ["gold" if int(i) % 3 == 0 else "basic" for i in ids],
                }
            ),
        )
        import_frame(
            s,
            "responses",
            pd.DataFrame(
                {
                    "customer_id": ids[:30],
                    "response_date": ["1997-0%d-15" % (1 + int(i) % 6) for i in ids[:30]],
                    "score": [int(i) % 11 for i in ids[:30]],
                    "comment": [f"comment {i}" for i in ids[:30]],
                }
            ),
        )
        import_frame(
            s,
            "complaints",
            pd.DataFrame(
                {
                    "customer_id": ids[:12],
                    "complaint_date": ["1997-03-0%d" % (1 + int(i) % 9) for i in ids[:12]],
                    "reason": ["delivery", "price", "quality"] * 4,
                    "product_id": ["p1", "p2"] * 6,
                }
            ),
        )
        import_frame(
            s,
            "contacts",
            pd.DataFrame({"customer_id": ids[:5], "contacted_at": ["1997-04-01 10:00"] * 5, "channel": ["phone"] * 5}),
        )
        import_frame(
            s,
            "subscriptions",
            pd.DataFrame(
                {
                    "customer_id": ids[:10],
                    "start_date": ["1997-01-01"] * 10,
                    "end_date": [None] * 5 + ["1997-06-01"] * 5,
                    "mrr": [10] * 10,
                }
            ),
        )
        raw = s.con.con
        keys = {role: K.create_key(raw, role, name=f"test {role}")[0] for role in K.ROLES}
    return keys


@pytest.fixture(scope="session")
def base_store(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("svc") / "base.duckdb"
    keys = build_store(path)
    return path, keys


@dataclass
class Service:
    path: Path
    keys: dict[str, str]
    client: object

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def _service(base_store, tmp_path) -> Service:
    from fastapi.testclient import TestClient

    from negah.api.app import create_app

    src, keys = base_store
    path = tmp_path / "store.duckdb"
    shutil.copy(src, path)
    app = create_app(str(path))
    return Service(path, keys, TestClient(app))


@pytest.fixture
def svc(base_store, tmp_path) -> Service:
    """A fresh copy of the store behind a fresh app (tests may write)."""
    return _service(base_store, tmp_path)


@pytest.fixture(scope="module")
def ro_svc(base_store, tmp_path_factory) -> Service:
    """One app per module for tests that only read."""
    return _service(base_store, tmp_path_factory.mktemp("ro"))


def wait_job(client, job_id: str, headers: dict, timeout: float = 300.0) -> dict:
    """Poll GET /api/jobs/{id} until the job is done or failed; the job."""
    import time

    t = time.monotonic()
    while True:
        r = client.get(f"/api/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() - t < timeout, job
        time.sleep(0.05)


def serve(path: Path, workers: int = 1) -> tuple:
    """`negah serve` (``negah.api.app.run``) on ``path`` in a subprocess on a free loopback
    port, once /health answers; (process, base URL). Stop it with SIGINT or SIGTERM."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    code = f"from negah.api.app import run; run({str(path)!r}, '127.0.0.1', {port}, workers={workers})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(proc.stderr.read().decode())
