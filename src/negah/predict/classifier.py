"""The churn classifier: LightGBM or a logistic baseline, chosen by cross-validation, calibrated.

``fit`` does, on the training rows only:

1. cross-validation (stratified folds; grouped by customer when the same customer appears
   at several cut-offs) of a few regularised LightGBM settings and a logistic regression
   (small CRM tables overfit LightGBM's defaults, so the grid leans to small leaves, many
   rows per leaf and a slow learning rate; the number of boosting rounds is found by early
   stopping inside the folds);
2. the candidate with the best mean out-of-fold ROC AUC is kept (``model="auto"``), or the
   one kind asked for (``"lightgbm"``, ``"logistic"``);
3. an isotonic regression of the labels on the kept candidate's out-of-fold scores maps
   raw scores to probabilities (monotone: the ranking is preserved);
4. the kept candidate is refitted on all training rows.

``contributions`` gives each feature's additive share of a row's raw score (log-odds): for
LightGBM its own TreeSHAP values (``pred_contrib=True``), for the logistic model
``coef * standardised value`` summed over a categorical column's one-hot columns (the exact
SHAP values of a linear model with independent features).

Every random choice takes ``seed``; LightGBM runs with ``deterministic=True`` and
column-wise histograms, so the same data gives the same trees whatever the number of
threads (``tests/predict/test_training.py`` checks 1, 2 and 3).

Speed: the cross-validation sample is binned once (one LightGBM ``Dataset``, whose fold
subsets and the final fit reuse its bins), LightGBM uses every core unless told
otherwise (``num_threads=0``), and idle OpenMP threads sleep instead of spinning
(:func:`negah.config.quiet_openmp`), which matters on a machine shared with other work.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from negah import config
from negah.errors import InputError, ModelError

config.quiet_openmp()  # before LightGBM or scikit-learn load their OpenMP runtime

LGBM_CANDIDATES: list[dict[str, Any]] = [
    {
        "name": "lightgbm_small",
        "num_leaves": 7,
        "learning_rate": 0.03,
        "min_data_in_leaf": 50,
        "lambda_l2": 5.0,
        "feature_fraction": 0.8,
    },
    {
        "name": "lightgbm_medium",
        "num_leaves": 15,
        "learning_rate": 0.05,
        "min_data_in_leaf": 30,
        "lambda_l2": 1.0,
        "feature_fraction": 0.9,
    },
    {"name": "lightgbm_default", "num_leaves": 31, "learning_rate": 0.1, "min_data_in_leaf": 20},
]
CONTRIBUTION_METHODS = ("shap", "path")
LOGIT_CANDIDATES: list[dict[str, Any]] = [
    {"name": "logistic_C0.1", "C": 0.1},
    {"name": "logistic_C1", "C": 1.0},
]


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, score))


class ChurnClassifier:
    """A calibrated churn classifier over a float64 feature matrix (see the module docstring).

    Parameters
    ----------
    model
        ``"auto"`` (choose by cross-validation), ``"lightgbm"`` or ``"logistic"``.
    folds
        Cross-validation folds.
    max_rounds
        Upper bound on LightGBM boosting rounds (early stopping picks the number).
    select_rows
        Settings are chosen on at most this many rows (a seeded random sample); the final
        model is fitted on all rows.
    seed
        Randomness, fixed for reproducible models.
    num_threads
        LightGBM threads (0: every core); the trees do not depend on it.
    """

    def __init__(
        self,
        model: str = "auto",
        folds: int = 3,
        max_rounds: int = 1000,
        select_rows: int = 200_000,
        seed: int = 0,
        num_threads: int = 0,
        early_stopping: int = 50,
    ):
        if model not in ("auto", "lightgbm", "logistic"):
            raise InputError(f"model must be auto, lightgbm or logistic, received {model!r}")
        self.model = model
        self.folds = folds
        self.max_rounds = max_rounds
        self.select_rows = select_rows
        self.seed = seed
        self.num_threads = num_threads
        self.early_stopping = early_stopping

    def __repr__(self) -> str:
        if not hasattr(self, "kind_"):
            return f"ChurnClassifier(model={self.model!r}, folds={self.folds}) (not fitted)"
        return f"ChurnClassifier(kind={self.kind_!r}, settings={self.settings_['name']!r}, cv_auc={self.cv_auc_:.4f})"

    # ------------------------------------------------------------------------------
    def _lgb_params(self, cand: dict[str, Any]) -> dict[str, Any]:
        p = {k: v for k, v in cand.items() if k != "name"}
        p.update(
            objective="binary",
            metric=["binary_logloss"],
            verbose=-1,
            seed=self.seed,
            deterministic=True,
            force_col_wise=True,
            num_threads=self.num_threads,
            feature_fraction_seed=self.seed,
            bagging_seed=self.seed,
            data_random_seed=self.seed,
        )
        return p

    def fit(
        self,
        X: np.ndarray,
        y: Sequence[int],
        names: Sequence[str],
        categorical: Sequence[int] = (),
        groups: Sequence[Any] | None = None,
    ) -> "ChurnClassifier":
        """Choose settings by cross-validation, calibrate, refit on all rows; returns self."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.int8)
        n = len(y)
        if X.shape[0] != n:
            raise InputError(f"features have {X.shape[0]} rows but labels {n}")
        pos = int(y.sum())
        if pos < self.folds or n - pos < self.folds:
            raise InputError(
                f"training data has {pos} churned and {n - pos} kept rows; need at least {self.folds} "
                "of each (use a longer horizon, more cut-offs or a larger table)"
            )
        self.names_ = [str(v) for v in names]
        self.categorical_ = [int(i) for i in categorical]
        rng = np.random.default_rng(self.seed)
        sel = np.arange(n)
        if n > self.select_rows:
            sel = np.sort(rng.choice(n, self.select_rows, replace=False))
        Xs, ys = X[sel], y[sel]
        gs = None if groups is None else np.asarray(groups)[sel]
        splits = self._splits(ys, gs)
        self._cv_set = None  # the sample's LightGBM Dataset, binned once for every candidate
        cands: list[dict[str, Any]] = []
        if self.model in ("auto", "lightgbm"):
            cands += [dict(c, kind="lightgbm") for c in LGBM_CANDIDATES]
        if self.model in ("auto", "logistic"):
            cands += [dict(c, kind="logistic") for c in LOGIT_CANDIDATES]
        results = []
        best = None
        for cand in cands:
            oof, rounds = (self._cv_lgbm if cand["kind"] == "lightgbm" else self._cv_logit)(Xs, ys, splits, cand)
            fold_auc = [roc_auc(ys[te], oof[te]) for _, te in splits]
            auc = float(np.nanmean(fold_auc))
            row = {
                "name": cand["name"],
                "kind": cand["kind"],
                "cv_auc": round(auc, 6),
                "oof_auc": round(roc_auc(ys, oof), 6),
                "rounds": rounds,
            }
            results.append(row)
            if best is None or auc > best[0] + 1e-12:
                best = (auc, cand, oof, rounds)
        assert best is not None
        auc, cand, oof, rounds = best
        self.cv_results_ = results
        self.cv_auc_ = auc
        self.kind_ = cand["kind"]
        self.settings_ = {k: v for k, v in cand.items() if k != "kind"}
        self.rounds_ = rounds
        self._calibrate(oof, ys)
        if self.kind_ == "lightgbm":
            self._fit_lgbm(X, y, cand, rounds, whole=len(sel) == n)
        else:
            self._fit_logit(X, y, cand)
        self._cv_set = None
        return self

    def _splits(self, y: np.ndarray, groups: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        if groups is None:
            kf = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=self.seed)
            return list(kf.split(np.zeros(len(y)), y))
        kf = StratifiedGroupKFold(n_splits=self.folds, shuffle=True, random_state=self.seed)
        return list(kf.split(np.zeros(len(y)), y, groups))

    # -- LightGBM -------------------------------------------------------------------
    def _dataset(self, X: np.ndarray, y: np.ndarray, reference: Any = None):
        """A LightGBM Dataset; with ``reference``, binned with the reference's bin bounds.

        ``feature_pre_filter=False`` lets candidates with other ``min_data_in_leaf`` share it.
        """
        import lightgbm as lgb

        return lgb.Dataset(
            X,
            label=y,
            feature_name=[f"f{i}" for i in range(X.shape[1])],
            categorical_feature=self.categorical_ or "auto",
            free_raw_data=False,
            reference=reference,
            params={
                "verbose": -1,
                "max_bin": 255,
                "feature_pre_filter": False,
                "data_random_seed": self.seed,
                "num_threads": self.num_threads,
            },
        )

    def _cv_lgbm(self, X, y, splits, cand) -> tuple[np.ndarray, int]:
        import lightgbm as lgb

        if getattr(self, "_cv_set", None) is None:
            self._cv_set = self._dataset(X, y).construct()
        params = self._lgb_params(cand)
        res = lgb.cv(
            params,
            self._cv_set,
            num_boost_round=self.max_rounds,
            folds=splits,
            callbacks=[lgb.early_stopping(self.early_stopping, verbose=False)],
            return_cvbooster=True,
        )
        cvb = res["cvbooster"]
        rounds = int(cvb.best_iteration) if cvb.best_iteration > 0 else len(res["valid binary_logloss-mean"])
        oof = np.zeros(len(y))
        for (_, te), booster in zip(splits, cvb.boosters):
            oof[te] = booster.predict(X[te], num_iteration=rounds, raw_score=True)
        return oof, rounds

    def _fit_lgbm(self, X, y, cand, rounds, whole: bool = False) -> None:
        """The final fit on every row: the cross-validation Dataset itself when it held every
        row, else a Dataset binned with its bin bounds."""
        import lightgbm as lgb

        ref = getattr(self, "_cv_set", None)
        data = ref if (whole and ref is not None) else self._dataset(X, y, reference=ref)
        self.booster_ = lgb.train(self._lgb_params(cand), data, num_boost_round=rounds)
        self.logit_ = None
        self._shap = self._paths = None  # explainers of an earlier booster

    # -- logistic -------------------------------------------------------------------
    def _expand(self, X: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
        """Impute, one-hot the categorical columns, standardise (with the fitted ``spec``)."""
        cols = []
        for j in range(X.shape[1]):
            x = X[:, j]
            if j in spec["cat_levels"]:
                for level in spec["cat_levels"][j]:
                    cols.append((x == level).astype(np.float64))
            else:
                cols.append(np.where(np.isnan(x), spec["fill"][j], x))
        Z = np.column_stack(cols) if cols else np.zeros((X.shape[0], 0))
        return (Z - spec["mean"]) / spec["scale"]

    def _logit_spec(self, X: np.ndarray) -> dict[str, Any]:
        cat_levels: dict[int, list[float]] = {}
        fill: dict[int, float] = {}
        owner: list[int] = []
        for j in range(X.shape[1]):
            x = X[:, j]
            if j in self.categorical_:
                levels = sorted(float(v) for v in np.unique(x[~np.isnan(x)]))
                cat_levels[j] = levels
                owner += [j] * len(levels)
            else:
                m = float(np.nanmean(x)) if (~np.isnan(x)).any() else 0.0
                fill[j] = m
                owner.append(j)
        spec: dict[str, Any] = {
            "cat_levels": cat_levels,
            "fill": fill,
            "owner": owner,
            "mean": np.zeros(len(owner)),
            "scale": np.ones(len(owner)),
        }
        Z = self._expand(X, spec)
        sd = Z.std(axis=0)
        spec["mean"] = Z.mean(axis=0)
        spec["scale"] = np.where(sd > 0, sd, 1.0)
        return spec

    def _logit_model(self, X, y, cand):
        from sklearn.linear_model import LogisticRegression

        spec = self._logit_spec(X)
        m = LogisticRegression(C=cand["C"], max_iter=2000)
        m.fit(self._expand(X, spec), y)
        return spec, m

    def _cv_logit(self, X, y, splits, cand) -> tuple[np.ndarray, int]:
        oof = np.zeros(len(y))
        for tr, te in splits:
            spec, m = self._logit_model(X[tr], y[tr], cand)
            oof[te] = m.decision_function(self._expand(X[te], spec))
        return oof, 0

    def _fit_logit(self, X, y, cand) -> None:
        spec, m = self._logit_model(X, y, cand)
        self.logit_ = {"spec": spec, "coef": m.coef_[0].astype(float), "intercept": float(m.intercept_[0])}
        self.booster_ = None

    # -- calibration ----------------------------------------------------------------
    def _calibrate(self, raw: np.ndarray, y: np.ndarray) -> None:
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
        iso.fit(raw, y)
        self.calibration_ = {"x": iso.X_thresholds_.astype(float), "y": iso.y_thresholds_.astype(float)}

    # -- prediction -----------------------------------------------------------------
    def _check(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "kind_"):
            raise ModelError("ChurnClassifier is not fitted: call fit(X, y, names) first")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.names_):
            raise InputError(f"expected a matrix with {len(self.names_)} feature columns, received shape {X.shape}")
        return X

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds of churn."""
        X = self._check(X)
        if self.kind_ == "lightgbm":
            return self.booster_.predict(X, raw_score=True, num_threads=self.num_threads)
        lg = self.logit_
        return self._expand(X, lg["spec"]) @ lg["coef"] + lg["intercept"]

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(raw, self.calibration_["x"], self.calibration_["y"])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of churn per row."""
        return self.calibrate(self.raw_score(X))

    def contributions(self, X: np.ndarray, method: str = "shap") -> tuple[np.ndarray, np.ndarray]:
        """(contributions per feature (n, p), raw scores (n,)); rows sum to the raw score.

        ``method`` (LightGBM only; the logistic model's contributions are exact either way):
        ``"shap"`` is LightGBM's TreeSHAP (the values of ``pred_contrib=True``, computed once
        per decision pattern of each tree: :mod:`negah.predict.treeshap`); ``"path"`` credits
        each split on the path from a
        tree's root to the row's leaf with the change in the node value it causes (Saabas'
        decomposition: one ``pred_leaf`` pass and a sparse product, so about as fast as
        prediction; it can over-credit splits near the leaves).
        """
        contrib, _ = self.explain(X, method)
        return contrib[0], contrib[1]

    def explain(self, X: np.ndarray, method: str = "shap") -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """((contributions (n, p), their row sums), raw scores (n,)): :meth:`contributions` and
        :meth:`raw_score` at once. The raw scores are exactly :meth:`raw_score`'s (for
        ``"shap"`` they come with the patterns when checked equal to LightGBM's to the bit)."""
        X = self._check(X)
        if method not in CONTRIBUTION_METHODS:
            raise InputError(
                f"contribution method must be one of {', '.join(CONTRIBUTION_METHODS)}, received {method!r}"
            )
        if self.kind_ == "lightgbm":
            if method == "path":
                return self._path_contributions(X), self.raw_score(X)
            if getattr(self, "_shap", None) is None:
                from negah.predict.treeshap import PatternShap

                self._shap = PatternShap(self.booster_, self.num_threads)
            self._shap.num_threads = self.num_threads
            c, raw = self._shap.explain(X)
            return (c[:, :-1], c.sum(axis=1)), (self.raw_score(X) if raw is None else raw)
        lg = self.logit_
        Z = self._expand(X, lg["spec"]) * lg["coef"]
        owner = np.asarray(lg["spec"]["owner"], dtype=int)
        out = np.zeros((X.shape[0], X.shape[1]))
        for j in range(X.shape[1]):
            out[:, j] = Z[:, owner == j].sum(axis=1)
        return (out, out.sum(axis=1) + lg["intercept"]), self.raw_score(X)

    def _path_tables(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Per leaf of every tree, the contribution of each feature on the way to it.

        Returns (leaf offsets per tree, (total leaves, p) contributions, bias): a row's path
        contributions are the sum over trees of the rows of its leaves, plus nothing else;
        ``bias`` (the sum of the root values) completes the raw score.
        """
        cached = getattr(self, "_paths", None)
        if cached is not None:
            return cached
        p = len(self.names_)
        trees = self.booster_.dump_model()["tree_info"]
        offsets = np.zeros(len(trees), dtype=np.int64)
        total = 0
        for t, tree in enumerate(trees):
            offsets[t] = total
            total += int(tree["num_leaves"])
        table = np.zeros((total, p))
        bias = 0.0
        for t, tree in enumerate(trees):
            root = tree["tree_structure"]
            if "leaf_value" in root:  # a single-leaf tree: a constant
                bias += float(root["leaf_value"])
                continue
            bias += float(root["internal_value"])
            stack = [(root, np.zeros(p))]
            while stack:
                node, acc = stack.pop()
                value = float(node["internal_value"])
                for side in ("left_child", "right_child"):
                    child = node[side]
                    cv = float(child["leaf_value"] if "leaf_value" in child else child["internal_value"])
                    a = acc.copy()
                    a[int(node["split_feature"])] += cv - value
                    if "leaf_value" in child:
                        table[offsets[t] + int(child["leaf_index"])] = a
                    else:
                        stack.append((child, a))
        self._paths = (offsets, table, bias)
        return self._paths

    def _path_contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy import sparse

        offsets, table, bias = self._path_tables()
        contrib = np.zeros((X.shape[0], table.shape[1]))
        block = 32_768  # leaf indices take rows x trees: keep them small
        for start in range(0, X.shape[0], block):
            leaves = self.booster_.predict(X[start : start + block], pred_leaf=True, num_threads=self.num_threads)
            leaves = np.asarray(leaves, dtype=np.int32).reshape(min(block, X.shape[0] - start), -1)
            n, t = leaves.shape
            ids = (leaves + offsets[None, :t].astype(np.int32)).ravel()
            onehot = sparse.csr_matrix((np.ones(n * t), ids, np.arange(0, n * t + 1, t)), shape=(n, table.shape[0]))
            contrib[start : start + n] = onehot @ table
        return contrib, contrib.sum(axis=1) + bias

    def importance(self) -> list[tuple[str, float]]:
        """Features by total gain (LightGBM) or |coefficient| (logistic), largest first."""
        if self.kind_ == "lightgbm":
            g = self.booster_.feature_importance(importance_type="gain")
        else:
            owner = np.asarray(self.logit_["spec"]["owner"], dtype=int)
            g = np.array([np.abs(self.logit_["coef"][owner == j]).sum() for j in range(len(self.names_))])
        order = sorted(range(len(g)), key=lambda i: (-g[i], i))
        return [(self.names_[i], float(g[i])) for i in order]

    # -- persistence ----------------------------------------------------------------
    def to_dict(self) -> tuple[dict[str, Any], str | None]:
        """(JSON-able state, LightGBM model text or None)."""
        d: dict[str, Any] = {
            "settings": {
                "model": self.model,
                "folds": self.folds,
                "max_rounds": self.max_rounds,
                "select_rows": self.select_rows,
                "seed": self.seed,
                "num_threads": self.num_threads,
                "early_stopping": self.early_stopping,
            },
            "kind": self.kind_,
            "chosen": self.settings_,
            "rounds": self.rounds_,
            "cv": self.cv_results_,
            "cv_auc": self.cv_auc_,
            "names": self.names_,
            "categorical": self.categorical_,
            "calibration": {k: v.tolist() for k, v in self.calibration_.items()},
        }
        if self.kind_ == "logistic":
            spec = self.logit_["spec"]
            d["logistic"] = {
                "coef": self.logit_["coef"].tolist(),
                "intercept": self.logit_["intercept"],
                "cat_levels": {str(k): v for k, v in spec["cat_levels"].items()},
                "fill": {str(k): v for k, v in spec["fill"].items()},
                "owner": spec["owner"],
                "mean": spec["mean"].tolist(),
                "scale": spec["scale"].tolist(),
            }
        text = self.booster_.model_to_string() if self.kind_ == "lightgbm" else None
        return d, text

    @classmethod
    def from_dict(cls, d: dict[str, Any], booster_text: str | None) -> "ChurnClassifier":
        m = cls(**d["settings"])
        m.kind_, m.settings_, m.rounds_ = d["kind"], d["chosen"], d["rounds"]
        m.cv_results_, m.cv_auc_ = d["cv"], d["cv_auc"]
        m.names_, m.categorical_ = d["names"], d["categorical"]
        m.calibration_ = {k: np.asarray(v, dtype=float) for k, v in d["calibration"].items()}
        m.booster_ = None
        m.logit_ = None
        if m.kind_ == "lightgbm":
            import lightgbm as lgb

            if not booster_text:
                raise ModelError("model file lacks its LightGBM booster (booster.txt)")
            m.booster_ = lgb.Booster(model_str=booster_text)
        else:
            lg = d["logistic"]
            spec = {
                "cat_levels": {int(k): v for k, v in lg["cat_levels"].items()},
                "fill": {int(k): v for k, v in lg["fill"].items()},
                "owner": lg["owner"],
                "mean": np.asarray(lg["mean"]),
                "scale": np.asarray(lg["scale"]),
            }
            m.logit_ = {"spec": spec, "coef": np.asarray(lg["coef"]), "intercept": lg["intercept"]}
        return m
