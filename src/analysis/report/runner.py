"""A report run: prepare the data once, execute each notebook with papermill, render HTML.

The one module that drives papermill and nbconvert. A run writes ``OUT/<run-id>/`` with the pages
(``NN_name.html``, code hidden), the executed notebooks, the prepared data and ``run.json``; on
success ``OUT/latest`` points to it. A failed run keeps its failing notebook, never replaces
``latest``, and raises :class:`RunFailed` naming the step. A run killed at any moment leaves ``latest`` and
the history as they were (or with its snapshot whole): its run directory's ``run.json`` says ``incomplete``
(or there is none yet), and what it left under hidden names is removed by the next run
(:mod:`analysis.report.lock`, which also keeps two runs on one reports folder from packing at once).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import resource
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

from analysis.data.database import redacted
from analysis.data.quality import as_of_warning
from analysis.errors import UserError
from analysis.i18n import LANGUAGES
from analysis.privacy import page_salt
from analysis.report.crm import check_systems
from analysis.report.declines import read_declines
from analysis.report.history import check_store
from analysis.report.kernel import (
    KERNEL_ARGUMENTS,
    KERNEL_START_SECONDS,
    clients_closed,
    fresh_namespace,
    page_imports,
    shared_kernel,
    start_in_kernel,
)
from analysis.report.lock import kill_point, owned, remove_abandoned, reports_lock, with_kill_points
from analysis.report.masking import PageMasker
from analysis.report.pack import build_pack
from analysis.report.progress import reporter
from analysis.report.rundir import (
    prepare_run,
    settings_for,
    versions,
    write_customers_csv,
    write_json,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = Path(__file__).resolve().parent / "templates"


# Up to this many customers the kernel writes customers.csv while the runner builds the pack, each holding the
# customer table; above it one after the other, the kernel stopped first (at 10M customers two copies of the
# table do not fit in 24 GB beside the pack's work).
OVERLAP_MAX_CUSTOMERS = 2_000_000



class RunFailed(Exception):
    """A step of the run failed; ``step`` names it and ``run_dir`` keeps what it wrote.
    ``user_error`` is true when the cause is the user's data or settings (a ``UserError`` raised inside the
    notebook), so the command can exit 2 instead of 1."""

    def __init__(self, step: str, cause: str, run_dir: Path, user_error: bool = False):
        super().__init__(f"step {step} failed: {cause} (see {run_dir})")
        self.step, self.cause, self.run_dir, self.user_error = step, cause, run_dir, user_error


def notebooks_in(folder: Path) -> list[Path]:
    """The report notebooks in run order (file name order: ``01_...``, ``02_...``)."""
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("_"))


@cache
def _exporter(lang: str):
    """The HTML exporter of the pages in ``lang``, made once (building its templates takes about a second)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="page", extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
                        exclude_input_prompt=True, exclude_output_prompt=True,
                        language_code="zh-CN" if lang == "zh" else lang)


def render_html(notebook, target: Path, mask: Callable[[str], str] | None = None, lang: str = "en") -> None:
    """Render an executed notebook (a path, or the notebook :func:`execute_notebook` returned) to HTML with the
    code hidden, for stakeholders: titled by its first heading, declared in ``lang`` (so a browser picks Chinese
    glyphs for a zh page), with no script loaded from the internet (the ``page`` template), so it opens offline
    without errors.
    ``mask`` (a :class:`~analysis.report.masking.PageMasker` when the run masks personal data) turns the page
    into the one written; the executed notebook keeps the real values."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
    heading = next((c.source.strip().splitlines()[0][2:] for c in nb.cells
                    if c.cell_type == "markdown" and c.source.strip().startswith("# ")), None)
    if heading:
        nb.metadata["title"] = heading
    body, _ = _exporter(lang).from_notebook_node(nb)
    target.write_text(mask(body) if mask else body, encoding="utf-8")


def in_language(nb, lang: str):
    """``nb`` without the cells written for another language: a cell tagged ``lang:en`` or ``lang:zh`` is kept
    only in a run in that language; untagged cells are kept in every run. The notebooks carry their narrative
    in both languages side by side, so an analyst reads and edits both in one place."""
    others = {f"lang:{other}" for other in LANGUAGES if other != lang}
    nb.cells = [c for c in nb.cells if not others & set(c.get("metadata", {}).get("tags", []))]
    return nb


def execute_notebook(source: Path, target: Path, parameters: dict[str, Any], km=None):
    """Run ``source`` with papermill, writing the executed copy to ``target``, with only the cells of the run's
    language (``parameters["lang"]``, default en). A parameter the notebook does not declare is an error
    (papermill itself would only warn and run with the default). ``km``: a running kernel to execute in
    (:func:`analysis.report.kernel.shared_kernel`); by default papermill starts one for this notebook and stops
    it after."""
    import nbformat
    import papermill

    unknown = sorted(set(parameters) - set(papermill.inspect_notebook(str(source))))
    if unknown:
        raise ValueError(f"{source.name} declares no parameter {', '.join(unknown)} in its parameters cell")

    nb = in_language(nbformat.read(source, as_version=4), parameters.get("lang", "en"))
    # written once when done (or failed), not at every cell's start and end: that rewrote the whole notebook,
    # charts included, about 50 times a page
    with clients_closed(km):
        return papermill.execute_notebook(
            nb, str(target), parameters=parameters, kernel_name="python3", request_save_on_cell_execute=False,
            cwd=str(source.parent), progress_bar=False, log_output=False, extra_arguments=KERNEL_ARGUMENTS,
            start_timeout=KERNEL_START_SECONDS,
            **({"km": km} if km is not None else {}),
        )


def _new_run_dir(out_dir: Path, fingerprint: str) -> Path:
    """A new, empty run directory, made here: ``<UTC time>-<fingerprint>``, ``-2``, ``-3``, ... after it when a
    run of the same input started in the same second (made by ``mkdir``, so two runs never take one name)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{fingerprint[:8]}"
    run_dir, n = out_dir / base, 1
    while True:
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            n += 1
            run_dir = out_dir / f"{base}-{n}"


def _point_latest(out_dir: Path, run_dir: Path) -> None:
    """Point ``latest`` to ``run_dir`` in one rename (a link made under a hidden name, then renamed over it)."""
    link, tmp = out_dir / "latest", out_dir / owned(".latest")
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    kill_point("latest")
    tmp.replace(link)


def _peak_memory_mb(km=None) -> dict[str, float]:
    """Peak resident memory so far, in MB, of the runner and of the largest kernel it has run; each step records
    it when it ends, so a step's value is the running peak. The running kernel's own high-water mark (``VmHWM``
    in ``/proc``) counts, since a kernel still alive is not in the runner's ``RUSAGE_CHILDREN``."""
    runner = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kernels = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    try:
        status = Path(f"/proc/{pid}/status").read_text() if pid else ""
    except OSError:
        status = ""
    hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
    if hwm is not None:
        kernels = max(kernels, int(hwm) / 1024)
    return {"runner": round(runner, 1), "largest_kernel": round(kernels, 1)}


def _first_error_line(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def run_report(
    input_path: str,
    *,
    as_of: str | None = None,
    config_path: str | None = None,
    overrides: dict | None = None,
    customers_path: str | None = None,
    out_dir: str | Path = "reports",
    notebooks_dir: str | Path | None = None,
    crm_systems: list[str] | None = None,
    lang: str = "en",
    mask_pii: bool = False,
    strict: bool = False,
    log=None,
    kernel=None,
) -> Path:
    """Run every report notebook on ``input_path``; returns the run directory. ``lang`` (en or zh) is the
    language of the pages; ``mask_pii`` masks names, phones, e-mails and ids on the stakeholder pages and the
    deck (the customer table and the executed notebooks keep them). A stage whose data cannot support it
    declines (its page says why, the pack is made without it, run.json lists it); with ``strict`` a run with
    declines fails instead (:class:`RunFailed`, the user's data, after the pack is written; ``latest`` is not
    moved). ``log`` receives the progress events
    (:mod:`analysis.report.progress`; default: text lines on standard output). ``kernel``: a running kernel
    from :func:`shared_kernel` to run the pages in, left running at the end (several runs in one kernel, as a
    run's pages share one); by default the run starts its own and stops it."""
    if lang not in LANGUAGES:
        raise UserError(f"language {lang!r}: use {' or '.join(LANGUAGES)}")
    log = with_kill_points(log or reporter())
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_abandoned([*out.glob(".staging~*"), *out.glob(".latest~*")])  # what killed runs left
    check_store(out / "history")  # a snapshot that cannot be read stops the run now, not after the pages
    settings = settings_for(input_path, as_of, config_path, overrides, customers_path)
    crm_systems = check_systems(crm_systems or [], settings["config"])
    steps: dict[str, float] = {}
    record: dict[str, Any] = {
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "parameters": {k: redacted(v) if k == "input_path" else v for k, v in settings.items() if k != "config"},
        "config": settings["config"],
        "versions": versions(),
        "seconds": steps,
        "peak_memory_mb": {},
        "declines": [],
    }
    folder = Path(notebooks_dir) if notebooks_dir else PROJECT_ROOT / "notebooks"
    notebooks = notebooks_in(folder)
    # The kernel starts first and imports what the pages import while the data is prepared.
    where: dict[str, Any] = {"step": "prepare", "run_dir": None}  # for a disk that fills up
    with when_the_disk_is_full(out, where, record), ExitStack() as own_kernel:
        km = kernel
        if km is None and notebooks:
            km = own_kernel.enter_context(shared_kernel(folder, page_imports(notebooks)))
        run_dir, quality = _prepare(out, settings, record, log)
        where.update(step="pages", run_dir=run_dir)
        late = as_of_warning(quality)
        if late:
            log({"event": "warning", "message": late})
        parameters = {
            "run_dir": str(run_dir.resolve()),
            "input_path": redacted(settings["input_path"]),
            "as_of": quality["as_of"],
            "config_path": settings["config_path"] or "",
            "lang": lang,
            "mask_pii": mask_pii,
        }
        masker = PageMasker(run_dir, page_salt(run_dir)) if mask_pii else None
        pages = _run_pages(notebooks, km, run_dir, parameters, masker, record, log, started)
        where["step"] = "pack"
        # customers.csv (6 s at 1M customers) is written by the kernel, which holds the table, while the runner
        # builds the rest of the pack; the landing page waits for it, as it lists it
        csv_written = (start_in_kernel(km, f"from analysis.report.rundir import write_customers_csv\n"
                                           f"write_customers_csv({str(run_dir.resolve())!r})")  # (kernel cwd differs)
                       if km is not None else lambda: write_customers_csv(run_dir))

        def customers_csv() -> None:
            t0 = time.perf_counter()
            try:
                csv_written()
            except RuntimeError as exc:
                raise RunFailed("customers_csv", str(exc), run_dir) from exc
            steps["customers_csv"] = round(time.perf_counter() - t0, 3)  # the time the pack waited for it
            log({"event": "pack_step", "step": "customers_csv", "seconds": steps["customers_csv"]})

        overlap = quality["customers_total"] <= OVERLAP_MAX_CUSTOMERS
        if not overlap:
            customers_csv()  # a big table: the kernel's copy is let go before the pack reads its own
            own_kernel.close()
        record["warnings"] = [late] if late else []
        # one run at a time from the history snapshot (and the migration against the one before) to latest
        with reports_lock(out, log):
            record["warnings"] += build_pack(run_dir, out / "history", pages, steps, crm_systems, log, lang,
                                             masker, before_index=customers_csv if overlap else lambda: None)
            _finish(out, run_dir, record, pages, strict, started, km, log)
    return run_dir


def _finish(out: Path, run_dir: Path, record: dict[str, Any], pages: list[str], strict: bool, started: float,
            km, log) -> None:
    """The run's end: run.json says ``ok`` (or ``declined`` under ``strict``: :class:`RunFailed`) and ``latest``
    points to the run."""
    steps = record["seconds"]
    steps["total"] = round(time.perf_counter() - started, 3)
    record["peak_memory_mb"]["total"] = _peak_memory_mb(km)
    record.update(status="ok", pages=pages,
                  finished_utc=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    if strict and record["declines"]:
        record["status"] = "declined"
        write_json(run_dir / "run.json", record)
        stages = "; ".join(f"{d['stage']}: {d['en']}" for d in record["declines"])
        raise RunFailed(record["declines"][0]["page"], f"a stage declined (--strict): {stages}", run_dir, True)
    write_json(run_dir / "run.json", record)
    _point_latest(out, run_dir)
    log({"event": "done", "index_html": str(run_dir / "index.html"), "elapsed": steps["total"]})


NO_SPACE = "No space left on device"


@contextmanager
def when_the_disk_is_full(out: Path, where: dict[str, Any], record: dict[str, Any]):
    """Turn a disk that fills up during the block (``ENOSPC`` from Python, the SQL engine or a page's kernel) into
    :class:`RunFailed` for ``where["step"]`` (an internal failure: exit 1) that says what to do; ``latest`` has not
    moved (it moves last), and the run directory ``where["run_dir"]``, if it has one yet, says ``failed`` where there
    is room to say it. Any other error passes as it is."""
    try:
        yield
    except Exception as exc:
        if not _no_space(exc):
            raise
        run_dir = where["run_dir"]
        kept = f" (this run's unfinished directory {run_dir} can go)" if run_dir else ""
        cause = (f"no space left on the disk of {out}; {out / 'latest'} still points to the last complete run. Free "
                 f"some space{kept} and run again")
        if run_dir is not None:
            record.update(status="failed", failed_step=where["step"], error=NO_SPACE)
            with suppress(OSError):  # no room even for that: run.json still says incomplete
                write_json(run_dir / "run.json", record)
        step = exc.step if isinstance(exc, RunFailed) else where["step"]  # a page that failed for want of room
        raise RunFailed(step, cause, run_dir or out) from exc


def _no_space(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an exception it came from is a full disk."""
    seen = 0
    while exc is not None and seen < 20:
        if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or NO_SPACE in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _prepare(out: Path, settings: dict[str, Any], record: dict[str, Any], log) -> tuple[Path, dict[str, Any]]:
    """Prepare the data into a new run directory under ``out``; returns it and the quality report. Its
    ``run.json`` says ``incomplete`` (with the run's pid) until the run ends, so a run killed midway is marked."""
    steps = record["seconds"]
    # Prepare into a temporary folder first, so the run id can carry the input fingerprint (hidden, and named
    # by its owner: the next run removes what a killed one left).
    staging = out / owned(".staging")
    t0 = time.perf_counter()
    try:
        prepared = prepare_run(staging, settings, csv=False)  # customers.csv comes after the pages
        kill_point("prepare")
    except BaseException:
        _remove_tree(staging)
        raise
    # The pages read the prepared data from the run directory: the runner keeps only what it reports (the
    # engine's tables are released with it).
    quality = prepared.quality
    del prepared
    steps["prepare"] = round(time.perf_counter() - t0, 3)
    record["peak_memory_mb"]["prepare"] = _peak_memory_mb()
    record["input_fingerprint"] = quality["fingerprint"]
    record["parameters"]["as_of"] = quality["as_of"]
    write_json(staging / "run.json", {**record, "status": "incomplete", "pid": os.getpid()})
    run_dir = _new_run_dir(out, quality["fingerprint"])
    staging.rename(run_dir)  # over the empty folder just made for it
    log({"event": "prepared", "rows_kept": quality["rows_kept"], "customers": quality["customers_total"],
         "seconds": steps["prepare"], "run_dir": str(run_dir)})
    return run_dir, quality


def _run_pages(notebooks: list[Path], km, run_dir: Path, parameters: dict[str, Any], masker,
               record: dict[str, Any], log, started: float) -> list[str]:
    """Execute each notebook in the shared kernel and render its page; returns the pages' file names. A failing
    notebook ends the run: :class:`RunFailed` names it and its cause, and run.json records it. A page whose stage
    declines is rendered as far as it got, the decline is added to ``record["declines"]``, and the run goes on."""
    steps, pages = record["seconds"], []
    for index, notebook in enumerate(notebooks, start=1):
        step = notebook.stem
        t0 = time.perf_counter()
        where = {"step": step, "index": index, "total": len(notebooks)}
        log({"event": "step_started", **where, "elapsed": round(t0 - started, 3)})
        try:
            executed = run_dir / "notebooks" / notebook.name
            executed.parent.mkdir(exist_ok=True)
            fresh_namespace(km)
            nb = execute_notebook(notebook, executed, parameters, km)
            render_html(nb, run_dir / f"{step}.html", masker, parameters["lang"])
        except Exception as exc:
            # a stage that declined (StageDeclined, or a subclass of it) has recorded itself in declines.json
            declines = _with_page(read_declines(run_dir), record["declines"], step)
            if len(declines) == len(record["declines"]):
                _fail(step, exc, run_dir, record, round(time.perf_counter() - t0, 3))
            # the stage declined: its page says why, and the run goes on without it
            render_html(declined_page(executed), run_dir / f"{step}.html", masker, parameters["lang"])
            record["declines"] = declines
            log({"event": "step_declined", **where, "reason": declines[-1]["en"]})
        steps[step] = round(time.perf_counter() - t0, 3)
        record["peak_memory_mb"][step] = _peak_memory_mb(km)
        pages.append(f"{step}.html")
        page_seconds = [steps[Path(p).stem] for p in pages]
        eta = sum(page_seconds) / len(page_seconds) * (len(notebooks) - index)
        log({"event": "step_done", **where, "seconds": steps[step], "eta": round(eta, 1),
             "elapsed": round(time.perf_counter() - started, 3)})
    return pages


def _fail(step: str, exc: Exception, run_dir: Path, record: dict[str, Any], seconds: float) -> None:
    """End the run at a failing page: run.json says where and why, customers.csv holds the table as the last
    page that ran left it (for the analyst), and :class:`RunFailed` is raised."""
    record["seconds"][step] = seconds
    record.update(status="failed", failed_step=step, error=_first_error_line(exc))
    write_json(run_dir / "run.json", record)
    write_customers_csv(run_dir)
    user_error = getattr(exc, "ename", None) == "UserError"
    raise RunFailed(step, _first_error_line(exc), run_dir, user_error) from exc


def _with_page(declines: list[dict[str, Any]], known: list[dict[str, Any]], page: str) -> list[dict[str, Any]]:
    """The run's declines so far: those already ``known``, then the new ones of ``declines.json``, named by the
    ``page`` that declined them."""
    seen = {d["stage"] for d in known}
    return [*known, *({"page": page, **d} for d in declines if d["stage"] not in seen)]


def declined_page(executed: Path):
    """The executed notebook of a page whose stage declined, as far as it got: papermill's error banner and the
    exception's traceback removed (the page shows the reason the stage gave, in its language), and the cells
    that never ran (their headings would announce sections that are not there) left out."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    cells = [c for c in nb.cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
            cells = cells[: i + 1]
            break
    nb.cells = cells
    return nb


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
