"""The synthetic business's tables: one block of simulated customers, encoded per table.

:func:`block` simulates a block of customers (:func:`negah.synth.simulate.simulate`) and
turns its events into one Arrow table per canonical table plus ``truth_customers``;
contacts and campaign sends are drawn here, after the purchase process, from the
customers' latent values and life spans. :func:`spend_table` makes the business-wide
``spend`` table from the acquisitions of all blocks. The random draws happen in a fixed
order per block (simulation, complaint details, contacts, campaigns): it is part of the
data's definition.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from negah.synth import params as P
from negah.synth.encode import (
    SEQ4,
    CustomerIds,
    date_array,
    digits,
    gather_rows,
    labels,
    money,
    schema,
    timestamp_array,
)
from negah.synth.simulate import Context, Simulated, simulate


def block(ctx: Context, b: int, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Simulate customers ``b*block_size .. +n``; return Arrow tables and block statistics."""
    rng = np.random.default_rng(np.random.SeedSequence(ctx.seed, spawn_key=(1, b)))
    sim = simulate(ctx, rng, n)
    c_first = b * ctx.block_size + 1  # customer number of local index 0
    ids = CustomerIds(c_first + np.arange(n, dtype=np.int64))
    stats = _stats(ctx, sim)
    T: dict[str, Any] = {}
    T["orders"], units = _orders(ctx, sim, ids)
    T["complaints"], per_month = _complaints(ctx, sim, ids, rng)
    T["responses"] = _responses(ctx, sim, ids)
    T["subscriptions"] = _subscriptions(ctx, sim, ids)
    T["customers"] = _customers(ctx, sim, ids)
    D = ctx.days
    # contacts and campaigns reach a customer until LAPSE_DAYS after its dropout
    lapse = np.where(sim.died, np.minimum(sim.last_day + P.LAPSE_DAYS, D - 1), D - 1)
    T["contacts"] = _contacts(ctx, sim, ids, rng, lapse)
    T["campaigns"] = _campaigns(ctx, sim, ids, rng, lapse)
    T["truth_customers"] = _truth_customers(ctx, sim, ids)
    stats.update(units)
    stats.update(per_month)
    return T, stats


def _orders(ctx: Context, sim: Simulated, ids: CustomerIds) -> tuple[Any, dict[str, int]]:
    """Order lines sorted by customer, day, purchase before return; and the units sold and returned."""
    import pyarrow as pa

    L_c, L_k, L_d, L_p, L_q, L_a, L_r = sim.lines
    lc = np.concatenate(L_c)
    lk = np.concatenate(L_k)
    ld = np.concatenate(L_d)
    order = np.argsort((lc << 40) | (ld << 1) | np.concatenate(L_r).astype(np.int64), kind="stable")
    lc, lk, ld = lc[order], lk[order], ld[order]
    lp = np.concatenate(L_p)[order]
    lq = np.concatenate(L_q)[order]
    la = np.concatenate(L_a)[order]
    lr = np.concatenate(L_r)[order]
    table = pa.table(
        [
            ids.derived("O", lc, gather_rows(SEQ4, lk)),
            ids.of(lc),
            date_array(ld + ctx.start_epoch),
            labels(ctx.product_ids, lp),
            pa.array(lq, type=pa.int64()),
            money(la),
            labels(("purchase", "return"), lr),
        ],
        schema=schema("orders"),
    )
    return table, {"units_sold": int(lq[lr == 0].sum()), "units_returned": int(-lq[lr == 1].sum())}


def _complaints(
    ctx: Context, sim: Simulated, ids: CustomerIds, rng: np.random.Generator
) -> tuple[Any, dict[str, np.ndarray]]:
    """Complaints with channel and status; and complaints per month (all, and in the spike's cell)."""
    import pyarrow as pa

    C_c, C_k, C_j, C_d, C_r, C_p = sim.complaints
    if C_c:
        cc = np.concatenate(C_c)
        ck = np.concatenate(C_k)
        cj = np.concatenate(C_j)
        cd = np.concatenate(C_d)
        cr = np.concatenate(C_r)
        cpr = np.concatenate(C_p)
    else:
        cc = ck = cj = cd = cr = cpr = np.zeros(0, dtype=np.int64)
    o = np.argsort((cc << 40) | (cd << 1) | cj, kind="stable")
    cc, ck, cj, cd, cr, cpr = cc[o], ck[o], cj[o], cd[o], cr[o], cpr[o]
    W = rng.random((cc.size, 2))
    cch = np.searchsorted(ctx.cchan_cum, W[:, 0], side="right")
    status = np.where((cd < ctx.days - 14) & (W[:, 1] < 0.92), 0, 1)
    table = pa.table(
        [
            ids.derived("Q", cc, gather_rows(SEQ4, ck), digits(cj, 1)),
            ids.of(cc),
            date_array(cd + ctx.start_epoch),
            labels(P.REASONS, cr),
            labels(ctx.product_ids, cpr),
            labels(P.COMPLAINT_CHANNELS, cch),
            labels(("resolved", "open"), status),
            labels(P.REASON_TEXT, cr),
        ],
        schema=schema("complaints"),
    )
    cm = np.searchsorted(ctx.month_off, cd, side="right") - 1
    per_month = {"complaints_month": np.bincount(cm, minlength=len(ctx.months))}
    spike = ctx.spike
    if spike is not None:
        cell = (cr == spike["reason"]) & (cpr == spike["product"])
        per_month["spike_cell_month"] = np.bincount(cm[cell], minlength=len(ctx.months))
    return table, per_month


def _responses(ctx: Context, sim: Simulated, ids: CustomerIds):
    """NPS answers, each with the survey of its month."""
    import pyarrow as pa

    N_c, N_d, N_s = sim.nps
    if N_c:
        nc_ = np.concatenate(N_c)
        nd = np.concatenate(N_d)
        ns = np.concatenate(N_s)
    else:
        nc_ = nd = ns = np.zeros(0, dtype=np.int64)
    o = np.argsort((nc_ << 40) | nd, kind="stable")
    nc_, nd, ns = nc_[o], nd[o], ns[o]
    nmonth = np.searchsorted(ctx.month_off, nd, side="right") - 1
    return pa.table(
        [
            ids.of(nc_),
            date_array(nd + ctx.start_epoch),
            pa.array(ns, type=pa.int64()),
            labels([f"NPS-{mm.year:04d}-{mm.month:02d}" for mm in ctx.months], nmonth),
        ],
        schema=schema("responses"),
    )


def _subscriptions(ctx: Context, sim: Simulated, ids: CustomerIds):
    """One row per plan segment of a subscriber: from signup or a plan change to the next or the end."""
    import pyarrow as pa

    D, se0 = ctx.days, ctx.start_epoch
    plan0 = sim.plan0
    s_idx = np.flatnonzero(plan0 >= 0)
    E_c, E_d, E_p = sim.plan_changes
    if E_c:
        ec = np.concatenate(E_c)
        ed = np.concatenate(E_d)
        ep = np.concatenate(E_p)
    else:
        ec = ed = ep = np.zeros(0, dtype=np.int64)
    sc_ = np.concatenate([s_idx, ec])
    sd = np.concatenate([sim.signup[s_idx], ed])
    sp = np.concatenate([plan0[s_idx], ep])
    o = np.argsort(sc_, kind="stable")
    sc_, sd, sp = sc_[o], sd[o], sp[o]
    last = np.ones(sc_.size, dtype=bool)
    last[:-1] = sc_[1:] != sc_[:-1]
    cancel = np.where(sim.died[sc_], sim.last_day[sc_] + sim.cancel_delay[sc_], D)
    nxt = np.empty_like(sd)
    nxt[:-1] = sd[1:]
    end_d = np.where(last, cancel, nxt)
    ok = end_d > sd  # drop empty segments (two changes on one day)
    sc_, sd, sp, end_d, last = sc_[ok], sd[ok], sp[ok], end_d[ok], last[ok]
    open_end = end_d >= D
    return pa.table(
        [
            ids.derived("S", sc_),
            ids.of(sc_),
            date_array(sd + se0),
            date_array(end_d + se0, open_end),
            money(np.asarray(P.PLAN_MRR_CENTS, dtype=np.int64)[sp]),
            labels(P.PLANS, sp),
        ],
        schema=schema("subscriptions"),
    )


def _customers(ctx: Context, sim: Simulated, ids: CustomerIds):
    import pyarrow as pa

    se0 = ctx.start_epoch
    return pa.table(
        [
            ids.all,
            date_array(sim.signup + se0),
            labels(("none",) + P.PLANS, sim.plan0 + 1),
            labels(P.COUNTRIES, sim.country),
            labels(P.CHANNELS, sim.ch),
            pa.array(sim.member),
            date_array(sim.joined + se0, ~sim.member),
        ],
        schema=schema("customers"),
    )


def _contacts(ctx: Context, sim: Simulated, ids: CustomerIds, rng: np.random.Generator, lapse: np.ndarray):
    """Outbound contacts from signup to lapse; the response depends on the best channel and hour."""
    import pyarrow as pa

    signup = sim.signup
    win = lapse - signup + 1
    ncon = rng.poisson(P.CONTACTS_PER_MONTH * win / 30.0)
    ci = np.repeat(np.arange(signup.size, dtype=np.int64), ncon)
    V = rng.random((ci.size, 5))
    cday = signup[ci] + (V[:, 0] * win[ci]).astype(np.int64)
    cch = (V[:, 1] * 4).astype(np.int64)
    hour = 8 + (V[:, 2] * 14).astype(np.int64)
    sec = cday * 86400 + hour * 3600 + (V[:, 3] * 60).astype(np.int64) * 60
    prob = (
        np.asarray(P.CONTACT_BASE)[cch]
        * np.where(cch == sim.best_ch[ci], P.BEST_MULT, P.OTHER_MULT)
        * (P.HOUR_FLOOR + (1 - P.HOUR_FLOOR) * np.exp(-((hour - sim.best_hour[ci]) ** 2) / (2 * P.HOUR_SD**2)))
    )
    resp = V[:, 4] < prob
    o = np.argsort((ci << 40) | sec, kind="stable")
    ci, sec, cch, resp = ci[o], sec[o], cch[o], resp[o]
    return pa.table(
        [
            ids.of(ci),
            timestamp_array(sec + ctx.start_epoch * 86400),
            labels(P.CONTACT_CHANNELS, cch),
            labels(("outbound",), np.zeros(ci.size, np.int64)),
            labels(P.CONTACT_OUTCOME, np.where(resp, cch, 4)),
        ],
        schema=schema("contacts"),
    )


def _campaigns(ctx: Context, sim: Simulated, ids: CustomerIds, rng: np.random.Generator, lapse: np.ndarray):
    """Campaign sends to eligible customers, with responses and conversions."""
    import pyarrow as pa

    D, se0 = ctx.days, ctx.start_epoch
    died, last_day = sim.died, sim.last_day
    cdays = ctx.camp_day
    # eligible sends of a customer: campaigns dated in [signup + 7, lapse]; each targeted with
    # probability CAMPAIGN_TARGET, drawn by geometric skips over the eligible campaigns
    c_lo = np.searchsorted(cdays, sim.signup + 7, side="left")
    c_hi = np.searchsorted(cdays, lapse, side="right")
    act = np.flatnonzero(c_hi > c_lo)
    pos = c_lo[act] + rng.geometric(P.CAMPAIGN_TARGET, act.size) - 1
    G_c, G_p = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    while act.size:
        ok = pos < c_hi[act]
        act, pos = act[ok], pos[ok]
        G_c.append(act)
        G_p.append(pos)
        pos = pos + rng.geometric(P.CAMPAIGN_TARGET, act.size)
    gi, gc = np.concatenate(G_c), np.concatenate(G_p)
    o = np.argsort(gi * (cdays.size + 1) + gc, kind="stable")
    gi, gc = gi[o], gc[o]
    V = rng.random((gi.size, 5))
    alive_at = ~died[gi] | (last_day[gi] >= cdays[gc])
    off = ctx.camp_offer[gc]
    pr = np.minimum(
        np.asarray(P.OFFER_RESPONSE)[off] * np.exp(0.3 * sim.sat[gi]) * np.where(alive_at, 1.0, P.DEAD_RESPONSE_FACTOR),
        0.95,
    )
    sent = (cdays[gc] + se0) * 86400 + ctx.camp_hour[gc] * 3600 + (V[:, 1] * 3600).astype(np.int64)
    rsec = sent + (-np.log1p(-V[:, 2]) * 1.5 * 86400).astype(np.int64)
    end_sec = (se0 + D) * 86400
    rsp = (V[:, 0] < pr) & (rsec < end_sec)
    csec = rsec + (-np.log1p(-V[:, 4]) * 86400).astype(np.int64)
    conv = rsp & (V[:, 3] < np.asarray(P.OFFER_CONVERSION)[off]) & (csec < end_sec)
    return pa.table(
        [
            ids.of(gi),
            labels(ctx.camp_ids, gc),
            labels(P.OFFERS, off),
            timestamp_array(sent),
            timestamp_array(rsec, ~rsp),
            timestamp_array(csec, ~conv),
        ],
        schema=schema("campaigns"),
    )


def _truth_customers(ctx: Context, sim: Simulated, ids: CustomerIds):
    """One row per customer with its latent values and outcomes."""
    import pyarrow as pa

    se0 = ctx.start_epoch
    s = sim
    return pa.table(
        [
            ids.all,
            pa.array(np.round(s.lam, 8)),
            pa.array(np.round(s.p, 8)),
            pa.array(np.round(s.base_logit, 8)),
            pa.array(np.round(s.sat, 8)),
            pa.array(np.round(1.0 + s.basket, 8)),
            pa.array(s.subscriber),
            labels(P.CONTACT_CHANNELS, s.best_ch),
            pa.array(s.best_hour.astype(np.int64)),
            pa.array(s.member),
            date_array(s.joined + se0, ~s.member),
            pa.array(s.npurch),
            pa.array(s.ncomp),
            date_array(s.last_day + se0),
            pa.array(s.died),
            date_array(s.last_day + se0, ~s.died),
            pa.array(~s.died),
            pa.array(~s.cf_dead),
            date_array(s.next_after_join + se0, s.next_after_join < 0),
            pa.array(s.cf_dead_join_day, mask=~s.member),
        ],
        schema=schema("truth_customers"),
    )


def _stats(ctx: Context, sim: Simulated) -> dict[str, Any]:
    """Per-block counts the ground truth sums: acquisitions per month and channel, loyalty, dropout."""
    member, died, cf_dead = sim.member, sim.died, sim.cf_dead
    mi = np.searchsorted(ctx.month_off, sim.signup, side="right") - 1
    # bought again within RETAINED_DAYS after the join day (members who joined at least that long before
    # the last day); without the program: the same, unless the no-loyalty dropout came on the join day
    H = P.RETAINED_DAYS
    followed = member & (sim.joined <= ctx.days - 1 - H)
    ret = followed & (sim.next_after_join >= 0) & (sim.next_after_join - sim.joined <= H)
    acq = np.bincount(mi * len(P.CHANNELS) + sim.ch, minlength=len(ctx.months) * len(P.CHANNELS))
    return {
        "acq": acq,
        "members": int(member.sum()),
        "members_alive": int((member & ~died).sum()),
        "members_alive_cf": int((member & ~cf_dead).sum()),
        "members_followed": int(followed.sum()),
        "members_retained": int(ret.sum()),
        "members_retained_cf": int((ret & ~sim.cf_dead_join_day).sum()),
        "nonmembers": int((~member).sum()),
        "nonmembers_alive": int((~member & ~died).sum()),
        "dropped": int(died.sum()),
    }


def spend_table(ctx: Context, acq: np.ndarray) -> tuple[Any, list[int]]:
    """Spend per paid channel and month: the acquisitions (month x channel) at the true CAC, with noise."""
    import pyarrow as pa

    nm_, nc = len(ctx.months), len(P.CHANNELS)
    acq2 = acq.reshape(nm_, nc)
    sd, sch, samt = [], [], []
    for i in range(nm_):
        for j in range(nc):
            if P.CHANNEL_CAC[j] <= 0:
                continue
            sd.append(int(ctx.month_off[i]) + ctx.start_epoch)
            sch.append(j)
            samt.append(int(round(acq2[i, j] * P.CHANNEL_CAC[j] * ctx.spend_noise[i, j] * 100)))
    spend = pa.table(
        [
            date_array(np.asarray(sd, dtype=np.int64)),
            labels(P.CHANNELS, np.asarray(sch, dtype=np.int64)),
            money(np.asarray(samt, dtype=np.int64)),
        ],
        schema=schema("spend"),
    )
    return spend, samt
