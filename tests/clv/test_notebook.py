"""The CLV notebook, run the way the scheduler runs it: papermill with small parameters."""

import json

import pandas as pd
import pytest

from tests.conftest import run_notebook


@pytest.mark.slow
def test_notebook_runs_on_the_cdnow_sample_and_writes_its_outputs(tmp_path, lifetimes_datasets):
    from analysis.report import open_stage

    config = tmp_path / "config.yaml"
    config.write_text("clv:\n  bootstrap:\n    n: 3\n", encoding="utf-8")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    st = open_stage(input_path=sample, as_of="1998-06-30", config_path=str(config))
    run_notebook("04_clv", tmp_path / "out.ipynb", run_dir=str(st.run_dir))
    customers = pd.read_csv(st.run_dir / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig")
    for column in ("expected_purchases", "p_alive", "expected_spend", "clv", "clv_low", "clv_high"):
        assert customers[column].notna().all(), column
    report = json.loads((st.run_dir / "clv_models.json").read_text(encoding="utf-8"))
    assert report["chosen_model"] in report["models"]
    assert report["clv"]["bootstrap_resamples"] == 3
