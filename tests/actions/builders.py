"""Small hand-built stores for the action tests: every expected number can be worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

END = dt.date(2024, 6, 30)


def day(days_before_end: int) -> dt.date:
    return END - dt.timedelta(days=days_before_end)


def rfm_orders() -> pd.DataFrame:
    """Five customers whose recency, purchase days and net revenue are 5 distinct levels each.

    ========  =======  =============  ===========  ==========  ===============
    customer  recency  purchase days  net revenue  R, F, M     segment
    ========  =======  =============  ===========  ==========  ===============
    a         0        5              500          5, 5, 5     champions
    b         10       4              400          4, 4, 4     loyal
    c         50       1              100          3, 1, 1     promising
    d         100      3              300          2, 3, 3     at_risk
    e         300      2              200          1, 2, 2     lost
    ========  =======  =============  ===========  ==========  ===============

    ``a`` also returns 50 on a day without a purchase (net 550 − 50 = 500, still 5 purchase
    days) and buys two lines on one day (one purchase day).
    """
    rows = [
        # a: 5 purchase days, 550 bought, 50 returned
        ("a", day(0), 100, "purchase"),
        ("a", day(20), 100, "purchase"),
        ("a", day(40), 60, "purchase"),
        ("a", day(40), 40, "purchase"),
        ("a", day(60), 100, "purchase"),
        ("a", day(80), 150, "purchase"),
        ("a", day(30), -50, "return"),
        ("b", day(10), 100, "purchase"),
        ("b", day(30), 100, "purchase"),
        ("b", day(50), 100, "purchase"),
        ("b", day(70), 100, "purchase"),
        ("c", day(50), 100, "purchase"),
        ("d", day(100), 100, "purchase"),
        ("d", day(130), 100, "purchase"),
        ("d", day(160), 100, "purchase"),
        ("e", day(300), 100, "purchase"),
        ("e", day(330), 100, "purchase"),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "kind"])


EXPECTED_RFM = {  # customer: (R, F, M, segment, recency_days, purchase_days, revenue)
    "a": (5, 5, 5, "champions", 0, 5, 500.0),
    "b": (4, 4, 4, "loyal", 10, 4, 400.0),
    "c": (3, 1, 1, "promising", 50, 1, 100.0),
    "d": (2, 3, 3, "at_risk", 100, 3, 300.0),
    "e": (1, 2, 2, "lost", 300, 2, 200.0),
}


def signal_data() -> dict[str, pd.DataFrame]:
    """Five customers, one signal each (as of :data:`END`):

    * ``x`` bought every 10 days until 50 days ago → ``overdue`` (50 > 2 × 10);
    * ``y`` buys every 10 days, complained about "damaged" 29 days ago (and about "price"
      the same day: the first reason in text order is kept) → ``complaint:damaged``;
    * ``z`` buys every 10 days, answered NPS 9 in January and 3 on 2024-06-15 → ``detractor``;
    * ``w`` bought 100 every 10 days in the 180 days before the last 180, and 10 since → ``spend_down``;
    * ``v`` buys every 10 days, complained 200 days ago (too old), NPS 2 then 10 → no signal.
    """
    rows = []
    for c in ("y", "z", "v"):
        rows += [(c, day(k), 20.0) for k in range(0, 360, 10)]
    rows += [("x", day(k), 20.0) for k in range(50, 360, 10)]
    rows += [("w", day(k), 10.0 if k < 180 else 100.0) for k in range(0, 360, 10)]
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    complaints = pd.DataFrame(
        {
            "customer_id": ["y", "y", "v"],
            "complaint_date": [day(29), day(29), day(200)],
            "reason": ["price", "damaged", "late_delivery"],
            "product_id": ["p1", "p2", "p1"],
        }
    )
    responses = pd.DataFrame(
        {
            "customer_id": ["z", "z", "v", "v"],
            "response_date": [dt.date(2024, 1, 10), dt.date(2024, 6, 15), dt.date(2024, 1, 10), dt.date(2024, 6, 15)],
            "score": [9, 3, 2, 10],
        }
    )
    # x answers sms and not e-mail; y opens e-mail and ignores sms (shrinkage keeps the order)
    contacts = pd.DataFrame(
        {
            "customer_id": ["x", "x", "x", "x", "y", "y", "y", "y"],
            "channel": ["sms", "sms", "email", "email", "email", "email", "email", "sms"],
            "contacted_at": pd.to_datetime(
                [
                    "2024-05-01 10:00",
                    "2024-05-02 11:00",
                    "2024-05-03 12:00",
                    "2024-05-04 12:00",
                    "2024-05-01 10:00",
                    "2024-05-02 11:00",
                    "2024-05-03 12:00",
                    "2024-05-04 12:00",
                ]
            ),
            "outcome": [
                "answered",
                "answered",
                "no_response",
                "no_response",
                "opened",
                "opened",
                "opened",
                "no_response",
            ],
        }
    )
    return {"orders": orders, "complaints": complaints, "responses": responses, "contacts": contacts}


EXPECTED_SIGNALS = {"x": "overdue", "y": "complaint:damaged", "z": "detractor", "w": "spend_down", "v": ""}


def write_folder(path: Path, frames: dict[str, pd.DataFrame]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.to_csv(path / f"{name}.csv", index=False)
    return path
