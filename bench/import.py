"""Import throughput: rows/s for CSV and Parquet imports into an embedded store.

Usage:  .venv/bin/python bench/import.py [--rows 10000000] [--out bench/out]

Writes a canonical orders file of N rows (customer_id, order_date, amount, quantity,
product_id) in both formats with DuckDB, then times `negah.import_files` into a fresh
DuckDB store for each (validation included). Prints one JSON line per format.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import duckdb

from negah.store import open_store
from negah.store.ingest import import_files


def make_files(out: Path, rows: int) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    base = out / f"orders_{rows}"
    files = {"csv": base.with_suffix(".csv"), "parquet": base.with_suffix(".parquet")}
    sql = (
        f"SELECT 'c' || (i % {max(rows // 8, 1)}) AS customer_id, "
        "DATE '2022-01-01' + CAST(i % 730 AS INTEGER) AS order_date, "
        "CAST(((i * 7919) % 20000) / 100.0 AS DECIMAL(18,2)) AS amount, "
        "CAST(1 + i % 3 AS INTEGER) AS quantity, 'p' || (i % 500) AS product_id "
        f"FROM range({rows}) t(i)"
    )
    if not files["csv"].exists():
        duckdb.sql(f"COPY ({sql}) TO '{files['csv']}' (HEADER)")
    if not files["parquet"].exists():
        duckdb.sql(f"COPY ({sql}) TO '{files['parquet']}' (FORMAT parquet)")
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", default="bench/out")
    args = ap.parse_args()
    files = make_files(Path(args.out), args.rows)
    for fmt, path in files.items():
        store_path = Path(args.out) / f"import_{fmt}.duckdb"
        for p in (store_path, Path(str(store_path) + ".wal")):
            if p.exists():
                p.unlink()
        with open_store(store_path) as s:
            t0 = time.perf_counter()
            rep = import_files(s, [path], table="orders")
            dt = time.perf_counter() - t0
        print(
            json.dumps(
                {
                    "format": fmt,
                    "rows": rep[0].rows,
                    "seconds": round(dt, 2),
                    "rows_per_s": int(rep[0].rows / dt),
                    "cores": os.cpu_count(),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                    "python": platform.python_version(),
                    "duckdb": duckdb.__version__,
                }
            )
        )


if __name__ == "__main__":
    main()
