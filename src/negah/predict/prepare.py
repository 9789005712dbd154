"""Turning a messy table into the numeric matrix a classifier needs, the same way every time.

A :class:`Preparer` learns, from the training table, what each column is:

``numeric``      numbers, also numbers stored as text (``"1,234.5"``, ``"۱۲"``, ``"12%"``);
                 cells that do not parse become missing;
``bool``         yes/no, true/false, 1/0 and their Persian forms, stored as 1/0;
``categorical``  a small set of text values, stored as codes of a saved vocabulary
                 (the most frequent values; the rest share ``(other)``);
``date``         dates (``signup_date``, ``last_order_date``, ``contract_end``) in any format
                 the importer reads (ISO, d/m/Y, Jalali ``۱۴۰۲/۰۱/۱۵``, with or without a
                 time), stored as days from the date to the *reference date* ``as_of``
                 (positive: that many days ago; negative: that many days ahead);
``dropped``      identifiers and free text (too many distinct values to learn from).

The reference date is given (``--as-of``) or is the latest date in the training table's
date columns; it is saved with the model, so a later table is read against the same day
unless scoring names its own ``as_of``.

It then turns any later table (scoring, evaluation) into the same float64 matrix, so that
no pandas string dtype (pandas 3's default) or object column ever reaches LightGBM.
Missing cells stay NaN: LightGBM learns where to send them; the logistic baseline imputes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from negah.errors import InputError
from negah.store.convert import ARABIC_DIGITS, PERSIAN_DIGITS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MISSING_TEXT = {"", "na", "n/a", "nan", "null", "none", "nat", "#n/a", "?", "-", "--", "missing", " "}
TRUE_TEXT = {"yes", "y", "true", "t", "1", "1.0", "churn", "churned", "left", "lost", "بله", "آری", "اره", "بلی"}
FALSE_TEXT = {"no", "n", "false", "f", "0", "0.0", "stay", "stayed", "active", "retained", "kept", "خیر", "نه"}
OTHER = "(other)"
_DIGIT_TABLE = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS + "٫٬", "0123456789" * 2 + ".,")
ID_NAMES = (
    "customer_id",
    "customerid",
    "customer",
    "client_id",
    "clientid",
    "account_id",
    "accountid",
    "user_id",
    "userid",
    "id",
)


def norm_name(name: Any) -> str:
    return re.sub(r"[\s\-\.]+", "_", str(name).strip().lstrip("\ufeff").lower())


BOOL_MAP = {**{w: 1.0 for w in TRUE_TEXT}, **{w: 0.0 for w in FALSE_TEXT}}


def as_text(values: "pd.Series") -> "pd.Series":
    """Values as an object Series of stripped str (ASCII digits), every blank-like cell NaN."""
    import pandas as pd

    s = pd.Series(values, copy=False)
    # clean each distinct value once (CRM columns repeat a few values over millions of rows)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    t = pd.Series(np.asarray(uniq, dtype=object), dtype=object).astype(str)
    t = t.str.strip().str.translate(_DIGIT_TABLE).astype(object)
    t = t.where(~t.str.lower().isin(MISSING_TEXT), np.nan)
    clean = np.append(t.to_numpy(dtype=object), np.nan)  # code -1 (missing) -> the last slot
    return pd.Series(clean[codes], index=s.index, dtype=object)


def by_distinct(text: "pd.Series", fn: Any) -> "pd.Series":
    """``fn`` (distinct present values -> float64 Series) applied once per distinct value of
    ``text`` and spread back to every row (NaN where ``text`` is missing)."""
    import pandas as pd

    codes, uniq = pd.factorize(text, use_na_sentinel=True)
    vals = fn(pd.Series(np.asarray(uniq, dtype=object), dtype=object))
    out = np.append(np.asarray(vals, dtype=np.float64), np.nan)  # code -1 (missing) -> NaN
    return pd.Series(out[codes], index=text.index, dtype="float64")


def _numbers(u: "pd.Series") -> "pd.Series":
    import pandas as pd

    num = pd.to_numeric(u, errors="coerce").astype("float64")
    bad = num.isna().to_numpy() & u.notna().to_numpy()
    if bad.any():  # only what does not parse as it is goes through the clean-up
        t = u[bad].str.replace(r"[\s$€£¥%]|ریال|تومان", "", regex=True)
        t = t.str.replace(r"(?<=\d),(?=\d{3}(?:\D|$))", "", regex=True)
        num[bad] = pd.to_numeric(t, errors="coerce").astype("float64")
    return num


def parse_numbers(text: "pd.Series") -> "pd.Series":
    """Text (see :func:`as_text`) to float64: thousands separators, currency signs and % are
    dropped; what still does not parse is NaN. Each distinct text is parsed once."""
    return by_distinct(text, _numbers)


def _bools(u: "pd.Series") -> "pd.Series":
    return u.str.lower().map(BOOL_MAP).astype("float64")


def bool_values(text: "pd.Series") -> "pd.Series | None":
    """1.0/0.0 (NaN for missing) when every present value is a yes/no word, else None."""
    present = set(text.dropna().unique())
    if not present or not {str(v).lower() for v in present} <= set(BOOL_MAP):
        return None
    return by_distinct(text, _bools)


def is_numeric_dtype(s: "pd.Series") -> bool:
    import pandas as pd

    return (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)) and not isinstance(
        s.dtype, pd.CategoricalDtype
    )


@dataclass
class ColumnSpec:
    """What :class:`Preparer` learned about one column."""

    name: str
    kind: str  # numeric | bool | categorical | dropped
    vocab: list[str] = field(default_factory=list)
    median: float | None = None
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "vocab": self.vocab, "median": self.median, "why": self.why}


class Preparer:
    """Learn column kinds from a training table and turn tables into float64 matrices.

    Parameters
    ----------
    max_categories
        Largest vocabulary kept per categorical column (most frequent values first).
    numeric_share
        Share of the present cells that must parse as numbers for a text column to be
        numeric.
    """

    def __init__(self, max_categories: int = 50, numeric_share: float = 0.9, date_order: str = "dmy"):
        if date_order not in ("dmy", "mdy"):
            raise InputError(f"date order must be dmy or mdy, received {date_order!r}")
        self.max_categories = max_categories
        self.numeric_share = numeric_share
        self.date_order = date_order
        self.as_of: str | None = None
        self.columns_: list[ColumnSpec] = []

    # ------------------------------------------------------------------------------
    def fit(self, df: "pd.DataFrame", exclude: Sequence[str] = (), as_of: Any = None) -> "Preparer":
        """Learn the column kinds of ``df``; ``as_of`` is the reference date of date columns
        (default: the latest date in them)."""
        ex = set(exclude)
        specs = []
        latest = []
        n = len(df)
        for name in df.columns:
            if name in ex:
                continue
            spec, last = self._learn(str(name), df[name], n)
            specs.append(spec)
            if last is not None:
                latest.append(last)
        self.columns_ = specs
        if not self.features:
            raise InputError(
                "no usable feature columns: every column is an identifier, free text or empty "
                f"(columns: {', '.join(map(str, df.columns))})"
            )
        if as_of is not None:
            self.as_of = reference_date(as_of).isoformat()
        elif latest:
            self.as_of = max(latest).isoformat()
        for c in self.features:
            if c.kind == "date":
                c.median = float(np.nanmedian(self.column_values(c, df[c.name])))
        return self

    def _learn(self, name: str, s: "pd.Series", n: int) -> tuple[ColumnSpec, Any]:
        """The column's spec, and its latest date when it is a date column."""
        if is_numeric_dtype(s):
            vals = s.astype("float64")
            if vals.notna().sum() == 0:
                return ColumnSpec(name, "dropped", why="empty"), None
            uniq = vals.dropna().unique()
            if len(uniq) <= 2 and set(uniq) <= {0.0, 1.0}:
                return ColumnSpec(name, "bool", median=float(vals.median())), None
            return ColumnSpec(name, "numeric", median=float(vals.median())), None
        text = as_text(s)
        present = text.dropna()
        if present.empty:
            return ColumnSpec(name, "dropped", why="empty"), None
        b = bool_values(text)
        if b is not None:
            return ColumnSpec(name, "bool", median=float(b.median())), None
        num = parse_numbers(text)
        if num.notna().sum() >= self.numeric_share * len(present):
            return ColumnSpec(name, "numeric", median=float(num.median())), None
        if self._looks_like_dates(present):
            days = date_values(text, self.date_order)
            if days.notna().sum() >= self.numeric_share * len(present):
                return ColumnSpec(name, "date"), days.max().date()
        counts = present.value_counts()
        if len(counts) > self.max_categories and len(counts) > 0.5 * len(present):
            return ColumnSpec(name, "dropped", why=f"{len(counts)} distinct values (identifier or free text)"), None
        order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        vocab = [k for k, c in order[: self.max_categories]]
        if len(order) > self.max_categories:
            vocab.append(OTHER)
        return ColumnSpec(name, "categorical", vocab=vocab), None

    def _looks_like_dates(self, present: "pd.Series") -> bool:
        """A cheap first look (200 distinct values) before parsing a whole text column as dates."""
        from negah.store.convert import parse_dates

        sample = present.drop_duplicates().head(200).tolist()
        ok = sum(d is not None for d in parse_dates(sample, self.date_order))
        return ok >= self.numeric_share * len(sample)

    # ------------------------------------------------------------------------------
    @property
    def features(self) -> list[ColumnSpec]:
        return [c for c in self.columns_ if c.kind != "dropped"]

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.features]

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.features) if c.kind == "categorical"]

    def transform(self, df: "pd.DataFrame", as_of: Any = None) -> np.ndarray:
        """The float64 matrix (rows of ``df``, columns :attr:`feature_names`); date columns
        count days to ``as_of`` (default: the reference date learned by :meth:`fit`)."""
        missing = [c.name for c in self.features if c.name not in df.columns]
        if missing:
            raise InputError(
                f"table lacks {len(missing)} column(s) the model was trained on: {', '.join(missing[:20])}; "
                "score a table with the same columns as the training table"
            )
        out = np.empty((len(df), len(self.features)), dtype=np.float64)
        for j, c in enumerate(self.features):
            out[:, j] = self.column_values(c, df[c.name], as_of)
        return out

    def column_values(self, c: ColumnSpec, s: "pd.Series", as_of: Any = None) -> np.ndarray:
        import pandas as pd

        if c.kind == "date":
            ref = reference_date(as_of if as_of is not None else self.as_of)
            dates = date_values(as_text(s), self.date_order)
            return ((pd.Timestamp(ref) - dates).dt.days).to_numpy(dtype=np.float64, na_value=np.nan)
        if c.kind in ("numeric", "bool"):
            if is_numeric_dtype(s):
                return s.astype("float64").to_numpy()
            text = as_text(s)
            num = parse_numbers(text)
            if c.kind == "bool":
                b = by_distinct(text, _bools)
                num = b.where(b.notna(), num)
            return num.to_numpy(dtype=np.float64)
        # categorical
        text = as_text(s)
        codes = pd.Categorical(text, categories=c.vocab).codes.astype(np.float64)
        unseen = (codes < 0) & text.notna().to_numpy()
        codes[codes < 0] = np.nan
        if OTHER in c.vocab:
            codes[unseen] = float(c.vocab.index(OTHER))
        return codes

    def display_value(self, j: int, x: float) -> str:
        """A matrix value back in the table's own words (category text, number, yes/no)."""
        c = self.features[j]
        if x != x:
            return ""
        if c.kind == "categorical":
            i = int(x)
            return c.vocab[i] if 0 <= i < len(c.vocab) else ""
        if c.kind == "bool":
            return "yes" if x >= 0.5 else "no"
        if c.kind == "date":
            return days_text(x)
        return format_number(x)

    # ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "max_categories": self.max_categories,
            "numeric_share": self.numeric_share,
            "date_order": self.date_order,
            "as_of": self.as_of,
            "columns": [c.as_dict() for c in self.columns_],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Preparer":
        p = cls(d["max_categories"], d["numeric_share"], d.get("date_order", "dmy"))
        p.as_of = d.get("as_of")
        p.columns_ = [ColumnSpec(**c) for c in d["columns"]]
        return p


def reference_date(value: Any) -> "Any":
    """The reference date of date columns (a ``datetime.date``) from a date or ``YYYY-MM-DD``."""
    from negah.predict.features import parse_date

    if value is None:
        raise InputError("the model has date columns but no reference date: give --as-of DATE")
    return parse_date(value, "as-of date")


def date_values(text: "pd.Series", date_order: str = "dmy") -> "pd.Series":
    """Text (see :func:`as_text`) to datetime64 days by the importer's date rules
    (:func:`negah.store.convert.parse_dates`); NaT where a cell is not a date.

    Each distinct text is parsed once."""
    import pandas as pd

    from negah.store.convert import parse_dates

    codes, uniq = pd.factorize(text, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(parse_dates(list(uniq), date_order), dtype=object), errors="coerce")
    days = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(days[codes], index=text.index, dtype="datetime64[ns]")


def days_text(days: float) -> str:
    """``94 days ago``, ``today``, ``in 30 days`` (English; reasons phrase Persian themselves)."""
    d = int(round(days))
    if d == 0:
        return "today"
    n = abs(d)
    unit = "day" if n == 1 else "days"
    return f"{n} {unit} ago" if d > 0 else f"in {n} {unit}"


def format_number(x: float) -> str:
    """Short human form: whole numbers without decimals, others with up to 2."""
    if x != x:
        return ""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def parse_labels(values: "pd.Series", column: str, positive: str | None = None) -> np.ndarray:
    """A churn label column (Yes/No, 1/0, true/false, churned/active, ...) as 0/1 integers.

    Raises :class:`InputError` naming the column and the values received when the labels
    cannot be read, or when a label cell is blank.
    """
    text = as_text(values)
    blank = text.isna()
    if blank.any():
        rows = (np.flatnonzero(blank.to_numpy())[:5] + 1).tolist()
        raise InputError(
            f"label column {column!r} has {int(blank.sum())} blank cell(s) (data rows {rows}); "
            "every training row needs a label: remove those rows or fill them in"
        )
    low = text.str.lower()
    vals = sorted(set(low.unique()))
    if positive is not None:
        pos = str(positive).strip().lower()
        if pos not in vals:
            raise InputError(
                f"label column {column!r}: --positive {positive!r} is not one of its values {', '.join(vals[:10])}"
            )
        return (low == pos).astype("int8").to_numpy()
    num = parse_numbers(text)
    if num.notna().all() and set(num.unique()) <= {0.0, 1.0}:
        return num.astype("int8").to_numpy()
    if set(vals) <= (TRUE_TEXT | FALSE_TEXT):
        return low.map(BOOL_MAP).astype("int8").to_numpy()
    raise InputError(
        f"label column {column!r}: cannot tell churned from kept in values {', '.join(vals[:10])}"
        f"{' …' if len(vals) > 10 else ''}; expected Yes/No, 1/0, true/false or churned/active, "
        "or name the churn value with --positive VALUE"
    )


def guess_id_column(columns: Sequence[Any], df: "pd.DataFrame") -> str | None:
    """The identifier column by name (customer_id, CustomerID, id, ...) when its values are unique."""
    by_norm = {norm_name(c).replace("_", ""): c for c in columns}
    for cand in ID_NAMES:
        c = by_norm.get(cand.replace("_", ""))
        if c is not None and df[c].is_unique:
            return str(c)
    return None
