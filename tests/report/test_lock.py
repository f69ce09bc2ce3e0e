"""The reports folder's lock, the names that tell what a killed run left, and the kill points' test hook."""

import os
import socket
import subprocess
import sys
import threading
import time

from analysis.report import lock
from analysis.report.lock import KILL_AT, abandoned, kill_point, owned, remove_abandoned, reports_lock, with_kill_points


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_without_the_variable_the_kill_points_do_nothing(monkeypatch):
    monkeypatch.delenv(KILL_AT, raising=False)
    kill_point("prepare")  # still here
    log = [].append
    assert with_kill_points(log) is log  # not even a wrapper
    monkeypatch.setenv(KILL_AT, "history_write")
    kill_point("prepare")  # another point: still here
    events = []
    with_kill_points(events.append)({"event": "pack_step", "step": "tier_table"})
    assert events == [{"event": "pack_step", "step": "tier_table"}]


def test_a_kill_point_kills_the_process_at_the_point_named():
    code = "from analysis.report.lock import with_kill_points\nlog = with_kill_points(print)\n" + "".join(
        f"log({{'event': 'pack_step', 'step': {s!r}}})\n" for s in ("tier_table", "history", "summary")
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, KILL_AT: "pack_step:history"}, capture_output=True, text=True
    )
    assert done.returncode == -9 and done.stdout.count("pack_step") == 2  # said history's event, then stopped


def test_a_name_is_abandoned_only_when_its_process_on_this_host_has_ended(tmp_path):
    mine = tmp_path / owned(".staging")
    host = socket.gethostname()
    assert mine.name.startswith(f".staging~{host}~{os.getpid()}~") and not abandoned(mine)
    dead = tmp_path / f".staging~{host}~{_dead_pid()}~abcd1234"
    assert abandoned(dead)
    assert not abandoned(tmp_path / f".staging~another-host~{_dead_pid()}~abcd1234")  # cannot be asked: kept
    assert not abandoned(tmp_path / ".staging-123-456") and not abandoned(tmp_path / "20240131-120000-abcdef12")
    for path in (mine, dead):
        path.mkdir()
        (path / "transactions.parquet").write_text("x")
    assert remove_abandoned([mine, dead]) == [dead] and mine.is_dir() and not dead.exists()


def test_a_second_holder_says_it_waits_in_one_line_and_gets_the_lock_when_the_first_lets_go(tmp_path):
    events, got = [], threading.Event()

    def second():
        with reports_lock(tmp_path, events.append):
            got.set()

    with reports_lock(tmp_path, lambda _: None):
        waiter = threading.Thread(target=second)
        waiter.start()
        deadline = time.monotonic() + 30
        while not events and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not got.is_set()
        holder = (tmp_path / lock.LOCK_FILE).read_text()
    waiter.join(30)
    assert got.is_set() and len(events) == 1 and events[0]["event"] == "waiting"
    assert holder.startswith(f"pid {os.getpid()} on {socket.gethostname()} since ")
    assert events[0]["message"] == (
        f"waiting for the lock of {tmp_path} ({holder.strip()}): another run is writing the history and latest"
    )
