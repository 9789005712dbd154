"""Benchmark: negah's BG/NBD and Pareto/NBD fits against lifetimes and PyMC-Marketing (MAP).

Data: simulated with negah's own samplers from the CDNOW parameters (BG/NBD: r 0.243,
alpha 4.414, a 0.793, b 2.426; Pareto/NBD: r 0.553, alpha 10.578, s 0.606, beta 11.669);
customers acquired over 13 weeks and observed to week 52, on a daily grid as a transaction
log gives it (recency and T in weeks = days / 7).

The competitors run in their own environments, outside the project's extras:

    python3.11 -m venv /tmp/bench-lifetimes
    /tmp/bench-lifetimes/bin/pip install lifetimes==0.11.3 pandas==1.5.3 numpy==1.26.4 scipy==1.11.4
    ~/.pyenv/versions/3.12.1/bin/python -m venv /tmp/bench-pymc
    /tmp/bench-pymc/bin/pip install pymc-marketing==1.3.0

Run (one run, all tools):

    .venv/bin/python bench/btyd.py > bench/out/btyd.jsonl   # lifetimes Pareto/NBD at 100k (as in the issue)
    .venv/bin/python bench/btyd.py --full     # also lifetimes Pareto/NBD at 1M (minutes)

A missing environment is reported as skipped, never faked. Every output row carries the
1-minute load average when it was written (``loadavg_1m``): on a shared machine absolute
times are inflated, and the ratios between tools measured in the same run are the numbers
to compare. negah is warmed up on 2,000 rows first so that its timing, like the
competitors', excludes imports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

LIFETIMES = Path("/tmp/bench-lifetimes/bin/python")
PYMC = Path("/tmp/bench-pymc/bin/python")
BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def simulate(model: str, n: int, seed: int = 1):
    from negah.models import bgnbd, paretonbd

    rng = np.random.default_rng(seed)
    T_days = 364 - rng.integers(0, 91, n)
    T = T_days / 7.0
    mod, params = (bgnbd, BG) if model == "bgnbd" else (paretonbd, PNBD)
    d = mod.sample(n, T, seed=seed + 1, **params)
    x = d["frequency"].to_numpy()
    tx_days = np.minimum(np.floor(d["recency"].to_numpy() * 7.0), T_days)
    tx = np.where(x > 0, tx_days / 7.0, 0.0)
    return x, tx, T


def time_negah(model: str, x, tx, T):
    from negah.models import BGNBD, ParetoNBD

    cls = BGNBD if model == "bgnbd" else ParetoNBD
    # warm-up on 2,000 rows so that imports (scipy.optimize, pandas) are not timed,
    # as they are not in the competitors' timings either
    cls().fit(x[:2000], tx[:2000], T[:2000])
    t0 = time.perf_counter()
    m = cls().fit(x, tx, T)
    dt = time.perf_counter() - t0
    return dt, m.params_, m.log_likelihood_, m.n_rows_


LIFETIMES_SCRIPT = r"""
import sys, time, json, numpy as np, warnings
warnings.filterwarnings("ignore")
from lifetimes import BetaGeoFitter, ParetoNBDFitter
model, path = sys.argv[1], sys.argv[2]
d = np.load(path)
cls = BetaGeoFitter if model == "bgnbd" else ParetoNBDFitter
f = cls()
t0 = time.perf_counter()
f.fit(d["x"], d["tx"], d["T"])
dt = time.perf_counter() - t0
p = dict(f.params_)
if model == "bgnbd":
    out = {"r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"]}
else:
    out = {"r": p["r"], "alpha": p["alpha"], "s": p["s"], "beta": p["beta"]}
print(json.dumps({"seconds": dt, "params": out}))
"""

PYMC_SCRIPT = r"""
import sys, time, json, numpy as np, pandas as pd, warnings
warnings.filterwarnings("ignore")
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel
path = sys.argv[1]
d = np.load(path)
df = pd.DataFrame({"customer_id": np.arange(len(d["x"])), "frequency": d["x"], "recency": d["tx"], "T": d["T"]})
cfg = {k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")}
m = BetaGeoModel(model_config=cfg)
t0 = time.perf_counter()
m.fit(df, method="map")
dt = time.perf_counter() - t0
post = m.fit_result
out = {k: float(np.asarray(post[k]).reshape(-1)[0]) for k in ("r", "alpha", "a", "b")}
print(json.dumps({"seconds": dt, "params": out}))
"""


def run_external(python: Path, script: str, args: list[str], timeout: float = 3600) -> dict:
    if not python.exists():
        return {"skipped": f"{python} not found (see the module docstring to create it)"}
    res = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        return {"skipped": "failed: " + res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def sig3(d: dict) -> dict:
    return {k: float(f"{v:.3g}") for k, v in d.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also lifetimes Pareto/NBD at 1M customers")
    ap.add_argument("--skip-10m", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="negah-bench-"))
    results = []
    print(json.dumps({"start": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg": [round(v, 2) for v in os.getloadavg()],
                      "cpus": os.cpu_count()}), flush=True)

    def report(row):
        row["loadavg_1m"] = round(os.getloadavg()[0], 2)
        results.append(row)
        print(json.dumps(row), flush=True)

    plan = [("bgnbd", 1_000_000, ["lifetimes", "pymc"]), ("paretonbd", 100_000, ["lifetimes"]),
            ("paretonbd", 1_000_000, ["lifetimes"] if args.full else [])]
    for model, n, others in plan:
        x, tx, T = simulate(model, n)
        path = tmp / f"{model}_{n}.npz"
        np.savez(path, x=x, tx=tx, T=T)
        dt, p, ll, rows = time_negah(model, x, tx, T)
        report({"tool": "negah", "model": model, "n": n, "seconds": round(dt, 3), "distinct_rows": rows,
                "params": sig3(p), "log_likelihood": round(ll, 2)})
        if "lifetimes" in others:
            r = run_external(LIFETIMES, LIFETIMES_SCRIPT, [model, str(path)])
            if "params" in r:
                r["params"] = sig3(r["params"])
                r["speedup_negah"] = round(r["seconds"] / dt, 1)
                r["same_params_3sig"] = r["params"] == sig3(p)
            report({"tool": "lifetimes 0.11.3", "model": model, "n": n, **r})
        if "pymc" in others:
            r = run_external(PYMC, PYMC_SCRIPT, [str(path)])
            if "params" in r:
                r["params"] = sig3(r["params"])
                r["speedup_negah"] = round(r["seconds"] / dt, 1)
                r["same_params_3sig"] = r["params"] == sig3(p)
            report({"tool": "pymc-marketing 1.3.0 (MAP, flat priors)", "model": model, "n": n, **r})
    if not args.skip_10m:
        for model in ("bgnbd", "paretonbd"):
            x, tx, T = simulate(model, 10_000_000)
            dt, p, ll, rows = time_negah(model, x, tx, T)
            report({"tool": "negah", "model": model, "n": 10_000_000, "seconds": round(dt, 3), "distinct_rows": rows,
                    "params": sig3(p), "log_likelihood": round(ll, 2)})


if __name__ == "__main__":
    main()
