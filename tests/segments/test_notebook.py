"""The data-quality and segments notebooks, run the way the runner runs them (papermill on a prepared run
directory, only the cells of the run's language), here in Chinese."""

import json
import re
import shutil

import nbformat
import pandas as pd
import pytest

from tests.conftest import ROOT, run_page

COLUMNS = (
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "rfm_segment_label_zh",
    "rfm_segment_zh",
    "rfm_segment_zh_label_en",
    "abc_class",
    "lifecycle_stage",
    "lifecycle_stage_zh",
    "tier",
    "tier_zh",
    "recommended_action",
    "recommended_action_zh",
)


@pytest.mark.slow
def test_notebooks_in_chinese_add_the_segment_columns_and_write_chinese_pages(
    tmp_path, lifetimes_datasets, page_kernel
):
    from analysis.report import open_stage

    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    prepared = open_stage(input_path=sample, as_of="1998-06-30").run_dir
    st = open_stage(run_dir=str(shutil.copytree(prepared, tmp_path / "run")))  # a private copy to add columns to
    before = st.customers
    parameters = {"run_dir": str(st.run_dir), "input_path": sample, "as_of": "1998-06-30", "config_path": "",
                  "lang": "zh", "mask_pii": False}  # fmt: skip
    for name in ("01_data_quality", "02_segments"):
        executed = tmp_path / f"{name}.ipynb"
        run_page(ROOT / "notebooks" / f"{name}.ipynb", executed, parameters, page_kernel)
        _assert_chinese_page(nbformat.read(executed, as_version=4), name)

    customers = pd.read_parquet(
        st.run_dir / "customers.parquet"
    )  # the page's table (a run writes the CSV after its pages)
    assert len(customers) == len(before) and customers["customer_id"].is_unique
    for column in COLUMNS:
        assert column in customers, column
        if column not in ("r_score", "f_score", "m_score"):
            assert customers[column].notna().all(), column
    assert customers["r_score"].between(1, 5).all() and customers["f_score"].between(1, 5).all()
    assert "total_spend" in customers  # the features are still there: stage columns are added, not swapped in
    pd.testing.assert_series_equal(customers["monetary"], before["monetary"], check_names=False, check_dtype=False)
    report = json.loads((st.run_dir / "segments.json").read_text(encoding="utf-8"))
    assert report["customers"] == len(customers)
    assert sum(row["customers"] for row in report["abc"]) == len(customers)
    assert sum(row["value_share"] for row in report["abc"]) == pytest.approx(1.0)
    assert report["rules"]["lifecycle"]["zh"].startswith("潜在")


def _assert_chinese_page(nb, name: str) -> None:
    """Only untagged and lang:zh cells are left; every heading is Chinese; tables and sentences are Chinese."""
    chinese = re.compile("[\u4e00-\u9fff]")
    assert not [c for c in nb.cells if "lang:en" in c.metadata.get("tags", [])], name
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]  # fmt: skip
    assert len(headings) >= 5 and all(chinese.search(h) for h in headings), headings
    assert not [h for h in headings if re.search("[a-z]{4,}", h)], headings  # no English words (RFM, ABC may stay)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], name
    shown = "".join(str(o.get("data", {}).get(kind, "")) for o in outputs for kind in ("text/html", "text/markdown"))
    assert chinese.search(shown), name
    assert "Share of customers" not in shown and "Why rows were set aside" not in shown, name
