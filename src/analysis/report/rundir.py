"""The run directory that notebooks share, and the handle a notebook opens on it.

A run directory holds what the data spine prepared once (``transactions.parquet``,
``quarantine.csv``, ``quality.json``, ``customers.parquet`` + ``customers.csv``) and the settings
it was prepared with (``settings.json``). Each stage reads from it and adds its own columns to the
customer table with :meth:`Stage.add_columns`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis import privacy
from analysis.config import load_config
from analysis.data.database import redacted
from analysis.data.pipeline import Prepared, prepare
from analysis.data.returns import returned_lines
from analysis.errors import UserError
from analysis.i18n import check_language
from analysis.report.lock import kill_point
from analysis.stage import StageResult, with_columns
from analysis.tables import formula_guarded, formula_guarded_frame, formula_guarded_value

SETTINGS = "settings.json"
VERSIONED = ("analysis", "pandas", "numpy", "scipy", "lifetimes", "ibis-framework", "duckdb",
             "scikit-learn", "matplotlib", "papermill", "nbconvert")


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the results."""
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as UTF-8 JSON (Chinese kept readable), via a temporary file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


# What people read is rounded for people (full precision stays in customers.parquet and the JSON files):
# money to cents, probabilities and shares to 4 decimals, every other number to 6 significant digits.
MONEY_COLUMNS = frozenset({"total_spend", "monetary", "avg_order_value", "lt_monetary_value", "margin_total",
                           "expected_spend", "clv", "clv_low", "clv_high", "value_at_risk"})
PROBABILITY_COLUMNS = frozenset({"p_alive", "churn_risk"})


def _significant(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (0, NaN and infinities unchanged, and numbers below
    1e-290, whose scale 10^(digits - 1 - magnitude) would overflow: they keep their value)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(values)))
        rounded = np.isfinite(magnitude) & (magnitude > -290)
        scale = np.power(10.0, np.where(rounded, digits - 1 - magnitude, 0))
        return np.where(rounded, np.round(values * scale) / scale, values)


def rounded_for_people(customers: pd.DataFrame) -> pd.DataFrame:
    """The customer table with its float columns rounded as people read them (see ``MONEY_COLUMNS``)."""
    out = customers.copy()
    for column in out.columns:
        if not pd.api.types.is_float_dtype(out[column]):
            continue
        if column in MONEY_COLUMNS:
            out[column] = out[column].round(2)
        elif column in PROBABILITY_COLUMNS:
            out[column] = out[column].round(4)
        else:
            out[column] = _significant(out[column].to_numpy(float), 6)
    return out


def _quoted(text: pa.Array, guard: bool = False) -> pa.Array:
    """``text`` (no nulls) as Python's csv writer writes it: a field holding a comma, a quote or a newline is
    enclosed in quotes, its quotes doubled (a lone carriage return is not quoted, as pandas does); with ``guard``,
    a text beginning with a formula start first gets a leading ``'`` (:func:`analysis.tables.formula_guarded`). A
    column of few distinct values (segments, tiers, countries) is looked at once per value."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text)
    if 4 * len(encoded.dictionary) < len(text):
        return pc.take(_quoted_values(encoded.dictionary, guard), encoded.indices)
    return _quoted_values(text, guard)


def _quoted_values(text: pa.Array, guard: bool = False) -> pa.Array:
    if guard:
        text = formula_guarded(text)
    special = [pc.match_substring(text, c) for c in (",", '"', "\n")]
    plain = pc.invert(pc.or_(pc.or_(special[0], special[1]), special[2]))
    if pc.all(plain).as_py():
        return text
    doubled = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(plain, text, doubled)


def _float_text(values: np.ndarray) -> pa.Array:
    """Floats as ``"%.15g" % x`` writes them, NaN as empty. Arrow's shortest round-trip text is the same for a
    value of at most 15 significant digits in fixed notation (1e-4 <= |x| < 1e15), as every value is once
    rounded for people; the others are formatted by Python."""
    text = pc.cast(pa.array(values, from_pandas=True), pa.string()).fill_null("")
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        odd = ((size < 1e-4) & (size > 0)) | (size >= 1e15)
    digits = pc.utf8_length(text).to_numpy() - (values < 0) - pc.match_substring(text, ".").to_numpy(False)
    odd |= (digits > 15) | pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    odd &= np.isfinite(values)
    if odd.any():
        out = np.asarray(text.to_pylist(), dtype=object)
        out[odd] = [format(v, ".15g") for v in values[odd]]
        text = pa.array(out, pa.string())
    return text


def _column_text(column: pd.Series, guard: bool = False) -> pa.Array | None:
    """One column as ``DataFrame.to_csv(float_format="%.15g")`` writes it, or None for a kind of column this
    fast path does not know (then pandas writes the whole table). ``guard``: text that begins with a formula
    start gets a leading ``'`` (numbers, dates and yes/no columns are never text)."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        values = pa.array(column, from_pandas=True, type=pa.bool_())
        return pc.if_else(values, "True", "False").fill_null("")
    if pd.api.types.is_float_dtype(dtype):
        return _float_text(column.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_integer_dtype(dtype):
        return pc.cast(pa.array(column, from_pandas=True), pa.string()).fill_null("")
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        stamps = pa.array(column, from_pandas=True)
        ns = column.to_numpy("datetime64[ns]").view("int64")[column.notna().to_numpy()]
        if (ns % 1_000_000_000).any():
            return None  # fractions of a second: pandas' own format
        # whole days as 2024-01-31 (pandas drops a time that is midnight everywhere), else 2024-01-31 09:05:00
        whole = pa.date32() if not (ns % 86_400_000_000_000).any() else pa.timestamp("s")
        return pc.cast(pc.cast(stamps, whole), pa.string()).fill_null("")
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        try:
            values = pa.array(column, from_pandas=True, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # not all text
        return _quoted(values.fill_null(""), guard)
    return None


def write_csv(frame: pd.DataFrame, path: Path, chunk: int = 200_000, guard: bool = True) -> None:
    """``frame`` as ``frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.15g")`` writes it,
    byte for byte, in a fraction of the time: each column is turned into text by Arrow, a chunk of rows at a
    time (pandas' writer formats a million customers' 40 columns in about 20 s of CPU).

    ``guard`` (the setting ``export.csv_formula_guard``): a text cell or header that begins with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so that a spreadsheet shows it instead of
    evaluating it (OWASP's CSV injection); numbers stay numbers."""
    header = _quoted(pa.array([str(c) for c in frame.columns], pa.string()), guard).to_pylist()
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as out:
        out.write(("\ufeff" + ",".join(header) + "\n").encode("utf-8"))
        for start in range(0, len(frame), chunk):
            part = frame.iloc[start : start + chunk]
            columns = [_column_text(part[c], guard) for c in part.columns] if part.shape[1] > 1 else [None]
            if any(c is None for c in columns):  # (a one-column table quotes empty fields: pandas too)
                break
            rows = pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), "", "\n")
            if isinstance(rows, pa.ChunkedArray):
                rows = rows.combine_chunks()
            offsets = np.frombuffer(rows.buffers()[1], np.int32)[rows.offset : rows.offset + len(rows) + 1]
            out.write(memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]])
        else:
            tmp.replace(path)
            return
    tmp.unlink()
    if guard:
        frame = formula_guarded_frame(frame)
        frame = frame.set_axis([formula_guarded_value(str(c)) for c in frame.columns], axis=1)
    frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.15g")


def csv_formula_guard(config: dict[str, Any]) -> bool:
    """Whether the CSV files people open get their formula starts guarded (``export.csv_formula_guard``)."""
    return bool(config["export"]["csv_formula_guard"])


# Set to "1" in the environment of a report run's kernel, whose runner writes customers.csv once after the last
# page (write_customers_csv): each page then writes only customers.parquet, not a CSV it would soon replace
# (formatting a million customers' 50 columns as text costs about 6 s). Anywhere else (a notebook re-run in
# JupyterLab) add_columns writes both, as the run directory's contract says.
CSV_AFTER_PAGES = "ANALYSIS_CUSTOMERS_CSV_AFTER_PAGES"

# The customer table a Stage last wrote or read: (run directory, the file's mtime and size then, table). The pages
# of a run share one kernel, so the next page takes the table from here instead of reading it again; one entry,
# so a long-lived kernel holds no older run's table.
_LAST_TABLE: list[tuple[Path, tuple[int, int], pd.DataFrame]] = []


def _remember(run_dir: Path, table: pd.DataFrame) -> pd.DataFrame:
    stat = (run_dir / "customers.parquet").stat()
    _LAST_TABLE[:] = [(run_dir.resolve(), (stat.st_mtime_ns, stat.st_size), table)]
    return table


def _remembered(run_dir: Path) -> pd.DataFrame | None:
    """The table :func:`_remember` kept for ``run_dir``, if customers.parquet has not changed since."""
    if not _LAST_TABLE:
        return None
    where, stamp, table = _LAST_TABLE[0]
    stat = (run_dir / "customers.parquet").stat()
    return table if where == run_dir.resolve() and stamp == (stat.st_mtime_ns, stat.st_size) else None


def for_people(customers: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """The customer table as customers.csv holds it: rounded for people (:func:`rounded_for_people`), then
    ``as_of``, the day the table was assessed on, as its last column (a CRM import keeps when each customer was
    classified; the column is left out when the run has no as-of date yet)."""
    out = rounded_for_people(customers)
    if as_of is not None:
        out["as_of"] = pd.Timestamp(as_of).normalize()
    return out


def run_as_of(run_dir: Path) -> pd.Timestamp | None:
    """The day ``run_dir``'s table is assessed on (its quality.json's ``as_of``, written before any
    customers.csv), or None in a folder without one."""
    path = run_dir / "quality.json"
    if not path.is_file():
        return None
    as_of = json.loads(path.read_text(encoding="utf-8")).get("as_of")
    return pd.Timestamp(as_of) if as_of else None


def write_customers(run_dir: Path, customers: pd.DataFrame, csv: bool = True) -> None:
    """The typed working copy at full precision (parquet) and the CSV people import (UTF-8 with BOM for
    Excel), rounded for people, with the as-of date (:func:`for_people`). With ``csv=False`` the CSV is removed
    instead (it would be older than the table), for :func:`write_customers_csv` to write once the table is
    complete."""
    customers.to_parquet(run_dir / "customers.parquet", index=False)
    if csv:
        write_csv(for_people(customers, run_as_of(run_dir)), run_dir / "customers.csv", guard=_guard_of(run_dir))
    else:
        (run_dir / "customers.csv").unlink(missing_ok=True)


def write_customers_csv(run_dir: Path | str, guard: bool | None = None) -> None:
    """customers.csv from the customer table as it stands in ``run_dir`` (after the last page: the runner has
    the pages' kernel write it, which still holds the table, while the runner builds the rest of the pack).
    ``guard``: :func:`write_csv`'s, by default the run's ``export.csv_formula_guard`` (from its settings.json)."""
    run_dir = Path(run_dir)
    guard = _guard_of(run_dir) if guard is None else guard
    table = _remembered(run_dir)
    table = pd.read_parquet(run_dir / "customers.parquet") if table is None else table
    write_csv(for_people(table, run_as_of(run_dir)), run_dir / "customers.csv", guard=guard)


def _guard_of(run_dir: Path) -> bool:
    """The run's ``export.csv_formula_guard``, from its settings.json."""
    return csv_formula_guard(json.loads((run_dir / SETTINGS).read_text(encoding="utf-8"))["config"])


def write_prepared(run_dir: Path, prepared: Prepared, settings: dict[str, Any], csv: bool = True) -> None:
    """Write what :func:`analysis.data.pipeline.prepare` produced into ``run_dir`` (customers.csv too unless
    ``csv`` is false: a report run writes it after its pages)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    prepared.write(run_dir)  # streamed from the engine: the rows need not be read into pandas
    kill_point("prepare_write")  # (a test's: the Parquet files written, quality.json not yet)
    write_json(run_dir / "quality.json", prepared.quality)
    if csv:
        write_customers_csv(run_dir, guard=csv_formula_guard(settings["config"]))
    write_json(run_dir / SETTINGS, {**settings, "input_path": redacted(settings["input_path"])})  # no password


def settings_for(
    input_path: str,
    as_of: str | None,
    config_path: str | None,
    overrides: dict | None = None,
    customers_path: str | None = None,
) -> dict[str, Any]:
    """The resolved settings of a run: absolute paths and the fully merged config."""
    config = load_config(config_path or None, overrides)
    return {
        "input_path": str(Path(input_path).resolve()) if Path(input_path).exists() else input_path,
        "as_of": as_of or None,
        "config_path": str(Path(config_path).resolve()) if config_path else None,
        "customers_path": str(Path(customers_path).resolve()) if customers_path else None,
        "config": config,
    }


def prepare_run(run_dir: Path, settings: dict[str, Any], csv: bool = True) -> Prepared:
    """Prepare the data for ``settings`` and write it into ``run_dir`` (``csv``: see :func:`write_prepared`)."""
    prepared = prepare(
        settings["input_path"], settings["config"], settings["as_of"], settings["customers_path"]
    )
    settings = {**settings, "as_of": prepared.quality["as_of"]}
    write_prepared(run_dir, prepared, settings, csv)
    return prepared


# The provenance table's labels, {en, zh} each.
PROVENANCE = {
    "generated": {"en": "generated (UTC)", "zh": "生成时间（UTC）"},
    "input": {"en": "input", "zh": "输入文件"},
    "fingerprint": {"en": "input fingerprint (sha256)", "zh": "输入指纹（sha256）"},
    "as_of": {"en": "as of", "zh": "截止日期"},
    "run_dir": {"en": "run directory", "zh": "运行目录"},
    "version": {"en": "version {}", "zh": "{} 版本"},
    "value": {"en": "value", "zh": "值"},
    "item": {"en": "item", "zh": "项目"},
}


@dataclass
class Stage:
    """A notebook's handle on a prepared run directory."""

    run_dir: Path

    @cached_property
    def settings(self) -> dict[str, Any]:
        return json.loads((self.run_dir / SETTINGS).read_text(encoding="utf-8"))

    @property
    def config(self) -> dict[str, Any]:
        return self.settings["config"]

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.settings["as_of"])

    @cached_property
    def quality(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "quality.json").read_text(encoding="utf-8"))

    @property
    def mapping(self) -> dict[str, str]:
        """Column role -> the input's header."""
        return self.quality["mapping"]

    @cached_property
    def returns(self) -> pd.DataFrame:
        """The returned lines netting took off earlier purchases: ``customer_id``, ``timestamp``, ``amount``."""
        return returned_lines(self.quarantine, self.mapping, self.config["data"])

    @cached_property
    def transactions(self) -> pd.DataFrame:
        return pd.read_parquet(self.run_dir / "transactions.parquet")

    def read_transactions(self, columns: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        """The validated transactions with only ``columns`` (those the run has; all when None): a stage that
        needs the customer, the time and the amount need not hold every attribute of millions of rows."""
        if columns is None or "transactions" in self.__dict__:  # all, or already read in full
            return with_columns(self.transactions, columns)
        path = self.run_dir / "transactions.parquet"
        names = set(pq.read_schema(path).names)
        return pd.read_parquet(path, columns=[c for c in columns if c in names])

    @cached_property
    def quarantine(self) -> pd.DataFrame:
        return pd.read_csv(self.run_dir / "quarantine.csv", dtype=str, keep_default_na=False)

    _customers: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def customers(self) -> pd.DataFrame:
        """The customer table as it stands now (with every column earlier stages added): read once, then kept
        up to date by :meth:`add_columns`. Each call gives its own frame (changing it changes nothing here)."""
        if self._customers is None:
            table = _remembered(self.run_dir)
            if table is None:
                table = _remember(self.run_dir, pd.read_parquet(self.run_dir / "customers.parquet"))
            self._customers = table
        return self._customers.copy(deep=False)

    def add_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Merge ``frame`` (``customer_id`` + new columns) into the customer table, by customer id.

        Columns of the same name are replaced (re-running a stage is idempotent). Every
        customer id in ``frame`` must be in the table. Returns the updated table.
        """
        if "customer_id" not in frame:
            raise ValueError("add_columns needs a customer_id column")
        table = self.customers
        added = [c for c in frame.columns if c != "customer_id"]
        if not added:  # a stage that adds no column (cohorts): the table is not written again (1.5 s at 1M)
            return table.copy(deep=False)
        ids = frame["customer_id"].astype(str)
        kept = table.drop(columns=[c for c in added if c in table.columns])
        if len(ids) == len(table) and pd.Index(ids).equals(pd.Index(table["customer_id"])):
            # a stage's frame has the table's customers in the table's order: no join needed
            table = pd.concat([kept, frame[added].set_axis(table.index)], axis=1)
        else:
            if ids.duplicated().any():
                raise ValueError("add_columns got duplicate customer ids")
            unknown = int((~ids.isin(table["customer_id"])).sum())
            if unknown:
                raise ValueError(f"add_columns got {unknown} customer ids not in the customer table")
            new = frame.assign(customer_id=ids)
            table = kept.merge(new, on="customer_id", how="left", validate="one_to_one")
        write_customers(self.run_dir, table, csv=os.environ.get(CSV_AFTER_PAGES) != "1")
        self._customers = _remember(self.run_dir, table)
        return table.copy(deep=False)

    def add(self, result: StageResult) -> pd.DataFrame:
        """Record a stage's result: its columns into the customer table (:meth:`add_columns`) and its record as
        ``<stage>.json``. Returns the updated customer table."""
        table = self.add_columns(result.columns)
        self.write_json(result.json_name, result.record)
        return table

    def provenance(self, lang: str = "en") -> pd.DataFrame:
        """When, on what input (its fingerprint), as of when and with which versions this ran, labelled in
        ``lang``."""
        check_language(lang)
        rows = {
            PROVENANCE["generated"][lang]: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            PROVENANCE["input"][lang]: self.quality.get("input"),
            PROVENANCE["fingerprint"][lang]: self.quality.get("fingerprint"),
            PROVENANCE["as_of"][lang]: self.settings["as_of"],
            PROVENANCE["run_dir"][lang]: str(self.run_dir),
            **{PROVENANCE["version"][lang].format(k): v for k, v in versions().items()},
        }
        return pd.DataFrame({PROVENANCE["value"][lang]: rows}).rename_axis(PROVENANCE["item"][lang])

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as ``name`` in the run directory; returns the path."""
        path = self.run_dir / name
        write_json(path, obj)
        return path


# What a prepared run directory holds, as a number: a scratch folder prepared with an older layout (say, before
# quality.json carried the monthly revenue) is prepared again.
LAYOUT = 3  # 3: settings.json always has export.csv_formula_guard


def _scratch_dir(settings: dict[str, Any]) -> Path:
    key = json.dumps({**settings, "layout": LAYOUT}, sort_keys=True, default=str).encode()
    source = Path(settings["input_path"])
    if source.is_file():
        stat = source.stat()
        key += f"{stat.st_size}:{stat.st_mtime_ns}".encode()
    digest = hashlib.sha256(key).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "analysis-scratch" / digest


# The project folder (the repository a notebook belongs to), when the package runs from it (an editable install).
PROJECT = Path(__file__).resolve().parents[3]


def project_file(path: str) -> str:
    """A notebook's path parameter as a file: a relative path is read from the project folder, wherever the
    notebook runs (JupyterLab in ``notebooks/``, papermill from the repository root or from another folder);
    an absolute path, a connection string (``scheme://...``) or an empty value is left as it is."""
    if not path or "://" in path or Path(path).is_absolute() or not (PROJECT / "pyproject.toml").is_file():
        return path
    return str(PROJECT / path)


def open_stage(
    run_dir: str = "",
    input_path: str = "",
    as_of: str = "",
    config_path: str = "",
    customers_path: str = "",
) -> Stage:
    """Open the run directory a runner prepared; with ``run_dir=""``, prepare one from
    ``input_path`` in a scratch folder (reused while the input and settings are unchanged), so a
    notebook also runs alone in JupyterLab."""
    if run_dir:
        path = Path(run_dir)
        if not (path / SETTINGS).is_file():
            raise UserError(f"{path} is not a prepared run directory (no {SETTINGS})")
        privacy.use_key_of(path)  # the pages mask ids with the key of this run's reports folder
        return Stage(path)
    if not input_path:
        raise UserError("give either run_dir or input_path")
    input_path, config_path, customers_path = (project_file(p) for p in (input_path, config_path, customers_path))
    settings = settings_for(input_path, as_of or None, config_path or None, None, customers_path or None)
    path = _scratch_dir(settings)
    if not (path / SETTINGS).is_file():
        prepare_run(path, settings)
    privacy.use_key_of(path)  # the pages mask ids with the key of this run's reports folder
    return Stage(path)
