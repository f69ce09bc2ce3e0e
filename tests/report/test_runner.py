"""The report runner, tested the way the scheduler runs it: papermill over the real notebooks."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report import kernel, runner
from analysis.report.progress import text_line
from analysis.report.rundir import CSV_AFTER_PAGES, Stage, rounded_for_people, write_customers, write_customers_csv
from analysis.report.runner import RunFailed, run_report
from tests.conftest import write_notebook


def test_people_read_money_to_cents_probabilities_to_4_decimals_and_the_rest_to_6_digits():
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "clv": [12345.6789, 0.004, np.nan],
                          "p_alive": [0.123456, 1.0, np.nan], "lt_T": [100 / 7, 0.0, 123456789.123],
                          "orders": [1, 2, 3]})
    text = rounded_for_people(frame).to_csv(index=False, float_format="%.15g")
    assert text.splitlines() == ["customer_id,clv,p_alive,lt_T,orders", "a,12345.68,0.1235,14.2857,1",
                                 "b,0,1,0,2", "c,,,123457000,3"]
    assert frame["clv"].iloc[0] == 12345.6789  # the caller's frame is untouched


def test_pages_of_a_run_write_the_table_and_the_csv_comes_once_after_them(tmp_path, monkeypatch):
    (tmp_path / "settings.json").write_text('{"config": {"export": {"csv_formula_guard": true}}}')
    write_customers(tmp_path, pd.DataFrame({"customer_id": ["a", "b"], "spend": [1.0, 2.0]}))
    Stage(tmp_path).add_columns(pd.DataFrame({"customer_id": ["a", "b"], "x": [1, 2]}))  # alone: CSV updated
    assert (tmp_path / "customers.csv").read_text(encoding="utf-8-sig").splitlines()[0] == "customer_id,spend,x"
    monkeypatch.setenv(CSV_AFTER_PAGES, "1")  # as in a report run's kernel
    page = Stage(tmp_path)
    page.add_columns(pd.DataFrame({"customer_id": ["b", "a"], "clv": [20.123, 10.0]}))
    assert not (tmp_path / "customers.csv").exists()  # never a CSV older than the table
    assert pd.read_parquet(tmp_path / "customers.parquet")["clv"].tolist() == [10.0, 20.123]
    next_page = Stage(tmp_path)  # the next page, in the same kernel, takes the table the last one wrote
    assert next_page.customers["clv"].tolist() == [10.0, 20.123]
    pd.DataFrame({"customer_id": ["a"], "spend": [9.0]}).to_parquet(tmp_path / "customers.parquet")
    assert Stage(tmp_path).customers["spend"].tolist() == [9.0]  # a table changed on disk is read again
    write_customers_csv(tmp_path)
    assert (tmp_path / "customers.csv").read_text(encoding="utf-8-sig").splitlines() == ["customer_id,spend", "a,9"]


@pytest.mark.slow
def test_full_run_on_the_cdnow_sample_and_a_rerun_gives_the_same_bytes(sample_runs, lifetimes_datasets):
    runs = sample_runs
    run_dir = runs[-1]
    out = run_dir.parent
    stage_files = sorted(p.name for p in run_dir.glob("*.json") if p.name not in ("run.json", "settings.json"))
    compared = ["customers.csv", "quarantine.csv", "cohorts.csv", "forecast.csv", *stage_files]
    assert {"quality.json", "segments.json", "cohorts.json", "clv.json", "clv_models.json"} <= set(compared)
    for name in compared:  # same input, same settings, pages in another language: the same bytes (times in run.json)
        assert (runs[0] / name).read_bytes() == (run_dir / name).read_bytes(), name
    assert (out / "latest").resolve() == run_dir.resolve()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "ok"
    assert record["parameters"]["as_of"] == "1998-06-30"
    assert len(record["input_fingerprint"]) == 64
    assert record["versions"]["lifetimes"] == "0.11.3"
    assert set(record["seconds"]) >= {"prepare", "01_data_quality", "total"}
    assert set(record["peak_memory_mb"]) >= {"prepare", "01_data_quality", "total"}
    assert record["peak_memory_mb"]["total"]["largest_kernel"] > 50  # a kernel with pandas loaded
    for page in record["pages"]:
        html = (run_dir / page).read_text(encoding="utf-8")
        assert "open_stage(" not in html  # code is hidden from stakeholders
        assert (run_dir / "notebooks" / page.replace(".html", ".ipynb")).is_file()  # for analysts
    for name in ("index.html", "00_summary.html", "00_summary_zh.html", "customers.xlsx", "summary.pptx",
                 "summary_zh.pptx"):
        assert (run_dir / name).is_file(), name
    assert sorted(p.name for p in (out / "history").iterdir()) == ["as_of=1998-06-30"]  # the rerun replaced it
    quality = json.loads((run_dir / "quality.json").read_text(encoding="utf-8"))
    assert quality["rows_in"] == 6919 and quality["reconciled"]
    customers = pd.read_csv(run_dir / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig")
    records = pd.read_csv(lifetimes_datasets / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str)
    assert quality["quarantined"] == {}  # zero-dollar lines are purchase events, as in the CDNOW papers
    assert len(customers) == records[0].nunique() == 2357 and customers["customer_id"].is_unique
    stage_columns = {"r_score", "rfm_segment", "rfm_segment_zh", "abc_class", "lifecycle_stage",
                     "tier", "recommended_action", "expected_purchases", "p_alive", "clv",
                     "clv_low", "clv_high"}
    pages = [p.split("_", 1)[1] for p in record["pages"]]
    assert [p for p in pages if p in ("data_quality.html", "segments.html", "clv.html")] == [
        "data_quality.html", "segments.html", "clv.html"]
    assert stage_columns <= set(customers.columns)
    # the landing page's headline numbers are the run's own, recomputed here from customers.csv
    html = (run_dir / "index.html").read_text(encoding="utf-8")
    card = {key: float(value) for key, value in re.findall(r'id="(\w+)" data-value="([\d.]+)"', html)}
    assert card["customers"] == len(customers)
    assert card["revenue"] == pytest.approx(customers["monetary"].sum(), abs=0.01)
    a_share = customers.loc[customers["abc_class"] == "A", "monetary"].sum() / customers["monetary"].sum()
    assert card["class_a"] == pytest.approx(a_share, abs=1e-4)
    tiers = dict(re.findall(r'data-tier="([^"]+)" data-value="(\d+)"', html))
    assert {k: int(v) for k, v in tiers.items() if int(v)} == customers["tier"].value_counts().to_dict()
    exact = pd.read_parquet(run_dir / "customers.parquet")  # the CSV is rounded to cents for people
    assert card["clv"] == pytest.approx(exact["clv"].sum(), abs=0.01)
    if "risk_band" in customers:
        assert card["high_risk"] == (customers["risk_band"] == "high").sum()
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
    assert (failed / "notebooks" / "02_broken.ipynb").is_file()  # the failing notebook is kept
    assert pd.read_csv(failed / "customers.csv", encoding="utf-8-sig").shape[0] == 2357  # the table so far
    record = json.loads((failed / "run.json").read_text())
    assert (record["status"], record["failed_step"]) == ("failed", "02_broken")


def test_progress_events_and_a_misspelt_parameter(tmp_path, lifetimes_datasets, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative out folder, as `make report` gives: the kernel runs elsewhere
    good, bad, out = tmp_path / "good", tmp_path / "bad", Path("reports")
    good.mkdir()
    bad.mkdir()
    write_notebook(good / "01_a.ipynb", "x = 1")
    write_notebook(good / "02_b.ipynb", "y = 2")
    events = []
    source = str(lifetimes_datasets / "CDNOW_sample.txt")
    run_dir = run_report(source, out_dir=out, notebooks_dir=good, log=events.append)
    kinds = [(e["event"], e.get("step")) for e in events]
    pack = [("pack_step", s) for s in ("tier_table", "history", "summary", "deck", "customers_csv", "index")]
    assert kinds == [("prepared", None), ("step_started", "01_a"), ("step_done", "01_a"), ("step_started", "02_b"),
                     ("step_done", "02_b"), *pack, ("done", None)]
    assert events[2]["index"] == 1 and events[2]["total"] == 2 and events[2]["eta"] > 0 and events[4]["eta"] == 0
    assert events[-1]["index_html"] == str(run_dir / "index.html")
    assert text_line(events[2]).startswith("[1/2] 01_a done in ")
    assert text_line(events[-1]).startswith(f"report: {run_dir / 'index.html'} (")
    (bad / "01_a.ipynb").write_text((good / "01_a.ipynb").read_text().replace("as_of", "as_off"))
    with pytest.raises(RunFailed, match="01_a.ipynb declares no parameter as_of"):
        run_report(source, out_dir=out, notebooks_dir=bad, log=events.append)


@pytest.mark.slow
def test_an_event_log_without_amounts_gives_the_whole_report(tmp_path, lifetimes_datasets, page_kernel):
    records = pd.read_csv(lifetimes_datasets / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str)
    log = tmp_path / "events.csv"
    records[[0, 2]].set_axis(["cust", "date"], axis=1).to_csv(log, index=False)  # customer and date, no amount
    config = tmp_path / "config.yaml"
    config.write_text("clv:\n  bootstrap:\n    n: 3\nchurn:\n  evaluation:\n    bootstrap: 20\n", encoding="utf-8")
    run_dir = run_report(str(log), config_path=str(config), out_dir=tmp_path / "reports", log=lambda _: None,
                         kernel=page_kernel)
    customers = pd.read_csv(run_dir / "customers.csv", dtype={"customer_id": str}, encoding="utf-8-sig")
    assert len(customers) == records[0].nunique()
    assert customers["monetary"].isna().all() and customers["clv"].isna().all()
    assert customers["p_alive"].notna().all() and customers["tier"].notna().all()
    assert customers["cluster_name"].notna().all() and customers["churn_risk"].notna().all()
    segments = json.loads((run_dir / "segments.json").read_text(encoding="utf-8"))
    assert not segments["has_amounts"] and segments["settings"]["abc_value"] == "orders"
    for page in ("02_segments.html", "02b_cohorts.html", "03_clusters.html", "04_clv.html", "05_churn.html"):
        assert "no amounts" in (run_dir / page).read_text(encoding="utf-8"), page
    assert 'id="revenue"' not in (run_dir / "index.html").read_text(encoding="utf-8")


def test_a_big_table_has_its_csv_written_before_the_pack(tmp_path, lifetimes_datasets, monkeypatch):
    from analysis.report import runner

    monkeypatch.setattr(runner, "OVERLAP_MAX_CUSTOMERS", 100)  # the sample's 2,357 customers count as big
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    write_notebook(notebooks / "01_a.ipynb", "x = 1")
    events = []
    run_dir = run_report(str(lifetimes_datasets / "CDNOW_sample.txt"), out_dir=tmp_path / "out",
                         notebooks_dir=notebooks, log=events.append)
    steps = [e["step"] for e in events if e["event"] == "pack_step"]
    assert steps == ["customers_csv", "tier_table", "history", "summary", "deck", "index"]
    assert len(pd.read_csv(run_dir / "customers.csv", encoding="utf-8-sig")) == 2357


def test_numbers_too_small_to_scale_keep_their_value_when_rounded_for_people():
    import warnings

    import numpy as np

    from analysis.report.rundir import rounded_for_people

    table = pd.DataFrame({"expected_purchases": [1e-310, 2.5e-300, 1.23456789e-5, 0.0, np.nan]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        shown = rounded_for_people(table)["expected_purchases"].to_numpy()
    np.testing.assert_array_equal(shown, [1e-310, 2.5e-300, 1.23457e-5, 0.0, np.nan])


def test_the_warm_up_runs_and_the_first_page_is_answered_while_its_client_is_open(tmp_path, monkeypatch):
    # two clients sharing the manager's session took each other's replies: the first page waited in vain about
    # one start in three here, and the warm-up's imports were lost
    monkeypatch.setattr(kernel, "KERNEL_START_SECONDS", 30)
    for _ in range(4):
        with kernel.shared_kernel(tmp_path, "import analysis.tables") as km:
            kernel.fresh_namespace(km)
            kernel.start_in_kernel(km, "import sys\nassert 'analysis.tables' in sys.modules")()


def test_a_page_run_in_the_shared_kernel_leaves_no_socket_open(tmp_path):
    # nbclient closes the client it makes only of a kernel it started: of the run's shared kernel it left the
    # client's four sockets to the garbage collector, four ResourceWarnings a page
    import gc
    import warnings

    page = tmp_path / "01_page.ipynb"
    write_notebook(page, "x = 1")
    with kernel.shared_kernel(tmp_path) as km:
        kernel.fresh_namespace(km)
        runner.execute_notebook(page, tmp_path / "out.ipynb", {}, km)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            gc.collect()
    assert not [w for w in caught if "Unclosed socket" in str(w.message)]
