"""What the stage benchmarks measure of their own process: CPU seconds and peak memory (Linux's VmHWM, reset
before the step measured). Imported by the benchmarks run as scripts (``python benchmarks/bench_<x>.py``)."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path


def reset_peak_memory() -> None:
    """Reset this process's peak RSS (Linux) so the peak measured is the stage's own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_gb() -> float:
    """This process's peak RSS since the last :func:`reset_peak_memory`, in GB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def cpu_seconds() -> float:
    """User and system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
