"""If-then rules a CRM or a spreadsheet can apply without the model, on the features' original units.

For each cluster a shallow decision tree (``rules.depth``) learns "this cluster or not" from the rule features
(:data:`RULE_FEATURES`: days, orders, purchase days, money, the share returned; no transformed or filled values,
so a rule reads the way a CRM stores a customer). Every leaf where the cluster is the majority is a candidate rule:
the conditions on its path, merged per feature (``recency_days <= 100`` and ``<= 45`` is ``<= 45``), thresholds
rounded for people (whole days and orders, money to cents). Each rule is then scored by applying it, as written,
to every clustered customer:

- ``precision``: share of the customers it matches that are in its cluster;
- ``coverage``: share of the cluster's customers it matches.

Rules with a precision below ``rules.min_precision`` are dropped; the ``rules.max_rules`` with the largest coverage
are kept. :func:`assign_by_rules` applies a rule list (highest precision first) to new customers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from analysis.clusters.features import UNITS
from analysis.i18n import check_language

RULE_FEATURES = ("recency_days", "frequency", "purchase_days", "monetary", "tenure_days", "avg_order_value",
                 "return_share")  # fmt: skip
WHOLE = ("recency_days", "frequency", "purchase_days", "tenure_days")  # counted in whole days or orders
# A rule's words, by message id, in English and Chinese.
TEXTS = {
    "and": {"en": " and ", "zh": " 且 "},
    "everyone": {"en": "every customer", "zh": "所有客户"},
    "rule": {"en": "{conditions} → {name} (precision {precision:.0%})",
             "zh": "{conditions} → {name}（准确率 {precision:.0%}）"},
}  # fmt: skip


def _round(feature: str, threshold: float, op: str) -> float:
    """A readable threshold with the same meaning on whole-number features: ``x <= 45.5`` is ``x <= 45`` and
    ``x > 45.5`` is ``x >= 46`` (stored as ``> 45``). Money and shares keep two decimals."""
    if feature in WHOLE:
        return float(math.floor(threshold))
    return round(float(threshold), 2)


def _paths(tree: DecisionTreeClassifier, columns: list[str]) -> list[tuple[list[tuple[str, str, float]], int]]:
    """(conditions, leaf id) of every leaf where class 1 (the cluster) is the majority."""
    t = tree.tree_
    out = []

    def walk(node: int, conds: list[tuple[str, str, float]]) -> None:
        if t.children_left[node] == t.children_right[node]:  # a leaf
            counts = t.value[node][0]
            if len(counts) > 1 and counts[1] > counts[0]:
                out.append((conds, node))
            return
        name, thr = columns[t.feature[node]], float(t.threshold[node])
        walk(t.children_left[node], [*conds, (name, "<=", _round(name, thr, "<="))])
        walk(t.children_right[node], [*conds, (name, ">", _round(name, thr, ">"))])

    walk(0, [])
    return out


def _merge(conds: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    """One upper and one lower bound per feature at most, in the order features first appear."""
    bounds: dict[str, dict[str, float]] = {}
    for name, op, value in conds:
        b = bounds.setdefault(name, {})
        b[op] = value if op not in b else min(b[op], value) if op == "<=" else max(b[op], value)
    return [{"feature": n, "op": op, "value": v} for n, b in bounds.items() for op, v in sorted(b.items())]


def matches(frame: pd.DataFrame, conditions: list[dict[str, Any]]) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that meet every condition (missing values never match)."""
    mask = np.ones(len(frame), dtype=bool)
    for c in conditions:
        x = frame[c["feature"]].to_numpy(dtype=float)
        mask &= (x <= c["value"]) if c["op"] == "<=" else (x > c["value"])
    return mask


def condition_text(c: dict[str, Any], lang: str = "en") -> str:
    """``recency_days <= 45`` as words: "days since the last purchase ≤ 45"."""
    check_language(lang)
    name = UNITS[c["feature"]][lang]
    whole = c["feature"] in WHOLE
    if c["op"] == "<=":
        value, sign = c["value"], "≤"
    else:
        value, sign = (c["value"] + 1, "≥") if whole else (c["value"], ">")
    number = f"{value:,.0f}" if whole else f"{value:.0%}" if c["feature"] == "return_share" else f"{value:,.2f}"
    return f"{name} {sign} {number}"


def range_text(low: dict[str, Any], high: dict[str, Any], lang: str = "en") -> str:
    """Both bounds of one feature as one range: "days since the last purchase 106–209" (whole numbers, both
    ends included) or "642.46 < total spend ≤ 848.92"."""
    check_language(lang)
    name = UNITS[low["feature"]][lang]
    if low["feature"] in WHOLE:
        return f"{name} {low['value'] + 1:,.0f}–{high['value']:,.0f}"
    if low["feature"] == "return_share":
        return f"{low['value']:.0%} < {name} ≤ {high['value']:.0%}"
    return f"{low['value']:,.2f} < {name} ≤ {high['value']:,.2f}"


def rule_text(conditions: list[dict[str, Any]], name: str, precision: float, lang: str = "en") -> str:
    """A rule in words: "days since the last purchase ≤ 45 and purchase days ≥ 4 → Recent frequent buyers
    (precision 93%)"; a feature bounded on both sides reads as one range (:func:`range_text`)."""
    check_language(lang)
    parts, seen = [], set()
    for c in conditions:
        if c["feature"] in seen:
            continue
        seen.add(c["feature"])
        pair = {d["op"]: d for d in conditions if d["feature"] == c["feature"]}
        both = "<=" in pair and ">" in pair
        parts.append(range_text(pair[">"], pair["<="], lang) if both else condition_text(c, lang))
    words = TEXTS["and"][lang].join(parts) or TEXTS["everyone"][lang]
    return TEXTS["rule"][lang].format(conditions=words, name=name, precision=precision)


def cluster_rules(
    frame: pd.DataFrame,
    labels: np.ndarray,
    cfg: dict,
    rows: np.ndarray | None = None,
    random_state: int = 0,
) -> dict[int, list[dict[str, Any]]]:
    """Rules per cluster (``{cluster: [rule, ...]}``), each a dict with ``conditions`` (feature, op, value),
    ``precision``, ``coverage`` and ``customers`` (matched); grown on ``rows`` of ``frame`` (all when
    ``None``) and scored on all of it. ``frame`` holds the rule features in original units, one row per label."""
    columns = [c for c in RULE_FEATURES if c in frame]
    x_all = frame[columns].astype(float)
    fit_rows = np.arange(len(frame)) if rows is None else rows
    depth = int(cfg["depth"])
    keep, floor = int(cfg["max_rules"]), float(cfg["min_precision"])
    out: dict[int, list[dict[str, Any]]] = {}
    for cluster in np.unique(labels):
        target = labels == cluster
        tree = DecisionTreeClassifier(max_depth=depth, random_state=random_state, min_samples_leaf=5)
        tree.fit(x_all.iloc[fit_rows].to_numpy(), target[fit_rows])
        found = []
        for conds, _leaf in _paths(tree, columns):
            conditions = _merge(conds)
            hit = matches(x_all, conditions)
            n_hit, n_in = int(hit.sum()), int((hit & target).sum())
            if not n_hit:
                continue
            precision, coverage = n_in / n_hit, n_in / max(int(target.sum()), 1)
            if precision >= floor:
                found.append({"conditions": conditions, "precision": precision,
                              "coverage": coverage, "customers": n_hit})  # fmt: skip
        found.sort(key=lambda r: (-r["coverage"], -r["precision"]))
        out[int(cluster)] = found[:keep]
    return out


def assign_by_rules(frame: pd.DataFrame, rules: list[dict[str, Any]]) -> np.ndarray:
    """The cluster each row of ``frame`` gets from ``rules`` (a flat list of rules with ``cluster``; the most
    precise matching rule wins; -1 when no rule matches), as a CRM would assign new customers without the model."""
    out = np.full(len(frame), -1, dtype=int)
    for rule in sorted(rules, key=lambda r: -r["precision"]):
        hit = matches(frame, rule["conditions"]) & (out < 0)
        out[hit] = rule["cluster"]
    return out
