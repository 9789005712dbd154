"""What a store holds: tables, row counts, date ranges, imports."""

from __future__ import annotations

from typing import Any

from negah.store import schema as S


def store_info(store) -> dict[str, Any]:
    """A summary of ``store`` (works on every backend)."""
    tables = []
    for name in store.list_tables():
        t = store.table(name)
        spec = S.table(name)
        agg = {"rows": t.count()}
        if "customer_id" in t.columns:
            agg["customers"] = t.customer_id.nunique()
        dc = spec.date_column
        if dc in t.columns:
            agg["first"] = t[dc].min()
            agg["last"] = t[dc].max()
        row = store.execute(t.aggregate(**agg)).iloc[0].to_dict()
        tables.append(
            {
                "table": name,
                "rows": int(row["rows"]),
                "customers": int(row["customers"]) if "customers" in row else None,
                "first": _iso(row.get("first")),
                "last": _iso(row.get("last")),
                "columns": [c for c in t.columns],
            }
        )
    version = None
    imports: list[dict[str, Any]] = []
    if store.kind == "duckdb":
        from negah.store.migrate import read_version

        raw = store.con.con
        version = read_version(raw)
        if version is not None:
            for r in raw.execute(
                f"SELECT import_id, table_name, source, rows, mode, imported_at FROM {S.IMPORTS_TABLE} "
                "ORDER BY import_id"
            ).fetchall():
                imports.append(
                    {
                        "import_id": r[0],
                        "table": r[1],
                        "source": r[2],
                        "rows": r[3],
                        "mode": r[4],
                        "imported_at": _iso(r[5]),
                    }
                )
    return {
        "location": store.location,
        "kind": store.kind,
        "schema_version": version or S.SCHEMA_VERSION,
        "tables": tables,
        "imports": imports,
    }


def _iso(v: Any) -> str | None:
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "hour") and (v.hour, v.minute, v.second, getattr(v, "microsecond", 0)) == (0, 0, 0, 0):
        v = v.date()  # a DATE column read back as a midnight timestamp
    return v.isoformat() if hasattr(v, "isoformat") else str(v)
