"""Every real shop gets its report (issue 24): small, sparse, B2B and dense shops run end to end with default
settings, each completing with every page and the whole pack; a stage the data cannot support declines with its
reason, and its columns stay empty in the customer table."""

import json

import pandas as pd
import pytest

from analysis.report.declines import read_declines
from analysis.report.runner import notebooks_in, run_report
from tests.conftest import ROOT
from tests.shapes import SHAPES, write_shape

PACK = ["index.html", "00_summary.html", "00_summary_zh.html", "customers.csv", "customers.xlsx", "summary.pptx",
        "summary_zh.pptx", "quarantine.csv", "quality.json", "run.json"]
COLUMNS = {"clusters": ["cluster", "cluster_name", "cluster_name_zh"],
           "clv": ["expected_purchases", "p_alive", "expected_spend", "clv", "clv_low", "clv_high"],
           "churn": ["churn_risk", "risk_band", "risk_band_zh", "churn_reasons", "churn_reasons_zh", "value_at_risk"]}


@pytest.fixture(scope="module")
def shop_runs(tmp_path_factory, page_kernel):
    """One report run per shape, made on first use: ``{shape: run directory}``."""
    base, runs = tmp_path_factory.mktemp("shapes"), {}

    def run(shape: str):
        if shape not in runs:
            path, as_of = write_shape(shape, base)
            runs[shape] = run_report(str(path), as_of=as_of, out_dir=base / shape, crm_systems=["salesforce"],
                                     log=lambda _: None, kernel=page_kernel)
        return runs[shape]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_completes_with_every_page_and_the_whole_pack(shop_runs, shape):
    run_dir = shop_runs(shape)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    pages = [f"{p.stem}.html" for p in notebooks_in(ROOT / "notebooks")]
    assert record["status"] == "ok" and record["pages"] == pages
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()
    for name in [*PACK, *pages]:
        assert (run_dir / name).is_file(), name
    for page in pages:
        html = (run_dir / page).read_text(encoding="utf-8")
        assert "Traceback" not in html and "StageDeclined" not in html, page
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html, page  # no warning on the page
    declines = read_declines(run_dir)
    assert record["declines"] == [{"page": next(p[:-5] for p in pages if p.endswith(f"_{d['stage']}.html")), **d}
                                  for d in declines]
    table = pd.read_csv(run_dir / "customers.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for d in declines:
        assert d["en"] and d["zh"] and d["en"] != d["zh"]
        assert all((table[c] == "").all() for c in COLUMNS[d["stage"]]), d["stage"]
        stage_json = json.loads((run_dir / STAGE_JSON[d["stage"]]).read_text(encoding="utf-8"))
        assert stage_json["declined"] == {"en": d["en"], "zh": d["zh"]}
    assert ("Not made for this data" in index) == bool(declines)
    quality = json.loads((run_dir / "quality.json").read_text(encoding="utf-8"))
    assert table["tier"].ne("").all() and len(table) == quality["customers_total"]
    declined, model, said = EXPECTED[shape]
    assert {d["stage"] for d in declines} == declined
    assert all(any(words in d["en"] for d in declines) for words in said), [d["en"] for d in declines]
    if "clv" not in declined:
        clv = json.loads((run_dir / "clv.json").read_text(encoding="utf-8"))
        assert clv["chosen_label"]["en"] == model
        assert model in (run_dir / "00_summary.html").read_text(encoding="utf-8")  # the model as people name it


STAGE_JSON = {"clusters": "clusters.json", "clv": "clv.json", "churn": "churn.json"}
NO_DROPOUT = "NBD (no dropout)"
# shape: (the stages that decline, the CLV model chosen where CLV runs, words of the reasons)
EXPECTED = {
    "tiny": ({"churn"}, NO_DROPOUT, ["too little history to check a churn score"]),
    "nobody_twice": ({"clusters", "clv", "churn"}, None, ["has bought on a second day yet",
                                                           "bought on more than one day"]),
    "few_repeaters": (set(), "Pareto/NBD", []),
    "b2b_accounts": ({"churn"}, NO_DROPOUT, ["0 stopped buying"]),
    "one_week": ({"clv", "churn"}, None, ["The data cover only 7 days"]),
    "one_day": ({"clusters", "clv", "churn"}, None, ["All purchases fall on one day"]),
    "steady_buyers": ({"churn"}, NO_DROPOUT, ["better than guessing"]),
    "dense_panel": (set(), NO_DROPOUT, []),
}
