"""Load test of `negah serve` on loopback: concurrent clients against the dashboard's JSON
endpoints; reports warm-up time (where it goes), throughput and latency percentiles.

    .venv/bin/python bench/serve.py --orders 10000000 --concurrency 200 --requests 40000 --workers 2

1. Builds (once, cached under bench/out/) a store of about N order lines: by default a whole
   synthetic business from ``negah synth --orders N --seed 1`` (``--data uniform``: orders
   only).
2. Cold start: removes the service's shared answers (``<store>.negah/cache``; keep them with
   ``--keep-cache``), starts the service (`negah serve` with W uvicorn workers) in a
   subprocess on 127.0.0.1 and waits until every endpoint answers fast from every worker
   (the workers warm the dashboard themselves, sharing the work). Reports ``warm_s`` and
   ``warm_breakdown``: each answer and shared intermediate (metric records, RFM and at-risk
   tables) the workers computed, with its seconds, from the cache's timings.jsonl.
3. Restart: stops the service and starts it again on the same store: ``restart_warm_s``
   is how long the warm-up takes when every answer is on disk already.
4. Load: R requests over C concurrent keep-alive connections from a raw asyncio loopback
   client, round-robin over the dashboard's JSON endpoints (both languages) and
   /api/store, asking for gzip like a browser.

Results (with os.getloadavg() and the CPU seconds of the service's processes) go to stdout
as JSON; progress to stderr; the service's own log to bench/out/serve.log.
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
ENDPOINTS = (
    [f"/api/dashboard/{p}" for p in PAGES] + [f"/api/dashboard/{p}?calendar=jalali" for p in PAGES] + ["/api/store"]
)


def build_store(n: int, data: str = "synth") -> Path:
    """A DuckDB store with about ``n`` order lines, built once under bench/out/.

    ``synth`` (default): ``negah synth --orders N --seed 1`` — a whole business (customers,
    subscriptions, NPS answers, complaints, contacts, campaigns, spend) with a BG/NBD-like
    purchase and dropout process, imported with ``negah import``: every page does its real
    work. ``uniform``: orders only, customers buying on uniformly random days (no dropout:
    the BTYD models cannot fit them, so the CLV and at-risk pages say so)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / (f"serve_{n}.duckdb" if data == "uniform" else f"serve_synth_{n}.duckdb")
    if path.exists():
        return path
    if data == "synth":
        folder = OUT / f"serve_synth_{n}"
        negah = [sys.executable, "-m", "negah"]
        if not (folder / "orders.parquet").exists():
            subprocess.run(
                negah + ["synth", str(folder), "--orders", str(n), "--seed", "1", "--format", "parquet"],
                check=True,
                stdout=sys.stderr,
            )
        tmp = path.with_suffix(".tmp.duckdb")
        tmp.unlink(missing_ok=True)
        subprocess.run(negah + ["import", str(folder), "--store", str(tmp), "-q"], check=True, stdout=sys.stderr)
        tmp.rename(path)
        return path
    import duckdb

    from negah.store import open_store

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


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its children (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        pids += [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return round(total, 1)


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
    request = (
        b"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + key.encode()
        + b"\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\n\r\n"
    )
    jobs = [ENDPOINTS[i % len(ENDPOINTS)].encode() for i in range(total)]
    lat: list[float] = []
    errors: list[int] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(_one_connection(port, request, jobs, lat, errors) for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    return {
        "requests": len(lat),
        "errors": len(errors),
        "seconds": round(wall, 2),
        "rps": round(len(lat) / wall, 1),
        "p50_ms": round(q(0.50), 1),
        "p90_ms": round(q(0.90), 1),
        "p99_ms": round(q(0.99), 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1),
    }


LOG = OUT / "serve.log"


def start(path: Path, port: int, workers: int) -> subprocess.Popen:
    """`negah serve` in a subprocess, its stderr appended to bench/out/serve.log."""
    code = f"from negah.api.app import run; run({str(path)!r}, '127.0.0.1', {port}, workers={workers})"
    with open(LOG, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=log)
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"negah serve did not start: see {LOG}")


def stop(proc: subprocess.Popen) -> None:
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_warm(port: int, key: str, workers: int, limit: float) -> tuple[float, dict[str, float]]:
    """Ask every endpoint on new connections until it answers fast 10 times per worker in a
    row; (seconds, first answer's seconds per endpoint)."""
    import httpx

    cold: dict[str, float] = {}
    t0 = time.perf_counter()
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=limit
    ) as hc:
        for url in ENDPOINTS:
            fast = 0
            while fast < 10 * workers:
                if time.perf_counter() - t0 > limit:
                    raise TimeoutError(f"not warm after {limit:.0f} s (at {url})")
                t = time.perf_counter()
                r = hc.get(url, headers={"Connection": "close"})
                dt = time.perf_counter() - t
                if url not in cold:
                    cold[url] = round(dt, 3)
                    say(f"{url}: first answer after {dt:.1f} s")
                assert r.status_code == 200, r.text
                fast = fast + 1 if dt < 0.2 else 0
    return time.perf_counter() - t0, cold


def breakdown(path: Path) -> list[dict]:
    """What the workers computed while warming, longest first (the shared cache's timings)."""
    rows = []
    for f in (Path(str(path) + ".negah") / "cache").glob("*/timings.jsonl"):
        rows += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    rows.sort(key=lambda r: -r["seconds"])
    return [{"key": r["key"], "seconds": r["seconds"], "pid": r["pid"]} for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--requests", type=int, default=40_000, help="requests in the measured run (bounded)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--data",
        choices=["synth", "uniform"],
        default="synth",
        help="synth: a whole business from negah synth (default); uniform: orders only",
    )
    ap.add_argument("--keep-cache", action="store_true", help="keep the shared answers of an earlier run")
    ap.add_argument("--warm-limit", type=float, default=3600, help="seconds allowed for warming")
    args = ap.parse_args()
    import shutil
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
    path = build_store(args.orders, args.data)
    build_s = time.perf_counter() - t0
    with open_store(str(path)) as s:
        key = K.create_key(s.con.con, "viewer", name="bench", expires="1d")[0]
    if not args.keep_cache:
        shutil.rmtree(Path(str(path) + ".negah") / "cache", ignore_errors=True)
    port = free_port()
    say(f"store {path} ({args.orders:,} order lines); starting {args.workers} worker(s), cold")
    proc = start(path, port, args.workers)
    try:
        warm_s, cold = wait_warm(port, key, args.workers, args.warm_limit)
        warm_cpu = tree_cpu(proc.pid)
        say(f"warm after {warm_s:.1f} s ({warm_cpu} CPU s); restarting")
    finally:
        stop(proc)
    proc = start(path, port, args.workers)
    try:
        restart_s, _ = wait_warm(port, key, args.workers, args.warm_limit)
        say(
            f"warm again after a restart in {restart_s:.1f} s; load: {args.requests:,} requests, "
            f"{args.concurrency} connections"
        )
        load_before = os.getloadavg()
        cpu_before = tree_cpu(proc.pid)
        result = asyncio.run(run_load(port, key, args.concurrency, args.requests))
        load_after = os.getloadavg()
        load_cpu = round(tree_cpu(proc.pid) - cpu_before, 1)
    finally:
        stop(proc)
    print(
        json.dumps(
            {
                "orders": args.orders,
                "data": args.data,
                "workers": args.workers,
                "concurrency": args.concurrency,
                "cpus": os.cpu_count(),
                "store_build_s": round(build_s, 1),
                "warm_s": round(warm_s, 1),
                "warm_cpu_s": warm_cpu,
                "restart_warm_s": round(restart_s, 1),
                "cold_s": cold,
                "warm_breakdown": breakdown(path),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in load_after],
                "service_cpu_s_during_load": load_cpu,
                **result,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
