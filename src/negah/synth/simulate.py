"""The generating model of the synthetic business: business-wide draws and the purchase process.

:class:`Context` holds what the whole business shares (products, months, the planted
spike, campaign schedule, spend noise); :func:`simulate` runs the per-customer model for
one block of customers (latent values, then purchase rounds: order lines and returns,
complaints, NPS answers, loyalty joins, plan changes, dropout with its no-loyalty
counterfactual) and returns the raw events for :mod:`negah.synth.tables` to encode.
The model's parameters are read from :mod:`negah.synth.params` at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from negah.synth import params as P

_EPOCH = date(1970, 1, 1)


def _poisson_table(mu: float, bits: int = P.PRODUCT_TABLE_BITS) -> np.ndarray:
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


def _month_starts(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while True:
        d = date(y, m, 1)
        if d > end:
            return out
        out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


class Context:
    """Business-wide values of one run: window, products, months, the planted spike, campaigns.

    Drawn from ``SeedSequence(seed, spawn_key=(0,))``; blocks of customers only read it.
    """

    def __init__(self, seed: int, start: date, end: date, spike: bool, block_size: int):
        self.seed = int(seed)
        self.start, self.end = start, end
        self.start_epoch = (start - _EPOCH).days
        self.days = (end - start).days + 1
        self.block_size = block_size
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0,)))

        # products
        ranks = np.arange(1, P.N_PRODUCTS + 1, dtype=np.float64)
        zipf = ranks**-P.ZIPF_EXPONENT
        # quantile table: product of a uniform u is table[int(u * 2**bits)]; the popularity in the
        # ground truth is the table's exact share
        size = 1 << P.PRODUCT_TABLE_BITS
        counts = np.floor(zipf / zipf.sum() * size).astype(np.int64)
        counts = np.maximum(counts, 1)
        counts[0] += size - counts.sum()
        self.product_table = np.repeat(np.arange(P.N_PRODUCTS, dtype=np.int16), counts)
        self.popularity = counts / size
        self.category = rng.integers(0, len(P.CATEGORIES), P.N_PRODUCTS)
        price = np.exp(rng.normal(math.log(30.0), 0.7, P.N_PRODUCTS))
        self.price_cents = (np.maximum(np.round(price), 2) * 100 - 1).astype(np.int64)  # 29.99-style
        mean_ret = np.asarray(P.CATEGORY_RETURN)[self.category]
        conc = 40.0
        self.return_rate = rng.beta(mean_ret * conc, (1 - mean_ret) * conc)
        self.product_ids = [f"P{i:04d}" for i in range(1, P.N_PRODUCTS + 1)]

        # months
        self.months = _month_starts(start, end)
        self.month_off = np.array([max(0, (m - start).days) for m in self.months], dtype=np.int64)

        # spike: the month about 60 % into the window, the SPIKE_PRODUCT_RANK-th product
        self.spike = None
        if spike and len(self.months) >= 3:
            mi = min(len(self.months) - 2, max(1, int(round(0.6 * (len(self.months) - 1)))))
            s0 = int(self.month_off[mi])
            s1 = int(self.month_off[mi + 1]) if mi + 1 < len(self.months) else self.days
            self.spike = {
                "month_index": mi,
                "start": s0,
                "end": s1,
                "product": P.SPIKE_PRODUCT_RANK - 1,
                "reason": P.REASONS.index(P.SPIKE_REASON),
            }

        self.launch = int(round(P.LOYALTY_LAUNCH_FRACTION * self.days))

        # campaigns: two sends a month with an offer and an hour
        cdays, offers, hours = [], [], []
        for m in self.months:
            for dd in P.CAMPAIGN_DAYS:
                d = date(m.year, m.month, dd)
                if start <= d <= end:
                    cdays.append((d - start).days)
        n_c = len(cdays)
        offers = rng.integers(0, len(P.OFFERS), n_c)
        hours = rng.integers(9, 20, n_c)
        self.camp_day = np.asarray(cdays, dtype=np.int64)
        self.camp_offer = offers
        self.camp_hour = hours
        self.camp_ids = [f"CMP{i:04d}" for i in range(1, n_c + 1)]
        self.spend_noise = np.exp(rng.normal(0.0, P.SPEND_NOISE_SD, (len(self.months), len(P.CHANNELS))))

        self.reason_cum = _cum(P.REASON_SHARE)
        self.channel_cum = _cum(P.CHANNEL_SHARE)
        self.country_cum = _cum(P.COUNTRY_SHARE)
        self.plan_cum = _cum(P.PLAN_SHARE)
        self.best_ch_cum = _cum(P.BEST_CHANNEL_SHARE)
        self.hour_cum = _cum(P.BEST_HOUR_WEIGHT)
        self.cchan_cum = _cum(P.COMPLAINT_CHANNEL_SHARE)


@dataclass
class Simulated:
    """One block of customers after the purchase process.

    Per customer (local index): latent values, channel, country, plan, and the outcomes
    (with, for members, whether the no-loyalty counterfactual dropped out on the join day and
    the first purchase day after it).
    The events are tuples of lists of arrays, one entry per purchase round:
    ``lines`` (customer, order number k, day, product, quantity, cents, is_return),
    ``complaints`` (customer, k, spike flag, day, reason, product), ``nps`` (customer,
    day, score) and ``plan_changes`` (customer, day, new plan). Days count from the start.
    """

    signup: np.ndarray
    ch: np.ndarray
    country: np.ndarray
    subscriber: np.ndarray
    plan0: np.ndarray
    best_ch: np.ndarray
    best_hour: np.ndarray
    cancel_delay: np.ndarray
    lam: np.ndarray
    p: np.ndarray
    sat: np.ndarray
    basket: np.ndarray
    base_logit: np.ndarray
    member: np.ndarray
    joined: np.ndarray
    died: np.ndarray
    cf_dead: np.ndarray
    cf_dead_join_day: np.ndarray
    next_after_join: np.ndarray
    last_day: np.ndarray
    npurch: np.ndarray
    ncomp: np.ndarray
    lines: tuple
    complaints: tuple
    nps: tuple
    plan_changes: tuple


def simulate(ctx: Context, rng: np.random.Generator, n: int) -> Simulated:
    """Draw ``n`` customers from ``rng`` and run their purchases to dropout or the window's end."""
    D = ctx.days

    u = rng.random((n, 9))
    g = P.GROWTH
    x = (np.sqrt(1.0 + 2.0 * g * u[:, 0] * (1.0 + g / 2.0)) - 1.0) / g if g > 0 else u[:, 0]
    t0 = np.minimum(x * D, D - 1e-6)
    signup = t0.astype(np.int64)
    ch = np.searchsorted(ctx.channel_cum, u[:, 1], side="right")
    country = np.searchsorted(ctx.country_cum, u[:, 2], side="right")
    subscriber = u[:, 3] < P.SUBSCRIBER_SHARE
    plan0 = np.where(subscriber, np.searchsorted(ctx.plan_cum, u[:, 4], side="right"), -1)
    best_ch = np.searchsorted(ctx.best_ch_cum, u[:, 5], side="right")
    best_hour = P.HOURS[np.searchsorted(ctx.hour_cum, u[:, 6], side="right")]
    cancel_delay = P.CANCEL_DELAY[0] + (u[:, 7] * (P.CANCEL_DELAY[1] - P.CANCEL_DELAY[0] + 1)).astype(np.int64)
    lam = np.minimum(rng.gamma(P.R_SHAPE, 1.0 / P.ALPHA_RATE, n) * np.asarray(P.CHANNEL_LAMBDA)[ch], P.LAMBDA_CAP)
    lam = np.maximum(lam, 1e-9)
    p = np.clip(rng.beta(P.A_BETA, P.B_BETA, n), 1e-6, 1 - 1e-6)
    sat = rng.standard_normal(n)
    basket = rng.gamma(P.BASKET_SHAPE, P.BASKET_SCALE, n)
    base_logit = (
        np.log(p / (1 - p)) + np.asarray(P.CHANNEL_DROPOUT)[ch] + P.BETA_SAT * sat + P.BETA_SUBSCRIBER * subscriber
    )
    comp_prob = _sigmoid(_logit(P.COMPLAINT_BASE) + P.COMPLAINT_SAT * sat)

    price, ret_rate, ptable = ctx.price_cents, ctx.return_rate, ctx.product_table
    qty_table = _poisson_table(P.QTY_EXTRA)
    # 100 - discount (%) by a uniform's twentieth: 1/20 of lines 20 % off, 3/20 10 % off
    disc_table = np.array([80] + [90] * 3 + [100] * 16, dtype=np.int64)
    beta_reason = np.asarray(P.BETA_REASON)
    spike = ctx.spike

    member = np.zeros(n, dtype=bool)
    joined = np.full(n, -1, dtype=np.int64)
    died = np.zeros(n, dtype=bool)
    cf_dead = np.zeros(n, dtype=bool)
    cf_dead_join_day = np.zeros(n, dtype=bool)  # no-loyalty dropout at a purchase on the join day
    next_after_join = np.full(n, -1, dtype=np.int64)  # first purchase day after the join day
    last_day = np.zeros(n, dtype=np.int64)
    npurch = np.zeros(n, dtype=np.int64)
    ncomp = np.zeros(n, dtype=np.int64)
    cur_plan = plan0.copy()

    L_c, L_k, L_d, L_p, L_q, L_a, L_r = [], [], [], [], [], [], []  # lines
    C_c, C_k, C_j, C_d, C_r, C_p = [], [], [], [], [], []  # complaints
    N_c, N_d, N_s = [], [], []  # nps
    E_c, E_d, E_p = [], [], []  # plan changes

    a_idx = np.arange(n, dtype=np.int64)
    a_t = t0.copy()
    k = 0
    while a_idx.size:
        m = a_idx.size
        day = a_t.astype(np.int64)
        U = rng.random((m, 7))  # complaint, nps, spike, join, plan change, dropout, next gap
        L = np.minimum(1 + rng.poisson(basket[a_idx]), P.MAX_LINES)
        starts = np.cumsum(L) - L
        nl = int(L.sum())
        lo = np.repeat(np.arange(m), L)
        V = rng.random((nl, 4), dtype=np.float32)
        prod = ptable[(V[:, 0] * (1 << P.PRODUCT_TABLE_BITS)).astype(np.int64)].astype(np.int64)
        qty = qty_table[(V[:, 1] * (1 << P.PRODUCT_TABLE_BITS)).astype(np.int64)]
        cents = (qty * price[prod] * disc_table[(V[:, 2] * 20).astype(np.int64)] + 50) // 100
        lcust = a_idx[lo]
        lday = day[lo]
        L_c.append(lcust)
        L_k.append(np.full(nl, k))
        L_d.append(lday)
        L_p.append(prod)
        L_q.append(qty)
        L_a.append(cents)
        L_r.append(np.zeros(nl, dtype=np.int8))
        ri = np.flatnonzero(V[:, 3] < ret_rate[prod])
        if ri.size:
            # the return delay reuses the uniform's position below the return rate (uniform again)
            ret_day = (
                lday[ri]
                + P.RETURN_DELAY[0]
                + (V[ri, 3] / ret_rate[prod[ri]] * (P.RETURN_DELAY[1] - P.RETURN_DELAY[0] + 1)).astype(np.int64)
            )
            ok = ret_day < D
            ri, ret_day = ri[ok], ret_day[ok]
            L_c.append(lcust[ri])
            L_k.append(np.full(ri.size, k))
            L_d.append(ret_day)
            L_p.append(prod[ri])
            L_q.append(-qty[ri])
            L_a.append(-cents[ri])
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
            C_c.append(a_idx[ci[e]])
            C_k.append(np.full(ne, k))
            C_j.append(np.zeros(ne, np.int64))
            C_d.append(cday[e])
            C_r.append(reason[e])
            C_p.append(prod[starts[ci[e]] + (W[e, 2] * L[ci[e]]).astype(np.int64)])
        if spike is not None and day.min() < spike["end"] and day.max() >= spike["start"]:
            has = np.zeros(m, dtype=bool)
            has[lo[prod == spike["product"]]] = True
            si = np.flatnonzero(has & (day >= spike["start"]) & (day < spike["end"]) & (U[:, 2] < P.SPIKE_PROB))
            if si.size:
                dl[si] += beta_reason[spike["reason"]]
                complained[si] = True
                # complaints of the spike are dated inside the spike month
                sday = np.minimum(day[si] + (rng.random(si.size) * 8).astype(np.int64), spike["end"] - 1)
                e = sday < D
                ne = int(e.sum())
                C_c.append(a_idx[si[e]])
                C_k.append(np.full(ne, k))
                C_j.append(np.ones(ne, np.int64))
                C_d.append(sday[e])
                C_r.append(np.full(ne, spike["reason"]))
                C_p.append(np.full(ne, spike["product"]))
        ncomp[a_idx] += complained

        # NPS answer
        ai = np.flatnonzero(U[:, 1] < P.NPS_PROB)
        if ai.size:
            nday = day[ai] + 3 + (rng.random(ai.size) * 12).astype(np.int64)
            ai, nday = ai[nday < D], nday[nday < D]
            z = rng.standard_normal(ai.size)
            score = np.clip(
                np.rint(P.NPS_MEAN + P.NPS_SAT * sat[a_idx[ai]] - P.NPS_COMPLAINT * complained[ai] + P.NPS_SD * z),
                0,
                10,
            ).astype(np.int64)
            N_c.append(a_idx[ai])
            N_d.append(nday)
            N_s.append(score)

        # loyalty program
        mem = member[a_idx]
        later = np.flatnonzero(mem & (day > joined[a_idx]) & (next_after_join[a_idx] < 0))
        next_after_join[a_idx[later]] = day[later]
        if ctx.launch < D and day.max() >= ctx.launch:
            ei = np.flatnonzero(~mem & (day >= ctx.launch))
            if ei.size:
                # observed so far: k + 1 purchases in the days since signup (at least 30)
                freq = (k + 1) * 30.0 / np.maximum(a_t[ei] - t0[a_idx[ei]], 30.0)
                jp = _sigmoid(P.JOIN_BASE + P.JOIN_K * min(k, 10) + P.JOIN_FREQ * np.log(freq))
                ji = ei[U[ei, 3] < jp]
                member[a_idx[ji]] = True
                joined[a_idx[ji]] = day[ji]
                mem[ji] = True

        # plan changes of subscribers
        if k > 0:
            cp = cur_plan[a_idx]
            up = (cp >= 0) & (cp < len(P.PLANS) - 1) & (U[:, 4] < P.UPGRADE_PROB)
            down = (cp > 0) & (U[:, 4] >= P.UPGRADE_PROB) & (U[:, 4] < P.UPGRADE_PROB + P.DOWNGRADE_PROB)
            chg = np.flatnonzero(up | down)
            if chg.size:
                newp = cp[chg] + up[chg].astype(np.int64) - down[chg].astype(np.int64)
                cur_plan[a_idx[chg]] = newp
                E_c.append(a_idx[chg])
                E_d.append(day[chg])
                E_p.append(newp)

        # dropout after this purchase; the same draw without the loyalty term gives the counterfactual
        lg = base_logit[a_idx] + dl
        ud = U[:, 5]
        mi = np.flatnonzero(mem)
        if mi.size:
            cfd = mi[ud[mi] < _sigmoid(lg[mi])]
            cf_dead[a_idx[cfd]] = True
            cf_dead_join_day[a_idx[cfd[day[cfd] == joined[a_idx[cfd]]]]] = True
            lg[mi] += P.BETA_LOYAL
        die = ud < _sigmoid(lg)
        npurch[a_idx] += 1
        last_day[a_idx] = day
        died[a_idx[die]] = True

        nt = a_t - np.log1p(-U[:, 6]) / lam[a_idx]
        keep = ~die & (nt < D)
        if k + 1 >= P.MAX_ORDERS:
            keep[:] = False
        a_idx = a_idx[keep]
        a_t = nt[keep]
        k += 1

    cf_dead |= died
    return Simulated(
        signup=signup,
        ch=ch,
        country=country,
        subscriber=subscriber,
        plan0=plan0,
        best_ch=best_ch,
        best_hour=best_hour,
        cancel_delay=cancel_delay,
        lam=lam,
        p=p,
        sat=sat,
        basket=basket,
        base_logit=base_logit,
        member=member,
        joined=joined,
        died=died,
        cf_dead=cf_dead,
        cf_dead_join_day=cf_dead_join_day,
        next_after_join=next_after_join,
        last_day=last_day,
        npurch=npurch,
        ncomp=ncomp,
        lines=(L_c, L_k, L_d, L_p, L_q, L_a, L_r),
        complaints=(C_c, C_k, C_j, C_d, C_r, C_p),
        nps=(N_c, N_d, N_s),
        plan_changes=(E_c, E_d, E_p),
    )
