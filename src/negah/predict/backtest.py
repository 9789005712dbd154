"""Store mode: train on several rolling cut-offs, test on a later one — never a random split of time.

For a store observed up to ``as_of`` (the first day not in the data) and a horizon of H
days, a training example is (features at cut-off c, churned in [c, c + H)). Its label is
known only from c + H on, so a model used at ``as_of`` may learn only from cut-offs with
c + H ≤ as_of:

* **final model** — cut-offs ``as_of − H − k·step`` for k = 0 … n_cutoffs − 1;
* **backtest** — the same scheme shifted back by H: trained on cut-offs
  ``as_of − 2H − k·step``, tested at ``as_of − H`` (whose labels end at ``as_of``).
  The reported metrics are the backtest's: what the model would have scored had it been
  trained H days ago.

Settings (LightGBM or logistic, leaves, learning rate, rounds) are chosen by
cross-validation inside the training rows, grouped by customer (one customer's rows at
several cut-offs stay in one fold). The complaint-reason vocabulary is taken from the data
before the last training cut-off, so it never looks past the data it trains on.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence


from negah.errors import InputError
from negah.predict.classifier import ChurnClassifier
from negah.predict.evaluation import evaluate
from negah.predict.features import (
    TEXT_FEATURES,
    build_features,
    complaint_reasons,
    label_kind,
    parse_date,
    reason_features,
)
from negah.predict.labels import build_labels, data_end
from negah.predict.modelfile import ChurnModel
from negah.predict.prepare import Preparer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.store.connect import Store


def cutoffs(end: _dt.date, horizon: int, n: int, step: int) -> list[_dt.date]:
    """Training cut-offs whose labels end by ``end``: end − H − k·step, oldest first."""
    if n < 1 or step < 1:
        raise InputError(f"need at least one cut-off and a step of at least 1 day, received n={n}, step={step}")
    return sorted(end - _dt.timedelta(days=horizon + k * step) for k in range(n))


def training_frame(
    store: "Store",
    cuts: Sequence[_dt.date],
    horizon: int,
    *,
    label: str,
    window: int,
    reasons: Sequence[str],
    progress: Callable[[str], None] | None = None,
    cache: dict | None = None,
) -> "pd.DataFrame":
    """Features and labels at each cut-off, stacked (columns: cutoff, customer_id, features, churned).

    ``cache`` (a dict) keeps each cut-off's frame, so the backtest and the final model,
    which share a cut-off, build it once.
    """
    import pandas as pd

    frames = []
    for c in cuts:
        key = (c, tuple(reasons), horizon, window, label)
        if cache is not None and key in cache:
            frames.append(cache[key])
            continue
        if progress:
            progress(f"features and labels at cut-off {c}")
        f, _ = build_features(store, c, label=label, window=window, horizon=horizon, reasons=reasons)
        lab = build_labels(store, c, horizon, label)
        df = f.merge(lab, on="customer_id", how="inner", validate="one_to_one")
        df.insert(0, "cutoff", c.isoformat())
        if cache is not None:
            cache[key] = df
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _fit(
    frame: "pd.DataFrame", *, model: str, seed: int, folds: int, max_rounds: int, num_threads: int
) -> tuple[Preparer, ChurnClassifier]:
    y = frame["churned"].to_numpy()
    prep = Preparer().fit(frame, exclude=["cutoff", "customer_id", "churned"])
    X = prep.transform(frame)
    clf = ChurnClassifier(model=model, folds=folds, max_rounds=max_rounds, seed=seed, num_threads=num_threads)
    clf.fit(X, y, prep.feature_names, prep.categorical_indices, groups=frame["customer_id"].to_numpy())
    return prep, clf


@dataclass
class TrainingData:
    """Everything :func:`train_store` reads from the store: the stacked feature-and-label
    frames of the final model (and of the backtest) and what the model's metadata needs.
    Fitting it (:func:`fit_training_data`) needs no store, so a service can close its
    connection before the minutes of training."""

    as_of: _dt.date
    horizon: int
    window: int
    step: int
    label: str
    store_kind: str
    final_cuts: list[_dt.date]
    reasons: list[str]
    train: "pd.DataFrame"
    bt_cuts: list[_dt.date] = field(default_factory=list)
    test_cut: _dt.date | None = None
    bt_train: "pd.DataFrame | None" = None
    bt_test: "pd.DataFrame | None" = None


def read_training_data(
    store: "Store",
    as_of: Any,
    *,
    horizon: int = 90,
    label: str = "auto",
    window: int = 90,
    n_cutoffs: int = 4,
    step: int = 30,
    backtest: bool = True,
    max_reasons: int = 8,
    progress: Callable[[str], None] | None = None,
) -> TrainingData:
    """The store part of :func:`train_store`: features and labels at every cut-off."""
    as_of = parse_date(as_of)
    kind = label_kind(store, label)
    last = data_end(store, kind)
    if last is not None and last < as_of - _dt.timedelta(days=1):
        if progress:
            progress(f"note: the {kind} data end on {last}, before the day before as_of ({as_of})")
    final_cuts = cutoffs(as_of, horizon, n_cutoffs, step)
    reasons = complaint_reasons(store, final_cuts[-1], max_reasons)
    cache: dict = {}
    data = TrainingData(
        as_of=as_of,
        horizon=horizon,
        window=window,
        step=step,
        label=kind,
        store_kind=store.kind,
        final_cuts=final_cuts,
        reasons=list(reasons),
        train=None,
    )  # type: ignore[arg-type]
    if backtest:
        data.test_cut = as_of - _dt.timedelta(days=horizon)
        data.bt_cuts = cutoffs(data.test_cut, horizon, n_cutoffs, step)
        bt_reasons = complaint_reasons(store, data.bt_cuts[-1], max_reasons)
        data.bt_train = training_frame(
            store, data.bt_cuts, horizon, label=kind, window=window, reasons=bt_reasons, progress=progress, cache=cache
        )
        _check_labels(data.bt_train, "backtest training")
        data.bt_test = training_frame(
            store,
            [data.test_cut],
            horizon,
            label=kind,
            window=window,
            reasons=bt_reasons,
            progress=progress,
            cache=cache,
        )
    data.train = training_frame(
        store, final_cuts, horizon, label=kind, window=window, reasons=reasons, progress=progress, cache=cache
    )
    _check_labels(data.train, "training")
    return data


def fit_training_data(
    data: TrainingData,
    *,
    model: str = "auto",
    seed: int = 0,
    folds: int = 3,
    max_rounds: int = 1000,
    num_threads: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ChurnModel:
    """The fitting part of :func:`train_store` (no store needed): backtest, then the final model."""
    metrics: dict[str, Any] = {}
    test_info: dict[str, Any] = {}
    if data.bt_train is not None and data.bt_test is not None:
        prep, clf = _fit(
            data.bt_train, model=model, seed=seed, folds=folds, max_rounds=max_rounds, num_threads=num_threads
        )
        if progress:
            progress(f"backtest: trained on {', '.join(str(c) for c in data.bt_cuts)}; testing at {data.test_cut}")
        p = clf.predict_proba(prep.transform(data.bt_test))
        metrics = evaluate(data.bt_test["churned"].to_numpy(), p)
        metrics["cv_auc"] = round(clf.cv_auc_, 6)
        test_info = {
            "train_cutoffs": [c.isoformat() for c in data.bt_cuts],
            "test_cutoff": data.test_cut.isoformat() if data.test_cut else None,
            "chosen": clf.settings_["name"],
            "train_rows": int(len(data.bt_train)),
        }
    train = data.train
    if progress:
        progress(f"final model: {len(train)} rows from cut-offs {', '.join(str(c) for c in data.final_cuts)}")
    prep, clf = _fit(train, model=model, seed=seed, folds=folds, max_rounds=max_rounds, num_threads=num_threads)
    reasons = data.reasons
    meta = {
        "mode": "store",
        "id_column": "customer_id",
        "target": "churned",
        "label": data.label,
        "training": {
            "as_of": data.as_of.isoformat(),
            "horizon": data.horizon,
            "window": data.window,
            "step": data.step,
            "cutoffs": [c.isoformat() for c in data.final_cuts],
            "rows": int(len(train)),
            "churned": int(train["churned"].sum()),
            "churn_rate": round(float(train["churned"].mean()), 6),
            "store_kind": data.store_kind,
        },
        "features": [c.as_dict() for c in prep.columns_],
        "chosen": {"kind": clf.kind_, "settings": clf.settings_, "rounds": clf.rounds_, "cv": clf.cv_results_},
        "metrics": metrics,
        "backtest": test_info,
        "context": {
            "window": data.window,
            "horizon": data.horizon,
            "reasons": dict(zip(reason_features(reasons), reasons)),
            "reason_list": list(reasons),
        },
    }
    return ChurnModel(prep, clf, meta)


def train_store(
    store: "Store",
    as_of: Any,
    *,
    horizon: int = 90,
    label: str = "auto",
    window: int = 90,
    n_cutoffs: int = 4,
    step: int = 30,
    model: str = "auto",
    seed: int = 0,
    folds: int = 3,
    max_rounds: int = 1000,
    num_threads: int = 0,
    backtest: bool = True,
    max_reasons: int = 8,
    progress: Callable[[str], None] | None = None,
) -> ChurnModel:
    """Backtest, then fit the final model (see the module docstring); returns the model.

    :func:`read_training_data` then :func:`fit_training_data`: the store is only read by the first."""
    data = read_training_data(
        store,
        as_of,
        horizon=horizon,
        label=label,
        window=window,
        n_cutoffs=n_cutoffs,
        step=step,
        backtest=backtest,
        max_reasons=max_reasons,
        progress=progress,
    )
    return fit_training_data(
        data, model=model, seed=seed, folds=folds, max_rounds=max_rounds, num_threads=num_threads, progress=progress
    )


def _check_labels(frame: "pd.DataFrame", what: str) -> None:
    if len(frame) == 0:
        raise InputError(f"{what}: no customers at the cut-offs; choose a later --as-of or fewer/closer cut-offs")
    pos = int(frame["churned"].sum())
    if pos == 0 or pos == len(frame):
        raise InputError(
            f"{what}: every one of {len(frame)} rows has churned={int(pos > 0)}; "
            "choose another --horizon or --as-of so that both outcomes occur"
        )


def store_features_for(model: ChurnModel, store: "Store", as_of: Any) -> "pd.DataFrame":
    """The model's features at ``as_of`` on ``store`` (with the model's window, horizon and reasons)."""
    if model.meta.get("mode") != "store":
        raise InputError("this model was trained on a table (snapshot mode); score it with --table FILE")
    tr = model.meta["training"]
    f, _ = build_features(
        store,
        as_of,
        label=model.meta["label"],
        window=tr["window"],
        horizon=tr["horizon"],
        reasons=model.meta["context"]["reason_list"],
    )
    return f


def score_store(
    model: ChurnModel, store: "Store", as_of: Any, *, lang: str = "en", reasons: int = 3, explain: str = "shap"
) -> "pd.DataFrame":
    """customer_id, churn_probability, reason_1..3 for the population at ``as_of``."""
    f = store_features_for(model, store, as_of)
    return model.score(f, lang=lang, reasons=reasons, id_values=f["customer_id"].to_numpy(), explain=explain)


def evaluate_store(model: ChurnModel, store: "Store", as_of: Any, horizon: int | None = None) -> dict[str, Any]:
    """Metrics of the model's probabilities at ``as_of`` against what happened in the next horizon days."""
    as_of = parse_date(as_of)
    horizon = horizon or model.meta["training"]["horizon"]
    last = data_end(store, model.meta["label"])
    need = as_of + _dt.timedelta(days=horizon - 1)
    if last is None or last < need:
        raise InputError(
            f"evaluation at {as_of} with a {horizon}-day horizon needs data up to {need}; "
            f"the store's {model.meta['label']} end on {last}: choose an --as-of at least "
            f"{horizon} days before the end of the data"
        )
    f = store_features_for(model, store, as_of)
    lab = build_labels(store, as_of, horizon, model.meta["label"])
    df = f.merge(lab, on="customer_id", how="inner", validate="one_to_one")
    out = evaluate(df["churned"].to_numpy(), model.predict_proba(df))
    out["as_of"] = as_of.isoformat()
    out["horizon"] = horizon
    out["in_sample"] = in_sample(model, as_of)
    return out


def in_sample(model: ChurnModel, as_of: _dt.date) -> bool:
    """Whether the model saw what happened after ``as_of``: it was trained on data up to a
    later date (an evaluation there is not a test; a score there uses the future)."""
    trained = model.meta.get("training", {}).get("as_of")
    return bool(trained) and as_of < _dt.date.fromisoformat(str(trained)[:10])


__all__ = ["cutoffs", "training_frame", "train_store", "score_store", "evaluate_store", "TEXT_FEATURES"]
