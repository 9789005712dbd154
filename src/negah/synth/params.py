"""The synthetic business's constants: table names, sizes, the default window and every
parameter of the generating model (the ground truth that ``ground_truth.json`` reports).

The generators read these as attributes of this module at run time
(``params.CONTACTS_PER_MONTH``), so setting one (``negah.synth.CONTACTS_PER_MONTH = 4.0``,
which the package forwards here) changes the model of the next :func:`negah.synth.generate`.
"""

from __future__ import annotations

from datetime import date

import numpy as np

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


# ---------------------------------------------------------------- model parameters
R_SHAPE, ALPHA_RATE = 0.75, 34.0  # lambda ~ Gamma(shape r, rate alpha), per day: mean 1/45
LAMBDA_CAP = 0.25  # at most one purchase per 4 days on average
A_BETA, B_BETA = 1.0, 5.0  # p ~ Beta(a, b): mean 1/6
GROWTH = 1.5  # signup density rises linearly by this factor over the window
MAX_ORDERS = 9_999  # per customer (order ids carry a 4-digit sequence)

CHANNELS = ("organic", "paid_search", "paid_social", "referral", "affiliate", "email")
CHANNEL_SHARE = (0.30, 0.22, 0.18, 0.12, 0.10, 0.08)
CHANNEL_LAMBDA = (1.00, 0.95, 0.80, 1.20, 0.90, 1.05)  # purchase-rate multiplier
CHANNEL_DROPOUT = (0.00, 0.10, 0.35, -0.30, 0.20, -0.10)  # log-odds shift of dropout
CHANNEL_CAC = (0.0, 38.0, 45.0, 25.0, 30.0, 12.0)  # true acquisition cost per customer
COUNTRIES = ("IR", "AE", "TR", "DE", "GB", "US")
COUNTRY_SHARE = (0.55, 0.12, 0.10, 0.08, 0.08, 0.07)

SUBSCRIBER_SHARE = 0.30
PLANS = ("basic", "plus", "pro")
PLAN_SHARE = (0.50, 0.35, 0.15)
PLAN_MRR_CENTS = (990, 1990, 3990)
UPGRADE_PROB, DOWNGRADE_PROB = 0.06, 0.04  # per repeat purchase of a subscriber
CANCEL_DELAY = (1, 30)  # days from the last purchase to the subscription's end

BETA_SAT = -0.35  # dropout log-odds per SD of satisfaction
BETA_SUBSCRIBER = -0.40
BETA_LOYAL = -0.60  # dropout log-odds for a loyalty member

REASONS = ("late_delivery", "damaged", "wrong_item", "price", "support", "product_quality")
REASON_SHARE = (0.30, 0.14, 0.12, 0.14, 0.12, 0.18)
BETA_REASON = (0.50, 0.70, 0.60, 0.90, 1.10, 0.80)  # dropout log-odds after the order complained about
REASON_TEXT = (
    "My order arrived much later than promised.",
    "The item arrived damaged.",
    "I received the wrong item.",
    "The price is too high compared to other shops.",
    "Support did not solve my problem.",
    "The product quality is poor.",
)
COMPLAINT_BASE = 0.035  # per order, at satisfaction 0
COMPLAINT_SAT = -0.50  # complaint log-odds per SD of satisfaction
COMPLAINT_CHANNELS = ("email", "phone", "chat", "web")
COMPLAINT_CHANNEL_SHARE = (0.35, 0.25, 0.25, 0.15)
SPIKE_REASON = "damaged"
SPIKE_PRODUCT_RANK = 4  # the 4th most popular product
SPIKE_PROB = 0.25  # extra complaint probability per order with the product in the month

NPS_PROB = 0.12  # survey answered after an order
NPS_MEAN, NPS_SAT, NPS_COMPLAINT, NPS_SD = 7.5, 1.7, 3.0, 1.3

LOYALTY_LAUNCH_FRACTION = 0.25  # the program starts a quarter into the window
JOIN_BASE, JOIN_FREQ, JOIN_K = -2.6, 0.6, 0.15  # join log-odds at a purchase, from observed behaviour only
RETAINED_DAYS = 180  # the ground truth's retention window after joining (evaluate-program's default)

N_PRODUCTS = 200
ZIPF_EXPONENT = 1.0
CATEGORIES = ("apparel", "home", "beauty", "electronics", "books")
CATEGORY_RETURN = (0.25, 0.12, 0.09, 0.15, 0.06)  # mean line return rate per category
QTY_EXTRA = 0.2
BASKET_SHAPE, BASKET_SCALE = 2.0, 0.4  # extra lines per order ~ Poisson(m), m ~ Gamma
PRODUCT_TABLE_BITS = 16  # products are drawn from a 2**16-entry quantile table
MAX_LINES = 30
RETURN_DELAY = (2, 30)

CONTACT_CHANNELS = ("phone", "email", "sms", "chat")
BEST_CHANNEL_SHARE = (0.25, 0.35, 0.20, 0.20)
CONTACT_BASE = (0.30, 0.22, 0.15, 0.25)  # response base per channel; x BEST_MULT on the best channel, else x OTHER_MULT
BEST_MULT, OTHER_MULT = 2.2, 0.6
HOURS = np.arange(8, 22)  # contacts are made 08:00-21:59
BEST_HOUR_WEIGHT = (2, 4, 6, 5, 3, 2, 2, 2, 3, 4, 6, 7, 5, 3)
HOUR_SD = 2.0
HOUR_FLOOR = 0.2  # response factor far from the best hour
CONTACTS_PER_MONTH = 0.3
CONTACT_OUTCOME = ("answered", "opened", "replied", "replied", "no_response")
LAPSE_DAYS = 120  # contacts and campaigns reach a dropped-out customer this long

OFFERS = ("discount_10", "discount_20", "free_shipping", "bonus_points", "winback_gift")
OFFER_RESPONSE = (0.08, 0.12, 0.10, 0.06, 0.09)
OFFER_CONVERSION = (0.35, 0.45, 0.40, 0.30, 0.25)  # given a response
CAMPAIGN_DAYS = (3, 17)  # two sends a month
CAMPAIGN_TARGET = 0.20
DEAD_RESPONSE_FACTOR = 0.2  # a customer who dropped out responds this much less
SPEND_NOISE_SD = 0.15

__all__ = [name for name in list(globals()) if name.isupper()]
"""Every constant above: :mod:`negah.synth` re-exports them."""
