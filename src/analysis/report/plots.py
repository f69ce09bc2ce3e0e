"""Charts of the report pack: value by tier and the tier transition matrix. Each takes data and ``ax=None``,
draws one figure and returns the Axes; texts come from ``config["deck"]["charts"]`` (English or Chinese) and
tier names from ``config["tiers"]["labels"]``."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.plotting import new_axes, thousands, use_cjk_font

VALUE_COLOR = "#4c72b0"


@cache
def _defaults() -> dict[str, Any]:
    """The package's default settings, read once per process (every chart and deck of a pack needs them)."""
    from analysis.config import default_config

    return default_config()


def with_defaults(config: dict | None) -> dict[str, Any]:
    """``config`` merged onto the package defaults (a new dict: the cached defaults are never changed)."""
    from analysis.config import deep_merge

    return deep_merge(_defaults(), config or {})


def _config(config: dict | None) -> dict[str, Any]:
    """The settings the charts read (the package defaults when none are given)."""
    return with_defaults(config)


def _i(lang: str) -> int:
    return 1 if lang == "zh" else 0


def _tier_labels(config: dict | None) -> dict[str, list[str]]:
    """``tiers.labels`` of ``config`` (the package defaults' when it has no ``tiers``), as :func:`_config` gives."""
    return (config if config is not None and "tiers" in config else _defaults())["tiers"]["labels"]


def tier_names(config: dict | None, lang: str = "en") -> dict[str, str]:
    """Tier key -> its label in ``lang``, in the configured order (best first)."""
    labels = _tier_labels(config)
    return {key: names[_i(lang)] for key, names in labels.items()}


def value_by_tier(customers: pd.DataFrame, config: dict | None = None, value: str = "monetary") -> pd.DataFrame:
    """Customers, value and share of value per tier key, in the configured order (tiers without customers
    included). Tiers are found by their label in either language."""
    from analysis.report.history import tier_codes

    labels = _tier_labels(config)
    codes = tier_codes(customers["tier"], labels)
    known = codes >= 0
    worth = pd.to_numeric(customers[value], errors="coerce").fillna(0.0) if value in customers else 0.0
    worth = np.broadcast_to(np.asarray(worth, dtype=float) + 0.0, codes.shape)
    # (pandas' compensated sums per tier, as the groupby gave)
    sums = pd.Series(worth[known]).groupby(codes[known]).sum().reindex(range(len(labels)), fill_value=0.0)
    table = pd.DataFrame(
        {"customers": np.bincount(codes[known], minlength=len(labels)), "value": sums.to_numpy()},
        index=pd.Index(list(labels), name="tier"),
    )
    total = table["value"].sum()
    table["value_share"] = table["value"] / total if total > 0 else 0.0
    return table


def plot_value_by_tier(
    customers: pd.DataFrame, ax: Axes | None = None, lang: str = "en", config: dict | None = None
) -> Axes:
    """Total value (``monetary``) per tier, best tier on top, each bar labelled with its share of value and
    its customers."""
    use_cjk_font()
    cfg = _config(config)
    texts = cfg["deck"]["charts"]
    i = _i(lang)
    table = value_by_tier(customers, cfg)
    names = tier_names(cfg, lang)
    ax = new_axes(ax, (8, 0.6 * len(table) + 1.8))
    y = np.arange(len(table))
    ax.barh(y, table["value"], color=VALUE_COLOR, height=0.6)
    ax.set_yticks(y, [names[k] for k in table.index], fontsize=11)
    ax.invert_yaxis()
    top = float(table["value"].max()) or 1.0
    for yi, (_, row) in zip(y, table.iterrows(), strict=True):
        text = texts["value_label"][i].format(share=row["value_share"], n=int(row["customers"]))
        ax.text(row["value"] + top * 0.01, yi, text, va="center", fontsize=10)
    ax.set_xlim(0, top * 1.45)  # room for the labels
    thousands(ax, "x")
    ax.set_xlabel(texts["value_axis"][i])
    ax.set_title(texts["value_title"][i], fontsize=13)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_transition_matrix(
    migration, ax: Axes | None = None, value: bool = False, lang: str = "en", config: dict | None = None
) -> Axes:
    """The tier transition matrix of a :class:`analysis.report.history.Migration`: rows the tier at the
    previous review (and new customers), columns the tier now (and lost customers); each cell the customers
    (or, with ``value``, their value), coloured by its share of the row."""
    use_cjk_font()
    cfg = _config(config)
    texts = cfg["deck"]["charts"]
    i = _i(lang)
    table = migration.value if value else migration.counts
    names = {**tier_names(cfg, lang), "new": texts["new"][i], "lost": texts["lost"][i]}
    cells = table.to_numpy(dtype=float)
    rows = cells.sum(axis=1, keepdims=True)
    share = np.divide(cells, rows, out=np.zeros_like(cells), where=rows > 0)
    ax = new_axes(ax, (1.3 * table.shape[1] + 2.5, 0.75 * table.shape[0] + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (r, c), v in np.ndenumerate(cells):
        ax.text(c, r, f"{v:,.0f}", ha="center", va="center", fontsize=11,
                color="white" if share[r, c] > 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(table.shape[1]), [names.get(str(c), str(c)) for c in table.columns], fontsize=10)
    ax.set_yticks(range(table.shape[0]), [names.get(str(r), str(r)) for r in table.index], fontsize=10)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(texts["matrix_columns"][i], fontsize=11, labelpad=10)
    ax.set_ylabel(texts["matrix_rows"][i], fontsize=11)
    for k in range(table.shape[0] - 1):  # stayed in the tier: row k + 1 (after "new"), column k
        ax.add_patch(_box(k, k + 1))
    title = texts["matrix_title_value" if value else "matrix_title"][i]
    report = getattr(migration, "report", {}) or {}
    ax.set_title(title.format(previous=report.get("previous_as_of", "?"), current=report.get("as_of") or "?"),
                 fontsize=13, pad=12)  # fmt: skip
    return ax


def _box(col: int, row: int):
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="#dd8452", linewidth=2)
