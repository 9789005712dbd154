"""The fitted-model contract shared by every negah model, and the shared optimiser.

Contract (as in scikit-learn and lifelines):

* ``__init__`` stores settings only;
* ``fit(...)`` validates its input, learns, and returns ``self``;
* learned values end in ``_`` (``params_``, ``std_errors_``, ``log_likelihood_``, and one
  attribute per parameter such as ``r_``, ``alpha_``);
* every prediction checks that the model is fitted (:class:`negah.errors.ModelError`);
* ``summary`` is a DataFrame of estimates, standard errors and 95% intervals, and
  ``repr(model)`` shows the fitted parameters.

Maximum likelihood runs on the log of every parameter (all are positive) and on the
*mean* negative log-likelihood (for conditioning), from a data-driven start and, if that
fails, from a few fixed restarts: Newton steps in a trust region where a model gives its
exact Hessian (BG/NBD, MBG/NBD), L-BFGS-B otherwise. Standard errors come from the
observed information — the Hessian of the total negative log-likelihood (exact, or by
central differences of the analytic gradient), inverted, and mapped to the natural scale
by the delta method (at the optimum the two scales agree to first order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from negah.errors import ConvergenceError, InputError, ModelError
from negah.models.rfm import (  # noqa: F401  (re-exported: the models import them from here)
    SUMMARY_COLUMNS,
    RFMData,
    as_float_array,
    collapse,
    group,
    rfm_arrays,
    rfm_data,
)


def wsum(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS.

    ``np.dot`` on long vectors goes to a multi-threaded BLAS whose threads spin-wait for
    cores; on a busy machine that made a likelihood evaluation several times slower.
    ``einsum``'s own loop is single-threaded and as fast on one core.
    """
    return float(np.einsum("i,i->", a, b))


# ------------------------------------------------------------------------------------
# optimisation
# ------------------------------------------------------------------------------------


@dataclass
class FitResult:
    theta: np.ndarray
    params: np.ndarray
    log_likelihood: float
    std_errors: np.ndarray
    covariance: np.ndarray
    converged: bool
    iterations: int
    message: str
    #: set when the maximum lies on the boundary of the parameter space (a limiting model):
    #: {"params": {...}, "std_errors": {...}, "message": str, ...}; see BGNBD
    boundary: dict | None = None


def _log_params(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameters from θ = log(parameters), and d parameter / d θ."""
    p = np.exp(theta)
    return p, p


_BLAS: list[Any] = []


def _one_blas_thread():
    """A context in which BLAS runs on one thread (a no-op without threadpoolctl).

    scipy's L-BFGS-B calls BLAS on vectors of four numbers; OpenBLAS's worker threads
    then spin for a while after each call, and on a busy machine that spinning cost more
    CPU time than the likelihood itself (measured: 0.13 of 0.30 CPU seconds of a 1M
    BG/NBD fit). The models' own sums do not use BLAS (:func:`wsum`).
    """
    from contextlib import nullcontext

    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except Exception:  # pragma: no cover - threadpoolctl missing or unable to inspect
            _BLAS.append(None)
    ctl = _BLAS[0]
    return nullcontext() if ctl is None else ctl.limit(limits=1, user_api="blas")


def maximise(
    negll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    *,
    names: Sequence[str],
    model: str,
    total_weight: float,
    restarts: Sequence[np.ndarray] = (),
    maxiter: int = 2000,
    tol: float = 1e-12,
    std_errors: bool = True,
    hessian: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]] | None = None,
    to_params: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = _log_params,
) -> FitResult:
    """Maximise a log-likelihood over transformed parameters θ (by default their logs).

    ``negll_and_grad(theta)`` returns the *total* negative log-likelihood and its gradient
    with respect to θ. With ``hessian(theta)`` — the negative log-likelihood, its
    gradient and its exact Hessian in θ — the fit takes Newton steps in a trust region
    (scipy's ``trust-exact``: a handful of iterations from a good start) and the standard
    errors come from that Hessian; otherwise it runs L-BFGS-B and the Hessian for the
    standard errors comes from central differences of the gradient. ``to_params(theta)``
    gives the parameters and their derivatives in θ (delta method). Raises
    :class:`ConvergenceError` with a checklist when no start converges to a finite optimum.
    """
    from scipy.optimize import minimize

    scale = 1.0 / max(total_weight, 1.0)
    cache: dict[bytes, tuple[float, np.ndarray, np.ndarray | None]] = {}

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if np.any(np.abs(theta) > 30):
            return np.inf, np.zeros_like(theta)
        v, g = negll_and_grad(theta)
        if not np.isfinite(v) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(theta)
        return v * scale, g * scale

    def fgh(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        key = theta.tobytes()
        hit = cache.get(key)
        if hit is None:
            k = len(theta)
            hit = (np.inf, np.zeros(k), np.eye(k))
            if not np.any(np.abs(theta) > 30):
                v, g, H = hessian(theta)
                if np.isfinite(v) and np.all(np.isfinite(g)) and np.all(np.isfinite(H)):
                    hit = (v * scale, g * scale, H * scale)
            if len(cache) > 8:
                cache.clear()
            cache[key] = hit
        return hit

    def run(x0: np.ndarray):
        if hessian is None:
            return minimize(
                f,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-25.0, 25.0)] * len(x0),
                options={"maxiter": maxiter, "ftol": tol, "gtol": 1e-9, "maxcor": 20},
            )
        return minimize(
            lambda t: fgh(t)[0],
            x0,
            jac=lambda t: fgh(t)[1],
            hess=lambda t: fgh(t)[2],
            method="trust-exact",
            options={"gtol": 1e-10 if tol < 1e-9 else 1e-7, "maxiter": min(maxiter, 500)},
        )

    best = None
    tried: list[str] = []
    with _one_blas_thread():
        for x0 in [np.asarray(start, dtype=float), *[np.asarray(r, dtype=float) for r in restarts]]:
            v0 = f(x0)[0] if hessian is None else fgh(x0)[0]
            if not np.isfinite(v0):
                tried.append(f"start {np.round(to_params(x0)[0], 4).tolist()}: log-likelihood not finite")
                continue
            res = run(x0)
            ok = bool(np.isfinite(res.fun)) and (res.success or np.max(np.abs(res.jac)) < 1e-5)
            tried.append(f"start {np.round(to_params(x0)[0], 4).tolist()}: {res.message} after {res.nit} iterations")
            if ok and (best is None or res.fun < best.fun - 1e-12):
                best = res
            if ok and best is res:
                break  # restarts are for failed starts only

    def fail(reason: str) -> ConvergenceError:
        return ConvergenceError(
            f"{model}: the maximum-likelihood fit did not converge ({reason}).\n"
            "Tried: " + "; ".join(tried) + ".\n"
            "Checklist:\n"
            "  1. Are frequency, recency and T in the same time unit, with recency <= T and frequency the number of REPEAT purchases?\n"
            "  2. Are there enough customers with repeat purchases (frequency > 0)? A handful cannot identify the model.\n"
            "  3. A parameter running to 0 or infinity often means the model does not fit these data "
            "(e.g. no sign of drop-out: try another model, or a longer calibration period).\n"
            "  4. Rescale time (--time-unit week instead of day) so that parameters are of order 1-100.\n"
            "  5. Pass your own starting values with initial_params={...}."
        )

    if best is None:
        raise fail("no start reached a finite optimum")
    theta = np.asarray(best.x, dtype=float)
    params, dparams = to_params(theta)
    at = dict(zip(names, np.round(params, 6).tolist()))
    if np.any(np.abs(theta) > 18.0):
        raise fail(f"a parameter ran to the edge of its range: {at}")
    k = len(theta)
    if not std_errors:
        return FitResult(
            theta,
            params,
            -float(best.fun) / scale,
            np.full(k, np.nan),
            np.full((k, k), np.nan),
            True,
            int(best.nit),
            str(best.message),
        )
    if hessian is None:
        cov_t, H_ok = _inverse_hessian(negll_and_grad, theta)
        ll = -float(negll_and_grad(theta)[0])
    else:
        v, _, H = fgh(theta)
        cov_t, H_ok = _invert(H / scale)
        ll = -float(v) / scale
    if not H_ok:
        raise fail(f"the log-likelihood is flat or not at a maximum at {at}: the parameters are not identified")
    cov = cov_t * np.outer(dparams, dparams)  # delta method
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    return FitResult(theta, params, ll, se, cov, bool(H_ok), int(best.nit), str(best.message))


def _invert(H: np.ndarray) -> tuple[np.ndarray, bool]:
    """(inverse, positive definite?) of a symmetric Hessian of the negative log-likelihood."""
    k = len(H)
    H = 0.5 * (H + H.T)
    try:
        cov = np.linalg.inv(H)
        ok = bool(np.all(np.linalg.eigvalsh(H) > 0))
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan), False
    return cov, ok


def _inverse_hessian(
    negll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], theta: np.ndarray, h: float = 1e-4
) -> tuple[np.ndarray, bool]:
    """Inverse of the Hessian by central differences of the analytic gradient."""
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        gp = negll_and_grad(theta + e)[1]
        gm = negll_and_grad(theta - e)[1]
        H[i] = (gp - gm) / (2 * h)
    return _invert(H)


# ------------------------------------------------------------------------------------
# the contract
# ------------------------------------------------------------------------------------


class BaseModel:
    """Base class of negah's fitted models; see the module docstring for the contract."""

    #: parameter names as in the papers, in order
    param_names: tuple[str, ...] = ()
    #: short name used by the CLI (``bgnbd``, ``paretonbd`` …)
    name: str = ""
    #: the paper the likelihood and the predictions come from
    reference: str = ""

    def __init__(self, initial_params: dict[str, float] | None = None):
        self.initial_params = initial_params

    # -- state ------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "params_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ModelError(f"{type(self).__name__} is not fitted yet: call fit(...) first")

    def _set_result(self, res: FitResult, n_customers: float, n_rows: int) -> None:
        for n in getattr(self, "params_", {}):  # a refit: no limit parameter of an earlier boundary fit stays
            if n not in self.param_names and hasattr(self, f"{n}_"):
                delattr(self, f"{n}_")
        self.params_ = {n: float(v) for n, v in zip(self.param_names, res.params)}
        self.std_errors_ = {n: float(v) for n, v in zip(self.param_names, res.std_errors)}
        self.covariance_ = res.covariance
        #: the parameters that the rows and columns of ``covariance_`` belong to
        self.covariance_names_ = list(self.param_names)
        self.log_likelihood_ = float(res.log_likelihood)
        self.n_customers_ = int(round(n_customers))
        self.n_rows_ = int(n_rows)
        self.converged_ = res.converged
        self.iterations_ = res.iterations
        self.boundary_ = None
        if res.boundary:
            self.params_.update(res.boundary["params"])
            self.std_errors_.update(res.boundary["std_errors"])
            # the limiting model's covariance: its finite parameters, then the limit's own
            self.covariance_names_ = [n for n, v in zip(self.param_names, res.params) if np.isfinite(v)] + list(
                res.boundary["params"]
            )
            self.boundary_ = str(res.boundary["message"])
        for n, v in self.params_.items():
            setattr(self, f"{n}_", v)

    def _theta0(self, default: dict[str, float]) -> np.ndarray:
        start = dict(default)
        if self.initial_params:
            unknown = set(self.initial_params) - set(self.param_names)
            if unknown:
                raise InputError(
                    f"{type(self).__name__} initial_params: unknown {sorted(unknown)}; allowed {list(self.param_names)}"
                )
            start.update(self.initial_params)
        vals = np.array([float(start[n]) for n in self.param_names])
        if np.any(vals <= 0):
            raise InputError(f"{type(self).__name__} initial_params: every parameter must be > 0, received {start}")
        return np.log(vals)

    def _p(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(self.params_[n] for n in self.param_names)

    def _theta_hat(self) -> np.ndarray:
        """The fitted parameters on the optimiser's scale (θ = log parameters)."""
        return np.log(np.array(self._p()))

    # -- reporting --------------------------------------------------------------------
    @property
    def summary(self):
        """Estimates, standard errors and 95% Wald intervals, one row per parameter."""
        import pandas as pd

        self._check_fitted()
        rows = []
        for n, est in self.params_.items():
            se = self.std_errors_[n]
            row = {
                "param": n,
                "estimate": est,
                "std_error": se,
                "lower_95": est - 1.959964 * se,
                "upper_95": est + 1.959964 * se,
            }
            if self.boundary_:
                row["note"] = "" if n in self.param_names and np.isfinite(est) else self._boundary_note(n)
            rows.append(row)
        df = pd.DataFrame(rows).set_index("param")
        df.attrs["log_likelihood"] = self.log_likelihood_
        df.attrs["n_customers"] = self.n_customers_
        if self.boundary_:
            df.attrs["warning"] = self.boundary_
        return df

    def _boundary_note(self, name: str) -> str:
        return "at the boundary"

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain data: model, params, std_errors, log_likelihood, n_customers."""
        self._check_fitted()

        def finite(d: dict[str, float]) -> dict[str, float | None]:
            return {k: (float(v) if np.isfinite(v) else None) for k, v in d.items()}

        out = {
            "model": self.name,
            "params": finite(self.params_),
            "std_errors": finite(self.std_errors_),
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
        }
        if getattr(self, "boundary_", None):
            out["boundary"] = self.boundary_
        return out

    def __repr__(self) -> str:
        cls = type(self).__name__
        if not self.is_fitted:
            return f"<negah.{cls}: not fitted>"
        ps = ", ".join(f"{n}={v:.4g}" for n, v in self.params_.items())
        if getattr(self, "boundary_", None):
            ps += " (at the boundary of the parameter space: see .boundary_)"
        return (
            f"<negah.{cls}: {ps}; log-likelihood {self.log_likelihood_:.2f} "
            f"on {self.n_customers_:,} customers ({self.n_rows_:,} distinct rows)>"
        )


# ------------------------------------------------------------------------------------
# non-contractual purchase models (BG/NBD, MBG/NBD, Pareto/NBD)
# ------------------------------------------------------------------------------------


class PurchaseModel(BaseModel):
    """Shared fit/predict plumbing of the non-contractual purchase models."""

    #: whether P(alive) is 1 for a customer without repeat purchases (x = 0)
    alive_when_no_repeat: bool = False
    #: above this many distinct rows, start from a fit on a subsample of customers
    subsample_rows: int = 20_000
    #: size of that subsample (customers)
    subsample_customers: int = 50_000
    #: whether the model gives its exact Hessian (``_negll_hess``): Newton steps, exact standard errors
    has_hessian: bool = False

    def fit(self, frequency: Any, recency: Any = None, T: Any = None, *, weights: Any = None):
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency
            Repeat purchases in calibration (x), or a DataFrame with columns
            ``frequency, recency, T`` (and optional ``weight``).
        recency
            Time of the last repeat purchase since the first purchase (t_x); 0 when x = 0.
        T
            Time from the first purchase to the end of calibration.
        weights
            Number of customers each row stands for (default 1). Identical rows are
            collapsed anyway, so weights are only needed for pre-aggregated tables.

        Returns
        -------
        self
        """
        d = rfm_data(frequency, recency, T, weights)
        if d.total <= 0:
            raise InputError(f"{type(self).__name__}: all weights are 0")
        res = self._fit_data(d)
        self._set_result(res, d.total, d.n_rows)
        return self

    def _fit_data(self, d: RFMData) -> FitResult:
        start = self._theta0(self._start(d))
        restarts = [np.log(np.array(r)) for r in self._restarts()]
        return self._ml(d, start, restarts)

    def _ml(
        self,
        d: RFMData,
        start: np.ndarray,
        restarts: Sequence[np.ndarray],
        *,
        negll: Callable | None = None,
        hessian: Callable | None = None,
        names: Sequence[str] | None = None,
        to_params: Callable = _log_params,
        subsample: bool = True,
    ) -> FitResult:
        """Maximum likelihood on ``d`` (by default the model's own likelihood and parameters).

        Above ``subsample_rows`` distinct rows, the fit starts from a fit on a random
        subsample of ``subsample_customers`` customers (a cheap, good start).
        """
        if negll is None:
            negll = self._negll
            hessian = self._negll_hess if self.has_hessian else None
        names = names or self.param_names
        model = type(self).__name__

        def kw(data: RFMData) -> dict[str, Any]:
            return {
                "names": names,
                "model": model,
                "total_weight": data.total,
                "to_params": to_params,
                "hessian": None if hessian is None else (lambda th: hessian(th, data)),
            }

        if subsample and d.n_rows > self.subsample_rows and not self.initial_params:
            sub = d.thin(self.subsample_customers)
            if sub.total > 0 and np.any(sub.x > 0):
                try:
                    pre = maximise(
                        lambda th: negll(th, sub), start, restarts=restarts, tol=1e-8, std_errors=False, **kw(sub)
                    )
                    restarts = [start, *restarts]
                    start = pre.theta
                except ConvergenceError:
                    pass
        return maximise(lambda th: negll(th, d), start, restarts=restarts, **kw(d))

    # to be provided by subclasses -------------------------------------------------------
    def _start(self, d: RFMData) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _restarts(self) -> list[list[float]]:
        return [[1.0] * len(self.param_names), [0.5, 5.0, 0.5, 5.0][: len(self.param_names)]]

    def _negll(self, theta: np.ndarray, d: RFMData) -> tuple[float, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _negll_hess(self, theta: np.ndarray, d: RFMData) -> tuple[float, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def log_likelihood(self, frequency: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        x, tx, TT, w = rfm_arrays(frequency, recency, T)
        return self._loglik_rows(self._theta_hat(), x, tx, TT)

    def _loglik_rows(self, theta, x, tx, T) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # predictions ------------------------------------------------------------------------
    def probability_alive(self, frequency: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """P(customer still alive at T | x, t_x, T)."""
        x, tx, TT, _ = rfm_arrays(frequency, recency, T)
        return self._p_alive(x, tx, TT)

    def expected_purchases(self, t: float, frequency: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """E[number of purchases in (T, T + t] | x, t_x, T]."""
        x, tx, TT, _ = rfm_arrays(frequency, recency, T)
        t = float(t)
        if t < 0:
            raise InputError(f"horizon t must be >= 0, received {t}")
        if t == 0:
            return np.zeros_like(x)
        return self._cond_expected(t, x, tx, TT)

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer just acquired at 0."""
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        self._check_fitted()
        return self._uncond_expected(tt)

    def clv(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        spend: Any,
        horizon: int,
        discount_rate: float,
        margin: float = 1.0,
    ) -> np.ndarray:
        """Discounted value of each customer's purchases in the next ``horizon`` periods.

        CLV = margin * spend * sum_{k=1..horizon} (E[X(T, T+k)] - E[X(T, T+k-1)]) / (1 + d)^k,
        with ``spend`` the expected value of a purchase (e.g. Gamma-Gamma's
        :meth:`GammaGamma.expected_spend`) and ``d`` the discount rate per period of the
        model's time unit.
        """
        x, tx, TT, _ = rfm_arrays(frequency, recency, T)
        horizon = int(horizon)
        if horizon < 1:
            raise InputError(f"horizon must be a whole number >= 1, received {horizon}")
        if discount_rate < 0:
            raise InputError(f"discount_rate must be >= 0, received {discount_rate}")
        spend = np.broadcast_to(np.asarray(spend, dtype=float), x.shape)
        # collapse: predictions depend on (x, t_x, T) only
        (ux, utx, uT), _, inv = collapse(x, tx, TT)
        prev = np.zeros_like(ux)
        total = np.zeros_like(ux)
        for k in range(1, horizon + 1):
            cur = self._cond_expected(float(k), ux, utx, uT)
            total += (cur - prev) / (1.0 + discount_rate) ** k
            prev = cur
        return margin * spend * total[inv]

    def sample(self, n: int, T: Any, seed: int = 0):
        """Simulate ``n`` customers from the fitted parameters (see the module's ``sample``)."""
        import importlib

        mod = importlib.import_module(type(self).__module__)
        return mod.sample(n, T, seed=seed, **self.params_)

    def _p_alive(self, x, tx, T):  # pragma: no cover - abstract
        raise NotImplementedError

    def _cond_expected(self, t, x, tx, T):  # pragma: no cover - abstract
        raise NotImplementedError

    def _uncond_expected(self, t):  # pragma: no cover - abstract
        raise NotImplementedError
