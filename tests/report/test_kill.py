"""A run killed at any moment loses nothing, and runs started at once on one reports folder all finish (issue 21,
part 4). Each run is ``python -m analysis run`` in a subprocess, as cron starts it, on the CDNOW sample with a
notebooks folder of none or one tiny page (a run takes a few seconds); it is stopped with SIGKILL at a named point
(``ANALYSIS_KILL_AT``, :func:`analysis.report.lock.kill_point`) or by its own page, never by sleeping and hoping.
The folder two runs made at once is the start of every other test (copied, a few megabytes)."""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analysis.report.history import PART_FILE, SNAPSHOT_SCHEMA, as_of_dates, read_history
from analysis.report.lock import KILL_AT, LOCK_FILE
from tests.conftest import write_notebook

MARCH, JUNE = "1998-03-31", "1998-06-30"
WAITING = "waiting for the lock of"


def _command(sample: Path, out: Path, as_of: str, notebooks: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "analysis",
        "run",
        "--input",
        str(sample),
        "--out",
        str(out),
        "--as-of",
        as_of,
        "--notebooks",
        str(notebooks),
    ]


def _env(kill: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_AT}
    return {**env, KILL_AT: kill} if kill else env


def _run(sample: Path, out: Path, as_of: str, notebooks: Path, kill: str | None = None):
    return subprocess.run(
        _command(sample, out, as_of, notebooks), env=_env(kill), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def no_pages(tmp_path_factory) -> Path:
    """A notebooks folder with no page: a run prepares the data and builds the pack, with no kernel (2-3 s)."""
    return tmp_path_factory.mktemp("no_pages")


@pytest.fixture(scope="module")
def two_at_once(tmp_path_factory, lifetimes_datasets, no_pages):
    """Two runs of different as-of dates started at once on one reports folder, while this test holds the folder's
    lock: each says, in one line, that it waits, and both go on when the lock is let go. Returns the folder and
    each run's (return code, standard output, standard error)."""
    out = tmp_path_factory.mktemp("two_at_once") / "reports"
    out.mkdir()
    sample = lifetimes_datasets / "CDNOW_sample.txt"
    with open(out / LOCK_FILE, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        runs = [
            subprocess.Popen(
                _command(sample, out, as_of, no_pages),
                env=_env(None),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for as_of in (MARCH, JUNE)
        ]
        before = []
        for run in runs:  # each has prepared its data and waits at the pack
            lines = []
            while not lines or WAITING not in lines[-1]:
                line = run.stdout.readline()
                assert line, f"the run ended before it waited: {''.join(lines)} {run.stderr.read()}"
                lines.append(line)
            before.append("".join(lines))
    results = []
    for run, said in zip(runs, before, strict=True):
        rest, errors = run.communicate(timeout=300)
        results.append((run.returncode, said + rest, errors))
    return out, results


def _copy(folder: Path, tmp_path: Path) -> Path:
    shutil.copytree(folder, tmp_path / "reports", symlinks=True)
    return tmp_path / "reports"


def _runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0].isdigit())


def _status(run_dir: Path) -> str | None:
    path = run_dir / "run.json"
    return json.loads(path.read_text(encoding="utf-8"))["status"] if path.exists() else None


def test_two_runs_started_at_once_both_finish_and_the_history_holds_both_dates(two_at_once):
    out, results = two_at_once
    for code, said, errors in results:
        assert code == 0, errors
        assert said.count(WAITING) == 1 and "another run is writing the history and latest" in said
        assert "report: " in said.splitlines()[-1]
    assert as_of_dates(out / "history") == [date.fromisoformat(MARCH), date.fromisoformat(JUNE)]
    runs = _runs(out)
    assert len(runs) == 2 and [_status(r) for r in runs] == ["ok", "ok"]  # the same second, two names
    assert (out / "latest").resolve() in runs
    assert {json.loads((r / "run.json").read_text(encoding="utf-8"))["parameters"]["as_of"] for r in runs} == {
        MARCH,
        JUNE,
    }


def _history_reads(out: Path, dates: list) -> None:
    """Every partition of the history is whole and reads, alone and all together, and nothing else is visible."""
    history = out / "history"
    visible = sorted(p.name for p in history.iterdir() if not p.name.startswith("."))
    assert visible == [f"as_of={d.isoformat()}" for d in dates]
    rows = 0
    for name in visible:
        assert sorted(p.name for p in (history / name).iterdir() if not p.name.startswith(".")) == [PART_FILE]
        table = pq.read_table(history / name / PART_FILE)
        assert table.schema.names == SNAPSHOT_SCHEMA.names and table.num_rows == 2357
        rows += table.num_rows
    assert len(read_history(history)) == rows


def _kernel_page(folder: Path, pid_file: Path) -> Path:
    """A notebooks folder whose one page adds a column to the customer table, then kills the run (its parent)."""
    folder.mkdir()
    write_notebook(
        folder / "01_killer.ipynb",
        f"""import os, signal
from pathlib import Path
import pandas as pd
from analysis.report import open_stage
st = open_stage(run_dir)
st.add_columns(pd.DataFrame({{"customer_id": st.customers["customer_id"], "half_done": 1}}))
Path({str(pid_file)!r}).write_text(str(os.getpid()))
os.kill(os.getppid(), signal.SIGKILL)""",
    )
    return folder


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # ended, not yet reaped by its new parent


def test_a_run_killed_at_any_point_leaves_latest_and_the_history_whole_and_the_next_run_succeeds(
    two_at_once, tmp_path, lifetimes_datasets, no_pages
):
    out = _copy(two_at_once[0], tmp_path)
    sample = lifetimes_datasets / "CDNOW_sample.txt"
    latest, dates = (out / "latest").resolve(), as_of_dates(out / "history")
    pid_file = tmp_path / "kernel.pid"
    # (where, as-of, notebooks, what it leaves under a hidden name); a rerun's history write killed is in
    # tests/report/test_history_safety.py
    points = [
        ("prepare_write", JUNE, no_pages, ".staging~*"),  # in the middle of writing the prepared data
        ("prepare", JUNE, no_pages, ".staging~*"),  # the data prepared into the staging folder, not yet named
        ("page", JUNE, _kernel_page(tmp_path / "killer", pid_file), None),  # its page has written the table
        ("pack_step:tier_table", JUNE, no_pages, None),  # customers.xlsx written, the lock held
        ("history_write", "1998-05-31", no_pages, "history/.tmp-as_of=1998-05-31~*/part-0.parquet"),
    ]
    for point, as_of, notebooks, left in points:
        killed = _run(sample, out, as_of, notebooks, kill=None if point == "page" else point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        assert (out / "latest").resolve() == latest and _status(latest) == "ok", point
        _history_reads(out, dates)
        statuses = [_status(r) for r in _runs(out)]
        assert statuses.count("ok") == 2 and set(statuses) <= {"ok", "incomplete"}, point  # the killed: incomplete
        assert left is None or len(list(out.glob(left))) == 1, point  # (the next run removes it)
    kernel = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not _ended(kernel) and time.monotonic() < deadline:  # its parent gone, the page's kernel stops itself
        time.sleep(0.2)
    assert _ended(kernel)

    done = _run(sample, out, "1998-05-31", no_pages)
    assert done.returncode == 0, done.stderr
    now = (out / "latest").resolve()
    assert now != latest and _status(now) == "ok" and (now / "index.html").is_file()
    _history_reads(out, sorted([*dates, date.fromisoformat("1998-05-31")]))
    leftovers = [p for p in [*out.iterdir(), *(out / "history").rglob("*")] if "~" in p.name]
    assert leftovers == []  # what the killed runs left is gone
    killed_runs = [r for r in _runs(out) if _status(r) != "ok"]
    assert len(killed_runs) == 3 and {_status(r) for r in killed_runs} == {"incomplete"}  # prepare's never named


def test_a_truncated_history_partition_is_one_error_naming_it_and_moving_it_aside_lets_the_run_go_on(
    two_at_once, tmp_path, lifetimes_datasets, no_pages
):
    out = _copy(two_at_once[0], tmp_path)
    part = out / "history" / f"as_of={MARCH}" / PART_FILE
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # a copy that stopped halfway
    latest = (out / "latest").resolve()
    failed = _run(lifetimes_datasets / "CDNOW_sample.txt", out, JUNE, no_pages)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith(f"error: the history snapshot {part} cannot be read (")
    assert f"mv {part.parent} {out / 'history-set-aside' / part.parent.name}) and run again" in failed.stderr
    assert (out / "latest").resolve() == latest and len(_runs(out)) == 2  # stopped before preparing anything
    (out / "history-set-aside").mkdir()
    part.parent.rename(out / "history-set-aside" / part.parent.name)  # as the message says
    assert as_of_dates(out / "history") == [date.fromisoformat(JUNE)] and len(read_history(out / "history")) == 2357
