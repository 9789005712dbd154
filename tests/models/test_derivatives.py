"""Exact derivatives and the one-pass input path.

* the BG/NBD-family gradient and Hessian (interior and the a, b -> infinity limit) against
  central differences of the value and of the gradient;
* standard errors from the exact Hessian against those from a finite-difference Hessian;
* ``rfm_data`` (validation and collapse in one go) against ``rfm_arrays`` + ``collapse``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negah.errors import InputError
from negah.models import BGNBD, MBGNBD
from negah.models.base import RFMData, _inverse_hessian, collapse, rfm_arrays, rfm_data
from negah.models.bgnbd import bg_family_negll

POINTS = [
    (False, [0.3, 5.0, 0.8, 2.5]),
    (False, [2.0, 0.5, 40.0, 3.0]),
    (True, [0.3, 5.0, 0.3]),  # limit: (r, alpha, p)
    (True, [1.5, 20.0, 0.05]),
]


def _theta(limit, p):
    p = np.array(p, dtype=float)
    return np.r_[np.log(p[:2]), np.log(p[2] / (1 - p[2]))] if limit else np.log(p)


@pytest.mark.parametrize("modified", [False, True], ids=["bgnbd", "mbgnbd"])
@pytest.mark.parametrize("limit, point", POINTS)
def test_gradient_and_hessian_are_exact(cdnow_cbs, modified, limit, point):
    d = rfm_data(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    th = _theta(limit, point)
    f, g, H = bg_family_negll(th, d, modified, order=2, limit=limit)
    f1, g1 = bg_family_negll(th, d, modified, order=1, limit=limit)
    assert f == f1 == bg_family_negll(th, d, modified, order=0, limit=limit)
    np.testing.assert_array_equal(g, g1)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-9)
    h = 1e-6
    eye = np.eye(len(th))
    g_fd = np.array(
        [
            (bg_family_negll(th + h * e, d, modified, 0, limit) - bg_family_negll(th - h * e, d, modified, 0, limit))
            / (2 * h)
            for e in eye
        ]
    )
    H_fd = np.array(
        [
            (
                bg_family_negll(th + h * e, d, modified, 1, limit)[1]
                - bg_family_negll(th - h * e, d, modified, 1, limit)[1]
            )
            / (2 * h)
            for e in eye
        ]
    )
    scale = np.abs(H).max()
    np.testing.assert_allclose(g, g_fd, atol=1e-5 * scale)
    np.testing.assert_allclose(H, H_fd, atol=1e-6 * scale)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_standard_errors_from_the_exact_hessian(cdnow_cbs, cls):
    m = cls().fit(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    d = rfm_data(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    cov_log, ok = _inverse_hessian(lambda th: m._negll(th, d), m._theta_hat())
    assert ok
    p = np.array(m._p())
    se_fd = np.sqrt(np.diag(cov_log)) * p
    np.testing.assert_allclose([m.std_errors_[n] for n in m.param_names], se_fd, rtol=1e-4)


def _as_rows(d: RFMData):
    return np.column_stack([d.x, d.tx, d.T, d.w])


days = st.integers(0, 400)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 12), days, days, st.integers(0, 3)), min_size=1, max_size=60),
    unit=st.sampled_from([1.0, 7.0, 3.3]),
    weighted=st.booleans(),
)
def test_rfm_data_equals_validate_then_collapse(rows, unit, weighted):
    a = np.array(rows, dtype=float)
    x, t1, t2, w = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    T = np.maximum(t1, t2) / unit
    tx = np.where(x > 0, np.minimum(t1, t2) / unit, 0.0)
    weights = w if weighted else None
    if weighted and w.sum() == 0:
        weights = w + 1
    d = rfm_data(x, tx, T, weights)
    xv, txv, Tv, wv = rfm_arrays(x, tx, T, weights)
    ref = RFMData(xv, txv, Tv, wv)
    np.testing.assert_array_equal(_as_rows(d), _as_rows(ref))
    np.testing.assert_array_equal(d.ux[d.ix], d.x)
    np.testing.assert_array_equal(d.utx[d.itx], d.tx)
    np.testing.assert_array_equal(d.uT[d.iT], d.T)
    (cx, ctx, cT), cw, _ = collapse(xv, txv, Tv, weights=wv)
    keep = cw > 0
    np.testing.assert_array_equal(_as_rows(d), np.column_stack([cx, ctx, cT, cw])[keep])


@pytest.mark.parametrize(
    "cols, match",
    [
        (([1, 2], [1.0, 5.0], [3.0, 4.0]), r"column 'recency' row 1: .* must be <= T"),
        (([1.5, 1], [1.0, 1.0], [3.0, 3.0]), r"column 'frequency' row 0: .*whole number"),
        (([0, 1], [1.0, 1.0], [3.0, 3.0]), r"column 'recency' row 0: .*must be 0 when frequency is 0"),
        (([1, -1], [1.0, 0.0], [3.0, 3.0]), r"column 'frequency' row 1: .*must be >= 0"),
        (([1, 1], [1.0, np.nan], [3.0, 3.0]), r"column 'recency' row 1: nan is not a finite number"),
        (([1, 1], [1.0, 1.0], [3.0, np.inf]), r"column 'T' row 1: inf is not a finite number"),
        (([1, 1], [1.0, 1.0], [3.0]), r"one length"),
    ],
)
def test_rfm_data_names_the_row(cols, match):
    for fn in (rfm_data, rfm_arrays):
        with pytest.raises(InputError, match=match):
            fn(*cols)


def test_rfm_data_clamps_rounding_excess():
    d = rfm_data([1, 1], [3.0 * (1 + 1e-14), 2.0], [3.0, 3.0])
    assert d.tx.max() == 3.0 and d.total == 2
