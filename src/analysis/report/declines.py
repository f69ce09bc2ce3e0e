"""Stages that decline: what a page does when its data cannot support its stage, and the run's list of them.

A stage raises :class:`~analysis.errors.StageDeclined`; the notebook runs it inside :func:`declining`, which
shows the reason on the page (in the page's language), leaves the stage's columns empty in the customer table,
records the decline in the stage's JSON and in the run directory's ``declines.json``, and stops the page. The
runner renders the page as far as it got and goes on with the next one; the pack says what is missing and why.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import StageDeclined

DECLINES = "declines.json"

# The stages as the landing page and the summary name them where they list what is missing.
STAGE_NAMES = {
    "segments": {"en": "Segments", "zh": "客户细分"},
    "clusters": {"en": "Customer groups", "zh": "客户分群"},
    "clv": {"en": "Lifetime value", "zh": "客户终身价值"},
    "churn": {"en": "Churn early warning", "zh": "流失预警"},
}


def stage_name(stage: str, lang: str) -> str:
    """``stage`` as people name it, in ``lang`` (the key itself for a stage this table does not know)."""
    return STAGE_NAMES.get(stage, {}).get(lang, stage)


def read_declines(run_dir: Path | str) -> list[dict[str, Any]]:
    """The stages that declined in ``run_dir``, in the order they ran: ``{"stage", "en", "zh"}`` each."""
    path = Path(run_dir) / DECLINES
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def declined_stages(run_dir: Path | str) -> set[str]:
    """The names of the stages that declined in ``run_dir``."""
    return {d["stage"] for d in read_declines(run_dir)}


def _write_declines(run_dir: Path, stage: str, entry: dict[str, Any] | None) -> None:
    """``declines.json`` with ``stage``'s entry replaced by ``entry`` (removed when None): re-running a stage in
    JupyterLab replaces its decline, or clears it when the stage now runs."""
    from analysis.report.rundir import write_json

    kept = [d for d in read_declines(run_dir) if d["stage"] != stage]
    if entry is not None:
        kept.append(entry)
    if kept or (run_dir / DECLINES).is_file():
        write_json(run_dir / DECLINES, kept)


def empty_columns(customer_ids: pd.Series, columns: dict[str, str]) -> pd.DataFrame:
    """``customer_id`` and each of ``columns`` empty: NaN for a number, a missing value for a text."""
    n = len(customer_ids)
    data = {"customer_id": customer_ids.to_numpy()}
    for name, kind in columns.items():
        data[name] = np.full(n, np.nan) if kind == "number" else pd.array([None] * n, dtype="string")
    return pd.DataFrame(data)


def record_decline(st, exc: StageDeclined) -> None:
    """Leave ``exc.stage``'s columns empty in ``st``'s customer table and record the decline in the stage's JSON,
    ``<stage>.json`` (with what the stage found on the way, ``exc.report``), and in ``declines.json``."""
    st.add_columns(empty_columns(st.customers["customer_id"], exc.columns))
    st.write_json(f"{exc.stage}.json", {**exc.report, "declined": exc.reason})
    _write_declines(Path(st.run_dir), exc.stage, {"stage": exc.stage, **exc.reason})


def decline_markdown(reason: dict[str, str], lang: str) -> str:
    """The page's sentence for a decline, escaped (a reason may quote a date or a count, never markup)."""
    lead = {"en": "**This analysis was not made for this data.**", "zh": "**本数据未能进行这项分析。**"}[lang]
    return f"> {lead} {html.escape(reason[lang])}"


@contextmanager
def declining(st, stage: str, lang: str) -> Iterator[None]:
    """Run a stage's call inside this block: if it declines, show why on the page, record the decline and stop
    the page (the exception goes on to the runner, which renders the page as far as it got). If it runs, any
    earlier decline of ``stage`` in this run directory is cleared."""
    from IPython.display import Markdown, display

    try:
        yield
    except StageDeclined as exc:
        record_decline(st, exc)
        display(Markdown(decline_markdown(exc.reason, lang)))
        raise
    _write_declines(Path(st.run_dir), stage, None)
