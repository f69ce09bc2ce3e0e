"""The history store under kills and damage: a snapshot appears whole or not at all, what a killed writer left is
cleaned up, a snapshot that cannot be read is one error naming it, and a run without tiers has no migration."""

import os
import shutil
import socket
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.errors import UserError
from analysis.report import history
from analysis.report.history import PART_FILE, append_snapshot, as_of_dates, check_store, read_history
from analysis.report.lock import KILL_AT

LABELS = {"vip": ["VIP", "重要价值客户"], "ordinary": ["Ordinary", "一般客户"]}
JAN = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c"],
        "tier": ["VIP", "Ordinary", "Ordinary"],
        "monetary": [100.0, 10.0, 5.0],
        "last_purchase": pd.to_datetime(["2024-01-20", "2024-01-05", "2023-12-01"]),
    }
)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


WRITE = """import sys
import pandas as pd
from analysis.report.history import append_snapshot
frame = pd.DataFrame({"customer_id": ["x", "y"], "tier": ["VIP", "VIP"], "monetary": [1.0, 2.0]})
append_snapshot(sys.argv[1], frame, sys.argv[2])"""


@pytest.mark.parametrize("day", ["2024-01-31", "2024-02-29"], ids=["a rerun", "a new date"])
def test_a_writer_killed_before_its_rename_leaves_the_store_as_it_was_and_the_next_cleans_up(tmp_path, day):
    store = tmp_path / "history"
    append_snapshot(store, JAN, "2024-01-31", LABELS)
    before = read_history(store)
    killed = subprocess.run(
        [sys.executable, "-c", WRITE, str(store), day], env={**os.environ, KILL_AT: "history_write"}, check=False
    )
    assert killed.returncode == -9
    left = [p for p in store.rglob("*") if "~" in p.name]
    assert len(left) == 1 and left[0].name.startswith(".")  # hidden: no reader sees it
    assert as_of_dates(store) == [pd.Timestamp("2024-01-31").date()]
    pd.testing.assert_frame_equal(read_history(store), before)  # the old January, whole
    append_snapshot(store, JAN.head(2), "2024-03-31", LABELS)  # the next writer
    assert not [p for p in store.rglob("*") if "~" in p.name]
    assert sorted(p.name for p in (store / "as_of=2024-01-31").iterdir()) == [PART_FILE]


def test_a_rerun_replaces_the_file_in_place_and_a_live_writers_temporary_is_kept(tmp_path):
    store = tmp_path / "history"
    append_snapshot(store, JAN, "2024-01-31", LABELS)
    live = store / f".tmp-as_of=2024-02-29~{socket.gethostname()}~{os.getpid()}~abcd1234"  # this process: alive
    dead = store / f".tmp-as_of=2024-02-29~{socket.gethostname()}~{_dead_pid()}~abcd1234"
    for path in (live, dead):
        path.mkdir()
    append_snapshot(store, JAN.head(1), "2024-01-31", LABELS)
    assert read_history(store)["customer_id"].tolist() == ["a"]
    assert live.is_dir() and not dead.exists()


def test_a_truncated_snapshot_is_one_error_naming_it_and_saying_what_to_do(tmp_path):
    store = tmp_path / "history"
    append_snapshot(store, JAN, "2024-01-31", LABELS)
    append_snapshot(store, JAN, "2024-02-29", LABELS)
    check_store(store)  # both whole: nothing to say
    check_store(tmp_path / "no history yet")
    part = store / "as_of=2024-01-31" / PART_FILE
    part.write_bytes(part.read_bytes()[:100])
    said = f"the history snapshot {part} cannot be read \\(.*\\): move its folder out of the history"
    with pytest.raises(UserError, match=said):
        check_store(store)
    with pytest.raises(UserError, match=said):
        read_history(store)  # reading it all names it too
    assert len(read_history(store, "2024-02-29")) == 3  # the other date still reads alone
    shutil.move(part.parent, tmp_path / "set-aside")
    check_store(store)
    assert history.previous_as_of(store, "2024-03-31") == pd.Timestamp("2024-02-29").date()


def test_a_file_whose_footer_reads_but_whose_data_is_damaged_is_named_when_read(tmp_path):
    store = tmp_path / "history"
    append_snapshot(store, JAN, "2024-01-31", LABELS)
    part = store / "as_of=2024-01-31" / PART_FILE
    data = bytearray(part.read_bytes())
    footer = pq.read_metadata(part)
    start = footer.row_group(0).column(0).data_page_offset
    data[start : start + 40] = b"\xff" * 40  # the first column's pages overwritten, the footer intact
    part.write_bytes(bytes(data))
    check_store(store)  # the footer alone looks whole
    with pytest.raises(UserError, match=f"the history snapshot {part} cannot be read"):
        read_history(store)


def test_a_snapshot_without_tiers_has_no_migration_either_way(tmp_path):
    store = tmp_path / "history"
    untiered = JAN.drop(columns="tier")
    append_snapshot(store, untiered, "2024-01-31", LABELS)  # a run without the segments page
    current = history.snapshot(JAN, LABELS)
    assert history.migration_since_previous(store, "2024-02-29", list(LABELS), LABELS, current) is None
    append_snapshot(store, JAN, "2024-02-29", LABELS)
    later = history.snapshot(untiered, LABELS)
    assert history.migration_since_previous(store, "2024-03-31", list(LABELS), LABELS, later) is None
    m = history.migration_since_previous(store, "2024-03-31", list(LABELS), LABELS, current)
    assert m is not None and m.report["same"] == 3
