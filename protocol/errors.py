"""The exception hierarchy of :mod:`protocol`.

Every error the protocol raises derives from :class:`ProtocolError`, so a service can
translate the whole family at one boundary (an HTTP 4xx, a one-line CLI message)::

    ProtocolError
    ├── KeyDerivationError        a secret or salt is unusable (too short, wrong type)
    │   ├── BadSaltError              a project salt that is not exactly 32 bytes in
    │   │                             canonical unpadded base64url (``bad_salt``)
    │   └── KeyFormatError            a PEM/raw/base64 key cannot be decoded, or is a weak
    │                                 (low-order) X25519 point
    ├── EncodingError             a value cannot be turned into a token or Bloom filter
    │   └── CanonicalJSONError        a value has no RFC 8785 form (NaN, int beyond 2**53,
    │                                 non-string key, bytes, lone surrogate, …)
    ├── MessageError              a signed message cannot be accepted
    │   ├── MalformedMessageError     not valid JSON / not the envelope shape / bad base64
    │   ├── UnsupportedVersionError   protocol version this code does not speak
    │   ├── UnknownKeyError           key id not in the verifier's key ring
    │   ├── BadSignatureError         signature does not verify (tampered or wrong key)
    │   ├── ExpiredMessageError       past its expiry, or issued too far in the future
    │   ├── WrongMessageTypeError     a valid message of another type (``typ``) than expected
    │   ├── WrongSignerError          an authentic message signed by a trusted key that may not
    │                                 sign this type (the hub key on an extract request, say)
    │   ├── ReplayedMessageError      nonce already seen inside the replay window
    │   └── ReplayGuardFullError      an in-memory replay guard is full of live nonces; the
    │                                 message is refused rather than forgetting one (fail closed)
    └── DecryptionError           HPKE payload cannot be opened (tampered, wrong key/info)

Normalisation never raises: a value that cannot be normalised becomes missing with a
reason (see :mod:`protocol.identity`).
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error raised by :mod:`protocol`.

    ``reason`` is a short, stable, machine-readable code (``"bad_signature"``) that services
    put in their JSON error bodies; ``str(error)`` is the human sentence.
    """

    reason: str = "protocol_error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class KeyDerivationError(ProtocolError):
    reason = "bad_key_material"


class BadSaltError(KeyDerivationError):
    reason = "bad_salt"


class KeyFormatError(KeyDerivationError):
    reason = "bad_key_format"


class EncodingError(ProtocolError):
    reason = "encoding_error"


class CanonicalJSONError(EncodingError):
    reason = "not_canonical_json"


class MessageError(ProtocolError):
    reason = "bad_message"


class MalformedMessageError(MessageError):
    reason = "malformed_message"


class UnsupportedVersionError(MessageError):
    reason = "unsupported_version"


class UnknownKeyError(MessageError):
    reason = "unknown_key"


class BadSignatureError(MessageError):
    reason = "bad_signature"


class ExpiredMessageError(MessageError):
    reason = "expired"


class WrongMessageTypeError(MessageError):
    reason = "wrong_message_type"


class WrongSignerError(MessageError):
    """An authentic message whose (verified) signer may not sign its type; ``kid`` names
    that signer, so a service can audit who asked."""

    reason = "wrong_signer"

    def __init__(self, message: str, *, kid: str) -> None:
        super().__init__(message)
        self.kid = kid


class ReplayedMessageError(MessageError):
    reason = "replayed_nonce"


class ReplayGuardFullError(MessageError):
    reason = "replay_guard_full"


class DecryptionError(ProtocolError):
    reason = "decryption_failed"
