"""The report pack around the pages, built once every notebook has run: the customer tier table in Excel, the
CRM import files, the run's snapshot in the history store with the tier migration since the previous run, the
executive summary page and the management deck (English, plus a Chinese edition of both), and the landing page.

Each part is a timed step of the run (``run.json``); every part reads the run directory, none changes it. The
customer table is read once and handed to every part, and the tier migration is computed once for the summary
and the deck.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.privacy import page_salt
from analysis.report import crm, export, history
from analysis.report.deck import build_deck
from analysis.report.index import write_index
from analysis.report.summary import write_summary

# The files of the summary page and the deck in each language.
EDITIONS = {
    "summary": {"en": "00_summary.html", "zh": "00_summary_zh.html"},
    "deck": {"en": "summary.pptx", "zh": "summary_zh.pptx"},
}


def build_pack(
    run_dir: Path,
    history_dir: Path,
    pages: list[str],
    steps: dict[str, float],
    crm_systems: list[str] | None = None,
    log: Callable[[dict], None] = lambda _: None,
    lang: str = "en",
    masker: Callable[[str], str] | None = None,
    before_index: Callable[[], None] = lambda: None,
) -> list[str]:
    """Write the pack into ``run_dir`` (and the snapshot into ``history_dir``); adds each part's seconds to
    ``steps`` and returns the warnings to show the user (e.g. a CRM field the data lacks). The landing page is
    in ``lang`` and leads to the summary in that language; the summary and the deck come in both languages.
    With a ``masker`` (:class:`~analysis.report.masking.PageMasker`, the run's ``--mask-pii``) the summary, the
    deck and the landing page show masked names and ids (the id hash keyed by the run's mask key:
    ``ANALYSIS_MASK_SALT`` when it is set, else the reports folder's ``.mask-key``), and the masker's check of
    every text runs over the HTML pages too, as over the notebook pages.
    ``before_index`` runs before the landing page is written (which lists the run's files): the runner waits
    there for customers.csv, written meanwhile by the pages' kernel."""
    mask_pii = masker is not None
    salt = page_salt(run_dir) if mask_pii else ""
    settings = json.loads((run_dir / "settings.json").read_text(encoding="utf-8"))
    config, as_of = settings["config"], settings["as_of"]
    customers = pd.read_parquet(run_dir / "customers.parquet")
    warnings: list[str] = []
    state: dict[str, Any] = {}

    def step(name: str, work: Callable[[], None]) -> None:
        t0 = time.perf_counter()
        work()
        steps[name] = round(time.perf_counter() - t0, 3)
        log({"event": "pack_step", "step": name, "seconds": steps[name]})

    def tier_table() -> None:
        state["table"] = export.tier_table(customers, as_of)
        warnings.extend(export.write_tier_workbook(run_dir / "customers.xlsx", state["table"], config))

    def crm_files() -> None:
        warnings.extend(crm.write_crm_files(run_dir, state["table"], config, crm_systems or []).warnings)

    def snapshot() -> None:
        labels = config["tiers"]["labels"]
        current = history.snapshot(customers, labels)
        history.write_snapshot(history_dir, current, as_of)
        state["migration"] = history.migration_since_previous(history_dir, as_of, list(labels), labels, current)
        if state["migration"] is not None:
            (run_dir / "migration.json").write_text(
                json.dumps(state["migration"].report, ensure_ascii=False, indent=2), encoding="utf-8"
            )

    def summary() -> None:
        for edition, name in EDITIONS["summary"].items():
            path = write_summary(run_dir, config, edition, masked=mask_pii, salt=salt,
                                 migration=state.get("migration"), name=name, customers=customers)
            if masker is not None:
                path.write_text(masker(path.read_text(encoding="utf-8")), encoding="utf-8")

    def deck() -> None:
        for edition, name in EDITIONS["deck"].items():
            build_deck(run_dir / name, run_dir, edition, mask_pii=mask_pii, salt=salt, customers=customers,
                       migration=state.get("migration"))

    step("tier_table", tier_table)
    if crm_systems:
        step("crm", crm_files)
    step("history", snapshot)
    step("summary", summary)
    step("deck", deck)
    summary_page = EDITIONS["summary"][lang]

    def index() -> None:
        path = write_index(run_dir, [summary_page, *pages], steps, lang, masked=mask_pii, customers=customers)
        if masker is not None:
            path.write_text(masker(path.read_text(encoding="utf-8")), encoding="utf-8")

    before_index()
    step("index", index)
    return warnings
