"""The churn notebook, run the way the runner runs it: papermill on a prepared run directory."""

import json

import pandas as pd
import pytest

from analysis import churn
from tests.conftest import ROOT, run_notebook

NOTEBOOK = ROOT / "notebooks" / "05_churn.ipynb"


@pytest.mark.slow
def test_notebook_adds_the_churn_columns_and_writes_churn_metrics(tmp_path, lifetimes_datasets):
    from analysis.report import open_stage

    config = tmp_path / "config.yaml"
    config.write_text("churn:\n  evaluation:\n    bootstrap: 20\n    importance_repeats: 1\n", encoding="utf-8")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    st = open_stage(input_path=sample, as_of="1998-06-30", config_path=str(config))
    run_notebook("05_churn", tmp_path / "out.ipynb", run_dir=str(st.run_dir))
    customers = pd.read_csv(st.run_dir / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig")
    for column in churn.OUTPUT_COLUMNS:
        assert column in customers, column
    assert customers["churn_risk"].between(0, 1).all() and customers["risk_band"].notna().all()
    report = json.loads((st.run_dir / "churn_metrics.json").read_text(encoding="utf-8"))
    assert report["chosen_scorer"] in report["scorers"] and report["bootstrap_resamples"] == 20
    assert report["definition"]["en"].startswith("A customer counts as churned")


def test_notebook_is_committed_without_outputs_and_with_one_parameters_cell():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1
    assert all(len("".join(c["source"]).splitlines()) <= 15 for c in code)
