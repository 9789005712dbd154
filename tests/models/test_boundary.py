"""The BG/NBD and MBG/NBD boundary a, b -> infinity: a fixed drop-out probability p.

Data simulated with one p for every customer have their likelihood maximum either at a
large but finite a + b or on the boundary (the score in kappa = 1/(a+b) at the limit
decides, about half the time each). On the boundary the fit reports the limiting model
instead of failing, warns, and predicts with the limit's closed forms.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from negah.errors import BoundaryWarning
from negah.models import BGNBD, MBGNBD, bgnbd, mbgnbd
from negah.models.base import rfm_data

N = 20_000
TRUTH = {"r": 0.5, "alpha": 5.0, "p": 0.3}


def _fixed_p(mod, seed: int):
    T = 52.0 - np.random.default_rng(seed).integers(0, 91, N) / 7.0
    return mod.sample(N, T, seed=seed, **TRUTH)


@pytest.fixture(scope="module", params=[(BGNBD, bgnbd), (MBGNBD, mbgnbd)], ids=["bgnbd", "mbgnbd"])
def boundary_fit(request):
    cls, mod = request.param
    d = _fixed_p(mod, 1)  # seed 1: the maximum is on the boundary for both models
    with pytest.warns(BoundaryWarning, match="a, b -> infinity"):
        m = cls().fit(d)
    return m, d, mod


def test_boundary_is_reported_with_the_limiting_model(boundary_fit):
    m, _, _ = boundary_fit
    assert m.boundary_ and "same probability p" in m.boundary_
    assert m.a_ == m.b_ == float("inf")
    for k, v in TRUTH.items():  # recovered within 5% or 3 standard errors
        assert abs(m.params_[k] - v) <= max(0.05 * v, 3 * m.std_errors_[k]), (k, m.params_[k], m.std_errors_[k])
        assert 0 < m.std_errors_[k] < 0.1 * v
    s = m.summary
    assert list(s.index) == ["r", "alpha", "a", "b", "p"]
    assert s.attrs["warning"] == m.boundary_
    assert "boundary" in s.loc["a", "note"] and "drop-out probability" in s.loc["p", "note"]
    d = m.to_dict()
    text = json.dumps(d, allow_nan=False)  # valid JSON: no Infinity / NaN
    assert json.loads(text)["params"]["a"] is None and d["params"]["p"] == m.p_
    assert d["boundary"] == m.boundary_
    assert "boundary" in repr(m)


def test_boundary_loglik_matches_rows_and_the_limit_of_the_full_model(boundary_fit):
    m, d, _ = boundary_fit
    rows = m.log_likelihood(d)
    assert rows.sum() == pytest.approx(m.log_likelihood_, rel=1e-10)
    # the four-parameter likelihood tends to the limit's as a + b grows at a/(a+b) = p
    data = rfm_data(d)
    modified = isinstance(m, MBGNBD)
    theta = np.log([m.r_, m.alpha_, m.p_ * 1e5, (1 - m.p_) * 1e5])
    assert -bgnbd.bg_family_negll(theta, data, modified, order=0) == pytest.approx(m.log_likelihood_, abs=0.5)


def test_boundary_score_is_the_derivative_in_kappa(boundary_fit):
    """boundary_score against a Richardson-extrapolated difference quotient of the full likelihood."""
    m, d, _ = boundary_fit
    data = rfm_data(d)
    modified = isinstance(m, MBGNBD)
    th = m._theta_hat()
    s = bgnbd.boundary_score(th, data, modified)
    assert s <= 0  # the Karush-Kuhn-Tucker condition that made this a boundary fit

    def quotient(kappa):
        full = np.log([m.r_, m.alpha_, m.p_ / kappa, (1 - m.p_) / kappa])
        return (-bgnbd.bg_family_negll(full, data, modified, order=0) - m.log_likelihood_) / kappa

    fd = 2 * quotient(1e-4) - quotient(2e-4)
    assert s == pytest.approx(fd, rel=0.02, abs=2.0)


def test_boundary_predictions_are_the_limit_of_the_full_model(boundary_fit):
    m, _, _ = boundary_fit
    full = type(m)()
    big = 1e6
    full.params_ = {"r": m.r_, "alpha": m.alpha_, "a": m.p_ * big, "b": (1 - m.p_) * big}
    x = np.array([0.0, 1.0, 3.0, 10.0, 4.0])
    tx = np.array([0.0, 5.0, 20.0, 40.0, 2.0])
    T = np.array([30.0, 30.0, 40.0, 45.0, 45.0])
    np.testing.assert_allclose(m.probability_alive(x, tx, T), full.probability_alive(x, tx, T), rtol=1e-4)
    np.testing.assert_allclose(m.expected_purchases(10.0, x, tx, T), full.expected_purchases(10.0, x, tx, T), rtol=1e-4)
    np.testing.assert_allclose(
        m.expected_purchases_new([5.0, 50.0]), full.expected_purchases_new([5.0, 50.0]), rtol=1e-4
    )


def test_boundary_predictions_match_simulation(boundary_fit):
    """The fitted limit model's own sampler against its closed forms: mean purchases and share alive."""
    m, _, _ = boundary_fit
    sim = m.sample(200_000, 39.0, seed=3)
    assert sim["frequency"].mean() == pytest.approx(m.expected_purchases_new(39.0)[0], rel=0.02)
    assert sim["alive"].mean() == pytest.approx(m.probability_alive(sim).mean(), rel=0.01)


@pytest.mark.parametrize("cls, mod", [(BGNBD, bgnbd), (MBGNBD, mbgnbd)], ids=["bgnbd", "mbgnbd"])
def test_fixed_p_data_always_fit(cls, mod):
    """Interior (huge a + b) or boundary, the fit never fails and p is recovered either way."""
    outcomes = set()
    for seed in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BoundaryWarning)
            m = cls().fit(_fixed_p(mod, seed))
        p = m.p_ if m.boundary_ else m.a_ / (m.a_ + m.b_)
        assert p == pytest.approx(TRUTH["p"], rel=0.05)
        assert m.r_ == pytest.approx(TRUTH["r"], rel=0.1) and m.alpha_ == pytest.approx(TRUTH["alpha"], rel=0.1)
        outcomes.add(bool(m.boundary_))
    assert outcomes == {True, False}  # both cases occur on these seeds


def test_interior_fit_has_no_boundary(cdnow_cbs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        m = BGNBD().fit(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    assert m.boundary_ is None and "boundary" not in m.to_dict() and "note" not in m.summary.columns
    assert m.covariance_names_ == ["r", "alpha", "a", "b"] and m.covariance_.shape == (4, 4)


def test_covariance_names_and_refit_after_a_boundary_fit(boundary_fit, cdnow_cbs):
    m, d, _ = boundary_fit
    assert m.covariance_names_ == ["r", "alpha", "p"] and m.covariance_.shape == (3, 3)
    cls = type(m)
    again = cls()
    with pytest.warns(BoundaryWarning):
        again.fit(d)
    assert hasattr(again, "p_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        again.fit(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    assert again.boundary_ is None  # CDNOW has an interior maximum: the limit's p is gone with the boundary
    assert not hasattr(again, "p_") and "p" not in again.params_ and again.covariance_names_[-1] == "b"
