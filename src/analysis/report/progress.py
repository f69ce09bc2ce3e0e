"""What a run says while it works: each step as it starts and ends, elapsed time and an estimate of what is
left, and one closing line with the landing page. Three ways to say it: text for people (default), nothing
(``--quiet``, which silences these human lines only), or one JSON object per line for schedulers
(``--log-format json``, written whatever ``--quiet`` says: a scheduler that asks for the events gets them).

The runner emits events (plain dicts with an ``event`` key); a reporter turns them into lines.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

Event = dict[str, Any]


def _seconds(value: float) -> str:
    return f"{value:.0f}s" if value >= 10 else f"{value:.1f}s"


def text_line(event: Event) -> str | None:
    """The line a person reads for ``event`` (``None``: nothing to say)."""
    kind = event["event"]
    if kind == "prepared":
        return (
            f"prepared {event['rows_kept']:,} purchases of {event['customers']:,} customers in "
            f"{_seconds(event['seconds'])} -> {event['run_dir']}"
        )
    counter = f"[{event.get('index', 0)}/{event.get('total', 0)}]"
    if kind == "step_started":
        return f"{counter} {event['step']} ..."
    if kind == "step_done":
        left = f", about {_seconds(event['eta'])} left" if event.get("eta") else ""
        return (
            f"{counter} {event['step']} done in {_seconds(event['seconds'])} "
            f"(elapsed {_seconds(event['elapsed'])}{left})"
        )
    if kind in ("warning", "waiting"):  # waiting: for another run's lock of the reports folder
        return event["message"]
    if kind == "step_declined":
        return f"{counter} {event['step']} declined: {event['reason']}"
    if kind == "pack_step":
        return f"  {event['step']} in {_seconds(event['seconds'])}"
    if kind == "done":
        return f"report: {event['index_html']} ({_seconds(event['elapsed'])} in all)"
    return None


def reporter(log_format: str = "text", quiet: bool = False, stream: TextIO | None = None) -> Callable[[Event], None]:
    """A callable that writes each event as a line of ``log_format`` (``text`` or ``json``) to ``stream``
    (standard output by default). ``quiet`` silences the text lines; the JSON lines are always written (the
    cron line ``--quiet --log-format json >> runs.log`` keeps its log)."""
    if log_format not in ("text", "json"):
        raise ValueError(f"log format {log_format!r}: use text or json")

    def emit(event: Event) -> None:
        if quiet and log_format == "text":
            return
        line = json.dumps(event, ensure_ascii=False, default=str) if log_format == "json" else text_line(event)
        if line is not None:
            print(line, file=stream or sys.stdout, flush=True)

    return emit
