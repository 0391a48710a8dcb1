"""Generalisation ladders for quasi-identifiers: coarser and coarser versions of a column.

A ladder is a list of :class:`Step`; step ``i`` maps the *original* values to the values at
level ``i + 1`` (steps are not chained, so a later level never depends on how an earlier one
rounded). Values come out as strings (a band is not a number), missing values stay missing.

Which ladder a variable gets depends on its catalog type and, for two common kinds, its name:

=========================  ===================================================================
variable                   levels
=========================  ===================================================================
``date``                   year → 5-year band of years
ZIP (name has ``zip`` or   ZIP5 → ZIP3 (first three digits)
``postal``, 5-digit data)
age (name token ``age``)   5-year band → 10-year band → 20-year band
other ``integer`` /        band of width *w* → 2\\ *w* → 5\\ *w*, where *w* is the "nice" number
``number``                 (1, 2 or 5 × 10^n) just above a tenth of the observed range
``string``, ``boolean``    none: such a variable can only be suppressed
=========================  ===================================================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

_ZIP_NAME = re.compile(r"zip|postal", re.IGNORECASE)
#: ``age`` as a word of the name: ``age``, ``age_at_entry``, and ``K12.age`` — an extract
#: names a QI ``AGENCY.variable`` (hub.extracts.assembly).
_AGE_NAME = re.compile(r"(^|[_.])age($|_)", re.IGNORECASE)
_ZIP5 = re.compile(r"^[0-9]{5}$")


@dataclass(frozen=True)
class Step:
    """One level of a ladder: a rule name for the report and the mapping of original values."""

    rule: str
    apply: Callable[[pd.Series], pd.Series]


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("string")


def _year_band(width: int) -> Callable[[pd.Series], pd.Series]:
    def apply(values: pd.Series) -> pd.Series:
        years = pd.to_datetime(values, errors="coerce").dt.year
        if width == 1:
            return _as_text(years.astype("Int64"))
        low = (years // width) * width
        text = low.astype("Int64").astype("string") + "–" + (low + width - 1).astype(
            "Int64").astype("string")
        return text.astype("string")

    return apply


def _zip3(values: pd.Series) -> pd.Series:
    return _as_text(values).str.slice(0, 3)


def nice_width(span: float) -> float:
    """The smallest of 1, 2, 5 × 10^n that is at least ``span / 10`` (``1`` for no span)."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    target = span / 10
    exponent = math.floor(math.log10(target))
    for mantissa in (1, 2, 5, 10):
        width = mantissa * 10.0**exponent
        if width >= target * (1 - 1e-12):
            return width
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _band(width: float, *, integer: bool) -> Callable[[pd.Series], pd.Series]:
    def apply(values: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(values, errors="coerce")
        low = (numbers // width) * width

        def label(lo: float) -> object:
            if pd.isna(lo):
                return pd.NA
            if integer and float(width).is_integer():
                return f"{_format_number(lo)}–{_format_number(lo + width - 1)}"
            return f"[{_format_number(lo)}, {_format_number(lo + width)})"

        return pd.Series([label(v) for v in low], index=values.index, dtype="string")

    return apply


def ladder_for(name: str, type_: str, values: pd.Series) -> list[Step]:
    """The generalisation ladder of variable ``name`` of catalog type ``type_``."""
    present = values.dropna()
    if type_ == "date":
        return [Step("date→year", _year_band(1)), Step("date→5-year band", _year_band(5))]
    if _ZIP_NAME.search(name) and type_ in ("string", "integer"):
        text = _as_text(present).str.zfill(5) if type_ == "integer" else _as_text(present)
        if len(text) == 0 or text.str.fullmatch(_ZIP5.pattern).all():
            return [Step("ZIP5→ZIP3", lambda v: _zip3(
                _as_text(v).str.zfill(5) if type_ == "integer" else v))]
        return []
    if type_ not in ("integer", "number"):
        return []
    integer = type_ == "integer"
    if _AGE_NAME.search(name):
        return [Step(f"age→{w}-year band", _band(w, integer=integer)) for w in (5, 10, 20)]
    numbers = pd.to_numeric(present, errors="coerce").dropna()
    span = float(numbers.max() - numbers.min()) if len(numbers) else 0.0
    width = nice_width(span)
    if integer:
        width = max(1.0, width)
    return [
        Step(f"numeric→band of {_format_number(w)}", _band(w, integer=integer))
        for w in (width, 2 * width, 5 * width)
    ]
