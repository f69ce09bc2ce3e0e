"""The static covariates' effects as the CLV page and the managers' summary tell them, in English or Chinese
(issue 20): a sentence per covariate ("customers with country France buy 1.87× as often (1.51–2.31) and stay
active 2.2× as long (…)"), the likelihood-ratio test in one sentence, the table of effects. The numbers come
from the record's ``covariates`` entry (:func:`analysis.clv.covariate_run.covariates_entry`); the words from
:mod:`analysis.clv.covariate_texts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.clv.covariate_texts import TEXTS, say
from analysis.i18n import check_language, localize
from analysis.stage import Text, text
from analysis.tables import markdown_text

if TYPE_CHECKING:
    from analysis.clv.stage import ClvResult

HEADERS: dict[str, Text] = {
    "covariate": text("Covariate", "协变量"),
    "process": text("Changes", "影响"),
    "ratio": text("× (ratio)", "倍数"),
    "low": text("Low (95%)", "下限（95%）"),
    "high": text("High (95%)", "上限（95%）"),
    "p_value": text("p-value", "p 值"),
}


def who(column: str, references: dict[str, str], lang: str) -> tuple[str, str]:
    """Who a coefficient's column is about and its reference: ``country=France`` -> the customers with country
    France, against the reference level; a numeric column: one unit more of it. Names and levels come from the
    data: escaped for the page's Markdown (:func:`analysis.tables.markdown_text`), they show as written."""
    if "=" in column:
        name, level = column.split("=", 1)
        reference = references.get(name, "")
        vs = say("vs", lang, reference=markdown_text(reference)) if reference else ""
        return say("who_level", lang, column=markdown_text(name), level=markdown_text(level)), vs
    return say("who_number", lang, column=markdown_text(column)), ""


def column_sentence(column: str, effects: dict[str, dict[str, Any]], entry: dict[str, Any], lang: str) -> str:
    """One covariate column's effects in a sentence: how often (purchase) and how long (dropout), whichever it
    is in."""
    person, vs = who(column, entry["references"], lang)
    parts = []
    if "trans" in effects:
        parts.append(say("buy", lang, who=person, vs=vs, **numbers(effects["trans"])))
    if "life" in effects:
        key = "stay" if entry["model"] == "pareto" else "stay_bg"
        life = say(key, lang, **numbers(effects["life"]))
        parts.append(life if parts else f"{person}{vs}{' ' if lang == 'en' else ''}{life}")
    return TEXTS["and"][lang].join(parts)


def numbers(effect: dict[str, Any]) -> dict[str, float]:
    return {"ratio": effect["ratio"], "low": effect["low"], "high": effect["high"]}


def by_column(entry: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The effects of the record's entry grouped by covariate column, then process, in the record's order."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for effect in entry.get("effects") or []:
        out.setdefault(effect["column"], {})[effect["process"]] = effect
    return out


def lr_sentence(entry: dict[str, Any], lang: str) -> str:
    """The likelihood-ratio test in one sentence (empty when there was none)."""
    test = entry.get("lr_test")
    if not test:
        return ""
    key = "lr_yes" if test["p_value"] < 0.05 else "lr_no"
    words = say(key, lang, statistic=test["statistic"], df=test["df"], p=test["p_value"])
    return words + (say("penalised", lang, penalty=entry["penalty"]) if entry["penalty"] else "")


def effects_markdown(result: ClvResult, lang: str = "en") -> str:
    """The page's words on the covariates in ``lang``: where the effects come from, one line per covariate,
    the likelihood-ratio test; how to name covariates when the run names none."""
    check_language(lang)
    entry = result.record.get("covariates")
    if not entry:
        return say("none_named", lang)
    if not entry.get("effects"):
        return say("no_effects", lang)
    lead = say("from_full" if entry["effects_from"] == "full" else "from_calibration", lang, label=entry["label"])
    lines = [lead, ""]
    for column, effects in by_column(entry).items():
        lines.append(say("effect", lang, words=column_sentence(column, effects, entry, lang)))
    return "\n".join([*lines, "", lr_sentence(entry, lang)])


def summary_line(record: dict[str, Any], lang: str) -> str | None:
    """The managers' bullet on the covariates: the clearest effect (the smallest p-value) and the test; None
    when the run names no covariate or none could be fitted."""
    entry = record.get("covariates")
    if not entry or not entry.get("effects"):
        return None
    best = min(entry["effects"], key=lambda e: e["p_value"] if e["p_value"] == e["p_value"] else 2.0)
    column = best["column"]
    sentence = column_sentence(column, by_column(entry)[column], entry, lang)
    return say("summary", lang, effect=sentence, lr=lr_sentence(entry, lang))


def effects_page_table(result: ClvResult, lang: str = "en") -> pd.DataFrame:
    """The effects as the page shows them: one row per coefficient (covariate, what it changes, the ratio and
    its 95 % range to 2 decimals, the p-value to 2 significant digits), headed in ``lang``; empty without covariates."""
    check_language(lang)
    table = result.tables["effects"]
    process = TEXTS["process"][lang]
    out = pd.DataFrame(
        {
            "covariate": table["column"].to_numpy(),
            "process": [process[p] for p in table["process"]],
            "ratio": table["ratio"].astype(float).round(2).to_numpy(),
            "low": table["low"].astype(float).round(2).to_numpy(),
            "high": table["high"].astype(float).round(2).to_numpy(),
            "p_value": [f"{p:.2g}" for p in table["p_value"].astype(float)],
        }
    )
    return localize(out.set_index("covariate"), lang, HEADERS)
