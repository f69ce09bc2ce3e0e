"""A whole report run of the CDNOW 1/10 sample, run twice with the same input and settings, shared by the
tests of the run directory, the landing page and the browser test (the pipeline as a scheduler runs it)."""

import pytest

from analysis.report.runner import run_report


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory, lifetimes_datasets):
    """Two full runs (same input, same settings) into one reports folder; the second is ``latest``."""
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
        )
        for _ in range(2)
    ]
