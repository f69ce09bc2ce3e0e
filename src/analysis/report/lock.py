"""The reports folder that runs share: its lock, what a killed run leaves behind, and the kill points.

Runs on one reports folder (``reports/``, from cron or by hand) work side by side in their own run
directories; what they share is the history store (``history/as_of=YYYY-MM-DD/``) and ``latest``. A run
takes the folder's lock (``reports/.lock``, an ``flock``) for its pack, from the history snapshot and the
tier migration to pointing ``latest``, so a second run waits there (and says so, one line) instead of
comparing against a history that is being written. The operating system lets go of the lock when its
process ends, however it ends: a killed run never leaves the folder locked.

Whatever a run writes outside its own run directory appears whole or not at all: it is written under a
hidden temporary name that carries its owner (:func:`owned`: ``NAME~host~pid~random``) and renamed into
place. A temporary whose owner process no longer runs is what a killed run left; the next run removes it
(:func:`remove_abandoned`), and readers never see it (the names start with a dot).

Test hook: :func:`kill_point` stops the process with ``SIGKILL`` where the environment variable
``ANALYSIS_KILL_AT`` names the point (``prepare_write``, ``prepare``, ``history_write``, ``latest``, or a
progress event as ``event:step``, e.g. ``step_started:01_quality`` or ``pack_step:tier_table``), so a test
kills a run at the same place every time instead of sleeping and hoping. Unset (always, outside the tests), it costs one
lookup in ``os.environ``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import secrets
import shutil
import signal
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

KILL_AT = "ANALYSIS_KILL_AT"
LOCK_FILE = ".lock"
SEPARATOR = "~"  # in no host name, so NAME~host~pid~random splits back into its parts


def kill_point(name: str) -> None:
    """Test hook: ``SIGKILL`` this process here when ``ANALYSIS_KILL_AT`` is ``name``; otherwise nothing."""
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def with_kill_points(log: Callable[[dict], None]) -> Callable[[dict], None]:
    """``log`` (a run's progress reporter), stopping the process after the event ``ANALYSIS_KILL_AT`` names
    (``event`` or ``event:step``): every progress event is a kill point. ``log`` itself when the variable is unset."""
    if not os.environ.get(KILL_AT):
        return log

    def logged(event: dict) -> None:
        log(event)
        kill_point(f"{event['event']}:{event['step']}" if "step" in event else event["event"])

    return logged


def owned(name: str) -> str:
    """A temporary name for ``name`` that says whose it is: ``name~host~pid~random``."""
    return SEPARATOR.join((name, socket.gethostname(), str(os.getpid()), secrets.token_hex(4)))


def abandoned(path: Path) -> bool:
    """Whether ``path`` (named by :func:`owned`) was left by a process of this host that no longer runs. A name
    of another host is never abandoned here (its process cannot be asked), nor a name not made by :func:`owned`."""
    parts = path.name.split(SEPARATOR)
    if len(parts) != 4 or parts[1] != socket.gethostname() or not parts[2].isdigit():
        return False
    return not _running(int(parts[2]))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_abandoned(paths: Iterable[Path]) -> list[Path]:
    """Remove each of ``paths`` that :func:`abandoned` says a killed process left (a folder with what it holds);
    returns those removed."""
    removed = []
    for path in paths:
        if abandoned(path):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def reports_lock(out: Path, log: Callable[[dict], None]) -> Iterator[None]:
    """Hold the lock of the reports folder ``out`` for the block. When another run holds it, say so in one
    progress line (a ``waiting`` event, not a warning: who holds it and since when) and wait for it. The lock
    file keeps the holder's pid, host and start, and stays in the folder when the lock is let go (leave it
    there: the file is only what the lock is taken on)."""
    path = out / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by the processes the run starts
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip() or "another run"
            log(
                {
                    "event": "waiting",
                    "message": f"waiting for the lock of {out} ({holder}): another run is "
                    f"writing the history and latest",
                }
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # lets go of the lock
