"""The fitted-model contract, run over every model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from negah.errors import ConvergenceError, InputError, ModelError
from negah.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD, ShiftedBetaGeometric, get_model

ALL = [BGNBD, MBGNBD, ParetoNBD, GammaGamma, ShiftedBetaGeometric]


def _fit(cls, cbs):
    if cls is GammaGamma:
        return cls().fit(cbs["x"], cbs["zbar"])
    if cls is ShiftedBetaGeometric:
        return cls().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    return cls().fit(cbs["x"], cbs["t_x"], cbs["T"])


@pytest.mark.parametrize("cls", ALL)
def test_contract(cls, cdnow_cbs):
    m = cls()
    assert "not fitted" in repr(m)
    with pytest.raises(ModelError, match="not fitted"):
        _ = m.summary
    assert _fit(cls, cdnow_cbs) is not None
    m = _fit(cls, cdnow_cbs)
    assert m.is_fitted and m.converged_
    assert list(m.params_) == list(cls.param_names)
    for n in cls.param_names:
        assert getattr(m, f"{n}_") == m.params_[n] > 0
        assert m.std_errors_[n] > 0
    s = m.summary
    assert list(s.index) == list(cls.param_names)
    assert list(s.columns) == ["estimate", "std_error", "lower_95", "upper_95"]
    r = repr(m)
    assert cls.__name__ in r and "log-likelihood" in r
    d = m.to_dict()
    assert set(d) == {"model", "params", "std_errors", "log_likelihood", "n_customers"}
    assert get_model(d["model"]) is cls


def test_predict_before_fit_is_an_error():
    with pytest.raises(ModelError, match="BGNBD is not fitted yet"):
        BGNBD().probability_alive([1], [1], [2])


def test_input_errors_name_the_column():
    with pytest.raises(InputError, match="column 'recency' row 1: .* must be <= T"):
        BGNBD().fit([1, 2], [1.0, 5.0], [3.0, 4.0])
    with pytest.raises(InputError, match="must be a whole number"):
        BGNBD().fit([1.5], [1.0], [3.0])
    with pytest.raises(InputError, match="missing column"):
        BGNBD().fit(pd.DataFrame({"frequency": [1]}))
    with pytest.raises(InputError, match="monetary_value must be > 0"):
        GammaGamma().fit([1, 2], [10.0, 0.0])
    with pytest.raises(InputError, match="never increase"):
        ShiftedBetaGeometric().fit([100, 120, 80])
    with pytest.raises(InputError, match="model 'foo'"):
        get_model("foo")


def test_non_convergence_gives_a_checklist():
    # nobody ever buys again: the drop-out and purchase parameters run off to the bounds
    with pytest.raises(ConvergenceError, match="Checklist"):
        BGNBD().fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))


def test_sbg_value_formulas_match_their_sums():
    """DEL and DERL (Fader & Hardie 2010, eqs. 3 and 5) against direct sums of S(t)."""
    m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    d = 0.1
    t = np.arange(0, 5000, dtype=float)
    S = m.survival(t)
    assert m.discounted_expected_lifetime(d) == pytest.approx(np.sum(S / (1 + d) ** t), rel=1e-9)
    for n in (0, 1, 5):
        direct = np.sum(S[n + 1 :] / S[n] / (1 + d) ** (t[n + 1 :] - n - 1))
        assert m.expected_residual_lifetime(n, d) == pytest.approx(direct, rel=1e-9)
    assert m.clv(100.0, d, margin=0.5) == pytest.approx(50.0 * m.discounted_expected_lifetime(d))
    rr = m.retention_rate([1, 2, 3])
    assert np.all(np.diff(rr) > 0)  # the retention rate rises with tenure (heterogeneity)
