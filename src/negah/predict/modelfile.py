"""A fitted churn model in one versioned file, and the scoring it does.

The file is a zip holding ``negah-model.json`` (format name and version, what the model was
trained on, the column preparation, the classifier's settings and calibration, the metrics,
and the library versions) and, for LightGBM, ``booster.txt`` (LightGBM's own text format).
No pickle: a model file can be read, diffed and loaded without running code from it.
The file is byte-identical when the same data and settings are used again.

Loading checks the format: a file from a newer negah, or one written in an older format,
raises :class:`~negah.errors.ModelError` saying which version made it and what to do.
"""

from __future__ import annotations

import io
import json
import platform
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from negah.errors import InputError, ModelError
from negah.predict.classifier import ChurnClassifier
from negah.predict.prepare import Preparer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMAT = "negah-churn-model"
FORMAT_VERSION = 2
"""2 added date columns (days to a reference date) to snapshot models; a negah that reads
only format 1 would read them as categories, so it refuses format 2. Format 1 files (no
date columns) are read as they are."""
READS = (1, 2)
META_NAME = "negah-model.json"
BOOSTER_NAME = "booster.txt"
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def library_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("negah", "lightgbm", "scikit-learn", "numpy", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[dist] = "absent"
    return out


class ChurnModel:
    """Column preparation + calibrated classifier + what they were trained on.

    ``meta`` holds ``mode`` (``snapshot`` or ``store``), ``id_column``, ``target``,
    ``training`` (rows, churn rate, cut-offs, horizon, window), ``metrics`` (backtest or
    held-out), and mode-specific context (complaint reasons, ...).
    """

    record: dict[str, Any] | None = None
    """The registry record when loaded from a store (:mod:`negah.predict.registry`)."""

    def __init__(self, preparer: Preparer, classifier: ChurnClassifier, meta: dict[str, Any]):
        self.preparer = preparer
        self.classifier = classifier
        self.meta = meta

    def __repr__(self) -> str:
        return (
            f"<negah ChurnModel {self.meta.get('mode')} {self.classifier.kind_} features={len(self.preparer.features)}>"
        )

    @property
    def feature_names(self) -> list[str]:
        return self.preparer.feature_names

    # -- scoring --------------------------------------------------------------------
    def matrix(self, df: "pd.DataFrame", as_of: Any = None) -> np.ndarray:
        """The model's float64 matrix of ``df``; date columns count days to ``as_of``
        (snapshot mode; default: the reference date saved at training)."""
        return self.preparer.transform(df, as_of)

    def predict_proba(self, df: "pd.DataFrame", as_of: Any = None) -> np.ndarray:
        return self.classifier.predict_proba(self.matrix(df, as_of))

    def score(
        self,
        df: "pd.DataFrame",
        *,
        lang: str = "en",
        reasons: int = 3,
        id_values: Any = None,
        explain: str = "shap",
        as_of: Any = None,
    ) -> "pd.DataFrame":
        """One row per input row: id, ``churn_probability``, ``reason_1`` … ``reason_k``.

        ``explain`` picks the contributions behind the reasons (see
        :meth:`ChurnClassifier.contributions`): ``"shap"`` (TreeSHAP, default) or ``"path"``
        (root-to-leaf path contributions, about 10 times faster for LightGBM). ``as_of``:
        see :meth:`matrix`.
        """
        import pandas as pd

        from negah.predict.reasons import Describer, reason_columns

        X = self.matrix(df, as_of)
        # the probability comes from the model's own raw score, whatever explains it
        if reasons:
            (contrib, _), raw = self.classifier.explain(X, explain)
        else:
            contrib, raw = None, self.classifier.raw_score(X)
        p = self.classifier.calibrate(raw)
        id_col = self.meta.get("id_column") or "row"
        if id_values is None:
            if id_col in df.columns:
                id_values = df[id_col].astype(object).where(df[id_col].notna(), "").astype(str).to_numpy()
            else:
                id_values = np.arange(1, len(df) + 1)
        out = {id_col: id_values, "churn_probability": np.round(p, 6)}
        if reasons:
            d = Describer(self.preparer, self.meta.get("mode", "snapshot"), lang, self.meta.get("context"))
            for i, col in enumerate(reason_columns(contrib, X, d, reasons), start=1):
                out[f"reason_{i}"] = col
        return pd.DataFrame(out)

    # -- persistence ----------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The one-file model as bytes (what :meth:`save` writes; the same data and
        settings give the same bytes)."""
        state, booster = self.classifier.to_dict()
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "versions": library_versions(),
            "meta": self.meta,
            "preparer": self.preparer.to_dict(),
            "classifier": state,
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
            _write(z, META_NAME, json.dumps(doc, indent=1, sort_keys=True, default=_json_default))
            if booster is not None:
                _write(z, BOOSTER_NAME, booster)
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write the one-file model; returns the path."""
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ChurnModel":
        """Read a model file written by :meth:`save` (see the module docstring for the checks)."""
        path = Path(path)
        if not path.exists():
            raise InputError(
                f"model file {str(path)!r} does not exist; train one with `negah predict train ... --out MODEL`"
            )
        return cls.from_bytes(path.read_bytes(), f"model file {str(path)!r}")

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "model") -> "ChurnModel":
        """A model from the bytes of :meth:`to_bytes`; ``what`` names it in error messages."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                doc = json.loads(z.read(META_NAME).decode("utf-8"))
                booster = z.read(BOOSTER_NAME).decode("utf-8") if BOOSTER_NAME in z.namelist() else None
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError):
            raise ModelError(
                f"{what} is not a negah model file (expected a zip with {META_NAME}, "
                "as written by `negah predict train --out`)"
            ) from None
        if doc.get("format") != FORMAT:
            raise ModelError(f"{what} is not a negah churn model (format {doc.get('format')!r})")
        fv = doc.get("format_version")
        made_by = doc.get("versions", {}).get("negah", "unknown")
        if not isinstance(fv, int) or fv > FORMAT_VERSION or fv < 1:
            raise ModelError(
                f"{what} has format version {fv} (written by negah {made_by}); this negah "
                f"reads format {FORMAT_VERSION}: upgrade negah to load it, or retrain the model with this one"
            )
        if fv not in READS:  # pragma: no cover - every older format is read today
            raise ModelError(
                f"{what} has the old format version {fv} (written by negah {made_by}); "
                f"this negah reads format {FORMAT_VERSION}: retrain the model (`negah predict train`)"
            )
        lgb_made = doc.get("versions", {}).get("lightgbm", "")
        if booster is not None:
            try:
                import lightgbm

                have = int(lightgbm.__version__.split(".")[0])
                want = int(str(lgb_made).split(".")[0])
            except ImportError:
                raise ModelError(f"{what} needs LightGBM: pip install 'negah[models]'") from None
            except ValueError:
                want = have
            if want > have:
                raise ModelError(
                    f"{what} was trained with LightGBM {lgb_made}, newer than the installed "
                    f"{lightgbm.__version__}: upgrade LightGBM (pip install -U lightgbm) or retrain"
                )
        try:
            clf = ChurnClassifier.from_dict(doc["classifier"], booster)
            prep = Preparer.from_dict(doc["preparer"])
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{what} is damaged or incomplete ({type(e).__name__}: {e})") from None
        m = cls(prep, clf, doc["meta"])
        m.versions = doc.get("versions", {})
        return m


def _write(z: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, text.encode("utf-8"))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"cannot store {type(o).__name__} in a model file")
