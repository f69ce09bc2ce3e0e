"""The churn notebook, run the way the runner runs it: papermill on a prepared run directory."""

import json
import re

import pandas as pd
import pytest

from analysis import churn
from tests.conftest import ROOT, run_page

NOTEBOOK = ROOT / "notebooks" / "05_churn.ipynb"


@pytest.mark.slow
def test_notebook_adds_the_churn_columns_and_writes_churn_metrics(tmp_path, lifetimes_datasets, page_kernel):
    """As in a ``--lang zh --mask-pii`` run: the runner's execution keeps the Chinese narrative only, and the
    call-first sentence names no customer id."""
    from analysis.report import open_stage
    from tests.language import assert_chinese_notebook

    config = tmp_path / "config.yaml"
    config.write_text("churn:\n  evaluation:\n    bootstrap: 20\n    importance_repeats: 1\n", encoding="utf-8")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    st = open_stage(input_path=sample, as_of="1998-06-30", config_path=str(config))
    out = tmp_path / "out.ipynb"
    run_page(NOTEBOOK, out, {"run_dir": str(st.run_dir), "lang": "zh", "mask_pii": True}, page_kernel)
    assert_chinese_notebook(out)
    customers = pd.read_parquet(
        st.run_dir / "customers.parquet"
    )  # the page's table (a run writes the CSV after its pages)
    for column in churn.OUTPUT_COLUMNS:
        assert column in customers, column
    assert customers["churn_risk"].between(0, 1).all() and customers["risk_band"].notna().all()
    report = json.loads((st.run_dir / "churn.json").read_text(encoding="utf-8"))
    assert report["chosen_scorer"] in report["scorers"] and report["bootstrap_resamples"] == 20
    assert "choice" not in report and all(w["zh"] != w["en"] for w in report["warnings"])
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    markdown = ["".join(o["data"]["text/markdown"]) for c in cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]  # fmt: skip
    printed = "".join(m for m in markdown if "优先联系" in m)
    first = customers[customers["risk_band"] == "high"].nlargest(5, "value_at_risk")["customer_id"]
    assert "优先联系" in printed and "c-" in printed
    assert not [i for i in first if re.search(rf"\b{i}\b", printed)], printed


def test_notebook_is_committed_without_outputs_and_with_one_parameters_cell():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1
    assert all(len("".join(c["source"]).splitlines()) <= 15 for c in code)
