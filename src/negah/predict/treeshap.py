"""LightGBM's own TreeSHAP values, computed once per *decision pattern* of each tree.

LightGBM's ``pred_contrib=True`` runs path-dependent TreeSHAP (Lundberg et al. 2018) for
every row and every tree. That recursion reads a row only through the decisions it makes
at the tree's internal nodes (left or right: ``x <= threshold`` with LightGBM's rules for
missing values, or category membership). So two rows that make the same decision at every
internal node of a tree — the same *pattern* — get exactly the same SHAP values from that
tree. A tree of 7 leaves has 6 internal nodes and at most 64 patterns; millions of rows
share them.

:class:`PatternShap` therefore, per tree: evaluates every internal node's decision for all
rows (vectorised numpy, the rules of LightGBM's ``tree.h``: ``NumericalDecision``,
``CategoricalDecision``), packs them into one integer per row, asks LightGBM for the SHAP
values of one representative row per pattern not met before (``pred_contrib`` restricted
to that tree with ``start_iteration``), keeps them, and adds each row's pattern values. The
values are LightGBM's own, summed tree by tree (they can differ from one ``pred_contrib``
call in the last bits of a double).

The pattern also gives the row's leaf, so the raw score (the sum of the leaf values, tree
by tree, in LightGBM's order) comes for free. Each chunk first checks, on evenly spaced
sample rows, that the node rules reach LightGBM's own leaves (``pred_leaf``) and that the
raw score equals ``predict(raw_score=True)`` to the last bit; otherwise, and for trees with
more than :data:`MAX_NODES` internal nodes, LightGBM computes them itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_NODES = 30
"""Trees with more internal nodes than this (more than 31 leaves) use plain pred_contrib."""
TABLE_NODES = 12
"""Up to this many internal nodes (13 leaves), a tree keeps its patterns' values in a table of
2**nodes rows indexed by the pattern; larger trees keep the patterns met, sorted."""
ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float, compared as a double)
CHECK_ROWS = 1024
"""Rows of each chunk (evenly spaced) on which the node rules are checked against LightGBM."""


class _Columns:
    """A chunk's features, feature-major (contiguous columns), with NaN masks made once."""

    def __init__(self, X: np.ndarray):
        self.n = X.shape[0]
        self.x = np.ascontiguousarray(X.T)
        self._nan: dict[int, np.ndarray] = {}
        self._zeroed: dict[int, np.ndarray] = {}
        self._trunc: dict[int, np.ndarray] = {}

    def nan(self, f: int) -> np.ndarray:
        if f not in self._nan:
            self._nan[f] = np.isnan(self.x[f])
        return self._nan[f]

    def has_nan(self, f: int) -> bool:
        return bool(self.nan(f).any())

    def zeroed(self, f: int) -> np.ndarray:
        if f not in self._zeroed:
            self._zeroed[f] = np.where(self.nan(f), 0.0, self.x[f]) if self.has_nan(f) else self.x[f]
        return self._zeroed[f]

    def truncated(self, f: int) -> np.ndarray:
        if f not in self._trunc:
            self._trunc[f] = np.trunc(np.where(self.nan(f), -1.0, self.x[f]))
        return self._trunc[f]


class _Tree:
    """One tree: its internal nodes, leaves, and the patterns met so far with their values."""

    def __init__(self, index: int, structure: dict[str, Any]):
        self.index = index
        self.nodes: list[dict[str, Any]] = []
        self.leaf_paths: list[tuple[int, float, list[tuple[int, bool]]]] = []  # (leaf, value, [(node, left?)])
        self._walk(structure, [])
        self.features = sorted({n["feature"] for n in self.nodes})
        self.small = len(self.nodes) <= TABLE_NODES
        self.table: np.ndarray | None = None  # small trees: (features + 1, 2**nodes) values by pattern
        self.known: np.ndarray | None = None
        self._leaf_tables: tuple[np.ndarray, np.ndarray] | None = None  # small trees: leaf by pattern
        self.codes = np.zeros(0, dtype=np.intp)  # larger trees: patterns met (sorted) ...
        self.values = np.zeros((0, 0))  # ... their values (patterns x (p + 1)) ...
        self.leaf_values = np.zeros(0)  # ... and leaf values

    def _walk(self, node: dict[str, Any], path: list[tuple[int, bool]]) -> None:
        if "split_feature" not in node:
            self.leaf_paths.append((int(node.get("leaf_index", 0)), float(node["leaf_value"]), list(path)))
            return
        k = len(self.nodes)
        spec = {
            "feature": int(node["split_feature"]),
            "default_left": bool(node.get("default_left", False)),
            "missing": str(node.get("missing_type", "None")),
            "categorical": node["decision_type"] == "==",
        }
        if spec["categorical"]:
            spec["cats"] = np.array(sorted(int(c) for c in str(node["threshold"]).split("||")), dtype=np.float64)
        else:
            spec["threshold"] = float(node["threshold"])
        self.nodes.append(spec)
        self._walk(node["left_child"], path + [(k, True)])
        self._walk(node["right_child"], path + [(k, False)])

    def left(self, cols: _Columns, k: int) -> np.ndarray:
        """Rows going left at internal node k (LightGBM's Decision for a double input)."""
        n = self.nodes[k]
        f = n["feature"]
        if n["categorical"]:
            t = cols.truncated(f)  # NaN (cast to a negative int) and negative values go right
            return (t >= 0) & np.isin(t, n["cats"])
        if n["missing"] == "NaN":  # NaN compares false: left only when missing values go left
            go = cols.x[f] <= n["threshold"]
            return go | cols.nan(f) if n["default_left"] and cols.has_nan(f) else go
        v = cols.zeroed(f)  # the other missing types read NaN as 0
        go = v <= n["threshold"]
        if n["missing"] == "Zero":
            go = np.where((v >= -ZERO) & (v <= ZERO), n["default_left"], go)
        return go

    def patterns(self, cols: _Columns) -> np.ndarray:
        code = np.zeros(cols.n, dtype=np.uint32)
        for k in range(len(self.nodes)):
            code += self.left(cols, k) * np.uint32(1 << k)
        return code.astype(np.intp)

    def leaves(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(LightGBM's leaf index, leaf value) that each pattern reaches."""
        if self.small:
            if self._leaf_tables is None:
                self._leaf_tables = self._leaves(np.arange(1 << len(self.nodes), dtype=np.intp))
            number, value = self._leaf_tables
            return number[code], value[code]
        return self._leaves(code)

    def _leaves(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        number = np.full(code.shape, -1, dtype=np.int64)
        value = np.zeros(code.shape)
        for i, v, path in self.leaf_paths:
            hit = np.ones(code.shape, dtype=bool)
            for k, went_left in path:
                hit &= ((code >> k) & 1).astype(bool) == went_left
            number[hit] = i
            value[hit] = v
        return number, value


class PatternShap:
    """TreeSHAP values (and raw scores) of a LightGBM booster; reusable across chunks."""

    def __init__(self, booster: Any, num_threads: int = 0):
        self.booster = booster
        self.num_threads = num_threads
        info = booster.dump_model()["tree_info"]
        self.trees = [_Tree(i, t["tree_structure"]) for i, t in enumerate(info)]
        self.usable = all(len(t.nodes) <= MAX_NODES for t in self.trees)

    # -- checks -----------------------------------------------------------------------
    def _check(self, X: np.ndarray) -> tuple[bool, bool]:
        """(the node rules reach LightGBM's leaves, the raw score is LightGBM's to the bit)."""
        sample = X[:: max(1, len(X) // CHECK_ROWS)][:CHECK_ROWS]
        want = np.asarray(self.booster.predict(sample, pred_leaf=True, num_threads=self.num_threads))
        want = want.reshape(len(sample), -1)
        cols = _Columns(sample)
        raw = np.zeros(len(sample))
        for t in self.trees:
            number, value = t.leaves(t.patterns(cols))
            if not np.array_equal(number, want[:, t.index]):
                return False, False
            raw += value
        same = np.array_equal(raw, self.booster.predict(sample, raw_score=True, num_threads=self.num_threads))
        return True, bool(same)

    # -- values -----------------------------------------------------------------------
    def explain(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(``pred_contrib`` values (n, p + 1): per feature, then the expected value;
        the raw scores (n,), equal to ``predict(raw_score=True)``, or None when not checked equal)."""
        n, p = X.shape
        rules, raw_ok = (False, False) if (n == 0 or not self.usable) else self._check(X)
        if not rules:
            return np.asarray(self.booster.predict(X, pred_contrib=True, num_threads=self.num_threads)), None
        out = np.zeros((p + 1, n))  # feature-major: each column add is contiguous
        raw = np.zeros(n)
        cols = _Columns(X)
        for t in self.trees:
            self._add_tree(t, X, cols, out, raw)
        return out.T.copy(), (raw if raw_ok else None)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return self.explain(X)[0]

    def _add_tree(self, t: _Tree, X: np.ndarray, cols: _Columns, out: np.ndarray, raw: np.ndarray) -> None:
        p = X.shape[1]
        code = t.patterns(cols)
        if t.small:  # every pattern's values in a table indexed by the pattern itself
            if t.table is None:
                size = 1 << len(t.nodes)
                t.table = np.zeros((len(t.features) + 1, size))
                t.known = np.zeros(size, dtype=bool)
            if not t.known[code].all():
                rows = np.flatnonzero(~t.known[code])
                seen = np.zeros(len(t.known), dtype=bool)
                seen[code[rows]] = True
                new = np.flatnonzero(seen)
                rep = np.empty(len(t.known), dtype=np.intp)
                rep[code[rows]] = rows  # any row of a pattern represents it (the same values)
                values = self._fresh(t, X, rep[new])
                t.table[:, new] = values[:, t.features + [p]].T
                t.known[new] = True
            for i, j in enumerate(t.features + [p]):
                out[j] += t.table[i][code]
            raw += t.leaves(code)[1]
            return
        uniq, inv = np.unique(code, return_inverse=True)
        pos = np.minimum(np.searchsorted(t.codes, uniq), max(len(t.codes) - 1, 0))
        known = (t.codes[pos] == uniq) if len(t.codes) else np.zeros(len(uniq), dtype=bool)
        if not known.all():
            rows = np.flatnonzero(np.isin(code, uniq[~known]))
            new, first = np.unique(code[rows], return_index=True)
            values = self._fresh(t, X, rows[first])
            codes = np.concatenate([t.codes, new])
            order = np.argsort(codes, kind="stable")
            t.codes = codes[order]
            t.values = np.vstack([t.values.reshape(-1, p + 1), values])[order]
            t.leaf_values = np.concatenate([t.leaf_values, t.leaves(new)[1]])[order]
        at = np.searchsorted(t.codes, uniq)
        vals = t.values[at]
        for j in t.features + [p]:  # a tree credits only its own split features, plus its expected value
            out[j] += vals[:, j][inv]
        raw += t.leaf_values[at][inv]

    def _fresh(self, t: _Tree, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """LightGBM's SHAP values (k, p + 1) of tree ``t`` alone for the given rows."""
        fresh = self.booster.predict(
            X[rows], pred_contrib=True, start_iteration=t.index, num_iteration=1, num_threads=self.num_threads
        )
        return np.asarray(fresh).reshape(len(rows), -1)
