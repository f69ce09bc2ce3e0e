"""The Jupyter kernel a report run's pages share: started once (the pages' imports run while the data is
prepared), its namespace emptied before each page, its clients closed after each; requests asked and answered on
the shell channel. Used by :mod:`analysis.report.runner` and the tests that run pages as a run does."""

from __future__ import annotations

import json
import os
import queue
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from analysis.report.rundir import CSV_AFTER_PAGES

# How long a page waits for the kernel to answer: the shared kernel imports the pages' libraries first (a few
# seconds; on a busy two-core machine it took over papermill's default of 60 s).
KERNEL_START_SECONDS = 300

# The kernels' own log (a warning about TCP transport at start, a KeyboardInterrupt line at shutdown) is
# noise in a scheduled run's output; errors in the notebook itself still reach the runner as exceptions.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@contextmanager
def clients_closed(km):
    """Close, at the end of the block, every client made of ``km`` inside it. nbclient closes the client it makes
    only of a kernel it started itself; of a kernel it is given (the run's shared kernel) it leaves the client's four
    sockets open until they are garbage-collected (a ResourceWarning per socket, four a page)."""
    if km is None:
        yield
        return
    made, make = [], km.client

    def client(**kwargs):
        made.append(make(**kwargs))
        return made[-1]

    km.client = client
    try:
        yield
    finally:
        del km.client  # the class's method again
        for each in made:
            each.stop_channels()


def page_imports(notebooks: list[Path]) -> str:
    """The import statements of the notebooks' code cells (each one line, at the start of a line), once each.
    Read as plain JSON: importing nbformat costs over a second, and this runs before the kernel starts."""
    cells = [cell for notebook in notebooks for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]]
    lines = [line for cell in cells if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines()
             if line.startswith(("import ", "from ")) and not line.rstrip().endswith(("(", "\\"))]
    return "\n".join(dict.fromkeys(lines))


@contextmanager
def shared_kernel(cwd: Path, warm_up: str = ""):
    """One Python kernel for every page of a run, started in ``cwd`` and stopped at the end: starting a kernel
    and importing pandas, scikit-learn, Ibis and matplotlib cost several seconds a page, whatever the data's size.
    ``warm_up`` (the pages' imports) starts running at once, so the kernel imports while the runner prepares the
    data. Call :func:`fresh_namespace` before each notebook, so no page sees another page's variables."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    # the pages write only customers.parquet; the runner has customers.csv written once, after the last page
    km.start_kernel(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd), env={**os.environ, CSV_AFTER_PAGES: "1"})
    client = own_client(km)
    try:
        if warm_up:  # sent now, run as soon as the kernel is up; the first fresh_namespace waits for it. Run
            # in a namespace of its own: it loads the modules, and no page sees its names
            client.start_channels(iopub=False, stdin=False, hb=False)
            km.analysis_warm_up = (client, client.execute(f"exec({warm_up!r}, {{}})", silent=True,
                                                          store_history=False))
        yield km
    finally:
        client.stop_channels()  # (kept open until here: closing it at once could drop the unsent request)
        km.shutdown_kernel(now=True)


def own_client(km):
    """A client of ``km`` with a session of its own. ``km.client()`` gives every client the manager's session, whose
    id is the client's socket identity at the kernel; two such clients open at once take each other's replies (the
    warm-up's client got the first page's, which then waited in vain: 300 s in CI, and the warm-up was lost)."""
    from jupyter_client.session import Session

    return km.client(session=Session(key=km.session.key, signature_scheme=km.session.signature_scheme))


def start_in_kernel(km, code: str) -> Callable[[], None]:
    """Send ``code`` to the kernel to run while the caller goes on; returns the function that waits for it to end
    (raising RuntimeError with the kernel's error if it failed)."""
    client = own_client(km)
    client.start_channels(iopub=False, stdin=False, hb=False)
    msg_id = client.execute(code, silent=True, store_history=False)

    def wait() -> None:
        try:
            reply = client.get_shell_msg(timeout=3600)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = client.get_shell_msg(timeout=3600)
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")

    return wait


def fresh_namespace(km) -> None:
    """Empty the kernel's user namespace (imported modules stay loaded), as a new kernel would have it; the first
    time, after the warm-up's imports have run (requests from different clients reach the kernel in no fixed
    order). Asked and answered on the shell channel alone (a client's ``wait_for_ready`` spends 0.2 s a page
    flushing IOPub). A failed warm-up (an import error) is not reported here: the page that imports it fails,
    naming the cause."""
    warm_up = km.__dict__.pop("analysis_warm_up", None)
    if warm_up is not None:
        shell_reply(km, *warm_up)
    client = own_client(km)
    client.start_channels(iopub=False, stdin=False, hb=False)
    try:
        asked = client.execute("get_ipython().reset(new_session=False)", silent=True, store_history=False)
        if shell_reply(km, client, asked)["content"]["status"] != "ok":
            raise RuntimeError("the kernel could not be reset between pages")
    finally:
        client.stop_channels()


def shell_reply(km, client, msg_id: str) -> dict:
    """The kernel's answer to the request ``msg_id`` on ``client``'s shell channel, waited for while the kernel
    lives (at most :data:`KERNEL_START_SECONDS`)."""
    deadline = time.monotonic() + KERNEL_START_SECONDS
    while km.is_alive() and time.monotonic() < deadline:
        try:
            reply = client.get_shell_msg(timeout=1)
        except queue.Empty:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply
    raise RuntimeError("the kernel could not be reset between pages")
