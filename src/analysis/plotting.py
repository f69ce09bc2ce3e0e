"""Shared chart set-up: a font that renders Chinese labels, and a consistent business-report look."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager

_CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


@cache
def use_cjk_font() -> str | None:
    """Register Noto Sans CJK (shipped by ``mplfonts``) and put it first in the sans-serif list.

    Returns the font's family name, or ``None`` when no CJK font is available (charts still draw;
    Chinese glyphs then show as boxes). Idempotent and cheap after the first call. In a Jupyter kernel it also
    has each chart drawn once less (:func:`draw_charts_once`).
    """
    draw_charts_once()
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / _CJK_FONT_FILE
    if not path.is_file():
        return None
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    sans = [f for f in matplotlib.rcParams["font.sans-serif"] if f != family]
    matplotlib.rcParams["font.sans-serif"] = [family, *sans]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def draw_charts_once() -> None:
    """In a Jupyter kernel with the inline backend, show and close a cell's figures before pyplot redraws them.

    After each cell IPython runs pyplot's "redraw every open figure" (meant for interactive windows) and then the
    inline backend's ``flush_figures``, which draws each figure again into the PNG the page shows and closes it.
    Run in the other order, the first draw (a third of a page's chart time) has nothing left to draw; the PNGs
    are the same. Does nothing outside IPython or with another backend.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or "inline" not in matplotlib.get_backend():
        return
    from matplotlib_inline.backend_inline import flush_figures  # importing it registers it after pyplot's

    callbacks = shell.events.callbacks["post_execute"]
    redraw = [i for i, f in enumerate(callbacks) if getattr(f, "__module__", "") == "matplotlib.pyplot"]
    if flush_figures in callbacks and redraw and callbacks.index(flush_figures) > redraw[0]:
        callbacks.remove(flush_figures)
        callbacks.insert(redraw[0], flush_figures)


def new_axes(ax=None, size: tuple[float, float] = (8, 4.5)):
    """The given Axes, or a new figure's Axes of ``size`` inches."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def thousands(ax, axis: str = "y") -> None:
    """Tick labels with thousands separators on one axis."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
