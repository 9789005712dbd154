"""Bias and interval coverage of ``evaluate_program`` on ``negah synth`` data (a study, run on demand).

    .venv/bin/python bench/program_study.py                          # 20 seeds x 4,000 customers, 200 resamples
    .venv/bin/python bench/program_study.py --customers 4000 --seeds 1-20 --bootstrap 200

For each seed: ``negah synth bench/out/program_study/c<N>_s<seed> --customers N --seed <seed>``
(kept between runs), then ``evaluate_program(folder, bootstrap=B, seed=0)`` — the default
loyalty program of the synthetic shop, customers.loyalty_joined — against the planted truth
of ``ground_truth.json``:

* ``alive_at_end`` against ``loyalty.effect_on_treated_alive_at_end`` (members alive at the
  end minus the same members without the program, common random numbers);
* ``retained_180d`` against ``loyalty.effect_on_treated_retained_180d`` (bought again within
  180 days after joining, members who joined at least 180 days before the end).

One JSON line per seed on stdout, then the summary per outcome: bias (mean of estimate −
truth) with its standard error, the SD and RMSE of the error, the coverage of the reported
interval and its mean width, the CPU time per seed. BLAS runs on one thread (as in negah's
own fits). On a busy machine the numbers are the same; only the time changes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "program_study"
OUTCOMES = {"alive_at_end": "effect_on_treated_alive_at_end", "retained_180d": "effect_on_treated_retained_180d"}


def seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=4000)
    ap.add_argument("--seeds", default="1-20", help="e.g. 1-20 or 1,5,9")
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    import numpy as np
    from threadpoolctl import threadpool_limits

    from negah.actions.programs import evaluate_program
    from negah.synth import generate

    rows = []
    for s in seeds(args.seeds):
        folder = args.out / f"c{args.customers}_s{s}"
        if not (folder / "ground_truth.json").exists():
            generate(folder, customers=args.customers, seed=s, fmt="parquet", progress=False)
        truth = json.loads((folder / "ground_truth.json").read_text())["loyalty"]
        c0 = time.process_time()
        with threadpool_limits(1, "blas"):
            rep = evaluate_program(folder, bootstrap=args.bootstrap, seed=0)
        cpu = time.process_time() - c0
        eff = rep.effects.set_index("outcome")
        rec = {"seed": s, "cpu_s": round(cpu, 2)}
        for k, t in OUTCOMES.items():
            if k not in eff.index or t not in truth:
                continue
            e = eff.loc[k]
            rec[k] = {
                "truth": truth[t],
                "effect": round(float(e["effect"]), 6),
                "low": round(float(e["low"]), 6),
                "high": round(float(e["high"]), 6),
            }
        rec["naive_alive_at_end"] = truth.get("naive_difference_alive_at_end")
        rows.append(rec)
        print(json.dumps(rec), flush=True)

    print(f"\n{len(rows)} seeds x {args.customers:,} customers, {args.bootstrap} bootstrap resamples", file=sys.stderr)
    for k in OUTCOMES:
        r = [x[k] for x in rows if k in x]
        if not r:
            continue
        err = np.array([x["effect"] - x["truth"] for x in r])
        cover = np.mean([x["low"] <= x["truth"] <= x["high"] for x in r])
        width = np.mean([x["high"] - x["low"] for x in r])
        summary = {
            "outcome": k,
            "seeds": len(r),
            "mean_truth": round(float(np.mean([x["truth"] for x in r])), 4),
            "bias": round(float(err.mean()), 4),
            "bias_se": round(float(err.std(ddof=1) / np.sqrt(len(r))), 4),
            "sd": round(float(err.std(ddof=1)), 4),
            "rmse": round(float(np.sqrt(np.mean(err**2))), 4),
            "coverage": round(float(cover), 3),
            "mean_width": round(float(width), 4),
            "cpu_s_per_seed": round(float(np.mean([x["cpu_s"] for x in rows])), 1),
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
