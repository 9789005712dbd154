"""Retention metrics, exactly as ``spec/metrics.md`` defines them, on every engine.

``negah.metrics`` is both this package and a function::

    >>> import negah
    >>> df = negah.metrics("negah.duckdb", period="month", calendar="jalali")  # doctest: +SKIP

Calling the module calls :func:`negah.metrics.engine.compute` (the module's class is
replaced by a :class:`types.ModuleType` subclass with ``__call__``). The families live in
one module each: :mod:`~negah.metrics.rollup` (the shared roll-up), ``churn``, ``revenue``,
``purchases``, ``returns``, ``nps``, ``clv``, ``growth``, ``acquisition``, ``window``,
``cohorts``, ``subscriptions``, ``benchmarks`` and ``output`` (JSON/CSV/table rendering).
Heavy imports (Ibis, pandas) happen when a function runs.
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

__all__ = ["compute", "compute_records", "cohort_table", "benchmark", "growth_table", "available_metrics"]
# (function names never equal a submodule name: importing the submodule would replace them)


# the engine module is light (Ibis and pandas load when a function runs), so the main
# functions are the engine's own: their signatures and docstrings show in a notebook
from negah.metrics.engine import available_metrics, compute, compute_records  # noqa: E402


def cohort_table(*args: Any, **kwargs: Any):
    """See :func:`negah.metrics.cohorts.cohorts`."""
    from negah.metrics.cohorts import cohorts as _c

    return _c(*args, **kwargs)


def growth_table(*args: Any, **kwargs: Any):
    """Growth against churn per period (new, reactivated, churned, net adds, quick ratio)."""
    from negah.metrics.engine import compute as _compute

    kwargs.setdefault(
        "metrics", ["new_customers", "reactivated_customers", "churned_customers", "net_customer_adds", "quick_ratio"]
    )
    return _compute(*args, **kwargs)


def benchmark(*args: Any, **kwargs: Any):
    """See :func:`negah.metrics.benchmarks.benchmark`."""
    from negah.metrics.benchmarks import benchmark as _b

    return _b(*args, **kwargs)


class _CallableModule(types.ModuleType):
    """``negah.metrics(...)`` is ``negah.metrics.engine.compute(...)``."""

    def __call__(self, *args: Any, **kwargs: Any):
        return compute(*args, **kwargs)


_CallableModule.__call__.__doc__ = compute.__doc__
# (with a leading ``self``, which inspect drops for the module object)
_sig = inspect.signature(compute)
_CallableModule.__call__.__signature__ = _sig.replace(  # type: ignore[attr-defined]
    parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY), *_sig.parameters.values()]
)


sys.modules[__name__].__class__ = _CallableModule
