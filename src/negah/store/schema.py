"""The canonical tables of a negah store, named once.

Logical column types (``kind`` of :class:`Column`):

``id``        text identifier, compared as text (``007`` != ``7``)
``text``      free text or a category
``date``      calendar date (stored Gregorian)
``timestamp`` date and time (wall-clock time in the data's own offset)
``money``     exact decimal (DECIMAL(18,4)); sums are exact and deterministic
``number``    exact decimal quantity (DECIMAL(18,4))
``int``       integer
``bool``      true/false

Only the required columns must be present in an input; every other canonical
column is optional, and extra columns are kept (they can serve as segments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 2
"""Version of the store layout written by this negah. See :mod:`negah.store.migrate`.

1. canonical tables, ``_negah_meta``, ``_negah_imports``;
2. adds ``_negah_models``, the registry of trained models (:mod:`negah.predict.registry`).
"""

SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "money": "DECIMAL(18,4)",
    "number": "DECIMAL(18,4)",
    "int": "BIGINT",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    doc: str = ""
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    date_column: str
    doc: str = ""
    natural_key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None


C = Column

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "orders",
            (
                C("customer_id", "id", True, "who bought"),
                C("order_date", "date", True, "when; periods use the calendar date of this value"),
                C("amount", "money", True, "net revenue of the line; a return line has a negative amount"),
                C("order_id", "id", False, "groups lines into one order; absent: every row is its own order"),
                C("quantity", "number", False, "units; absent: 1; a return line has a negative quantity"),
                C("product_id", "id", False, "what was bought"),
                C(
                    "kind",
                    "text",
                    False,
                    "`purchase` or `return`; absent: a row is a return when quantity < 0 or amount < 0",
                    allowed=("purchase", "return"),
                ),
            ),
            "order_date",
            "one row per order line (purchases and returns)",
        ),
        Table(
            "subscriptions",
            (
                C("subscription_id", "id", False, "the subscription; absent: one per row"),
                C("customer_id", "id", True, "the subscriber"),
                C("start_date", "date", True, "first day of the subscription"),
                C("end_date", "date", False, "exclusive end; empty = still active"),
                C("mrr", "money", False, "monthly recurring revenue; absent: 0"),
                C("plan", "text", False, "plan name"),
            ),
            "start_date",
            "contracts with a start and an exclusive end",
        ),
        Table(
            "responses",
            (
                C("customer_id", "id", True, "who answered"),
                C("response_date", "date", True, "when"),
                C("score", "int", True, "likelihood to recommend, integer 0..10", min_value=0, max_value=10),
                C("survey_id", "id", False, "which survey"),
                C("comment", "text", False, "free-text answer"),
            ),
            "response_date",
            "NPS survey answers",
        ),
        Table(
            "customers",
            (
                C("customer_id", "id", True, "the customer"),
                C("signup_date", "date", False, "when the customer registered"),
                C("name", "text", False, "display name"),
                C("email", "text", False, "e-mail address"),
                C("phone", "text", False, "phone number"),
                C("plan", "text", False, "plan or tier"),
                C("country", "text", False, "country or region"),
                C("acquisition_channel", "text", False, "how the customer was acquired"),
                C("loyalty_member", "bool", False, "member of the loyalty program"),
                C("loyalty_joined", "date", False, "when the customer joined the loyalty program"),
            ),
            "signup_date",
            "one row per customer, with any attribute columns the user brings",
            natural_key=("customer_id",),
        ),
        Table(
            "complaints",
            (
                C("complaint_id", "id", False, "the complaint"),
                C("customer_id", "id", True, "who complained"),
                C("complaint_date", "date", True, "when"),
                C("reason", "text", True, "a value from the configurable pick-list (any text is accepted)"),
                C("product_id", "id", False, "the product concerned"),
                C("channel", "text", False, "where the complaint came in"),
                C("status", "text", False, "open / resolved / ..."),
                C("text", "text", False, "the customer's words"),
            ),
            "complaint_date",
            "complaints with their reasons",
        ),
        Table(
            "contacts",
            (
                C("customer_id", "id", True, "who was contacted"),
                C("contacted_at", "timestamp", True, "when (date and time)"),
                C("channel", "text", True, "phone / email / sms / chat / visit / ..."),
                C("direction", "text", False, "outbound or inbound"),
                C("outcome", "text", False, "answered / opened / replied / no_response / ..."),
                C("campaign_id", "id", False, "campaign the contact belongs to"),
            ),
            "contacted_at",
            "contact history",
        ),
        Table(
            "campaigns",
            (
                C("customer_id", "id", True, "who received the campaign"),
                C("campaign_id", "id", False, "the campaign"),
                C("offer", "text", False, "what was offered"),
                C("sent_at", "timestamp", True, "when it was sent"),
                C("responded_at", "timestamp", False, "when the customer responded"),
                C("converted_at", "timestamp", False, "when the customer converted"),
            ),
            "sent_at",
            "campaign sends and their outcomes",
        ),
        Table(
            "spend",
            (
                C("spend_date", "date", True, "when the money was spent"),
                C("amount", "money", True, "acquisition spend"),
                C("channel", "text", False, "acquisition channel"),
            ),
            "spend_date",
            "acquisition spend, for CAC and CLV / CAC",
        ),
    ]
}

# Tables without a customer_id (spend) are still canonical tables.
CUSTOMER_TABLES = [n for n, t in TABLES.items() if t.column("customer_id") is not None]

# Bookkeeping tables of an embedded store; never user data.
META_TABLE = "_negah_meta"
IMPORTS_TABLE = "_negah_imports"
MODELS_TABLE = "_negah_models"
"""Trained models, one row each: the one-file model as a BLOB and its metadata."""
ROW_SOURCE_COLUMN = "_import_id"
"""Every imported row carries the id of the import that wrote it."""


def table(name: str) -> Table:
    """The canonical table ``name``, or a :class:`~negah.errors.SchemaError` naming the choices."""
    from negah.errors import SchemaError

    try:
        return TABLES[name]
    except KeyError:
        raise SchemaError(f"unknown table {name!r}: expected one of {', '.join(TABLES)}") from None
