"""HPKE payload encryption: round trips, and every way opening must fail."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import ValidationError

from protocol.canonical import b64url_decode, b64url_encode
from protocol.errors import DecryptionError, KeyFormatError
from protocol.keyfiles import key_id
from protocol.payload import (
    SUITE_NAME,
    SealedPayload,
    open_payload,
    open_sealed,
    payload_info,
    seal,
    seal_payload,
)

INFO = payload_info("extract", project="P-1", agency="K12", run="r-7")
PLAINTEXT = b"ARROW1\x00 person_id,grade\n" * 100
CONTEXT = {"project": "P-1", "agency": "K12", "run": "r-7"}


@pytest.fixture
def hub_hpke() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def test_payload_info_is_canonical() -> None:
    assert INFO == b"fedlink/1 extract|agency=K12|project=P-1|run=r-7"
    assert payload_info("extract", run="r-7", agency="K12", project="P-1") == INFO


@pytest.mark.parametrize(
    ("purpose", "context"),
    [
        ("Extract", {}),
        ("", {}),
        ("extract", {"project": "P|1"}),
        ("extract", {"project": "P=1"}),
        ("extract", {"project": "P 1"}),
        ("extract", {"project": ""}),
        ("extract", {"Project": "P-1"}),
    ],
    ids=[
        "upper-purpose",
        "empty-purpose",
        "pipe",
        "equals",
        "space",
        "empty-value",
        "upper-key",
    ],
)
def test_payload_info_refuses_ambiguous_parts(purpose: str, context: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        payload_info(purpose, **context)


@pytest.mark.parametrize("plaintext", [b"", b"x", PLAINTEXT])
def test_hpke_round_trip(plaintext: bytes, hub_hpke: X25519PrivateKey) -> None:
    ciphertext = seal(plaintext, hub_hpke.public_key(), info=INFO)
    if len(plaintext) > 16:  # a short plaintext can occur in random bytes by chance
        assert plaintext[:16] not in ciphertext
    assert len(ciphertext) == 32 + len(plaintext) + 16  # enc || ciphertext || tag
    assert open_sealed(ciphertext, hub_hpke, info=INFO) == plaintext


def test_hpke_seals_are_randomised(hub_hpke: X25519PrivateKey) -> None:
    first = seal(PLAINTEXT, hub_hpke.public_key(), info=INFO)
    assert seal(PLAINTEXT, hub_hpke.public_key(), info=INFO) != first


@pytest.mark.parametrize("position", [0, 31, 32, 100, -17, -1])
def test_hpke_flipped_byte_refused(position: int, hub_hpke: X25519PrivateKey) -> None:
    ciphertext = bytearray(seal(PLAINTEXT, hub_hpke.public_key(), info=INFO))
    ciphertext[position] ^= 0x01
    with pytest.raises(DecryptionError):
        open_sealed(bytes(ciphertext), hub_hpke, info=INFO)


@pytest.mark.parametrize("keep", [0, 1, 32, 47, -1])
def test_hpke_truncated_refused(keep: int, hub_hpke: X25519PrivateKey) -> None:
    ciphertext = seal(PLAINTEXT, hub_hpke.public_key(), info=INFO)
    with pytest.raises(DecryptionError):
        open_sealed(ciphertext[:keep], hub_hpke, info=INFO)


def test_hpke_wrong_key_refused(hub_hpke: X25519PrivateKey) -> None:
    ciphertext = seal(PLAINTEXT, hub_hpke.public_key(), info=INFO)
    with pytest.raises(DecryptionError):
        open_sealed(ciphertext, X25519PrivateKey.generate(), info=INFO)


@pytest.mark.parametrize("field", ["project", "agency", "run"])
def test_hpke_wrong_info_refused(field: str, hub_hpke: X25519PrivateKey) -> None:
    ciphertext = seal(PLAINTEXT, hub_hpke.public_key(), info=INFO)
    other = payload_info("extract", **{**CONTEXT, field: "other"})
    with pytest.raises(DecryptionError):
        open_sealed(ciphertext, hub_hpke, info=other)


def test_hpke_seal_to_low_order_key_refused() -> None:
    weak = X25519PublicKey.from_public_bytes(bytes(32))
    with pytest.raises(KeyFormatError):
        seal(PLAINTEXT, weak, info=INFO)


# --- SealedPayload ----------------------------------------------------------------------


def test_sealed_payload_round_trip(hub_hpke: X25519PrivateKey) -> None:
    sealed = seal_payload(PLAINTEXT, hub_hpke.public_key(), purpose="extract", **CONTEXT)
    assert sealed.kid == key_id(hub_hpke.public_key())
    assert sealed.suite == SUITE_NAME
    assert sealed.info == {"purpose": "extract", **CONTEXT}
    assert sealed.sha256 == hashlib.sha256(PLAINTEXT).hexdigest()
    wire = SealedPayload.model_validate_json(sealed.model_dump_json())
    assert open_payload(wire, hub_hpke, purpose="extract", **CONTEXT) == PLAINTEXT


def test_sealed_payload_to_another_key_refused(hub_hpke: X25519PrivateKey) -> None:
    sealed = seal_payload(PLAINTEXT, hub_hpke.public_key(), purpose="extract", **CONTEXT)
    with pytest.raises(DecryptionError, match="another key"):
        open_payload(sealed, X25519PrivateKey.generate(), purpose="extract", **CONTEXT)


def test_sealed_payload_for_another_context_refused(hub_hpke: X25519PrivateKey) -> None:
    sealed = seal_payload(PLAINTEXT, hub_hpke.public_key(), purpose="extract", **CONTEXT)
    with pytest.raises(DecryptionError, match="another context"):
        open_payload(sealed, hub_hpke, purpose="extract", **{**CONTEXT, "run": "r-8"})


def test_sealed_payload_relabelled_context_refused(hub_hpke: X25519PrivateKey) -> None:
    # The sender claims run r-8 but sealed for r-7: the receiver rebuilds info from what
    # it expects, so the AEAD refuses the swap even though the labels agree.
    sealed = seal_payload(PLAINTEXT, hub_hpke.public_key(), purpose="extract", **CONTEXT)
    relabelled = sealed.model_copy(update={"info": {"purpose": "extract", **CONTEXT, "run": "r-8"}})
    with pytest.raises(DecryptionError):
        open_payload(relabelled, hub_hpke, purpose="extract", **{**CONTEXT, "run": "r-8"})


def test_sealed_payload_flipped_ciphertext_refused(hub_hpke: X25519PrivateKey) -> None:
    sealed = seal_payload(PLAINTEXT, hub_hpke.public_key(), purpose="extract", **CONTEXT)
    raw = bytearray(b64url_decode(sealed.ciphertext))
    raw[40] ^= 0x80
    tampered = sealed.model_copy(update={"ciphertext": b64url_encode(bytes(raw))})
    with pytest.raises(DecryptionError):
        open_payload(tampered, hub_hpke, purpose="extract", **CONTEXT)


def test_sealed_payload_wrong_sha256_refused(hub_hpke: X25519PrivateKey) -> None:
    sealed = seal_payload(PLAINTEXT, hub_hpke.public_key(), purpose="extract", **CONTEXT)
    lying = sealed.model_copy(update={"sha256": hashlib.sha256(b"other").hexdigest()})
    with pytest.raises(DecryptionError, match="sha256"):
        open_payload(lying, hub_hpke, purpose="extract", **CONTEXT)


def test_sealed_payload_garbled_base64_refused(hub_hpke: X25519PrivateKey) -> None:
    sealed = seal_payload(b"x", hub_hpke.public_key(), purpose="extract", **CONTEXT)
    bad = sealed.model_copy(update={"ciphertext": sealed.ciphertext + "A"})
    with pytest.raises(DecryptionError):
        open_payload(bad, hub_hpke, purpose="extract", **CONTEXT)


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"suite": "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-128-GCM"},
        {"kid": "ed25519:" + "0" * 32},
        {"ciphertext": "not base64!"},
        {"sha256": "A" * 64},
        {"info": {}},
        {"info": {"purpose": "extract", "run": "r|7"}},
    ],
    ids=[
        "unknown-field",
        "other-suite",
        "signing-kid",
        "bad-ciphertext",
        "upper-hex",
        "no-info",
        "pipe",
    ],
)
def test_sealed_payload_model_refuses(
    change: dict[str, object], hub_hpke: X25519PrivateKey
) -> None:
    sealed = seal_payload(b"x", hub_hpke.public_key(), purpose="extract", **CONTEXT)
    with pytest.raises(ValidationError):
        SealedPayload.model_validate({**sealed.model_dump(), **change})
