"""The pages' font stack names the Chinese fonts readers have (macOS, Windows, Linux), then the generic family: in
the report pages (the nbconvert template), the landing page and the summary."""

import re

import nbformat
import pytest
from jinja2 import Environment, PackageLoader

from analysis.report.runner import render_html

CHINESE = ['"PingFang SC"', '"Microsoft YaHei"', '"Noto Sans CJK SC"']


def _stacks(css: str, name: str) -> list[list[str]]:
    """Every value of the CSS property ``name`` in ``css``, as its list of font names."""
    return [[f.strip() for f in value.split(",")] for value in re.findall(rf"{name}:\s*([^;}}]+)", css)]


def _names_the_chinese_fonts(stack: list[str]) -> bool:
    return stack[-1] == "sans-serif" and stack[-1 - len(CHINESE) : -1] == CHINESE


@pytest.mark.parametrize("template", ["index.html.j2", "summary.html.j2"])
def test_landing_page_and_summary_name_the_chinese_fonts(template):
    html = Environment(loader=PackageLoader("analysis.report"), autoescape=True).get_template(template).render(
        lang="zh", t={})
    body = _stacks(html, "font-family")
    assert body and _names_the_chinese_fonts(body[0]), body


def test_report_pages_name_the_chinese_fonts_after_the_theme(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 客户分层")])
    render_html(nb, tmp_path / "page.html", lang="zh")
    html = (tmp_path / "page.html").read_text(encoding="utf-8")
    for variable in ("--jp-ui-font-family", "--jp-content-font-family"):
        stacks = _stacks(html, variable)
        assert len(stacks) >= 2 and _names_the_chinese_fonts(stacks[-1]), (variable, stacks)  # ours comes last: wins
        assert not _names_the_chinese_fonts(stacks[0])  # (the theme's own, which it overrides)
