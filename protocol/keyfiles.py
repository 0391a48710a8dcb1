"""Serialisation of Fedlink's public-key material: bytes in, bytes out, never a file.

Two key types exist (see ``docs/protocol.md``):

* **Ed25519** signing keys — each node and the hub sign messages with one;
* **X25519** HPKE keys — the hub (and a researcher, where one registers) receives sealed
  extract payloads with one.

Private keys are serialised as unencrypted PKCS#8 PEM: the services keep them in files
with mode 0600, and an encryption passphrase would have to live beside the file anyway.
Public keys travel as the raw 32 bytes in unpadded base64url (wire models) or as
SubjectPublicKeyInfo PEM (operators' files). Writing and reading the files is the services'
job; this module only converts.

A **key id** (``kid``) names a public key: ``"ed25519:"`` or ``"x25519:"`` followed by the
first 16 bytes of SHA-256 of the raw public key, in lowercase hex. The prefix keeps the two
key types apart (both are 32 raw bytes); 128 bits of hash make accidental collisions
impossible in practice, and a kid is never trusted on its own — the verifier looks the key
up in its own key ring.

Every decoding problem raises :class:`~protocol.errors.KeyFormatError`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final, TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from protocol.canonical import b64url_decode, b64url_encode
from protocol.errors import KeyFormatError

PublicKey: TypeAlias = Ed25519PublicKey | X25519PublicKey
PrivateKey: TypeAlias = Ed25519PrivateKey | X25519PrivateKey

#: Pattern of every kid :func:`key_id` produces.
KID_PATTERN: Final = r"^(ed25519|x25519):[0-9a-f]{32}$"
ED25519_KID_PATTERN: Final = r"^ed25519:[0-9a-f]{32}$"
X25519_KID_PATTERN: Final = r"^x25519:[0-9a-f]{32}$"

_RAW_KEY_BYTES: Final = 32


def public_key_raw(key: PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 or X25519 public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: PublicKey) -> str:
    """The stable key id of a public key, e.g. ``"ed25519:3f1c…"`` (32 hex digits)."""
    prefix = "ed25519" if isinstance(key, Ed25519PublicKey) else "x25519"
    return f"{prefix}:{hashlib.sha256(public_key_raw(key)).hexdigest()[:32]}"


def is_key_id(text: str) -> bool:
    """True when ``text`` has the shape of a kid made by :func:`key_id`."""
    return re.fullmatch(KID_PATTERN, text) is not None


# --- raw base64url (wire models) ------------------------------------------------------


def public_key_to_b64(key: PublicKey) -> str:
    """The raw public key in unpadded base64url (43 characters)."""
    return b64url_encode(public_key_raw(key))


def _raw_from_b64(text: str, what: str) -> bytes:
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise KeyFormatError(f"{what} public key is not unpadded base64url") from None
    if len(raw) != _RAW_KEY_BYTES:
        raise KeyFormatError(f"{what} public key must be {_RAW_KEY_BYTES} bytes, not {len(raw)}")
    return raw


def ed25519_public_from_b64(text: str) -> Ed25519PublicKey:
    """Decode a raw Ed25519 public key from unpadded base64url."""
    raw = _raw_from_b64(text, "Ed25519")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyFormatError("not a valid Ed25519 public key") from None


def x25519_public_from_b64(text: str) -> X25519PublicKey:
    """Decode a raw X25519 public key from unpadded base64url, refusing weak points."""
    return _checked_x25519(X25519PublicKey.from_public_bytes(_raw_from_b64(text, "X25519")))


def _checked_x25519(key: X25519PublicKey) -> X25519PublicKey:
    # A low-order point (e.g. all zeros) makes every shared secret predictable; anyone
    # who could substitute such a key would read every payload sealed to it. OpenSSL
    # refuses the exchange, so a trial exchange with a throwaway key detects it here,
    # at load time, instead of at the first seal.
    try:
        X25519PrivateKey.generate().exchange(key)
    except ValueError:
        raise KeyFormatError("X25519 public key is a low-order point") from None
    return key


# --- PEM (operators' files) -----------------------------------------------------------


def private_key_to_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of an Ed25519 or X25519 private key (store it 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_to_pem(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of an Ed25519 or X25519 public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_private(data: bytes) -> object:
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        # TypeError: the PEM is encrypted; ValueError: not PEM / unsupported key.
        raise KeyFormatError(f"not an unencrypted PEM private key: {exc}") from None


def _load_public(data: bytes) -> object:
    try:
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"not a PEM public key: {exc}") from None


def ed25519_private_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from PKCS#8 PEM."""
    key = _load_private(data)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError("PEM holds a private key that is not Ed25519")
    return key


def x25519_private_from_pem(data: bytes) -> X25519PrivateKey:
    """Load an X25519 private key from PKCS#8 PEM."""
    key = _load_private(data)
    if not isinstance(key, X25519PrivateKey):
        raise KeyFormatError("PEM holds a private key that is not X25519")
    return key


def ed25519_public_from_pem(data: bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from SubjectPublicKeyInfo PEM."""
    key = _load_public(data)
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError("PEM holds a public key that is not Ed25519")
    return key


def x25519_public_from_pem(data: bytes) -> X25519PublicKey:
    """Load an X25519 public key from SubjectPublicKeyInfo PEM, refusing weak points."""
    key = _load_public(data)
    if not isinstance(key, X25519PublicKey):
        raise KeyFormatError("PEM holds a public key that is not X25519")
    return _checked_x25519(key)
