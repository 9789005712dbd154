"""A killed import leaves the store exactly as before and usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from negah.store import open_store
from negah.store.ingest import import_files

from tests.store.test_ingest import snapshot

pytestmark = pytest.mark.slow


def test_kill_9_during_a_large_import(tmp_path: Path):
    store = tmp_path / "store.duckdb"
    small = tmp_path / "orders.csv"
    small.write_text("customer_id,order_date,amount\na,2024-01-01,1\nb,2024-01-02,2\n")
    with open_store(store) as s:
        import_files(s, [small])
    before = snapshot(store)

    big = tmp_path / "big_orders.csv"
    duckdb.sql(
        f"COPY (SELECT 'c' || (i % 5000) AS customer_id, DATE '2024-01-01' + CAST(i % 365 AS INTEGER) "
        f"AS order_date, (i % 100) + 0.5 AS amount FROM range(3000000) t(i)) TO '{big}' (HEADER)"
    )
    code = (
        "import sys; from negah.store import open_store; from negah.store.ingest import import_files; "
        "s = open_store(sys.argv[1]); print('started', flush=True); "
        "import_files(s, [sys.argv[2]], table='orders'); print('finished', flush=True)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(store), str(big)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.5)  # well inside the import (it takes several seconds)
    assert proc.poll() is None, "the import finished before it could be killed; make the file larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    assert snapshot(store) == before
    with open_store(store) as s:  # usable: a new import works and counts once
        assert import_files(s, [big], table="orders")[0].rows == 3_000_000
        assert s.row_count("orders") == 3_000_002
