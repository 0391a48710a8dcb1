"""Signed envelopes: every refusal verify() promises, and the order of its checks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import BaseModel

from protocol import PROTOCOL_VERSION
from protocol.canonical import b64url_encode, canonical_json
from protocol.errors import (
    BadSignatureError,
    CanonicalJSONError,
    ExpiredMessageError,
    MalformedMessageError,
    MessageError,
    ReplayedMessageError,
    ReplayGuardFullError,
    UnknownKeyError,
    UnsupportedVersionError,
    WrongMessageTypeError,
    WrongSignerError,
)
from protocol.signing import (
    SIGNING_CONTEXT,
    MemoryReplayGuard,
    SignedEnvelope,
    Verifier,
    key_id,
    sign,
    verify,
)

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
TYP = "match_request"
BODY = {"project_id": "P-1", "agency": "K12", "variables": ["grade", "year"]}


@pytest.fixture
def hub_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keyring(hub_key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return {key_id(hub_key.public_key()): hub_key.public_key()}


@pytest.fixture
def guard() -> MemoryReplayGuard:
    return MemoryReplayGuard()


@pytest.fixture
def signed(hub_key: Ed25519PrivateKey) -> SignedEnvelope:
    return sign(BODY, typ=TYP, private_key=hub_key, now=NOW)


def _verify(
    message: SignedEnvelope | bytes | str | Mapping[str, Any],
    keyring: Mapping[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
    *,
    typ: str = TYP,
    now: int = NOW,
    **kwargs: Any,
) -> SignedEnvelope:
    return verify(message, keyring=keyring, expected_typ=typ, replay_guard=guard, now=now, **kwargs)


def _as_dict(envelope: SignedEnvelope) -> dict[str, Any]:
    return json.loads(envelope.to_json())


def _resign(fields: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """An envelope with arbitrary fields, validly signed by ``key`` (the kid is kept)."""
    unsigned = {name: value for name, value in fields.items() if name != "sig"}
    signature = key.sign(SIGNING_CONTEXT + canonical_json(unsigned))
    return canonical_json({**unsigned, "sig": b64url_encode(signature)})


# --- the happy path --------------------------------------------------------------------


def test_sign_verify_round_trip(
    signed: SignedEnvelope,
    hub_key: Ed25519PrivateKey,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    accepted = _verify(signed.to_json(), keyring, guard)
    assert accepted.body == BODY
    assert accepted.typ == TYP
    assert accepted.v == PROTOCOL_VERSION
    assert accepted.kid == key_id(hub_key.public_key())
    assert (accepted.iat, accepted.exp) == (NOW, NOW + 300)


@pytest.mark.parametrize("form", ["bytes", "str", "mapping", "envelope"])
def test_verify_accepts_every_input_form(
    form: str,
    signed: SignedEnvelope,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    message = {
        "bytes": signed.to_json(),
        "str": signed.to_json().decode(),
        "mapping": _as_dict(signed),
        "envelope": signed,
    }[form]
    assert _verify(message, keyring, guard).body == BODY


def test_sign_accepts_a_pydantic_body(
    hub_key: Ed25519PrivateKey, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    class Body(BaseModel):
        project_id: str
        years: tuple[int, ...]

    envelope = sign(Body(project_id="P-1", years=(2019, 2020)), typ=TYP, private_key=hub_key)
    assert _verify(envelope.to_json(), keyring, guard, now=envelope.iat).body == {
        "project_id": "P-1",
        "years": [2019, 2020],
    }


def test_sign_uses_fresh_128_bit_nonces(hub_key: Ed25519PrivateKey) -> None:
    nonces = {sign(BODY, typ=TYP, private_key=hub_key, now=NOW).nonce for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(nonce) >= 22 for nonce in nonces)


def test_key_id_is_stable_and_typed(hub_key: Ed25519PrivateKey) -> None:
    kid = key_id(hub_key.public_key())
    assert kid == key_id(hub_key.public_key())
    assert kid.startswith("ed25519:") and len(kid) == len("ed25519:") + 32
    assert kid != key_id(Ed25519PrivateKey.generate().public_key())
    assert key_id(X25519PrivateKey.generate().public_key()).startswith("x25519:")


# --- signature ---------------------------------------------------------------------------


def test_tampered_body_refused(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    fields = _as_dict(signed)
    fields["body"]["variables"].append("ssn_last4")
    with pytest.raises(BadSignatureError):
        _verify(fields, keyring, guard)


@pytest.mark.parametrize(
    ("field", "value"),
    [("typ", "extract_request"), ("exp", NOW + 200), ("iat", NOW - 10), ("nonce", "A" * 22)],
)
def test_tampered_signed_header_refused(
    field: str,
    value: object,
    signed: SignedEnvelope,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    fields = {**_as_dict(signed), field: value}
    with pytest.raises(BadSignatureError):
        _verify(fields, keyring, guard, typ=fields["typ"])


def test_resigned_with_another_key_under_known_kid_refused(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    attacker = Ed25519PrivateKey.generate()
    forged = _resign({**_as_dict(signed), "body": {**BODY, "agency": "DSS"}}, attacker)
    with pytest.raises(BadSignatureError):
        _verify(forged, keyring, guard)


def test_signature_does_not_cover_bare_canonical_json(
    hub_key: Ed25519PrivateKey, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    # A signature over the canonical JSON alone (no domain-separation prefix), as another
    # use of the same key might produce, must not pass as an envelope signature.
    fields = _as_dict(sign(BODY, typ=TYP, private_key=hub_key, now=NOW))
    unsigned = {name: value for name, value in fields.items() if name != "sig"}
    fields["sig"] = b64url_encode(hub_key.sign(canonical_json(unsigned)))
    with pytest.raises(BadSignatureError):
        _verify(fields, keyring, guard)


def test_unknown_kid_refused(signed: SignedEnvelope, guard: MemoryReplayGuard) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(UnknownKeyError):
        _verify(signed.to_json(), {key_id(other): other}, guard)


def test_unsupported_version_refused(
    signed: SignedEnvelope,
    hub_key: Ed25519PrivateKey,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    message = _resign({**_as_dict(signed), "v": "fedlink/2"}, hub_key)
    with pytest.raises(UnsupportedVersionError):
        _verify(message, keyring, guard)


# --- time --------------------------------------------------------------------------------


def test_expired_refused(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    with pytest.raises(ExpiredMessageError):
        _verify(signed.to_json(), keyring, guard, now=signed.exp)


def test_last_second_before_expiry_accepted(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    assert _verify(signed.to_json(), keyring, guard, now=signed.exp - 1).nonce == signed.nonce


def test_iat_in_the_future_refused(
    hub_key: Ed25519PrivateKey, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    early = sign(BODY, typ=TYP, private_key=hub_key, now=NOW + 61)
    with pytest.raises(ExpiredMessageError, match="future"):
        _verify(early.to_json(), keyring, guard, max_clock_skew=60)


def test_iat_in_the_future_within_clock_skew_accepted(
    hub_key: Ed25519PrivateKey, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    early = sign(BODY, typ=TYP, private_key=hub_key, now=NOW + 60)
    assert _verify(early.to_json(), keyring, guard, max_clock_skew=60).iat == NOW + 60


def test_ttl_too_long_refused(
    hub_key: Ed25519PrivateKey, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    long_lived = sign(BODY, typ=TYP, private_key=hub_key, ttl_seconds=3601, now=NOW)
    with pytest.raises(ExpiredMessageError, match="lifetime"):
        _verify(long_lived.to_json(), keyring, guard, max_ttl=3600)


def test_expiry_not_after_issue_refused(
    signed: SignedEnvelope,
    hub_key: Ed25519PrivateKey,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    message = _resign({**_as_dict(signed), "exp": signed.iat}, hub_key)
    with pytest.raises(ExpiredMessageError):
        _verify(message, keyring, guard)


def test_sign_refuses_non_positive_ttl(hub_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match="ttl"):
        sign(BODY, typ=TYP, private_key=hub_key, ttl_seconds=0)


# --- type and replay ----------------------------------------------------------------------


def test_wrong_typ_refused(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    with pytest.raises(WrongMessageTypeError) as info:
        _verify(signed.to_json(), keyring, guard, typ="extract_request")
    assert isinstance(info.value, MessageError)
    assert info.value.reason == "wrong_message_type"


def test_replayed_nonce_refused(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    _verify(signed.to_json(), keyring, guard)
    with pytest.raises(ReplayedMessageError):
        _verify(signed.to_json(), keyring, guard, now=NOW + 1)


def test_forged_message_does_not_burn_the_nonce(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    forged = {**_as_dict(signed), "body": {"project_id": "P-2"}}
    with pytest.raises(BadSignatureError):
        _verify(forged, keyring, guard)
    assert len(guard) == 0
    assert _verify(signed.to_json(), keyring, guard).nonce == signed.nonce


@pytest.mark.parametrize("failure", ["wrong_typ", "future", "expired"])
def test_refused_authentic_message_does_not_burn_the_nonce(
    failure: str,
    signed: SignedEnvelope,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    typ, now = {
        "wrong_typ": ("extract_request", NOW),
        "future": (TYP, NOW - 3600),
        "expired": (TYP, NOW + 3600),
    }[failure]
    with pytest.raises(MessageError):
        _verify(signed.to_json(), keyring, guard, typ=typ, now=now)
    assert len(guard) == 0
    _verify(signed.to_json(), keyring, guard)


def test_same_nonce_under_another_kid_is_independent() -> None:
    guard = MemoryReplayGuard()
    assert guard.check_and_remember("ed25519:a", "n" * 22, NOW + 10, NOW)
    assert guard.check_and_remember("ed25519:b", "n" * 22, NOW + 10, NOW)
    assert not guard.check_and_remember("ed25519:a", "n" * 22, NOW + 10, NOW)


# --- check order -------------------------------------------------------------------------


def test_version_is_checked_before_the_key(
    signed: SignedEnvelope, guard: MemoryReplayGuard
) -> None:
    with pytest.raises(UnsupportedVersionError):
        _verify({**_as_dict(signed), "v": "fedlink/0"}, {}, guard)


def test_key_is_checked_before_the_signature(
    signed: SignedEnvelope, guard: MemoryReplayGuard
) -> None:
    with pytest.raises(UnknownKeyError):
        _verify({**_as_dict(signed), "body": {}}, {}, guard)


def test_signature_is_checked_before_time_and_type(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    tampered = {**_as_dict(signed), "body": {}}
    with pytest.raises(BadSignatureError):
        _verify(tampered, keyring, guard, typ="other", now=NOW + 10_000)


def test_time_is_checked_before_type(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    with pytest.raises(ExpiredMessageError):
        _verify(signed.to_json(), keyring, guard, typ="other", now=NOW + 10_000)


# --- malformed ---------------------------------------------------------------------------


_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _spare_bits_set(sig: str) -> str:
    """``sig`` with one of the 4 unused low bits of its last character set: the same 64
    bytes, spelled non-canonically."""
    return sig[:-1] + _B64URL_ALPHABET[_B64URL_ALPHABET.index(sig[-1]) | 1]


def _without(fields: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key != name}


_MUTATIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not-json": lambda f: b"not json",
    "not-object": lambda f: b"[]",
    "invalid-utf8": lambda f: b'{"v": "\xff"}',
    "duplicate-key": lambda f: canonical_json(f)[:-1] + b',"v":"fedlink/1"}',
    "nan-in-body": lambda f: canonical_json(f).replace(b'"body":{', b'"body":{"x":NaN,'),
    "missing-sig": lambda f: _without(f, "sig"),
    "missing-nonce": lambda f: _without(f, "nonce"),
    "missing-body": lambda f: _without(f, "body"),
    "extra-field": lambda f: {**f, "alg": "none"},
    "iat-as-string": lambda f: {**f, "iat": str(f["iat"])},
    "exp-as-float": lambda f: {**f, "exp": float(f["exp"])},
    "iat-as-bool": lambda f: {**f, "iat": True},
    "negative-iat": lambda f: {**f, "iat": -1},
    "body-not-object": lambda f: {**f, "body": [1, 2]},
    "sig-not-base64url": lambda f: {**f, "sig": "!" * 86},
    "sig-wrong-length": lambda f: {**f, "sig": f["sig"][:-2]},
    "sig-non-canonical": lambda f: {**f, "sig": _spare_bits_set(f["sig"])},
    "nonce-too-short": lambda f: {**f, "nonce": "A" * 21},
    "nonce-bad-alphabet": lambda f: {**f, "nonce": "+" * 22},
    "typ-bad-shape": lambda f: {**f, "typ": "Match Request"},
    "body-int-too-big": lambda f: {**f, "body": {"n": 2**53}},
    "body-too-deep": lambda f: {**f, "body": {"a": json.loads("[" * 40 + "]" * 40)}},
}


@pytest.mark.parametrize("mutation", list(_MUTATIONS))
def test_malformed_message_refused(
    mutation: str,
    signed: SignedEnvelope,
    keyring: dict[str, Ed25519PublicKey],
    guard: MemoryReplayGuard,
) -> None:
    message = _MUTATIONS[mutation](_as_dict(signed))
    with pytest.raises(MalformedMessageError):
        _verify(message, keyring, guard)
    assert len(guard) == 0


def test_malformed_error_does_not_echo_the_value(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey], guard: MemoryReplayGuard
) -> None:
    with pytest.raises(MalformedMessageError) as info:
        _verify({**_as_dict(signed), "kid": "123-45-6789" * 20}, keyring, guard)
    assert "123-45-6789" not in str(info.value)
    assert "kid" in str(info.value)


def test_sign_refuses_body_without_canonical_form(hub_key: Ed25519PrivateKey) -> None:
    with pytest.raises(CanonicalJSONError):
        sign({"x": float("nan")}, typ=TYP, private_key=hub_key)


def test_sign_refuses_body_too_deep_to_verify(hub_key: Ed25519PrivateKey) -> None:
    with pytest.raises(MalformedMessageError):
        sign({"a": json.loads("[" * 40 + "]" * 40)}, typ=TYP, private_key=hub_key)


# --- replay guard and Verifier -----------------------------------------------------------


def test_memory_replay_guard_evicts_expired_nonces() -> None:
    guard = MemoryReplayGuard(capacity=2)
    assert guard.check_and_remember("k", "n1" * 11, NOW + 10, NOW)
    assert guard.check_and_remember("k", "n2" * 11, NOW + 20, NOW)
    assert len(guard) == 2
    assert guard.check_and_remember("k", "n3" * 11, NOW + 30, NOW + 10)  # n1 evicted
    assert len(guard) == 2


def test_memory_replay_guard_full_of_live_nonces_fails_closed() -> None:
    guard = MemoryReplayGuard(capacity=1)
    assert guard.check_and_remember("k", "n1" * 11, NOW + 10, NOW)
    with pytest.raises(ReplayGuardFullError):
        guard.check_and_remember("k", "n2" * 11, NOW + 10, NOW)
    # The live nonce was not forgotten to make room.
    assert not guard.check_and_remember("k", "n1" * 11, NOW + 10, NOW + 1)


def test_verifier_binds_trust_settings_and_clock(
    signed: SignedEnvelope, keyring: dict[str, Ed25519PublicKey]
) -> None:
    clock_now = [NOW]
    verifier = Verifier(
        keyring=keyring, replay_guard=MemoryReplayGuard(), max_ttl=600, clock=lambda: clock_now[0]
    )
    assert verifier.verify(signed.to_json(), expected_typ=TYP).body == BODY
    with pytest.raises(ReplayedMessageError):
        verifier.verify(signed.to_json(), expected_typ=TYP)
    clock_now[0] = signed.exp
    with pytest.raises(ExpiredMessageError):
        verifier.verify(signed.to_json(), expected_typ=TYP)


def test_verifier_accepts_each_type_only_from_its_own_signers(
    hub_key: Ed25519PrivateKey, guard: MemoryReplayGuard
) -> None:
    """One key ring, two keys, each for its own message type (a node: the hub key for match
    requests, the assembly key for extract requests). The wrong signer is refused after the
    signature and type checks and before the replay guard, so it burns no nonce."""
    assembly = Ed25519PrivateKey.generate()
    hub_kid, assembly_kid = key_id(hub_key.public_key()), key_id(assembly.public_key())
    verifier = Verifier(
        keyring={hub_kid: hub_key.public_key(), assembly_kid: assembly.public_key()},
        replay_guard=guard, clock=lambda: NOW,
        signers={"match_request": {hub_kid}, "extract_request": {assembly_kid}},
    )
    wrong = sign(BODY, typ="extract_request", private_key=hub_key, now=NOW)
    with pytest.raises(WrongSignerError) as refused:
        verifier.verify(wrong.to_json(), expected_typ="extract_request")
    assert refused.value.reason == "wrong_signer" and refused.value.kid == hub_kid
    assert assembly_kid in str(refused.value)
    assert len(guard) == 0
    with pytest.raises(WrongSignerError):
        verifier.verify(sign(BODY, typ=TYP, private_key=assembly, now=NOW).to_json(),
                        expected_typ=TYP)
    assert verifier.verify(sign(BODY, typ="extract_request", private_key=assembly,
                                now=NOW).to_json(), expected_typ="extract_request").body == BODY
    assert verifier.verify(sign(BODY, typ=TYP, private_key=hub_key, now=NOW).to_json(),
                           expected_typ=TYP).body == BODY
    # A type the map does not name is signed by nobody (fail closed).
    with pytest.raises(WrongSignerError, match="none is pinned"):
        verifier.verify(sign(BODY, typ="steward_decision", private_key=hub_key,
                             now=NOW).to_json(), expected_typ="steward_decision")
