"""The churn page in Chinese: every chart text, table header and sentence in the page's language (a missing
glyph is an error), and the early-warning sentence masked when the page masks personal data."""

import re

import pandas as pd
import pytest

from analysis import churn, clv
from analysis.config import deep_merge
from analysis.stage import Frames
from analysis.tables import markdown_text
from tests.language import CJK, SNAKE_CASE, assert_chinese, draw_strictly

FAST = {"churn": {"evaluation": {"bootstrap": 10, "importance_repeats": 1, "importance_max_customers": 1000},
                  "gradient_boosting": {"max_iter": 20}}}  # fmt: skip


@pytest.fixture(scope="module")
def run():
    from analysis.config import load_config

    tx = clv.simulate_transactions(600, seed=11)
    ids = sorted(tx["customer_id"].astype(str).unique())
    customers = pd.DataFrame({"customer_id": ids, "customer_name": [f"Alice Zhang{i}" for i in range(len(ids))]})
    return churn.run(Frames(tx, as_of="2023-12-31", customers_table=customers), deep_merge(load_config(), FAST))


def test_every_chart_is_chinese_with_lang_zh(run):
    texts = churn.plots.TEXTS
    t = run.tables
    charts = {
        "auc": lambda: churn.plots.plot_auc_comparison(t["metrics"], lang="zh"),
        "reliability": lambda: churn.plots.plot_reliability(t["reliability"], lang="zh"),
        "gains": lambda: churn.plots.plot_gains(t["gains"], lang="zh"),
        "importance": lambda: churn.plots.plot_importance(t["importance"], lang="zh"),
        "bands": lambda: churn.plots.plot_bands(t["bands"], lang="zh"),
    }
    titles = ("auc_title", "reliability_title", "gains_title", "importance_title", "bands_title")
    english = [texts[k]["en"] for k in titles]
    for draw in charts.values():
        assert_chinese(draw_strictly(draw), english)


def test_every_feature_has_a_chinese_name():
    for feature in churn.plots.FEATURES:
        assert CJK.search(churn.plots.feature_label(feature, "zh")), feature
    assert churn.plots.feature_label("attr_country=DE", "zh") == "国家 = DE"


def test_tables_have_chinese_headers_and_names(run):
    for name in ("metrics", "gains", "bands", "warning_list", "lifecycle"):
        frame = churn.show.page_table(run, name, "zh").data
        headers = [str(c) for c in frame.columns] + [str(frame.index.name or ""), str(frame.columns.name or "")]
        assert not [h for h in headers if SNAKE_CASE.match(h)], (name, headers)
        assert all(CJK.search(h) or h in ("", "ROC-AUC", "PR-AUC") for h in headers), (name, headers)
    assert all(CJK.search(n) for n in churn.show.page_table(run, "metrics", "zh").data.index)
    assert list(churn.show.page_table(run, "bands", "zh").data.index) == ["高风险", "中风险", "低风险"]
    lifecycle = churn.show.page_table(run, "lifecycle", "zh").data
    assert all(CJK.search(s) for s in [*lifecycle.index, *lifecycle.columns])
    english = churn.show.page_table(run, "metrics", "en").data
    assert "ROC-AUC" in english.columns and "roc_auc" not in english.columns and "Kind" in english.columns


def test_sentences_are_chinese(run):
    describe = churn.describe
    for text in (run.summary("zh"), describe.choice_markdown(run, "zh"), describe.details_markdown(run, "zh"),
                 describe.list_markdown(run, "zh"), describe.disagreements_markdown(run, "zh")):  # fmt: skip
        assert CJK.search(text) and not re.search(r"\b(the|customers|score|risk|Caution)\b", text), text


def test_every_text_is_keyed_by_id_with_both_languages_and_the_same_placeholders():
    """Each catalogue of sentences, chart texts, headers and names: ``{id: {en, zh}}``, both written, naming the
    same numbers (a Chinese template that left one out would say less than the English)."""
    import string

    def names(template):
        return sorted(n for _, n, _, _ in string.Formatter().parse(template) if n)

    catalogues = {"describe.TEXTS": churn.describe.TEXTS, "describe.MEANINGS": churn.describe.MEANINGS,
                  "describe.METRIC_NAMES": churn.describe.METRIC_NAMES, "describe.BETTER": churn.describe.BETTER,
                  "plots.TEXTS": churn.plots.TEXTS, "plots.FEATURES": churn.plots.FEATURES,
                  "plots.ATTRIBUTES": churn.plots.ATTRIBUTES, "show.HEADERS": churn.show.HEADERS,
                  "show.KINDS": churn.show.KINDS, "MODEL_NAMES": churn.MODEL_NAMES}  # fmt: skip
    for where, catalogue in catalogues.items():
        for key, text in catalogue.items():
            assert set(text) == {"en", "zh"} and text["en"] and text["zh"], (where, key)
            assert names(text["en"]) == names(text["zh"]), (where, key)
            chinese = CJK.search(text["zh"]) or re.search("[\u3000-\u303f\uff00-\uffef]", text["zh"])  # or its commas
            assert chinese or text["zh"] == text["en"], (where, key)  # ROC-AUC is ROC-AUC


def test_the_warning_sentence_masks_names_and_ids_when_asked(run):
    table = run.tables["warning_list"]
    first = table.head(5)
    plain = churn.describe.list_markdown(run, "en", mask=False)
    assert all(name in plain for name in first["customer_name"])
    for lang in ("en", "zh"):
        masked = churn.describe.list_markdown(run, lang, mask=True)
        raw = [*table["customer_name"], *table["customer_id"]]
        assert not [v for v in raw if re.search(rf"\b{re.escape(v)}\b", masked)], masked
        assert markdown_text("A**** Z*****") in masked  # the names, masked (their stars escaped for Markdown)
