"""The result type of every field normaliser, and the options some of them take."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Final, Generic, Literal, Never, TypeVar

from protocol.identity import MissingReason

T = TypeVar("T", covariant=True)
V = TypeVar("V")

DateOrder = Literal["MDY", "DMY"]
PostalCodeFormat = Literal["us", "any"]


@dataclass(frozen=True, slots=True)
class Normalized(Generic[T]):
    """A normalised field value, or the reason there is none.

    Exactly one of ``value`` and ``reason`` is set. Instances are immutable, so the
    normalisers can hand out cached instances safely.
    """

    value: T | None
    reason: MissingReason | None

    def __post_init__(self) -> None:
        # A result with both or neither would make "missing" ambiguous for every caller.
        if (self.value is None) == (self.reason is None):
            raise ValueError("Normalized needs exactly one of value and reason")

    # Static rather than class methods: T is covariant (a Normalized[str] is a
    # Normalized[object], which callers collecting results rely on), and a covariant type
    # variable cannot be a parameter.
    @staticmethod
    def ok(value: V) -> Normalized[V]:
        """A usable value."""
        return Normalized(value, None)

    @staticmethod
    def missing(reason: MissingReason) -> Normalized[Never]:
        """No usable value, for ``reason`` (a ``Normalized`` of any value type)."""
        # One shared instance per reason (they are immutable): a missing field is common
        # (a null middle name or suffix on most rows) and needs no new object each time.
        cached = _MISSING.get(reason)
        if cached is None:
            cached = _MISSING[reason] = Normalized(None, reason)
        return cached

    @property
    def is_ok(self) -> bool:
        """True when the field holds a usable value."""
        return self.reason is None


_MISSING: dict[MissingReason, Normalized[Never]] = {}


@dataclass(frozen=True, slots=True)
class NormalizationOptions:
    """Per-source settings of the normalisers.

    - ``date_order``: how to read ``03/07/2004``-style dates (``MDY``: 7 March; ``DMY``:
      3 July). ISO, compact and month-name dates are unambiguous and ignore it.
    - ``today``: reference date for the two-digit-year pivot and the future-date check;
      ``None`` means the current date at call time (tests pin it).
    - ``postal_code_format``: ``us`` reduces ZIP and ZIP+4 to the 5-digit ZIP; ``any`` keeps
      up to 10 upper-case letters and digits (e.g. Australian postcodes in FEBRL data).
    """

    date_order: DateOrder = "MDY"
    today: dt.date | None = None
    postal_code_format: PostalCodeFormat = "us"

    def __post_init__(self) -> None:
        # Options come from node config files; a typo must fail at start-up, not silently
        # read every date the wrong way round.
        if self.date_order not in ("MDY", "DMY"):
            raise ValueError(f"date_order must be 'MDY' or 'DMY', not {self.date_order!r}")
        if self.postal_code_format not in ("us", "any"):
            raise ValueError(
                f"postal_code_format must be 'us' or 'any', not {self.postal_code_format!r}"
            )
        if self.today is not None and not isinstance(self.today, dt.date):
            raise TypeError("today must be a datetime.date or None")

    def reference_date(self) -> dt.date:
        """The date "today" stands for: ``today`` or the current local date."""
        today = self.today
        if today is None:
            return _current_date()
        if isinstance(today, dt.datetime):
            return today.date()
        return today


# The clock is read at most once a second: reading the date for every field of every row
# cost more than normalising most fields. A value read up to a second before midnight is
# the previous day's, as it would have been had the row been read a second earlier.
_CLOCK: list[tuple[float, dt.date]] = [(-1.0, dt.date.min)]


def _current_date() -> dt.date:
    deadline, today = _CLOCK[0]
    now = time.monotonic()
    if now >= deadline:
        today = dt.date.today()
        _CLOCK[0] = (now + 1.0, today)
    return today


DEFAULT_OPTIONS: Final = NormalizationOptions()
