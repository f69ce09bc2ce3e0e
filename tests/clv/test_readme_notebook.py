"""The README's 'In a notebook' section runs as written: a lifetimes notebook with its imports changed, then the
package's backtest, CLV intervals and the CLV stage on an analyst's own DataFrame, and the fitters with
static covariates, on the bundled CDNOW file."""

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def notebook_code() -> list[str]:
    """The Python blocks of the README's 'In a notebook' section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## In a notebook\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.slow
def test_the_readme_notebook_runs_and_gives_numbers_everywhere(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw").symlink_to(ROOT / "data" / "raw")
    monkeypatch.chdir(tmp_path)
    blocks = notebook_code()
    assert len(blocks) == 3 and "from analysis.clv import BetaGeoFitter" in blocks[0]
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    summary, values, result = namespace["summary"], namespace["values"], namespace["result"]
    assert len(summary) == 23_570 and (tmp_path / "bgf.pkl").exists()
    for column in ("p_alive", "next_year", "clv"):
        assert summary[column].notna().all(), column
    assert namespace["best"] in ("bgnbd", "pareto", "mbgnbd")
    assert np.all(values["clv_low"] <= values["clv"]) and np.all(values["clv"] <= values["clv_high"])
    assert len(result.columns) == 23_570 and result.summary("en").strip()
    pnbd = namespace["pnbd"]  # the covariates' block: a coefficient per process, its standard error and test
    assert list(pnbd.coefficients_.index) == ["trans.first_order=30+", "life.first_order=30+"]
    assert np.all(np.isfinite(pnbd.standard_errors_)) and pnbd.lr_test_["df"] == 2
