"""The data-quality page's charts: what they draw for a file with and without quarantined rows."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.data import quality  # noqa: E402


def _quality(quarantined: dict[str, int]) -> dict:
    rows_in = 100 + sum(quarantined.values())
    return {"rows_in": rows_in, "quarantined": quarantined,
            "amount_quarantined": {k: float(v) for k, v in quarantined.items()}}


def test_quarantine_chart_bars_per_reason_or_a_sentence_when_nothing_was_set_aside():
    ax = quality.plot_quarantine(_quality({"duplicate_row": 3, "zero_amount": 1}))
    assert sorted(p.get_width() for p in ax.patches) == [1, 3]
    plt.close(ax.figure)
    ax = quality.plot_quarantine(_quality({}))
    assert not ax.axison and not ax.patches
    assert "No row was set aside" in ax.texts[0].get_text()
    plt.close(ax.figure)


def test_monthly_revenue_chart_has_thousands_separators():
    tx = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-05", "2024-02-05"]), "amount": [12000.0, 3000.0],
                       "customer_id": ["a", "b"]})
    ax = quality.plot_monthly_revenue(tx)
    ax.figure.canvas.draw()
    assert any("," in t.get_text() for t in ax.get_yticklabels())
    assert [p.get_height() for p in ax.patches] == [12000.0, 3000.0]
    plt.close(ax.figure)
