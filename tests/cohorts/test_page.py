"""The cohorts page, run the way the runner runs it (papermill in the run's shared kernel, the Chinese cells only)
on a prepared run directory of the CDNOW 1/10 sample; then what the pack makes of it: the summary's line, the
landing page's card and the deck's slide."""

import json
import shutil

import pandas as pd
import pytest

from tests.conftest import ROOT, run_page
from tests.language import CJK, assert_chinese_notebook

NOTEBOOK = ROOT / "notebooks" / "02b_cohorts.ipynb"


@pytest.fixture(scope="module")
def page(tmp_path_factory, lifetimes_datasets, page_kernel):
    from analysis.report import open_stage

    base = tmp_path_factory.mktemp("cohorts_page")
    prepared = open_stage(input_path=str(lifetimes_datasets / "CDNOW_sample.txt"), as_of="1998-06-30").run_dir
    run_dir = shutil.copytree(prepared, base / "run")
    out = run_page(NOTEBOOK, base / "02b_cohorts.ipynb", {"run_dir": str(run_dir), "lang": "zh"}, page_kernel)
    return run_dir, out


@pytest.mark.slow
def test_the_page_in_chinese_writes_cohorts_csv_and_json_reconciled(page):
    run_dir, out = page
    assert_chinese_notebook(out)
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # triangle, value, cohorts over time
    frame = pd.read_csv(run_dir / "cohorts.csv", encoding="utf-8-sig")
    assert list(frame.columns) == ["cohort", "period", "customers", "active_customers", "retention", "orders",
                                   "revenue", "revenue_per_customer", "cumulative_revenue_per_customer"]  # fmt: skip
    customers = pd.read_parquet(run_dir / "customers.parquet")
    quality = json.loads((run_dir / "quality.json").read_text(encoding="utf-8"))
    assert frame.loc[frame["period"] == 0, "customers"].sum() == len(customers)
    assert frame["revenue"].sum() == pytest.approx(quality["amount_kept"], abs=0.005 * len(frame))  # cents rounded
    record = json.loads((run_dir / "cohorts.json").read_text(encoding="utf-8"))
    r = record["reconciliation"]
    assert r["customers_match"] and r["revenue_match"] and r["revenue_kept"] == quality["amount_kept"]
    assert record["summary"]["thin"]  # every CDNOW customer was won in January to March 1997
    assert record["sentences"][0]["zh"].startswith("全部") and "3 个月内" in record["sentences"][0]["zh"]
    printed = "".join("".join(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {}))
    assert "客户批次太少" in printed


@pytest.mark.slow
def test_the_pack_states_the_cohorts_line_card_and_slide(page):
    from pptx import Presentation

    from analysis.report.deck import build_deck
    from analysis.report.index import cohort_cards
    from analysis.report.summary import cohort_points

    run_dir, _ = page
    record = json.loads((run_dir / "cohorts.json").read_text(encoding="utf-8"))
    line = cohort_points(record, "en")
    assert line == [record["sentences"][0]["en"].replace("**", "")] and "**" not in line[0]
    assert CJK.search(cohort_points(record, "zh")[0]) and cohort_points({}, "en") == []
    card = cohort_cards(run_dir, ["02b_cohorts.html"], "zh")[0]
    assert card["href"] == "02b_cohorts.html" and card["raw"] == round(record["summary"]["retention_k"], 4)
    assert card["label"] == "获客 3 个月后仍再次购买的客户占比"
    deck = build_deck(run_dir / "deck", run_dir, lang="zh")
    titles = [s.shapes.title.text for s in Presentation(str(deck)).slides if s.shapes.title is not None]
    assert "我们留住了获得的客户吗？" in titles
