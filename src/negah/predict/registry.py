"""Trained churn models kept in the embedded store, to be listed and reused.

``negah predict train --save`` (or :func:`save`) writes the one-file model (the bytes of
:meth:`ChurnModel.to_bytes`, unchanged: the same format and version checks as a file) and
its metadata into the table ``_negah_models`` of an embedded DuckDB store (created by the
store's schema migration to version 2). The service, the at-risk list and
``negah predict score --model ID|NAME`` find models there.

API::

    save(store, model, name=None) -> dict        # the record, without the file
    list_models(store) -> list[dict]             # newest first; [] when there is no registry
    load(store, model_id_or_name=None) -> ChurnModel   # None: the newest store-mode model
    delete(store, model_id) -> None

A record: ``model_id`` (the first 12 hex digits of the file's SHA-256: saving the same
model again changes nothing but, when given, its name), ``name``, ``kind`` (``churn``),
``mode`` (``store`` or ``snapshot``), ``created_at`` (UTC, ISO), ``as_of`` (the training
cut-off, or a snapshot's reference date), ``horizon_days``, ``metrics``, ``meta`` (what
the model was trained on: see :class:`ChurnModel`), ``size_bytes``.

Company databases (PostgreSQL, MySQL) are read-only to negah: saving or deleting there
raises :class:`~negah.errors.StoreError`; listing finds nothing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from negah.errors import InputError, StoreError
from negah.store import schema as S

if TYPE_CHECKING:  # pragma: no cover
    from negah.predict.modelfile import ChurnModel
    from negah.store.connect import Store

KIND = "churn"
_COLUMNS = "model_id, name, kind, mode, created_at, as_of, horizon_days, metrics, meta, octet_length(file)"


def _writable(store: "Store") -> Any:
    if store.kind != "duckdb":
        raise StoreError(
            f"store {store.location!r} is a {store.kind} database, read in place: negah never writes into it. "
            "Save models in an embedded store (--store PATH.duckdb) or to a file (--out FILE)"
        )
    if store.read_only:
        raise StoreError(
            f"store {store.location!r} is open read-only; open it read-write to save or delete "
            "models (a --data folder cannot keep models: use --store PATH.duckdb or --out FILE)"
        )
    return store.con.con


def _readable(store: "Store") -> Any | None:
    """The DuckDB connection when the store has a model registry, else None."""
    if store.kind != "duckdb" or store.con is None:
        return None
    raw = store.con.con
    found = raw.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [S.MODELS_TABLE]
    ).fetchone()[0]
    return raw if found else None


def _record(row: tuple) -> dict[str, Any]:
    model_id, name, kind, mode, created, as_of, horizon, metrics, meta, size = row
    return {
        "model_id": model_id,
        "name": name,
        "kind": kind,
        "mode": mode,
        "created_at": created.isoformat(timespec="seconds") if created is not None else None,
        "as_of": as_of.isoformat() if as_of is not None else None,
        "horizon_days": horizon,
        "metrics": json.loads(metrics) if metrics else {},
        "meta": json.loads(meta) if meta else {},
        "size_bytes": int(size),
    }


def _records(raw: Any, where: str = "", params: list | None = None) -> list[dict[str, Any]]:
    rows = raw.execute(f"SELECT {_COLUMNS} FROM {S.MODELS_TABLE} {where} ORDER BY seq DESC", params or []).fetchall()
    return [_record(r) for r in rows]


def _default_name(model: "ChurnModel") -> str:
    meta = model.meta
    tr = meta.get("training", {})
    if meta.get("mode") == "store":
        return f"churn-{tr.get('as_of')}-h{tr.get('horizon')}"
    source = str(tr.get("source") or "table").rsplit(".", 1)[0]
    return f"churn-{source}"


def save(store: "Store", model: "ChurnModel", name: str | None = None) -> dict[str, Any]:
    """Store ``model`` (its file bytes and metadata) in ``store``; returns its record (no file).

    Saving the same model again (the same bytes) keeps the one row and only renames it when
    ``name`` is given. Default name: ``churn-<as_of>-h<horizon>`` (store mode) or
    ``churn-<source file>`` (snapshot mode).
    """
    raw = _writable(store)
    if name is not None and not str(name).strip():
        raise InputError("a model name cannot be empty; give a name or leave it out for the default")
    data = model.to_bytes()
    model_id = hashlib.sha256(data).hexdigest()[:12]
    meta = model.meta
    tr = meta.get("training", {})
    mode = meta.get("mode", "snapshot")
    as_of = tr.get("as_of")
    horizon = tr.get("horizon") if mode == "store" else None
    record_meta = {k: v for k, v in meta.items() if k != "metrics"}
    record_meta["versions"] = getattr(model, "versions", None) or _versions()
    raw.execute("BEGIN TRANSACTION")
    try:
        exists = raw.execute(f"SELECT count(*) FROM {S.MODELS_TABLE} WHERE model_id = ?", [model_id]).fetchone()[0]
        if exists:
            if name is not None:
                raw.execute(f"UPDATE {S.MODELS_TABLE} SET name = ? WHERE model_id = ?", [str(name).strip(), model_id])
        else:
            seq = raw.execute(f"SELECT coalesce(max(seq), 0) + 1 FROM {S.MODELS_TABLE}").fetchone()[0]
            now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None, microsecond=0)
            raw.execute(
                f"INSERT INTO {S.MODELS_TABLE} (model_id, name, kind, mode, created_at, as_of, horizon_days, "
                "metrics, meta, file, seq) VALUES (?, ?, ?, ?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?)",
                [
                    model_id,
                    (str(name).strip() if name is not None else _default_name(model)),
                    KIND,
                    mode,
                    now,
                    as_of,
                    horizon,
                    _dumps(meta.get("metrics", {})),
                    _dumps(record_meta),
                    data,
                    seq,
                ],
            )
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    return _records(raw, "WHERE model_id = ?", [model_id])[0]


def list_models(store: "Store") -> list[dict[str, Any]]:
    """Every stored model's record, newest first; ``[]`` when the store keeps none."""
    raw = _readable(store)
    return [] if raw is None else _records(raw)


def _find(store: "Store", raw: Any | None, key: str) -> dict[str, Any]:
    recs = [] if raw is None else _records(raw)
    for test in (lambda r: r["model_id"] == key, lambda r: r["name"] == key):
        hits = [r for r in recs if test(r)]
        if hits:
            return hits[0]  # a name names its newest model
    prefix = [r for r in recs if len(key) >= 4 and r["model_id"].startswith(key)]
    if len(prefix) == 1:
        return prefix[0]
    raise InputError(_not_found(store, recs, f"no stored model has the id or name {key!r}"))


def _not_found(store: "Store", recs: list[dict[str, Any]], what: str) -> str:
    if not recs:
        return (
            f"{what}: store {store.location!r} keeps no trained models; train and save one with "
            "`negah predict train --store S ... --save [NAME]`"
        )
    listed = ", ".join(f"{r['model_id']} ({r['name']}, {r['mode']})" for r in recs[:20])
    return f"{what} in store {store.location!r}; the stored models are: {listed}"


def load(store: "Store", model_id_or_name: str | None = None) -> "ChurnModel":
    """The stored model with this id (or a unique id prefix of at least 4 characters) or
    name (its newest); ``None``: the newest store-mode churn model."""
    from negah.predict.modelfile import ChurnModel

    raw = _readable(store)
    if model_id_or_name is None:
        recs = [] if raw is None else _records(raw)
        hits = [r for r in recs if r["mode"] == "store" and r["kind"] == KIND]
        if not hits:
            raise InputError(_not_found(store, recs, "no store-mode churn model is saved"))
        rec = hits[0]
    else:
        rec = _find(store, raw, str(model_id_or_name).strip())
    data = raw.execute(f"SELECT file FROM {S.MODELS_TABLE} WHERE model_id = ?", [rec["model_id"]]).fetchone()[0]
    m = ChurnModel.from_bytes(bytes(data), f"model {rec['model_id']} ({rec['name']}) in store {store.location!r}")
    m.record = rec
    return m


def delete(store: "Store", model_id: str) -> None:
    """Remove the stored model ``model_id`` (InputError naming the stored ids when absent)."""
    raw = _writable(store)
    key = str(model_id).strip()
    n = raw.execute(f"SELECT count(*) FROM {S.MODELS_TABLE} WHERE model_id = ?", [key]).fetchone()[0]
    if not n:
        raise InputError(_not_found(store, _records(raw), f"no stored model has the id {key!r}"))
    raw.execute(f"DELETE FROM {S.MODELS_TABLE} WHERE model_id = ?", [key])


def carrying(raw: Any, first_seen: _dt.date | None) -> list[dict[str, Any]]:
    """Stored models that may carry a customer whose earliest row was dated ``first_seen``
    (None: the store holds no dated row of them), each with ``why`` (for erase-customer).

    A store-mode model learned from the rows before its ``as_of``; a snapshot model was
    trained on a table file that negah cannot inspect, so it is always named.
    """
    names = {r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if S.MODELS_TABLE not in names:
        return []
    out = []
    for r in _records(raw):
        if r["mode"] == "snapshot":
            why = "trained on a table file; negah cannot tell whether the customer was in it"
        elif first_seen is not None and r["as_of"] is not None and first_seen.isoformat() < r["as_of"]:
            why = f"trained on this store's rows before {r['as_of']}, which included the customer's"
        else:
            continue
        out.append(
            {"model_id": r["model_id"], "name": r["name"], "mode": r["mode"], "created_at": r["created_at"], "why": why}
        )
    return out


def _dumps(obj: Any) -> str:
    from negah.predict.modelfile import _json_default

    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=_json_default)


def _versions() -> dict[str, str]:
    from negah.predict.modelfile import library_versions

    return library_versions()


__all__ = ["save", "list_models", "load", "delete", "carrying", "KIND"]
