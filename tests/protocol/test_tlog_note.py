"""Checkpoints as signed notes and cosignature/v1, checked against the C2SP byte layouts
written out independently here, and forged notes refused."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from protocol.tlog_note import (
    Checkpoint,
    NoteError,
    NoteSignature,
    SignedNote,
    cosign,
    cosigner_key_id,
    note_key_id,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)


@pytest.fixture
def hub_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


ORIGIN = "fedlink.example/hub-audit"
ROOT = hashlib.sha256(b"root").digest()


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_checkpoint_body_layout() -> None:
    body = Checkpoint(origin=ORIGIN, size=451, root_hash=ROOT).body()
    assert body == f"{ORIGIN}\n451\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(body) == Checkpoint(origin=ORIGIN, size=451, root_hash=ROOT)


def test_signed_checkpoint_layout_and_key_id(hub_key: Ed25519PrivateKey) -> None:
    text = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), name=ORIGIN, key=hub_key)
    body, _, line = text.partition("\n\n")
    assert body + "\n" == Checkpoint(ORIGIN, 7, ROOT).body()
    assert line.startswith(f"\u2014 {ORIGIN} ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + _raw(hub_key)).digest()[:4]
    assert raw[:4] == expected_id == note_key_id(ORIGIN, hub_key.public_key())
    hub_key.public_key().verify(raw[4:], (body + "\n").encode())
    checkpoint, _ = open_checkpoint(text, name=ORIGIN, public_key=hub_key.public_key(),
                                    origin=ORIGIN)
    assert (checkpoint.size, checkpoint.root_hash) == (7, ROOT)


def test_cosignature_layout(witness_key: Ed25519PrivateKey) -> None:
    body = Checkpoint(ORIGIN, 9, ROOT).body()
    signature = cosign(body, name="node.K12", key=witness_key, timestamp=1_767_225_600)
    expected_id = hashlib.sha256(b"node.K12\n\x04" + _raw(witness_key)).digest()[:4]
    assert signature.key_id == expected_id == cosigner_key_id("node.K12",
                                                              witness_key.public_key())
    assert signature.payload[:8] == (1_767_225_600).to_bytes(8, "big")
    message = f"cosignature/v1\ntime 1767225600\n{body}".encode()
    witness_key.public_key().verify(signature.payload[8:], message)
    verified = verify_cosignature(body, NoteSignature.parse(signature.line()[:-1]),
                                  name="node.K12", public_key=witness_key.public_key())
    assert (verified.timestamp, verified.checkpoint.size) == (1_767_225_600, 9)


def test_forged_checkpoints_refused(hub_key: Ed25519PrivateKey) -> None:
    text = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), name=ORIGIN, key=hub_key)
    other = Ed25519PrivateKey.generate()
    cases = {
        "wrong key": (text, ORIGIN, other, ORIGIN, "bad_note_signature"),
        "wrong signer name": (text, "someone.else", hub_key, None, "bad_note_signature"),
        "wrong origin": (text, ORIGIN, hub_key, "fedlink.example/other", "wrong_origin"),
        "altered size": (text.replace("\n7\n", "\n8\n", 1), ORIGIN, hub_key, None,
                         "bad_note_signature"),
        "re-signed by another key": (
            sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), name=ORIGIN, key=other), ORIGIN,
            hub_key, None, "bad_note_signature"),
        "no signature": (Checkpoint(ORIGIN, 7, ROOT).body(), ORIGIN, hub_key, None,
                         "malformed_note"),
        "leading zero size": (text.replace("\n7\n", "\n07\n", 1), ORIGIN, hub_key, None,
                              "malformed_note"),
    }
    for name, (note, signer, key, origin, reason) in cases.items():
        with pytest.raises(NoteError) as caught:
            open_checkpoint(note, name=signer, public_key=key.public_key(), origin=origin)
        assert caught.value.reason == reason, name


def test_forged_cosignatures_refused(witness_key: Ed25519PrivateKey) -> None:
    body = Checkpoint(ORIGIN, 9, ROOT).body()
    good = cosign(body, name="node.K12", key=witness_key, timestamp=100)
    other_body = Checkpoint(ORIGIN, 10, ROOT).body()
    bumped = NoteSignature(good.name, good.key_id,
                           (101).to_bytes(8, "big") + good.payload[8:])
    cases = {
        "other checkpoint": (other_body, good, "node.K12", witness_key),
        "wrong key": (body, good, "node.K12", Ed25519PrivateKey.generate()),
        "wrong name": (body, good, "node.K13", witness_key),
        "altered timestamp": (body, bumped, "node.K12", witness_key),
        "truncated": (body, NoteSignature(good.name, good.key_id, good.payload[:40]),
                      "node.K12", witness_key),
    }
    for name, (cp_body, signature, signer, key) in cases.items():
        with pytest.raises(NoteError) as caught:
            verify_cosignature(cp_body, signature, name=signer, public_key=key.public_key())
        assert caught.value.reason == "bad_note_signature", name


def test_note_round_trip_with_cosignature(hub_key: Ed25519PrivateKey,
                                          witness_key: Ed25519PrivateKey) -> None:
    text = sign_checkpoint(Checkpoint(ORIGIN, 3, ROOT), name=ORIGIN, key=hub_key)
    note = SignedNote.parse(text)
    cosigned = note.with_signature(cosign(note.body, name="node.K12", key=witness_key,
                                          timestamp=5))
    again = SignedNote.parse(cosigned.text())
    assert len(again.signatures) == 2
    open_checkpoint(cosigned.text(), name=ORIGIN, public_key=hub_key.public_key())
    verify_cosignature(again.body, again.signatures[1], name="node.K12",
                       public_key=witness_key.public_key())
