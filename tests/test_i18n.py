"""Table headers in the page's language."""

import pandas as pd
import pytest

from analysis.i18n import HEADERS, header, localize


def test_headers_in_each_language_with_stage_extras_first():
    assert header("value_share", "en") == "Share of value"
    assert header("value_share", "zh") == "价值占比"
    assert header("silhouette", "zh", {"silhouette": ("Silhouette", "轮廓系数")}) == "轮廓系数"
    assert header("tier", "zh", {"tier": ("Service tier", "服务等级")}) == "服务等级"
    assert header("not_a_known_column", "zh") == "not_a_known_column"


def test_every_shared_header_has_a_chinese_text():
    assert all(zh and zh != en and any(ord(ch) > 0x2E80 for ch in zh) for en, zh in HEADERS.values())


def test_localize_renames_columns_and_the_index_name_only():
    frame = pd.DataFrame({"customers": [3, 1], "value_share": [0.75, 0.25]},
                         index=pd.Index(["vip", "normal"], name="tier"))
    out = localize(frame, "zh")
    assert list(out.columns) == ["客户数", "价值占比"] and out.index.name == "等级"
    assert out.to_numpy().tolist() == frame.to_numpy().tolist() and list(out.index) == ["vip", "normal"]
    assert list(frame.columns) == ["customers", "value_share"]  # the input is left as it was


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language 'fr': use en or zh"):
        header("tier", "fr")
