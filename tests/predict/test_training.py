"""The fast paths change no result: trees independent of threads, TreeSHAP by pattern exact."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from negah.predict.classifier import ChurnClassifier
from negah.predict.treeshap import PatternShap


def _data(n: int = 6000, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.normal(0, 1, n),  # numeric
            rng.integers(0, 6, n).astype(float),  # categorical codes
            rng.exponential(30, n),  # numeric with missing values
            rng.integers(0, 2, n).astype(float),  # flag
            np.where(rng.random(n) < 0.3, 0.0, rng.normal(2, 1, n)),  # many exact zeros
        ]
    )
    X[rng.random(n) < 0.15, 2] = np.nan
    X[rng.random(n) < 0.05, 1] = np.nan
    logit = 0.8 * X[:, 0] + np.where(X[:, 1] == 2, 1.2, 0) - 0.02 * np.nan_to_num(X[:, 2], nan=60) + 0.5 * X[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _trees(booster) -> str:
    text = booster.model_to_string()
    return text[: text.index("parameters:")]  # the trees, without the settings (num_threads) listed after


def test_trees_do_not_depend_on_the_number_of_threads():
    X, y = _data(3000)
    fits = [
        ChurnClassifier(model="lightgbm", folds=2, max_rounds=30, num_threads=k).fit(X, y, list("abcde"), [1])
        for k in (1, 2, 3)
    ]
    assert len({_trees(f.booster_) for f in fits}) == 1
    assert len({f.rounds_ for f in fits}) == 1 and len({tuple(f.calibration_["y"]) for f in fits}) == 1


def test_cross_validation_sample_and_final_fit_share_the_bins():
    X, y = _data(3000)
    small = ChurnClassifier(model="lightgbm", folds=2, max_rounds=40, select_rows=1500).fit(X, y, list("abcde"), [1])
    assert small.booster_.num_trees() == small.rounds_ and small._cv_set is None  # the sample's Dataset freed
    assert np.isfinite(small.predict_proba(X)).all()


@pytest.mark.parametrize(
    "params",
    [
        {"num_leaves": 7},
        {"num_leaves": 15, "min_data_in_leaf": 5},
        {"num_leaves": 31, "min_data_in_leaf": 5},  # 30 internal nodes: sorted patterns, not a table
        {"num_leaves": 7, "zero_as_missing": True},  # LightGBM's "Zero" missing type
        {"num_leaves": 40, "min_data_in_leaf": 5},  # too many nodes: plain pred_contrib
    ],
)
def test_pattern_treeshap_equals_lightgbm_pred_contrib(params):
    X, y = _data()
    ds = lgb.Dataset(X, label=y, categorical_feature=[1], params={"verbose": -1})
    b = lgb.train(
        {
            "objective": "binary",
            "verbose": -1,
            "seed": 1,
            "deterministic": True,
            "force_col_wise": True,
            "learning_rate": 0.1,
            **params,
        },
        ds,
        num_boost_round=40,
    )
    Z, _ = _data(2000, seed=9)
    Z[:50, 1] = 7.0  # a category never seen in training
    Z[50:60, 1] = -1.0  # a negative code
    Z[60:80, :] = np.nan
    Z[80:90, 4] = 0.0
    want = b.predict(Z, pred_contrib=True)
    ps = PatternShap(b)
    kinds = {n["missing"] for t in ps.trees for n in t.nodes} | {
        "cat" for t in ps.trees for n in t.nodes if n["categorical"]
    }
    if params.get("zero_as_missing"):
        assert "Zero" in kinds
    else:
        assert {"NaN", "cat"} <= kinds
    assert ps.usable == (params["num_leaves"] <= 31)
    got, raw = ps.explain(Z)
    if ps.usable:  # the pattern path ran, and gave LightGBM's raw scores to the last bit
        assert ps._check(Z) == (True, True)
        assert np.array_equal(raw, b.predict(Z, raw_score=True))
    else:
        assert raw is None
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    again = ps.contributions(Z[::-1])  # patterns met before are reused: the same values
    np.testing.assert_allclose(again, want[::-1], rtol=1e-12, atol=1e-12)
