"""Load test of `negah serve` on loopback: concurrent clients against the dashboard's JSON
endpoints; reports throughput and latency percentiles.

    .venv/bin/python bench/serve.py --orders 10000000 --concurrency 200 --requests 40000 --workers 2

Builds (once, cached under bench/out/) a store of N synthetic orders, starts the service
(`negah serve` with W uvicorn workers) in a subprocess on 127.0.0.1, waits until every
endpoint is warm (the service computes the dashboard's answers itself at start-up; the
first answer's time is reported), then sends R requests over C concurrent keep-alive
connections from a raw asyncio loopback client, round-robin over the dashboard's JSON
endpoints, and stops. Results (with os.getloadavg() before and after) go to stdout as JSON.
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
PAGES = ["overview", "trends", "cohorts", "revenue", "growth", "nps", "clv", "at-risk", "complaints", "contact-plan"]
# what the dashboard asks: every page's JSON (English and Persian/Jalali) and the store summary
ENDPOINTS = ([f"/api/dashboard/{p}" for p in PAGES] + [f"/api/dashboard/{p}?calendar=jalali" for p in PAGES]
             + ["/api/store"])


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


async def _one_connection(port: int, request: bytes, jobs: list, lat: list, errors: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while jobs:
            raw = jobs.pop()
            t0 = time.perf_counter()
            writer.write(request.replace(b"{PATH}", raw))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            n = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    n = int(line[15:])
            if n:
                await reader.readexactly(n)
            lat.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def run_load(port: int, key: str, concurrency: int, total: int) -> dict:
    """``total`` GETs over ``concurrency`` keep-alive connections to 127.0.0.1:``port``, each
    connection sending its next request when the previous answer has been read in full.
    Raw HTTP/1.1 on asyncio streams (uvloop when installed), so the client costs little CPU;
    it asks for gzip like a browser does and does not decompress."""
    request = (b"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key.encode() +
               b"\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\n\r\n")
    jobs = [ENDPOINTS[i % len(ENDPOINTS)].encode() for i in range(total)]
    lat: list[float] = []
    errors: list[int] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(_one_connection(port, request, jobs, lat, errors) for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    return {"requests": len(lat), "errors": len(errors), "seconds": round(wall, 2),
            "rps": round(len(lat) / wall, 1), "p50_ms": round(q(0.50), 1), "p90_ms": round(q(0.90), 1),
            "p99_ms": round(q(0.99), 1), "max_ms": round(lat[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--requests", type=int, default=40_000, help="requests in the measured run (bounded)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` ends the server too (finally below)

    from negah.api import keys as K
    from negah.store import open_store

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
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
        # the service warms its cache itself at start-up (each worker process has its own):
        # ask each endpoint until it answers fast 10 times per worker in a row; the first
        # answer's time is reported ("cold_s": it includes waiting for the warmer)
        cold: dict[str, float] = {}
        t_warm = time.perf_counter()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=1800) as hc:
            for url in ENDPOINTS:
                fast = 0
                for _ in range(400):
                    t = time.perf_counter()
                    r = hc.get(url, headers={"Connection": "close"})
                    dt = time.perf_counter() - t
                    cold.setdefault(url, round(dt, 3))
                    assert r.status_code == 200, r.text
                    fast = fast + 1 if dt < 0.2 else 0
                    if fast >= 10 * args.workers:
                        break
        warm_s = time.perf_counter() - t_warm
        load_before = os.getloadavg()
        result = asyncio.run(run_load(port, key, args.concurrency, args.requests))
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(20)
    print(json.dumps({"orders": args.orders, "workers": args.workers, "concurrency": args.concurrency,
                      "cpus": os.cpu_count(), "store_build_s": round(build_s, 1), "warm_s": round(warm_s, 1),
                      "cold_s": cold, "loadavg_before": [round(x, 2) for x in load_before],
                      "loadavg_after": [round(x, 2) for x in load_after], **result}, indent=1))


if __name__ == "__main__":
    main()
