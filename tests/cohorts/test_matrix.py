"""The cohort matrix on tiny frames computed by hand: retention, revenue, cumulative value per customer won, month,
week and quarter periods, a mid-month as-of date with the incomplete last period, orders of several lines, rows
after the as-of date, and no amounts."""

import numpy as np
import pandas as pd
import pytest

from analysis import cohorts
from analysis.cohorts.matrix import periods_between
from analysis.cohorts.stage import with_completeness


def _tx(rows):
    """Transactions from (customer, order, day, amount) rows."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    return frame.assign(
        timestamp=pd.to_datetime(frame["timestamp"], format="ISO8601"), amount=frame["amount"].astype(float)
    )


# a: won in January (two orders), back in March; b: won on 31 January, never back; c: won in February, back in March.
MONTHLY = _tx([("a", "1", "2024-01-05 10:00", 10.0), ("a", "2", "2024-01-20", 5.0),
               ("b", "3", "2024-01-31 23:59", 20.0), ("c", "4", "2024-02-10", 7.0), ("a", "5", "2024-03-01", 3.0),
               ("c", "6", "2024-03-15", 1.5)])  # fmt: skip


def _rows(matrix: pd.DataFrame) -> list[tuple]:
    columns = ["cohort", "period", "customers", "active_customers", "retention", "orders", "revenue",
               "revenue_per_customer", "cumulative_revenue_per_customer"]  # fmt: skip
    out = matrix[columns].assign(cohort=matrix["cohort"].dt.strftime("%Y-%m-%d"))
    return [tuple(r) for r in out.itertuples(index=False)]


def test_monthly_cohorts_by_hand_with_a_mid_month_as_of():
    matrix = cohorts.cohort_matrix(MONTHLY, pd.Timestamp("2024-03-20"), "month")
    assert list(matrix.columns) == list(cohorts.COLUMNS)
    assert _rows(matrix) == [
        ("2024-01-01", 0, 2, 2, 1.0, 3, 35.0, 17.5, 17.5),
        ("2024-01-01", 1, 2, 0, 0.0, 0, 0.0, 0.0, 17.5),  # February: nobody of January came back
        ("2024-01-01", 2, 2, 1, 0.5, 1, 3.0, 1.5, 19.0),  # March (not over on the 20th)
        ("2024-02-01", 0, 1, 1, 1.0, 1, 7.0, 7.0, 7.0),
        ("2024-02-01", 1, 1, 1, 1.0, 1, 1.5, 1.5, 8.5),
    ]
    done = with_completeness(matrix, pd.Timestamp("2024-03-20"), "month")["complete"].tolist()
    assert done == [True, True, False, True, False]  # March is not over on the 20th
    at_end = with_completeness(matrix, pd.Timestamp("2024-03-31"), "month")["complete"]
    assert at_end.all()  # on the last day of March it is


def test_weeks_start_on_monday():
    # 2024-01-01 is a Monday; the 7th a Sunday (still the first week), the 8th the next Monday
    tx = _tx([("a", "1", "2024-01-03", 10.0), ("b", "2", "2024-01-07 22:00", 6.0), ("b", "3", "2024-01-08", 2.0),
              ("a", "4", "2024-01-15", 4.0)])  # fmt: skip
    matrix = cohorts.cohort_matrix(tx, pd.Timestamp("2024-01-17"), "week")
    assert _rows(matrix) == [
        ("2024-01-01", 0, 2, 2, 1.0, 2, 16.0, 8.0, 8.0),
        ("2024-01-01", 1, 2, 1, 0.5, 1, 2.0, 1.0, 9.0),
        ("2024-01-01", 2, 2, 1, 0.5, 1, 4.0, 2.0, 11.0),
    ]
    assert with_completeness(matrix, pd.Timestamp("2024-01-17"), "week")["complete"].tolist() == [True, True, False]
    assert with_completeness(matrix, pd.Timestamp("2024-01-21"), "week")["complete"].all()  # Sunday ends the week


def test_quarters_and_an_as_of_on_the_quarters_last_day():
    tx = _tx([("a", "1", "2023-11-20", 5.0), ("a", "2", "2024-02-01", 5.0), ("b", "3", "2024-03-31", 8.0),
              ("b", "4", "2024-04-01", 2.0)])  # fmt: skip
    matrix = cohorts.cohort_matrix(tx, pd.Timestamp("2024-06-30"), "quarter")
    assert _rows(matrix) == [
        ("2023-10-01", 0, 1, 1, 1.0, 1, 5.0, 5.0, 5.0),
        ("2023-10-01", 1, 1, 1, 1.0, 1, 5.0, 5.0, 10.0),
        ("2023-10-01", 2, 1, 0, 0.0, 0, 0.0, 0.0, 10.0),
        ("2024-01-01", 0, 1, 1, 1.0, 1, 8.0, 8.0, 8.0),
        ("2024-01-01", 1, 1, 1, 1.0, 1, 2.0, 2.0, 10.0),
    ]
    assert with_completeness(matrix, pd.Timestamp("2024-06-30"), "quarter")["complete"].all()


def test_an_order_of_several_lines_counts_once_and_rows_after_the_as_of_date_not_at_all():
    tx = _tx([("a", "1", "2024-01-05", 10.0), ("a", "1", "2024-01-05", 2.5), ("a", "2", "2024-02-05", 1.0),
              ("a", "3", "2024-04-02", 100.0)])  # fmt: skip
    matrix = cohorts.cohort_matrix(tx, pd.Timestamp("2024-02-29"), "month")
    assert _rows(matrix) == [("2024-01-01", 0, 1, 1, 1.0, 1, 12.5, 12.5, 12.5),
                             ("2024-01-01", 1, 1, 1, 1.0, 1, 1.0, 1.0, 13.5)]  # fmt: skip


def test_without_amounts_orders_are_counted_and_revenue_is_absent():
    matrix = cohorts.cohort_matrix(MONTHLY.assign(amount=np.nan), pd.Timestamp("2024-03-20"), "month")
    assert matrix["orders"].tolist() == [3, 0, 1, 1, 1]
    assert matrix["retention"].tolist() == [1.0, 0.0, 0.5, 1.0, 1.0]
    for column in ("revenue", "revenue_per_customer", "cumulative_revenue_per_customer"):
        assert matrix[column].isna().all(), column


def test_cents_add_up_exactly():
    """Money is summed as exact decimals: 0.1 + 0.2 is 0.3 in the cell and in the total."""
    tx = _tx([("a", str(i), "2024-01-01", 0.1 if i % 2 else 0.2) for i in range(1000)])
    matrix = cohorts.cohort_matrix(tx, pd.Timestamp("2024-01-31"), "month")
    assert matrix["revenue"].tolist() == [150.0]


@pytest.mark.parametrize(("start", "end", "period", "n"), [
    ("2023-11-01", "2024-02-01", "month", 3), ("2023-10-01", "2024-04-01", "quarter", 2),
    ("2024-01-01", "2024-01-29", "week", 4), ("2024-03-01", "2024-03-01", "month", 0),
])  # fmt: skip
def test_periods_between_first_days(start, end, period, n):
    assert periods_between(pd.Timestamp(start), pd.Timestamp(end), period) == n
