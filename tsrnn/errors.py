"""The one exception users see for bad input."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data: the message names the file, column, series and row, and says what to do.

    A ``ValueError`` subclass, so code that already catches ``ValueError`` keeps working.
    The CLI prints the message on one line and exits with status 2.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run that cannot be finished with what it had (a backtest whose model's
    training was cut short); the message says which model and where. A ``KeyboardInterrupt``,
    so it stops whatever was running as Ctrl-C does."""
