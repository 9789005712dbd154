"""Pareto/NBD: the 2F1-based likelihood against direct numerical quadrature, where naive formulas fail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from negah.models.paretonbd import log_integral


def _quad_log_integral(x, tx, T, r, alpha, s, beta):
    # scale out the value at tau = tx so that quad works on numbers of order one
    c = -(r + x) * np.log(alpha + tx) - (s + 1) * np.log(beta + tx)
    f = lambda tau: np.exp(-(r + x) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau) - c)
    pts = [tx + d for d in (1e-6, 1e-3, 1e-1, 1.0, 10.0) if tx + d < T]
    val, _ = quad(f, tx, T, points=pts or None, limit=500, epsabs=0, epsrel=1e-12)
    return c + np.log(val)


CASES = [
    # (x, tx, T, r, alpha, s, beta)
    (0, 0.0, 39.0, 0.55, 10.58, 0.61, 11.67),
    (29, 38.0, 38.9, 0.55, 10.58, 0.61, 11.67),
    (5, 2.0, 50.0, 0.5, 1000.0, 0.5, 0.01),  # alpha >> beta: naive 2F1 argument ~ 1
    (0, 0.0, 50.0, 0.3, 0.01, 2.0, 500.0),  # alpha << beta, r + x < 1
    (200, 300.0, 365.0, 2.0, 50.0, 0.2, 3.0),  # many purchases: huge exponents
    (1, 0.5, 365.0, 0.9999, 0.02, 0.7, 2000.0),  # r + x - 1 close to 0
    (3, 10.0, 10.0 + 1e-7, 0.5, 10.0, 0.5, 10.0),  # t_x = T (almost)
    (50, 100.0, 700.0, 5.0, 1e-3, 10.0, 1e4),
]


@pytest.mark.parametrize("case", CASES)
def test_log_integral_matches_quadrature(case):
    x, tx, T, r, alpha, s, beta = case
    got = float(log_integral(np.array([x], float), np.array([tx]), np.array([T]), r, alpha, s, beta)[0])
    want = _quad_log_integral(x, tx, T, r, alpha, s, beta)
    assert np.isfinite(got)
    assert got == pytest.approx(want, abs=1e-7, rel=1e-9)
