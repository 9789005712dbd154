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
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} row {i}: {arr[i]!r} is not a finite number")
    return arr


def rfm_arrays(frequency: Any, recency: Any = None, T: Any = None,
               weights: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate (x, t_x, T[, weights]); ``frequency`` may be a DataFrame with the columns.

    Rules: frequency is a whole number >= 0; 0 <= recency <= T; recency = 0 when
    frequency = 0; T > 0; weights >= 0.
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
    _check(x < 0, x, "frequency", "must be >= 0")
    _check(x != np.floor(x), x, "frequency", "must be a whole number (repeat purchase count)")
    _check(tx < 0, tx, "recency", "must be >= 0")
    _check(TT <= 0, TT, "T", "must be > 0 (customer age at the end of calibration)")
    _check(tx > TT * (1 + 1e-12), tx, "recency", "must be <= T")
    _check((x == 0) & (tx != 0), tx, "recency", "must be 0 when frequency is 0")
    if weights is None:
        w = np.ones_like(x)
    else:
        w = as_float_array(weights, "weight")
        if len(w) != len(x):
            raise InputError(f"weights: length {len(w)} differs from {len(x)} customers")
        _check(w < 0, w, "weight", "must be >= 0")
    return x, np.minimum(tx, TT), TT, w


def _check(bad: np.ndarray, values: np.ndarray, name: str, rule: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} row {i}: {values[i]!r} {rule} ({int(bad.sum())} row(s) break this)")


def collapse(*columns: np.ndarray, weights: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Collapse identical rows of ``columns`` into distinct rows with summed weights.

    Returns ``(distinct_columns, weights, inverse)``: ``distinct_columns[k][inverse]``
    gives back ``columns[k]``. The result is sorted (so it does not depend on row order).
    Cost: one factorisation per column and one sort of an int64 key.
    """
    import pandas as pd

    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    uniques = []
    codes_all = []
    for col in columns:
        # sort=True: codes follow value order, so the collapsed table is row-order free
        codes, uniq = pd.factorize(col, sort=True)
        uniques.append(np.asarray(uniq, dtype=np.float64))
        codes_all.append(codes.astype(np.int64))
    total = 1
    for u in uniques:
        total *= max(len(u), 1)
    if total < 2**62:
        mult = 1
        for codes, u in zip(reversed(codes_all), reversed(uniques)):
            key += codes * mult
            mult *= max(len(u), 1)
        ukey, inverse = np.unique(key, return_inverse=True)
        out = []
        mult = 1
        rem = ukey.copy()
        parts = []
        for u in reversed(uniques):
            size = max(len(u), 1)
            parts.append(u[rem % size])
            rem //= size
        out = list(reversed(parts))
    else:  # pragma: no cover - astronomically many distinct values
        stacked = np.column_stack(columns)
        uniq_rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
        out = [uniq_rows[:, k] for k in range(len(columns))]
    inverse = inverse.reshape(-1)
    w = np.bincount(inverse, weights=weights, minlength=len(out[0])).astype(np.float64)
    return out, w, inverse


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
        if ok and best is res and np.max(np.abs(res.jac)) < 1e-7:
            break
    if best is None or np.any(np.abs(best.x) > 24.9):
        at = "" if best is None else f" (stopped at {dict(zip(names, np.round(np.exp(best.x), 6).tolist()))})"
        raise ConvergenceError(
            f"{model}: the maximum-likelihood fit did not converge{at}.\n"
            "Tried: " + "; ".join(tried) + ".\n"
            "Checklist:\n"
            "  1. Are frequency, recency and T in the same time unit, with recency <= T and frequency the number of REPEAT purchases?\n"
            "  2. Are there enough customers with repeat purchases (frequency > 0)? A handful cannot identify the model.\n"
            "  3. A parameter running to 0 or infinity often means the model does not fit these data "
            "(e.g. no sign of drop-out: try another model, or a longer calibration period).\n"
            "  4. Rescale time (--time-unit week instead of day) so that parameters are of order 1-100.\n"
            "  5. Pass your own starting values with fit(..., initial_params={...})."
        )
    theta = best.x
    cov_log, H_ok = _inverse_hessian(negll_and_grad, theta)
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
