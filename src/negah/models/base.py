"""The fitted-model contract shared by every negah model, and the shared optimiser.

Contract (as in scikit-learn and lifelines):

* ``__init__`` stores settings only;
* ``fit(...)`` validates its input, learns, and returns ``self``;
* learned values end in ``_`` (``params_``, ``std_errors_``, ``log_likelihood_``, and one
  attribute per parameter such as ``r_``, ``alpha_``);
* every prediction checks that the model is fitted (:class:`negah.errors.ModelError`);
* ``summary`` is a DataFrame of estimates, standard errors and 95% intervals, and
  ``repr(model)`` shows the fitted parameters.

Maximum likelihood runs on the log of every parameter (all are positive), with
L-BFGS-B on the *mean* negative log-likelihood (for conditioning), from a data-driven
start and, if that fails, from a few fixed restarts. Standard errors come from the
observed information: the Hessian of the total negative log-likelihood, by central
differences of the gradient, inverted, and mapped to the natural scale by the delta
method (at the optimum the two scales agree to first order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from negah.errors import ConvergenceError, InputError, ModelError

SUMMARY_COLUMNS = ("frequency", "recency", "T")


# ------------------------------------------------------------------------------------
# input handling
# ------------------------------------------------------------------------------------

def as_float_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-d float64 array, or an InputError naming the column."""
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"column {name!r}: expected numbers, received {type(values).__name__}") from None
    if np.isfinite(arr.sum()):  # one pass, no temporary; a sum overflowing to inf is checked below
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} row {i}: {arr[i]!r} is not a finite number")
    return arr


def rfm_arrays(frequency: Any, recency: Any = None, T: Any = None,
               weights: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate (x, t_x, T[, weights]); ``frequency`` may be a DataFrame with the columns.

    ``weights`` comes back as None when none were given (every row one customer).

    Rules: frequency is a whole number >= 0; 0 <= recency <= T; recency = 0 when
    frequency = 0; T >= 0 (a customer first seen on the last day adds nothing); weights >= 0.
    """
    if hasattr(frequency, "columns"):
        df = frequency
        missing = [c for c in SUMMARY_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(
                f"summary table: missing column(s) {missing}; expected columns "
                f"customer_id, frequency, recency, T (and optional monetary_value); received {list(df.columns)}"
            )
        if weights is None and "weight" in df.columns:
            weights = df["weight"]
        frequency, recency, T = df["frequency"], df["recency"], df["T"]
    if recency is None or T is None:
        raise InputError("give frequency, recency and T (or a DataFrame with those columns)")
    x = as_float_array(frequency, "frequency")
    tx = as_float_array(recency, "recency")
    TT = as_float_array(T, "T")
    if not (len(x) == len(tx) == len(TT)):
        raise InputError(f"frequency, recency and T must have one length; received {len(x)}, {len(tx)}, {len(TT)}")
    if len(x) == 0:
        raise InputError("summary table: no customers to fit")
    # cheap whole-array reductions first; the row-by-row masks only to report a failure
    if x.min() < 0:
        _check(x < 0, x, "frequency", "must be >= 0")
    if not np.array_equal(x, np.floor(x)):
        _check(x != np.floor(x), x, "frequency", "must be a whole number (repeat purchase count)")
    if tx.min() < 0:
        _check(tx < 0, tx, "recency", "must be >= 0")
    if TT.min() < 0:
        _check(TT < 0, TT, "T", "must be >= 0 (customer age at the end of calibration)")
    over = float((tx - TT).max())
    if over > 0:
        _check(tx > TT * (1 + 1e-12), tx, "recency", "must be <= T")
        tx = np.minimum(tx, TT)
    zero = x == 0
    if np.count_nonzero(tx[zero]):
        _check(zero & (tx != 0), tx, "recency", "must be 0 when frequency is 0")
    if weights is None:
        w = None
    else:
        w = as_float_array(weights, "weight")
        if len(w) != len(x):
            raise InputError(f"weights: length {len(w)} differs from {len(x)} customers")
        _check(w < 0, w, "weight", "must be >= 0")
    return x, tx, TT, w


def _check(bad: np.ndarray, values: np.ndarray, name: str, rule: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} row {i}: {values[i]!r} {rule} ({int(bad.sum())} row(s) break this)")


def _codes(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, sorted distinct values) of a float column; codes follow value order.

    Whole numbers in a small range (purchase counts, days) are coded by a bincount;
    whole days in weeks (days / 7, the summary's ``time_unit="week"``) by their day
    number, checked to identify each value exactly; anything else by pandas' hash
    factorisation (one O(n) pass plus a sort of the distinct values).
    """
    import pandas as pd

    if len(col) and col.dtype.kind == "f":
        lo, hi = col.min(), col.max()
        if lo >= 0 and hi < 1_000_000:
            ic = col.astype(np.int64)
            if np.array_equal(ic, col):
                present = np.bincount(ic) > 0
                uniq = np.flatnonzero(present)
                if len(uniq) == hi + 1:
                    return ic, uniq.astype(np.float64)
                lut = np.cumsum(present) - 1
                return lut[ic], uniq.astype(np.float64)
        if lo >= 0:
            # times in days, or in weeks of whole days (days / 7): code by the day number,
            # then make sure that the day number identifies the value exactly
            for scale in (7.0,):
                top = hi * scale
                if top >= 4 * len(col) + (1 << 20):
                    break
                ic = np.rint(col * scale).astype(np.int64)
                vals = np.zeros(int(top) + 2)
                vals[ic] = col
                if np.array_equal(vals[ic], col):
                    present = np.zeros(len(vals), dtype=bool)
                    present[ic] = True
                    lut = np.cumsum(present) - 1
                    return lut[ic], vals[present]
    codes, uniq = pd.factorize(col, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(uniq, dtype=np.float64)


def collapse(*columns: np.ndarray, weights: np.ndarray | None = None,
             inverse: bool = True) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """Collapse identical rows of ``columns`` into distinct rows with summed weights.

    Returns ``(distinct_columns, weights, inverse)``: ``distinct_columns[k][inverse]``
    gives back ``columns[k]`` (``inverse`` is None when not asked for). The result is
    sorted (so it does not depend on row order).

    Cost: one code per value and column (see :func:`_codes`), then the codes are
    combined into one int64 key; when the key range (product of the numbers of distinct
    values) is at most a few times the number of rows, the distinct keys come from a
    bincount over that range (no sort, no hash table), otherwise from a hash
    factorisation of the key. No Python loop over rows.
    """
    import pandas as pd

    n = len(columns[0])
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    coded = [_codes(c) for c in cols]
    sizes = [max(len(u), 1) for _, u in coded]
    total = 1
    for s_ in sizes:
        total *= s_
    if total >= 2**62:  # pragma: no cover - astronomically many distinct values
        stacked = np.column_stack(columns)
        uniq_rows, inv = np.unique(stacked, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        w = np.bincount(inv, weights=weights, minlength=len(uniq_rows)).astype(np.float64)
        return [uniq_rows[:, k] for k in range(len(columns))], w, (inv if inverse else None)
    key = coded[0][0].astype(np.int64, copy=True)
    for (codes, _), size in zip(coded[1:], sizes[1:]):
        key *= size
        key += codes
    if total <= max(4 * n, 1 << 22):
        counts = np.bincount(key, minlength=total)
        ukey = np.flatnonzero(counts)
        if weights is None:
            w = counts[ukey].astype(np.float64)
        else:
            w = np.bincount(key, weights=weights, minlength=total)[ukey]
        inv = None
        if inverse:
            lut = np.empty(total, dtype=np.int64)
            lut[ukey] = np.arange(len(ukey))
            inv = lut[key]
    else:
        inv, ukey = pd.factorize(key, sort=True)
        ukey = np.asarray(ukey)
        w = np.bincount(inv, weights=weights, minlength=len(ukey)).astype(np.float64)
        inv = inv.astype(np.int64, copy=False) if inverse else None
    rem = ukey.copy()
    parts = []
    for (_, u), size in zip(reversed(coded[1:]), reversed(sizes[1:])):
        parts.append(u[rem % size])
        rem //= size
    parts.append(coded[0][1][rem])
    return list(reversed(parts)), w, inv


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
    params: np.ndarray
    log_likelihood: float
    std_errors: np.ndarray
    covariance: np.ndarray
    converged: bool
    iterations: int
    message: str


def numeric_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function."""
    g = np.empty_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h * max(1.0, abs(theta[i]))
        g[i] = (f(theta + e) - f(theta - e)) / (2 * e[i])
    return g


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
) -> FitResult:
    """Maximise a log-likelihood over log-parameters.

    ``negll_and_grad(theta)`` returns the *total* negative log-likelihood and its gradient
    with respect to ``theta = log(params)``. Raises :class:`ConvergenceError` with a
    checklist when no start converges to a finite optimum.
    """
    from scipy.optimize import minimize

    scale = 1.0 / max(total_weight, 1.0)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if np.any(np.abs(theta) > 30):
            return np.inf, np.zeros_like(theta)
        v, g = negll_and_grad(theta)
        if not np.isfinite(v) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(theta)
        return v * scale, g * scale

    best = None
    tried: list[str] = []
    for x0 in [np.asarray(start, dtype=float), *[np.asarray(r, dtype=float) for r in restarts]]:
        v0, _ = f(x0)
        if not np.isfinite(v0):
            tried.append(f"start {np.round(np.exp(x0), 4).tolist()}: log-likelihood not finite")
            continue
        res = minimize(f, x0, jac=True, method="L-BFGS-B",
                       bounds=[(-25.0, 25.0)] * len(x0),
                       options={"maxiter": maxiter, "ftol": tol, "gtol": 1e-9, "maxcor": 20})
        ok = bool(np.isfinite(res.fun)) and (res.success or np.max(np.abs(res.jac)) < 1e-5)
        tried.append(f"start {np.round(np.exp(x0), 4).tolist()}: {res.message} after {res.nit} iterations")
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
    at = dict(zip(names, np.round(np.exp(best.x), 6).tolist()))
    if np.any(np.abs(best.x) > 18.0):
        raise fail(f"a parameter ran to the edge of its range: {at}")
    theta = best.x
    if not std_errors:
        k = len(theta)
        return FitResult(np.exp(theta), -float(best.fun) / scale, np.full(k, np.nan), np.full((k, k), np.nan),
                         True, int(best.nit), str(best.message))
    cov_log, H_ok = _inverse_hessian(negll_and_grad, theta)
    if not H_ok:
        raise fail(f"the log-likelihood is flat or not at a maximum at {at}: the parameters are not identified")
    params = np.exp(theta)
    # delta method: d param / d theta = param
    cov = cov_log * np.outer(params, params)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    ll = -float(negll_and_grad(theta)[0])
    return FitResult(params, ll, se, cov, bool(H_ok), int(best.nit), str(best.message))


def _inverse_hessian(negll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
                     theta: np.ndarray, h: float = 1e-4) -> tuple[np.ndarray, bool]:
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        gp = negll_and_grad(theta + e)[1]
        gm = negll_and_grad(theta - e)[1]
        H[i] = (gp - gm) / (2 * h)
    H = 0.5 * (H + H.T)
    try:
        cov = np.linalg.inv(H)
        ok = bool(np.all(np.linalg.eigvalsh(H) > 0))
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan), False
    return cov, ok


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
        self.params_ = {n: float(v) for n, v in zip(self.param_names, res.params)}
        self.std_errors_ = {n: float(v) for n, v in zip(self.param_names, res.std_errors)}
        self.covariance_ = res.covariance
        self.log_likelihood_ = float(res.log_likelihood)
        self.n_customers_ = int(round(n_customers))
        self.n_rows_ = int(n_rows)
        self.converged_ = res.converged
        self.iterations_ = res.iterations
        for n, v in self.params_.items():
            setattr(self, f"{n}_", v)

    def _theta0(self, default: dict[str, float]) -> np.ndarray:
        start = dict(default)
        if self.initial_params:
            unknown = set(self.initial_params) - set(self.param_names)
            if unknown:
                raise InputError(f"{type(self).__name__} initial_params: unknown {sorted(unknown)}; allowed {list(self.param_names)}")
            start.update(self.initial_params)
        vals = np.array([float(start[n]) for n in self.param_names])
        if np.any(vals <= 0):
            raise InputError(f"{type(self).__name__} initial_params: every parameter must be > 0, received {start}")
        return np.log(vals)

    def _p(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(self.params_[n] for n in self.param_names)

    # -- reporting --------------------------------------------------------------------
    @property
    def summary(self):
        """Estimates, standard errors and 95% Wald intervals, one row per parameter."""
        import pandas as pd

        self._check_fitted()
        rows = []
        for n in self.param_names:
            est, se = self.params_[n], self.std_errors_[n]
            rows.append({"param": n, "estimate": est, "std_error": se,
                         "lower_95": est - 1.959964 * se, "upper_95": est + 1.959964 * se})
        df = pd.DataFrame(rows).set_index("param")
        df.attrs["log_likelihood"] = self.log_likelihood_
        df.attrs["n_customers"] = self.n_customers_
        return df

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain data: model, params, std_errors, log_likelihood, n_customers."""
        self._check_fitted()
        return {
            "model": self.name,
            "params": dict(self.params_),
            "std_errors": dict(self.std_errors_),
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
        }

    def __repr__(self) -> str:
        cls = type(self).__name__
        if not self.is_fitted:
            return f"<negah.{cls}: not fitted>"
        ps = ", ".join(f"{n}={self.params_[n]:.4g}" for n in self.param_names)
        return (f"<negah.{cls}: {ps}; log-likelihood {self.log_likelihood_:.2f} "
                f"on {self.n_customers_:,} customers ({self.n_rows_:,} distinct rows)>")


# ------------------------------------------------------------------------------------
# non-contractual purchase models (BG/NBD, MBG/NBD, Pareto/NBD)
# ------------------------------------------------------------------------------------

class RFMData:
    """Collapsed (x, t_x, T) rows with weights, plus index maps to distinct values.

    Likelihood terms that depend only on x (gamma functions) are computed once per
    distinct x; ``log(alpha + t)`` once per distinct t_x and T. Models keep their own
    precomputed index arrays in ``cache``.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray, *, collapsed: bool = False):
        if not collapsed:
            (x, tx, T), w, _ = collapse(x, tx, T, weights=w, inverse=False)
        keep = w > 0
        if not keep.all():
            x, tx, T, w = x[keep], tx[keep], T[keep], w[keep]
        self.x, self.tx, self.T, self.w = x, tx, T, w
        self.ux, self.ix = np.unique(self.x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=self.w, minlength=len(self.ux))
        self.utx, self.itx = np.unique(self.tx, return_inverse=True)
        self.uT, self.iT = np.unique(self.T, return_inverse=True)
        self.total = float(self.w.sum())
        self.n_rows = len(self.x)
        self.cache: dict[str, Any] = {}

    def thin(self, customers: float, seed: int = 0) -> "RFMData":
        """A random subsample of about ``customers`` customers, still collapsed.

        Whole-number weights are thinned binomially (an exact simple random sample of
        customers); other weights by Poisson thinning. Used for cheap starting values.
        """
        rng = np.random.default_rng(seed)
        frac = min(1.0, customers / max(self.total, 1.0))
        if np.array_equal(self.w, np.floor(self.w)):
            w = rng.binomial(self.w.astype(np.int64), frac).astype(np.float64)
        else:
            w = rng.poisson(self.w * frac).astype(np.float64)
        return RFMData(self.x, self.tx, self.T, w, collapsed=True)


class PurchaseModel(BaseModel):
    """Shared fit/predict plumbing of the non-contractual purchase models."""

    #: whether P(alive) is 1 for a customer without repeat purchases (x = 0)
    alive_when_no_repeat: bool = False
    #: above this many distinct rows, start from a fit on a subsample of customers
    subsample_rows: int = 20_000
    #: size of that subsample (customers)
    subsample_customers: int = 50_000

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
        x, tx, TT, w = rfm_arrays(frequency, recency, T, weights)
        d = RFMData(x, tx, TT, w)
        if d.total <= 0:
            raise InputError(f"{type(self).__name__}: all weights are 0")
        start = self._theta0(self._start(d))
        restarts = [np.log(np.array(r)) for r in self._restarts()]
        if d.n_rows > self.subsample_rows and not self.initial_params:
            # a fit on a random subsample of customers is a cheap, good start for the full fit
            sub = d.thin(self.subsample_customers)
            if sub.total > 0 and np.any(sub.x > 0):
                try:
                    pre = maximise(lambda th: self._negll(th, sub), start, names=self.param_names,
                                   model=type(self).__name__, total_weight=sub.total, restarts=restarts,
                                   tol=1e-8, std_errors=False)
                    restarts = [start, *restarts]
                    start = np.log(pre.params)
                except ConvergenceError:
                    pass
        res = maximise(lambda th: self._negll(th, d), start, names=self.param_names,
                       model=type(self).__name__, total_weight=d.total, restarts=restarts)
        self._set_result(res, d.total, d.n_rows)
        return self

    # to be provided by subclasses -------------------------------------------------------
    def _start(self, d: RFMData) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _restarts(self) -> list[list[float]]:
        return [[1.0] * len(self.param_names), [0.5, 5.0, 0.5, 5.0][: len(self.param_names)]]

    def _negll(self, theta: np.ndarray, d: RFMData) -> tuple[float, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def log_likelihood(self, frequency: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        x, tx, TT, w = rfm_arrays(frequency, recency, T)
        return self._loglik_rows(np.log(np.array(self._p())), x, tx, TT)

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

    def clv(self, frequency: Any, recency: Any = None, T: Any = None, *, spend: Any,
            horizon: int, discount_rate: float, margin: float = 1.0) -> np.ndarray:
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
