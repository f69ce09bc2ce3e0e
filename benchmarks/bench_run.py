"""Benchmark: a full report run as users run it, timed per step and page, with peak memory.

Runs the real command in a subprocess::

    python -m analysis run --input <input> --as-of <date> --out <temporary folder> --log-format json

and reads its JSON progress lines and the run's ``run.json`` (seconds per step; per page the running peak
resident memory of the runner and of the largest kernel so far). Beside them it samples the resident memory of
the runner and of every process it starts (kernels included) every ``--interval`` seconds, so each step also
gets its own peak: the largest single process and all processes together. The largest process's peak over
the whole run is the kernel's own high-water mark (``getrusage(RUSAGE_CHILDREN)`` once the run has ended),
which sampling cannot miss.

Prints a table (step or page, seconds, peak MB) and the totals beside the issue's targets (information,
never assertions), and writes the same as JSON with the machine's facts to
``benchmarks/results/run_<label>.json``. Timings depend on the machine's load: the JSON records the load
average before and after.

    .venv/bin/python benchmarks/bench_run.py --size 1m       # benchmarks/data/sim_1m.parquet (make bench-data)
    .venv/bin/python benchmarks/bench_run.py --cdnow         # the CDNOW master, as `make report` runs it
    .venv/bin/python benchmarks/bench_run.py --input sales.parquet --as-of 2024-12-31 --label mine
    .venv/bin/python benchmarks/bench_run.py --show benchmarks/results/run_1m.json --markdown   # for the README

Exit status: that of the run (0 when it succeeded), whatever the targets say.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
CDNOW = {"input": ROOT / "data" / "raw" / "CDNOW_master.txt", "as_of": "1998-06-30"}
MB = 1024 * 1024

# Issue 12's targets for a full run: wall seconds, and peak memory (GB) of the largest process or of all
# processes together. Printed beside the measured values; never asserted.
TARGETS = {
    "cdnow": {"wall_seconds": 30},
    "1m": {"wall_seconds": 90, "largest_process_gb": 4},
    "10m": {"wall_seconds": 600, "all_processes_gb": 24},
}
VERSIONS = (
    "analysis",
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "ibis-framework",
    "scikit-learn",
    "scipy",
    "lifetimes",
    "papermill",
    "nbconvert",
    "ipykernel",
    "matplotlib",
)


class MemorySampler(threading.Thread):
    """Samples the resident memory (MB) of a process and of all its descendants every ``interval`` seconds:
    ``samples`` holds (seconds since start, the process's own, the largest descendant, all together)."""

    def __init__(self, pid: int, started: float, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.started, self.interval = pid, started, interval
        self.samples: list[tuple[float, float, float, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stopped.is_set():
            try:
                own = root.memory_info().rss / MB
                children = root.children(recursive=True)
            except psutil.Error:
                break
            sizes = []
            for child in children:
                with contextlib.suppress(psutil.Error):
                    sizes.append(child.memory_info().rss / MB)
            self.samples.append((time.perf_counter() - self.started, own, max(sizes, default=0.0), own + sum(sizes)))
            self.stopped.wait(self.interval)

    def peaks(self, begin: float, end: float) -> dict[str, float | None]:
        """Peak MB between ``begin`` and ``end`` (seconds since start): the runner, the largest other process,
        all processes together; None without a sample in that span."""
        inside = [s for s in self.samples if begin <= s[0] <= end]
        if not inside:
            return {"runner": None, "largest_child": None, "all": None}
        return {
            # a step without another process (prepare, the pack) has no kernel figure
            key: round(max(s[i] for s in inside), 1) or None
            for i, key in ((1, "runner"), (2, "largest_child"), (3, "all"))
        }


def _meminfo_mb() -> float | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine_facts() -> dict:
    """What the numbers were measured on: CPUs, memory, versions, the commit."""
    spec = importlib.util.find_spec("analysis")  # the package the run imports (PYTHONPATH may point elsewhere)
    versions = {"python": platform.python_version()}
    for name in VERSIONS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mb": _meminfo_mb(),
        "platform": platform.platform(),
        "versions": versions,
        "package": str(Path(spec.origin).parent) if spec and spec.origin else None,
        "commit": _git("rev-parse", "HEAD"),
        "work_tree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _spans(events: list[dict]) -> list[tuple[str, str, float, float]]:
    """(step, kind, begin, end) in seconds since start for prepare, each page and each pack step, from the
    progress events' arrival times (``_t``). A pack step is announced when it ends: it spans from the end of
    the previous step."""
    spans, last = [], 0.0
    for event in events:
        kind, t = event.get("event"), event["_t"]
        if kind == "prepared":
            spans.append(("prepare", "prepare", 0.0, t))
        elif kind == "step_started":
            last = t
        elif kind == "step_done":
            spans.append((event["step"], "page", last, t))
        elif kind == "pack_step":
            spans.append((event["step"], "pack", last, t))
        else:
            continue
        last = t
    return spans


def _text(event: dict) -> str:
    try:
        from analysis.report.progress import text_line

        return text_line(event)
    except Exception:  # the package's wording is a nicety; the raw event will do
        return json.dumps(event, ensure_ascii=False)


def run_once(input_path: str, as_of: str | None, out: Path, interval: float, extra: list[str]) -> dict:
    """Run the report on ``input_path`` into ``out``; the events, run.json, wall time and memory."""
    command = [
        sys.executable,
        "-m",
        "analysis",
        "run",
        "--input",
        str(input_path),
        *(["--as-of", as_of] if as_of else []),
        "--out",
        str(out),
        "--log-format",
        "json",
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid, started, interval)
    sampler.start()
    stderr: list[str] = []
    drain = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
    drain.start()
    events, other = [], []
    for line in proc.stdout:
        t = time.perf_counter() - started
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            other.append(line.rstrip("\n"))
            continue
        if not isinstance(event, dict):
            other.append(line.rstrip("\n"))
            continue
        event["_t"] = round(t, 3)
        events.append(event)
        print(f"  [{t:7.1f} s] {_text(event)}", file=sys.stderr, flush=True)
    code = proc.wait()
    wall = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    drain.join()
    # the largest process's high-water mark: the run's process tree, all waited for by now
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run_dir = next((Path(e["run_dir"]) for e in events if e.get("event") == "prepared"), None)
    record = {}
    if run_dir and (run_dir / "run.json").exists():
        record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return {
        "command": command,
        "exit_code": code,
        "wall": wall,
        "largest_mb": largest,
        "events": events,
        "stdout_other": other,
        "stderr": "".join(stderr),
        "run_dir": run_dir,
        "run_json": record,
        "sampler": sampler,
    }


def build_result(label: str, input_path: str, as_of: str | None, measured: dict, generated: dict | None) -> dict:
    """The benchmark record: per-step seconds and peaks, totals, targets, machine."""
    record, events, sampler = measured["run_json"], measured["events"], measured["sampler"]
    seconds = record.get("seconds", {})
    peaks = record.get("peak_memory_mb", {})
    steps = []
    for step, kind, begin, end in _spans(events):
        sampled = sampler.peaks(begin, end)
        run_peak = peaks.get(step, {})
        steps.append(
            {
                "step": step,
                "kind": kind,
                "seconds": seconds.get(step, round(end - begin, 3)),
                "runner_mb": sampled["runner"],
                "kernel_mb": sampled["largest_child"],
                "all_processes_mb": sampled["all"],
                "run_json_runner_peak_mb": run_peak.get("runner"),
                "run_json_largest_kernel_peak_mb": run_peak.get("largest_kernel"),
            }
        )
    all_peak = sampler.peaks(0.0, measured["wall"])
    prepared = next((e for e in events if e.get("event") == "prepared"), {})
    stderr_lines = [line for line in measured["stderr"].splitlines() if line.strip()]
    result = {
        "label": label,
        "input": str(input_path),
        "as_of": as_of or record.get("parameters", {}).get("as_of"),
        "measured_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "status": record.get("status") or ("ok" if measured["exit_code"] == 0 else "failed"),
        "exit_code": measured["exit_code"],
        "failed_step": record.get("failed_step"),
        "error": record.get("error") or (stderr_lines[-1] if measured["exit_code"] and stderr_lines else None),
        "customers": prepared.get("customers"),
        "rows_kept": prepared.get("rows_kept"),
        "wall_seconds": round(measured["wall"], 3),
        "interval": sampler.interval,
        "run_total_seconds": seconds.get("total"),
        # what no step accounts for: interpreter start, imports and settings before prepare, exit
        "other_seconds": round(measured["wall"] - sum(step["seconds"] for step in steps), 3),
        "peak_largest_process_mb": round(measured["largest_mb"], 1),
        "peak_all_processes_mb": all_peak["all"],
        "steps": steps,
        "targets": TARGETS.get(label, {}),
        "command": measured["command"],
        "events": events,
        "generated": generated,
    }
    return result


def _mb(value) -> str:
    return f"{value:,.0f}" if value else ""  # none measured (no kernel in prepare or the pack)


def format_table(result: dict, markdown: bool = False) -> str:
    """The per-step table and the totals beside the targets, as text (or a Markdown table)."""
    head = ["step / page", "seconds", "runner MB", "kernel MB", "all MB", "run.json runner", "run.json kernel"]
    rows = [
        [
            s["step"],
            f"{s['seconds']:.1f}",
            _mb(s["runner_mb"]),
            _mb(s["kernel_mb"]),
            _mb(s["all_processes_mb"]),
            _mb(s["run_json_runner_peak_mb"]),
            _mb(s["run_json_largest_kernel_peak_mb"]),
        ]
        for s in result["steps"]
    ]
    other = result.get("other_seconds", result["wall_seconds"] - sum(s["seconds"] for s in result["steps"]))
    rows.append(["other (start-up, between steps, exit)", f"{other:.1f}", "", "", "", "", ""])
    total = [
        "total (wall, whole command)",
        f"{result['wall_seconds']:.1f}",
        "",
        "",
        _mb(result["peak_all_processes_mb"]),
    ]
    total += ["largest process", _mb(result["peak_largest_process_mb"])]
    rows.append(total)
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

        def fmt(row: list[str]) -> str:
            cells = zip(row, widths, strict=True)
            return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(cells))

        rule = fmt(["-" * w for w in widths])
        lines = [fmt(head), rule, *map(fmt, rows[:-1]), rule, fmt(rows[-1])]
    notes = [
        f"runner / kernel / all MB: peak resident memory sampled within the step (every {result['interval']} s):",
        "  the runner, the largest process it started (the page's kernel), all processes together;",
        "run.json runner / kernel: the run's own record, the running peak so far when the step ended (getrusage;",
        "  Linux counts a started process's peak from its parent's, so a kernel's figure there is at least the",
        "  runner's peak when that kernel started);",
        "largest process: the high-water mark of the largest process of the whole run (getrusage, not sampled).",
    ]
    return "\n".join(lines + [""] + notes + [""] + target_lines(result))


def _against(measured: float, target: float | None, unit: str) -> str:
    if target is None:
        return ""
    return f" (target <= {target} {unit}: {'met' if measured <= target else 'not met'})"


def target_lines(result: dict) -> list[str]:
    """The measured totals beside the issue's targets, as information."""
    targets = result["targets"]
    who = f"{result['label']}: {result['customers']:,} customers" if result["customers"] else result["label"]
    where = f"in {result['failed_step']}" if result["failed_step"] else "before the pages"
    failed = f" (failed {where}: {result['error']})" if result["status"] != "ok" else ""
    wall = f"wall {result['wall_seconds']:.1f} s" + _against(result["wall_seconds"], targets.get("wall_seconds"), "s")
    largest = result["peak_largest_process_mb"] / 1024
    peak = f"largest process {largest:.2f} GB" + _against(largest, targets.get("largest_process_gb"), "GB")
    if result["peak_all_processes_mb"] is not None:
        together = result["peak_all_processes_mb"] / 1024
        peak += f"; all processes together {together:.2f} GB (sampled)"
        peak += _against(together, targets.get("all_processes_gb"), "GB")
    return [f"{who}, status {result['status']}{failed}", wall, peak]


def resolve(args: argparse.Namespace) -> tuple[str, Path, str | None, dict | None]:
    """(label, input, as-of, the generator's record) from the command line."""
    if args.cdnow:
        return "cdnow", CDNOW["input"], CDNOW["as_of"], None
    if args.size:
        label = args.size.lower()
        path = DATA / f"sim_{label}.parquet"
        if not path.exists():
            raise SystemExit(f"error: {path} is missing: make bench-data BENCH_SIZES={label}")
        generated = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return label, path, args.as_of or generated["as_of"], generated
    if not args.input:
        raise SystemExit("error: give --size, --cdnow or --input")
    path = Path(args.input)
    sidecar = path.with_suffix(".json")
    generated = None
    if path.suffix == ".parquet" and sidecar.exists():
        generated = json.loads(sidecar.read_text(encoding="utf-8"))
    as_of = args.as_of or (generated or {}).get("as_of")
    return args.label or path.stem, path.resolve(), as_of, generated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--size", help="a generated set: 100k, 1m or 10m (benchmarks/data/sim_<size>.parquet)")
    which.add_argument("--cdnow", action="store_true", help="the CDNOW master as of 1998-06-30")
    which.add_argument("--input", help="any input the run accepts")
    which.add_argument("--show", metavar="JSON", help="print the table of a result written before, and stop")
    parser.add_argument("--as-of", help="as-of date (default: the generated set's, or the run's own)")
    parser.add_argument("--label", help="name of the result (default: the size, cdnow, or the input's stem)")
    parser.add_argument("--results", default=str(RESULTS), help="folder for run_<label>.json")
    parser.add_argument("--out", help="folder for the run directory (default: a temporary folder, removed after)")
    parser.add_argument("--interval", type=float, default=0.2, help="memory sampling interval, seconds")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("run_args", nargs="*", help="after --: more arguments for `analysis run`")
    args = parser.parse_args(argv)
    if args.show:
        print(format_table(json.loads(Path(args.show).read_text(encoding="utf-8")), markdown=args.markdown))
        return 0
    label, input_path, as_of, generated = resolve(args)

    load_before = os.getloadavg()
    temporary = args.out is None
    out = Path(tempfile.mkdtemp(prefix=f"bench_run_{label}_")) if temporary else Path(args.out)
    print(f"bench_run {label}: {input_path} as of {as_of or '(last purchase)'} -> {out}", file=sys.stderr)
    try:
        measured = run_once(str(input_path), as_of, out, args.interval, args.run_args)
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)
    result = build_result(label, str(input_path), as_of, measured, generated)
    result["machine"] = {**machine_facts(), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    if not temporary and measured["run_dir"]:
        result["run_dir"] = str(measured["run_dir"])
    if measured["exit_code"] and measured["stderr"]:
        print(measured["stderr"].rstrip(), file=sys.stderr)

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"run_{label}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    machine = result["machine"]
    print(
        f"\n{label}: {machine['cpu_count']} CPUs ({machine['cpu_model']}), {machine['memory_mb'] / 1024:.1f} GB RAM, "
        f"load average {load_before[0]:.2f} before, Python {machine['versions']['python']}, "
        f"pandas {machine['versions'].get('pandas')}, duckdb {machine['versions'].get('duckdb')}\n"
    )
    print(format_table(result, markdown=args.markdown))
    print(f"\nwritten: {target}")
    return measured["exit_code"]


if __name__ == "__main__":
    raise SystemExit(main())
