"""Benchmark of the metrics engine (run on demand; results in docs/performance.md).

    .venv/bin/python bench/metrics.py --rows 10000000 100000000 --synth --cli [--table] [--pandas-max N]

For each size it writes synthetic orders into bench/out/ (kept between runs), then times,
each in its own child process (so that every figure has its own CPU time and peak memory):

* ``engine``: all default metrics, monthly, computed by negah on DuckDB reading the
  Parquet file in place (a view over ``read_parquet``, no validation); ``engine_s`` is
  the computation alone (``compute_records``), as is ``pandas_s`` for pandas;
* ``engine_table`` (``--table``): the same on a DuckDB table already in memory (loading
  the table is not timed);
* ``cli``: the whole ``negah metrics --data DIR --format json`` command (start-up and the
  validation of the folder included), with ``--cli``; ``DIR`` holds only
  ``orders.parquet``, so the command computes what pandas computes;
* ``pandas`` (sizes up to ``--pandas-max``, default 10M): a straightforward pandas
  implementation of the same definitions (per period Python set operations over the
  active customers); its churn rates are checked against the engine's.

Every line reports wall seconds (``*_s``), CPU seconds of the child (``*_cpu_s``, user +
system), its peak resident memory (``*_peak_gb``) and ``os.getloadavg()`` before and after
(``load_before``/``load_after``) and the CPU seconds stolen by the hypervisor meanwhile
(``steal_s``, from /proc/stat): the machine may be shared, so compare figures measured
in the same run. One command gives the 100M-row case and the 10M-row pandas comparison:

    .venv/bin/python bench/metrics.py --rows 10000000 100000000 --synth --cli

Data: with ``--synth``, ``negah synth OUT --orders N --seed 1 --format parquet`` (order
lines with ``order_id``, ``kind``, returns under the order; 100M rows take 1.6 GB of
disk and a few minutes to write, once); without, a vectorised numpy generator (fixed
seed, one line per order, ~4% return lines, exact row count).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "out"


def generate(n: int, path: Path, seed: int = 1) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    rng = np.random.default_rng(seed)
    n_cust = max(1, n // 12)
    # customers differ in activity: a skewed choice of who buys
    cust = (rng.pareto(1.5, n) * n_cust / 8).astype(np.int64) % n_cust
    start = np.datetime64("2022-01-01")
    day = start + rng.integers(0, 730, n).astype("timedelta64[D]")
    amount = np.round(rng.gamma(2.0, 25.0, n), 2)
    ret = rng.random(n) < 0.04
    amount[ret] = -amount[ret]
    qty = rng.integers(1, 4, n)
    qty[ret] = -qty[ret]
    ids = np.char.add("c", np.char.zfill(cust.astype(str), 8))
    table = pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "order_date": pa.array(day.astype("datetime64[D]"), pa.date32()),
            "amount": pa.array(amount, pa.float64()).cast(pa.decimal128(18, 4)),
            "quantity": pa.array(qty, pa.int64()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=1_000_000)


def synth(n: int, folder: Path) -> Path:
    """``negah synth`` data (orders only are used) and a folder holding just the orders."""
    data = OUT / f"synth_{n}"
    if not (data / "orders.parquet").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "negah",
                "synth",
                str(data),
                "--orders",
                str(n),
                "--seed",
                "1",
                "--format",
                "parquet",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "orders.parquet"
    if not link.exists():
        link.symlink_to((data / "orders.parquet").resolve())
    return link


def engine_time(path: Path, table: bool = False) -> tuple[float, list]:
    import duckdb
    import ibis

    from negah.metrics.engine import compute_records
    from negah.store.connect import Store

    raw = duckdb.connect(":memory:")
    raw.execute("SET enable_progress_bar = false")  # stdout carries the child's result
    kind = "TABLE" if table else "VIEW"
    raw.execute(f"CREATE {kind} orders AS SELECT * FROM read_parquet('{path}')")
    store = Store(ibis.duckdb.from_connection(raw), "duckdb", str(path), read_only=True)
    if not table:  # a view reading the file's columns unchanged: customer chunks may apply
        cols = [r[0] for r in raw.execute("DESCRIBE orders").fetchall()]
        store.parquet["orders"] = ([str(path)], {c: c for c in cols})
    t0 = time.perf_counter()
    recs = compute_records(store, period="month")
    return time.perf_counter() - t0, recs


def child(args: list[str]) -> dict:
    """Run ``args`` as a child process: wall and CPU seconds, peak memory, its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed with exit code {proc.returncode}")
    return {
        "s": round(wall, 2),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
        "peak_gb": round(ru.ru_maxrss / 2**20, 2),
        "stdout": out,
    }


def steal_s() -> float | None:
    """CPU seconds the hypervisor gave other guests so far (all CPUs, ``steal`` in
    /proc/stat), or None where there is no such line."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def measure(row: dict, name: str, args: list[str]) -> bytes:
    """Time ``args`` into ``row``: ``{name}_s`` is the child's wall time (for the engine and
    pandas children their own timing of the computation replaces it; the child's whole
    wall time is then ``{name}_child_s``)."""
    load = [round(x, 2) for x in os.getloadavg()]
    st0 = steal_s()
    r = child(args)
    st1 = steal_s()
    row.update(
        {
            f"{name}_s": r["s"],
            f"{name}_cpu_s": r["cpu_s"],
            f"{name}_peak_gb": r["peak_gb"],
            f"{name}_load_before": load,
            f"{name}_load_after": [round(x, 2) for x in os.getloadavg()],
            f"{name}_steal_s": None if st0 is None or st1 is None else round(st1 - st0, 1),
        }
    )
    if name != "cli":
        inner = json.loads(r["stdout"])
        row[f"{name}_child_s"] = r["s"]
        row[f"{name}_s"] = round(inner["s"], 2)
    return r["stdout"]


def pandas_metrics(path: Path) -> tuple[float, pd.DataFrame]:
    """A straightforward pandas implementation of the spec's default order metrics."""
    t0 = time.perf_counter()
    df = pd.read_parquet(path)
    df["amount"] = df["amount"].astype(float)
    ret = (df.amount < 0) | (df.quantity < 0)
    if "kind" in df.columns:
        ret |= df["kind"].fillna("").str.strip().str.lower() == "return"
    df["amount"] = np.where(ret, -df.amount.abs(), df.amount)
    df["units"] = df.quantity.abs()
    df["ret"] = ret
    df["p"] = pd.to_datetime(df.order_date).dt.to_period("M")
    pur = df[~ret]
    if "order_id" in df.columns:
        # an order's date is the earliest date of its purchase lines
        first_day = pur.groupby(["customer_id", "order_id"]).order_date.min().reset_index()
        first_day["p"] = pd.to_datetime(first_day.order_date).dt.to_period("M")
        orders_cp = first_day.groupby(["customer_id", "p"]).size().rename("n").reset_index()
    else:
        orders_cp = pur.groupby(["customer_id", "p"]).size().rename("n").reset_index()
    first = orders_cp.groupby("customer_id").p.min().rename("first")
    orders_cp = orders_cp.join(first, on="customer_id")
    rev = df.groupby(["customer_id", "p"]).amount.sum()
    periods = pd.period_range(df.p.min(), df.p.max(), freq="M")
    active = {p: set() for p in periods}
    for p, g in orders_cp.groupby("p"):
        active[p] = set(g.customer_id)
    out = []
    prev = None
    days = pur[["customer_id", "order_date"]].drop_duplicates().sort_values(["customer_id", "order_date"])
    days["gap"] = (
        days.groupby("customer_id").order_date.diff().dt.days
        if hasattr(days.order_date, "dt")
        else (pd.to_datetime(days.order_date).groupby(days.customer_id).diff().dt.days)
    )
    days["p"] = pd.to_datetime(days.order_date).dt.to_period("M")
    gm = days.dropna(subset=["gap"]).groupby(["p", "customer_id"]).gap.mean().groupby("p").agg(["sum", "count"])
    units = df.groupby(["p", "ret"]).units.sum().unstack(fill_value=0)
    revenue = df.groupby("p").amount.sum()
    revd = rev.to_dict()
    for p in periods:
        a = active[p]
        cp = orders_cp[orders_cp.p == p]
        n = set(cp.customer_id[cp["first"] == p])
        rep = int(((cp.n - (cp["first"] == p)) >= 1).sum())
        ln = int(((cp["first"] == p) & (cp.n >= 2)).sum())
        rec = {"p": str(p), "A": len(a), "N": len(n), "repeat": rep / len(a) if a else None}
        if prev is not None:
            s = active[prev]
            c = s - a
            r0 = sum(revd.get((x, prev), 0.0) for x in s)
            kept = sum(revd.get((x, p), 0.0) for x in s)
            lost = sum(max(0.0, revd.get((x, prev), 0.0) - revd.get((x, p), 0.0)) for x in s)
            rec.update(
                churn=len(c) / len(s) if s else None,
                S=len(s),
                gross=lost / r0 if r0 else None,
                net=(r0 - kept) / r0 if r0 else None,
                loyal=(len(s & a) + ln) / (len(s) + len(n)) if (s or n) else None,
                growth=(len(a) - len(s)) / len(s) if s else None,
            )
        sold = units.loc[p, False] if p in units.index else 0
        rec["returns"] = (units.loc[p, True] / sold) if sold else None
        rec["tbp"] = gm.loc[p, "sum"] / gm.loc[p, "count"] if p in gm.index else None
        rec["arpu"] = revenue.get(p, 0.0) / len(a) if a else None
        out.append(rec)
        prev = p
    return time.perf_counter() - t0, pd.DataFrame(out)


def _inner(args: argparse.Namespace) -> None:
    """The measured work of one child process; prints its result as JSON."""
    path = Path(args.path)
    if args.inner == "pandas":
        tp, pdf = pandas_metrics(path)
        print(json.dumps({"s": tp, "churn": [None if v != v else v for v in pdf["churn"].tolist()]}))
    else:
        te, recs = engine_time(path, table=args.inner == "table")
        print(
            json.dumps(
                {"s": te, "records": len(recs), "churn": [r["value"] for r in recs if r["metric"] == "churn_rate"]}
            )
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--pandas-max", type=int, default=10_000_000, help="largest size also timed with pandas")
    ap.add_argument("--synth", action="store_true", help="use negah synth data (order lines with order_id and kind)")
    ap.add_argument("--cli", action="store_true", help="also time the whole CLI command on a --data folder")
    ap.add_argument("--table", action="store_true", help="also time the engine on an in-memory DuckDB table")
    ap.add_argument("--inner", choices=["view", "table", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        _inner(args)
        return
    me = [sys.executable, str(Path(__file__).resolve())]
    negah = [sys.executable, "-m", "negah"]
    results = []
    for n in args.rows:
        t0 = time.perf_counter()
        if args.synth:
            folder = OUT / f"metrics_synth_{n}"
            path = synth(n, folder)
        else:
            folder = OUT / f"metrics_{n}"
            path = folder / "orders.parquet"
            generate(n, path)
        row: dict = {
            "rows": n,
            "data": "synth" if args.synth else "numpy",
            "generate_s": round(time.perf_counter() - t0, 1),
        }
        eng = json.loads(measure(row, "engine", me + ["--inner", "view", "--path", str(path)]))
        row["records"] = eng["records"]
        if args.table:
            measure(row, "engine_table", me + ["--inner", "table", "--path", str(path)])
        if args.cli:
            out = measure(row, "cli", negah + ["metrics", "--data", str(folder), "--format", "json"])
            churn = [r["value"] for r in json.loads(out) if r["metric"] == "churn_rate"]
            assert churn == eng["churn"], "the command and the engine disagree"
        if n <= args.pandas_max:
            pdres = json.loads(measure(row, "pandas", me + ["--inner", "pandas", "--path", str(path)]))
            row["speedup_engine"] = round(row["pandas_s"] / row["engine_s"], 1)
            if "cli_s" in row:
                row["speedup_cli"] = round(row["pandas_s"] / row["cli_s"], 1)
            # sanity: churn agrees with the engine
            for a, b in zip(eng["churn"][1:], pdres["churn"][1:]):
                assert a is None or abs(a - b) < 1e-9, "churn differs from pandas"
        print(json.dumps(row), flush=True)
        results.append(row)
    print(json.dumps({"cores": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
