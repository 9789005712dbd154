"""Small bundled data sets with their sources (see SOURCES.md beside this file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

HERE = Path(__file__).parent

FILES = {
    "sample": HERE / "cdnow_sample_orders.csv",
    "master": HERE / "cdnow_master_orders.csv",
}


def cdnow_path(which: str = "sample") -> Path:
    """Path of the bundled CDNOW orders file (``sample``: 2,357 customers; ``master``: 23,570)."""
    try:
        return FILES[which]
    except KeyError:
        raise ValueError(f"cdnow data set {which!r}: expected 'sample' or 'master'") from None


def load_cdnow(which: str = "sample") -> "pd.DataFrame":
    """The CDNOW purchase log as a canonical ``orders`` DataFrame.

    Fader, Hardie & Lee (2005) fit their models on the ``sample`` (2,357 customers,
    calibration through 1997-09-30). Import it with
    ``negah.import_files(store, [negah.datasets.cdnow_path()], table="orders")``.
    """
    import pandas as pd

    df = pd.read_csv(cdnow_path(which), dtype={"customer_id": str, "master_id": str}, parse_dates=["order_date"])
    df["order_date"] = df["order_date"].dt.date
    return df
