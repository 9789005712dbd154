"""The demo business: a synthetic shop with known ground truth, imported into a store.

``negah demo`` builds it once (``negah synth`` + ``negah import``), prints the headline
metrics, and serves the dashboard on it. The library function here does the building so
that notebooks can use the same sample: ``negah.demo.build_demo("negah-demo")``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_CUSTOMERS = 3000
DEMO_SEED = 7


def build_demo(
    folder: str | Path = "negah-demo",
    *,
    customers: int = DEMO_CUSTOMERS,
    seed: int = DEMO_SEED,
    progress: bool = True,
    rebuild: bool = False,
) -> Path:
    """Generate the demo business into ``folder/data`` and import it into ``folder/negah.duckdb``.

    A store built earlier with the same settings is reused. Returns the store path.
    """
    from negah.store import open_store
    from negah.store.ingest import import_files
    from negah.synth import generate

    root = Path(folder)
    store = root / "negah.duckdb"
    stamp = root / "demo.json"
    settings = {"customers": customers, "seed": seed}
    if not rebuild and store.exists() and stamp.exists() and json.loads(stamp.read_text()) == settings:
        return store
    for p in (store, Path(str(store) + ".wal"), stamp):
        if p.exists():
            p.unlink()
    data = root / "data"
    generate(data, customers=customers, seed=seed, fmt="csv", progress=progress)
    with open_store(store) as s:
        import_files(s, [data], progress=progress)
    stamp.write_text(json.dumps(settings))
    return store


def headline(store_path: str | Path) -> dict[str, Any]:
    """The headline numbers of the last complete month and the yearly churn benchmark."""
    import math

    import negah

    from negah.store import open_store

    out: dict[str, Any] = {}
    with open_store(store_path, read_only=True) as s:
        df = negah.metrics(s, period="month")
        complete = df[df["complete"]] if "complete" in df.columns else df
        if len(complete):
            last = complete["period"].iloc[-1]
            out["period"] = last
            for _, r in complete[complete["period"] == last].iterrows():
                v = r["value"]
                out[r["metric"]] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        try:
            out["benchmark"] = negah.metrics.benchmark(s, industry="retail")
        except Exception as e:  # pragma: no cover - shown, not fatal
            out["benchmark"] = {"error": str(e)}
    return out
