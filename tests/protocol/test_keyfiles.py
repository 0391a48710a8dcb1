"""Key serialisation: PEM and raw base64url round trips, and refusals."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.canonical import b64url_encode
from protocol.errors import KeyDerivationError, KeyFormatError
from protocol.keyfiles import (
    KID_PATTERN,
    ed25519_private_from_pem,
    ed25519_public_from_b64,
    ed25519_public_from_pem,
    is_key_id,
    key_id,
    private_key_to_pem,
    public_key_raw,
    public_key_to_b64,
    public_key_to_pem,
    x25519_private_from_pem,
    x25519_public_from_b64,
    x25519_public_from_pem,
)


def test_ed25519_pem_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    loaded = ed25519_private_from_pem(private_key_to_pem(key))
    assert public_key_raw(loaded.public_key()) == public_key_raw(key.public_key())
    public = ed25519_public_from_pem(public_key_to_pem(key.public_key()))
    assert key_id(public) == key_id(key.public_key())


def test_x25519_pem_round_trip() -> None:
    key = X25519PrivateKey.generate()
    loaded = x25519_private_from_pem(private_key_to_pem(key))
    assert public_key_raw(loaded.public_key()) == public_key_raw(key.public_key())
    public = x25519_public_from_pem(public_key_to_pem(key.public_key()))
    assert key_id(public) == key_id(key.public_key())


def test_raw_base64url_round_trip() -> None:
    signing = Ed25519PrivateKey.generate().public_key()
    hpke = X25519PrivateKey.generate().public_key()
    assert len(public_key_to_b64(signing)) == 43
    assert key_id(ed25519_public_from_b64(public_key_to_b64(signing))) == key_id(signing)
    assert key_id(x25519_public_from_b64(public_key_to_b64(hpke))) == key_id(hpke)


def test_key_ids_match_the_documented_pattern() -> None:
    for key in (Ed25519PrivateKey.generate(), X25519PrivateKey.generate()):
        kid = key_id(key.public_key())
        assert re.fullmatch(KID_PATTERN, kid) and is_key_id(kid)
    assert not is_key_id("ed25519:XYZ")


def test_same_raw_bytes_get_different_kids_per_key_type() -> None:
    raw = public_key_raw(X25519PrivateKey.generate().public_key())
    ed = ed25519_public_from_b64(b64url_encode(raw))
    x = x25519_public_from_b64(b64url_encode(raw))
    assert key_id(ed).split(":")[1] == key_id(x).split(":")[1]
    assert key_id(ed) != key_id(x)


def test_pem_of_the_wrong_key_type_refused() -> None:
    with pytest.raises(KeyFormatError, match="not Ed25519"):
        ed25519_private_from_pem(private_key_to_pem(X25519PrivateKey.generate()))
    with pytest.raises(KeyFormatError, match="not X25519"):
        x25519_private_from_pem(private_key_to_pem(Ed25519PrivateKey.generate()))
    with pytest.raises(KeyFormatError, match="not Ed25519"):
        ed25519_public_from_pem(public_key_to_pem(X25519PrivateKey.generate().public_key()))
    with pytest.raises(KeyFormatError, match="not X25519"):
        x25519_public_from_pem(public_key_to_pem(Ed25519PrivateKey.generate().public_key()))


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"])
def test_garbage_pem_refused(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        ed25519_private_from_pem(data)
    with pytest.raises(KeyFormatError):
        x25519_public_from_pem(data)


def test_encrypted_pem_refused() -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    with pytest.raises(KeyFormatError) as info:
        ed25519_private_from_pem(pem)
    assert isinstance(info.value, KeyDerivationError)


@pytest.mark.parametrize(
    "text",
    ["", "A" * 42, "A" * 44, "A" * 43 + "=", "+" * 43, b64url_encode(bytes(31))],
    ids=["empty", "short", "long", "padded", "std-alphabet", "31-bytes"],
)
def test_bad_raw_public_key_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        ed25519_public_from_b64(text)
    with pytest.raises(KeyFormatError):
        x25519_public_from_b64(text)


@pytest.mark.parametrize("raw", [bytes(32), b"\x01" + bytes(31)], ids=["zero", "one"])
def test_low_order_x25519_public_key_refused(raw: bytes) -> None:
    with pytest.raises(KeyFormatError, match="low-order"):
        x25519_public_from_b64(b64url_encode(raw))
    pem = serialization.load_der_public_key(
        bytes.fromhex("302a300506032b656e032100") + raw
    ).public_bytes(  # SubjectPublicKeyInfo for X25519
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError, match="low-order"):
        x25519_public_from_pem(pem)
