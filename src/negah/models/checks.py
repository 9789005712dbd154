"""Model checking for the purchase models, as plot-ready tables.

* :func:`calibration_holdout` — Fader, Hardie & Lee (2005), Figure 4: customers grouped by
  calibration frequency x; for each group the mean *actual* number of holdout purchases
  and the mean *expected* one, E[X(T, T + t*) | x, t_x, T], t* the holdout length.
* :func:`p_alive_matrix` — P(alive) over a grid of frequency × recency at a fixed T
  (Fader, Hardie & Lee 2005, Figure 5 style), in long (tidy) form for plotting and as
  a wide matrix with :func:`pivot_p_alive`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["calibration_holdout", "p_alive_matrix", "pivot_p_alive"]


def calibration_holdout(model: Any, summary: "pd.DataFrame", *, max_frequency: int = 7) -> "pd.DataFrame":
    """Expected vs actual holdout purchases by calibration frequency.

    ``summary`` needs frequency, recency, T, frequency_holdout and duration_holdout (from
    :func:`negah.models.summary.summary_from_orders` with an ``observation_end``).
    Frequencies >= ``max_frequency`` are pooled in one group labelled ``"7+"``.
    Returns columns frequency (label), n_customers, actual, expected (group means).
    """
    import pandas as pd

    need = ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise InputError(
            f"calibration/holdout check: the summary lacks {missing}; build it with an "
            "observation_end after calibration_end (--calibration-end DATE)"
        )
    x = summary["frequency"].to_numpy(float)
    expected = np.empty(len(x))
    durations = summary["duration_holdout"].to_numpy(float)
    for dur in np.unique(durations):
        sel = durations == dur
        expected[sel] = model.expected_purchases(
            float(dur), x[sel], summary["recency"].to_numpy(float)[sel], summary["T"].to_numpy(float)[sel]
        )
    group = np.minimum(x, max_frequency).astype(int)
    df = pd.DataFrame({"group": group, "actual": summary["frequency_holdout"].to_numpy(float), "expected": expected})
    out = (
        df.groupby("group", sort=True)
        .agg(n_customers=("actual", "size"), actual=("actual", "mean"), expected=("expected", "mean"))
        .reset_index()
    )
    out["frequency"] = [f"{g}+" if g == max_frequency else str(g) for g in out["group"]]
    return out[["frequency", "n_customers", "actual", "expected"]]


def p_alive_matrix(model: Any, *, T: float, max_frequency: int = 20, n_recency: int | None = None) -> "pd.DataFrame":
    """P(alive) for frequency 0…max_frequency and recency on a grid over [0, T], in long form.

    Returns columns frequency, recency, p_alive (recency > 0 only where frequency > 0;
    frequency 0 has recency 0 by definition).
    """
    import pandas as pd

    if T <= 0:
        raise InputError(f"T must be > 0, received {T}")
    n_rec = int(n_recency or min(int(np.ceil(T)) + 1, 101))
    rec = np.linspace(0.0, float(T), n_rec)
    xs, rs = [0.0], [0.0]
    for f in range(1, int(max_frequency) + 1):
        xs.extend([float(f)] * n_rec)
        rs.extend(rec.tolist())
    x = np.array(xs)
    r = np.array(rs)
    p = model.probability_alive(x, r, np.full(len(x), float(T)))
    return pd.DataFrame({"frequency": x.astype(int), "recency": r, "p_alive": p})


def pivot_p_alive(long: "pd.DataFrame") -> "pd.DataFrame":
    """The long P(alive) table as a matrix: rows frequency, columns recency."""
    return long[long["frequency"] > 0].pivot(index="frequency", columns="recency", values="p_alive")
