"""Parameter recovery: simulate from known parameters with each model's own sampler and refit.

Tolerance: within 5% or 3 standard errors (s and beta of the Pareto/NBD are weakly
identified apart: 3 standard errors there)."""

from __future__ import annotations

import numpy as np
import pytest

from negah.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD, ShiftedBetaGeometric
from negah.models import bgnbd, gammagamma, mbgnbd, paretonbd, sbg

N = 100_000


def _T(seed: int) -> np.ndarray:
    # customers acquired over 13 weeks, observed to week 52, on a daily grid
    return 52.0 - np.random.default_rng(seed).integers(0, 91, N) / 7.0


def _assert_recovered(model, truth: dict) -> None:
    for k, v in truth.items():
        est, se = model.params_[k], model.std_errors_[k]
        assert abs(est - v) <= max(0.05 * v, 3 * se), f"{k}: {est:.4g} ± {se:.3g} vs true {v}"


@pytest.mark.parametrize(
    "cls, mod, truth",
    [
        (BGNBD, bgnbd, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        (MBGNBD, mbgnbd, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
        (ParetoNBD, paretonbd, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
    ],
)
def test_purchase_model_recovers_parameters(cls, mod, truth):
    d = mod.sample(N, _T(1), seed=2, **truth)
    m = cls().fit(d)
    _assert_recovered(m, truth)


def test_gammagamma_recovers_parameters():
    truth = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    x = np.random.default_rng(3).poisson(2.0, N) + 1.0
    d = gammagamma.sample(x, seed=4, **truth)
    _assert_recovered(GammaGamma().fit(d), truth)


@pytest.mark.parametrize("truth", [{"alpha": 0.704, "beta": 1.182}, {"alpha": 0.668, "beta": 3.806}])
def test_sbg_recovers_parameters(truth):
    s = sbg.sample(N, 8, seed=5, **truth)
    _assert_recovered(ShiftedBetaGeometric().fit(s), truth)


def test_bgnbd_sampler_matches_model_moments():
    """The sampler and the closed forms agree: mean x against E[X(T)] and the share alive against P(alive)."""
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    m = BGNBD()
    m.params_ = dict(truth)  # a fitted model with known parameters
    d = bgnbd.sample(200_000, 39.0, seed=9, **truth)
    assert d["frequency"].mean() == pytest.approx(m.expected_purchases_new(39.0)[0], rel=0.02)
    p = m.probability_alive(d)
    assert d["alive"].mean() == pytest.approx(p.mean(), rel=0.01)
