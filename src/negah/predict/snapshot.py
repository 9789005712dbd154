"""Snapshot mode: churn modelling on a one-row-per-customer CRM export with a churn column.

This is how most companies first meet churn modelling: a table of customers, their
attributes and a "Churn" column (Yes/No, 1/0, true/false). negah takes it as exported —
blank cells, numbers stored as text, Persian digits, Yes/No labels — and

* ``train_table`` learns the column kinds (see :mod:`negah.predict.prepare`), holds out
  nothing for choosing settings (that is cross-validation inside :class:`ChurnClassifier`),
  and reports out-of-fold metrics of the chosen, calibrated model;
* ``score_table`` / ``score_file`` write one row per customer: the id column under its own
  name, ``churn_probability``, ``reason_1`` … ``reason_3``; the label column may be absent;
* ``evaluate_table`` prints the metrics on a labelled table.

A snapshot has no dates, so there is no backtest here: the metrics are out-of-fold
estimates. For honest time-based backtests use store mode (:mod:`negah.predict.backtest`).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TextIO

import numpy as np

from negah.errors import InputError
from negah.predict.classifier import ChurnClassifier
from negah.predict.evaluation import evaluate
from negah.predict.modelfile import ChurnModel, library_versions
from negah.predict.prepare import Preparer, guess_id_column, parse_labels

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx")


def _delimiter(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    first = head.decode("utf-8-sig", errors="replace").splitlines()[0] if head else ""
    counts = {d: first.count(d) for d in [",", ";", "\t", "|"]}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_table(path: str | Path, *, text_columns: tuple[str, ...] = ()) -> "pd.DataFrame":
    """Read a CSV (any common delimiter, UTF-8 with or without BOM), Parquet or .xlsx table.

    CSV cells are read as text where pandas cannot read the whole column as numbers; the
    :class:`Preparer` does the rest. ``text_columns`` (the id column) are always text, so
    ``007`` stays ``007``.
    """
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise InputError(f"table {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(
            f"table {str(p)!r}: unsupported file type {suffix or '(none)'}; expected one of {', '.join(TABLE_SUFFIXES)}"
        )
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        elif suffix == ".xlsx":
            df = pd.read_excel(p, dtype=object, engine="openpyxl")
        else:
            if p.stat().st_size == 0:
                raise InputError(f"table {str(p)!r} is empty (no header, no rows)")
            df = pd.read_csv(
                p,
                sep=_delimiter(p),
                encoding="utf-8-sig",
                keep_default_na=False,
                na_values=[""],
                dtype={c: str for c in text_columns},
                low_memory=False,
            )
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"table {str(p)!r} could not be read: {str(e).splitlines()[0]}") from None
    df.columns = [str(c).strip() for c in df.columns]
    dup = df.columns[df.columns.duplicated()].tolist()
    if dup:
        raise InputError(f"table {str(p)!r} has duplicate column names: {', '.join(dup)}")
    return df


def _column(df: "pd.DataFrame", name: str, what: str) -> str:
    if name in df.columns:
        return name
    low = {c.lower(): c for c in df.columns}
    if name.lower() in low:
        return low[name.lower()]
    raise InputError(f"{what} column {name!r} is not in the table; columns: {', '.join(map(str, df.columns[:30]))}")


def train_table(
    df: "pd.DataFrame",
    target: str,
    *,
    id_column: str | None = None,
    positive: str | None = None,
    model: str = "auto",
    seed: int = 0,
    folds: int = 3,
    max_rounds: int = 1000,
    num_threads: int = 0,
    source: str = "",
    as_of: Any = None,
    date_order: str = "dmy",
) -> ChurnModel:
    """Fit a churn model on a one-row-per-customer table with a label column ``target``.

    Date columns become days to ``as_of`` (default: the latest date in them), which the
    model keeps; ``date_order`` (``dmy`` or ``mdy``) reads dates such as ``03/04/2024``.
    """
    target = _column(df, target, "label")
    if id_column is not None:
        id_column = _column(df, id_column, "id")
    else:
        id_column = guess_id_column([c for c in df.columns if c != target], df)
    y = parse_labels(df[target], target, positive)
    prep = Preparer(date_order=date_order).fit(df, exclude=[c for c in (target, id_column) if c], as_of=as_of)
    X = prep.transform(df)
    clf = ChurnClassifier(model=model, folds=folds, max_rounds=max_rounds, seed=seed, num_threads=num_threads)
    clf.fit(X, y, prep.feature_names, prep.categorical_indices)
    # out-of-fold metrics of the chosen settings (calibrated on the same out-of-fold scores)
    meta = {
        "mode": "snapshot",
        "id_column": id_column,
        "target": target,
        "positive": positive,
        "training": {
            "rows": int(len(y)),
            "churned": int(y.sum()),
            "churn_rate": round(float(y.mean()), 6),
            "source": source,
            "as_of": prep.as_of,
            "date_columns": [c.name for c in prep.features if c.kind == "date"],
        },
        "features": [c.as_dict() for c in prep.columns_],
        "chosen": {"kind": clf.kind_, "settings": clf.settings_, "rounds": clf.rounds_, "cv": clf.cv_results_},
        "metrics": {"cv_auc": round(clf.cv_auc_, 6)},
        "context": {},
    }
    return ChurnModel(prep, clf, meta)


def score_table(
    model: ChurnModel,
    df: "pd.DataFrame",
    *,
    lang: str = "en",
    reasons: int = 3,
    explain: str = "shap",
    as_of: Any = None,
) -> "pd.DataFrame":
    """Probabilities and reasons for every row of ``df`` (see :meth:`ChurnModel.score`)."""
    return model.score(df, lang=lang, reasons=reasons, explain=explain, as_of=as_of)


def evaluate_table(model: ChurnModel, df: "pd.DataFrame", as_of: Any = None) -> dict[str, Any]:
    """The metrics of :func:`negah.predict.evaluation.evaluate` on a labelled table."""
    target = model.meta.get("target")
    if not target or target not in df.columns:
        raise InputError(f"evaluation needs the label column {target!r} in the table")
    y = parse_labels(df[target], target, model.meta.get("positive"))
    return evaluate(y, model.predict_proba(df, as_of))


def iter_table(path: str | Path, chunk_rows: int, text_columns: tuple[str, ...] = ()) -> Iterator["pd.DataFrame"]:
    """The table in chunks of about ``chunk_rows`` rows (Parquet by row groups, CSV by reader)."""
    import pandas as pd

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            f = pq.ParquetFile(p)
        except Exception as e:
            raise InputError(f"table {str(p)!r} could not be read: {str(e).splitlines()[0]}") from None
        for batch in f.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    elif suffix in (".csv", ".tsv", ".txt") and p.exists() and p.stat().st_size > 0:
        try:
            reader = pd.read_csv(
                p,
                sep=_delimiter(p),
                encoding="utf-8-sig",
                keep_default_na=False,
                na_values=[""],
                dtype={c: str for c in text_columns},
                chunksize=chunk_rows,
                low_memory=False,
            )
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                yield chunk
        except InputError:
            raise
        except Exception as e:
            raise InputError(f"table {str(p)!r} could not be read: {str(e).splitlines()[0]}") from None
    else:
        yield read_table(p, text_columns=text_columns)


def score_file(
    model: ChurnModel,
    path: str | Path,
    out: TextIO | None = None,
    *,
    fmt: str = "csv",
    lang: str = "en",
    reasons: int = 3,
    chunk_rows: int = 500_000,
    explain: str = "shap",
    as_of: Any = None,
    workers: int = 0,
) -> int:
    """Score a table file chunk by chunk, writing CSV or JSON to ``out`` (stdout); returns rows.

    ``as_of``: the reference date of date columns (default: the model's). A table of more
    than one chunk is scored by ``workers`` processes (0: one per core), each chunk on one
    thread; the chunks are written in order, so the output is the same as with one worker.
    """
    import itertools
    import os

    if fmt not in ("csv", "json"):
        raise InputError(f"format must be csv or json, received {fmt!r}")
    out = out or sys.stdout
    id_col = model.meta.get("id_column")
    text_cols = (id_col,) if id_col else ()
    kw = dict(lang=lang, reasons=reasons, explain=explain, as_of=as_of)
    n = 0
    first = True

    def emit(res: "pd.DataFrame", numbered: bool) -> None:
        nonlocal n, first
        if numbered:
            res.iloc[:, 0] = np.arange(n + 1, n + len(res) + 1)
        if fmt == "csv":
            res.to_csv(out, index=False, header=first, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        else:
            _write_json_rows(out, res, first)
        n += len(res)
        first = False

    chunks = iter_table(path, chunk_rows, text_cols)
    head = list(itertools.islice(chunks, 2))
    procs = min(workers if workers > 0 else (os.cpu_count() or 1), 8)
    if procs > 1 and len(head) > 1:
        _score_parallel(model, itertools.chain(head, chunks), kw, id_col, procs, emit)
    else:
        for chunk in itertools.chain(head, chunks):
            emit(model.score(chunk, **kw), not (id_col and id_col in chunk.columns))
    if fmt == "json":
        out.write("[]\n" if first else "\n]\n")
    elif first:
        out.write(
            ",".join([id_col or "row", "churn_probability"] + [f"reason_{i}" for i in range(1, reasons + 1)]) + "\n"
        )
    return n


_WORKER_MODEL: ChurnModel | None = None


def _worker_init(data: bytes) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = ChurnModel.from_bytes(data)
    _WORKER_MODEL.classifier.num_threads = 1  # the processes share the cores


def _worker_score(chunk: "pd.DataFrame", kw: dict[str, Any]) -> "pd.DataFrame":
    assert _WORKER_MODEL is not None
    return _WORKER_MODEL.score(chunk, **kw)


def _score_parallel(
    model: ChurnModel, chunks: Any, kw: dict[str, Any], id_col: str | None, procs: int, emit: Any
) -> None:
    """Chunks scored by ``procs`` fresh processes (spawned: no forked OpenMP or DuckDB
    state), at most ``procs + 1`` in flight, written in their order."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(procs, mp_context=ctx, initializer=_worker_init, initargs=(model.to_bytes(),)) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append((pool.submit(_worker_score, chunk, kw), not (id_col and id_col in chunk.columns)))
            while len(pending) > procs:
                fut, numbered = pending.popleft()
                emit(fut.result(), numbered)
        while pending:
            fut, numbered = pending.popleft()
            emit(fut.result(), numbered)


def _write_json_rows(out: TextIO, res: "pd.DataFrame", first: bool) -> None:
    cols = list(res.columns)
    values = [res[c].tolist() for c in cols]
    parts = []
    for row in zip(*values):
        parts.append(json.dumps(dict(zip(cols, row)), ensure_ascii=False))
    if not parts:
        return
    out.write(("[\n" if first else ",\n") + ",\n".join(parts))


__all__ = ["read_table", "train_table", "score_table", "evaluate_table", "score_file", "iter_table", "library_versions"]
