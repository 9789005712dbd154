"""``ground_truth.json``: the synthetic business's model and what it realised.

Every parameter of :mod:`negah.synth.params` that shapes the data, stated with the
formula it enters, next to realised summaries (rows per table, the loyalty program's
true effect on the treated against the naive difference, the spike cell's complaints
against its baseline, the product return rate, spend per channel).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np

from negah.synth import params as P
from negah.synth.simulate import Context


def jsonable(x: float, nd: int = 6) -> float:
    return float(round(float(x), nd))


def ground_truth(
    ctx: Context, customers: int, fmt: str, rows: dict, agg: dict, acq: np.ndarray, spend_cents: list[int]
) -> dict[str, Any]:
    """The content of ``ground_truth.json``: every model parameter and the realised summaries
    (``agg``: the blocks' statistics summed; ``acq``: acquisitions per month x channel;
    ``spend_cents``: the spend rows' amounts in their order)."""
    months = [f"{m.year:04d}-{m.month:02d}" for m in ctx.months]
    mem = max(agg.get("members", 0), 1)
    non = max(agg.get("nonmembers", 0), 1)
    alive_m = agg.get("members_alive", 0) / mem
    alive_cf = agg.get("members_alive_cf", 0) / mem
    alive_n = agg.get("nonmembers_alive", 0) / non
    H = P.RETAINED_DAYS
    fol = max(agg.get("members_followed", 0), 1)
    ret_m = agg.get("members_retained", 0) / fol
    ret_cf = agg.get("members_retained_cf", 0) / fol
    spike = None
    if ctx.spike is not None:
        sp = ctx.spike
        cell = np.asarray(agg["spike_cell_month"], dtype=np.int64)
        others = np.delete(cell, sp["month_index"])
        spike = {
            "reason": P.SPIKE_REASON,
            "product_id": ctx.product_ids[sp["product"]],
            "month": months[sp["month_index"]],
            "start": (ctx.start + timedelta(days=sp["start"])).isoformat(),
            "end": (ctx.start + timedelta(days=sp["end"])).isoformat(),
            "extra_complaint_probability_per_order_with_product": P.SPIKE_PROB,
            "complaints_in_spike_cell": int(cell[sp["month_index"]]),
            "baseline_complaints_per_month_same_reason_product": jsonable(others.mean() if others.size else 0.0),
            "complaints_per_month_same_reason_product": {m: int(v) for m, v in zip(months, cell)},
        }
    sold = max(agg.get("units_sold", 0), 1)
    acq_ch = acq.sum(axis=0)
    spend_by_ch = {}
    i = 0
    for _mi in range(len(ctx.months)):
        for j in range(len(P.CHANNELS)):
            if P.CHANNEL_CAC[j] > 0:
                spend_by_ch[P.CHANNELS[j]] = spend_by_ch.get(P.CHANNELS[j], 0) + spend_cents[i]
                i += 1
    drivers = (
        [
            {
                "feature": f"complaint:{r}",
                "direction": "+",
                "dropout_log_odds": b,
                "dropout_odds_ratio": jsonable(math.exp(b), 4),
                "note": "added to the dropout log-odds after the order the complaint is about",
            }
            for r, b in zip(P.REASONS, P.BETA_REASON)
        ]
        + [
            {
                "feature": "satisfaction",
                "direction": "-",
                "dropout_log_odds": P.BETA_SAT,
                "note": "per SD of latent satisfaction; observed through NPS scores (score = "
                f"{P.NPS_MEAN} + {P.NPS_SAT}*s - {P.NPS_COMPLAINT}*complained + N(0,{P.NPS_SD}), rounded, clipped 0..10) "
                "and through fewer complaints",
            },
            {
                "feature": "loyalty_member",
                "direction": "-",
                "dropout_log_odds": P.BETA_LOYAL,
                "dropout_odds_ratio": jsonable(math.exp(P.BETA_LOYAL), 4),
            },
            {"feature": "subscriber", "direction": "-", "dropout_log_odds": P.BETA_SUBSCRIBER},
        ]
        + [
            {
                "feature": f"acquisition_channel:{c}",
                "direction": "+" if v > 0 else ("-" if v < 0 else "0"),
                "dropout_log_odds": v,
                "note": "relative to organic",
            }
            for c, v in zip(P.CHANNELS, P.CHANNEL_DROPOUT)
        ]
    )
    return {
        "generator": "negah.synth",
        "generator_version": P.GENERATOR_VERSION,
        "seed": ctx.seed,
        "customers": customers,
        "block_size": ctx.block_size,
        "format": fmt,
        "start": ctx.start.isoformat(),
        "end": ctx.end.isoformat(),
        "end_inclusive": True,
        "rows": dict(rows),
        "purchase_process": {
            "model": "BG/NBD-like: first purchase at signup; after each purchase drop out with probability "
            "sigmoid(dropout_logit_base + complaint effect + loyalty effect), else wait Exp(lambda) days",
            "lambda_gamma_shape_r": P.R_SHAPE,
            "lambda_gamma_rate_alpha_per_day": P.ALPHA_RATE,
            "lambda_cap_per_day": P.LAMBDA_CAP,
            "lambda_channel_multiplier": dict(zip(P.CHANNELS, P.CHANNEL_LAMBDA)),
            "p_beta_a": P.A_BETA,
            "p_beta_b": P.B_BETA,
            "dropout_logit_base": "logit(p) + channel shift + beta_satisfaction*s + beta_subscriber*subscriber",
            "signup_density_growth": P.GROWTH,
            "customers_dropped_out": agg.get("dropped", 0),
        },
        "orders_model": {
            "lines_per_order": f"1 + Poisson(m), m ~ Gamma({P.BASKET_SHAPE}, scale {P.BASKET_SCALE}) per customer (truth: basket_lines = 1 + m)",
            "quantity": f"1 + Poisson({P.QTY_EXTRA})",
            "discounts": {"10%": 0.15, "20%": 0.05},
            "return_delay_days": list(P.RETURN_DELAY),
            "product_return_rate_units": jsonable(agg.get("units_returned", 0) / sold),
            "products": [
                {
                    "product_id": pid,
                    "category": P.CATEGORIES[int(c)],
                    "price": f"{pc / 100:.2f}",
                    "popularity": jsonable(pp, 8),
                    "return_rate": jsonable(rr),
                }
                for pid, c, pc, pp, rr in zip(
                    ctx.product_ids, ctx.category, ctx.price_cents, ctx.popularity, ctx.return_rate
                )
            ],
        },
        "complaints": {
            "base_probability_per_order": P.COMPLAINT_BASE,
            "satisfaction_log_odds": P.COMPLAINT_SAT,
            "reason_share": dict(zip(P.REASONS, P.REASON_SHARE)),
            "dropout_log_odds_by_reason": dict(zip(P.REASONS, P.BETA_REASON)),
        },
        "spike": spike,
        "nps": {
            "answer_probability_per_order": P.NPS_PROB,
            "mean": P.NPS_MEAN,
            "satisfaction_slope": P.NPS_SAT,
            "complaint_drop": P.NPS_COMPLAINT,
            "noise_sd": P.NPS_SD,
        },
        "loyalty": {
            "launch": (ctx.start + timedelta(days=ctx.launch)).isoformat(),
            "dropout_log_odds": P.BETA_LOYAL,
            "dropout_odds_ratio": jsonable(math.exp(P.BETA_LOYAL), 4),
            "join_log_odds_at_purchase": f"{P.JOIN_BASE} + {P.JOIN_K}*min(k, 10) + {P.JOIN_FREQ}*log(30*(k + 1) / "
            "max(days since signup, 30)), k = purchases before this one: it depends "
            "on observed behaviour only",
            "confounding": "customers with many and frequent purchases join more (they survived more dropout "
            "draws, so their latent p is lower), and only customers who keep buying after the "
            "launch can join: naive member vs non-member comparisons overstate the effect; "
            "comparing at join time on purchases so far and frequency removes it",
            "members": agg.get("members", 0),
            "nonmembers": agg.get("nonmembers", 0),
            "members_alive_at_end": jsonable(alive_m),
            "members_alive_at_end_without_program": jsonable(alive_cf),
            "effect_on_treated_alive_at_end": jsonable(alive_m - alive_cf),
            "nonmembers_alive_at_end": jsonable(alive_n),
            "naive_difference_alive_at_end": jsonable(alive_m - alive_n),
            f"members_followed_{H}d": agg.get("members_followed", 0),
            f"members_retained_{H}d": jsonable(ret_m),
            f"members_retained_{H}d_without_program": jsonable(ret_cf),
            f"effect_on_treated_retained_{H}d": jsonable(ret_m - ret_cf),
            f"retained_{H}d": f"bought again (a purchase on a later day) within {H} days after the join day, "
            f"among the members who joined at least {H} days before the end. Without the "
            "program a member's purchases are the same up to the no-loyalty dropout, so only "
            "a dropout on the join day changes it",
            "counterfactual": "common random numbers: the same dropout draws without the loyalty term",
        },
        "subscriptions": {
            "subscriber_share": P.SUBSCRIBER_SHARE,
            "plans": dict(zip(P.PLANS, [c / 100 for c in P.PLAN_MRR_CENTS])),
            "plan_share": dict(zip(P.PLANS, P.PLAN_SHARE)),
            "upgrade_probability_per_repeat_purchase": P.UPGRADE_PROB,
            "downgrade_probability_per_repeat_purchase": P.DOWNGRADE_PROB,
            "end": f"a subscription ends {P.CANCEL_DELAY[0]}-{P.CANCEL_DELAY[1]} days after the customer's last "
            "purchase when the customer dropped out; open otherwise",
        },
        "contacts": {
            "channels": list(P.CONTACT_CHANNELS),
            "hours": [int(P.HOURS[0]), int(P.HOURS[-1])],
            "response_probability": f"base[channel] * ({P.BEST_MULT} if channel == best_channel else {P.OTHER_MULT}) "
            f"* ({P.HOUR_FLOOR} + {1 - P.HOUR_FLOOR:.2f}*exp(-(hour - best_hour)^2 / (2*{P.HOUR_SD}^2)))",
            "base": dict(zip(P.CONTACT_CHANNELS, P.CONTACT_BASE)),
            "best_channel_share": dict(zip(P.CONTACT_CHANNELS, P.BEST_CHANNEL_SHARE)),
            "contacts_per_month": P.CONTACTS_PER_MONTH,
            "per_customer": "truth_customers: best_channel, best_hour",
        },
        "campaigns": {
            "offers": {
                o: {"response_rate": r, "conversion_rate_given_response": c}
                for o, r, c in zip(P.OFFERS, P.OFFER_RESPONSE, P.OFFER_CONVERSION)
            },
            "response_probability": "response_rate[offer] * exp(0.3*satisfaction) "
            f"* ({P.DEAD_RESPONSE_FACTOR} if dropped out before the send else 1)",
            "target_share": P.CAMPAIGN_TARGET,
            "schedule": [
                {
                    "campaign_id": cid,
                    "date": (ctx.start + timedelta(days=int(d))).isoformat(),
                    "offer": P.OFFERS[int(o)],
                }
                for cid, d, o in zip(ctx.camp_ids, ctx.camp_day, ctx.camp_offer)
            ],
            "note": "conversions are campaign outcomes only; they do not add order rows",
        },
        "acquisition": {
            "channel_share": dict(zip(P.CHANNELS, P.CHANNEL_SHARE)),
            "true_cac": {c: v for c, v in zip(P.CHANNELS, P.CHANNEL_CAC) if v > 0},
            "customers_by_channel": {c: int(v) for c, v in zip(P.CHANNELS, acq_ch)},
            "spend_by_channel": {c: f"{v / 100:.2f}" for c, v in spend_by_ch.items()},
            "spend_noise_sd_log": P.SPEND_NOISE_SD,
        },
        "churn_drivers": drivers,
        "truth_customers_columns": {
            "purchase_rate": "lambda, purchases per day",
            "dropout_p": "p drawn from Beta(a, b)",
            "dropout_logit_base": "dropout log-odds after a purchase without complaint or membership",
            "satisfaction": "latent s ~ N(0,1)",
            "basket_lines": "mean lines per order",
            "best_channel": "contact channel with the highest response",
            "best_hour": "hour of highest response",
            "dropped_out": "dropped out by the end (a latent event; dropout_date = its last purchase)",
            "next_purchase_after_join": "members: the first purchase day after the join day (null: none)",
            "dropout_on_join_day_without_loyalty": "members: the no-loyalty counterfactual drops out at a "
            "purchase on the join day (same random draws)",
            "alive_at_end": "not dropped out by the end",
            "alive_without_loyalty": "alive at the end had the program not existed (same random draws)",
        },
    }
