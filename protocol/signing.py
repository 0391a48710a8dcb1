"""Signed messages: Ed25519 over canonical JSON, with key id, nonce, issued-at and expiry.

Every hub → node request and every steward decision travels as a :class:`SignedEnvelope`::

    {"v": "fedlink/1", "typ": "match_request", "kid": "ed25519:…", "nonce": "…",
     "iat": 1767225600, "exp": 1767225900, "body": {…}, "sig": "…"}

``sig`` is the unpadded-base64url Ed25519 signature of :data:`SIGNING_CONTEXT` followed by
the RFC 8785 canonical JSON of every other field. The context prefix keeps envelope
signatures from ever being valid for anything else the same key signs (audit checkpoints).

:func:`verify` checks, in this order, and stops at the first failure:

1. **parse** — strict JSON and the exact envelope shape → :class:`MalformedMessageError`;
2. **version** — ``v`` is :data:`protocol.PROTOCOL_VERSION` → :class:`UnsupportedVersionError`;
3. **kid** — present in the caller's key ring → :class:`UnknownKeyError`;
4. **signature** — verifies with that key → :class:`BadSignatureError`;
5. **time** — ``iat`` not beyond ``now + max_clock_skew``, ``now < exp``,
   ``0 < exp - iat <= max_ttl`` → :class:`ExpiredMessageError`;
6. **typ** — the type the endpoint expects → :class:`WrongMessageTypeError`;
7. **signer** — when the caller names the kids that may sign this type (``signers``), the
   kid is one of them → :class:`WrongSignerError` (a key ring may trust several keys, each
   for its own message types: a node trusts the hub key for match requests only and the
   assembly key for extract requests only);
8. **replay** — the nonce is new for this kid → :class:`ReplayedMessageError`.

Only authentic, fresh messages of the right type from the right signer reach the replay
guard, so nobody can burn
a nonce (or fill the guard) with forged or stale messages. Replay is keyed on
``(kid, nonce)``, never on the signature bytes, so signature malleability cannot slip a
copy past the guard.
"""

from __future__ import annotations

import heapq
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from protocol import PROTOCOL_VERSION
from protocol.canonical import (
    DEFAULT_MAX_DEPTH,
    b64url_decode,
    b64url_encode,
    canonical_json,
    json_depth,
    parse_json,
)
from protocol.errors import (
    BadSignatureError,
    CanonicalJSONError,
    ExpiredMessageError,
    MalformedMessageError,
    ReplayedMessageError,
    ReplayGuardFullError,
    UnknownKeyError,
    UnsupportedVersionError,
    WrongMessageTypeError,
    WrongSignerError,
)
from protocol.keyfiles import key_id

__all__ = [
    "DEFAULT_MAX_CLOCK_SKEW",
    "DEFAULT_MAX_TTL",
    "DEFAULT_TTL",
    "SIGNING_CONTEXT",
    "MemoryReplayGuard",
    "ReplayGuard",
    "SignedEnvelope",
    "Verifier",
    "describe_validation_error",
    "key_id",
    "sign",
    "verify",
]

#: Domain-separation prefix of every envelope signature (see the module docstring).
SIGNING_CONTEXT: Final = b"fedlink signed envelope\x00"
DEFAULT_TTL: Final = 300
DEFAULT_MAX_CLOCK_SKEW: Final = 60
DEFAULT_MAX_TTL: Final = 3600
#: 16 random bytes encode to 22 base64url characters: the shortest nonce accepted.
_NONCE_BYTES: Final = 16
_SIG_CHARS: Final = 86  # 64-byte Ed25519 signature, unpadded base64url
_MAX_TIME: Final = 2**53 - 1  # keeps iat/exp inside the JCS integer domain

_Str = Annotated[StrictStr, Field(max_length=128)]


class SignedEnvelope(BaseModel):
    """One signed message. Construct with :func:`sign`; accept with :func:`verify`.

    The model checks only shape; ``v`` is any short string here so an unknown version is
    reported as :class:`UnsupportedVersionError`, not as a malformed message.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    v: _Str
    typ: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    kid: _Str
    nonce: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{22,128}$")]
    iat: Annotated[StrictInt, Field(ge=0, le=_MAX_TIME)]
    exp: Annotated[StrictInt, Field(ge=0, le=_MAX_TIME)]
    body: dict[str, Any]
    sig: Annotated[StrictStr, Field(min_length=_SIG_CHARS, max_length=_SIG_CHARS)]

    def signing_input(self) -> bytes:
        """The exact bytes the signature covers."""
        return SIGNING_CONTEXT + canonical_json(self.model_dump(mode="json", exclude={"sig"}))

    def to_json(self) -> bytes:
        """Canonical JSON of the whole envelope, ready to send."""
        return canonical_json(self.model_dump(mode="json"))


def describe_validation_error(exc: ValidationError) -> str:
    """Where and why validation failed, never the offending value.

    pydantic's own message repeats the input, which could put an identifier into a log line.
    """
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "message"
    extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{extra}"


def _body_dict(body: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json")
    return dict(body)


def sign(
    body: Mapping[str, Any] | BaseModel,
    *,
    typ: str,
    private_key: Ed25519PrivateKey,
    ttl_seconds: int = DEFAULT_TTL,
    now: int | None = None,
) -> SignedEnvelope:
    """Sign ``body`` as a message of type ``typ`` valid for ``ttl_seconds`` from ``now``.

    ``body`` is a JSON mapping or a pydantic model (dumped in JSON mode). Raises
    :class:`ValueError` for a non-positive ttl, :class:`CanonicalJSONError` for a body with
    no canonical form, and :class:`MalformedMessageError` for one the verifier would refuse
    (too deep, wrong shape) — better to fail at the sender than at every receiver.
    """
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued = int(time.time()) if now is None else now
    payload = _body_dict(body)
    canonical_json(payload)  # fail here, with CanonicalJSONError, not mid-signature
    if json_depth(payload) > DEFAULT_MAX_DEPTH - 1:
        raise MalformedMessageError("body is nested too deeply to be verified")
    unsigned = {
        "v": PROTOCOL_VERSION,
        "typ": typ,
        "kid": key_id(private_key.public_key()),
        "nonce": b64url_encode(secrets.token_bytes(_NONCE_BYTES)),
        "iat": issued,
        "exp": issued + ttl_seconds,
        "body": payload,
    }
    signature = private_key.sign(SIGNING_CONTEXT + canonical_json(unsigned))
    try:
        return SignedEnvelope.model_validate({**unsigned, "sig": b64url_encode(signature)})
    except ValidationError as exc:
        raise MalformedMessageError(describe_validation_error(exc)) from None


class ReplayGuard(Protocol):
    """Remembers the nonces of accepted messages until they expire.

    Services implement it over their database so the window survives restarts and is shared
    by every worker process; :class:`MemoryReplayGuard` serves tests and single processes.
    """

    def check_and_remember(self, kid: str, nonce: str, expires_at: int, now: int) -> bool:
        """Atomically: False if ``(kid, nonce)`` was seen; else remember it and return True.

        The pair must be kept at least until ``expires_at`` (the message's ``exp``); after
        that :func:`verify` refuses the message as expired anyway.
        """
        ...


class MemoryReplayGuard:
    """A bounded, thread-safe, in-process :class:`ReplayGuard`.

    Expired nonces are evicted on every call. When ``capacity`` live nonces are held, a new
    one raises :class:`ReplayGuardFullError` instead of evicting a live entry, because
    forgetting a live nonce would reopen its replay window (fail closed).
    """

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._seen: dict[tuple[str, str], int] = {}
        self._by_expiry: list[tuple[int, str, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def check_and_remember(self, kid: str, nonce: str, expires_at: int, now: int) -> bool:
        """See :meth:`ReplayGuard.check_and_remember`."""
        with self._lock:
            while self._by_expiry and self._by_expiry[0][0] <= now:
                _, old_kid, old_nonce = heapq.heappop(self._by_expiry)
                self._seen.pop((old_kid, old_nonce), None)
            if (kid, nonce) in self._seen:
                return False
            if len(self._seen) >= self._capacity:
                raise ReplayGuardFullError(
                    "replay guard is full of unexpired nonces; try again later"
                )
            self._seen[(kid, nonce)] = expires_at
            heapq.heappush(self._by_expiry, (expires_at, kid, nonce))
            return True


def _parse(message: SignedEnvelope | bytes | str | Mapping[str, Any]) -> SignedEnvelope:
    if isinstance(message, SignedEnvelope):
        data: Any = message.model_dump(mode="python")
    elif isinstance(message, bytes | str):
        try:
            data = parse_json(message)
        except ValueError as exc:
            raise MalformedMessageError(f"message is not acceptable JSON: {exc}") from None
    else:
        data = dict(message)
        if json_depth(data) > DEFAULT_MAX_DEPTH:
            raise MalformedMessageError("message is nested too deeply")
    if not isinstance(data, dict):
        raise MalformedMessageError("message is not a JSON object")
    try:
        envelope = SignedEnvelope.model_validate(data)
    except ValidationError as exc:
        raise MalformedMessageError(describe_validation_error(exc)) from None
    try:
        signature_bytes = b64url_decode(envelope.sig)
    except ValueError:
        raise MalformedMessageError("sig is not unpadded base64url") from None
    if len(signature_bytes) != 64:
        raise MalformedMessageError("sig is not a 64-byte Ed25519 signature")
    try:
        # A body with no canonical form (an integer beyond 2**53, say) can have no valid
        # signature either; say so as a shape problem rather than a signature failure.
        canonical_json(envelope.body)
    except CanonicalJSONError as exc:
        raise MalformedMessageError(f"body: {exc}") from None
    return envelope


def verify(
    message: SignedEnvelope | bytes | str | Mapping[str, Any],
    *,
    keyring: Mapping[str, Ed25519PublicKey],
    expected_typ: str,
    replay_guard: ReplayGuard,
    now: int | None = None,
    max_clock_skew: int = DEFAULT_MAX_CLOCK_SKEW,
    max_ttl: int = DEFAULT_MAX_TTL,
    signers: Collection[str] | None = None,
) -> SignedEnvelope:
    """Accept a signed message or raise the :class:`~protocol.errors.MessageError` that
    names the first check it fails (order in the module docstring).

    ``message`` is the raw request body (bytes/str), an already-parsed mapping, or an
    envelope. ``keyring`` maps kid → the public key the caller trusts for it (a node: the
    enrolled hub key; the hub: each agency's enrolled key). ``signers``, when given, are the
    kids of the key ring that may sign a message of ``expected_typ``; any other trusted kid
    is refused with :class:`WrongSignerError`. Returns the envelope; validate ``body`` into
    its wire model with :func:`protocol.wire.body_as`.
    """
    envelope = _parse(message)
    if envelope.v != PROTOCOL_VERSION:
        raise UnsupportedVersionError(
            f"protocol version {envelope.v!r} is not supported (this node speaks "
            f"{PROTOCOL_VERSION})"
        )
    public_key = keyring.get(envelope.kid)
    if public_key is None:
        raise UnknownKeyError(f"key {envelope.kid!r} is not trusted here")
    try:
        public_key.verify(b64url_decode(envelope.sig), envelope.signing_input())
    except InvalidSignature:
        raise BadSignatureError("signature does not verify") from None
    current = int(time.time()) if now is None else now
    if envelope.exp <= envelope.iat:
        raise ExpiredMessageError("message expires before it is issued")
    if envelope.exp - envelope.iat > max_ttl:
        raise ExpiredMessageError(f"message lifetime exceeds {max_ttl} seconds")
    if envelope.iat > current + max_clock_skew:
        raise ExpiredMessageError("message is issued in the future (check the clocks)")
    if current >= envelope.exp:
        raise ExpiredMessageError("message has expired")
    if envelope.typ != expected_typ:
        raise WrongMessageTypeError(f"expected a {expected_typ!r} message, got {envelope.typ!r}")
    if signers is not None and envelope.kid not in signers:
        allowed = ", ".join(sorted(signers)) or "no key (none is pinned for it)"
        raise WrongSignerError(
            f"key {envelope.kid!r} may not sign {expected_typ!r} messages here; only {allowed}",
            kid=envelope.kid,
        )
    if not replay_guard.check_and_remember(envelope.kid, envelope.nonce, envelope.exp, current):
        raise ReplayedMessageError("nonce was already used")
    return envelope


class Verifier:
    """:func:`verify` with its trust settings bound once per service.

    ``clock`` returns the current Unix time (injectable for tests). ``signers``, when given,
    maps each message type to the kids that may sign it; a type it does not name is signed
    by nobody (fail closed). Without it every key of the ring may sign every type.
    """

    def __init__(
        self,
        *,
        keyring: Mapping[str, Ed25519PublicKey],
        replay_guard: ReplayGuard,
        max_clock_skew: int = DEFAULT_MAX_CLOCK_SKEW,
        max_ttl: int = DEFAULT_MAX_TTL,
        clock: Callable[[], float] | None = None,
        signers: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.keyring = keyring
        self.signers = signers
        self.replay_guard = replay_guard
        self.max_clock_skew = max_clock_skew
        self.max_ttl = max_ttl
        self._clock = clock

    def verify(
        self,
        message: SignedEnvelope | bytes | str | Mapping[str, Any],
        *,
        expected_typ: str,
        now: int | None = None,
    ) -> SignedEnvelope:
        """Verify ``message`` as a message of type ``expected_typ``; see :func:`verify`."""
        if now is None and self._clock is not None:
            now = int(self._clock())
        return verify(
            message,
            keyring=self.keyring,
            expected_typ=expected_typ,
            replay_guard=self.replay_guard,
            now=now,
            max_clock_skew=self.max_clock_skew,
            max_ttl=self.max_ttl,
            signers=None if self.signers is None else self.signers.get(expected_typ, ()),
        )
