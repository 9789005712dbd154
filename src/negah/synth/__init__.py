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

The package: :mod:`~negah.synth.params` (table names, sizes and every model parameter),
:mod:`~negah.synth.simulate` (business-wide draws and the per-customer purchase process),
:mod:`~negah.synth.tables` (one Arrow table per canonical table from a simulated block),
:mod:`~negah.synth.encode` (vectorised ids, dates, money and labels; the Arrow schemas),
:mod:`~negah.synth.truth` (``ground_truth.json``) and :mod:`~negah.synth.run`
(:func:`generate`: blocks, threads, write batches, progress and the writer thread).

The model parameters are attributes of this package too (``negah.synth.SPIKE_REASON``);
they live in :mod:`~negah.synth.params`, and setting one here
(``negah.synth.CONTACTS_PER_MONTH = 4.0``) sets it there, so the next :func:`generate`
uses it. ``negah.synth(...)`` calls :func:`generate`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from negah.synth import params as _params
from negah.synth.params import *  # noqa: F401,F403  (the model parameters: negah.synth.SPIKE_REASON, ...)
from negah.synth.run import estimate_customers, generate  # noqa: F401  (estimate_customers: public too)

__all__ = ["generate", "TABLE_NAMES", "BLOCK_SIZE", "DEFAULT_START", "DEFAULT_END", "LINES_PER_CUSTOMER"]


class _CallableModule(types.ModuleType):
    """``negah.synth(...)`` calls :func:`generate` whether ``negah.synth`` names this package
    (after ``import negah.synth``) or the facade's function (``negah/__init__.py``). Setting a
    model parameter here sets it in :mod:`negah.synth.params` too, where the generators read it."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return generate(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _params.__all__:
            setattr(_params, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _CallableModule
