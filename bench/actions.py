"""Benchmark of the action lists: at-risk, segments, reasons and contact-plan on a store of N
synthetic customers (run on demand; the lead writes the numbers into docs/performance.md).

    .venv/bin/python bench/actions.py --customers 1000000                 # all four, store in bench/out/
    .venv/bin/python bench/actions.py --customers 100000 1000000 --only at-risk segments
    .venv/bin/python bench/actions.py --customers 1000000 --cli          # also the whole CLI commands
    .venv/bin/python bench/actions.py --customers 100000 1000000 --only evaluate-program   # 20 resamples

Data: ``negah synth bench/out/actions_N --customers N --seed 0 --format parquet`` (about 8.4
order lines per customer), imported once into ``bench/out/actions_N.duckdb`` (both kept
between runs). Each measurement runs in its own Python process: the library call on the
store (``at_risk(store, model="btyd")``, ``rfm(store)``, ``analyse(store)``,
``contact_plan(store)``; with ``--only evaluate-program``, ``evaluate_program(store,
bootstrap=20)``), after the imports, reporting wall time, the process's CPU time
(user + system, DuckDB's threads included) and its peak resident memory. With ``--cli``
the whole command (``negah actions at-risk --store S --format csv`` …, start-up included)
is timed as a child process. One JSON line per measurement, with the 1-minute load average
when it was taken: on a shared machine compare CPU times, or wall times from an idle run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
ACTIONS = {
    "at-risk": ("negah.actions.at_risk:at_risk", {"model": "btyd"}, ["actions", "at-risk", "--model", "btyd"]),
    "segments": ("negah.actions.segments:rfm", {}, ["segments"]),
    "reasons": ("negah.actions.reasons:analyse", {}, ["reasons"]),
    "contact-plan": ("negah.actions.contact:contact_plan", {}, ["contact-plan"]),
    # not in the default set: run it with --only evaluate-program
    "evaluate-program": (
        "negah.actions.programs:evaluate_program",
        {"bootstrap": 20},
        ["evaluate-program", "--bootstrap", "20"],
    ),
}
DEFAULT = ["at-risk", "segments", "reasons", "contact-plan"]

CHILD = r"""
import importlib, json, resource, sys, time
from negah.store import open_store
target, kw, store = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
mod, fn = target.split(":")
f = getattr(importlib.import_module(mod), fn)
import negah.actions.segments, negah.actions.contact, negah.models.bgnbd, negah.models.gammagamma, scipy.stats  # noqa
import negah.actions.programs, negah.actions.program_model, sklearn.linear_model, lifelines.statistics  # noqa
s = open_store(store, read_only=True)
c0, w0 = time.process_time(), time.perf_counter()
out = f(s, **kw)
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
rows = len(out) if hasattr(out, "__len__") else len(out.effects) if hasattr(out, "effects") else len(out.spikes)
print(json.dumps({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "rows": rows,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def python() -> str:
    return sys.executable


def negah_cmd() -> list[str]:
    return [python(), "-m", "negah"]


def store_for(n: int) -> Path:
    data, store = OUT / f"actions_{n}", OUT / f"actions_{n}.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if not (data / "orders.parquet").exists():
        print(f"# negah synth {data} --customers {n}", file=sys.stderr)
        subprocess.run(
            negah_cmd()
            + ["synth", str(data), "--customers", str(n), "--seed", "0", "--format", "parquet", "--no-progress"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    if not store.exists():
        print(f"# negah import {data} --store {store}", file=sys.stderr)
        subprocess.run(
            negah_cmd() + ["import", str(data), "--store", str(store)], check=True, stdout=subprocess.DEVNULL, env=env
        )
    return store


def library(name: str, store: Path) -> dict:
    target, kw, _ = ACTIONS[name]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run(
        [python(), "-c", CHILD, target, json.dumps(kw), str(store)], check=True, capture_output=True, text=True, env=env
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def cli(name: str, store: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    fmt = ["--format", "json"] if name == "reasons" else ["--format", "csv"]
    subprocess.run(
        negah_cmd() + ACTIONS[name][2] + ["--store", str(store)] + fmt,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(time.perf_counter() - w0, 3), "cpu_s": round(cpu, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--only", nargs="+", choices=sorted(ACTIONS), default=DEFAULT)
    ap.add_argument("--cli", action="store_true", help="also time the whole CLI commands")
    ap.add_argument("--repeat", type=int, default=1, help="measurements per action (the lowest counts)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for n in args.customers:
        store = store_for(n)
        for name in args.only:
            for _ in range(args.repeat):
                row = {"customers": n, "action": name, "how": "library", **library(name, store)}
                row["loadavg_1m"] = round(os.getloadavg()[0], 2)
                print(json.dumps(row), flush=True)
                if args.cli:
                    row = {"customers": n, "action": name, "how": "cli", **cli(name, store)}
                    row["loadavg_1m"] = round(os.getloadavg()[0], 2)
                    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
