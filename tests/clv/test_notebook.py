"""The CLV notebook, run the way a report run runs it (papermill in the run's shared kernel) with small
parameters, in English and in Chinese."""

import json

import nbformat
import pandas as pd
import pytest

from tests.conftest import ROOT, run_page
from tests.language import has_chinese


@pytest.fixture(scope="module")
def stage(tmp_path_factory, lifetimes_datasets):
    """A run directory prepared from lifetimes' CDNOW sample, with a small bootstrap."""
    from analysis.report import open_stage

    config = tmp_path_factory.mktemp("clv") / "config.yaml"
    config.write_text("clv:\n  bootstrap:\n    n: 3\n", encoding="utf-8")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    return open_stage(input_path=sample, as_of="1998-06-30", config_path=str(config))


@pytest.mark.slow
def test_notebook_runs_on_the_cdnow_sample_and_writes_its_outputs(tmp_path, stage, page_kernel):
    st = stage
    run_page(ROOT / "notebooks" / "04_clv.ipynb", tmp_path / "out.ipynb", {"run_dir": str(st.run_dir)}, page_kernel)
    customers = pd.read_parquet(st.run_dir / "customers.parquet")  # (a run writes the CSV after its pages)
    for column in ("expected_purchases", "p_alive", "expected_spend", "clv", "clv_low", "clv_high"):
        assert customers[column].notna().all(), column
    report = json.loads((st.run_dir / "clv.json").read_text(encoding="utf-8"))
    assert report["chosen_model"] in report["models"]
    assert report["clv"]["bootstrap_resamples"] == 3
    # the time axis (issue 19): forecast.csv as the run's other CSV files, the monthly backtest and new customer
    raw = (st.run_dir / "forecast.csv").read_bytes()
    assert raw.startswith("\ufeffmonth,group_by,group,expected_purchases,expected_revenue,".encode())
    forecast = pd.read_csv(st.run_dir / "forecast.csv", encoding="utf-8-sig")
    months = forecast[forecast["group_by"] == "all"]
    assert len(months) == 12 and months["expected_purchases"].sum() == pytest.approx(
        report["clv"]["total_expected_purchases"], rel=1e-4
    )  # rounded to 4 decimals a month
    models = json.loads((st.run_dir / "clv_models.json").read_text(encoding="utf-8"))
    assert models["monthly_backtest"] == report["monthly_backtest"] and len(models["monthly_backtest"]) == 9
    assert {"mape_purchases", "mape_revenue"} <= set(models)
    assert {"expected_purchases", "expected_spend_per_purchase", "expected_value"} <= set(models["new_customer"])


@pytest.mark.slow
def test_the_chinese_page_has_chinese_headings_and_no_english_narrative(tmp_path, stage, page_kernel):
    parameters = {"run_dir": str(stage.run_dir), "input_path": "", "as_of": "1998-06-30", "config_path": "",
                  "lang": "zh", "mask_pii": True}  # fmt: skip
    out = tmp_path / "04_clv.ipynb"
    run_page(ROOT / "notebooks" / "04_clv.ipynb", out, parameters, page_kernel)
    nb = nbformat.read(out, as_version=4)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "lang:en" not in tags and "lang:zh" in tags
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]  # fmt: skip
    assert len(headings) >= 6 and all(has_chinese(h) for h in headings), headings
    assert headings[0] == "# 客户终身价值：谁会再次购买，他们值多少"
    shown = "\n".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))  # fmt: skip
    assert "未来 **" in shown and "**选定模型**：" in shown and "Over the next" not in shown
    assert "本预测只涵盖现有的" in shown and "今天新获得的一位客户" in shown and "验证月" in shown
    html = "\n".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))  # fmt: skip
    assert "估计值" in html and "客户终身价值" in html and "模型" in html
