"""Neutralising spreadsheet formulas in CSV exports (OWASP "CSV injection").

A spreadsheet opening a CSV runs any cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula, so an actor name, a reason or a variable value sent
to the hub could make an auditor's or researcher's spreadsheet fetch a URL or run a command.
:func:`safe_cell` prefixes such a text cell with a single quote, which spreadsheets show
but never evaluate. Only *text* is touched: numbers keep their sign and stay numbers.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (other dtypes unchanged)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(safe_cell, na_action="ignore")
    return out
