"""Table headers in the page's language."""

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.i18n import HEADERS, header, localize


def test_headers_in_each_language_with_stage_extras_first():
    assert header("value_share", "en") == "Share of value"
    assert header("value_share", "zh") == "价值占比"
    assert header("silhouette", "zh", {"silhouette": {"en": "Silhouette", "zh": "轮廓系数"}}) == "轮廓系数"
    assert header("tier", "zh", {"tier": {"en": "Service tier", "zh": "服务等级"}}) == "服务等级"
    assert header("not_a_known_column", "zh") == "not_a_known_column"


def test_every_shared_header_has_a_chinese_text():
    assert all(t["zh"] and t["zh"] != t["en"] and any(ord(ch) > 0x2E80 for ch in t["zh"]) for t in HEADERS.values())


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


CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
TOKEN = re.compile(r"^[\w.\-/]*$")  # a file name, a column name or a technical term such as ROC-AUC: no sentence
PLACEHOLDER = re.compile(r"\{[^{}]*\}")  # "- ⚠️ {warning}" is layout, not a sentence left in English
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"


def _text_literals():
    """Every dict literal of the package with an ``en`` or a ``zh`` key: (where, {key: value node})."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
                if "en" in keys or "zh" in keys:
                    yield f"{path.relative_to(PACKAGE)}:{node.lineno}", keys


def test_every_text_written_in_english_is_written_in_chinese_too():
    """A ``{en, zh}`` text (or a catalogue entry) has both languages, and its Chinese is Chinese: a sentence left
    in English on the Chinese page fails here."""
    missing = [where for where, keys in _text_literals() if "en" in keys and "zh" not in keys]
    english = [where for where, keys in _text_literals()
               if isinstance(keys.get("zh"), ast.Constant) and isinstance(keys["zh"].value, str)
               and not CJK.search(keys["zh"].value) and re.search(r"[A-Za-z]", PLACEHOLDER.sub("", keys["zh"].value))
               and not TOKEN.match(keys["zh"].value)]
    uneven = [where for where, keys in _text_literals()  # a catalogue by language: the same ids in each
              if isinstance(keys.get("en"), ast.Dict) and isinstance(keys.get("zh"), ast.Dict)
              and {k.value for k in keys["en"].keys if isinstance(k, ast.Constant)}
              != {k.value for k in keys["zh"].keys if isinstance(k, ast.Constant)}]
    assert not missing and not english and not uneven, (missing, english, uneven)


def test_a_text_refuses_a_missing_language():
    from analysis.stage import text

    assert text("At risk", "有风险") == {"en": "At risk", "zh": "有风险"}
    with pytest.raises(ValueError, match="both languages"):
        text("At risk", "")


def test_no_text_is_translated_after_it_is_made():
    """Nothing matches English sentences to translate them (the old ``MESSAGES_ZH`` regular expressions)."""
    found = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
             if re.search(r"MESSAGES_ZH|_ZH\s*=\s*\[", p.read_text(encoding="utf-8"))]
    assert not found, found


def test_every_text_has_the_one_shape():
    """A text is ``{en, zh}``, not an ``("English", "中文")`` pair: one shape for every catalogue. (The settings'
    YAML keeps its ``[English, 中文]`` lists: those are data a user edits, read where the settings are read.)"""
    pairs = [f"{path.relative_to(PACKAGE)}:{node.lineno}" for path in sorted(PACKAGE.rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Tuple | ast.List) and len(node.elts) == 2
             and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
             and CJK.search(node.elts[1].value) and not CJK.search(node.elts[0].value)]
    assert not pairs, pairs
