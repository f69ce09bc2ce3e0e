"""Acquisition cohorts (客户批次): customers grouped by when they first bought, and for each cohort and each period
since acquisition how many bought again (retention) and what they brought (revenue per customer won, cumulative).

Modules, in the order of the computation: ``matrix`` (the cohort matrix, computed in the SQL engine), ``stage``
(:func:`run`, the one call the notebook makes, :class:`CohortsResult`, the reconciliations and ``cohorts.csv``),
then the page: ``describe`` (every sentence, en/zh), ``show`` (the tables as the page shows them) and ``plots``.

    result = cohorts.run(st, st.config)
    st.add(result); cohorts.write_csv(result, st.run_dir, st.config)
    display(Markdown(result.summary(lang)))
    cohorts.plots.plot_retention_heatmap(result.tables["matrix"], lang=lang)
"""

from analysis.cohorts import describe, plots, show
from analysis.cohorts.describe import cohort_label, period_words
from analysis.cohorts.matrix import COLUMNS, PERIODS, cohort_matrix, complete, engine_cells, period_start
from analysis.cohorts.stage import (
    CohortsResult,
    comparison,
    csv_frame,
    pooled,
    read_matrix,
    reconciliation,
    run,
    short_history,
    write_csv,
)

__all__ = [
    "COLUMNS",
    "PERIODS",
    "CohortsResult",
    "cohort_label",
    "cohort_matrix",
    "comparison",
    "complete",
    "csv_frame",
    "describe",
    "engine_cells",
    "period_start",
    "period_words",
    "plots",
    "pooled",
    "read_matrix",
    "reconciliation",
    "run",
    "short_history",
    "show",
    "write_csv",
]
