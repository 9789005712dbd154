"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

"Empirical validation and comparison of models for customer base analysis",
International Journal of Research in Marketing 24(3):201-209. Like the BG/NBD, but a
customer may also drop out right after the first (trial) purchase, so that a customer
with no repeat purchase is not certainly alive. Likelihood (their eq. 4):

    L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

evaluated in log space with its analytic gradient (shared with :mod:`negah.models.bgnbd`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, hyp2f1

from negah.models.bgnbd import BGNBD
from negah.models.bgnbd import sample as _bg_sample

__all__ = ["MBGNBD", "sample"]


class MBGNBD(BGNBD):
    """Modified BG/NBD (Batislam et al. 2007): drop-out possible after every purchase, the first included.

    Parameters (after ``fit``): ``r_``, ``alpha_``, ``a_``, ``b_`` as in the BG/NBD.
    """

    name = "mbgnbd"
    reference = "Batislam, Denizel & Filiztekin (2007), IJRM 24(3):201-209"
    alive_when_no_repeat = False
    _modified = True

    def _p_alive(self, x, tx, T):
        r, alpha, a, b = self._p()
        # P(alive) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))
        z = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return expit(-z)

    def _cond_expected(self, t, x, tx, T):
        r, alpha, a, b = self._p()
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, z)
        first = (a + b + x) / (a - 1)
        second = 1 - hyp * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return first * second * self._p_alive(x, tx, T)

    def _uncond_expected(self, t):
        r, alpha, a, b = self._p()
        hyp = hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)


def sample(n: int, T: Any, *, r: float, alpha: float, a: float, b: float, seed: int = 0):
    """Simulate ``n`` customers from the MBG/NBD (see :func:`negah.models.bgnbd.sample`)."""
    return _bg_sample(n, T, r=r, alpha=alpha, a=a, b=b, seed=seed, modified=True)
