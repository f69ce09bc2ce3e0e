"""A stage that declines: its page says why, the run goes on, the pack says what is missing (issue 24)."""

import json

import nbformat
import pandas as pd
import pytest

from analysis.report.runner import RunFailed, run_report
from tests.conftest import write_notebook

DECLINE = """from analysis.errors import StageDeclined
from analysis.report import open_stage
from analysis.report.declines import declining
st = open_stage(run_dir)
with declining(st, "clv", lang):
    raise StageDeclined("clv", {"en": "only one day of purchases <b>here</b>.", "zh": "只有一天的购买记录。"},
                        {"clv": "number", "clv_name": "text"})"""


def _notebooks(folder):
    folder.mkdir()
    write_notebook(folder / "01_first.ipynb", "from analysis.report import open_stage\nst = open_stage(run_dir)")
    write_notebook(folder / "04_clv.ipynb", DECLINE)
    nb = nbformat.read(folder / "04_clv.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("# Lifetime value"))
    nb.cells.append(nbformat.v4.new_markdown_cell("## A later section that never ran"))
    nb.cells.append(nbformat.v4.new_code_cell("print('never')"))
    nbformat.write(nb, folder / "04_clv.ipynb")
    write_notebook(folder / "05_after.ipynb", "from analysis.report import open_stage\n"
                                              "assert open_stage(run_dir).customers['clv'].isna().all()")
    return folder


def test_a_declined_stage_leaves_its_columns_empty_and_the_run_goes_on(tmp_path, lifetimes_datasets, page_kernel):
    events = []
    run_dir = run_report(str(lifetimes_datasets / "CDNOW_sample.txt"), out_dir=tmp_path / "out",
                         notebooks_dir=_notebooks(tmp_path / "nb"), log=events.append, kernel=page_kernel)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["pages"] == ["01_first.html", "04_clv.html", "05_after.html"]
    assert record["declines"] == [{"page": "04_clv", "stage": "clv", "en": "only one day of purchases <b>here</b>.",
                                   "zh": "只有一天的购买记录。"}]
    assert [e["step"] for e in events if e["event"] == "step_declined"] == ["04_clv"]
    record = json.loads((run_dir / "clv.json").read_text(encoding="utf-8"))
    assert record == {"declined": {"en": "only one day of purchases <b>here</b>.", "zh": "只有一天的购买记录。"}}
    table = pd.read_csv(run_dir / "customers.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(table) == 2357 and (table["clv"] == "").all() and (table["clv_name"] == "").all()
    page = (run_dir / "04_clv.html").read_text(encoding="utf-8")
    assert "only one day of purchases &lt;b&gt;here&lt;/b&gt;." in page  # escaped, not markup
    assert "later section" not in page and "Traceback" not in page and "StageDeclined" not in page
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert "Not made for this data" in index and 'href="04_clv.html">Lifetime value</a>: only one day' in index
    summary = (run_dir / "00_summary_zh.html").read_text(encoding="utf-8")
    assert "本数据未能进行客户终身价值分析：只有一天的购买记录。" in summary
    assert "Not made for this data: Lifetime value. only one day" in (run_dir / "00_summary.html").read_text("utf-8")
    assert (tmp_path / "out" / "latest").resolve() == run_dir.resolve()


def test_strict_turns_a_decline_into_a_failure_of_the_data(tmp_path, lifetimes_datasets, page_kernel):
    out = tmp_path / "out"
    said = "step 04_clv failed: a stage declined \\(--strict\\): clv: only one day"
    with pytest.raises(RunFailed, match=said) as err:
        run_report(str(lifetimes_datasets / "CDNOW_sample.txt"), out_dir=out,
                   notebooks_dir=_notebooks(tmp_path / "nb"), strict=True, log=lambda _: None,
                   kernel=page_kernel)
    assert err.value.user_error and not (out / "latest").exists()
    assert json.loads((err.value.run_dir / "run.json").read_text(encoding="utf-8"))["status"] == "declined"
    assert (err.value.run_dir / "index.html").is_file()  # the pack is made all the same


def test_the_command_exits_0_with_a_decline_and_2_with_strict(tmp_path, lifetimes_datasets, capsys):
    from analysis.cli import main

    args = ["run", "--input", str(lifetimes_datasets / "CDNOW_sample.txt"), "--out", str(tmp_path / "out"),
            "--notebooks", str(_notebooks(tmp_path / "nb")), "--quiet"]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: step 04_clv failed: a stage declined (--strict): clv: ")
