"""The segments page's tables and sentences in the page's language: groups, headers, actions and the managers'
summary in Chinese on a Chinese page, in English (with the 八类客户 names as they are) on an English one."""

import re

import pandas as pd
import pytest

from analysis import segments
from analysis.data.features import customer_features
from tests.language import has_chinese
from tests.segments.test_segments import AS_OF, run_on, tx_from

HISTORIES = {
    "big": [("2024-10-01", 900.0), ("2024-11-01", 900.0), ("2024-12-01", 900.0)],
    "mid": [("2024-06-01", 100.0), ("2024-07-01", 100.0)],
    "small": [("2023-01-05", 10.0)],
    "new": [("2024-12-20", 50.0)],
}



@pytest.fixture(scope="module")
def features():
    return customer_features(tx_from(HISTORIES), AS_OF)


@pytest.fixture(scope="module")
def settings():
    from analysis.config import load_config

    return load_config()


@pytest.fixture(scope="module")
def run(features, settings):
    return run_on(features.assign(region=["华东", "华东", "华南", None]), settings)


def test_summary_tables_name_groups_and_headers_in_the_page_language(run):
    zh = segments.show.page_table(run, "tiers", "zh").data
    assert list(zh.index) == run.tables["tiers"]["label_zh"].tolist()  # the configured order, named in Chinese
    assert zh.index.name == "等级" and list(zh.columns)[:4] == ["客户数", "客户占比", "价值", "价值占比"]
    assert all(has_chinese(c) for c in zh.columns)
    en = segments.show.page_table(run, "tiers", "en").data
    assert en.index.name == "Tier" and "VIP" in en.index and not any(has_chinese(c) for c in en.columns)
    assert not any(has_chinese(v) for v in en.index)  # the English page shows no Chinese tier label
    segments_zh = segments.show.page_table(run, "segments", "zh").data
    assert segments_zh.index.name == "RFM 细分" and all(has_chinese(v) for v in segments_zh.index)
    eight = segments.show.page_table(run, "segments_zh", "en").data  # 八类客户 keep their names, with English beside
    assert eight.index.name == "8-class RFM segment" and "English name" in eight.columns
    assert "英文名称" not in segments.show.page_table(run, "segments_zh", "zh").data.columns
    stages = segments.show.page_table(run, "lifecycle", "zh").data.index
    assert stages.isin(["潜在", "新", "活跃", "沉睡", "流失"]).all()
    assert segments.show.page_table(run, "abc", "zh").data.index.name == "ABC 分类"


def test_playbooks_actions_and_customer_preview_in_chinese(run, settings):
    playbook = segments.show.page_table(run, "playbook", "zh").data
    assert playbook.index.name == "等级"
    assert list(playbook.columns) == ["服务级别", "联系频率", "渠道", "优惠", "负责人", "行动"]
    assert segments.show.page_table(run, "segment_playbook", "zh").data.index.name == "RFM 细分"
    actions = segments.show.page_table(run, "actions", "zh").data
    assert actions.index.names == ["等级", "建议行动"] and list(actions.columns) == ["客户数"]
    assert all(has_chinese(v) for pair in actions.index for v in pair) and actions["客户数"].sum() == len(HISTORIES)
    english = segments.show.page_table(run, "actions").data
    assert english.index.names == ["Tier", "Recommended action"] and english.index[0][0] == "VIP"
    preview = segments.show.page_table(run, "preview", "zh", mask=True).data
    assert {"客户编号", "RFM 细分", "八类客户", "生命周期阶段", "等级", "建议行动"} <= set(preview.columns)
    assert preview["客户编号"].str.startswith("c-").all()  # masked ids
    assert all(has_chinese(v) for v in preview["等级"]) and all(has_chinese(v) for v in preview["建议行动"])
    assert segments.show.page_table(run, "preview").data["Customer"].tolist() == run.columns["customer_id"].tolist()


def test_breakdowns_in_chinese_and_a_sentence_without_attributes(run, features, settings):
    html = segments.show.page_table(run, "breakdowns", "zh")._repr_html_()
    assert "地区：价值与客户等级构成" in html and "地区：RFM 细分构成" in html and "（未知）" in html
    assert "等级：VIP客户" in html and "Tier" not in html
    shown = segments.show.page_table(run, "breakdowns", "en").parts[0][1].data
    assert shown.index.name == "Region" and "Tier: VIP" in shown.columns
    bare = run_on(features, settings)
    assert "数据中没有客户属性" in segments.show.page_table(bare, "breakdowns", "zh")._repr_html_()
    assert "no customer attributes" in segments.show.page_table(bare, "breakdowns")._repr_html_()


def test_summary_and_rules_in_one_language(run):
    zh = run.summary("zh")
    assert zh.startswith("- **") and "的客户（A类）贡献了" in zh and not re.search("[a-z]{2,}", zh)
    rules = segments.rules_markdown(run, "abc", "tiers", lang="zh")
    assert rules.startswith("ABC分类：") and "ABC classes" not in rules
    english = segments.rules_markdown(run, "abc", "tiers")
    assert english.startswith("ABC classes:") and not has_chinese(english)
    with pytest.raises(ValueError, match="language 'fr'"):
        segments.rules_markdown(run, "abc", lang="fr")


def test_rows_of_a_summary_table_come_in_the_same_order_in_both_languages(run):
    en, zh = (segments.show.page_table(run, "segments", lang).data for lang in ("en", "zh"))
    labels = run.tables["segments"]["label_zh"]
    assert list(zh.index) == [labels[name] for name in en.index]
    pd.testing.assert_frame_equal(en.reset_index(drop=True).set_axis(zh.columns, axis=1), zh.reset_index(drop=True))
