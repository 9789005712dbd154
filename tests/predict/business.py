"""A small business with planted churn drivers, for the prediction tests.

Per customer: a signup day, a purchase rate and, after every purchase, a chance to drop
out that rises with a complaint about *late delivery* on that order (the planted driver),
falls for loyalty members, and is otherwise flat. Complaints about other reasons do not
change churn. NPS answers fall after a complaint. 30% of customers also hold a
subscription that ends when they drop out.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

START = dt.date(2023, 1, 1)
REASONS = ["late delivery", "damaged item", "price"]


def make_business(n: int = 1500, seed: int = 0, days: int = 730) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    orders, complaints, responses, contacts, subs, customers = [], [], [], [], [], []
    for i in range(n):
        cid = f"c{i:05d}"
        signup = int(rng.integers(0, days - 120))
        rate = rng.gamma(2.0, 1 / 40)  # purchases per day, mean 1 per 20 days
        base_p = rng.beta(1.0, 20.0)  # dropout chance after a purchase, varies by customer
        member = rng.random() < 0.3
        joined = signup + int(rng.integers(0, 60)) if member else None
        t = float(signup)
        k = 0
        dropped = None
        while t < days:
            day = int(t)
            oid = f"o{i:05d}-{k}"
            amount = round(float(rng.gamma(2.0, 30.0)) + 5, 2)
            orders.append((cid, START + dt.timedelta(days=day), amount, oid, 1.0, "purchase"))
            if rng.random() < 0.05:
                orders.append((cid, START + dt.timedelta(days=min(day + 5, days - 1)), -amount, oid, -1.0, "return"))
            late = False
            if rng.random() < 0.18:
                reason = REASONS[int(rng.choice(3, p=[0.4, 0.3, 0.3]))]
                late = reason == "late delivery"
                complaints.append((f"k{i}-{k}", cid, START + dt.timedelta(days=day + 1), reason))
            if rng.random() < 0.25:
                score = int(np.clip(round(rng.normal(8.5 - (3.5 if late else 0), 1.5)), 0, 10))
                responses.append((cid, START + dt.timedelta(days=day + 2), score))
            if rng.random() < 0.3:
                outcome = "answered" if rng.random() < (0.3 if late else 0.7) else "no_response"
                contacts.append(
                    (
                        cid,
                        dt.datetime.combine(START + dt.timedelta(days=day + 3), dt.time(10, 30)),
                        "phone",
                        "outbound",
                        outcome,
                    )
                )
            p_drop = (
                base_p + (0.45 if late else 0.0) - (0.02 if (member and joined is not None and day >= joined) else 0)
            )
            k += 1
            if rng.random() < p_drop:
                dropped = day
                break
            t += rng.exponential(1 / rate)
        country = ["IR", "DE", "US"][int(rng.integers(0, 3))]
        customers.append(
            (
                cid,
                START + dt.timedelta(days=signup),
                country,
                ["web", "store", "referral"][int(rng.integers(0, 3))],
                bool(member),
                (START + dt.timedelta(days=joined)) if joined is not None else None,
            )
        )
        if rng.random() < 0.3:
            end = START + dt.timedelta(days=dropped + 20) if dropped is not None else None
            subs.append(
                (
                    f"s{i}",
                    cid,
                    START + dt.timedelta(days=signup),
                    end,
                    float(rng.choice([9.0, 19.0, 49.0])),
                    ["basic", "plus", "pro"][int(rng.integers(0, 3))],
                )
            )
    return {
        "orders": pd.DataFrame(orders, columns=["customer_id", "order_date", "amount", "order_id", "quantity", "kind"]),
        "complaints": pd.DataFrame(complaints, columns=["complaint_id", "customer_id", "complaint_date", "reason"]),
        "responses": pd.DataFrame(responses, columns=["customer_id", "response_date", "score"]),
        "contacts": pd.DataFrame(contacts, columns=["customer_id", "contacted_at", "channel", "direction", "outcome"]),
        "subscriptions": pd.DataFrame(
            subs, columns=["subscription_id", "customer_id", "start_date", "end_date", "mrr", "plan"]
        ),
        "customers": pd.DataFrame(
            customers,
            columns=[
                "customer_id",
                "signup_date",
                "country",
                "acquisition_channel",
                "loyalty_member",
                "loyalty_joined",
            ],
        ),
    }


def load_store(path, tables: dict[str, pd.DataFrame]):
    from negah.store import open_store
    from negah.store.ingest import import_frame

    st = open_store(str(path))
    for name, df in tables.items():
        if len(df):
            import_frame(st, name, df, source=name)
    st.invalidate()
    return st
