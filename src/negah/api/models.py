"""Request bodies (pydantic) and OpenAPI response descriptions."""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from negah.api.errors import ERROR_SCHEMA

JSON_OK = {
    200: {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}},
    401: {"description": "no valid API key", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
    403: {"description": "the key's role is too low", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
    422: {"description": "invalid input", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
}

INGEST_TABLES = ("orders", "subscriptions", "responses", "complaints", "contacts", "campaigns", "customers")
IngestTable = Literal["orders", "subscriptions", "responses", "complaints", "contacts", "campaigns", "customers"]
Cell = str | int | float | bool | None
MAX_ROWS = 50_000


class IngestBatch(BaseModel):
    """A batch of rows for one table. ``event_id`` makes the call idempotent: the same
    event id for the same table is imported once."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="unique id of this batch (printable ASCII, no spaces)",
    )
    rows: list[dict[str, Cell]] = Field(
        min_length=1, max_length=MAX_ROWS, description="one object per row, keyed by column name"
    )


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["viewer", "analyst", "admin"]
    name: str | None = Field(None, max_length=200)
    expires: str | None = Field(None, max_length=40, description="30d, 12h, 2w or an ISO date; null = never")


class KeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires: str | None = Field(None, max_length=40, description="30d, 12h, 2w or an ISO date; null = never")


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=100)
    complaint_date: _dt.date | None = None
    product_id: str | None = Field(None, max_length=200)
    channel: str | None = Field(None, max_length=100)
    text: str | None = Field(None, max_length=5000)


class ModelRun(BaseModel):
    """A model to fit on the store (a background job; see POST /api/models/run)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    model: Literal["bgnbd", "paretonbd", "mbgnbd", "gammagamma", "churn"] = Field(
        "bgnbd", description="BTYD: bgnbd, paretonbd, mbgnbd (purchases), gammagamma (spend); churn: the classifier"
    )
    calibration_end: _dt.date | None = Field(
        None, description="BTYD: last day of the calibration period (default: the last purchase day)"
    )
    time_unit: Literal["day", "week"] = Field("week", description="BTYD: unit of recency and T")
    as_of: _dt.date | None = Field(
        None, description="churn: the first day not in the data (default: the day after the data end)"
    )
    horizon: int = Field(90, ge=7, le=730, description="churn: days after a cut-off in which a customer churns")
    name: str | None = Field(None, max_length=200, description="churn: a name for the saved model")


class SurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    lang: Literal["en", "fa"] = "en"


class SurveySend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(None, max_length=300, pattern=r"^https?://\S+$")
    dry_run: bool = False
