"""The MBG/NBD with a switch at joining (negah.actions.program_model): identities, exact
gradient, per-customer histories by hand, and parameter recovery on data simulated from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from negah.actions import program_model as pm


def _simulate(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    theta: float,
    kappa: float,
    end: float = 730.0,
    launch: float = 180.0,
    seed: int = 0,
) -> pm.Histories:
    """Customers of the switch model; joining at a purchase after the launch with a probability that
    rises with the purchases so far (so members are selected on their history)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    first = rng.uniform(0.0, end - 30.0, n)
    t = first.copy()
    x = np.full(n, -1.0)
    tx = np.zeros(n)
    s = np.full(n, np.nan)
    u = np.zeros(n)
    xt = np.zeros(n)
    member = np.zeros(n, dtype=bool)
    active = np.ones(n, dtype=bool)
    while active.any():
        i = np.flatnonzero(active)
        x[i] += 1
        tx[i] = t[i] - first[i]
        xt[i] += member[i]  # a purchase after joining (the join purchase is not one)
        join = ~member[i] & (t[i] >= launch) & (rng.random(len(i)) < 1 / (1 + np.exp(2.0 - 0.3 * np.minimum(x[i], 10))))
        member[i[join]] = True
        s[i[join]] = t[i[join]] - first[i[join]]
        u[i] += ~member[i]
        pe = np.where(member[i], -np.expm1(theta * np.log1p(-p[i])), p[i])
        die = rng.random(len(i)) < pe
        t[i] = t[i] + rng.exponential(1.0, len(i)) / (lam[i] * np.where(member[i], kappa, 1.0))
        active[i] = ~die & (t[i] < end)
    T = end - first
    s = np.where(member, s, T)
    return pm.Histories(
        x=x,
        tx=tx,
        T=T,
        s=s,
        tl=np.where(member, s, tx),
        u=u,
        n=x + 1 - u,
        xt=xt,
        at_purchase=member.copy(),
        member=member,
    )


def test_without_members_the_likelihood_is_the_mbgnbd():
    from negah.models.bgnbd import bg_family_loglik_rows

    h = _simulate(3000, r=0.8, alpha=40.0, a=0.9, b=4.0, theta=1.0, kappa=1.0, launch=1e9, seed=1)
    assert not h.member.any()
    lp = np.log([0.8, 40.0, 0.9, 4.0, 0.5, 1.3])  # θ, κ play no part without members
    alive, dead, _, _ = pm._terms(lp, h, False)
    ours = np.logaddexp(alive, dead)
    mbg = bg_family_loglik_rows(lp[:4], h.x, h.tx, h.T, modified=True)
    np.testing.assert_allclose(ours, mbg, rtol=1e-10, atol=1e-10)
    # and P(alive) is the MBG/NBD's: 1 / (1 + a/(b + x) ((α + T)/(α + t_x))^(r + x))
    f = pm.SwitchFit(dict(zip(pm.NAMES, np.exp(lp).tolist())), 0.0, True)
    pa = pm.p_alive(f, h)
    z = np.log(0.9) - np.log(4.0 + h.x) + (0.8 + h.x) * (np.log(40.0 + h.T) - np.log(40.0 + h.tx))
    np.testing.assert_allclose(pa, 1 / (1 + np.exp(z)), rtol=1e-10)


def test_gradient_is_exact():
    h = _simulate(2000, r=0.8, alpha=40.0, a=0.9, b=4.0, theta=0.5, kappa=1.2, seed=2)
    assert 100 < h.member.sum() < 1900
    w = np.random.default_rng(0).integers(0, 3, len(h.x)).astype(float)
    lp = np.log([0.7, 35.0, 1.1, 3.5, 0.6, 1.1])
    _, g = pm._negll(lp, h, w, w.sum())
    for i in range(6):
        e = np.zeros(6)
        e[i] = 1e-6
        num = (pm._negll(lp + e, h, w, w.sum())[0] - pm._negll(lp - e, h, w, w.sum())[0]) / 2e-6
        assert g[i] == pytest.approx(num, rel=1e-4, abs=1e-9), pm.NAMES[i]


def test_recovers_the_switch_on_simulated_customers():
    truth = {"r": 0.8, "alpha": 40.0, "a": 1.0, "b": 5.0, "theta": 0.5, "kappa": 1.3}
    h = _simulate(20_000, **truth, seed=3)
    f = pm.fit(h)
    assert f.converged
    assert f.params["theta"] == pytest.approx(0.5, abs=0.12)
    assert f.params["kappa"] == pytest.approx(1.3, abs=0.1)
    assert f.params["r"] / f.params["alpha"] == pytest.approx(0.8 / 40.0, rel=0.1)
    # the effect on the treated: members' P(alive) against their survival had they not joined
    m = h.take(np.flatnonzero(h.member))
    joined = pm.survival_from_join(f, m, treated=True).mean()
    not_joined = pm.survival_from_join(f, m, treated=False).mean()
    assert pm.p_alive(f, m).mean() == pytest.approx(joined, abs=0.02)  # two routes to the same mean
    assert joined - not_joined > 0.05


@pytest.mark.parametrize("a,b", [(0.9, 4.0), (0.3, 2.0), (2000.0, 9000.0)])  # wide to nearly no heterogeneity
def test_survival_at_the_join_day(a, b):
    """τ = 0: joined at a purchase → alive after its drop-out chance, (b + u)/(a + b + u) untreated;
    joined between purchases → the MBG/NBD's P(alive) at the join day."""
    f = pm.SwitchFit({"r": 0.8, "alpha": 40.0, "a": a, "b": b, "theta": 0.5, "kappa": 1.0}, 0.0, True)
    u = np.array([0.0, 3.0, 10.0, 150.0])
    s = np.array([0.0, 60.0, 200.0, 600.0])
    at = pm.Histories(
        x=u,
        tx=s,
        T=s,
        s=s,
        tl=s,
        u=u,
        n=np.ones(4),
        xt=np.zeros(4),
        at_purchase=np.ones(4, bool),
        member=np.ones(4, bool),
    )
    np.testing.assert_allclose(pm.survival_from_join(f, at, treated=False), (b + u) / (a + b + u), rtol=1e-5)
    xb = np.array([0.0, 2.0, 6.0, 100.0])  # repeats before the join, the last at tl
    tl = np.array([0.0, 30.0, 150.0, 590.0])
    between = pm.Histories(
        x=xb,
        tx=tl,
        T=s,
        s=s,
        tl=tl,
        u=xb + 1,
        n=np.zeros(4),
        xt=np.zeros(4),
        at_purchase=np.zeros(4, bool),
        member=np.ones(4, bool),
    )
    z = np.log(a) - np.log(b + xb) + (0.8 + xb) * (np.log(40.0 + s) - np.log(40.0 + tl))
    np.testing.assert_allclose(pm.survival_from_join(f, between, treated=False), 1 / (1 + np.exp(z)), rtol=1e-5)


def test_histories_by_hand():
    day = pd.to_datetime
    days = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B", "B", "C", "D"],
            "day": day(
                [
                    "2024-01-01",
                    "2024-01-11",
                    "2024-02-01",
                    "2024-03-01",  # A joins at its 3rd purchase
                    "2024-01-05",
                    "2024-01-20",  # B joins between purchases
                    "2024-01-01",
                    "2024-03-31",
                ]
            ),  # C never; D first seen on as_of
            "purchases": [1, 2, 1, 1, 1, 1, 1, 1],
            "rev": 1.0,
        }
    )
    joined = pd.Series(day(["2024-02-01", "2024-01-10"]), index=["A", "B"])
    ids, h = pm.histories(days, joined, pd.Timestamp("2024-03-31"))
    assert list(ids) == ["A", "B", "C"]
    np.testing.assert_array_equal(h.member, [True, True, False])
    np.testing.assert_array_equal(h.x, [3, 1, 0])
    np.testing.assert_array_equal(h.tx, [60, 15, 0])
    np.testing.assert_array_equal(h.T, [90, 86, 90])
    np.testing.assert_array_equal(h.s, [31, 5, 90])
    np.testing.assert_array_equal(h.tl, [31, 0, 0])
    np.testing.assert_array_equal(h.u, [2, 1, 1])  # drop-out chances before the join day
    np.testing.assert_array_equal(h.n, [2, 1, 0])  # on or after it
    np.testing.assert_array_equal(h.xt, [1, 1, 0])  # purchases after the join day
    np.testing.assert_array_equal(h.at_purchase, [True, False, False])
