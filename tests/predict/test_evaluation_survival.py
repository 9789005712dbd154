"""Metrics by hand, and survival estimates against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from negah.predict.evaluation import evaluate
from negah.predict.reasons import fa_digits, top_reasons
from negah.predict.survival import cox, kaplan_meier, logrank, table_frame


def test_lift_and_capture_by_hand():
    # 20 rows, 4 churners; top 10% = 2 rows, both churners
    y = np.array([1, 1, 0, 1, 0, 0, 0, 1] + [0] * 12)
    p = np.linspace(1, 0, 20)
    m = evaluate(y, p)
    assert m["top10_rows"] == 2
    assert m["top10_capture"] == 0.5
    assert m["top10_lift"] == pytest.approx(1.0 / 0.2)
    assert m["brier"] == pytest.approx(float(np.mean((p - y) ** 2)), abs=1e-6)
    assert sum(r["rows"] for r in m["calibration"]) == 20


def test_top_reasons_only_positive_and_stable():
    c = np.array([[0.5, -1.0, 0.5, 0.1], [-0.1, -0.2, -0.3, -0.4]])
    assert top_reasons(c, 3).tolist() == [[0, 2, 3], [-1, -1, -1]]
    assert fa_digits("no purchase for 94 days") == "no purchase for ۹۴ days"


def test_kaplan_meier_by_hand():
    # durations 1,2,3,4 with the 2 censored: S(1)=3/4, S(3)=3/4*1/2, S(4)=0
    f = pd.DataFrame({"duration": [1, 2, 3, 4], "event": [1, 0, 1, 1]})
    km = kaplan_meier(f, None, times=[1, 3, 4])
    assert km[0]["retained_1d"] == pytest.approx(0.75)
    assert km[0]["retained_3d"] == pytest.approx(0.375)
    assert km[0]["retained_4d"] == pytest.approx(0.0)


def test_logrank_and_cox_from_a_table():
    rng = np.random.default_rng(0)
    n = 400
    seg = rng.choice(["monthly", "yearly"], n, p=[0.65, 0.35])
    dur = rng.exponential(np.where(seg == "monthly", 100, 300)).round()
    df = pd.DataFrame(
        {"tenure": dur.astype(int).astype(str), "Churn": np.where(dur < 365, "Yes", "No"), "Contract": seg}
    )
    f = table_frame(df, "tenure", "Churn", ["Contract"])
    lr = logrank(f, "Contract")
    assert lr["p_value"] < 1e-6 and lr["degrees_of_freedom"] == 1
    rows = cox(f, ["Contract"])
    assert rows[0]["covariate"] == "Contract=yearly" and rows[0]["hazard_ratio"] < 0.6
