"""Golden tests: published estimates on the CDNOW sample and the sBG retention series."""

from __future__ import annotations

import numpy as np
import pytest

from negah.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD, ShiftedBetaGeometric
from negah.models.summary import summary_from_orders


def _check(model, expected: dict, ll: float | None = None, rel=2e-3):
    for k, v in expected.items():
        assert model.params_[k] == pytest.approx(v, rel=rel, abs=1e-3), k
    if ll is not None:
        assert model.log_likelihood_ == pytest.approx(ll, abs=0.05)


# Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
# 24(2), section 7, on the 2,357-customer CDNOW sample (weeks, calibration to 1997-09-30).
# The same four numbers are asserted by lifetimes' test_params_out_is_close_to_Hardie_paper
# (CamDavidsonPilon/lifetimes, tests/test_estimation.py) and printed by BTYDplus'
# bgnbd.EstimateParameters demo (mplatzer/BTYDplus, demos/cdnow.r).
BGNBD_FHL2005 = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def test_bgnbd_fader_hardie_lee_2005_summary(cdnow_rfm, cdnow_cbs):
    """BG/NBD parameters of Fader, Hardie & Lee (2005) (see BGNBD_FHL2005) and the paper's
    LL = -9582.4 (section 7; read from a public summary of the paper, not from the paper here)."""
    for df in (cdnow_rfm, cdnow_cbs.rename(columns={"x": "frequency", "t_x": "recency"})):
        m = BGNBD().fit(df["frequency"], df["recency"], df["T"])
        _check(m, BGNBD_FHL2005, -9582.4)
        assert m.n_customers_ == 2357


def test_bgnbd_fader_hardie_lee_2005_raw_transactions(cdnow_orders):
    """Same published BG/NBD estimates (Fader, Hardie & Lee 2005) from the raw CDNOW log."""
    s = summary_from_orders(cdnow_orders, calibration_end="1997-09-30", time_unit="week")
    m = BGNBD().fit(s)
    _check(m, BGNBD_FHL2005, -9582.4)


def test_paretonbd_lifetimes_test_values(cdnow_rfm):
    """lifetimes' ParetoNBDFitter test_params_out_is_close_to_Hardie_paper (CamDavidsonPilon/
    lifetimes, tests/test_estimation.py): r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669
    to 3 decimals on this file (lifetimes' cdnow_customers_summary.csv, the same 2-decimal
    summary). These are the Pareto/NBD estimates Fader, Hardie & Lee (2005, Marketing
    Science, section 7) report next to the BG/NBD."""
    m = ParetoNBD().fit(cdnow_rfm)
    for k, v in {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}.items():
        assert m.params_[k] == pytest.approx(v, abs=1.5e-3), k


def test_paretonbd_btydplus_cdnow_demo(cdnow_cbs):
    """BTYDplus' CDNOW demo (mplatzer/BTYDplus, demos/cdnow.r) on BTYD's cdnowSummary$cbs
    (the exact summary, = cdnow_cbs): pnbd.EstimateParameters gives 0.553, 10.580, 0.606,
    11.656 (rounded to 3 decimals) and pnbd.cbs.LL -9594.976.

    BTYD's optimiser stops a little earlier on the flat s-beta ridge; lifetimes 0.11.3
    (ParetoNBDFitter, computed here) reaches LL -9594.9762 on the same data, as does negah."""
    m = ParetoNBD().fit(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    assert m.log_likelihood_ == pytest.approx(-9594.976, abs=1e-3)
    _check(m, {"r": 0.553, "alpha": 10.580, "s": 0.606, "beta": 11.656}, rel=2e-3)


MBGNBD_BTYDPLUS = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


@pytest.mark.parametrize("data", ["cdnow_rfm", "cdnow_cbs"])
def test_mbgnbd_btydplus_cdnow_demo(request, data):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007) on CDNOW: r = 0.525, alpha = 6.183,
    a = 0.891, b = 1.614 from BTYDplus' CDNOW demo (mplatzer/BTYDplus, demos/cdnow.r, where
    the model is still called CBG/NBD), also asserted to 3 decimals by lifetimes'
    ModifiedBetaGeoFitter test_params_out_is_close_to_BTYDplus (tests/test_estimation.py)."""
    df = request.getfixturevalue(data).rename(columns={"x": "frequency", "t_x": "recency"})
    m = MBGNBD().fit(df["frequency"], df["recency"], df["T"])
    for k, v in MBGNBD_BTYDPLUS.items():
        assert m.params_[k] == pytest.approx(v, abs=1.5e-3), k


def test_mbgnbd_lifetimes_0_11_3_fit(cdnow_rfm):
    """lifetimes 0.11.3 ModifiedBetaGeoFitter().fit(x, t_x, T) on this file (computed here,
    see docs/models.md): r = 0.524838, alpha = 6.182988, a = 0.891356, b = 1.614000."""
    m = MBGNBD().fit(cdnow_rfm)
    for k, v in {"r": 0.524838, "alpha": 6.182988, "a": 0.891356, "b": 1.614000}.items():
        assert m.params_[k] == pytest.approx(v, rel=2e-4), k


def test_gammagamma_fader_hardie_2013(cdnow_cbs):
    """Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", CDNOW sample:
    p = 6.25, q = 3.74, gamma = 15.44."""
    m = GammaGamma().fit(cdnow_cbs["x"], cdnow_cbs["zbar"])
    _check(m, {"p": 6.25, "q": 3.74, "gamma": 15.44}, rel=2e-3)
    assert m.n_customers_ == 946


@pytest.mark.parametrize("column, alpha, beta", [("regular_alive", 0.704, 1.182), ("high_end_alive", 0.668, 3.806)])
def test_sbg_fader_hardie_2007(sbg_series, column, alpha, beta):
    """Fader & Hardie (2007), "How to Project Customer Retention", J. Interactive Marketing
    21(1), fitted on years 0-7: regular alpha = 0.704, beta = 1.182; high end alpha = 0.668, beta = 3.806."""
    m = ShiftedBetaGeometric().fit(sbg_series[column].to_numpy()[:8])
    _check(m, {"alpha": alpha, "beta": beta})
    # the projection to years 8-12 stays close to the held-out actuals (the paper's Figure 4)
    proj = m.project(12, n0=1000)["expected_alive"].to_numpy()[8:]
    actual = sbg_series[column].to_numpy()[8:]
    assert np.max(np.abs(proj - actual) / actual) < 0.06


def test_sbg_per_cohort(sbg_series):
    """fit_cohorts fits one sBG per cohort (Fader & Hardie 2007 values)."""
    t = ShiftedBetaGeometric.fit_cohorts(
        {"regular": sbg_series["regular_alive"][:8], "high end": sbg_series["high_end_alive"][:8]}
    )
    assert list(t.index) == ["regular", "high end"]
    assert t.loc["high end", "beta"] == pytest.approx(3.806, rel=2e-3)
