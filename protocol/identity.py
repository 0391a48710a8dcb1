"""The canonical identity schema shared by every node and the hub.

A node maps its local columns onto :data:`IDENTITY_FIELDS`; everything else is an attribute
variable. :func:`protocol.normalize.normalize_identity` turns one raw row into a
:class:`NormalizedIdentity`: clean values, or ``None`` with a reason in ``problems``.
Identity values exist in clear only on the node; the hub only ever sees tokens derived
from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

IDENTITY_FIELDS: Final[tuple[str, ...]] = (
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "dob",
    "sex",
    "ssn",
    "postal_code",
    "street_address",
    "city",
)

#: Fields that may never be sent to the hub in any form other than a keyed token or a
#: keyed Bloom filter. (Every identity field is direct or quasi-identifying.)
DIRECT_IDENTIFIERS: Final[frozenset[str]] = frozenset(IDENTITY_FIELDS) | {"record_id"}


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"
    OTHER = "X"


class MissingReason(StrEnum):
    """Why a field has no usable value. Stable codes: they end up in node quarantine and
    data-quality profiles."""

    ABSENT = "absent"  # empty, whitespace or NULL
    PLACEHOLDER = "placeholder"  # a known stand-in: 'UNKNOWN', '999-99-9999', 1900-01-01
    NO_LETTERS = "no_letters"  # a name with no letters left after cleaning
    TOO_LONG = "too_long"  # longer than any real value of the field
    UNPARSEABLE = "unparseable"  # not in any accepted format
    IMPOSSIBLE_DATE = "impossible_date"  # 2004-02-30, month 13
    OUT_OF_RANGE = "out_of_range"  # a birth date in the future or before 1900
    INVALID_SSN = "invalid_ssn"  # area 000/666/9xx, group 00, serial 0000
    INVALID_POSTAL_CODE = "invalid_postal_code"
    UNKNOWN_CODE = "unknown_code"  # e.g. a sex code that maps to nothing


@dataclass(frozen=True, slots=True)
class NormalizedIdentity:
    """One person's identity as seen by one agency, normalised for linkage.

    Names are upper-case ASCII letters only (accents stripped, punctuation, digits and
    spaces removed). ``None`` means missing; ``problems`` says why for each missing field
    whose raw value was present but unusable, or absent.

    Derived variants let tokens use the clear text fully before hashing:

    - ``first_name_canonical``: the formal name(s) a nickname stands for (``BILL`` →
      ``WILLIAM``), sorted, at most a few, excluding ``first_name`` itself;
    - ``last_name_parts``: the parts of a compound or hyphenated surname (``GARCIA-LOPEZ`` →
      ``("GARCIA", "LOPEZ")``), empty when the surname is simple.
    """

    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    name_suffix: str | None = None
    dob: dt.date | None = None
    sex: Sex | None = None
    ssn: str | None = None
    postal_code: str | None = None
    street_address: str | None = None
    city: str | None = None
    first_name_canonical: tuple[str, ...] = ()
    last_name_parts: tuple[str, ...] = ()
    problems: dict[str, MissingReason] = field(default_factory=dict)

    def present(self, name: str) -> bool:
        """True when identity field ``name`` holds a usable value."""
        return getattr(self, name) is not None
