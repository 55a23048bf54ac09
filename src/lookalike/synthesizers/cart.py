"""``cart``: sequential synthesis with classification and regression trees (synthpop-style).

Columns are synthesised one after another in ``visit_order``. The first is drawn from its
marginal; each later column is drawn from a tree fitted to predict it from the columns before
it: a synthetic row falls into a leaf, and its value is a real value drawn from that leaf
(Reiter 2005; Nowok, Raab and Dibben, "synthpop", J. Stat. Softw. 2016).

Missing values are a state of their own: a categorical column's missing code, or a sentinel
below a numeric column's range, so trees split on missingness like on any value. Conditional
sampling is native and exact: when the walk reaches a conditioned column, a row is kept with
probability proportional to its leaf's share of allowed values, then takes an allowed value.

The model holds real values in its leaves (that is how CART synthesis works): it is not
differentially private and its file must be protected like the data.

>>> import lookalike
>>> real = lookalike.load_demo().head(2000)
>>> model = CartSynthesizer().fit(real, seed=0)
>>> rows = model.sample(100, conditions={"income": ">50K"}, seed=1)
>>> set(rows["income"])
{'>50K'}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from lookalike._progress import progress
from lookalike.errors import ConditionError, ConfigError
from lookalike.schema import Column, Kind
from lookalike.synthesizers._checks import check_int
from lookalike.synthesizers.base import Synthesizer, register
from lookalike.synthesizers.conditions import Condition, Conditions
from lookalike.transform.encoder import from_numbers, to_numbers

__all__ = ["CartSynthesizer"]


@register
class CartSynthesizer(Synthesizer):
    """Sequential CART synthesis (synthpop-style): each column drawn from a tree over the ones before.

    Each column is predicted from the columns synthesised before it by a classification or
    regression tree, and a synthetic value is a real value drawn from the leaf a row falls
    into, so it captures non-linear and higher-order dependence and keeps values realistic.
    It is not differentially private: the leaves hold real values, so the model file must be
    protected like the data and rare rows can be reproduced (run ``lookalike audit``). Pick
    it for the best fidelity without a formal guarantee, and for exact conditional sampling
    (native); it fits one tree per column (1.9 s on Adult's 26,049 rows on 2 cores).

    Parameters
    ----------
    min_samples_leaf : int, default 5
        Fewest real rows in a leaf (synthpop's ``minbucket``): a synthetic value is drawn from
        at least this many real values, so larger leaves copy fewer rare combinations and give
        smoother, less faithful rows.
        Range: integer >= 1.
    max_depth : int or None, default None
        Deepest a tree may grow.
        None: no depth limit; trees grow until a split would leave a leaf with fewer than
        ``min_samples_leaf`` rows.
        Range: integer >= 1, or None.
    visit_order : list of str or None, default None
        Modelled columns in the order they are synthesised; columns left out follow in schema
        order. Conditioned columns are cheapest to sample when they come first.
        None: the schema's column order.
        Range: list of column names, or None; names that are not modelled columns of the
        table are refused when fitting.
    """

    name = "cart"
    native_conditions = True

    def __init__(
        self,
        *,
        min_samples_leaf: int = 5,
        max_depth: int | None = None,
        visit_order: list[str] | None = None,
    ) -> None:
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.visit_order = visit_order

    def _check_params(self) -> None:
        check_int("min_samples_leaf", self.min_samples_leaf, 1)
        check_int("max_depth", self.max_depth, 1, none=True)
        order = self.visit_order
        if order is not None and (not isinstance(order, (list, tuple))
                                  or not all(isinstance(c, str) for c in order)):
            raise ConfigError(f"visit_order must be None or a list of column names, got {order!r}")

    def _order(self) -> list[Column]:
        modelled = {c.name: c for c in self.schema_.modelled}
        if self.visit_order is None:
            return list(modelled.values())
        unknown = [n for n in self.visit_order if n not in modelled]
        if unknown:
            raise ConfigError(f"visit_order names columns that are not modelled: {unknown}")
        rest = [n for n in modelled if n not in self.visit_order]
        return [modelled[n] for n in list(self.visit_order) + rest]

    # ------------------------------------------------------------------ fit
    def _fit(self, data: pd.DataFrame, rng: np.random.Generator) -> None:
        cols = self._order()
        self.columns_ = [c.name for c in cols]
        self.sentinels_ = {}
        X = np.empty((len(data), len(cols)))
        for j, col in enumerate(cols):
            X[:, j] = self._to_feature(data[col.name], col)
        # imported here: scikit-learn takes a second to import, which every CLI command
        # (lookalike budget, inspect, ...) paid when the registry loaded this module
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        self.trees_: list[dict[str, np.ndarray]] = []
        with progress("cart: fitting trees", len(cols)) as advance:
            for j, col in enumerate(cols):
                y = X[:, j]
                if j == 0:
                    tree = _root_only(y)
                else:
                    cls = DecisionTreeClassifier if _is_discrete(col) else DecisionTreeRegressor
                    model = cls(
                        min_samples_leaf=self.min_samples_leaf,
                        max_depth=self.max_depth,
                        random_state=int(rng.integers(2**31 - 1)),
                    )
                    model.fit(X[:, :j], y)
                    tree = _tree_arrays(model, X[:, :j], y)
                self.trees_.append(tree)
                advance(description=f"cart: {col.name}")

    def _to_feature(self, s: pd.Series, col: Column) -> np.ndarray:
        """Floats for trees: category codes (missing = last code) or values (missing = sentinel)."""
        if _is_discrete(col):
            labels = _labels(col)
            lookup = {v: i for i, v in enumerate(labels)}
            miss = len(labels) - 1 if col.nullable else -1
            return np.array(
                [miss if v is None or v is pd.NA or v != v else lookup[v] for v in s.tolist()], float
            )
        values = to_numbers(s, col)
        if col.name not in self.sentinels_:
            finite = values[~np.isnan(values)]
            lo, hi = float(finite.min()), float(finite.max())
            self.sentinels_[col.name] = lo - (hi - lo) - 1.0
        return np.where(np.isnan(values), self.sentinels_[col.name], values)

    def _from_feature(self, v: np.ndarray, col: Column) -> pd.Series:
        if _is_discrete(col):
            labels = _labels(col)
            values = [labels[int(i)] for i in v]
            if col.kind is Kind.BOOLEAN:
                return pd.Series(pd.array(values, dtype="boolean"))
            return pd.Series(values, dtype=object)
        v = np.where(v == self.sentinels_[col.name], np.nan, v)
        return from_numbers(v, col)

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        cols = [self.schema_[c] for c in self.columns_]
        allowed = {}
        for name, cond in (conditions or {}).items():
            allowed[self.columns_.index(name)] = self._feature_test(self.schema_[name], cond)
        parts, got, drawn = [], 0, 0
        while got < n:
            batch = n - got if not allowed else int(min(2_000_000, max(1000, 1.5 * (n - got) / max(got / max(drawn, 1), 1e-3))))
            X = self._walk(batch, rng, allowed)
            drawn += batch
            parts.append(X)
            got += len(X)
            if allowed and drawn >= max(5_000_000, 500 * n) and got < n:
                raise ConditionError(
                    f"conditions matched only {got:,} of {drawn:,} draws: the model gives them "
                    "too little probability; relax them"
                )
        X = np.concatenate(parts)[:n]
        return pd.DataFrame({c.name: self._from_feature(X[:, j], c) for j, c in enumerate(cols)})

    def _feature_test(self, col: Column, cond: Condition) -> Callable[[np.ndarray], np.ndarray]:
        """Which leaf values (features: category codes, numbers, the missing sentinel) meet
        ``cond``: a leaf's values are real values, so a range or a missing value is met exactly."""
        if _is_discrete(col):
            labels = _labels(col)
            ok_codes = np.array([i for i, v in enumerate(labels) if (
                (v is None and cond.missing) or (v is not None and v in (cond.values or ())))], float)
            return lambda values: np.isin(values, ok_codes)
        sentinel = self.sentinels_[col.name]
        return lambda values: cond.allows_numbers(np.where(values == sentinel, np.nan, values))

    def _walk(self, n: int, rng: np.random.Generator,
              allowed: dict[int, Callable[[np.ndarray], np.ndarray]]) -> np.ndarray:
        X = np.empty((n, len(self.trees_)))
        keep = np.arange(n)
        for j, tree in enumerate(self.trees_):
            leaf = _apply(tree, X[keep, :j])
            start, count, values = tree["start"][leaf], tree["count"][leaf], tree["values"]
            if j in allowed:
                ok = allowed[j](values)
                cum = np.r_[0, np.cumsum(ok)]
                n_ok = cum[start + count] - cum[start]
                share = n_ok / count
                top = share.max() if len(share) else 0.0
                if top <= 0:
                    raise ConditionError(
                        f"no synthetic row can take the requested value(s) of {self.columns_[j]!r}"
                    )
                accept = rng.random(len(leaf)) < share / top
                keep, start, n_ok = keep[accept], start[accept], n_ok[accept]
                # the k-th allowed value in the leaf, k uniform
                k = np.floor(rng.random(len(keep)) * n_ok).astype(np.int64)
                positions = np.flatnonzero(ok)
                X[keep, j] = values[positions[cum[start] + k]]
            else:
                pick = start + np.floor(rng.random(len(keep)) * count).astype(np.int64)
                X[keep, j] = values[pick]
        return X[keep]

    # ------------------------------------------------------------------ state
    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"tree.{j}.{k}": v for j, t in enumerate(self.trees_) for k, v in t.items()}
        return {"columns": self.columns_, "sentinels": self.sentinels_}, arrays

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        self.columns_ = list(state["columns"])
        self.sentinels_ = {k: float(v) for k, v in state["sentinels"].items()}
        self.trees_ = [
            {k: arrays[f"tree.{j}.{k}"] for k in _TREE_KEYS} for j in range(len(self.columns_))
        ]


_TREE_KEYS = ("left", "right", "feature", "threshold", "start", "count", "values")


def _is_discrete(col: Column) -> bool:
    return col.kind in (Kind.CATEGORICAL, Kind.BOOLEAN)


def _labels(col: Column) -> list:
    labels = list(col.categories) if col.kind is Kind.CATEGORICAL else [False, True]
    return labels + [None] if col.nullable else labels


def _root_only(y: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "left": np.array([-1]),
        "right": np.array([-1]),
        "feature": np.array([-1]),
        "threshold": np.array([0.0]),
        "start": np.array([0]),
        "count": np.array([len(y)]),
        "values": np.sort(y),
    }


def _tree_arrays(model, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """A fitted scikit-learn tree as plain arrays, each leaf holding its training values."""
    t = model.tree_
    leaf = model.apply(X)
    order = np.argsort(leaf, kind="stable")
    counts = np.bincount(leaf, minlength=t.node_count)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return {
        "left": t.children_left.astype(np.int64),
        "right": t.children_right.astype(np.int64),
        "feature": t.feature.astype(np.int64),
        "threshold": t.threshold.astype(float),
        "start": starts.astype(np.int64),
        "count": counts.astype(np.int64),
        "values": y[order],
    }


def _apply(tree: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Leaf index of each row, walking all rows down the tree level by level."""
    X = np.asarray(X, dtype=np.float32)  # scikit-learn compares float32 features
    node = np.zeros(len(X), dtype=np.int64)
    left, right, feature, threshold = tree["left"], tree["right"], tree["feature"], tree["threshold"]
    active = np.flatnonzero(left[node] >= 0)
    while len(active):
        nd = node[active]
        go_left = X[active, feature[nd]] <= threshold[nd]
        node[active] = np.where(go_left, left[nd], right[nd])
        active = active[left[node[active]] >= 0]
    return node
