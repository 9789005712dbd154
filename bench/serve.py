"""Load test of `negah serve` on loopback: concurrent clients against the dashboard's JSON
endpoints; reports throughput and latency percentiles.

    .venv/bin/python bench/serve.py --orders 10000000 --concurrency 200 --seconds 20 --workers 2

Builds (once, cached under bench/out/) a store of N synthetic orders, starts the service
in a subprocess, warms the cache (one request per endpoint: the cold compute time is
reported too), then runs C concurrent keep-alive clients (asyncio + httpx) for S seconds
round-robin over the endpoints. Results go to stdout as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
ENDPOINTS = ["/api/dashboard/overview", "/api/dashboard/trends", "/api/dashboard/revenue",
             "/api/dashboard/growth", "/api/metrics", "/api/store", "/api/dashboard/cohorts?period=quarter"]


def build_store(n: int) -> Path:
    """A DuckDB store with ``n`` synthetic order lines (about n/10 customers over 3 years)."""
    import duckdb

    from negah.store import open_store

    OUT.mkdir(exist_ok=True)
    path = OUT / f"serve_{n}.duckdb"
    if path.exists():
        return path
    tmp = OUT / f"serve_{n}.parquet"
    con = duckdb.connect()
    customers = max(n // 10, 10)
    con.execute(f"""COPY (SELECT CAST(1 + (hash(i) % {customers}) AS VARCHAR) AS customer_id,
                       DATE '2021-01-01' + CAST(hash(i * 7) % 1095 AS INTEGER) AS order_date,
                       CAST(5 + (hash(i * 13) % 20000) / 100.0 AS DECIMAL(18,4)) AS amount,
                       CAST(i AS VARCHAR) AS order_id
                    FROM range({n}) t(i)) TO '{tmp}' (FORMAT parquet)""")
    con.close()
    from negah.store.ingest import import_files

    with open_store(str(path)) as s:
        import_files(s, [tmp], table="orders")
    tmp.unlink()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_load(base: str, key: str, concurrency: int, seconds: float) -> dict:
    import httpx

    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=30) as client:
        async def worker(i: int) -> None:
            nonlocal errors
            k = i
            while time.perf_counter() < stop:
                url = ENDPOINTS[k % len(ENDPOINTS)]
                k += 1
                t0 = time.perf_counter()
                r = await client.get(url)
                lat.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        wall = time.perf_counter() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    return {"requests": len(lat), "errors": errors, "seconds": round(wall, 2),
            "rps": round(len(lat) / wall, 1), "p50_ms": round(q(0.50), 1), "p90_ms": round(q(0.90), 1),
            "p99_ms": round(q(0.99), 1), "max_ms": round(lat[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from negah.api import keys as K
    from negah.store import open_store

    t0 = time.perf_counter()
    path = build_store(args.orders)
    build_s = time.perf_counter() - t0
    with open_store(str(path)) as s:
        key = K.create_key(s.con.con, "viewer", name="bench", expires="1d")[0]
    port = free_port()
    code = (f"from negah.api.app import run; run({str(path)!r}, '127.0.0.1', {port}, workers={args.workers})")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        cold: dict[str, float] = {}
        for url in ENDPOINTS:  # each worker process has its own cache: warm until every answer is fast
            fast = 0
            for _ in range(200):
                t = time.perf_counter()
                r = httpx.get(base + url, headers={"Authorization": f"Bearer {key}"}, timeout=900)
                dt = time.perf_counter() - t
                cold.setdefault(url, round(dt, 3))
                assert r.status_code == 200, r.text
                fast = fast + 1 if dt < 0.2 else 0
                if fast >= 10 * args.workers:
                    break
        result = asyncio.run(run_load(base, key, args.concurrency, args.seconds))
    finally:
        proc.terminate()
        proc.wait(20)
    print(json.dumps({"orders": args.orders, "workers": args.workers, "concurrency": args.concurrency,
                      "cpus": os.cpu_count(), "store_build_s": round(build_s, 1), "cold_s": cold, **result},
                     indent=1))


if __name__ == "__main__":
    main()
