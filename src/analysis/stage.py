"""The one shape every stage has: ``run(prepared, config) -> StageResult``.

Each stage package (``segments``, ``clusters``, ``clv``, ``churn``, and every later one) exposes

    run(prepared: Inputs, config: dict) -> StageResult

``prepared`` is what :func:`analysis.data.pipeline.prepare` returns, or a notebook's handle on a run directory
(:class:`analysis.report.rundir.Stage`): both offer the parts of :class:`Inputs`. ``config`` is the validated
settings (:func:`analysis.config.load_config`): every key a stage reads is there, with its default from
``defaults/*.yaml``, so a stage reads ``cfg["key"]`` and never repeats a default.

The result has the same parts in every stage (:class:`StageResult`): the columns it adds to the customer table,
the named tables its page shows, the JSON record written as ``<stage>.json``, its warnings (each ``{en, zh}``, kept
in the record under ``"warnings"``) and ``summary(lang)``, the managers' bullets. A stage's result class subclasses
:class:`StageResult` and may carry more (the fitted model, the backtest, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import pandas as pd

Text = dict[str, str]  # a sentence for people, written once in each language: {"en": ..., "zh": ...}

LANGUAGES = ("en", "zh")


def text(en: str, zh: str) -> Text:
    """A sentence in both languages. Both are required: a sentence meant for people is never left in English
    on the Chinese page."""
    if not en or not zh:
        raise ValueError(f"a text needs both languages: en={en!r}, zh={zh!r}")
    return {"en": en, "zh": zh}


class Inputs(Protocol):
    """What a stage reads: the prepared run (``data.pipeline.Prepared`` or ``report.rundir.Stage``)."""

    @property
    def as_of(self) -> pd.Timestamp: ...  # the assessment date (the last day of observed data)

    @property
    def mapping(self) -> dict[str, str]: ...  # column role -> the input's header

    @property
    def customers(self) -> pd.DataFrame: ...  # the customer table as it stands (earlier stages' columns too)

    @property
    def quarantine(self) -> pd.DataFrame: ...  # the rows left out, with the input's headers and a reason

    @property
    def returns(self) -> pd.DataFrame: ...  # returned lines netted away: customer_id, timestamp, amount (> 0)

    @property
    def transactions(self) -> pd.DataFrame: ...  # the validated purchases, every column

    def read_transactions(self, columns: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame: ...


@dataclass(kw_only=True)
class StageResult:
    """A stage's products, the same parts in every stage.

    - ``columns``: ``customer_id`` + the columns the stage adds to the customer table (one row per customer of
      the table, in its order);
    - ``tables``: the named tables its page shows (raw numbers; ``show.py`` labels them in a language);
    - ``record``: JSON-able, written as ``<stage>.json``; its ``"warnings"`` is the list of warnings;
    - ``summary(lang)``: the managers' bullets (Markdown) in ``lang``.
    """

    stage: ClassVar[str] = ""  # the stage's name: "segments", "clusters", "clv", "churn"

    columns: pd.DataFrame
    record: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def json_name(self) -> str:
        """The record's file name in the run directory."""
        return f"{self.stage}.json"

    @property
    def warnings(self) -> list[Text]:
        """What the reader should know about this run, each ``{en, zh}``."""
        return self.record.get("warnings", [])

    def summary(self, lang: str = "en") -> str:
        """The managers' bullets in ``lang`` (Markdown)."""
        raise NotImplementedError(f"{type(self).__name__} has no summary")


def no_returns() -> pd.DataFrame:
    """The returned lines of a run without returns: ``customer_id``, ``timestamp``, ``amount``, no row."""
    return pd.DataFrame({"customer_id": pd.Series(dtype=object), "timestamp": pd.Series(dtype="datetime64[ns]"),
                         "amount": pd.Series(dtype="float64")})  # fmt: skip


def with_columns(transactions: pd.DataFrame, columns: list[str] | tuple[str, ...] | None) -> pd.DataFrame:
    """``transactions`` with only ``columns`` (those it has; all when None): what ``read_transactions`` gives."""
    return transactions if columns is None else transactions[[c for c in columns if c in transactions]]


@dataclass
class Frames:
    """:class:`Inputs` from frames an analyst already holds (a notebook of one's own, a test): one stage run on
    your own DataFrame. ``transactions`` are validated purchases (``customer_id``, ``order_id``, ``timestamp``,
    ``amount``, ...); the customer table is made from them as the data spine makes it, unless given.

        result = clv.run(Frames(tx, as_of="1998-06-30"), load_config())
    """

    transactions: pd.DataFrame | None = None
    as_of: pd.Timestamp | str | None = None
    customers_table: pd.DataFrame | None = None
    quarantine: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"reason": pd.Series(dtype=object)}))
    returns: pd.DataFrame = field(default_factory=no_returns)
    mapping: dict[str, str] = field(default_factory=dict)
    time_unit: str = "weeks"

    def __post_init__(self) -> None:
        self.as_of = pd.Timestamp(self.as_of)
        if self.transactions is None and self.customers_table is None:
            raise ValueError("Frames needs transactions, a customer table, or both")
        if not self.mapping and self.transactions is not None:
            self.mapping = {c: c for c in self.transactions.columns}

    @property
    def customers(self) -> pd.DataFrame:
        if self.customers_table is None:
            from analysis.data.features import customer_features

            self.customers_table = customer_features(self.transactions, self.as_of, self.time_unit)
        return self.customers_table.copy(deep=False)

    def read_transactions(self, columns: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        if self.transactions is None:
            raise ValueError("this stage reads the transactions: give Frames(transactions=...)")
        return with_columns(self.transactions, columns)
