"""Customer summaries as arrays: validation, and the collapse of identical rows.

A purchase-model fit needs the distinct ``(x, t_x, T)`` rows with their weights, and for
each distinct row the index of its x, t_x and T among the distinct values of that column
(so that terms depending on one column only are computed once per distinct value).
:func:`rfm_data` gets all of that from the raw columns in a few memory-bound passes:

1. each column is read once as float64 and its minimum and maximum are taken (finite
   minimum and maximum mean that every value is finite, so no separate finiteness pass);
2. each column is coded as integers that follow value order (:func:`_codes`): purchase
   counts and whole days by a bincount, whole days in weeks (days / 7, the summary's
   ``time_unit="week"``) by their day number, anything else by a hash factorisation;
3. the codes are combined into one key and the distinct keys are counted with one more
   bincount (:func:`group`) — no sort, no hash table, no Python loop over rows;
4. the row rules (whole counts, recency <= T, recency = 0 when frequency = 0) are checked
   on the distinct rows; only when one fails are the raw rows scanned again, to name the
   first offending row.

:func:`rfm_arrays` is the plain validation used by the predictions, which need every row.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from negah.errors import InputError

SUMMARY_COLUMNS = ("frequency", "recency", "T")


def as_float_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-d float64 array, or an InputError naming the column."""
    arr = _as_float(values, name)
    if np.isfinite(arr.sum()):  # one pass, no temporary; a sum overflowing to inf is checked below
        return arr
    _check_finite(arr, name)
    return arr


def _as_float(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"column {name!r}: expected numbers, received {type(values).__name__}") from None


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} row {i}: {arr[i].item()!r} is not a finite number")


def _columns(frequency: Any, recency: Any, T: Any, weights: Any) -> tuple[Any, Any, Any, Any]:
    """The three summary columns (and weights) from separate arrays or one DataFrame."""
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
    return frequency, recency, T, weights


def _check_lengths(x: np.ndarray, tx: np.ndarray, TT: np.ndarray) -> None:
    if not (len(x) == len(tx) == len(TT)):
        raise InputError(f"frequency, recency and T must have one length; received {len(x)}, {len(tx)}, {len(TT)}")
    if len(x) == 0:
        raise InputError("summary table: no customers to fit")


def _weights(weights: Any, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = as_float_array(weights, "weight")
    if len(w) != n:
        raise InputError(f"weights: length {len(w)} differs from {n} customers")
    _check(w < 0, w, "weight", "must be >= 0")
    return w


_SIGN_RULES = {
    "frequency": "must be >= 0",
    "recency": "must be >= 0",
    "T": "must be >= 0 (customer age at the end of calibration)",
}
_WHOLE = "must be a whole number (repeat purchase count)"


def rfm_arrays(
    frequency: Any, recency: Any = None, T: Any = None, weights: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate (x, t_x, T[, weights]); ``frequency`` may be a DataFrame with the columns.

    ``weights`` comes back as None when none were given (every row one customer).

    Rules: frequency is a whole number >= 0; 0 <= recency <= T; recency = 0 when
    frequency = 0; T >= 0 (a customer first seen on the last day adds nothing); weights >= 0.
    """
    frequency, recency, T, weights = _columns(frequency, recency, T, weights)
    x = as_float_array(frequency, "frequency")
    tx = as_float_array(recency, "recency")
    TT = as_float_array(T, "T")
    _check_lengths(x, tx, TT)
    # cheap whole-array reductions first; the row-by-row masks only to report a failure
    for arr, name in ((x, "frequency"), (tx, "recency"), (TT, "T")):
        if arr.min() < 0:
            _check(arr < 0, arr, name, _SIGN_RULES[name])
    if not np.array_equal(x, np.floor(x)):
        _check(x != np.floor(x), x, "frequency", _WHOLE)
    if float((tx - TT).max()) > 0:
        _check(tx > TT * (1 + 1e-12), tx, "recency", "must be <= T")
        tx = np.minimum(tx, TT)
    zero = x == 0
    if np.count_nonzero(tx[zero]):
        _check(zero & (tx != 0), tx, "recency", "must be 0 when frequency is 0")
    return x, tx, TT, _weights(weights, len(x))


def _check(bad: np.ndarray, values: np.ndarray, name: str, rule: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} row {i}: {values[i].item()!r} {rule} ({int(bad.sum())} row(s) break this)")


def _codes(col: np.ndarray, lo: float | None = None, hi: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(codes, sorted distinct values) of a finite float column; codes follow value order.

    Whole numbers in a small range (purchase counts, days) are coded by a bincount;
    whole days in weeks (days / 7, the summary's ``time_unit="week"``) by their day
    number, checked to identify each value exactly; anything else by pandas' hash
    factorisation (one O(n) pass plus a sort of the distinct values). ``lo`` and ``hi``
    are the column's minimum and maximum when the caller has them already.
    """
    import pandas as pd

    if len(col) and col.dtype.kind == "f":
        if lo is None or hi is None:
            lo, hi = col.min(), col.max()
        head = col[:4096]
        if lo >= 0 and hi < 1_000_000 and np.array_equal(head, np.floor(head)):
            ic = col.astype(np.int64)
            if np.array_equal(ic, col):
                return _dense(ic)
        if lo >= 0 and hi * 7.0 < 4 * len(col) + (1 << 20):
            # times in weeks of whole days: code by the day number, then make sure that
            # the day number identifies the value exactly
            ic = np.empty(len(col), dtype=np.int64)
            np.rint(col * 7.0, out=ic, casting="unsafe")
            vals = np.zeros(int(hi * 7.0) + 2)
            vals[ic] = col
            if np.array_equal(vals[ic], col):
                return _dense(ic, vals)
    codes, uniq = pd.factorize(col, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(uniq, dtype=np.float64)


def _dense(ic: np.ndarray, vals: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k−1 in value order from whole numbers ``ic`` >= 0, and the k values.

    ``vals[i]`` is the value coded by whole number i (None: the number itself). Without
    gaps between the smallest and the largest number the codes are ``ic − min`` (no
    table look-up); otherwise a look-up table maps numbers to codes.
    """
    present = np.bincount(ic) > 0
    uniq = np.flatnonzero(present)
    values = uniq.astype(np.float64) if vals is None else vals[uniq]
    lo = int(uniq[0])
    if len(uniq) == len(present) - lo:
        return (ic - lo if lo else ic), values
    lut = np.cumsum(present) - 1
    return lut[ic], values


def group(
    codes: Sequence[np.ndarray], sizes: Sequence[int], weights: np.ndarray | None = None, inverse: bool = True
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """Distinct combinations of integer codes (code k of column j in ``range(sizes[j])``).

    Returns ``(codes_of_each_distinct_row, weights, inverse)``, sorted by the combined
    key (first column slowest). The codes are combined into one int64 key; when the key
    range (the product of ``sizes``) is at most a few times the number of rows, the
    distinct keys come from a bincount over that range (no sort, no hash table),
    otherwise from a hash factorisation of the key.
    """
    import pandas as pd

    n = len(codes[0])
    sizes = [max(int(s), 1) for s in sizes]
    total = 1
    for s_ in sizes:
        total *= s_
    key = np.array(codes[0], dtype=np.int64, copy=True)
    for c, size in zip(codes[1:], sizes[1:]):
        key *= size
        key += c
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
    out = []
    rem = ukey
    for size in reversed(sizes[1:]):
        out.append(rem % size)
        rem = rem // size
    out.append(rem)
    return list(reversed(out)), w, inv


def collapse(
    *columns: np.ndarray, weights: np.ndarray | None = None, inverse: bool = True
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """Collapse identical rows of ``columns`` into distinct rows with summed weights.

    Returns ``(distinct_columns, weights, inverse)``: ``distinct_columns[k][inverse]``
    gives back ``columns[k]`` (``inverse`` is None when not asked for). The result is
    sorted (so it does not depend on row order). Cost: one code per value and column
    (:func:`_codes`), then one :func:`group` of the codes. No Python loop over rows.
    """
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    coded = [_codes(c) for c in cols]
    sizes = [max(len(u), 1) for _, u in coded]
    if float(np.prod(np.array(sizes, dtype=np.float64))) >= 2.0**62:  # pragma: no cover - astronomically many values
        uniq_rows, inv = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        w = np.bincount(inv, weights=weights, minlength=len(uniq_rows)).astype(np.float64)
        return [uniq_rows[:, k] for k in range(len(cols))], w, (inv if inverse else None)
    cc, w, inv = group([c for c, _ in coded], sizes, weights, inverse)
    return [u[c] for (_, u), c in zip(coded, cc)], w, inv


class RFMData:
    """Collapsed (x, t_x, T) rows with weights, plus index maps to distinct values.

    ``ux[ix] == x``, ``utx[itx] == tx``, ``uT[iT] == T`` (the distinct values are sorted).
    Likelihood terms that depend only on x (gamma functions) are computed once per
    distinct x; ``log(alpha + t)`` once per distinct t_x and T. Rows are sorted by
    (x, t_x, T). Models keep their own precomputed index arrays in ``cache``.
    """

    def __init__(
        self,
        x: np.ndarray,
        tx: np.ndarray,
        T: np.ndarray,
        w: np.ndarray,
        *,
        collapsed: bool = False,
        index: tuple[np.ndarray, ...] | None = None,
    ):
        if not collapsed:
            (x, tx, T), w, _ = collapse(x, tx, T, weights=w, inverse=False)
            index = None
        keep = w > 0
        if not keep.all():
            x, tx, T, w = x[keep], tx[keep], T[keep], w[keep]
            if index is not None:
                ux, ix, utx, itx, uT, iT = index
                index = (ux, ix[keep], utx, itx[keep], uT, iT[keep])
        self.x, self.tx, self.T, self.w = x, tx, T, w
        if index is None:
            ux, ix = np.unique(x, return_inverse=True)
            utx, itx = np.unique(tx, return_inverse=True)
            uT, iT = np.unique(T, return_inverse=True)
            index = (ux, ix, utx, itx, uT, iT)
        self.ux, self.ix, self.utx, self.itx, self.uT, self.iT = index
        self.wx = np.bincount(self.ix, weights=self.w, minlength=len(self.ux))
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
        return RFMData(
            self.x, self.tx, self.T, w, collapsed=True, index=(self.ux, self.ix, self.utx, self.itx, self.uT, self.iT)
        )


def rfm_data(frequency: Any, recency: Any = None, T: Any = None, weights: Any = None) -> RFMData:
    """Validate and collapse a summary in one go (the fit's input path; module docstring).

    Same rules and messages as :func:`rfm_arrays`; the distinct rows and their index maps
    come out of the coding that the validation needs anyway.
    """
    frequency, recency, T, weights = _columns(frequency, recency, T, weights)
    cols = [_as_float(frequency, "frequency"), _as_float(recency, "recency"), _as_float(T, "T")]
    _check_lengths(*cols)
    coded = []
    for arr, name in zip(cols, SUMMARY_COLUMNS):
        lo, hi = arr.min(), arr.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            _check_finite(arr, name)
        if lo < 0:
            _check(arr < 0, arr, name, _SIGN_RULES[name])
        coded.append(_codes(arr, lo, hi))
    w_in = _weights(weights, len(cols[0]))
    (ix, itx, iT), w, _ = group([c for c, _ in coded], [len(u) for _, u in coded], w_in, inverse=False)
    (ux, utx, uT) = (u for _, u in coded)
    x, tx, TT = ux[ix], utx[itx], uT[iT]
    if not np.array_equal(ux, np.floor(ux)):
        _check(cols[0] != np.floor(cols[0]), cols[0], "frequency", _WHOLE)
    if np.any(tx > TT):
        _check(cols[1] > cols[2] * (1 + 1e-12), cols[1], "recency", "must be <= T")
        # recency above T by rounding only: clamp, and collapse again (rows may now coincide)
        return RFMData(x, np.minimum(tx, TT), TT, w)
    if ux[0] == 0 and np.any(tx[ix == 0] != 0):
        zero = cols[0] == 0
        _check(zero & (cols[1] != 0), cols[1], "recency", "must be 0 when frequency is 0")
    return RFMData(x, tx, TT, w, collapsed=True, index=(ux, ix, utx, itx, uT, iT))
