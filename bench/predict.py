"""Benchmarks of churn prediction: snapshot mode, train on 1M customers, score 10M.

Each stage runs in its own process and reports wall seconds, CPU seconds (user + system,
all threads), that process's peak resident memory (ru_maxrss) and the load average before
and after; ``all`` runs make, train and score in a row (one JSON line each, then a table
on stderr). On the idle 2-core machine:

    .venv/bin/python bench/predict.py all --dir /tmp/negah-bench                  # 1M train, 10M score, TreeSHAP
    .venv/bin/python bench/predict.py all --dir /tmp/negah-bench --explain path   # the faster path reasons
    .venv/bin/python bench/predict.py synth --customers 20000                     # AUC against negah synth's truth

The table is Telco-like: 12 columns (numbers, numbers stored as text, categories, Yes/No
flags, blanks), churn driven by tenure, contract, charges and complaints. Training uses
``--model lightgbm`` (three regularised settings chosen by 3-fold cross-validation on a
200,000-row sample, then the final fit on every row) so that the reasons are TreeSHAP's;
``--threads 0`` is every core. Scoring streams the Parquet file in chunks and writes CSV
(probability and three reasons per customer).
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

import numpy as np


def make_table(n: int, seed: int, path: Path, labelled: bool, chunk: int = 1_000_000) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        rng = np.random.default_rng([seed, start])
        tenure = rng.integers(0, 72, m)
        charges = rng.normal(70, 25, m).clip(15, 130).round(2)
        contract = rng.choice(np.array(["Month-to-month", "One year", "Two year"]), m, p=[0.5, 0.3, 0.2])
        internet = rng.choice(np.array(["DSL", "Fiber optic", "No"]), m, p=[0.35, 0.45, 0.2])
        paperless = rng.choice(np.array(["Yes", "No"]), m)
        complaints = rng.poisson(0.4, m)
        support_calls = rng.poisson(1.2, m)
        nps = rng.integers(0, 11, m).astype(float)
        nps[rng.random(m) < 0.3] = np.nan
        logit = (
            -0.8
            - 0.045 * tenure
            + 0.015 * (charges - 70)
            + np.where(contract == "Month-to-month", 1.6, 0.0)
            + 0.45 * complaints
            + np.where(internet == "Fiber optic", 0.4, 0.0)
            - 0.08 * np.nan_to_num(nps - 7)
        )
        churn = rng.random(m) < 1 / (1 + np.exp(-logit))
        total = (tenure * charges).round(2).astype(str)
        total[rng.random(m) < 0.01] = " "
        df = pd.DataFrame(
            {
                "customer_id": np.char.add("C", np.arange(start, start + m).astype(str)),
                "tenure": tenure,
                "MonthlyCharges": charges,
                "TotalCharges": total,
                "Contract": contract,
                "InternetService": internet,
                "PaperlessBilling": paperless,
                "Complaints": complaints,
                "SupportCalls": support_calls,
                "LastNPS": nps,
                "Region": rng.choice(np.array(["north", "south", "east", "west", "center"]), m),
                "SeniorCitizen": rng.integers(0, 2, m),
            }
        )
        if labelled:
            df["Churn"] = np.where(churn, "Yes", "No")
        t = pa.Table.from_pandas(df, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema)
        writer.write_table(t, row_group_size=250_000)
    writer.close()


def peak_mb() -> float:
    """Peak resident memory of this process, or of its largest scoring process if larger."""
    return (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        / 1024.0
    )


def cpu_s() -> float:
    """CPU seconds of this process and of its (finished) scoring processes."""
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def report(stage: str, t0: float, load0: float, **fields) -> None:
    """One JSON line: the stage, its numbers, wall and CPU seconds, peak memory, load before/after."""
    out = {
        "stage": stage,
        **fields,
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(cpu_s(), 1),
        "peak_rss_mb": round(peak_mb()),
        "cores": os.cpu_count(),
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out), flush=True)


def stage(argv: list[str]) -> dict:
    """Run one stage in a child process; returns its JSON report."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, *argv], stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"stage {argv[0]} failed (exit {out.returncode})")
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    rep["wall_s_including_start"] = round(time.perf_counter() - t, 1)
    return rep


def table(reports: list[dict]) -> str:
    lines = [
        "| stage | rows | seconds | CPU seconds | peak RSS | load before / after |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in reports:
        rows = r.get("rows") or f"{r.get('train_rows', 0):,} + {r.get('score_rows', 0):,}"
        rows = f"{rows:,}" if isinstance(rows, int) else rows
        lines.append(
            f"| {r['stage']} | {rows} | {r['seconds']} | {r['cpu_seconds']} | {r['peak_rss_mb']} MB | "
            f"{r['load_before']} / {r['load_after']} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["all", "make", "train", "score", "synth"])
    ap.add_argument("--train-rows", type=int, default=1_000_000)
    ap.add_argument("--score-rows", type=int, default=10_000_000)
    ap.add_argument("--dir", default="/tmp/negah-bench")
    ap.add_argument("--max-rounds", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=0, help="LightGBM threads (0: every core)")
    ap.add_argument("--model", default="lightgbm", help="auto, lightgbm or logistic (default lightgbm: SHAP reasons)")
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--chunk-rows", type=int, default=250_000, help="rows scored at a time")
    ap.add_argument("--workers", type=int, default=0, help="scoring processes (0: one per core; 1: in process)")
    ap.add_argument(
        "--explain",
        default="shap",
        choices=["shap", "path"],
        help="contributions behind the reasons at scoring (default shap: TreeSHAP)",
    )
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    train_path, score_path = d / f"train_{a.train_rows}.parquet", d / f"score_{a.score_rows}.parquet"
    model_path = d / f"bench_{a.train_rows}_{a.model}.model"
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    if a.what == "make":
        if not train_path.exists():
            make_table(a.train_rows, 1, train_path, True)
        if not score_path.exists():
            make_table(a.score_rows, 2, score_path, False)
        report("make", t0, load0, train_rows=a.train_rows, score_rows=a.score_rows)
    elif a.what == "train":
        from negah.predict.snapshot import read_table, train_table

        df = read_table(train_path)
        t_read = time.perf_counter() - t0
        m = train_table(
            df, "Churn", id_column="customer_id", max_rounds=a.max_rounds, num_threads=a.threads, model=a.model
        )
        m.save(model_path)
        report(
            "train",
            t0,
            load0,
            rows=len(df),
            read_seconds=round(t_read, 1),
            model=m.classifier.kind_,
            settings=m.classifier.settings_["name"],
            rounds=m.classifier.rounds_,
            cv_auc=round(m.classifier.cv_auc_, 4),
            cv=m.classifier.cv_results_,
        )
    elif a.what == "score":
        from negah.predict.modelfile import ChurnModel
        from negah.predict.snapshot import score_file

        m = ChurnModel.load(model_path)
        m.classifier.num_threads = a.threads
        out = d / "scores.csv"
        with open(out, "w", encoding="utf-8", newline="") as f:
            n = score_file(m, score_path, f, fmt="csv", chunk_rows=a.chunk_rows, explain=a.explain, workers=a.workers)
        report(
            "score",
            t0,
            load0,
            rows=n,
            explain=a.explain,
            workers=a.workers,
            model=m.classifier.settings_["name"],
            trees=(m.classifier.booster_.num_trees() if m.classifier.booster_ is not None else 0),
            output_mb=round(os.path.getsize(out) / 2**20),
        )
    elif a.what == "synth":
        synth_quality(a.customers, d, a.explain)
    else:
        base = [
            "--train-rows",
            str(a.train_rows),
            "--score-rows",
            str(a.score_rows),
            "--dir",
            str(d),
            "--max-rounds",
            str(a.max_rounds),
            "--threads",
            str(a.threads),
            "--model",
            a.model,
            "--explain",
            a.explain,
            "--chunk-rows",
            str(a.chunk_rows),
            "--workers",
            str(a.workers),
        ]
        reports = []
        for s_ in ("make", "train", "score"):
            reports.append(stage([s_, *base]))
            print(json.dumps(reports[-1]), flush=True)
        print(table(reports), file=sys.stderr)


def synth_quality(customers: int, d: Path, explain: str = "shap") -> None:
    """Train on `negah synth` data in store mode and compare with its ground truth."""
    import warnings

    import pandas as pd

    from negah.predict.backtest import score_store, train_store
    from negah.predict.classifier import roc_auc
    from negah.store import open_folder

    out = d / f"synth_{customers}"
    if not (out / "ground_truth.json").exists():
        from negah.synth import generate

        generate(out, customers=customers, seed=1, progress=False)  # = negah synth OUT --customers N --seed 1
    gt = json.loads((out / "ground_truth.json").read_text())
    truth = pd.read_parquet(out / "truth_customers.parquet")
    end = json.loads((out / "ground_truth.json").read_text())["end"]
    as_of = (pd.Timestamp(end) - pd.Timedelta(days=89)).date()  # labels run to the last day of the data
    st = open_folder(str(out))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = train_store(st, as_of, horizon=90)
        s = score_store(m, st, as_of, explain=explain)
    j = s.merge(truth, on="customer_id")
    reasons = pd.Series(j[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel())
    reasons = reasons[reasons != ""].str.replace(r"[0-9][0-9.,]*", "N", regex=True)
    print(
        json.dumps(
            {
                "stage": "synth",
                "customers": customers,
                "as_of": str(as_of),
                "seconds": round(time.perf_counter() - t, 1),
                "model": m.classifier.kind_,
                "settings": m.classifier.settings_["name"],
                "backtest": {k: v for k, v in m.meta["metrics"].items() if k != "calibration"},
                "auc_vs_ground_truth": round(
                    roc_auc((~j["alive_at_end"]).astype(int).to_numpy(), j["churn_probability"].to_numpy()), 4
                ),
                "scored": len(j),
                "top_features": [n for n, _ in m.classifier.importance()[:10]],
                "top_reasons": reasons.value_counts().head(12).to_dict(),
                "planted_drivers": [
                    f"{g['feature']} ({g['direction']}{abs(g['dropout_log_odds'])})"
                    for g in gt["churn_drivers"]
                    if g["dropout_log_odds"] != 0
                ],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
