"""A whole report run of the CDNOW 1/10 sample, run twice with the same input and settings, first in Chinese
then in English, shared by the tests of the run directory, the landing page, the Chinese pages and the browser
test (the pipeline as a scheduler runs it)."""

import pytest

from analysis.report.runner import run_report


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory, lifetimes_datasets, page_kernel):
    """Two full runs (same input, same settings; pages in Chinese, then in English) into one reports folder; the
    second is ``latest``. They run in
    the worker's shared kernel (a run starting its own is tested in ``test_runner.py`` and by the command line's
    tests)."""
    base = tmp_path_factory.mktemp("sample_runs")
    config = base / "config.yaml"
    config.write_text("clv:\n  bootstrap:\n    n: 5\n", encoding="utf-8")
    return [
        run_report(
            str(lifetimes_datasets / "CDNOW_sample.txt"),
            as_of="1998-06-30",
            config_path=str(config),
            out_dir=base / "reports",
            log=lambda _: None,
            kernel=page_kernel,
            lang=lang,
        )
        for lang in ("zh", "en")
    ]
