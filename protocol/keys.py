"""Key material for linkage: the federation secret, per-project keys and pseudonymous ids.

The federation secret is generated once and handed to every agency node out of band; the
hub never holds it (docs/trust-model.md, rule 2). For each approved project the hub picks a
random salt; every node derives the same :class:`ProjectKeys` from the secret, the salt,
the project id and the project digest (:func:`protocol.project.project_digest`: the
project-wide digest of every agency's approved terms) with HKDF-SHA256 (RFC 5869)::

    project key  = HKDF(secret, salt=project_salt,
                        info="fedlink/2 project-key|" + frame(project_id, project_digest))
    sub-key[l]   = HKDF-Expand(project key, info="fedlink/1 " + l)

with one label ``l`` per use (match tokens, blocking tokens, one per Bloom field), so a
token of one kind can never be confused with, or used to attack, another kind.

Why the project goes into ``info`` and not into the salt: HKDF's salt is an HMAC key, and
HMAC zero-pads keys to the block size, so ``salt`` and ``salt ‖ 0x00`` give the same key
(issue 13, attack 1). ``info`` is HMAC *message* input and is framed (length-prefixed), so
two distinct ``(project id, digest)`` pairs always give distinct inputs. The salt itself
has one accepted form: exactly 32 bytes (:func:`project_salt_bytes`), so the padding
collision cannot happen either. Tokens of two projects are therefore under unrelated keys
whatever salt a hub sends, even the same salt for both.

:func:`pseudonymous_id` is separate: it is keyed by a *node-local* key, so only the node
that issued a pseudonym can map it back to its record (:func:`pseudonymous_ids`: the same
for a whole page of records). :class:`KeyedBlake2b` is the keyed PRF the token encoder
runs millions of times; :class:`HmacSha256` the fast HMAC behind the pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from protocol.canonical import b64url_decode
from protocol.errors import BadSaltError, EncodingError, KeyDerivationError

FEDERATION_SECRET_BYTES: Final = 32
PROJECT_SALT_BYTES: Final = 32
#: Shortest node pseudonym key accepted (the node generates 32 bytes).
MIN_NODE_KEY_BYTES: Final = 32
SUB_KEY_BYTES: Final = 32
PSEUDONYM_BYTES: Final = 16

_LABEL_PREFIX: Final = b"fedlink/1 "
#: Pseudonym domains: a record's and an agency person's pids never coincide.
_RECORD_PID: Final = "fedlink/1 pid|"
_PERSON_PID: Final = "fedlink/1 person-pid|"


@dataclass(frozen=True, slots=True)
class ProjectKeys:
    """The sub-keys one project uses on a node. Derive with :func:`derive_project_keys`.

    Secret fields are excluded from ``repr`` so a key never lands in a log line or a
    traceback. ``key_check`` is *not* secret: it is an independent HKDF output a node may
    report so the hub can detect two nodes holding different federation secrets (or a
    mistyped salt) before it wastes a linkage run, without learning anything that helps
    compute a token.
    """

    match_token_key: bytes = field(repr=False)
    blocking_token_key: bytes = field(repr=False)
    bloom_first_name_key: bytes = field(repr=False)
    bloom_last_name_key: bytes = field(repr=False)
    bloom_address_key: bytes = field(repr=False)
    key_check: str

    def bloom_key(self, bloom_field: str) -> bytes:
        """The sub-key of Bloom field ``bloom_field`` (one of ``protocol.bloom.BLOOM_FIELDS``)."""
        if bloom_field == "first_name":
            return self.bloom_first_name_key
        if bloom_field == "last_name":
            return self.bloom_last_name_key
        if bloom_field == "address":
            return self.bloom_address_key
        raise EncodingError(f"no Bloom filter is defined for field {bloom_field!r}")


def generate_federation_secret() -> bytes:
    """A fresh 32-byte federation secret (CSPRNG). Generated once per federation."""
    return secrets.token_bytes(FEDERATION_SECRET_BYTES)


def generate_project_salt() -> bytes:
    """A fresh 32-byte project salt (CSPRNG), chosen when a project is approved."""
    return secrets.token_bytes(PROJECT_SALT_BYTES)


def _require_bytes(value: object, *, what: str, minimum: int) -> bytes:
    if not isinstance(value, bytes):
        raise KeyDerivationError(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) < minimum:
        raise KeyDerivationError(f"{what} must be at least {minimum} bytes, got {len(value)}")
    return value


def project_salt_bytes(text: str) -> bytes:
    """The 32 bytes of a project salt as it travels (unpadded base64url), or
    :class:`~protocol.errors.BadSaltError` (reason ``bad_salt``).

    A salt has exactly one accepted spelling: canonical base64url (re-encoding gives the
    same string) of exactly 32 bytes — so no two spellings, and no padded variant such as
    ``salt ‖ 0x00``, can name one key.
    """
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise BadSaltError("the project salt is not canonical unpadded base64url") from None
    if len(raw) != PROJECT_SALT_BYTES:
        raise BadSaltError(f"the project salt must be exactly {PROJECT_SALT_BYTES} bytes, "
                           f"not {len(raw)}")
    return raw


def _project_info(project_id: str, project_digest: str) -> bytes:
    if not isinstance(project_id, str) or not project_id:
        raise KeyDerivationError("project_id must be a non-empty string")
    if (not isinstance(project_digest, str) or len(project_digest) != 64
            or any(c not in "0123456789abcdef" for c in project_digest)):
        raise KeyDerivationError("project_digest must be 64 lowercase hex digits")
    return b"fedlink/2 project-key|" + frame((project_id, project_digest)).encode("utf-8")


def derive_project_keys(
    federation_secret: bytes, project_salt: bytes, *, project_id: str, project_digest: str
) -> ProjectKeys:
    """Derive a project's sub-keys from the federation secret, the project salt, the
    project id and the project digest (:func:`protocol.project.project_digest`).

    Raises :class:`~protocol.errors.KeyDerivationError` when the secret is not bytes or is
    shorter than 32 bytes, the project id is empty or the digest is not 64 hex digits, and
    :class:`~protocol.errors.BadSaltError` when the salt is not exactly 32 bytes.
    """
    secret = _require_bytes(
        federation_secret, what="federation secret", minimum=FEDERATION_SECRET_BYTES
    )
    if not isinstance(project_salt, bytes):
        raise BadSaltError(f"project salt must be bytes, not {type(project_salt).__name__}")
    if len(project_salt) != PROJECT_SALT_BYTES:
        raise BadSaltError(f"the project salt must be exactly {PROJECT_SALT_BYTES} bytes, "
                           f"not {len(project_salt)}")
    project_key = HKDF(
        algorithm=SHA256(), length=SUB_KEY_BYTES, salt=project_salt,
        info=_project_info(project_id, project_digest),
    ).derive(secret)

    def expand(label: bytes) -> bytes:
        return HKDFExpand(
            algorithm=SHA256(), length=SUB_KEY_BYTES, info=_LABEL_PREFIX + label
        ).derive(project_key)

    return ProjectKeys(
        match_token_key=expand(b"match-token"),
        blocking_token_key=expand(b"blocking-token"),
        bloom_first_name_key=expand(b"bloom first_name"),
        bloom_last_name_key=expand(b"bloom last_name"),
        bloom_address_key=expand(b"bloom address"),
        key_check=expand(b"key-check")[:8].hex(),
    )


def frame(parts: tuple[str, ...]) -> str:
    """Unambiguous concatenation of ``parts``: netstring-style ``<len>:<part>,`` each.

    The length prefix makes the encoding injective whatever characters a part holds, so
    ``("AB", "C")`` and ``("A", "BC")`` can never produce the same token.
    """
    return "".join(f"{len(p)}:{p}," for p in parts)


def pseudonymous_id(node_key: bytes, project_id: str, record_id: str) -> str:
    """The project-scoped pseudonym a node sends instead of its local record id.

    HMAC-SHA256 keyed by the node-local pseudonym key over a domain-separated, framed
    encoding of ``(project_id, record_id)``; hex of the first 16 bytes (128 bits). The same
    record gets unrelated pseudonyms in two projects, and nobody without the node key can
    map a pseudonym back to a record id.
    """
    key = _require_bytes(node_key, what="node pseudonym key", minimum=MIN_NODE_KEY_BYTES)
    for name, value in (("project_id", project_id), ("record_id", record_id)):
        if not isinstance(value, str) or not value:
            raise EncodingError(f"{name} must be a non-empty string")
    message = (_RECORD_PID + frame((project_id, record_id))).encode("utf-8")
    return hmac.digest(key, message, "sha256")[:PSEUDONYM_BYTES].hex()


def pseudonymous_ids(node_key: bytes, project_id: str, record_ids: list[str]) -> list[str]:
    """``[pseudonymous_id(node_key, project_id, r) for r in record_ids]``, byte for byte,
    several times faster: the checks and the HMAC pad states are done once per call, not
    once per record (a match stream issues one pseudonym per record it sends)."""
    return _pseudonyms(node_key, project_id, record_ids, domain=_RECORD_PID, what="record_id")


def person_pseudonymous_ids(
    node_key: bytes, project_id: str, person_ids: list[str]
) -> list[str]:
    """The project-scoped pseudonyms of agency *persons* (a person id shared by several
    rows: a match stream sends one unit per person, ``protocol.encoding``).

    Like :func:`pseudonymous_ids` (node-local key, 32 lower-case hex digits, unrelated
    across projects) under a domain of its own, ``"fedlink/1 person-pid|"``: a person id
    and a record id that happen to be the same text never give the same pseudonym, so a
    pid names a person or a record, never both.
    """
    return _pseudonyms(node_key, project_id, person_ids, domain=_PERSON_PID, what="person_id")


def _pseudonyms(
    node_key: bytes, project_id: str, ids: list[str], *, domain: str, what: str
) -> list[str]:
    key = _require_bytes(node_key, what="node pseudonym key", minimum=MIN_NODE_KEY_BYTES)
    if not isinstance(project_id, str) or not project_id:
        raise EncodingError("project_id must be a non-empty string")
    if not all(isinstance(r, str) and r for r in ids):
        raise EncodingError(f"{what} must be a non-empty string")
    prefix = domain + frame((project_id,))
    messages = [f"{prefix}{len(r)}:{r},".encode() for r in ids]
    digests = HmacSha256(key).digest_many(messages)
    width = 2 * PSEUDONYM_BYTES
    # One hex() over all digests, then a slice per record: the first 16 of every 32 bytes.
    text = digests.hex()
    return [text[i : i + width] for i in range(0, len(text), 64)]


class HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one key, with the inner and outer pad states precomputed.

    Byte-for-byte ``hmac.digest(key, message, "sha256")`` (a test checks it) but about twice
    as fast per message, because only the two SHA-256 states are copied: token hashing is
    the node's hot path.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # RFC 2104: a key longer than the block is hashed first
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, message: bytes) -> bytes:
        """The 32-byte MAC of ``message``."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digest_many(self, messages: list[bytes]) -> bytes:
        """The 32-byte MACs of ``messages``, concatenated (the loop is kept lean on purpose)."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out: list[bytes] = []
        append = out.append
        for message in messages:
            inner = inner_copy()
            inner.update(message)
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.digest())
        return b"".join(out)


class KeyedBlake2b:
    """BLAKE2b in its keyed mode (RFC 7693 §2.9, a PRF), 16-byte output, under one key.

    The token PRF: one compression-function chain per message instead of HMAC's two
    SHA-256 chains, and the keyed initial state is built once and copied per message.
    Byte-for-byte ``hashlib.blake2b(message, key=key, digest_size=16).digest()`` (a test
    checks it).
    """

    __slots__ = ("_state",)

    def __init__(self, key: bytes, digest_size: int = 16) -> None:
        if not 16 <= len(key) <= 64:  # BLAKE2b keys are at most 64 bytes; ours are 32
            raise KeyDerivationError("a BLAKE2b key must be 16 to 64 bytes")
        self._state = hashlib.blake2b(key=key, digest_size=digest_size)

    def __call__(self, message: bytes) -> bytes:
        """The MAC of ``message``."""
        state = self._state.copy()
        state.update(message)
        return state.digest()

    def digest_many(self, messages: list[bytes]) -> bytes:
        """The MACs of ``messages``, concatenated (the loop is kept lean on purpose)."""
        copy = self._state.copy
        out: list[bytes] = []
        append = out.append
        for message in messages:
            state = copy()
            state.update(message)
            append(state.digest())
        return b"".join(out)
