"""Properties every purchase model must have (hypothesis where the input space is wide)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negah.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD

PURCHASE = [BGNBD, MBGNBD, ParetoNBD]


@pytest.fixture(scope="module")
def fitted(cdnow_cbs):
    x, tx, T = cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"]
    models = {cls.__name__: cls().fit(x, tx, T) for cls in PURCHASE}
    models["GammaGamma"] = GammaGamma().fit(x, cdnow_cbs["zbar"])
    return models


rows = st.tuples(st.integers(0, 60), st.floats(0.0, 1.0), st.floats(0.1, 500.0))


@pytest.mark.parametrize("name", [c.__name__ for c in PURCHASE])
@settings(max_examples=60, deadline=None)
@given(data=st.lists(rows, min_size=1, max_size=20))
def test_p_alive_in_unit_interval_and_predictions_finite(fitted, name, data):
    m = fitted[name]
    x = np.array([d[0] for d in data], float)
    T = np.array([d[2] for d in data])
    tx = np.where(x > 0, np.array([d[1] for d in data]) * T, 0.0)
    p = m.probability_alive(x, tx, T)
    assert np.all((p >= 0) & (p <= 1))
    e = m.expected_purchases(10.0, x, tx, T)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)


@pytest.mark.parametrize("name", [c.__name__ for c in PURCHASE])
def test_p_alive_for_customers_without_repeat_purchases(fitted, name):
    m = fitted[name]
    p = m.probability_alive([0, 0], [0, 0], [5.0, 40.0])
    if m.alive_when_no_repeat:  # BG/NBD: no drop-out before the first repeat purchase
        assert np.all(p == 1.0)
    else:  # MBG/NBD and Pareto/NBD: the chance of having dropped out grows with T
        assert np.all(p < 1.0) and p[0] > p[1]


@pytest.mark.parametrize("name", [c.__name__ for c in PURCHASE])
def test_p_alive_falls_as_last_purchase_recedes(fitted, name):
    m = fitted[name]
    p = m.probability_alive(np.full(5, 4.0), np.array([1.0, 10.0, 20.0, 30.0, 38.0]), np.full(5, 39.0))
    assert np.all(np.diff(p) > 0)


@pytest.mark.parametrize("name", [c.__name__ for c in PURCHASE])
def test_clv_falls_as_discount_rate_rises(fitted, cdnow_cbs, name):
    m, gg = fitted[name], fitted["GammaGamma"]
    x, tx, T = cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"]
    spend = gg.expected_spend(x, cdnow_cbs["zbar"])
    values = [m.clv(x, tx, T, spend=spend, horizon=52, discount_rate=d, margin=0.3) for d in (0.0, 0.005, 0.01, 0.05)]
    for lo, hi in zip(values[1:], values[:-1]):
        assert np.all(lo < hi)
    # with no discounting CLV is margin x spend x expected purchases over the horizon
    np.testing.assert_allclose(values[0], 0.3 * spend * m.expected_purchases(52, x, tx, T), rtol=1e-10)


@pytest.mark.parametrize("cls", PURCHASE)
def test_fit_does_not_depend_on_row_order(cdnow_cbs, cls):
    a = cls().fit(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    perm = np.random.default_rng(7).permutation(len(cdnow_cbs))
    d = cdnow_cbs.iloc[perm]
    b = cls().fit(d["x"], d["t_x"], d["T"])
    assert a.params_ == b.params_ and a.log_likelihood_ == b.log_likelihood_


def test_weights_equal_repeated_rows(cdnow_cbs):
    d = cdnow_cbs.iloc[:300]
    rep = d.loc[d.index.repeat(3)]
    a = BGNBD().fit(rep["x"], rep["t_x"], rep["T"])
    b = BGNBD().fit(d["x"], d["t_x"], d["T"], weights=np.full(len(d), 3.0))
    assert a.params_ == pytest.approx(b.params_, rel=1e-9)
    assert a.n_customers_ == b.n_customers_ == 900


@pytest.mark.parametrize("name", [c.__name__ for c in PURCHASE])
def test_per_customer_loglik_sums_to_total(fitted, cdnow_cbs, name):
    m = fitted[name]
    ll = m.log_likelihood(cdnow_cbs["x"], cdnow_cbs["t_x"], cdnow_cbs["T"])
    assert ll.sum() == pytest.approx(m.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize("name", [c.__name__ for c in PURCHASE])
def test_conditional_expectation_of_new_customer_is_unconditional(fitted, name):
    """A customer with x = 0 observed for T -> 0 has the unconditional E[X(t)] (FHL 2005 eq. 7 vs 10)."""
    m = fitted[name]
    cond = m.expected_purchases(20.0, [0.0], [0.0], [1e-9])
    assert cond[0] == pytest.approx(m.expected_purchases_new(20.0)[0], rel=1e-6)


def test_expected_spend_shrinks_towards_population_mean(fitted):
    gg = fitted["GammaGamma"]
    pop = gg.population_mean_spend()
    e = gg.expected_spend([0, 1, 10, 100], [0, 100.0, 100.0, 100.0])
    assert e[0] == pytest.approx(pop)
    assert pop < e[1] < e[2] < e[3] < 100.0
