"""API keys, roles, the audit log and the service's signing secret, kept in the store.

Bookkeeping tables (created when absent, in an embedded DuckDB store):

``_negah_keys``
    one row per key: ``key_id`` (the public prefix used for lookup), ``key_hash``
    (SHA-256 of the whole key; the key itself is never stored), ``role``, ``name``,
    ``created_at``, ``expires_at`` (NULL = never), ``revoked_at``, ``created_by``.
``_negah_audit``
    who changed what: ``audit_id``, ``logged_at``, ``actor`` (a key id or ``cli:USER``),
    ``action``, ``target``, ``detail`` (JSON text).
``_negah_secrets``
    the random secret that signs dashboard sessions and survey links.

A key looks like ``ngh_<key_id>_<secret>``: ``key_id`` is 8 URL-safe characters, the
secret comes from :func:`secrets.token_urlsafe`. Roles are ordered:
``viewer`` (read) < ``analyst`` (read and run models) < ``admin`` (keys and ingest).

Nothing here imports FastAPI: the CLI (``negah keys ...``) uses the same functions.
All SQL uses bound parameters.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from negah.errors import InputError

ROLES = ("viewer", "analyst", "admin")
KEYS_TABLE = "_negah_keys"
AUDIT_TABLE = "_negah_audit"
SECRETS_TABLE = "_negah_secrets"
KEY_RE = re.compile(r"^ngh_([A-Za-z0-9]{8})_([A-Za-z0-9_\-]{20,100})$")

_DDL = [
    f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (key_id VARCHAR PRIMARY KEY, key_hash VARCHAR NOT NULL, "
    "role VARCHAR NOT NULL, name VARCHAR, created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP, "
    "revoked_at TIMESTAMP, created_by VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (audit_id BIGINT PRIMARY KEY, logged_at TIMESTAMP NOT NULL, "
    "actor VARCHAR NOT NULL, action VARCHAR NOT NULL, target VARCHAR, detail VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {SECRETS_TABLE} (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
]


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: str
    name: str | None
    created_at: _dt.datetime
    expires_at: _dt.datetime | None
    revoked_at: _dt.datetime | None
    created_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now())

    def as_dict(self) -> dict[str, Any]:
        iso = lambda v: None if v is None else v.isoformat(timespec="seconds")  # noqa: E731
        return {
            "key_id": self.key_id,
            "role": self.role,
            "name": self.name,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "created_by": self.created_by,
            "active": self.active,
        }


def now() -> _dt.datetime:
    """Current UTC time without tz info (how the tables store it), to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def raw_connection(store: Any) -> Any:
    """The DuckDB connection behind a negah Store (keys live in embedded stores only)."""
    if getattr(store, "kind", None) != "duckdb":
        raise InputError(
            f"store {getattr(store, 'location', store)!r} is {getattr(store, 'kind', '?')}: API keys, "
            "the audit log and surveys live in an embedded DuckDB store (use a .duckdb file with negah serve)"
        )
    return store.con.con


def has_tables(raw: Any) -> bool:
    names = {r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return KEYS_TABLE in names


def ensure_tables(raw: Any) -> None:
    """Create the bookkeeping tables when absent (needs a read-write connection)."""
    for ddl in _DDL:
        raw.execute(ddl)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_expiry(value: str | None, *, start: _dt.datetime | None = None) -> _dt.datetime | None:
    """``30d``, ``12h``, ``2w`` or an ISO date/time -> a UTC datetime; None/'' -> never."""
    if value is None or str(value).strip() in ("", "never"):
        return None
    s = str(value).strip()
    base = start or now()
    m = re.fullmatch(r"(\d+)\s*([mhdw])", s)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {
            "m": _dt.timedelta(minutes=n),
            "h": _dt.timedelta(hours=n),
            "d": _dt.timedelta(days=n),
            "w": _dt.timedelta(weeks=n),
        }[unit]
        return base + delta
    try:
        d = _dt.datetime.fromisoformat(s)
    except ValueError:
        raise InputError(
            f"expiry {value!r}: expected a duration such as 30d, 12h, 2w or an ISO date such as 2026-01-31"
        ) from None
    if d.tzinfo is not None:
        d = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return d


def check_role(role: str) -> str:
    r = str(role).strip().lower()
    if r not in ROLES:
        raise InputError(f"role {role!r} is not known: expected one of {', '.join(ROLES)}")
    return r


def role_allows(have: str, need: str) -> bool:
    return ROLES.index(have) >= ROLES.index(need)


def cli_actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # pragma: no cover - no user name
        return "cli"


# ------------------------------------------------------------------------------------
# keys
# ------------------------------------------------------------------------------------


def create_key(
    raw: Any, role: str, *, name: str | None = None, expires: str | _dt.datetime | None = None, actor: str | None = None
) -> tuple[str, KeyInfo]:
    """Create a key; returns (the key, shown once; its info). Needs a read-write connection."""
    role = check_role(role)
    exp = expires if isinstance(expires, _dt.datetime) else parse_expiry(expires)
    ensure_tables(raw)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        key_id = "".join(secrets.choice(alphabet) for _ in range(8))
        if raw.execute(f"SELECT 1 FROM {KEYS_TABLE} WHERE key_id = ?", [key_id]).fetchone() is None:
            break
    key = f"ngh_{key_id}_{secrets.token_urlsafe(32)}"
    created = now()
    actor = actor or cli_actor()
    raw.execute(
        f"INSERT INTO {KEYS_TABLE} VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
        [key_id, hash_key(key), role, name, created, exp, actor],
    )
    audit(
        raw,
        actor,
        "key.create",
        key_id,
        {"role": role, "name": name, "expires_at": None if exp is None else exp.isoformat()},
    )
    return key, KeyInfo(key_id, role, name, created, exp, None, actor)


def list_keys(raw: Any) -> list[KeyInfo]:
    if not has_tables(raw):
        return []
    rows = raw.execute(
        f"SELECT key_id, role, name, created_at, expires_at, revoked_at, created_by "
        f"FROM {KEYS_TABLE} ORDER BY created_at, key_id"
    ).fetchall()
    return [KeyInfo(*r) for r in rows]


def _key_id(value: str) -> str:
    m = KEY_RE.match(value)
    return m.group(1) if m else value


def revoke_key(raw: Any, key_id: str, *, actor: str | None = None) -> KeyInfo:
    """Revoke a key by its id (or the whole key). Unknown ids are an InputError."""
    key_id = _key_id(str(key_id).strip())
    info = {k.key_id: k for k in list_keys(raw)}.get(key_id)
    if info is None:
        raise InputError(f"key {key_id!r} is not known: list the keys with `negah keys list`")
    if info.revoked_at is None:
        raw.execute(f"UPDATE {KEYS_TABLE} SET revoked_at = ? WHERE key_id = ?", [now(), key_id])
        audit(raw, actor or cli_actor(), "key.revoke", key_id, {})
    return {k.key_id: k for k in list_keys(raw)}[key_id]


def set_expiry(raw: Any, key_id: str, expires: str | None, *, actor: str | None = None) -> KeyInfo:
    key_id = _key_id(str(key_id).strip())
    info = {k.key_id: k for k in list_keys(raw)}.get(key_id)
    if info is None:
        raise InputError(f"key {key_id!r} is not known: list the keys with `negah keys list`")
    exp = parse_expiry(expires)
    raw.execute(f"UPDATE {KEYS_TABLE} SET expires_at = ? WHERE key_id = ?", [exp, key_id])
    audit(raw, actor or cli_actor(), "key.expiry", key_id, {"expires_at": None if exp is None else exp.isoformat()})
    return {k.key_id: k for k in list_keys(raw)}[key_id]


def key_table(raw: Any) -> dict[str, tuple[str, str, _dt.datetime | None, _dt.datetime | None]]:
    """key_id -> (hash, role, expires_at, revoked_at) for every key, for in-memory checks."""
    if not has_tables(raw):
        return {}
    rows = raw.execute(f"SELECT key_id, key_hash, role, expires_at, revoked_at FROM {KEYS_TABLE}").fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def verify(table: dict, key: str, at: _dt.datetime | None = None) -> tuple[str, str] | None:
    """(key_id, role) when ``key`` is a known, unrevoked, unexpired key; else None."""
    m = KEY_RE.match(key or "")
    if not m:
        return None
    row = table.get(m.group(1))
    if row is None:
        return None
    h, role, expires_at, revoked_at = row
    if not hmac.compare_digest(h, hash_key(key)):
        return None
    if revoked_at is not None or (expires_at is not None and expires_at <= (at or now())):
        return None
    return m.group(1), role


def key_role(table: dict, key_id: str, at: _dt.datetime | None = None) -> str | None:
    """The role of an active key id (for signed sessions), else None."""
    row = table.get(key_id)
    if row is None:
        return None
    _h, role, expires_at, revoked_at = row
    if revoked_at is not None or (expires_at is not None and expires_at <= (at or now())):
        return None
    return role


# ------------------------------------------------------------------------------------
# audit log and secret
# ------------------------------------------------------------------------------------


def audit(raw: Any, actor: str, action: str, target: str | None, detail: dict | None = None) -> None:
    """Append one audit record (inside the caller's transaction, if any)."""
    ensure_tables(raw)
    nxt = raw.execute(f"SELECT coalesce(max(audit_id), 0) + 1 FROM {AUDIT_TABLE}").fetchone()[0]
    raw.execute(
        f"INSERT INTO {AUDIT_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
        [
            nxt,
            _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None),
            actor,
            action,
            target,
            json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str),
        ],
    )


def audit_log(raw: Any, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    if not has_tables(raw):
        return []
    rows = raw.execute(
        f"SELECT audit_id, logged_at, actor, action, target, detail FROM {AUDIT_TABLE} "
        "ORDER BY audit_id DESC LIMIT ? OFFSET ?",
        [int(limit), int(offset)],
    ).fetchall()
    return [
        {
            "audit_id": r[0],
            "logged_at": r[1].isoformat(timespec="seconds"),
            "actor": r[2],
            "action": r[3],
            "target": r[4],
            "detail": json.loads(r[5] or "{}"),
        }
        for r in rows
    ]


def read_secret(raw: Any) -> bytes | None:
    if not has_tables(raw):
        return None
    row = raw.execute(f"SELECT value FROM {SECRETS_TABLE} WHERE name = 'signing'").fetchone()
    return None if row is None else bytes.fromhex(row[0])


def ensure_secret(raw: Any) -> bytes:
    """The store's signing secret, created on first use (read-write connection)."""
    ensure_tables(raw)
    got = read_secret(raw)
    if got is not None:
        return got
    value = secrets.token_bytes(32)
    raw.execute(f"INSERT INTO {SECRETS_TABLE} VALUES ('signing', ?)", [value.hex()])
    return value
