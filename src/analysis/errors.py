"""The one exception type for a user's mistake.

Anything raised as :class:`UserError` is shown as a single ``error: ...`` line by the command
line (exit status 2), never as a traceback. Library code raises it for bad input: an unreadable
file, a missing column role, an ambiguous date format, no valid rows left.
"""


class UserError(Exception):
    """A problem with the user's input or settings, with a message saying what to do."""
