"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

"Empirical validation and comparison of models for customer base analysis",
International Journal of Research in Marketing 24(3):201-209. Like the BG/NBD, but a
customer may also drop out right after the first (trial) purchase, so that a customer
with no repeat purchase is not certainly alive. Likelihood (their eq. 4):

    L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

evaluated in log space with its exact gradient and Hessian (shared with :mod:`negah.models.bgnbd`).
"""

from __future__ import annotations

from typing import Any

from negah.models.bgnbd import BGNBD
from negah.models.bgnbd import sample as _bg_sample

__all__ = ["MBGNBD", "sample"]


class MBGNBD(BGNBD):
    """Modified BG/NBD (Batislam et al. 2007): drop-out possible after every purchase, the first included.

    Parameters (after ``fit``): ``r_``, ``alpha_``, ``a_``, ``b_`` as in the BG/NBD, with
    the same exact Hessian and the same boundary handling (a, b → ∞: a fixed drop-out
    probability ``p_``). The likelihood and the predictions are the BG/NBD code with
    k = 1 more purchase that may end the life (the first one).
    """

    name = "mbgnbd"
    reference = "Batislam, Denizel & Filiztekin (2007), IJRM 24(3):201-209"
    alive_when_no_repeat = False
    _modified = True


def sample(
    n: int,
    T: Any,
    *,
    r: float,
    alpha: float,
    a: float | None = None,
    b: float | None = None,
    seed: int = 0,
    p: float | None = None,
):
    """Simulate ``n`` customers from the MBG/NBD (see :func:`negah.models.bgnbd.sample`)."""
    return _bg_sample(n, T, r=r, alpha=alpha, a=a, b=b, seed=seed, modified=True, p=p)
