"""Constrained scalar types and base classes of the wire models (:mod:`protocol.wire`).

Services may use these types for their own validation so a project id, agency code or
variable name means the same everywhere. Every string type is anchored and bounded; dates
and time stamps refuse pydantic's lax inputs (Unix numbers, naive or partial forms).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
)

from protocol import PROTOCOL_VERSION
from protocol.canonical import b64url_decode
from protocol.errors import ProtocolError
from protocol.identity import DIRECT_IDENTIFIERS
from protocol.keyfiles import ed25519_public_from_b64, x25519_public_from_b64

MAX_TEXT: Final = 2000


# --- constrained scalars ---------------------------------------------------------------


def _not_identity(name: str) -> str:
    if name.lower() in DIRECT_IDENTIFIERS:
        raise ValueError(f"{name!r} is an identity field and never leaves a node")
    return name


def _iso_date(value: object) -> object:
    # pydantic's lax date parsing also takes Unix timestamps and datetimes; on the wire a
    # date is exactly an ISO calendar date, so an agreement's term is never guessed.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise ValueError("must be an ISO date YYYY-MM-DD")


def _aware_timestamp(value: object) -> object:
    if isinstance(value, dt.datetime | str):
        return value
    raise ValueError("must be an ISO 8601 date-time with a UTC offset")


def _salt(value: str) -> str:
    # Only the spelling is checked here; the length (exactly 32 bytes) is checked by the
    # receiver with protocol.keys.project_salt_bytes, so a node can refuse a wrong-length
    # salt with its own code (bad_salt) instead of a generic malformed_message.
    b64url_decode(value)
    return value


def _key_checker(loader: Callable[[str], object]) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            loader(value)
        except ProtocolError as exc:  # KeyFormatError is not a ValueError; pydantic needs one
            raise ValueError(str(exc)) from None
        return value

    return check


Identifier = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
AgencyCode = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
VariableName = Annotated[
    StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$"), AfterValidator(_not_identity)
]
Year = Annotated[StrictInt, Field(ge=1900, le=2100)]
PseudoId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.:-]{8,128}$")]
HexDigest = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
#: The nonce of a signed envelope (:class:`protocol.signing.SignedEnvelope`), quoted by the
#: answer to that envelope so the answer cannot be replayed onto another request.
EnvelopeNonce = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{22,128}$")]
WireDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_aware_timestamp)]
Salt = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{22,86}$"), AfterValidator(_salt)]
_RAW_KEY_B64 = Field(pattern=r"^[A-Za-z0-9_-]{43}$")
Ed25519Key = Annotated[
    StrictStr, _RAW_KEY_B64, AfterValidator(_key_checker(ed25519_public_from_b64))
]
X25519Key = Annotated[StrictStr, _RAW_KEY_B64, AfterValidator(_key_checker(x25519_public_from_b64))]
Token = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]{16,256}$", repr=False)]
Text = Annotated[StrictStr, Field(max_length=MAX_TEXT)]


def unique_values(values: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    """``values`` unchanged; :class:`ValueError` naming the first duplicate ``what``."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what}: {value!r}")
        seen.add(value)
    return values


def check_years(first: int, last: int) -> None:
    """:class:`ValueError` unless ``first <= last`` (year ranges are inclusive)."""
    if first > last:
        raise ValueError("first_year is after last_year")


class WireModel(BaseModel):
    """Base of every wire model: unknown fields refused, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(WireModel):
    """A top-level message: carries ``protocol_version``; ``TYP`` names its envelope type."""

    TYP: ClassVar[str] = ""
    protocol_version: StrictStr = Field(
        default=PROTOCOL_VERSION, description="The wire protocol the message speaks; only "
        f"`{PROTOCOL_VERSION}` is accepted", examples=[PROTOCOL_VERSION])

    @field_validator("protocol_version")
    @classmethod
    def _speaks(cls, value: str) -> str:
        if value != PROTOCOL_VERSION:
            raise ValueError(f"protocol version {value!r} is not {PROTOCOL_VERSION!r}")
        return value
