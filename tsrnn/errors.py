"""The one exception users see for bad input."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data: the message names the file, column, series and row, and says what to do.

    A ``ValueError`` subclass, so code that already catches ``ValueError`` keeps working.
    The CLI prints the message on one line and exits with status 2.
    """
