"""The CLV page's tables as people read them, in English or Chinese: headers from :mod:`analysis.i18n` (with
this stage's own in :data:`HEADERS`), models named, numbers rounded for people. The tables themselves
(``ClvResult.tables``) keep their column names and full precision; only what is shown changes with ``lang``.
One entry: :func:`page_table`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.clv.describe import TEXTS
from analysis.clv.effects import effects_page_table
from analysis.clv.likelihoods import MODEL_LABELS
from analysis.i18n import check_language, localize
from analysis.stage import Text, text

if TYPE_CHECKING:
    from analysis.clv.stage import ClvResult

# Headers of the tables this page shows, beside the shared ones of analysis.i18n.HEADERS.
HEADERS: dict[str, Text] = {
    "model": text("Model", "模型"), "parameter": text("Parameter", "参数"),
    "mae": text("MAE", "MAE"), "rmse": text("RMSE", "RMSE"), "spearman": text("Spearman", "Spearman 秩相关"),
    "total_actual": text("Actual purchases", "实际购买次数"),
    "total_predicted": text("Forecast purchases", "预测购买次数"),
    "total_error_pct": text("Error of the total %", "总数误差 %"),
    "spend_mae": text("Spend MAE", "消费 MAE"), "spend_rmse": text("Spend RMSE", "消费 RMSE"),
    "spend_total_actual": text("Actual spend", "实际消费"), "spend_total_predicted": text("Forecast spend", "预测消费"),
    "spend_total_error_pct": text("Spend error of the total %", "消费总额误差 %"),
    "penalizer": text("Penalty", "惩罚"), "log_likelihood": text("Log-likelihood", "对数似然"),
    "n_params": text("Parameters", "参数个数"), "bic": text("BIC", "BIC"),
    "status": text("Fit", "拟合"),
    "rank": text("Rank", "排名"), "estimate": text("Estimate", "估计值"), "low": text("Low", "下限"),
    "high": text("High", "上限"),
}  # fmt: skip

TABLES = ("backtest", "parameters", "selection", "top_customers", "effects")
TOP_CUSTOMERS = 20  # how many customers the page's top list shows


def page_table(result: ClvResult, name: str, lang: str = "en", n: int = TOP_CUSTOMERS) -> pd.DataFrame:
    """The page's table ``name`` as people read it, headed in ``lang``:

    - ``backtest``: the backtest's metrics, one row per model (3 decimals, money to cents); empty without one;
    - ``parameters``: the fitted parameters with their bootstrap intervals (4 decimals; the spend model's
      ``gg_p`` reads ``Gamma-Gamma p``);
    - ``selection``: the whole-period fits a model was chosen from by BIC when there was no backtest (model,
      penalty, log-likelihood, parameters, customers, BIC, fit); empty after a backtest;
    - ``top_customers``: the ``n`` most valuable customers (without amounts: the most expected purchases), ranked
      from 1, to cents (P(active) to 4 decimals);
    - ``effects``: the static covariates' effects as ratios with 95 % ranges
      (:func:`analysis.clv.effects.effects_page_table`); empty without covariates."""
    check_language(lang)
    if name not in TABLES:
        raise ValueError(f"no CLV table {name!r}: use one of {', '.join(TABLES)}")
    if name == "effects":
        return effects_page_table(result, lang)
    table = result.tables[name]
    if name == "backtest":
        table = table.rename(index=MODEL_LABELS).rename_axis("model").round(3)
        money = [c for c in table if c.startswith("spend_")]
        table[money] = table[money].round(2)
    elif name == "parameters":
        table = table.rename_axis("parameter").round(4)
        table = table.rename(index=lambda p: f"Gamma-Gamma {p[3:]}" if p.startswith("gg_") else p)
    elif name == "selection":
        table = table.assign(status=table["status"].map(TEXTS["status"][lang]))
        table = table.rename(columns={"label": "model"}).set_index("model").round(3)
    else:
        top = table.head(n) if n <= TOP_CUSTOMERS else top_customers(result.columns, result.record["amounts"], n)
        table = top.round(2).assign(p_alive=top["p_alive"].round(4))
        table = table.set_axis(pd.RangeIndex(1, len(table) + 1, name="rank"))
    return localize(table, lang, HEADERS)


def top_customers(columns: pd.DataFrame, amounts: bool, n: int = TOP_CUSTOMERS) -> pd.DataFrame:
    """The ``n`` customers of the stage's ``columns`` with the highest CLV, with their forecasts and intervals;
    without amounts, those with the most expected purchases."""
    by = "clv" if amounts else "expected_purchases"
    return columns.dropna(subset=[by]).nlargest(n, by).reset_index(drop=True)
