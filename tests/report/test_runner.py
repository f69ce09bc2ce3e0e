"""The report runner, tested the way the scheduler runs it: papermill over the real notebooks."""

import json

import pandas as pd
import pytest

from analysis.report.runner import RunFailed, run_report
from tests.conftest import write_notebook


@pytest.mark.slow
def test_full_run_on_the_cdnow_sample(tmp_path, lifetimes_datasets):
    out = tmp_path / "reports"
    run_dir = run_report(str(lifetimes_datasets / "CDNOW_sample.txt"), as_of="1998-06-30",
                         out_dir=out, log=lambda _: None)
    assert (out / "latest").resolve() == run_dir.resolve()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "ok"
    assert record["parameters"]["as_of"] == "1998-06-30"
    assert len(record["input_fingerprint"]) == 64
    assert record["versions"]["lifetimes"] == "0.11.3"
    assert set(record["seconds"]) >= {"prepare", "01_data_quality", "total"}
    for page in record["pages"]:
        html = (run_dir / page).read_text(encoding="utf-8")
        assert "open_stage(" not in html  # code is hidden from stakeholders
        assert (run_dir / page.replace(".html", ".ipynb")).is_file()
    assert (run_dir / "index.html").is_file()
    quality = json.loads((run_dir / "quality.json").read_text(encoding="utf-8"))
    assert quality["rows_in"] == 6919 and quality["reconciled"]
    customers = pd.read_csv(run_dir / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig")
    records = pd.read_csv(lifetimes_datasets / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str)
    buyers = records.loc[records[4].astype(float) > 0, 0].nunique()  # zero-dollar lines are quarantined
    assert quality["quarantined"] == {"zero_amount": int((records[4].astype(float) == 0).sum())}
    assert len(customers) == buyers == 2349 and customers["customer_id"].is_unique
    stage_columns = {"r_score", "rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage",
                     "tier", "recommended_action", "expected_purchases", "p_alive", "clv",
                     "clv_low", "clv_high"}
    assert [p.split("_", 1)[1] for p in record["pages"]] == ["data_quality.html", "segments.html", "clv.html"]
    assert stage_columns <= set(customers.columns)
    assert customers["tier"].notna().all() and customers["clv"].notna().all()


def test_a_failed_step_is_named_and_never_replaces_latest(tmp_path, lifetimes_datasets):
    good, bad, out = tmp_path / "good", tmp_path / "bad", tmp_path / "reports"
    good.mkdir()
    bad.mkdir()
    write_notebook(good / "01_ok.ipynb", "from analysis.report import open_stage\nst = open_stage(run_dir)")
    write_notebook(bad / "01_ok.ipynb", "x = 1")
    write_notebook(bad / "02_broken.ipynb", "raise ValueError('the model did not converge')")
    source = str(lifetimes_datasets / "CDNOW_sample.txt")
    first = run_report(source, out_dir=out, notebooks_dir=good, log=lambda _: None)
    with pytest.raises(RunFailed, match="step 02_broken failed: ValueError: the model did not converge") as err:
        run_report(source, out_dir=out, notebooks_dir=bad, log=lambda _: None)
    failed = err.value.run_dir
    assert (out / "latest").resolve() == first.resolve()
    assert (failed / "02_broken.ipynb").is_file()  # the failing notebook is kept
    record = json.loads((failed / "run.json").read_text())
    assert (record["status"], record["failed_step"]) == ("failed", "02_broken")
