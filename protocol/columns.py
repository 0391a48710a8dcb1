"""A batch of normalised identities, column by column: what the encoders read.

The token encoder and the Bloom encoder work on whole columns (C-level ``map`` over lists,
NumPy over arrays), so a batch is turned into one list per identity field once. The lists
hold plain ``str``/``date``/``tuple`` values — ``sex`` as its one-letter code — so a batch
pickles quickly when a node hands it to a worker process
(``agency_node.services.parallel_encoding``), with no dataclass to rebuild on the other
side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import attrgetter
from typing import NamedTuple

from protocol.identity import NormalizedIdentity

_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "dob",
    "ssn",
    "postal_code",
    "street_address",
    "city",
    "first_name_canonical",
    "last_name_parts",
)


class IdentityColumns(NamedTuple):
    """One list per identity field, all of the batch's length; ``None`` where missing."""

    first_name: list[str | None]
    middle_name: list[str | None]
    last_name: list[str | None]
    dob: list[dt.date | None]
    ssn: list[str | None]
    postal_code: list[str | None]
    street_address: list[str | None]
    city: list[str | None]
    first_name_canonical: list[tuple[str, ...]]
    last_name_parts: list[tuple[str, ...]]
    #: ``M``/``F``/``X`` (:class:`protocol.identity.Sex` values), ``None`` where missing.
    sex: list[str | None]

    @classmethod
    def of(cls, identities: Sequence[NormalizedIdentity]) -> IdentityColumns:
        """The columns of ``identities``, in order."""
        column = {name: list(map(attrgetter(name), identities)) for name in _FIELDS}
        sex = [None if x.sex is None else x.sex.value for x in identities]
        return cls(**column, sex=sex)

    @property
    def rows(self) -> int:
        """The number of identities in the batch."""
        return len(self.first_name)
