"""Charts for the CLV report. Each takes data from :mod:`analysis.clv` and ``ax=None``, draws one
figure and returns the Axes. Titles and labels say what the chart means to a business reader, in the
page's language (``lang``: ``en`` or ``zh``; the texts are in :data:`TEXTS`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from analysis.clv.likelihoods import MODEL_LABELS
from analysis.i18n import check_language
from analysis.plotting import new_axes as _axes
from analysis.plotting import thousands as _thousands

MODEL_STYLES = {"bgnbd": "--", "pareto": "-.", "mbgnbd": ":", "bgnbd_cov": "--", "pareto_cov": "-.", "mbgnbd_cov": ":"}

# Every text a chart shows, by message id, in each language. Model names (BG/NBD, ...) and CLV stay as they are.
TEXTS = {
    "actual": {"en": "actual", "zh": "实际"},
    "model": {"en": "model", "zh": "模型"},
    "customers": {"en": "customers", "zh": "客户数"},
    "hist_x": {"en": "repeat purchases in the observation period", "zh": "观察期内的重复购买次数"},
    "hist_title": {"en": "Does the model reproduce how often customers come back?",
                   "zh": "模型能否再现客户回购的频率？"},
    "matrix_x": {"en": "repeat purchases (frequency)", "zh": "重复购买次数（频次）"},
    "matrix_y": {"en": "{unit} from first to last purchase (recency; top = recent)",
                 "zh": "首次到末次购买相隔{unit}（最近度；越上越近）"},
    "p_alive": {"en": "Probability a customer is still active", "zh": "客户仍活跃的概率"},
    "p_alive_bar": {"en": "P(active)", "zh": "仍活跃概率"},
    "expected_purchases": {"en": "Expected purchases in the next {months} months",
                           "zh": "未来 {months} 个月的预期购买次数"},
    "expected_purchases_bar": {"en": "expected purchases", "zh": "预期购买次数"},
    "holdout": {"en": " holdout: forecast vs actual", "zh": " 验证期：预测对比实际"},
    "tracking_y": {"en": "repeat purchases (cumulative)", "zh": "累计重复购买次数"},
    "tracking_title": {"en": "Tracking: forecast against what customers actually did",
                       "zh": "跟踪：预测与客户实际购买对比"},
    "cond_x": {"en": "repeat purchases in the calibration period", "zh": "校准期内的重复购买次数"},
    "cond_y": {"en": "average purchases in the holdout period", "zh": "验证期内的平均购买次数"},
    "cond_title": {"en": "Are frequent buyers forecast correctly?", "zh": "常购客户的预测准确吗？"},
    "no_amounts": {"en": "No CLV in currency: the input has no amounts", "zh": "无货币 CLV：输入数据没有金额"},
    "median": {"en": " median {median:,.2f}", "zh": " 中位数 {median:,.2f}"},
    "dist_x": {"en": "customer lifetime value (log scale)", "zh": "客户终身价值（对数刻度）"},
    "dist_title": {"en": "Most customers are worth little; a few are worth a lot",
                   "zh": "多数客户价值不高，少数客户价值很高"},
    "clv": {"en": "CLV", "zh": "客户终身价值"},
    "interval": {"en": "uncertainty interval", "zh": "不确定区间"},
    "top_x": {"en": "customer lifetime value", "zh": "客户终身价值"},
    "top_title": {"en": "The {n} most valuable customers", "zh": "价值最高的 {n} 位客户"},
    "units": {"en": {"weeks": "weeks", "days": "days"}, "zh": {"weeks": "周数", "days": "天数"}},
}  # fmt: skip


def _texts(lang: str) -> dict:
    """Every chart text in ``lang``, by message id."""
    check_language(lang)
    return {key: text[lang] for key, text in TEXTS.items()}


def plot_repeat_histogram(
    hist: pd.DataFrame, model_label: str | None = None, ax: Axes | None = None, lang: str = "en"
) -> Axes:
    """Customers by number of repeat purchases, actual vs the model (``model_label``, e.g. "BG/NBD")
    (:func:`analysis.clv.repeat_purchase_histogram`)."""
    t = _texts(lang)
    ax = _axes(ax)
    x = np.arange(len(hist))
    ax.bar(x - 0.2, hist["actual"], width=0.4, label=t["actual"], color="#4c72b0")
    ax.bar(x + 0.2, hist["model"], width=0.4, label=model_label or t["model"], color="#dd8452")
    ax.set_xticks(x, hist.index)
    ax.set_xlabel(t["hist_x"])
    ax.set_ylabel(t["customers"])
    ax.set_title(t["hist_title"])
    _thousands(ax)
    ax.legend()
    return ax


def plot_matrix(
    matrix: pd.DataFrame,
    what: str = "p_alive",
    horizon_months: int = 12,
    ax: Axes | None = None,
    time_unit: str = "weeks",
    lang: str = "en",
) -> Axes:
    """A frequency x recency heat map of ``what`` (``p_alive``, or ``expected_purchases`` over the next
    ``horizon_months``) (:func:`analysis.clv.frequency_recency_matrix`); recency in ``time_unit``."""
    t = _texts(lang)
    if what not in ("p_alive", "expected_purchases"):
        raise ValueError("what must be 'p_alive' or 'expected_purchases'")
    percent = what == "p_alive"
    ax = _axes(ax, (7, 5.5))
    image = ax.imshow(
        matrix.to_numpy(), aspect="auto", cmap="viridis", origin="upper", vmin=0, vmax=1 if percent else None
    )
    cols, rows = matrix.columns.to_numpy(), matrix.index.to_numpy()
    xt = np.linspace(0, len(cols) - 1, min(len(cols), 7)).round().astype(int)
    yt = np.linspace(0, len(rows) - 1, min(len(rows), 6)).round().astype(int)
    ax.set_xticks(xt, [f"{cols[i]:g}" for i in xt])
    ax.set_yticks(yt, [f"{rows[i]:.0f}" for i in yt])
    ax.set_xlabel(t["matrix_x"])
    ax.set_ylabel(t["matrix_y"].format(unit=t["units"][time_unit]))
    ax.set_title(t[what].format(months=horizon_months))
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(t[f"{what}_bar"])
    if percent:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return ax


def plot_tracking(tracking: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Cumulative repeat purchases week by week: actual vs each model, with the end of the
    calibration period marked (:func:`analysis.clv.tracking_data`)."""
    t = _texts(lang)
    ax = _axes(ax)
    ax.plot(tracking["week_end"], tracking["actual"], color="black", lw=2, label=t["actual"])
    for name in MODEL_LABELS:
        if name in tracking:
            ax.plot(tracking["week_end"], tracking[name], MODEL_STYLES[name], label=MODEL_LABELS[name])
    cal = tracking.loc[tracking["calibration"], "week_end"]
    if len(cal):
        ax.axvline(cal.max(), color="grey", lw=1)
        ax.annotate(t["holdout"], (cal.max(), ax.get_ylim()[1] * 0.05), color="grey")
    ax.set_ylabel(t["tracking_y"])
    ax.set_title(t["tracking_title"])
    _thousands(ax)
    ax.legend(loc="upper left")
    return ax


def plot_conditional_expectation(conditional: pd.DataFrame, ax: Axes | None = None, lang: str = "en") -> Axes:
    """Average holdout purchases by calibration frequency, actual vs each model
    (:func:`analysis.clv.conditional_expectation_data`)."""
    t = _texts(lang)
    ax = _axes(ax)
    x = np.arange(len(conditional))
    ax.plot(x, conditional["actual"], "o-", color="black", lw=2, label=t["actual"])
    for name in MODEL_LABELS:
        if name in conditional:
            ax.plot(x, conditional[name], MODEL_STYLES[name], marker=".", label=MODEL_LABELS[name])
    ax.set_xticks(x, conditional.index)
    ax.set_xlabel(t["cond_x"])
    ax.set_ylabel(t["cond_y"])
    ax.set_title(t["cond_title"])
    ax.legend(loc="upper left")
    return ax


def _no_amounts(ax: Axes, t: dict) -> None:
    ax.text(0.5, 0.5, t["no_amounts"], ha="center", va="center", transform=ax.transAxes)


def plot_clv_distribution(clv: pd.Series, ax: Axes | None = None, bins: int = 50, lang: str = "en") -> Axes:
    """How customer lifetime value is spread across customers (log scale: most customers are
    worth little, a few a lot). The scale starts at the 1st percentile: the few customers below it (worth
    next to nothing) are counted in the first bar, so they do not stretch the axis over empty decades."""
    t = _texts(lang)
    ax = _axes(ax)
    values = clv.dropna()
    values = values[values > 0]
    if len(values):
        values = values.clip(lower=values.quantile(0.01))
        edges = np.logspace(np.log10(values.min()), np.log10(values.max()), bins)
        ax.hist(values, bins=edges, color="#4c72b0")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        median = values.median()
        ax.axvline(median, color="black", lw=1)
        ax.annotate(t["median"].format(median=median), (median, ax.get_ylim()[1] * 0.9))
    elif clv.isna().all():
        _no_amounts(ax, t)
    ax.set_xlabel(t["dist_x"])
    ax.set_ylabel(t["customers"])
    ax.set_title(t["dist_title"])
    _thousands(ax)
    return ax


def customer_labels(customers: pd.DataFrame) -> pd.Series:
    """How a chart names each customer: "name (id)" when the table has a ``customer_name``, else the id.
    Pass the table through :func:`analysis.privacy.for_pages` first to show masked names and ids."""
    ids = customers["customer_id"].astype(str)
    if "customer_name" not in customers:
        return ids
    names = customers["customer_name"]
    named = names.map(lambda v: isinstance(v, str) and bool(v.strip()))
    return ids.where(~named, names.astype(str).str.strip() + " (" + ids + ")")


def plot_top_customers(customers: pd.DataFrame, n: int = 20, ax: Axes | None = None, lang: str = "en") -> Axes:
    """The ``n`` customers with the highest CLV and their intervals (``customer_id``, ``clv``,
    ``clv_low``, ``clv_high``, and ``customer_name`` when present), named by :func:`customer_labels`."""
    t = _texts(lang)
    top = customers.dropna(subset=["clv"]).nlargest(n, "clv").iloc[::-1]
    ax = _axes(ax, (8, max(3.0, 0.3 * len(top) + 1)))
    if top.empty:
        _no_amounts(ax, t)
        return ax
    y = np.arange(len(top))
    ax.barh(y, top["clv"], color="#4c72b0", label=t["clv"])
    if top[["clv_low", "clv_high"]].notna().all().all():
        err = np.vstack([(top["clv"] - top["clv_low"]).clip(lower=0), (top["clv_high"] - top["clv"]).clip(lower=0)])
        ax.errorbar(top["clv"], y, xerr=err, fmt="none", ecolor="black", capsize=3, label=t["interval"])
    ax.set_yticks(y, customer_labels(top))
    ax.set_xlabel(t["top_x"])
    ax.set_title(t["top_title"].format(n=len(top)))
    _thousands(ax, "x")
    ax.legend(loc="lower right")
    return ax


def plot_effects(effects: pd.DataFrame, model: str = "pareto", ax: Axes | None = None, lang: str = "en") -> Axes:
    """The static covariates' effects (:func:`analysis.clv.covariate_run.effects_table`: ``process``,
    ``column``, ``ratio``, ``low``, ``high``) as a ratio against the reference with its 95 % range, one row per
    coefficient, purchase (how often) and dropout (how long; for BG/NBD, MBG/NBD the factor on a and b) in two
    colours, on a log scale centred on 1 (no difference), each row's ratio written beside it."""
    check_language(lang)
    from analysis.clv.covariate_texts import TEXTS as COVARIATE_TEXTS

    t = {k: v[lang] for k, v in COVARIATE_TEXTS.items() if k.startswith("chart_")}
    rows = effects.iloc[::-1]
    ax = _axes(ax, (9, 1.2 + 0.55 * max(len(rows), 1)))
    if rows.empty:
        return ax
    y = np.arange(len(rows))
    names = {"trans": t["chart_trans"], "life": t["chart_life"] if model == "pareto" else t["chart_life_bg"]}
    colours = {"trans": "#4c72b0", "life": "#dd8452"}
    for k, (_, row) in enumerate(rows.iterrows()):
        colour = colours[row["process"]]
        err = [[max(row["ratio"] - row["low"], 0.0)], [max(row["high"] - row["ratio"], 0.0)]]
        ax.errorbar([row["ratio"]], [k], xerr=err, fmt="o", color=colour, ecolor=colour, capsize=4, lw=2)
        ax.annotate(f"{row['ratio']:.2f}×", (row["ratio"], k), xytext=(0, 7), textcoords="offset points",
                    ha="center", color=colour, fontsize=9)  # fmt: skip
    span = float(np.nanmax(np.abs(np.log(rows[["low", "high"]].to_numpy(float).clip(1e-6)))))
    span = min(max(span * 1.15, np.log(1.25)), np.log(1e4))
    ax.set_xscale("log")
    ax.set_xlim(np.exp(-span), np.exp(span))
    ticks = [v for v in (0.1, 0.2, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 5, 10) if abs(np.log(v)) <= span]
    ax.set_xticks(ticks, [f"{v:g}×" for v in ticks])
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.axvline(1.0, color="grey", lw=1)
    labels = [f"{c.replace('=', ': ', 1)}\n{names[p]}" for c, p in zip(rows["column"], rows["process"], strict=True)]
    ax.set_yticks(y, labels)
    for label, process in zip(ax.get_yticklabels(), rows["process"], strict=True):
        label.set_color(colours[process])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel(t["chart_x"])
    ax.set_title(t["chart_title"])
    return ax
