"""The synthetic business: canonical tables with a known ground truth.

:func:`generate` writes one file per canonical table (``orders``, ``customers``,
``subscriptions``, ``responses``, ``complaints``, ``contacts``, ``campaigns``, ``spend``;
Parquet or CSV) and, beside them, the truth that produced them:

* ``ground_truth.json`` – every parameter of the generating model (BG/NBD-like purchase
  and dropout process, complaint effects, loyalty effect, planted complaint spike,
  contact-response model, campaign offers, acquisition cost per channel) and realised
  summaries (rows per table, the loyalty program's true effect on the treated next to
  the naive member/non-member difference, complaints in the spike cell against its
  baseline, the product return rate);
* ``truth_customers.parquet`` / ``.csv`` – one row per customer with its latent values
  (purchase rate, dropout probability, satisfaction, best contact channel and hour,
  whether it dropped out and when, whether it would be alive without the loyalty
  program).

The generating model, per customer (time in days from ``start``):

1. Signup ``t0`` in the window with a linearly growing density (the business grows);
   acquisition channel, country, subscriber flag and plan drawn from fixed shares.
2. ``lambda ~ Gamma(r, alpha)`` (purchases per day, times a channel factor, capped),
   ``p ~ Beta(a, b)`` (dropout probability after a purchase), satisfaction
   ``s ~ N(0, 1)`` and a basket size ``m ~ Gamma(2, 0.4)``.
3. The first purchase is at signup. After each purchase the customer drops out with
   probability ``sigmoid(logit p + channel shift + beta_sat*s + beta_sub*subscriber
   + beta_reason[complaint about this order] + beta_loyal*member)``; otherwise the next
   purchase follows after ``Exp(lambda)`` days. Complaints (probability falling with
   satisfaction, higher in the planted spike cell), NPS answers (a score driven by
   satisfaction and by a complaint about the order), loyalty joins (more likely after
   many and frequent purchases, i.e. observed behaviour: membership is confounded with
   it) and plan changes of subscribers happen at purchases.
4. Order lines: ``1 + Poisson(m)`` lines, products by Zipf popularity, quantity
   ``1 + Poisson(0.2)``, occasional 10 %/20 % discounts; each line is returned with
   its product's return rate, 2-30 days later, as a line with negative quantity and
   amount and ``kind='return'`` under the same ``order_id``.
5. Contacts, campaign sends and acquisition spend are drawn from the customer's
   latent values and life span.

Determinism: customers are generated in blocks of ``block_size`` (default
:data:`BLOCK_SIZE`); block ``i`` draws from ``np.random.SeedSequence(seed,
spawn_key=(1, i))`` and business-wide values (products, campaigns, spike, spend noise)
from ``spawn_key=(0,)``. The same ``seed``, window, ``customers`` and ``block_size``
give byte-identical files; the write batch (``chunk_customers``) and the number of
threads never change the data. Memory is bounded by the write batch: blocks are
written as they are made (a writer thread overlaps encoding with generation).
"""

from __future__ import annotations

import json
import math
import os
import queue
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from negah.errors import InputError

__all__ = ["generate", "TABLE_NAMES", "BLOCK_SIZE", "DEFAULT_START", "DEFAULT_END", "LINES_PER_CUSTOMER"]

TABLE_NAMES = ("customers", "orders", "subscriptions", "responses", "complaints", "contacts", "campaigns", "spend")
BLOCK_SIZE = 50_000
"""Customers per random-number block (part of the data's definition: changing it changes the data)."""
DEFAULT_CHUNK = 50_000
"""Customers per write batch (Parquet row group); never changes the data."""
DEFAULT_START = date(2023, 1, 1)
DEFAULT_END = date(2024, 12, 31)
LINES_PER_CUSTOMER = 8.4
"""Order rows (purchase and return lines) per customer on the default two-year window
(8,433,141 rows for ``negah synth OUT --customers 1000000 --seed 0``); ``--orders``
estimates the ratio for the requested window with a pilot block instead."""
GENERATOR_VERSION = 1

_EPOCH = date(1970, 1, 1)

# ---------------------------------------------------------------- model parameters
R_SHAPE, ALPHA_RATE = 0.75, 34.0          # lambda ~ Gamma(shape r, rate alpha), per day: mean 1/45
LAMBDA_CAP = 0.25                         # at most one purchase per 4 days on average
A_BETA, B_BETA = 1.0, 5.0                 # p ~ Beta(a, b): mean 1/6
GROWTH = 1.5                              # signup density rises linearly by this factor over the window
MAX_ORDERS = 9_999                        # per customer (order ids carry a 4-digit sequence)

CHANNELS = ("organic", "paid_search", "paid_social", "referral", "affiliate", "email")
CHANNEL_SHARE = (0.30, 0.22, 0.18, 0.12, 0.10, 0.08)
CHANNEL_LAMBDA = (1.00, 0.95, 0.80, 1.20, 0.90, 1.05)      # purchase-rate multiplier
CHANNEL_DROPOUT = (0.00, 0.10, 0.35, -0.30, 0.20, -0.10)   # log-odds shift of dropout
CHANNEL_CAC = (0.0, 38.0, 45.0, 25.0, 30.0, 12.0)          # true acquisition cost per customer
COUNTRIES = ("IR", "AE", "TR", "DE", "GB", "US")
COUNTRY_SHARE = (0.55, 0.12, 0.10, 0.08, 0.08, 0.07)

SUBSCRIBER_SHARE = 0.30
PLANS = ("basic", "plus", "pro")
PLAN_SHARE = (0.50, 0.35, 0.15)
PLAN_MRR_CENTS = (990, 1990, 3990)
UPGRADE_PROB, DOWNGRADE_PROB = 0.06, 0.04  # per repeat purchase of a subscriber
CANCEL_DELAY = (1, 30)                     # days from the last purchase to the subscription's end

BETA_SAT = -0.35                           # dropout log-odds per SD of satisfaction
BETA_SUBSCRIBER = -0.40
BETA_LOYAL = -0.60                         # dropout log-odds for a loyalty member

REASONS = ("late_delivery", "damaged", "wrong_item", "price", "support", "product_quality")
REASON_SHARE = (0.30, 0.14, 0.12, 0.14, 0.12, 0.18)
BETA_REASON = (0.50, 0.70, 0.60, 0.90, 1.10, 0.80)         # dropout log-odds after the order complained about
REASON_TEXT = (
    "My order arrived much later than promised.",
    "The item arrived damaged.",
    "I received the wrong item.",
    "The price is too high compared to other shops.",
    "Support did not solve my problem.",
    "The product quality is poor.",
)
COMPLAINT_BASE = 0.035                     # per order, at satisfaction 0
COMPLAINT_SAT = -0.50                      # complaint log-odds per SD of satisfaction
COMPLAINT_CHANNELS = ("email", "phone", "chat", "web")
COMPLAINT_CHANNEL_SHARE = (0.35, 0.25, 0.25, 0.15)
SPIKE_REASON = "damaged"
SPIKE_PRODUCT_RANK = 4                     # the 4th most popular product
SPIKE_PROB = 0.25                          # extra complaint probability per order with the product in the month

NPS_PROB = 0.12                            # survey answered after an order
NPS_MEAN, NPS_SAT, NPS_COMPLAINT, NPS_SD = 7.5, 1.7, 3.0, 1.3

LOYALTY_LAUNCH_FRACTION = 0.25             # the program starts a quarter into the window
JOIN_BASE, JOIN_FREQ, JOIN_K = -2.6, 0.6, 0.15   # join log-odds at a purchase, from observed behaviour only

N_PRODUCTS = 200
ZIPF_EXPONENT = 1.0
CATEGORIES = ("apparel", "home", "beauty", "electronics", "books")
CATEGORY_RETURN = (0.25, 0.12, 0.09, 0.15, 0.06)           # mean line return rate per category
QTY_EXTRA = 0.2
BASKET_SHAPE, BASKET_SCALE = 2.0, 0.4        # extra lines per order ~ Poisson(m), m ~ Gamma
PRODUCT_TABLE_BITS = 16                    # products are drawn from a 2**16-entry quantile table
MAX_LINES = 30
RETURN_DELAY = (2, 30)

CONTACT_CHANNELS = ("phone", "email", "sms", "chat")
BEST_CHANNEL_SHARE = (0.25, 0.35, 0.20, 0.20)
CONTACT_BASE = (0.30, 0.22, 0.15, 0.25)    # response base per channel; x BEST_MULT on the best channel, else x OTHER_MULT
BEST_MULT, OTHER_MULT = 2.2, 0.6
HOURS = np.arange(8, 22)                   # contacts are made 08:00-21:59
BEST_HOUR_WEIGHT = (2, 4, 6, 5, 3, 2, 2, 2, 3, 4, 6, 7, 5, 3)
HOUR_SD = 2.0
HOUR_FLOOR = 0.2                           # response factor far from the best hour
CONTACTS_PER_MONTH = 0.3
CONTACT_OUTCOME = ("answered", "opened", "replied", "replied", "no_response")
LAPSE_DAYS = 120                           # contacts and campaigns reach a dropped-out customer this long

OFFERS = ("discount_10", "discount_20", "free_shipping", "bonus_points", "winback_gift")
OFFER_RESPONSE = (0.08, 0.12, 0.10, 0.06, 0.09)
OFFER_CONVERSION = (0.35, 0.45, 0.40, 0.30, 0.25)          # given a response
CAMPAIGN_DAYS = (3, 17)                    # two sends a month
CAMPAIGN_TARGET = 0.20
DEAD_RESPONSE_FACTOR = 0.2                 # a customer who dropped out responds this much less
SPEND_NOISE_SD = 0.15


# ---------------------------------------------------------------- small helpers
def _poisson_table(mu: float, bits: int = PRODUCT_TABLE_BITS) -> np.ndarray:
    """1 + Poisson(mu) by table lookup of a uniform (the table's shares are the truth)."""
    size = 1 << bits
    pmf = [math.exp(-mu)]
    while sum(pmf) < 1 - 1e-9 and len(pmf) < 50:
        pmf.append(pmf[-1] * mu / len(pmf))
    counts = np.floor(np.asarray(pmf) / sum(pmf) * size).astype(np.int64)
    counts[0] += size - counts.sum()
    return 1 + np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _cum(shares) -> np.ndarray:
    c = np.cumsum(np.asarray(shares, dtype=np.float64))
    c /= c[-1]
    c[-1] = 1.0 + 1e-12
    return c


_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of the zero-padded decimal digits of ``numbers``."""
    n = int(numbers.size)
    buf = np.empty((n, width), dtype=np.uint8)
    x = numbers.astype(np.int64, copy=True)
    j = width
    while j >= 2:
        buf[:, j - 2:j] = _PAIRS[x % 100]
        x //= 100
        j -= 2
    if j == 1:
        buf[:, 0] = (x % 10 + 48).astype(np.uint8)
    return buf


def _gather_rows(mat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of a uint8 matrix (``np.take`` along axis 0 copies whole rows, fast)."""
    return np.take(mat, idx, axis=0)


def _fixed_strings(mat: np.ndarray):
    """Arrow string array whose i-th value is the bytes of row i of ``mat`` (all rows the same width)."""
    import pyarrow as pa

    n, w = mat.shape
    if (n + 1) * w < 2 ** 31:
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(mat))])
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets),
                                                        pa.py_buffer(np.ascontiguousarray(mat))]).cast(pa.string())


def _prefixed(prefix: str, *parts: np.ndarray) -> np.ndarray:
    """Concatenate ``prefix`` and digit matrices column-wise into one uint8 matrix."""
    n = parts[0].shape[0]
    pre = prefix.encode()
    out = np.empty((n, len(pre) + sum(p.shape[1] for p in parts)), dtype=np.uint8)
    out[:, :len(pre)] = np.frombuffer(pre, dtype=np.uint8)
    j = len(pre)
    for p in parts:
        out[:, j:j + p.shape[1]] = p
        j += p.shape[1]
    return out


_LABELS: dict[tuple, Any] = {}


def _labels(names, idx: np.ndarray):
    """Arrow string array ``names[idx]`` (Arrow's take is fast on a small vocabulary)."""
    import pyarrow as pa

    key = tuple(names)
    vocab = _LABELS.get(key)
    if vocab is None:
        vocab = _LABELS[key] = pa.array(list(key), type=pa.string())
    return vocab.take(pa.array(np.asarray(idx).astype(np.int32, copy=False)))


_K4 = _digits(np.arange(10_000), 4)


def _dates(days: np.ndarray, mask: np.ndarray | None = None):
    """date32 array from days since 1970-01-01 (``mask`` True = null)."""
    import pyarrow as pa

    return pa.array(days.astype(np.int32, copy=False), type=pa.int32(), mask=mask).view(pa.date32())


def _timestamps(seconds: np.ndarray, mask: np.ndarray | None = None):
    import pyarrow as pa

    return pa.array(seconds.astype(np.int64, copy=False), type=pa.int64(), mask=mask).view(pa.timestamp("s"))


def _money(cents: np.ndarray):
    """decimal128(18, 2) array from integer cents, exact."""
    import pyarrow as pa

    c = cents.astype(np.int64, copy=False)
    buf = np.empty(2 * c.size, dtype=np.int64)
    buf[0::2] = c
    buf[1::2] = c >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), c.size, [None, pa.py_buffer(buf)])


def _schemas():
    import pyarrow as pa

    s, d, ts, m, i, b, f = pa.string(), pa.date32(), pa.timestamp("s"), pa.decimal128(18, 2), pa.int64(), pa.bool_(), pa.float64()
    return {
        "customers": pa.schema([("customer_id", s), ("signup_date", d), ("plan", s), ("country", s),
                                ("acquisition_channel", s), ("loyalty_member", b), ("loyalty_joined", d)]),
        "orders": pa.schema([("order_id", s), ("customer_id", s), ("order_date", d), ("product_id", s),
                             ("quantity", i), ("amount", m), ("kind", s)]),
        "subscriptions": pa.schema([("subscription_id", s), ("customer_id", s), ("start_date", d),
                                    ("end_date", d), ("mrr", m), ("plan", s)]),
        "responses": pa.schema([("customer_id", s), ("response_date", d), ("score", i), ("survey_id", s)]),
        "complaints": pa.schema([("complaint_id", s), ("customer_id", s), ("complaint_date", d), ("reason", s),
                                 ("product_id", s), ("channel", s), ("status", s), ("text", s)]),
        "contacts": pa.schema([("customer_id", s), ("contacted_at", ts), ("channel", s), ("direction", s),
                               ("outcome", s)]),
        "campaigns": pa.schema([("customer_id", s), ("campaign_id", s), ("offer", s), ("sent_at", ts),
                                ("responded_at", ts), ("converted_at", ts)]),
        "spend": pa.schema([("spend_date", d), ("channel", s), ("amount", m)]),
        "truth_customers": pa.schema([
            ("customer_id", s), ("purchase_rate", f), ("dropout_p", f), ("dropout_logit_base", f),
            ("satisfaction", f), ("basket_lines", f), ("subscriber", b), ("best_channel", s), ("best_hour", i),
            ("loyalty_member", b), ("loyalty_joined", d), ("purchases", i), ("complaints", i),
            ("last_purchase_date", d), ("dropped_out", b), ("dropout_date", d), ("alive_at_end", b),
            ("alive_without_loyalty", b)]),
    }


def _month_starts(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while True:
        d = date(y, m, 1)
        if d > end:
            return out
        out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


# ---------------------------------------------------------------- business-wide context
class _Context:
    def __init__(self, seed: int, start: date, end: date, spike: bool, block_size: int):
        self.seed = int(seed)
        self.start, self.end = start, end
        self.start_epoch = (start - _EPOCH).days
        self.days = (end - start).days + 1
        self.block_size = block_size
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0,)))

        # products
        ranks = np.arange(1, N_PRODUCTS + 1, dtype=np.float64)
        zipf = ranks ** -ZIPF_EXPONENT
        # quantile table: product of a uniform u is table[int(u * 2**bits)]; the popularity in the
        # ground truth is the table's exact share
        size = 1 << PRODUCT_TABLE_BITS
        counts = np.floor(zipf / zipf.sum() * size).astype(np.int64)
        counts = np.maximum(counts, 1)
        counts[0] += size - counts.sum()
        self.product_table = np.repeat(np.arange(N_PRODUCTS, dtype=np.int16), counts)
        self.popularity = counts / size
        self.category = rng.integers(0, len(CATEGORIES), N_PRODUCTS)
        price = np.exp(rng.normal(math.log(30.0), 0.7, N_PRODUCTS))
        self.price_cents = (np.maximum(np.round(price), 2) * 100 - 1).astype(np.int64)   # 29.99-style
        mean_ret = np.asarray(CATEGORY_RETURN)[self.category]
        conc = 40.0
        self.return_rate = rng.beta(mean_ret * conc, (1 - mean_ret) * conc)
        self.product_ids = [f"P{i:04d}" for i in range(1, N_PRODUCTS + 1)]

        # months
        self.months = _month_starts(start, end)
        self.month_off = np.array([max(0, (m - start).days) for m in self.months], dtype=np.int64)

        # spike: the month about 60 % into the window, the SPIKE_PRODUCT_RANK-th product
        self.spike = None
        if spike and len(self.months) >= 3:
            mi = min(len(self.months) - 2, max(1, int(round(0.6 * (len(self.months) - 1)))))
            s0 = int(self.month_off[mi])
            s1 = int(self.month_off[mi + 1]) if mi + 1 < len(self.months) else self.days
            self.spike = {"month_index": mi, "start": s0, "end": s1, "product": SPIKE_PRODUCT_RANK - 1,
                          "reason": REASONS.index(SPIKE_REASON)}

        self.launch = int(round(LOYALTY_LAUNCH_FRACTION * self.days))

        # campaigns: two sends a month with an offer and an hour
        cdays, offers, hours = [], [], []
        for m in self.months:
            for dd in CAMPAIGN_DAYS:
                d = date(m.year, m.month, dd)
                if start <= d <= end:
                    cdays.append((d - start).days)
        n_c = len(cdays)
        offers = rng.integers(0, len(OFFERS), n_c)
        hours = rng.integers(9, 20, n_c)
        self.camp_day = np.asarray(cdays, dtype=np.int64)
        self.camp_offer = offers
        self.camp_hour = hours
        self.camp_ids = [f"CMP{i:04d}" for i in range(1, n_c + 1)]
        self.spend_noise = np.exp(rng.normal(0.0, SPEND_NOISE_SD, (len(self.months), len(CHANNELS))))

        self.reason_cum = _cum(REASON_SHARE)
        self.channel_cum = _cum(CHANNEL_SHARE)
        self.country_cum = _cum(COUNTRY_SHARE)
        self.plan_cum = _cum(PLAN_SHARE)
        self.best_ch_cum = _cum(BEST_CHANNEL_SHARE)
        self.hour_cum = _cum(BEST_HOUR_WEIGHT)
        self.cchan_cum = _cum(COMPLAINT_CHANNEL_SHARE)


# ---------------------------------------------------------------- one block of customers
def _block(ctx: _Context, b: int, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Simulate customers ``b*block_size .. +n``; return Arrow tables and block statistics."""
    import pyarrow as pa

    rng = np.random.default_rng(np.random.SeedSequence(ctx.seed, spawn_key=(1, b)))
    D = ctx.days
    c_first = b * ctx.block_size + 1          # customer number of local index 0
    cust_num = c_first + np.arange(n, dtype=np.int64)

    # customers -------------------------------------------------------------------
    u = rng.random((n, 9))
    g = GROWTH
    x = (np.sqrt(1.0 + 2.0 * g * u[:, 0] * (1.0 + g / 2.0)) - 1.0) / g if g > 0 else u[:, 0]
    t0 = np.minimum(x * D, D - 1e-6)
    signup = t0.astype(np.int64)
    ch = np.searchsorted(ctx.channel_cum, u[:, 1], side="right")
    country = np.searchsorted(ctx.country_cum, u[:, 2], side="right")
    subscriber = u[:, 3] < SUBSCRIBER_SHARE
    plan0 = np.where(subscriber, np.searchsorted(ctx.plan_cum, u[:, 4], side="right"), -1)
    best_ch = np.searchsorted(ctx.best_ch_cum, u[:, 5], side="right")
    best_hour = HOURS[np.searchsorted(ctx.hour_cum, u[:, 6], side="right")]
    cancel_delay = CANCEL_DELAY[0] + (u[:, 7] * (CANCEL_DELAY[1] - CANCEL_DELAY[0] + 1)).astype(np.int64)
    lam = np.minimum(rng.gamma(R_SHAPE, 1.0 / ALPHA_RATE, n) * np.asarray(CHANNEL_LAMBDA)[ch], LAMBDA_CAP)
    lam = np.maximum(lam, 1e-9)
    p = np.clip(rng.beta(A_BETA, B_BETA, n), 1e-6, 1 - 1e-6)
    sat = rng.standard_normal(n)
    basket = rng.gamma(BASKET_SHAPE, BASKET_SCALE, n)
    base_logit = (np.log(p / (1 - p)) + np.asarray(CHANNEL_DROPOUT)[ch] + BETA_SAT * sat
                  + BETA_SUBSCRIBER * subscriber)
    comp_prob = _sigmoid(_logit(COMPLAINT_BASE) + COMPLAINT_SAT * sat)

    price, ret_rate, ptable = ctx.price_cents, ctx.return_rate, ctx.product_table
    qty_table = _poisson_table(QTY_EXTRA)
    # 100 - discount (%) by a uniform's twentieth: 1/20 of lines 20 % off, 3/20 10 % off
    disc_table = np.array([80] + [90] * 3 + [100] * 16, dtype=np.int64)
    beta_reason = np.asarray(BETA_REASON)
    spike = ctx.spike

    member = np.zeros(n, dtype=bool)
    joined = np.full(n, -1, dtype=np.int64)
    died = np.zeros(n, dtype=bool)
    cf_dead = np.zeros(n, dtype=bool)
    last_day = np.zeros(n, dtype=np.int64)
    npurch = np.zeros(n, dtype=np.int64)
    ncomp = np.zeros(n, dtype=np.int64)
    cur_plan = plan0.copy()

    L_c, L_k, L_d, L_p, L_q, L_a, L_r = [], [], [], [], [], [], []       # lines
    C_c, C_k, C_j, C_d, C_r, C_p = [], [], [], [], [], []                # complaints
    N_c, N_d, N_s = [], [], []                                           # nps
    E_c, E_d, E_p = [], [], []                                           # plan changes

    a_idx = np.arange(n, dtype=np.int64)
    a_t = t0.copy()
    k = 0
    while a_idx.size:
        m = a_idx.size
        day = a_t.astype(np.int64)
        U = rng.random((m, 7))   # complaint, nps, spike, join, plan change, dropout, next gap
        L = np.minimum(1 + rng.poisson(basket[a_idx]), MAX_LINES)
        starts = np.cumsum(L) - L
        nl = int(L.sum())
        lo = np.repeat(np.arange(m), L)
        V = rng.random((nl, 4), dtype=np.float32)
        prod = ptable[(V[:, 0] * (1 << PRODUCT_TABLE_BITS)).astype(np.int64)].astype(np.int64)
        qty = qty_table[(V[:, 1] * (1 << PRODUCT_TABLE_BITS)).astype(np.int64)]
        cents = (qty * price[prod] * disc_table[(V[:, 2] * 20).astype(np.int64)] + 50) // 100
        lcust = a_idx[lo]
        lday = day[lo]
        L_c.append(lcust); L_k.append(np.full(nl, k)); L_d.append(lday); L_p.append(prod)
        L_q.append(qty); L_a.append(cents); L_r.append(np.zeros(nl, dtype=np.int8))
        ri = np.flatnonzero(V[:, 3] < ret_rate[prod])
        if ri.size:
            # the return delay reuses the uniform's position below the return rate (uniform again)
            ret_day = lday[ri] + RETURN_DELAY[0] + (V[ri, 3] / ret_rate[prod[ri]]
                                                   * (RETURN_DELAY[1] - RETURN_DELAY[0] + 1)).astype(np.int64)
            ok = ret_day < D
            ri, ret_day = ri[ok], ret_day[ok]
            L_c.append(lcust[ri]); L_k.append(np.full(ri.size, k)); L_d.append(ret_day)
            L_p.append(prod[ri]); L_q.append(-qty[ri]); L_a.append(-cents[ri])
            L_r.append(np.ones(ri.size, dtype=np.int8))

        # complaints about this order (details drawn for the complaining orders only)
        dl = np.zeros(m)
        ci = np.flatnonzero(U[:, 0] < comp_prob[a_idx])
        complained = np.zeros(m, dtype=bool)
        if ci.size:
            W = rng.random((ci.size, 3))
            reason = np.searchsorted(ctx.reason_cum, W[:, 0], side="right")
            cday = day[ci] + (W[:, 1] * 8).astype(np.int64)
            dl[ci] = beta_reason[reason]
            complained[ci] = True
            e = cday < D
            ne = int(e.sum())
            C_c.append(a_idx[ci[e]]); C_k.append(np.full(ne, k)); C_j.append(np.zeros(ne, np.int64))
            C_d.append(cday[e]); C_r.append(reason[e])
            C_p.append(prod[starts[ci[e]] + (W[e, 2] * L[ci[e]]).astype(np.int64)])
        if spike is not None and day.min() < spike["end"] and day.max() >= spike["start"]:
            has = np.zeros(m, dtype=bool)
            has[lo[prod == spike["product"]]] = True
            si = np.flatnonzero(has & (day >= spike["start"]) & (day < spike["end"]) & (U[:, 2] < SPIKE_PROB))
            if si.size:
                dl[si] += beta_reason[spike["reason"]]
                complained[si] = True
                # complaints of the spike are dated inside the spike month
                sday = np.minimum(day[si] + (rng.random(si.size) * 8).astype(np.int64), spike["end"] - 1)
                e = sday < D
                ne = int(e.sum())
                C_c.append(a_idx[si[e]]); C_k.append(np.full(ne, k)); C_j.append(np.ones(ne, np.int64))
                C_d.append(sday[e]); C_r.append(np.full(ne, spike["reason"])); C_p.append(np.full(ne, spike["product"]))
        ncomp[a_idx] += complained

        # NPS answer
        ai = np.flatnonzero(U[:, 1] < NPS_PROB)
        if ai.size:
            nday = day[ai] + 3 + (rng.random(ai.size) * 12).astype(np.int64)
            ai, nday = ai[nday < D], nday[nday < D]
            z = rng.standard_normal(ai.size)
            score = np.clip(np.rint(NPS_MEAN + NPS_SAT * sat[a_idx[ai]] - NPS_COMPLAINT * complained[ai]
                                    + NPS_SD * z), 0, 10).astype(np.int64)
            N_c.append(a_idx[ai]); N_d.append(nday); N_s.append(score)

        # loyalty program
        mem = member[a_idx]
        if ctx.launch < D and day.max() >= ctx.launch:
            ei = np.flatnonzero(~mem & (day >= ctx.launch))
            if ei.size:
                # observed so far: k + 1 purchases in the days since signup (at least 30)
                freq = (k + 1) * 30.0 / np.maximum(a_t[ei] - t0[a_idx[ei]], 30.0)
                jp = _sigmoid(JOIN_BASE + JOIN_K * min(k, 10) + JOIN_FREQ * np.log(freq))
                ji = ei[U[ei, 3] < jp]
                member[a_idx[ji]] = True
                joined[a_idx[ji]] = day[ji]
                mem[ji] = True

        # plan changes of subscribers
        if k > 0:
            cp = cur_plan[a_idx]
            up = (cp >= 0) & (cp < len(PLANS) - 1) & (U[:, 4] < UPGRADE_PROB)
            down = (cp > 0) & (U[:, 4] >= UPGRADE_PROB) & (U[:, 4] < UPGRADE_PROB + DOWNGRADE_PROB)
            chg = np.flatnonzero(up | down)
            if chg.size:
                newp = cp[chg] + up[chg].astype(np.int64) - down[chg].astype(np.int64)
                cur_plan[a_idx[chg]] = newp
                E_c.append(a_idx[chg]); E_d.append(day[chg]); E_p.append(newp)

        # dropout after this purchase; the same draw without the loyalty term gives the counterfactual
        lg = base_logit[a_idx] + dl
        ud = U[:, 5]
        mi = np.flatnonzero(mem)
        if mi.size:
            cf_dead[a_idx[mi[ud[mi] < _sigmoid(lg[mi])]]] = True
            lg[mi] += BETA_LOYAL
        die = ud < _sigmoid(lg)
        npurch[a_idx] += 1
        last_day[a_idx] = day
        died[a_idx[die]] = True

        nt = a_t - np.log1p(-U[:, 6]) / lam[a_idx]
        keep = ~die & (nt < D)
        if k + 1 >= MAX_ORDERS:
            keep[:] = False
        a_idx = a_idx[keep]
        a_t = nt[keep]
        k += 1

    cf_dead |= died
    T: dict[str, Any] = {}
    se0 = ctx.start_epoch
    cust_dig = _digits(cust_num, 9)
    cust_mat = _prefixed("C", cust_dig)
    cust_str = _fixed_strings(cust_mat)

    def cust_col(local: np.ndarray):
        return _fixed_strings(_gather_rows(cust_mat, local))

    # orders ------------------------------------------------------------------------
    lc = np.concatenate(L_c); lk = np.concatenate(L_k); ld = np.concatenate(L_d)
    order = np.argsort((lc << 40) | (ld << 1) | np.concatenate(L_r).astype(np.int64), kind="stable")
    lc, lk, ld = lc[order], lk[order], ld[order]
    lp = np.concatenate(L_p)[order]; lq = np.concatenate(L_q)[order]; la = np.concatenate(L_a)[order]
    lr = np.concatenate(L_r)[order]
    T["orders"] = pa.table([
        _fixed_strings(_prefixed("O", _gather_rows(cust_dig, lc), _gather_rows(_K4, lk))), cust_col(lc), _dates(ld + se0),
        _labels(ctx.product_ids, lp), pa.array(lq, type=pa.int64()), _money(la),
        _labels(("purchase", "return"), lr)], schema=_SCHEMAS["orders"])

    # complaints --------------------------------------------------------------------
    if C_c:
        cc = np.concatenate(C_c); ck = np.concatenate(C_k); cj = np.concatenate(C_j); cd = np.concatenate(C_d)
        cr = np.concatenate(C_r); cpr = np.concatenate(C_p)
    else:
        cc = ck = cj = cd = cr = cpr = np.zeros(0, dtype=np.int64)
    o = np.argsort((cc << 40) | (cd << 1) | cj, kind="stable")
    cc, ck, cj, cd, cr, cpr = cc[o], ck[o], cj[o], cd[o], cr[o], cpr[o]
    W = rng.random((cc.size, 2))
    cch = np.searchsorted(ctx.cchan_cum, W[:, 0], side="right")
    status = np.where((cd < D - 14) & (W[:, 1] < 0.92), 0, 1)
    T["complaints"] = pa.table([
        _fixed_strings(_prefixed("Q", _gather_rows(cust_dig, cc), _gather_rows(_K4, ck), _digits(cj, 1))), cust_col(cc), _dates(cd + se0),
        _labels(REASONS, cr), _labels(ctx.product_ids, cpr), _labels(COMPLAINT_CHANNELS, cch),
        _labels(("resolved", "open"), status), _labels(REASON_TEXT, cr)], schema=_SCHEMAS["complaints"])

    # responses ---------------------------------------------------------------------
    if N_c:
        nc_ = np.concatenate(N_c); nd = np.concatenate(N_d); ns = np.concatenate(N_s)
    else:
        nc_ = nd = ns = np.zeros(0, dtype=np.int64)
    o = np.argsort((nc_ << 40) | nd, kind="stable")
    nc_, nd, ns = nc_[o], nd[o], ns[o]
    nmonth = np.searchsorted(ctx.month_off, nd, side="right") - 1
    T["responses"] = pa.table([
        cust_col(nc_), _dates(nd + se0), pa.array(ns, type=pa.int64()),
        _labels([f"NPS-{mm.year:04d}-{mm.month:02d}" for mm in ctx.months], nmonth)], schema=_SCHEMAS["responses"])

    # subscriptions -----------------------------------------------------------------
    s_idx = np.flatnonzero(plan0 >= 0)
    if E_c:
        ec = np.concatenate(E_c); ed = np.concatenate(E_d); ep = np.concatenate(E_p)
    else:
        ec = ed = ep = np.zeros(0, dtype=np.int64)
    sc_ = np.concatenate([s_idx, ec]); sd = np.concatenate([signup[s_idx], ed]); sp = np.concatenate([plan0[s_idx], ep])
    o = np.argsort(sc_, kind="stable")
    sc_, sd, sp = sc_[o], sd[o], sp[o]
    last = np.ones(sc_.size, dtype=bool)
    last[:-1] = sc_[1:] != sc_[:-1]
    cancel = np.where(died[sc_], last_day[sc_] + cancel_delay[sc_], D)
    nxt = np.empty_like(sd)
    nxt[:-1] = sd[1:]
    end_d = np.where(last, cancel, nxt)
    ok = end_d > sd                            # drop empty segments (two changes on one day)
    sc_, sd, sp, end_d, last = sc_[ok], sd[ok], sp[ok], end_d[ok], last[ok]
    open_end = end_d >= D
    T["subscriptions"] = pa.table([
        _fixed_strings(_prefixed("S", _gather_rows(cust_dig, sc_))), cust_col(sc_), _dates(sd + se0), _dates(end_d + se0, open_end),
        _money(np.asarray(PLAN_MRR_CENTS, dtype=np.int64)[sp]), _labels(PLANS, sp)], schema=_SCHEMAS["subscriptions"])

    # customers ---------------------------------------------------------------------
    T["customers"] = pa.table([
        cust_str, _dates(signup + se0), _labels(("none",) + PLANS, plan0 + 1), _labels(COUNTRIES, country),
        _labels(CHANNELS, ch), pa.array(member), _dates(joined + se0, ~member)], schema=_SCHEMAS["customers"])

    # contacts ----------------------------------------------------------------------
    lapse = np.where(died, np.minimum(last_day + LAPSE_DAYS, D - 1), D - 1)
    win = lapse - signup + 1
    ncon = rng.poisson(CONTACTS_PER_MONTH * win / 30.0)
    ci = np.repeat(np.arange(n, dtype=np.int64), ncon)
    V = rng.random((ci.size, 5))
    cday = signup[ci] + (V[:, 0] * win[ci]).astype(np.int64)
    cch = (V[:, 1] * 4).astype(np.int64)
    hour = 8 + (V[:, 2] * 14).astype(np.int64)
    sec = (cday * 86400 + hour * 3600 + (V[:, 3] * 60).astype(np.int64) * 60)
    prob = (np.asarray(CONTACT_BASE)[cch] * np.where(cch == best_ch[ci], BEST_MULT, OTHER_MULT)
            * (HOUR_FLOOR + (1 - HOUR_FLOOR) * np.exp(-((hour - best_hour[ci]) ** 2) / (2 * HOUR_SD ** 2))))
    resp = V[:, 4] < prob
    o = np.argsort((ci << 40) | sec, kind="stable")
    ci, sec, cch, resp = ci[o], sec[o], cch[o], resp[o]
    T["contacts"] = pa.table([
        cust_col(ci), _timestamps(sec + se0 * 86400), _labels(CONTACT_CHANNELS, cch),
        _labels(("outbound",), np.zeros(ci.size, np.int64)), _labels(CONTACT_OUTCOME, np.where(resp, cch, 4))],
        schema=_SCHEMAS["contacts"])

    # campaigns ---------------------------------------------------------------------
    cdays = ctx.camp_day
    # eligible sends of a customer: campaigns dated in [signup + 7, lapse]; each targeted with
    # probability CAMPAIGN_TARGET, drawn by geometric skips over the eligible campaigns
    c_lo = np.searchsorted(cdays, signup + 7, side="left")
    c_hi = np.searchsorted(cdays, lapse, side="right")
    act = np.flatnonzero(c_hi > c_lo)
    pos = c_lo[act] + rng.geometric(CAMPAIGN_TARGET, act.size) - 1
    G_c, G_p = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    while act.size:
        ok = pos < c_hi[act]
        act, pos = act[ok], pos[ok]
        G_c.append(act); G_p.append(pos)
        pos = pos + rng.geometric(CAMPAIGN_TARGET, act.size)
    gi, gc = np.concatenate(G_c), np.concatenate(G_p)
    o = np.argsort(gi * (cdays.size + 1) + gc, kind="stable")
    gi, gc = gi[o], gc[o]
    V = rng.random((gi.size, 5))
    alive_at = ~died[gi] | (last_day[gi] >= cdays[gc])
    off = ctx.camp_offer[gc]
    pr = np.minimum(np.asarray(OFFER_RESPONSE)[off] * np.exp(0.3 * sat[gi])
                    * np.where(alive_at, 1.0, DEAD_RESPONSE_FACTOR), 0.95)
    sent = (cdays[gc] + se0) * 86400 + ctx.camp_hour[gc] * 3600 + (V[:, 1] * 3600).astype(np.int64)
    rsec = sent + (-np.log1p(-V[:, 2]) * 1.5 * 86400).astype(np.int64)
    end_sec = (se0 + D) * 86400
    rsp = (V[:, 0] < pr) & (rsec < end_sec)
    csec = rsec + (-np.log1p(-V[:, 4]) * 86400).astype(np.int64)
    conv = rsp & (V[:, 3] < np.asarray(OFFER_CONVERSION)[off]) & (csec < end_sec)
    T["campaigns"] = pa.table([
        cust_col(gi), _labels(ctx.camp_ids, gc), _labels(OFFERS, off), _timestamps(sent),
        _timestamps(rsec, ~rsp), _timestamps(csec, ~conv)], schema=_SCHEMAS["campaigns"])

    # truth -------------------------------------------------------------------------
    T["truth_customers"] = pa.table([
        cust_str, pa.array(np.round(lam, 8)), pa.array(np.round(p, 8)), pa.array(np.round(base_logit, 8)),
        pa.array(np.round(sat, 8)), pa.array(np.round(1.0 + basket, 8)), pa.array(subscriber),
        _labels(CONTACT_CHANNELS, best_ch), pa.array(best_hour.astype(np.int64)), pa.array(member),
        _dates(joined + se0, ~member), pa.array(npurch), pa.array(ncomp), _dates(last_day + se0), pa.array(died),
        _dates(last_day + se0, ~died), pa.array(~died), pa.array(~cf_dead)], schema=_SCHEMAS["truth_customers"])

    # statistics for ground truth ---------------------------------------------------
    mi = np.searchsorted(ctx.month_off, signup, side="right") - 1
    acq = np.bincount(mi * len(CHANNELS) + ch, minlength=len(ctx.months) * len(CHANNELS))
    stats: dict[str, Any] = {
        "acq": acq,
        "members": int(member.sum()), "members_alive": int((member & ~died).sum()),
        "members_alive_cf": int((member & ~cf_dead).sum()),
        "nonmembers": int((~member).sum()), "nonmembers_alive": int((~member & ~died).sum()),
        "units_sold": int(lq[lr == 0].sum()), "units_returned": int(-lq[lr == 1].sum()),
        "dropped": int(died.sum()),
    }
    cm = np.searchsorted(ctx.month_off, cd, side="right") - 1
    stats["complaints_month"] = np.bincount(cm, minlength=len(ctx.months))
    if spike is not None:
        cell = (cr == spike["reason"]) & (cpr == spike["product"])
        stats["spike_cell_month"] = np.bincount(cm[cell], minlength=len(ctx.months))
    return T, stats


_SCHEMAS: dict[str, Any] = {}
_HIGH_CARDINALITY = {"customer_id", "order_id", "complaint_id", "subscription_id"}


# ---------------------------------------------------------------- writing
class _Writer:
    """Writes chunks of tables on a background thread (Arrow encodes without the GIL)."""

    def __init__(self, out: Path, fmt: str, names: list[str]):
        import pyarrow as pa
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        self.parts: dict[str, Path] = {}
        self.final: dict[str, Path] = {}
        self.writers: dict[str, Any] = {}
        self.files: list[Any] = []
        for name in names:
            final = out / f"{name}.{fmt}"
            part = out / f".{name}.{fmt}.part"
            self.final[name], self.parts[name] = final, part
            if fmt == "parquet":
                sch = _SCHEMAS[name]
                # ids are (nearly) unique: no dictionary, no min/max statistics (both cost time, gain nothing)
                low = [f.name for f in sch if f.name not in _HIGH_CARDINALITY]
                dict_cols = [f.name for f in sch if f.name not in _HIGH_CARDINALITY and pa.types.is_string(f.type)]
                self.writers[name] = pq.ParquetWriter(part, sch, compression="zstd", use_dictionary=dict_cols,
                                                      write_statistics=low)
            else:
                # a plain header line (Arrow would quote the names); values never need quoting
                f = open(part, "wb")
                f.write((",".join(_SCHEMAS[name].names) + "\n").encode())
                self.files.append(f)
                self.writers[name] = pcsv.CSVWriter(f, _SCHEMAS[name], write_options=pcsv.WriteOptions(
                    include_header=False, quoting_style="none"))
        self.q: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="negah-synth-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            if self.error is not None:
                continue
            try:
                for name, tables in item.items():
                    import pyarrow as pa

                    t = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
                    if t.num_rows:
                        self.writers[name].write_table(t)
            except BaseException as e:  # pragma: no cover - disk full etc.
                self.error = e

    def put(self, item: dict[str, list]) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(item)

    def close(self, ok: bool) -> None:
        self.q.put(None)
        self.thread.join()
        for w in self.writers.values():
            w.close()
        for f in self.files:
            f.close()
        if ok and self.error is None:
            for name in self.parts:
                os.replace(self.parts[name], self.final[name])
        else:
            for p in self.parts.values():
                p.unlink(missing_ok=True)
        if self.error is not None:
            raise self.error


def _parse_date(value: date | str | None, default: date, what: str) -> date:
    if value is None:
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"synth {what}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _jsonable(x: float, nd: int = 6) -> float:
    return float(round(float(x), nd))


def estimate_customers(orders: int, *, seed: int = 0, start: date | str | None = None,
                       end: date | str | None = None) -> int:
    """Customers needed for about ``orders`` order rows on this window (from a pilot block)."""
    if orders < 1:
        raise InputError(f"synth orders: {orders} must be at least 1")
    s = _parse_date(start, DEFAULT_START, "start")
    e = _parse_date(end, DEFAULT_END, "end")
    _ensure_schemas()
    ctx = _Context(seed, s, e, True, 4000)
    tables, _ = _block(ctx, 0, 4000)
    ratio = max(tables["orders"].num_rows / 4000.0, 0.01)
    return max(1, int(math.ceil(orders / ratio)))


def _ensure_schemas() -> None:
    if not _SCHEMAS:
        _SCHEMAS.update(_schemas())


def generate(
    out_dir: str | Path,
    customers: int | None = 10_000,
    seed: int = 0,
    fmt: str = "parquet",
    start: date | str | None = None,
    end: date | str | None = None,
    spike: bool = True,
    progress: bool = True,
    *,
    orders: int | None = None,
    block_size: int = BLOCK_SIZE,
    chunk_customers: int = DEFAULT_CHUNK,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write a synthetic business with known ground truth to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write ``<table>.<fmt>``, ``truth_customers.<fmt>`` and
        ``ground_truth.json`` into (created if absent; files of the same names are
        replaced).
    customers
        Number of customers (about :data:`LINES_PER_CUSTOMER` order rows each on the
        default two-year window). Ignored when ``orders`` is given.
    seed
        Random seed; the same arguments give byte-identical files.
    fmt
        ``parquet`` (default) or ``csv``.
    start, end
        First and last day of the data (inclusive; ISO dates); default 2023-01-01 to
        2024-12-31.
    spike
        Plant one complaint spike (reason x product x month); ``False`` plants none.
    progress
        Show a progress bar on stderr.
    orders
        Ask for about this many order rows instead: the customer count is estimated
        from a pilot block.
    block_size
        Customers per random-number block (changing it changes the data).
    chunk_customers
        Customers per write batch (memory bound; never changes the data).
    workers
        Threads that generate blocks in parallel (default: up to 2, one per CPU, when
        there are at least 3 blocks); never changes the data.

    Returns
    -------
    dict with ``paths`` (table -> path, plus ``ground_truth`` and ``truth_customers``),
    ``rows`` (table -> rows written), ``customers``, ``seconds`` and ``truth`` (the
    content of ``ground_truth.json``).
    """
    import pyarrow as pa

    _ensure_schemas()
    fmt = str(fmt).lower()
    if fmt not in ("parquet", "csv"):
        raise InputError(f"synth format: {fmt!r} is not supported (expected parquet or csv)")
    s = _parse_date(start, DEFAULT_START, "start")
    e = _parse_date(end, DEFAULT_END, "end")
    if e < s:
        raise InputError(f"synth end: {e.isoformat()} is before start {s.isoformat()}")
    if orders is not None:
        customers = estimate_customers(orders, seed=seed, start=s, end=e)
    if customers is None or int(customers) < 1:
        raise InputError(f"synth customers: {customers!r} must be a positive integer")
    customers = int(customers)
    if customers >= 10 ** 9:
        raise InputError(f"synth customers: {customers} is too many (at most 999,999,999)")
    if block_size < 1 or chunk_customers < 1:
        raise InputError(f"synth block_size/chunk_customers must be positive (got {block_size}, {chunk_customers})")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    other = "csv" if fmt == "parquet" else "parquet"
    clash = [f"{t}.{other}" for t in TABLE_NAMES + ("truth_customers",) if (out / f"{t}.{other}").exists()]
    if clash:
        raise InputError(f"synth {out}: already holds {', '.join(clash)}; a folder must hold one file per "
                         f"table, so write {fmt} into another folder or remove those files")

    t_start = time.perf_counter()
    ctx = _Context(seed, s, e, spike, block_size)
    names = list(TABLE_NAMES[:-1]) + ["truth_customers"]   # spend is written at the end
    writer = _Writer(out, fmt, names + ["spend"])
    rows = {t: 0 for t in TABLE_NAMES + ("truth_customers",)}
    acq = np.zeros(len(ctx.months) * len(CHANNELS), dtype=np.int64)
    agg: dict[str, Any] = {}
    n_blocks = (customers + block_size - 1) // block_size
    bar = None
    ok = False
    try:
        if progress:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            bar = Progress(TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TextColumn("customers"),
                           TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
            bar.start()
            task = bar.add_task("synth", total=customers)
        pending: dict[str, list] = {nm: [] for nm in names}
        in_chunk = 0
        sizes = [min(block_size, customers - b * block_size) for b in range(n_blocks)]
        for b, (tables, st) in enumerate(_blocks(ctx, sizes, workers)):
            nb = sizes[b]
            for nm in names:
                pending[nm].append(tables[nm])
                rows[nm] += tables[nm].num_rows
            acq += st.pop("acq")
            for key, v in st.items():
                agg[key] = agg.get(key, 0) + v
            in_chunk += nb
            if in_chunk >= chunk_customers or b == n_blocks - 1:
                writer.put(pending)
                pending = {nm: [] for nm in names}
                in_chunk = 0
            if bar is not None:
                bar.advance(task, nb)

        # spend: acquisitions per paid channel and month at the true CAC, with noise
        nm_, nc = len(ctx.months), len(CHANNELS)
        acq2 = acq.reshape(nm_, nc)
        sd, sch, samt = [], [], []
        for i in range(nm_):
            for j in range(nc):
                if CHANNEL_CAC[j] <= 0:
                    continue
                sd.append(int(ctx.month_off[i]) + ctx.start_epoch)
                sch.append(j)
                samt.append(int(round(acq2[i, j] * CHANNEL_CAC[j] * ctx.spend_noise[i, j] * 100)))
        spend = pa.table([_dates(np.asarray(sd, dtype=np.int64)), _labels(CHANNELS, np.asarray(sch, dtype=np.int64)),
                          _money(np.asarray(samt, dtype=np.int64))], schema=_SCHEMAS["spend"])
        rows["spend"] = spend.num_rows
        writer.put({"spend": [spend]})
        ok = True
    finally:
        if bar is not None:
            bar.stop()
        writer.close(ok)

    truth = _ground_truth(ctx, customers, fmt, rows, agg, acq.reshape(len(ctx.months), len(CHANNELS)), spend_cents=samt)
    gt_path = out / "ground_truth.json"
    gt_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths = {t: str(writer.final[t]) for t in TABLE_NAMES}
    paths["truth_customers"] = str(writer.final["truth_customers"])
    paths["ground_truth"] = str(gt_path)
    return {"paths": paths, "rows": rows, "customers": customers,
            "seconds": time.perf_counter() - t_start, "truth": truth}


def _blocks(ctx: _Context, sizes: list[int], workers: int | None):
    """Yield ``_block`` results in block order, made in this thread or by a pool of threads.

    NumPy's random fills and array loops and Arrow's kernels release the GIL, so two
    threads overlap well on two cores. At most ``workers + 1`` blocks are in flight, so
    memory stays bounded when writing is slower than generating.
    """
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(sizes) >= 3 else 1
    if workers <= 1 or len(sizes) < 2:
        for b, nb in enumerate(sizes):
            yield _block(ctx, b, nb)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="negah-synth") as pool:
        inflight: deque = deque()
        nxt = 0
        try:
            while nxt < len(sizes) or inflight:
                while nxt < len(sizes) and len(inflight) < workers + 1:
                    inflight.append(pool.submit(_block, ctx, nxt, sizes[nxt]))
                    nxt += 1
                yield inflight.popleft().result()
        finally:
            for f in inflight:
                f.cancel()


def _ground_truth(ctx: _Context, customers: int, fmt: str, rows: dict, agg: dict, acq: np.ndarray,
                  spend_cents: list[int]) -> dict[str, Any]:
    months = [f"{m.year:04d}-{m.month:02d}" for m in ctx.months]
    mem = max(agg.get("members", 0), 1)
    non = max(agg.get("nonmembers", 0), 1)
    alive_m = agg.get("members_alive", 0) / mem
    alive_cf = agg.get("members_alive_cf", 0) / mem
    alive_n = agg.get("nonmembers_alive", 0) / non
    spike = None
    if ctx.spike is not None:
        sp = ctx.spike
        cell = np.asarray(agg["spike_cell_month"], dtype=np.int64)
        others = np.delete(cell, sp["month_index"])
        spike = {
            "reason": SPIKE_REASON, "product_id": ctx.product_ids[sp["product"]],
            "month": months[sp["month_index"]],
            "start": (ctx.start + timedelta(days=sp["start"])).isoformat(),
            "end": (ctx.start + timedelta(days=sp["end"])).isoformat(),
            "extra_complaint_probability_per_order_with_product": SPIKE_PROB,
            "complaints_in_spike_cell": int(cell[sp["month_index"]]),
            "baseline_complaints_per_month_same_reason_product": _jsonable(others.mean() if others.size else 0.0),
            "complaints_per_month_same_reason_product": {m: int(v) for m, v in zip(months, cell)},
        }
    sold = max(agg.get("units_sold", 0), 1)
    acq_ch = acq.sum(axis=0)
    spend_by_ch = {}
    i = 0
    for mi in range(len(ctx.months)):
        for j in range(len(CHANNELS)):
            if CHANNEL_CAC[j] > 0:
                spend_by_ch[CHANNELS[j]] = spend_by_ch.get(CHANNELS[j], 0) + spend_cents[i]
                i += 1
    drivers = [
        {"feature": f"complaint:{r}", "direction": "+", "dropout_log_odds": b,
         "dropout_odds_ratio": _jsonable(math.exp(b), 4),
         "note": "added to the dropout log-odds after the order the complaint is about"}
        for r, b in zip(REASONS, BETA_REASON)
    ] + [
        {"feature": "satisfaction", "direction": "-", "dropout_log_odds": BETA_SAT,
         "note": "per SD of latent satisfaction; observed through NPS scores (score = "
                 f"{NPS_MEAN} + {NPS_SAT}*s - {NPS_COMPLAINT}*complained + N(0,{NPS_SD}), rounded, clipped 0..10) "
                 "and through fewer complaints"},
        {"feature": "loyalty_member", "direction": "-", "dropout_log_odds": BETA_LOYAL,
         "dropout_odds_ratio": _jsonable(math.exp(BETA_LOYAL), 4)},
        {"feature": "subscriber", "direction": "-", "dropout_log_odds": BETA_SUBSCRIBER},
    ] + [
        {"feature": f"acquisition_channel:{c}", "direction": "+" if v > 0 else ("-" if v < 0 else "0"),
         "dropout_log_odds": v, "note": "relative to organic"}
        for c, v in zip(CHANNELS, CHANNEL_DROPOUT)
    ]
    return {
        "generator": "negah.synth", "generator_version": GENERATOR_VERSION,
        "seed": ctx.seed, "customers": customers, "block_size": ctx.block_size, "format": fmt,
        "start": ctx.start.isoformat(), "end": ctx.end.isoformat(), "end_inclusive": True,
        "rows": dict(rows),
        "purchase_process": {
            "model": "BG/NBD-like: first purchase at signup; after each purchase drop out with probability "
                     "sigmoid(dropout_logit_base + complaint effect + loyalty effect), else wait Exp(lambda) days",
            "lambda_gamma_shape_r": R_SHAPE, "lambda_gamma_rate_alpha_per_day": ALPHA_RATE,
            "lambda_cap_per_day": LAMBDA_CAP, "lambda_channel_multiplier": dict(zip(CHANNELS, CHANNEL_LAMBDA)),
            "p_beta_a": A_BETA, "p_beta_b": B_BETA,
            "dropout_logit_base": "logit(p) + channel shift + beta_satisfaction*s + beta_subscriber*subscriber",
            "signup_density_growth": GROWTH,
            "customers_dropped_out": agg.get("dropped", 0),
        },
        "orders_model": {
            "lines_per_order": f"1 + Poisson(m), m ~ Gamma({BASKET_SHAPE}, scale {BASKET_SCALE}) per customer (truth: basket_lines = 1 + m)",
            "quantity": f"1 + Poisson({QTY_EXTRA})", "discounts": {"10%": 0.15, "20%": 0.05},
            "return_delay_days": list(RETURN_DELAY),
            "product_return_rate_units": _jsonable(agg.get("units_returned", 0) / sold),
            "products": [
                {"product_id": pid, "category": CATEGORIES[int(c)], "price": f"{pc / 100:.2f}",
                 "popularity": _jsonable(pp, 8), "return_rate": _jsonable(rr)}
                for pid, c, pc, pp, rr in zip(ctx.product_ids, ctx.category, ctx.price_cents, ctx.popularity,
                                              ctx.return_rate)
            ],
        },
        "complaints": {
            "base_probability_per_order": COMPLAINT_BASE, "satisfaction_log_odds": COMPLAINT_SAT,
            "reason_share": dict(zip(REASONS, REASON_SHARE)),
            "dropout_log_odds_by_reason": dict(zip(REASONS, BETA_REASON)),
        },
        "spike": spike,
        "nps": {"answer_probability_per_order": NPS_PROB, "mean": NPS_MEAN, "satisfaction_slope": NPS_SAT,
                "complaint_drop": NPS_COMPLAINT, "noise_sd": NPS_SD},
        "loyalty": {
            "launch": (ctx.start + timedelta(days=ctx.launch)).isoformat(),
            "dropout_log_odds": BETA_LOYAL, "dropout_odds_ratio": _jsonable(math.exp(BETA_LOYAL), 4),
            "join_log_odds_at_purchase": f"{JOIN_BASE} + {JOIN_K}*min(k, 10) + {JOIN_FREQ}*log(30*(k + 1) / "
                                         "max(days since signup, 30)), k = purchases before this one: it depends "
                                         "on observed behaviour only",
            "confounding": "customers with many and frequent purchases join more (they survived more dropout "
                           "draws, so their latent p is lower), and only customers who keep buying after the "
                           "launch can join: naive member vs non-member comparisons overstate the effect; "
                           "comparing at join time on purchases so far and frequency removes it",
            "members": agg.get("members", 0), "nonmembers": agg.get("nonmembers", 0),
            "members_alive_at_end": _jsonable(alive_m),
            "members_alive_at_end_without_program": _jsonable(alive_cf),
            "effect_on_treated_alive_at_end": _jsonable(alive_m - alive_cf),
            "nonmembers_alive_at_end": _jsonable(alive_n),
            "naive_difference_alive_at_end": _jsonable(alive_m - alive_n),
            "counterfactual": "common random numbers: the same dropout draws without the loyalty term",
        },
        "subscriptions": {
            "subscriber_share": SUBSCRIBER_SHARE, "plans": dict(zip(PLANS, [c / 100 for c in PLAN_MRR_CENTS])),
            "plan_share": dict(zip(PLANS, PLAN_SHARE)),
            "upgrade_probability_per_repeat_purchase": UPGRADE_PROB,
            "downgrade_probability_per_repeat_purchase": DOWNGRADE_PROB,
            "end": f"a subscription ends {CANCEL_DELAY[0]}-{CANCEL_DELAY[1]} days after the customer's last "
                   "purchase when the customer dropped out; open otherwise",
        },
        "contacts": {
            "channels": list(CONTACT_CHANNELS), "hours": [int(HOURS[0]), int(HOURS[-1])],
            "response_probability": f"base[channel] * ({BEST_MULT} if channel == best_channel else {OTHER_MULT}) "
                                    f"* ({HOUR_FLOOR} + {1 - HOUR_FLOOR:.2f}*exp(-(hour - best_hour)^2 / (2*{HOUR_SD}^2)))",
            "base": dict(zip(CONTACT_CHANNELS, CONTACT_BASE)),
            "best_channel_share": dict(zip(CONTACT_CHANNELS, BEST_CHANNEL_SHARE)),
            "contacts_per_month": CONTACTS_PER_MONTH, "per_customer": "truth_customers: best_channel, best_hour",
        },
        "campaigns": {
            "offers": {o: {"response_rate": r, "conversion_rate_given_response": c}
                       for o, r, c in zip(OFFERS, OFFER_RESPONSE, OFFER_CONVERSION)},
            "response_probability": "response_rate[offer] * exp(0.3*satisfaction) "
                                    f"* ({DEAD_RESPONSE_FACTOR} if dropped out before the send else 1)",
            "target_share": CAMPAIGN_TARGET,
            "schedule": [{"campaign_id": cid, "date": (ctx.start + timedelta(days=int(d))).isoformat(),
                          "offer": OFFERS[int(o)]}
                         for cid, d, o in zip(ctx.camp_ids, ctx.camp_day, ctx.camp_offer)],
            "note": "conversions are campaign outcomes only; they do not add order rows",
        },
        "acquisition": {
            "channel_share": dict(zip(CHANNELS, CHANNEL_SHARE)),
            "true_cac": {c: v for c, v in zip(CHANNELS, CHANNEL_CAC) if v > 0},
            "customers_by_channel": {c: int(v) for c, v in zip(CHANNELS, acq_ch)},
            "spend_by_channel": {c: f"{v / 100:.2f}" for c, v in spend_by_ch.items()},
            "spend_noise_sd_log": SPEND_NOISE_SD,
        },
        "churn_drivers": drivers,
        "truth_customers_columns": {
            "purchase_rate": "lambda, purchases per day", "dropout_p": "p drawn from Beta(a, b)",
            "dropout_logit_base": "dropout log-odds after a purchase without complaint or membership",
            "satisfaction": "latent s ~ N(0,1)", "basket_lines": "mean lines per order",
            "best_channel": "contact channel with the highest response", "best_hour": "hour of highest response",
            "dropped_out": "dropped out by the end (a latent event; dropout_date = its last purchase)",
            "alive_at_end": "not dropped out by the end", "alive_without_loyalty":
                "alive at the end had the program not existed (same random draws)",
        },
    }


class _CallableModule(type(json)):
    """``negah.synth(...)`` calls :func:`generate` whether ``negah.synth`` names this module
    (after ``import negah.synth``) or the facade's function (``negah/__init__.py``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return generate(*args, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
