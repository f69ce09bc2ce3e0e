"""The run history: snapshots partitioned by as-of date, replaced on rerun, and the tier migration between
two of them (exact tiny cases and the CDNOW sample at two as-of dates)."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.errors import UserError
from analysis.report import history
from analysis.report.history import append_snapshot, migration, previous_as_of, read_history

ORDER = ["vip", "important", "ordinary", "potential"]


def _frame(rows):
    """customer_id, tier label, monetary, last purchase."""
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "tier": [r[1] for r in rows],
            "monetary": [float(r[2]) for r in rows],
            "last_purchase": pd.to_datetime([r[3] for r in rows]),
        }
    )


# January review: six customers; February: a and b swap VIP/Important, c slips to Ordinary, d moves up from
# Potential to Ordinary, e stays Ordinary, f is lost, g and h are new.
JAN = _frame(
    [
        ("a", "VIP", 500, "2024-01-20"),
        ("b", "Important", 200, "2024-01-05"),
        ("c", "Important", 150, "2023-12-01"),
        ("d", "Potential", 20, "2024-01-30"),
        ("e", "Ordinary", 40, "2023-11-11"),
        ("f", "Ordinary", 30, "2023-10-01"),
    ]
)
FEB = _frame(
    [
        ("a", "Important", 510, "2024-01-20"),
        ("b", "VIP", 420, "2024-02-14"),
        ("c", "Ordinary", 150, "2023-12-01"),
        ("d", "Ordinary", 60, "2024-02-02"),
        ("e", "Ordinary", 55, "2024-02-29"),
        ("g", "Potential", 25, "2024-02-10"),
        ("h", "Potential", 10, "2024-02-20"),
    ]
)


def test_exact_moves_new_lost_and_bought_again(config):
    m = migration(JAN, FEB, ORDER, config["tiers"]["labels"], previous_as_of="2024-01-31", as_of="2024-02-29")
    moves = m.moves.set_index("customer_id")
    assert moves["move"].to_dict() == {"a": "down", "b": "up", "c": "down", "d": "up", "e": "same", "f": "lost",
                                       "g": "new", "h": "new"}  # fmt: skip
    assert {k: m.report[k] for k in ("up", "down", "same", "new", "lost")} == {
        "up": 2, "down": 2, "same": 1, "new": 2, "lost": 1}  # fmt: skip
    expected = pd.DataFrame(
        [[0, 0, 0, 2, 0], [0, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 0, 1, 0, 1], [0, 0, 1, 0, 0]],
        index=pd.Index(["new", *ORDER], name="tier_before"),
        columns=pd.Index([*ORDER, "lost"], name="tier_after"),
    )
    pd.testing.assert_frame_equal(m.counts, expected)
    # value: this period's for everyone in February, January's for the lost customer f
    assert m.value.at["new", "potential"] == 35.0
    assert m.value.at["vip", "important"] == 510.0
    assert m.value.at["important", "ordinary"] == 150.0
    assert m.value.at["ordinary", "ordinary"] == 55.0 and m.value.at["ordinary", "lost"] == 30.0
    assert m.value.to_numpy().sum() == 510 + 420 + 150 + 60 + 55 + 25 + 10 + 30
    # bought again after 31 January: b (Important), d (Potential), e (Ordinary); not a, c, nor the lost f
    again = m.bought_again
    assert again["customers"].to_dict() == {"vip": 1, "important": 2, "ordinary": 2, "potential": 1}
    assert again["bought_again"].to_dict() == {"vip": 0, "important": 1, "ordinary": 1, "potential": 1}
    assert again["share"].to_dict() == {"vip": 0.0, "important": 0.5, "ordinary": 0.5, "potential": 1.0}
    assert json.loads(json.dumps(m.report))["bought_again"]["important"] == {
        "customers": 2, "bought_again": 1, "share": 0.5}  # fmt: skip


def test_a_tier_without_customers_last_period_has_no_share(config):
    m = migration(JAN[JAN["tier"] != "VIP"], FEB, ORDER, config["tiers"]["labels"], previous_as_of="2024-01-31")
    assert m.bought_again.at["vip", "customers"] == 0 and np.isnan(m.bought_again.at["vip", "share"])
    assert m.report["bought_again"]["vip"]["share"] is None


def test_two_snapshots_matrix_totals_match_both_and_a_rerun_replaces(tmp_path, config):
    labels = config["tiers"]["labels"]
    store = tmp_path / "history"
    append_snapshot(store, JAN, "2024-01-31", labels)
    stale = FEB.assign(tier="Potential")
    append_snapshot(store, stale, "2024-02-29", labels)
    path = append_snapshot(store, FEB, "2024-02-29", labels)  # the rerun replaces, never duplicates
    assert path == store / "as_of=2024-02-29"
    assert sorted(p.name for p in store.iterdir()) == ["as_of=2024-01-31", "as_of=2024-02-29"]
    assert [p.name for p in path.iterdir()] == ["part-0.parquet"]
    stored = read_history(store)
    assert stored.groupby("as_of").size().to_dict() == {pd.Timestamp("2024-01-31"): 6,
                                                        pd.Timestamp("2024-02-29"): 7}  # fmt: skip
    feb = read_history(store, "2024-02-29")
    assert feb["tier"].tolist() == FEB["tier"].tolist()
    assert feb["tier_key"].tolist() == ["important", "vip", "ordinary", "ordinary", "ordinary", "potential",
                                        "potential"]  # fmt: skip
    assert previous_as_of(store, "2024-02-29").isoformat() == "2024-01-31"
    assert previous_as_of(store, "2024-01-31") is None
    m = history.migration_since_previous(store, "2024-02-29", ORDER, labels)
    assert m.report["previous_as_of"] == "2024-01-31" and m.report["as_of"] == "2024-02-29"
    _assert_totals(m, read_history(store, "2024-01-31"), feb)


def _assert_totals(m, previous, current):
    """Row sums = the previous snapshot's tiers + new; column sums = the current snapshot's tiers + lost."""
    rows, cols = m.counts.sum(axis=1), m.counts.sum(axis=0)
    before = previous["tier_key"].value_counts()
    after = current["tier_key"].value_counts()
    new = len(set(current["customer_id"]) - set(previous["customer_id"]))
    lost = len(set(previous["customer_id"]) - set(current["customer_id"]))
    assert rows.drop("new").to_dict() == {k: int(before.get(k, 0)) for k in ORDER}
    assert cols.drop("lost").to_dict() == {k: int(after.get(k, 0)) for k in ORDER}
    assert rows["new"] == new and cols["lost"] == lost
    assert rows.sum() == len(previous) + new == len(current) + lost
    assert m.counts.at["new", "lost"] == 0
    total_value = (
        current["monetary"].sum()
        + previous.set_index("customer_id")["monetary"].drop(current["customer_id"], errors="ignore").sum()
    )
    assert m.value.to_numpy().sum() == pytest.approx(total_value)


def test_a_renamed_label_does_not_break_the_migration(tmp_path, config):
    labels = config["tiers"]["labels"]
    store = tmp_path / "history"
    append_snapshot(store, JAN, "2024-01-31", labels)
    renamed = {**labels, "vip": ["Platinum", "白金客户"], "ordinary": ["Standard", "标准客户"]}
    relabel = {"VIP": "Platinum", "Ordinary": "Standard"}
    append_snapshot(store, FEB.assign(tier=FEB["tier"].replace(relabel)), "2024-02-29", renamed)
    m = history.migration_since_previous(store, "2024-02-29", ORDER, renamed)
    plain = migration(JAN, FEB, ORDER, labels, previous_as_of="2024-01-31")
    pd.testing.assert_frame_equal(m.counts, plain.counts)
    # without stored keys, the labels in force map both languages
    zh = FEB.assign(tier=FEB["tier"].map({v[0]: v[1] for v in labels.values()}))
    pd.testing.assert_frame_equal(migration(JAN, zh, ORDER, labels, "2024-01-31").counts, plain.counts)


def test_unknown_tiers_and_missing_dates_are_one_line_errors(tmp_path, config):
    labels = config["tiers"]["labels"]
    with pytest.raises(UserError, match="not in tiers.labels: Gold"):
        migration(JAN, FEB.assign(tier="Gold"), ORDER, labels, previous_as_of="2024-01-31")
    with pytest.raises(UserError, match="no as-of date"):
        migration(JAN, FEB, ORDER, labels)
    with pytest.raises(UserError, match="not a date"):
        append_snapshot(tmp_path, JAN, "last month")
    with pytest.raises(UserError, match="repeats 1 customer ids"):
        append_snapshot(tmp_path, pd.concat([JAN, JAN.head(1)]), "2024-01-31")


def test_an_empty_store_reads_empty_and_has_no_previous(tmp_path):
    assert read_history(tmp_path / "nothing").empty
    assert previous_as_of(tmp_path / "nothing", "2024-01-31") is None
    assert history.migration_since_previous(tmp_path / "nothing", "2024-01-31", ORDER) is None


def test_snapshots_of_runs_with_different_stages_read_together(tmp_path, config):
    labels = config["tiers"]["labels"]
    append_snapshot(tmp_path, JAN, "2024-01-31", labels)
    churned = FEB.assign(churn_risk=np.linspace(0, 1, len(FEB)), risk_band="low", clv=1.5, cluster_name="x")
    append_snapshot(tmp_path, churned, "2024-02-29", labels)
    both = read_history(tmp_path)
    assert both.loc[both["as_of"] == "2024-01-31", "churn_risk"].isna().all()
    assert both.loc[both["as_of"] == "2024-02-29", "churn_risk"].tolist() == churned["churn_risk"].tolist()
    assert set(both.columns) == {*history.SNAPSHOT_SCHEMA.names, "as_of"}


def test_cdnow_at_two_as_of_dates(tmp_path, lifetimes_datasets, config):
    from analysis import segments
    from analysis.data.pipeline import prepare
    from analysis.stage import Frames

    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    store = tmp_path / "history"
    labels = config["tiers"]["labels"]
    tables = {}
    for as_of in ("1997-12-31", "1998-06-30"):
        customers = prepare(sample, config, as_of).customers
        seg = segments.run(Frames(customers_table=customers), config).columns
        table = customers.merge(seg.drop(columns=["recency_days", "frequency", "monetary"]), on="customer_id")
        tables[as_of] = table
        append_snapshot(store, table, as_of, labels)
    m = history.migration_since_previous(store, "1998-06-30", list(labels), labels)
    previous, current = read_history(store, "1997-12-31"), read_history(store, "1998-06-30")
    assert len(previous) == len(tables["1997-12-31"]) and len(current) == len(tables["1998-06-30"])
    _assert_totals(m, previous, current)
    assert m.report["up"] > 0 and m.report["down"] > 0
    # bought again: exactly the customers whose last purchase moved past the end of 1997
    later = tables["1998-06-30"].set_index("customer_id")["last_purchase"] > pd.Timestamp("1997-12-31")
    assert int(m.bought_again["bought_again"].sum()) == int(later.reindex(previous["customer_id"]).sum())


def test_the_transition_chart_shows_every_cell_and_names_tiers_in_the_language(config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.report.plots import plot_transition_matrix

    m = migration(JAN, FEB, ORDER, config["tiers"]["labels"], previous_as_of="2024-01-31", as_of="2024-02-29")
    ax = plot_transition_matrix(m, lang="zh", config=config)
    cells = [t.get_text() for t in ax.texts]
    assert cells == [f"{v:,.0f}" for v in m.counts.to_numpy().ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["新增", "VIP客户", "重要客户", "普通客户", "潜在客户"]
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "流失"
    assert "2024-01-31 → 2024-02-29" in ax.get_title()
    value = plot_transition_matrix(m, value=True, config=config)
    assert "510" in [t.get_text() for t in value.texts] and "(value)" in value.get_title()
    plt.close("all")


def test_a_missing_id_is_not_taken_for_a_repeated_one():
    assert len(history.snapshot(pd.DataFrame({"customer_id": ["a", None, "b"]}))) == 3
    with pytest.raises(UserError, match="repeats 1 customer ids"):
        history.snapshot(pd.DataFrame({"customer_id": ["a", "a", "b"]}))
