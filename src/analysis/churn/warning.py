"""Early warning: risk bands, value at risk, the list a retention team calls first, and how the risk bands
agree with the lifecycle stages of the segments page.

- Risk bands (``churn.bands``): by probability (``churn_risk >= high`` is high, ``>= medium`` medium) or by
  top share (the riskiest ``high`` share of buyers is high, the riskiest ``medium`` share (cumulative)
  medium). Customers without a purchase get the band "no purchase yet" and no risk.
- Value at risk = churn probability x CLV (the CLV stage's 12-month value) or, where CLV is missing,
  x the spend of the last 365 days up to the as-of date.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

from analysis import privacy
from analysis.errors import UserError
from analysis.i18n import check_language
from analysis.tables import markdown_text, text_column

BAND_ORDER = ("high", "medium", "low", "no_purchase")


def band_codes(risk: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """Band per customer as a position in :data:`BAND_ORDER` (high, medium, low; no_purchase where ``risk``
    is NaN)."""
    method = cfg.get("method", "probability")
    high, medium = float(cfg.get("high", 0.7)), float(cfg.get("medium", 0.4))
    p = np.asarray(risk, float)
    has = np.isfinite(p)
    if method == "probability":
        if not 0 <= medium <= high <= 1:
            raise UserError("churn.bands with method probability need 0 <= medium <= high <= 1")
        code = np.where(p >= high, 0, np.where(p >= medium, 1, 2))
    elif method == "top_share":
        if not 0 <= high <= medium <= 1:
            raise UserError("churn.bands with method top_share need 0 <= high <= medium <= 1 (shares of buyers)")
        rank = pd.Series(p).where(has).rank(ascending=False, method="first").to_numpy()
        n = max(int(has.sum()), 1)
        code = np.where(rank <= round(high * n), 0, np.where(rank <= round(medium * n), 1, 2))
    else:
        raise UserError(f"unknown churn.bands.method {method!r}: use probability or top_share")
    return np.where(has, code, 3).astype(np.int8)


def risk_bands(risk: pd.Series, cfg: dict[str, Any]) -> pd.Series:
    """Band key per customer (high, medium, low; no_purchase where ``risk`` is NaN)."""
    return pd.Series(text_column(BAND_ORDER, band_codes(risk.to_numpy(float), cfg)), index=risk.index)


def band_labels(keys: pd.Series, cfg: dict[str, Any]) -> tuple[pd.Series, pd.Series]:
    """English and Chinese labels of band keys (``churn.bands.labels``)."""
    en, zh = _band_names(cfg)
    return keys.map(dict(zip(BAND_ORDER, en, strict=True))), keys.map(dict(zip(BAND_ORDER, zh, strict=True)))


def band_texts(codes: np.ndarray, cfg: dict[str, Any]) -> tuple[ExtensionArray, ExtensionArray]:
    """English and Chinese labels per customer of the band ``codes`` (:func:`band_codes`)."""
    en, zh = _band_names(cfg)
    return text_column(en, codes), text_column(zh, codes)


def _band_names(cfg: dict[str, Any]) -> tuple[list[str], list[str]]:
    labels = cfg.get("labels") or {}
    return [(labels.get(k) or [k, k])[0] for k in BAND_ORDER], [(labels.get(k) or [k, k])[1] for k in BAND_ORDER]


def yearly_spend(daily, as_of: Any) -> np.ndarray:
    """Each customer's spend in the 365 days up to ``as_of``, per customer of ``daily`` (its ``ids``)."""
    from analysis.churn.features import to_day

    end = to_day(as_of)
    keep = (daily.day <= end) & (daily.day > end - 365)
    return np.bincount(daily.customer[keep], weights=daily.spend[keep], minlength=daily.n_customers)


def value_at_risk(risk: pd.Series, clv: pd.Series | None, spend: pd.Series) -> tuple[pd.Series, pd.Series]:
    """churn risk x CLV, or x past yearly spend where CLV is missing; and which value was used."""
    base = spend.reindex(risk.index).fillna(0.0)
    source = pd.Series("yearly spend", index=risk.index)
    if clv is not None:
        c = clv.reindex(risk.index)
        use = c.notna()
        base = base.where(~use, c)
        source = source.where(~use, "clv")
    return risk * base, source


# What the segments page says of a customer, shown beside their risk when it ran.
CONTEXT_COLUMNS = ("tier", "tier_zh", "lifecycle_stage", "lifecycle_stage_zh", "recommended_action",
                   "recommended_action_zh")


def warning_list(table: pd.DataFrame, size: int = 30) -> pd.DataFrame:
    """The high-risk customers ranked by value at risk, with their name (when the input has one), reasons and
    (when present) tier, lifecycle stage and the playbook's recommended action."""
    cols = ["customer_id", "customer_name", "churn_risk", "value_at_risk", "churn_reasons", "churn_reasons_zh",
            *CONTEXT_COLUMNS]  # fmt: skip
    rows = np.flatnonzero((table["risk_band_key"] == "high").to_numpy())
    value = table["value_at_risk"].to_numpy(float)[rows]
    by = "value_at_risk" if (~np.isnan(value)).any() else "churn_risk"  # no amounts: by risk
    value = table[by].to_numpy(float)[rows]
    known = value[~np.isnan(value)]
    if len(known) > size:  # only the candidates (ties at the cut included) are taken and sorted, not everyone
        rows = rows[value >= np.partition(known, len(known) - size)[len(known) - size]]
    ranked = _rows(table, rows).sort_values([by, "customer_id"], ascending=[False, True])
    return ranked[[c for c in cols if c in ranked]].head(size).reset_index(drop=True)


def _rows(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``table.iloc[rows]`` (``rows``: increasing positions), taken chunk by chunk from the columns held in
    Arrow chunks (texts read from Parquet, the reasons): pandas joins all of a column's chunks before it takes
    rows from it, a copy of ten million customers' texts for a list of 30."""
    out = {}
    for name, values in table.items():
        array = values.array
        chunks = array.__arrow_array__() if isinstance(array, pd.arrays.ArrowExtensionArray) else None
        if chunks is None or chunks.num_chunks < 2:
            out[name] = array.take(rows)
            continue
        ends = np.cumsum([len(chunk) for chunk in chunks.chunks])
        which = np.searchsorted(ends, rows, side="right")  # the chunk of each row
        parts = [chunks.chunk(i).take(pa.array(rows[which == i] - (ends[i] - len(chunks.chunk(i)))))
                 for i in np.unique(which)]  # fmt: skip
        out[name] = pd.array(pa.chunked_array(parts, chunks.type), dtype=values.dtype)
    return pd.DataFrame(out, index=table.index[rows])


TEXTS = {
    "en": {
        "agree": "_Lifecycle stages and risk bands agree._",
        "no_amounts": "The input has no amounts, so there is no value at risk: the {list_size} customers below are "
                      "the {high_risk_customers:,} high-risk customers' riskiest, ranked by churn risk.",
        "coverage": "The {list_size} customers below hold {list_value_at_risk:,.0f} of value at risk, "
                    "{list_share_of_total:.1%} of the total; all {high_risk_customers:,} high-risk customers "
                    "hold {high_share_of_total:.1%}.",
        "first": "Call first: {names}.",
        "who": "**{who}** ({value})",
        "value": "{v:,.0f} at risk",
        "risk": "risk {v:.0%}",
        "sep": ", ",
        "none": "No customer is at high risk today.",
    },
    "zh": {
        "agree": "_生命周期阶段与风险等级一致。_",
        "no_amounts": "数据没有金额，因此没有风险价值：下表 {list_size} 位客户是 {high_risk_customers:,} "
                      "位高风险客户中风险最高者，按流失风险排序。",
        "coverage": "下表 {list_size} 位客户的风险价值合计 {list_value_at_risk:,.0f}，占全部风险价值的 "
                    "{list_share_of_total:.1%}；全部 {high_risk_customers:,} 位高风险客户占 "
                    "{high_share_of_total:.1%}。",
        "first": "优先联系：{names}。",
        "who": "**{who}**（{value}）",
        "value": "风险价值 {v:,.0f}",
        "risk": "风险 {v:.0%}",
        "sep": "、",
        "none": "目前没有高风险客户。",
    },
}  # fmt: skip


def disagreements_markdown(disagreements: list[dict], lang: str = "en") -> str:
    """The lifecycle stage x risk band combinations where the two signals disagree, one line each with what it
    means (or a sentence saying they agree), in ``lang``."""
    zh = check_language(lang) == 1
    lines = []
    for d in disagreements:
        stage = d.get("lifecycle_stage_zh", d["lifecycle_stage"]) if zh else d["lifecycle_stage"]
        band = d.get("risk_band_zh" if zh else "risk_band_label", d["risk_band"])
        meaning = d.get("meaning_zh", d["meaning"]) if zh else d["meaning"]
        stage, band, meaning = markdown_text(stage), markdown_text(band), markdown_text(meaning)
        lines.append(f"- **{stage} x {band}** ({d['customers']:,}): {meaning}" if not zh
                     else f"- **{stage} × {band}**（{d['customers']:,} 位）：{meaning}")  # fmt: skip
    return "\n".join(lines) or TEXTS[lang]["agree"]


def list_markdown(coverage: dict, table: pd.DataFrame | None = None, lang: str = "en", mask: bool = False,
                  first: int = 5) -> str:  # fmt: skip
    """How much value at risk the early-warning list covers (or, without amounts, that the list is ranked by
    churn risk alone), then, given the list ``table``, the ``first`` customers to call by name (their id when
    the input has no names), masked when ``mask`` (:func:`analysis.privacy.for_pages`). Names and ids are the
    data's: escaped, they show as written (:func:`analysis.tables.markdown_text`), never as markup."""
    check_language(lang)
    t, w = TEXTS[lang], coverage
    text = t["coverage" if w.get("total_value_at_risk") else "no_amounts"].format(**w)
    if table is None:
        return text
    if not len(table):
        return f"{text}\n\n{t['none']}"
    shown = privacy.for_pages(table.head(first), mask)
    names = shown["customer_name"] if "customer_name" in shown else pd.Series(np.nan, index=shown.index)
    who = names.where(names.notna() & (names.astype(str).str.strip() != ""), shown["customer_id"])
    money = bool(w.get("total_value_at_risk"))
    values = [t["value"].format(v=v) if money else t["risk"].format(v=r)
              for v, r in zip(shown["value_at_risk"], shown["churn_risk"], strict=True)]  # fmt: skip
    people = t["sep"].join(t["who"].format(who=markdown_text(n), value=v) for n, v in zip(who, values, strict=True))
    return f"{text}\n\n{t['first'].format(names=people)}"


def list_coverage(table: pd.DataFrame, size: int) -> dict[str, float]:
    """How much value at risk the first ``size`` high-risk customers, and all high-risk customers, hold."""
    total = float(table["value_at_risk"].sum())
    high = table.loc[table["risk_band_key"] == "high", "value_at_risk"].sort_values(ascending=False)
    top = float(high.head(size).sum())
    return {
        "list_size": int(min(size, len(high))),
        "list_value_at_risk": top,
        "high_risk_customers": int(len(high)),
        "high_value_at_risk": float(high.sum()),
        "total_value_at_risk": total,
        "list_share_of_total": top / total if total > 0 else float("nan"),
        "high_share_of_total": float(high.sum()) / total if total > 0 else float("nan"),
    }


DISAGREEMENTS = {  # (lifecycle stage, risk band): what it means, in English and Chinese
    ("churned", "low"): (
        "lifecycle says churned but the model sees low risk: they bought rarely before and "
        "may still be on their usual rhythm; believe the model, check before writing them off",
        "按生命周期已流失，但模型认为风险低：他们以前就很少购买，可能仍在自己的节奏上；以模型为准，"
        "放弃之前先核实",
    ),
    ("dormant", "low"): (
        "lifecycle says dormant but risk is low: a pause the model considers normal for them",
        "按生命周期已沉睡，但风险低：模型认为这样的停顿对他们来说是正常的",
    ),
    ("active", "high"): (
        "lifecycle says active but the model sees high risk: recent buyers whose history (one "
        "purchase, falling spend) says they rarely come back; act now",
        "按生命周期仍活跃，但模型认为风险高：最近买过，但其历史（只买过一次、消费下降）显示很少回头；"
        "请立即行动",
    ),
    ("new", "high"): (
        "new customers at high risk: most first-time buyers never return; onboard them now",
        "高风险的新客户：多数首次购买的客户不会再来；请立即做新客引导",
    ),
}


def lifecycle_crosstab(
    stage: pd.Series, band: pd.Series, order: list[str] | None = None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Customers by lifecycle stage (rows, in ``order`` when given, others after it) x risk band (columns), and
    the disagreements that occur."""
    table = pd.crosstab(stage.rename("lifecycle_stage"), band.rename("risk_band"))
    rows = [s for s in (order or []) if s in table.index]
    table = table.reindex(index=rows + sorted(s for s in table.index if s not in rows),
                          columns=[b for b in BAND_ORDER if b in table.columns])  # fmt: skip
    found = []
    for (s, b), (text, text_zh) in DISAGREEMENTS.items():
        n = int(table.loc[s, b]) if s in table.index and b in table.columns else 0
        if n:
            found.append({"lifecycle_stage": s, "risk_band": b, "customers": n, "meaning": text,
                          "meaning_zh": text_zh})  # fmt: skip
    return table, found
