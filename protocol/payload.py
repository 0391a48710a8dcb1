"""Payload encryption with HPKE (RFC 9180), base mode, single shot.

A node seals each extract payload to the hub's enrolled X25519 key, and the hub seals a
researcher's extract to the researcher's registered key where one is given.

Suite: **DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM** (:data:`SUITE_NAME`).
X25519 because every Fedlink key is a Curve25519 key; AES-256-GCM rather than
ChaCha20-Poly1305 because it is the AEAD approved under FIPS 140 (state agencies ask) and
is hardware-accelerated on every server we target. The ciphertext is HPKE's encapsulated
key (32 bytes) followed by the AEAD output (plaintext + 16-byte tag).

``info`` binds a ciphertext to its context. :func:`payload_info` builds it canonically::

    payload_info("extract", project="P-1", agency="K12", run="r-7")
    == b"fedlink/1 extract|agency=K12|project=P-1|run=r-7"

so a payload sealed for one project, agency or run cannot be presented as another's: the
receiver rebuilds ``info`` from what *it* expects, never from what the sender claims.

Base mode does not authenticate the sender (anyone holding the recipient's public key can
seal); who sent a payload is established by the transport and by the signed request that
asked for it. Every failure to open raises :class:`~protocol.errors.DecryptionError`, with
no detail about which byte or check failed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from protocol import PROTOCOL_VERSION
from protocol.canonical import b64url_decode, b64url_encode
from protocol.errors import DecryptionError, KeyFormatError
from protocol.keyfiles import X25519_KID_PATTERN, key_id

SUITE_NAME: Final = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
_SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

#: Upper bound on a sealed payload's base64url text (about 768 MiB of ciphertext); the
#: services' request-size limits are far tighter, this only keeps the model bounded.
MAX_CIPHERTEXT_CHARS: Final = 1 << 30

_PURPOSE = r"^[a-z][a-z0-9_-]{0,31}$"
_CONTEXT_KEY = r"^[a-z][a-z0-9_]{0,31}$"
# No "|", "=" or whitespace in values: they delimit the info string, so excluding them
# makes the encoding injective (two different contexts never give the same bytes).
_CONTEXT_VALUE = r"^[A-Za-z0-9._:@+/_-]{1,256}$"
_MAX_CONTEXT_FIELDS: Final = 16


def payload_info(purpose: str, **context: str) -> bytes:
    """The HPKE ``info`` for ``purpose`` and context fields, in one canonical form.

    ``b"fedlink/1 <purpose>|k1=v1|k2=v2"`` with keys sorted. Raises :class:`ValueError`
    for a purpose, key or value outside the documented alphabets (a programming error: the
    values come from validated wire models).
    """
    if re.fullmatch(_PURPOSE, purpose) is None:
        raise ValueError(f"purpose {purpose!r} must match {_PURPOSE}")
    if len(context) > _MAX_CONTEXT_FIELDS:
        raise ValueError(f"at most {_MAX_CONTEXT_FIELDS} context fields")
    parts = [f"{PROTOCOL_VERSION} {purpose}"]
    for key in sorted(context):
        value = context[key]
        if re.fullmatch(_CONTEXT_KEY, key) is None:
            raise ValueError(f"context key {key!r} must match {_CONTEXT_KEY}")
        if not isinstance(value, str) or re.fullmatch(_CONTEXT_VALUE, value) is None:
            raise ValueError(f"context value for {key!r} must match {_CONTEXT_VALUE}")
        parts.append(f"{key}={value}")
    return "|".join(parts).encode("ascii")


def seal(plaintext: bytes, recipient_public_key: X25519PublicKey, *, info: bytes) -> bytes:
    """Encrypt ``plaintext`` to ``recipient_public_key``, bound to ``info``.

    Raises :class:`~protocol.errors.KeyFormatError` if the key is a low-order point.
    """
    try:
        return _SUITE.encrypt(plaintext, recipient_public_key, info=info)
    except ValueError:
        raise KeyFormatError("recipient X25519 key is unusable (low-order point)") from None


def open_sealed(
    ciphertext: bytes, recipient_private_key: X25519PrivateKey, *, info: bytes
) -> bytes:
    """Decrypt what :func:`seal` produced; :class:`DecryptionError` on any failure.

    A flipped or missing byte, another recipient key and another ``info`` all fail the same
    way, so the error tells an attacker nothing.
    """
    try:
        return _SUITE.decrypt(bytes(ciphertext), recipient_private_key, info=info)
    except (InvalidTag, ValueError):
        raise DecryptionError("payload cannot be decrypted") from None


class SealedPayload(BaseModel):
    """A sealed payload on the wire.

    ``info`` repeats the context fields (``purpose`` plus e.g. ``project``, ``agency``,
    ``run``) so that logs and auditors can see what the payload claims to be; the receiver
    still rebuilds ``info`` from its own expectations. ``sha256`` is the hex SHA-256 of the
    plaintext, so node and hub can record and cross-check the same digest in their audit
    chains without either logging the content.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: Literal["DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"] = SUITE_NAME
    kid: Annotated[StrictStr, Field(pattern=X25519_KID_PATTERN)]
    info: dict[
        Annotated[StrictStr, Field(pattern=r"^(purpose|[a-z][a-z0-9_]{0,31})$")],
        Annotated[StrictStr, Field(pattern=_CONTEXT_VALUE)],
    ] = Field(min_length=1, max_length=_MAX_CONTEXT_FIELDS + 1)
    ciphertext: Annotated[
        StrictStr, Field(min_length=1, max_length=MAX_CIPHERTEXT_CHARS, pattern=r"^[A-Za-z0-9_-]+$")
    ]
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]


def seal_payload(
    plaintext: bytes, recipient_public_key: X25519PublicKey, *, purpose: str, **context: str
) -> SealedPayload:
    """Seal ``plaintext`` for ``purpose``/``context`` into a :class:`SealedPayload`."""
    ciphertext = seal(plaintext, recipient_public_key, info=payload_info(purpose, **context))
    return SealedPayload(
        kid=key_id(recipient_public_key),
        info={"purpose": purpose, **context},
        ciphertext=b64url_encode(ciphertext),
        sha256=hashlib.sha256(plaintext).hexdigest(),
    )


def open_payload(
    sealed: SealedPayload,
    recipient_private_key: X25519PrivateKey,
    *,
    purpose: str,
    **context: str,
) -> bytes:
    """Open ``sealed`` as the payload the caller expects (``purpose`` and ``context``).

    Raises :class:`DecryptionError` when it was sealed to another key, claims another
    context, does not decrypt under the expected context, or its plaintext does not match
    its ``sha256``.
    """
    if sealed.kid != key_id(recipient_private_key.public_key()):
        raise DecryptionError("payload was sealed to another key")
    if sealed.info != {"purpose": purpose, **context}:
        raise DecryptionError("payload was sealed for another context")
    try:
        ciphertext = b64url_decode(sealed.ciphertext)
    except ValueError:
        raise DecryptionError("payload ciphertext is not unpadded base64url") from None
    plaintext = open_sealed(
        ciphertext, recipient_private_key, info=payload_info(purpose, **context)
    )
    if not hmac.compare_digest(hashlib.sha256(plaintext).hexdigest(), sealed.sha256):
        raise DecryptionError("payload does not match its sha256")
    return plaintext
