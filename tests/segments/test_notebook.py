"""The segments notebook, run the way the runner runs it: papermill on a prepared run directory."""

import json
import shutil

import pandas as pd
import pytest

from tests.conftest import run_notebook

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
def test_notebook_adds_the_segment_columns_and_writes_segments_json(tmp_path, lifetimes_datasets):
    from analysis.report import open_stage

    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    prepared = open_stage(input_path=sample, as_of="1998-06-30").run_dir
    st = open_stage(run_dir=str(shutil.copytree(prepared, tmp_path / "run")))  # a private copy to add columns to
    before = st.customers
    run_notebook("02_segments", tmp_path / "out.ipynb", run_dir=str(st.run_dir))
    customers = pd.read_csv(st.run_dir / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig")
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
