"""How good churn probabilities are: ranking, top-decile lift, and calibration.

``evaluate(y, p)`` reports

* ``roc_auc`` — probability that a churner is ranked above a non-churner;
* ``pr_auc`` — average precision (area under the precision-recall curve);
* ``top10_lift`` — churn rate in the top 10% by probability / overall churn rate;
* ``top10_capture`` — share of all churners found in that top 10%;
* ``brier`` — mean squared error of the probabilities;
* ``calibration`` — ten bins of equal size by predicted probability: rows, mean predicted
  probability, observed churn rate.

Rows are ordered by probability (descending) and, among ties, by their position, so the
top 10% (``ceil(0.1 n)`` rows) is the same on every run.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def evaluate(y: Sequence[int], p: Sequence[float], bins: int = 10) -> dict[str, Any]:
    """Metrics of probabilities ``p`` against 0/1 labels ``y`` (see the module docstring)."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = np.asarray(y, dtype=np.int8)
    p = np.asarray(p, dtype=np.float64)
    n = len(y)
    pos = int(y.sum())
    out: dict[str, Any] = {"rows": n, "churned": pos, "churn_rate": _r(pos / n) if n else None}
    both = 0 < pos < n
    out["roc_auc"] = _r(roc_auc_score(y, p)) if both else None
    out["pr_auc"] = _r(average_precision_score(y, p)) if both else None
    order = np.lexsort((np.arange(n), -p))
    k = max(1, math.ceil(0.1 * n)) if n else 0
    top = y[order[:k]]
    out["top10_rows"] = k
    out["top10_churn_rate"] = _r(top.mean()) if k else None
    out["top10_lift"] = _r(top.mean() / (pos / n)) if pos else None
    out["top10_capture"] = _r(top.sum() / pos) if pos else None
    out["brier"] = _r(brier_score_loss(y, p)) if n else None
    table = []
    if n:
        edges = np.linspace(0, n, bins + 1).round().astype(int)
        asc = order[::-1]
        for b in range(bins):
            idx = asc[edges[b] : edges[b + 1]]
            if len(idx) == 0:
                continue
            table.append(
                {
                    "bin": b + 1,
                    "rows": int(len(idx)),
                    "mean_predicted": _r(p[idx].mean()),
                    "observed_rate": _r(y[idx].mean()),
                    "min_predicted": _r(p[idx].min()),
                    "max_predicted": _r(p[idx].max()),
                }
            )
    out["calibration"] = table
    return out


def _r(x: float) -> float:
    return float(round(float(x), 6))


def format_metrics(m: dict[str, Any]) -> str:
    """A plain-text report of :func:`evaluate`'s result."""
    lines = [
        f"rows                {m['rows']}",
        f"churned             {m['churned']} ({_pct(m['churn_rate'])})",
        f"ROC AUC             {_f(m['roc_auc'])}",
        f"PR AUC              {_f(m['pr_auc'])}",
        f"top 10% lift        {_f(m['top10_lift'])}",
        f"top 10% capture     {_pct(m['top10_capture'])}",
        f"Brier score         {_f(m['brier'])}",
        "",
        "calibration (10 bins by predicted probability)",
        f"{'bin':>4} {'rows':>8} {'predicted':>10} {'observed':>10}",
    ]
    for r in m["calibration"]:
        lines.append(f"{r['bin']:>4} {r['rows']:>8} {r['mean_predicted']:>10.4f} {r['observed_rate']:>10.4f}")
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"
