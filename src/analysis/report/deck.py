"""The management deck (``summary.pptx``) for the meeting where tiers are reviewed (如何管理各级客户).

Built from a finished run directory alone: ``settings.json`` (the config), ``quality.json``,
``customers.parquet`` and the stages' JSON (``segments.json``, ``clusters.json``, ``clv.json``,
``churn.json``). A stage that did not run leaves no trace in the deck. Slides, in order:

1. title: as-of date and input;
2. the headline numbers (:func:`headline`): customers, revenue, share of value in class A, customers by tier,
   customers at high churn risk and their value at risk (churn), expected value of the next 12 months (CLV);
3. value by tier (chart), 4. the playbook per tier (``config["playbook"]["tiers"]``);
5. RFM segments, 6. clusters; 7. the early-warning list (high risk, by value at risk);
8-9. tier migration since the previous snapshot in ``history_dir`` and the bought-again share per tier.

Texts are ``config["deck"]`` (``defaults/deck.yaml``), in the run's language; names, phones, e-mails and
ids are masked with ``mask_pii`` (:mod:`analysis.privacy`). Charts come from
:mod:`analysis.report.plots`, as PNG images.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import UserError
from analysis.privacy import mask_text
from analysis.report import plots
from analysis.report.declines import read_declines
from analysis.report.numbers import band_is_high, customer_label, headline, read_customers, read_json, top_at_risk

DECK_FILE = "summary.pptx"
WARNING_ROWS = 10
SEGMENT_ROWS = 12
_NUMBER = r"-?[\d,]+(\.\d+)?%?"  # a number as the deck writes it: 1,234.56 or 12%


class _Deck:
    """A 16:9 presentation and the helpers that place text, tables and charts on it."""

    def __init__(self, texts: dict, lang: str):
        from pptx import Presentation
        from pptx.util import Inches

        self.texts, self.i = texts, (1 if lang == "zh" else 0)
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Inches(13.333), Inches(7.5)
        self.Inches = Inches

    def t(self, *path: str) -> str:
        """The deck text at ``path`` in the deck's language."""
        node = self.texts
        for key in path:
            node = node[key]
        return node[self.i]

    def slide(self, title: str):
        from pptx.util import Pt

        slide = self.prs.slides.add_slide(self.prs.slide_layouts[5])  # title only
        shape = slide.shapes.title
        shape.left, shape.top = self.Inches(0.5), self.Inches(0.3)
        shape.width, shape.height = self.Inches(12.3), self.Inches(0.9)
        shape.text = title
        for p in shape.text_frame.paragraphs:
            p.font.size, p.font.bold = Pt(30), True
        return slide

    def text(self, slide, lines: list[str], left, top, width, height, size: int = 16, bold_first: bool = False):
        from pptx.util import Pt

        box = slide.shapes.add_textbox(self.Inches(left), self.Inches(top), self.Inches(width), self.Inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for n, line in enumerate(lines):
            p = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
            p.text = line
            p.font.size = Pt(size)
            p.font.bold = bold_first and n == 0
            p.space_after = Pt(6)
        return box

    def table(self, slide, frame: pd.DataFrame, left, top, width, widths: list[float] | None = None, size: int = 12):
        """``frame`` as a table (header row bold, numbers right-aligned); ``widths`` in inches per column."""
        from pptx.enum.text import PP_ALIGN
        from pptx.util import Pt

        rows, cols = frame.shape[0] + 1, frame.shape[1]
        height = self.Inches(0.4) * rows
        shape = slide.shapes.add_table(rows, cols, self.Inches(left), self.Inches(top), self.Inches(width), height)
        table = shape.table
        if widths:
            for c, w in enumerate(widths):
                table.columns[c].width = self.Inches(w)
        for c, name in enumerate(frame.columns):
            table.cell(0, c).text = str(name)
        for r, row in enumerate(frame.itertuples(index=False), start=1):
            for c, value in enumerate(row):
                table.cell(r, c).text = "" if value is None or value != value else str(value)
        numeric = [bool(len(frame)) and frame.iloc[:, c].astype(str).str.fullmatch(_NUMBER).all() for c in range(cols)]
        for r in range(rows):
            for c in range(cols):
                for p in table.cell(r, c).text_frame.paragraphs:
                    p.font.size = Pt(size)
                    p.font.bold = r == 0
                    if numeric[c]:
                        p.alignment = PP_ALIGN.RIGHT
        return table

    def chart(self, slide, ax, left, top, width=None, height=None):
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        ax.figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
        plt.close(ax.figure)
        buffer.seek(0)
        size = {}
        if width is not None:
            size["width"] = self.Inches(width)
        if height is not None:
            size["height"] = self.Inches(height)
        return slide.shapes.add_picture(buffer, self.Inches(left), self.Inches(top), **size)

    def number(self, slide, value: str, label: str, note: str, left, top):
        """A big number with its label (and a note) in a box 4 x 1.6 inches."""
        from pptx.util import Pt

        box = slide.shapes.add_textbox(self.Inches(left), self.Inches(top), self.Inches(4), self.Inches(1.6))
        frame = box.text_frame
        frame.word_wrap = True
        for n, (text, size, bold) in enumerate(((value, 32, True), (label, 14, False), (note, 11, False))):
            if not text:
                continue
            p = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
            p.text, p.font.size, p.font.bold = text, Pt(size), bold


# The forecast slide's own words (its sentences come in both languages from clv.json), [English, 中文].
FORECAST_TEXTS = {
    "title": {"en": "Next three months: what existing customers will bring", "zh": "未来三个月：现有客户将带来的收入"},
    "revenue": {"en": "Expected revenue from existing customers", "zh": "现有客户的预期收入"},
    "purchases": {"en": "Expected repeat purchases of existing customers", "zh": "现有客户的预期重复购买次数"},
    "range": {"en": "range {low} to {high}", "zh": "区间 {low} 至 {high}"},
}  # fmt: skip


# The cohorts slide's own words (its sentences come in both languages from cohorts.json).
COHORT_TEXTS = {"title": {"en": "Are we keeping the customers we win?", "zh": "我们留住了获得的客户吗？"}}


def _cohorts_slide(d: _Deck, run: Path, lang: str) -> None:
    """The cohorts page's sentences beside its retention triangle (from ``cohorts.json`` and ``cohorts.csv``); no
    slide for a run without them."""
    from analysis import cohorts

    record = read_json(run, "cohorts.json") or {}
    matrix = cohorts.read_matrix(run)
    if not record.get("sentences") or matrix is None:
        return
    slide = d.slide(COHORT_TEXTS["title"][lang])
    lines = [t[lang].replace("**", "") for t in [*record["sentences"], *record["warnings"]]]
    d.text(slide, lines, 0.5, 1.3, 4.6, 5.9, size=12)
    from analysis.plotting import use_cjk_font

    use_cjk_font()
    s = record["settings"]
    ax = cohorts.plots.plot_retention_heatmap(matrix, s["period"], min(s["max_cohorts_shown"], 12),
                                              min(s["max_periods_shown"], 12), lang=lang)  # fmt: skip
    d.chart(slide, ax, 5.3, 1.3, width=7.7)


def _money(v: float) -> str:
    return f"{v:,.0f}"


def _title_slide(d: _Deck, numbers: dict, mask_pii: bool) -> None:
    slide = d.prs.slides.add_slide(d.prs.slide_layouts[6])  # blank
    d.text(slide, [d.t("title")], 1.0, 2.2, 11.3, 1.2, size=44, bold_first=True)
    lines = [d.t("subtitle"), f"{d.t('as_of')}: {numbers['as_of']}"]
    if numbers.get("input"):
        lines.append(f"{d.t('input')}: {Path(str(numbers['input'])).name}")
    if mask_pii:
        lines.append(d.t("masked"))
    d.text(slide, lines, 1.0, 3.6, 11.3, 2.5, size=22)


def _headline_slide(d: _Deck, n: dict, tier_names: dict[str, str]) -> None:
    slide = d.slide(d.t("slides", "headline"))
    cards = [(f"{n['customers']:,}", d.t("headline", "customers"), "")]
    if "revenue" in n:
        cards.append((_money(n["revenue"]), d.t("headline", "revenue"), ""))
    if "class_a_share" in n:
        note = d.texts["headline"]["class_a_customers"][d.i].format(
            n=n["class_a_customers"], share=n["class_a_customer_share"]
        )
        cards.append((f"{n['class_a_share']:.0%}", d.t("headline", "class_a_share"), note))
    if "high_risk_customers" in n:
        cards.append((f"{n['high_risk_customers']:,}", d.t("headline", "high_risk"), ""))
        cards.append((_money(n["high_value_at_risk"]), d.t("headline", "value_at_risk"), ""))
    if "clv_12m" in n:
        cards.append((_money(n["clv_12m"]), d.t("headline", "clv_12m"), ""))
    for k, (value, label, note) in enumerate(cards):
        d.number(slide, value, label, note, 0.6 + 4.2 * (k % 3), 1.4 + 1.9 * (k // 3))
    if n.get("tiers"):
        parts = [f"{tier_names.get(k, k)} {v:,}" for k, v in n["tiers"].items()]
        d.text(slide, [d.t("headline", "by_tier"), " · ".join(parts)], 0.6, 5.4 + (len(cards) <= 3) * -1.9, 12, 1.2,
               size=18, bold_first=True)  # fmt: skip


def _forecast_slide(d: _Deck, run: Path, lang: str) -> None:
    """Next three months' revenue from existing customers with its range, how well the same method forecast the
    holdout months (with their chart), and what a newly won customer is worth: from clv.json's
    ``forecast_quarter``, ``monthly_backtest`` and ``new_customer``; no slide for a record without them."""
    clv = read_json(run, "clv.json") or {}
    quarter = clv.get("forecast_quarter")
    if not quarter:
        return
    words = {key: value[lang] for key, value in FORECAST_TEXTS.items()}
    slide = d.slide(words["title"])
    amounts = _finite(quarter["expected_revenue"])  # JSON null: NaN, the data had no amounts
    if amounts:
        low, high = quarter["expected_revenue_low"], quarter["expected_revenue_high"]
        note = words["range"].format(low=_money(low), high=_money(high)) if _finite(low) else ""
        d.number(slide, _money(quarter["expected_revenue"]), words["revenue"], note, 0.6, 1.3)
    else:
        d.number(slide, _money(quarter["expected_purchases"]), words["purchases"], "", 0.6, 1.3)
    lines = [quarter["text"][lang], quarter["scope"][lang]]
    if clv.get("monthly_backtest_text"):
        lines.append(clv["monthly_backtest_text"][lang])
    if clv.get("new_customer"):
        lines.append(clv["new_customer"]["text"][lang])
    chart = bool(clv.get("monthly_backtest"))
    d.text(slide, lines, 0.6, 3.1, 5.2 if chart else 12.1, 4.2, size=14)
    if chart:
        from analysis.clv.monthly_plots import plot_monthly_backtest
        from analysis.plotting import use_cjk_font

        use_cjk_font()
        ax = plot_monthly_backtest(clv, "revenue" if amounts else "purchases", lang=lang)
        d.chart(slide, ax, 6.1, 1.3, width=6.9)


def _finite(value) -> bool:
    """Whether a number read from JSON is there (not null, not NaN)."""
    return value is not None and value == value


def _tier_slides(d: _Deck, customers: pd.DataFrame, config: dict, lang: str, amounts: bool) -> None:
    """Value by tier (data with amounts only) and the playbook per tier."""
    if amounts:
        slide = d.slide(d.t("slides", "value_by_tier"))
        d.chart(slide, plots.plot_value_by_tier(customers, lang=lang, config=config), 1.4, 1.3, height=5.9)
    slide = d.slide(d.t("slides", "playbook"))
    table = plots.value_by_tier(customers, config)
    names = plots.tier_names(config, lang)
    fields = ("service_level", "contact_cadence", "channel", "offer", "owner", "action")
    rows = []
    for key, entry in config["playbook"]["tiers"].items():
        counts = table.loc[key] if key in table.index else None
        rows.append({
            d.t("playbook_fields", "tier"): names.get(key, key),
            d.t("playbook_fields", "customers"): f"{int(counts['customers']):,}" if counts is not None else "",
            d.t("playbook_fields", "value_share"): f"{counts['value_share']:.0%}" if counts is not None else "",
            **{d.t("playbook_fields", f): entry[f][d.i] for f in fields},
        })  # fmt: skip
    frame, widths = pd.DataFrame(rows), [1.2, 1.2, 1.1, 1.7, 1.5, 1.3, 1.5, 1.3, 1.7]
    if not amounts:
        frame, widths = frame.drop(columns=d.t("playbook_fields", "value_share")), [*widths[:2], *widths[3:-1], 2.8]
    d.table(slide, frame, 0.4, 1.3, 12.5, widths, size=13)


def _share_table(d: _Deck, records: list[dict], name_en: str, name_zh: str, header: str) -> pd.DataFrame:
    rows = [
        {
            header: str(r.get(name_zh if d.i else name_en) or r.get(name_en)),
            d.t("segment_table", "customers"): f"{int(r['customers']):,}",
            d.t("segment_table", "customer_share"): f"{r['customer_share']:.1%}",
            d.t("segment_table", "value_share"): f"{r['value_share']:.1%}",
        }
        for r in records[:SEGMENT_ROWS]
    ]
    return pd.DataFrame(rows)


def _segment_slides(d: _Deck, run: Path) -> None:
    segments = read_json(run, "segments.json")
    if segments and segments.get("segments"):
        slide = d.slide(d.t("slides", "segments"))
        frame = _share_table(d, segments["segments"], "rfm_segment", "label_zh", d.t("segment_table", "segment"))
        d.table(slide, frame, 1.5, 1.3, 10.3, [4.3, 2.0, 2.0, 2.0], size=13)
    clusters = read_json(run, "clusters.json")
    if clusters and clusters.get("profiles"):
        slide = d.slide(d.t("slides", "clusters"))
        frame = _share_table(d, clusters["profiles"], "name", "name_zh", d.t("segment_table", "cluster"))
        for field, fmt in (("median_recency_days", "{:,.0f}"), ("median_frequency", "{:,.1f}"),
                           ("median_monetary", "{:,.2f}")):  # fmt: skip
            values = [r.get(field) for r in clusters["profiles"][:SEGMENT_ROWS]]
            if all(v is not None for v in values):
                frame[d.t("segment_table", field)] = [fmt.format(v) for v in values]
        widths = [3.7, 1.3, 1.4, 1.4, 1.6, 1.4, 1.5][: frame.shape[1]]
        d.table(slide, frame, 0.4, 1.3, sum(widths), widths, size=13)


def _declines_slide(d: _Deck, run: Path) -> None:
    """The analyses the data could not support, each with the reason its stage gave."""
    declines = read_declines(run)
    if declines:
        slide = d.slide(d.t("slides", "declined"))
        lines = [f"{d.t('stages', x['stage'])}: {x['zh' if d.i else 'en']}" for x in declines]
        d.text(slide, lines, 0.8, 1.4, 11.7, 5.0, size=18)


def _warning_slide(d: _Deck, customers: pd.DataFrame, config: dict, mask_pii: bool, salt: str) -> None:
    if "value_at_risk" not in customers or "churn_risk" not in customers or customers["churn_risk"].isna().all():
        return  # the churn stage did not run, or declined
    top = top_at_risk(customers, config, WARNING_ROWS)
    zh = "_zh" if d.i else ""
    rows = []
    for _, row in top.iterrows():
        reasons = row.get(f"churn_reasons{zh}") or row.get("churn_reasons") or ""
        reasons = re.split("[;；]", str(reasons))[0].strip() if reasons == reasons else ""  # the first reason
        rows.append({
            d.t("warning_table", "customer"): customer_label(row, mask_pii, salt),
            d.t("warning_table", "tier"): row.get(f"tier{zh}", row.get("tier", "")),
            d.t("warning_table", "churn_risk"): f"{row['churn_risk']:.0%}",
            d.t("warning_table", "value_at_risk"): f"{row['value_at_risk']:,.2f}",
            d.t("warning_table", "reasons"): mask_text(reasons) if mask_pii else reasons,
            d.t("warning_table", "action"): row.get(f"recommended_action{zh}", row.get("recommended_action", "")),
        })  # fmt: skip
    slide = d.slide(d.t("slides", "warning"))
    at_risk = float(customers.loc[band_is_high(customers, config), "value_at_risk"].sum())
    note = d.texts["warning_note"][d.i].format(n=len(top), total=at_risk)
    d.text(slide, [note], 0.5, 1.15, 12.3, 0.5, size=14)
    if rows:
        d.table(slide, pd.DataFrame(rows), 0.4, 1.7, 12.5, [2.0, 1.2, 1.0, 1.3, 3.5, 3.5], size=10)


def _migration(customers: pd.DataFrame, as_of: Any, history_dir: Path, config: dict):
    """The tier migration from the snapshot before ``as_of`` in ``history_dir`` to ``customers``; None without
    an earlier snapshot."""
    from analysis.report import history

    labels = config["tiers"]["labels"]
    before = history.previous_as_of(history_dir, as_of)
    if before is None or "tier" not in customers:
        return None
    previous = history.read_history(history_dir, before)
    current = history.snapshot(customers, labels)
    return history.migration(previous, current, list(labels), labels, previous_as_of=before, as_of=as_of)


def _migration_slides(d: _Deck, m, config: dict, lang: str):
    r, lines = m.report, d.texts["migration_lines"]
    slide = d.slide(d.t("slides", "migration"))
    d.chart(slide, plots.plot_transition_matrix(m, lang=lang, config=config), 0.4, 1.3, width=8.2)
    summary = [lines["compared"][d.i].format(previous=r["previous_as_of"], current=r["as_of"])]
    for key, field in (("upgraded", "up"), ("downgraded", "down"), ("unchanged", "same"), ("new", "new"),
                       ("lost", "lost")):  # fmt: skip
        summary.append(lines[key][d.i].format(n=r[field]))
    d.text(slide, summary, 8.9, 1.5, 4.1, 3.6, size=16, bold_first=True)
    d.text(slide, [lines["matrix_note"][d.i]], 8.9, 5.4, 4.1, 1.2, size=12)
    slide = d.slide(d.t("slides", "migration_effect"))
    d.chart(slide, plots.plot_transition_matrix(m, value=True, lang=lang, config=config), 0.4, 1.3, width=8.2)
    names = plots.tier_names(config, lang)
    again = [lines["bought_again_title"][d.i].format(previous=r["previous_as_of"])]
    again += [
        lines["bought_again"][d.i].format(tier=names.get(k, k), share=v["share"], n=v["customers"])
        for k, v in r["bought_again"].items()
        if v["customers"] > 0
    ]
    d.text(slide, again, 8.9, 1.5, 4.1, 3.6, size=16, bold_first=True)
    d.text(slide, [lines["value_note"][d.i]], 8.9, 5.4, 4.1, 1.2, size=12)


def build_deck(
    path: str | Path,
    run_dir: str | Path,
    lang: str = "en",
    mask_pii: bool = False,
    history_dir: str | Path | None = None,
    salt: str = "",
    customers: pd.DataFrame | None = None,
    migration=None,
) -> Path:
    """Write the management deck of the run in ``run_dir`` to ``path`` (a ``.pptx`` file, or a folder to
    hold ``summary.pptx``). ``lang`` en or zh; ``mask_pii`` masks names and ids (``salt`` keys the id
    hash); ``history_dir`` adds the tier migration since the previous snapshot there, or ``migration`` (a
    :class:`~analysis.report.history.Migration` the caller has computed). ``customers``: the run's customer
    table when the caller has read it. Returns the file."""
    if lang not in ("en", "zh"):
        raise UserError(f"language {lang!r}: use en or zh")
    run = Path(run_dir)
    if not (run / "customers.parquet").is_file():
        raise UserError(f"{run} is not a run directory (no customers.parquet)")
    settings = read_json(run, "settings.json")
    if settings is None:
        raise UserError(f"{run} is not a prepared run directory (no settings.json)")
    config = settings["config"]
    if customers is None:
        customers = read_customers(run)
    numbers = headline(run, customers)
    d = _Deck(config["deck"], lang)
    stamp = pd.Timestamp(numbers["as_of"]) if numbers.get("as_of") else pd.Timestamp("2000-01-01")
    d.prs.core_properties.title = d.t("title")
    d.prs.core_properties.created = d.prs.core_properties.modified = stamp.to_pydatetime().replace(tzinfo=dt.UTC)
    _title_slide(d, numbers, mask_pii)
    _headline_slide(d, numbers, plots.tier_names(config, lang))
    _forecast_slide(d, run, lang)
    _cohorts_slide(d, run, lang)
    if "tier" in customers:
        _tier_slides(d, customers, config, lang, amounts="revenue" in numbers)
    _segment_slides(d, run)
    _warning_slide(d, customers, config, mask_pii, salt)
    _declines_slide(d, run)
    if migration is None and history_dir is not None and numbers.get("as_of"):
        migration = _migration(customers, numbers["as_of"], Path(history_dir), config)
    if migration is not None:
        _migration_slides(d, migration, config, lang)
    out = Path(path)
    if out.suffix.lower() != ".pptx":
        out = out / DECK_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    _save(d.prs, out, stamp)
    return out


def _save(prs, out: Path, stamp: pd.Timestamp) -> None:
    """Save with every zip entry dated ``stamp`` (the as-of date), so the same run gives the same bytes."""
    buffer = io.BytesIO()
    prs.save(buffer)
    when = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(item.filename))
    tmp.replace(out)
