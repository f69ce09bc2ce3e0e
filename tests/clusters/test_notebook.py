"""The clusters notebook, run the way the runner runs it (papermill on a prepared run directory, after the
segments page) and alone as in JupyterLab, on the CDNOW sample shipped with lifetimes."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03_clusters.ipynb"
SMALL = {"clusters": {"k_range": [2, 5], "stability": {"resamples": 3}, "silhouette_sample": 2000}}


def _errors(path: Path) -> list:
    executed = json.loads(path.read_text(encoding="utf-8"))
    return [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _images(path: Path) -> int:
    executed = json.loads(path.read_text(encoding="utf-8"))
    return sum("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", []))


@pytest.mark.slow
def test_notebook_adds_the_cluster_columns_and_writes_clusters_json(tmp_path, lifetimes_datasets, page_kernel):
    """As in a ``--lang zh`` run: the runner's execution keeps the Chinese narrative only."""
    pytest.importorskip("papermill")
    import yaml

    from analysis.report import open_stage
    from tests.conftest import run_page
    from tests.language import assert_chinese_notebook

    config_path = tmp_path / "small.yaml"
    config_path.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    prepared = open_stage(input_path=sample, as_of="1998-06-30", config_path=str(config_path)).run_dir
    st = open_stage(run_dir=str(shutil.copytree(prepared, tmp_path / "run")))  # a private copy to add columns to
    segments_page = NOTEBOOK.with_name("02_segments.ipynb")  # first, as the runner runs the pages
    run_page(segments_page, tmp_path / "segments.ipynb", {"run_dir": str(st.run_dir), "lang": "zh"}, page_kernel)
    before = open_stage(run_dir=str(st.run_dir)).customers
    assert "tier" in before
    out = tmp_path / "out.ipynb"
    run_page(NOTEBOOK, out, {"run_dir": str(st.run_dir), "lang": "zh", "mask_pii": True}, page_kernel)
    assert not _errors(out)
    assert _images(out) >= 5  # k choice, shares, heatmap, snake, projection (+ overlaps)
    assert_chinese_notebook(out)
    customers = pd.read_parquet(
        st.run_dir / "customers.parquet"
    )  # the page's table (a run writes the CSV after its pages)
    assert len(customers) == len(before) and customers["customer_id"].is_unique
    assert "tier" in customers and "rfm_segment" in customers  # earlier stages' columns are kept
    for column in ("cluster", "cluster_name", "cluster_name_zh"):
        assert customers[column].notna().all(), column  # every CDNOW customer has bought
    report = json.loads((st.run_dir / "clusters.json").read_text(encoding="utf-8"))
    assert 2 <= report["k"] <= 5 and customers["cluster"].nunique() == report["k"]
    assert report["k_reason"] and len(report["k_table"]) == 4
    assert report["stability"]["resamples"] == 3
    names = [n["en"] for n in report["names"].values()]
    assert len(set(names)) == len(names) == report["k"]
    assert sum(p["customers"] for p in report["profiles"]) == len(customers)
    assert {"tier", "rfm_segment", "abc_class", "lifecycle_stage"} <= set(report["overlap"])
    tiers = [label[0] for label in st.config["tiers"]["labels"].values()]
    shown = list(next(iter(report["overlap"]["tier"].values())))
    assert shown == [t for t in tiers if t in shown]  # tiers in tier order (issue 23)
    assert report["rules"] and all(0 < r["precision"] <= 1 for r in report["rules"])


@pytest.mark.slow
def test_notebook_runs_alone_as_in_jupyterlab(tmp_path, lifetimes_datasets):
    """No runner and no segments page before it: the notebook prepares the data itself."""
    papermill = pytest.importorskip("papermill")
    import yaml

    config_path = tmp_path / "small.yaml"
    config_path.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    out = tmp_path / "alone.ipynb"
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    parameters = {"input_path": sample, "as_of": "1998-06-30", "config_path": str(config_path)}
    papermill.execute_notebook(str(NOTEBOOK), str(out), kernel_name="python3", cwd=str(NOTEBOOK.parent),
                               progress_bar=False, parameters=parameters)  # fmt: skip
    assert not _errors(out)
    assert _images(out) >= 5
