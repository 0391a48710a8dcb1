"""Checkpoints as C2SP signed notes, and witness co-signatures (C2SP tlog-cosignature v1).

A *checkpoint* (C2SP tlog-checkpoint) is the note body::

    <origin>\\n
    <tree size, decimal>\\n
    <base64 root hash>\\n
    [extension lines]\\n

A *signed note* (C2SP signed-note) is the body, a blank line, and one line per signature::

    — <key name> base64(key id (4 bytes) || Ed25519 signature over the body)

with the Ed25519 key id ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``. A verifier
knows (name, key) pairs, computes the expected key id and ignores other lines.

A witness *co-signature* is a note signature line whose key id uses type byte 0x04 and
whose payload is ``key id || u64 big-endian timestamp || Ed25519 signature`` over::

    cosignature/v1\\n
    time <timestamp>\\n
    <the whole checkpoint body>

It states: as of that time, this is the largest consistent tree the witness has seen for
the log named by the origin. Errors raise :class:`NoteError` with a stable ``reason``
(``malformed_note``, ``bad_note_signature``, ``wrong_origin``). Pure code, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from protocol.errors import ProtocolError
from protocol.tlog import HASH_SIZE

SIG_PREFIX: Final = "\u2014 "
ALG_ED25519: Final = 0x01
ALG_COSIGNATURE_V1: Final = 0x04
COSIGNATURE_HEADER: Final = "cosignature/v1\n"
MAX_NOTE_BYTES: Final = 16_384
_NAME = re.compile(r"^[^\s+\u2014]{1,255}$")
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")

__all__ = [
    "Checkpoint",
    "CoSignature",
    "NoteError",
    "NoteSignature",
    "SignedNote",
    "cosign",
    "cosigner_key_id",
    "note_key_id",
    "open_checkpoint",
    "sign_checkpoint",
    "verify_cosignature",
]


class NoteError(ProtocolError):
    """A note, checkpoint or co-signature is malformed or does not verify."""

    reason = "malformed_note"


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise NoteError(f"key name {name!r} is empty or has spaces or '+'")


def note_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id of an Ed25519 note signer (signature type 0x01)."""
    _check_name(name)
    material = name.encode() + b"\n" + bytes([ALG_ED25519]) + _raw(public_key)
    return hashlib.sha256(material).digest()[:4]


def cosigner_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id of an Ed25519 cosigner (cosignature/v1, type 0x04)."""
    _check_name(name)
    material = name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + _raw(public_key)
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the signer's name, its key id and the rest of the payload."""

    name: str
    key_id: bytes
    payload: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.payload).decode()
        return f"{SIG_PREFIX}{self.name} {encoded}\n"

    @classmethod
    def parse(cls, line: str) -> NoteSignature:
        if not line.startswith(SIG_PREFIX):
            raise NoteError("a note signature line must start with an em dash and a space")
        name, sep, encoded = line[len(SIG_PREFIX):].partition(" ")
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"signature of {name} is not base64") from None
        if not sep or len(raw) < 5:
            raise NoteError(f"signature of {name} is too short")
        return cls(name=name, key_id=raw[:4], payload=raw[4:])


@dataclass(frozen=True)
class SignedNote:
    """A note body (ending in a newline) and its signature lines."""

    body: str
    signatures: tuple[NoteSignature, ...]

    def text(self) -> str:
        return self.body + "\n" + "".join(s.line() for s in self.signatures)

    @classmethod
    def parse(cls, text: str) -> SignedNote:
        if len(text.encode()) > MAX_NOTE_BYTES:
            raise NoteError(f"note is larger than {MAX_NOTE_BYTES} bytes")
        body, sep, sigs = text.rpartition("\n\n")
        if not sep or not sigs.endswith("\n"):
            raise NoteError("a signed note is a body, a blank line and signature lines")
        lines = sigs[:-1].split("\n")
        return cls(body=body + "\n", signatures=tuple(NoteSignature.parse(x) for x in lines))

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        return SignedNote(body=self.body, signatures=(*self.signatures, signature))


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(),
                 *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise NoteError("a checkpoint body ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3 or not lines[0] or any(not x for x in lines[3:]):
            raise NoteError("a checkpoint is origin, size and root hash lines")
        if not _SIZE.match(lines[1]):
            raise NoteError(f"checkpoint size {lines[1]!r} is not a decimal without zeros")
        try:
            root_hash = base64.b64decode(lines[2], validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("checkpoint root hash is not base64") from None
        if len(root_hash) != HASH_SIZE:
            raise NoteError(f"checkpoint root hash is not {HASH_SIZE} bytes")
        return cls(origin=lines[0], size=int(lines[1]), root_hash=root_hash,
                   extensions=tuple(lines[3:]))


def sign_checkpoint(checkpoint: Checkpoint, *, name: str, key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note (text) with one signature by ``name``."""
    body = checkpoint.body()
    key_id = note_key_id(name, key.public_key())
    signature = NoteSignature(name=name, key_id=key_id, payload=key.sign(body.encode()))
    return SignedNote(body=body, signatures=(signature,)).text()


def open_checkpoint(text: str, *, name: str, public_key: Ed25519PublicKey,
                    origin: str | None = None) -> tuple[Checkpoint, SignedNote]:
    """Parse a signed checkpoint and verify the signature of (``name``, ``public_key``);
    with ``origin``, refuse a checkpoint of another log (``wrong_origin``)."""
    note = SignedNote.parse(text)
    checkpoint = Checkpoint.parse(note.body)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}",
                        reason="wrong_origin")
    key_id = note_key_id(name, public_key)
    for signature in note.signatures:
        if signature.name == name and signature.key_id == key_id:
            try:
                public_key.verify(signature.payload, note.body.encode())
            except InvalidSignature:
                break
            return checkpoint, note
    raise NoteError(f"checkpoint has no valid signature by {name}", reason="bad_note_signature")


@dataclass(frozen=True)
class CoSignature:
    """A verified co-signature: who, when (POSIX seconds), over which checkpoint."""

    name: str
    timestamp: int
    checkpoint: Checkpoint


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


def cosign(checkpoint_body: str, *, name: str, key: Ed25519PrivateKey,
           timestamp: int) -> NoteSignature:
    """Co-sign a checkpoint body (cosignature/v1) at ``timestamp`` (POSIX seconds)."""
    if not 0 <= timestamp < 2**63:
        raise NoteError("co-signature timestamp out of range")
    Checkpoint.parse(checkpoint_body)
    signature = key.sign(_cosigned_message(checkpoint_body, timestamp))
    return NoteSignature(name=name, key_id=cosigner_key_id(name, key.public_key()),
                         payload=timestamp.to_bytes(8, "big") + signature)


def verify_cosignature(checkpoint_body: str, signature: NoteSignature, *, name: str,
                       public_key: Ed25519PublicKey) -> CoSignature:
    """Verify one co-signature line by (``name``, ``public_key``) over the body."""
    if signature.name != name or signature.key_id != cosigner_key_id(name, public_key):
        raise NoteError(f"co-signature is not by {name} with this key",
                        reason="bad_note_signature")
    if len(signature.payload) != 8 + 64:
        raise NoteError("co-signature is not a timestamp and an Ed25519 signature",
                        reason="bad_note_signature")
    timestamp = int.from_bytes(signature.payload[:8], "big")
    if timestamp >= 2**63:
        raise NoteError("co-signature timestamp out of range", reason="bad_note_signature")
    try:
        public_key.verify(signature.payload[8:], _cosigned_message(checkpoint_body, timestamp))
    except InvalidSignature:
        raise NoteError(f"co-signature by {name} does not verify",
                        reason="bad_note_signature") from None
    return CoSignature(name=name, timestamp=timestamp, checkpoint=Checkpoint.parse(checkpoint_body))
