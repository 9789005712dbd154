"""Churn prediction with reasons.

* :mod:`negah.predict.features` — point-in-time features at a cut-off (Ibis, any engine);
* :mod:`negah.predict.labels` — churned within a horizon after the cut-off;
* :mod:`negah.predict.classifier` — LightGBM or logistic, chosen by cross-validation, calibrated;
* :mod:`negah.predict.backtest` — store mode: rolling cut-offs, an honest backtest, scoring;
* :mod:`negah.predict.snapshot` — snapshot mode: a one-row-per-customer CRM export;
* :mod:`negah.predict.reasons` — SHAP contributions in plain words (English, Persian);
* :mod:`negah.predict.survival` — Kaplan–Meier, log-rank tests, Cox model;
* :mod:`negah.predict.modelfile` — one versioned model file.

Heavy libraries (LightGBM, scikit-learn, lifelines, Ibis) load inside the functions that
use them; importing this package is cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChurnModel",
    "train_table",
    "train_store",
    "score_store",
    "evaluate_store",
    "build_features",
    "build_labels",
    "evaluate",
    "load_model",
]


def __getattr__(name: str) -> Any:
    if name in ("ChurnModel",):
        from negah.predict.modelfile import ChurnModel

        return ChurnModel
    if name == "load_model":
        from negah.predict.modelfile import ChurnModel

        return ChurnModel.load
    if name == "train_table":
        from negah.predict.snapshot import train_table

        return train_table
    if name in ("train_store", "score_store", "evaluate_store"):
        from negah.predict import backtest

        return getattr(backtest, name)
    if name == "build_features":
        from negah.predict.features import build_features

        return build_features
    if name == "build_labels":
        from negah.predict.labels import build_labels

        return build_labels
    if name == "evaluate":
        from negah.predict.evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'negah.predict' has no attribute {name!r}")
