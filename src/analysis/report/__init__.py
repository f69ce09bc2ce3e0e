"""The report run: the run directory notebooks share (``rundir``) and the runner that executes the
notebooks with papermill and renders their pages (``runner``)."""

from analysis.report.rundir import Stage, open_stage

__all__ = ["Stage", "open_stage"]
