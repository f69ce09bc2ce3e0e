"""Helpers of the language tests (a page, chart or notebook in Chinese), shared by every stage's tests."""

import json
import re
import warnings

import matplotlib.pyplot as plt

from analysis.plotting import use_cjk_font

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def has_chinese(text) -> bool:
    """Whether ``text`` has a Chinese character."""
    return bool(CJK.search(str(text)))


def figure_texts(fig) -> list[str]:
    """Every text of a drawn figure: titles, axis labels, tick labels, legends, annotations, colour bars."""
    out = []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.texts)]
        out += [t.get_text() for t in (*ax.get_xticklabels(), *ax.get_yticklabels())]
        if ax.get_legend():
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in out if t.strip()]


def draw_strictly(draw):
    """Draw a chart with a missing glyph as an error; returns the figure's texts."""
    use_cjk_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = draw()
        ax.figure.canvas.draw()
    texts = figure_texts(ax.figure)
    plt.close(ax.figure)
    return texts


def assert_chinese(texts: list[str], english: list[str]) -> None:
    """Words are Chinese (numbers and a few names such as k, AUC, VIP may stay); no English text is left."""
    words = [t for t in texts if ENGLISH_WORD.search(t.replace("VIP", "").replace("ROC-AUC", ""))]
    assert not words, words
    assert any(CJK.search(t) for t in texts)
    assert not set(english) & set(texts)


def assert_chinese_notebook(path) -> None:
    """An executed notebook of a zh run: only the Chinese narrative is left, every heading is Chinese, and the
    Markdown and tables it printed are Chinese (no raw column name as a header)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    tags = [tag for cell in cells for tag in cell.get("metadata", {}).get("tags", [])]
    assert "lang:en" not in tags and "lang:zh" in tags
    headings = [line for c in cells if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()
                if line.startswith("#")]  # fmt: skip
    assert headings and all(CJK.search(h) for h in headings), headings
    outputs = [o.get("data", {}) for c in cells for o in c.get("outputs", [])]
    printed = ["".join(d["text/markdown"]) for d in outputs if "text/markdown" in d]
    assert printed and all(CJK.search(m) for m in printed if m.strip()), printed
    headers = [h for d in outputs for h in re.findall(r"<th[^>]*>([^<]*)</th>", "".join(d.get("text/html", "")))]
    assert not [h for h in headers if SNAKE_CASE.match(h.strip())], headers
