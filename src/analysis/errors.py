"""The one exception type for a user's mistake.

Anything raised as :class:`UserError` is shown as a single ``error: ...`` line by the command
line (exit status 2), never as a traceback. Library code raises it for bad input: an unreadable
file, a missing column role, an ambiguous date format, no valid rows left.
"""


class UserError(Exception):
    """A problem with the user's input or settings, with a message saying what to do."""


class StageDeclined(Exception):
    """A stage whose data cannot support it (no repeat buyers, too short a history, too few customers): not
    an error of the user's, and not a failure. The run goes on without the stage; its page says why.

    ``stage`` names the stage (``clv``, ``churn``, ...); ``reason`` is one sentence for people, ``{"en": ...,
    "zh": ...}``; ``columns`` maps each column the stage would have added to the customer table to its kind
    (``"number"`` or ``"text"``), so the table carries them empty rather than not at all; ``report``, what the
    stage found on the way (JSON-able), goes into its JSON beside the reason."""

    def __init__(self, stage: str, reason: dict[str, str], columns: dict[str, str], report: dict | None = None):
        super().__init__(reason["en"])
        self.stage, self.reason, self.columns, self.report = stage, dict(reason), dict(columns), report or {}
