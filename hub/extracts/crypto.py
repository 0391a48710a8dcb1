"""Encryption at rest of extract bundles: a per-extract data key, streamed AES-256-GCM,
and the key wrapped under a key-wrapping key derived from the hub's master key file.

**Master key.** ``DIR/master.key``: 32 random bytes, mode 0600, created on first use with
``O_CREAT | O_EXCL`` (two hub processes racing both end up reading the one file), refused
when group or others can read it. The key-wrapping key (KWK) is
``HKDF-SHA256(master, info="fedlink extract key-wrapping key v1")``; its id (a hash) is
stored beside every wrapped key so a replaced master key is noticed, not mis-decrypted.

**Wrapping.** ``nonce(12) ‖ AES-256-GCM(KWK, nonce, data_key, aad)`` with
``aad = "fedlink extract key\\0" ‖ extract_id``: a wrapped key moved to another extract's
row does not unwrap.

**Bundle file** (``.flx``), written and read in chunks so a large bundle never sits in
memory whole::

    header = "FLX1" ‖ version(1) ‖ chunk_size(4, BE) ‖ nonce_prefix(7) ‖ len(id)(1) ‖ id
    chunk i = AES-256-GCM(data_key, nonce = prefix ‖ i(4, BE) ‖ last(1), chunk, aad=header)

the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015): the counter stops
chunks being reordered or dropped, the ``last`` flag stops truncation at a chunk boundary,
and the header as associated data binds every chunk to this extract id and chunk size.
Every chunk is authenticated before any of its plaintext is released.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fedlink_client import extracts as client_extracts
from fedlink_client.errors import IntegrityError as ClientIntegrityError

from hub.errors import ConfigError, ExtractIntegrityError

MASTER_KEY_FILE: Final = "master.key"
KEY_BYTES: Final = 32
CHUNK_SIZE: Final = 1 << 20
_MAGIC: Final = b"FLX1"
_VERSION: Final = 1
_TAG: Final = 16
_PREFIX: Final = 7
_WRAP_AAD: Final = b"fedlink extract key\x00"
_KWK_INFO: Final = b"fedlink extract key-wrapping key v1"


def load_master_key(directory: Path) -> bytes:
    """The hub's master key from ``directory`` (created, 0600, if missing)."""
    path = Path(directory) / MASTER_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by others (mode {oct(mode & 0o777)}); chmod 600")
    data = path.read_bytes()
    if len(data) != KEY_BYTES:
        raise ConfigError(f"{path} must hold exactly {KEY_BYTES} bytes")
    return data


class KeyWrapper:
    """Wraps and unwraps per-extract data keys under the KWK."""

    def __init__(self, master_key: bytes) -> None:
        kwk = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                   info=_KWK_INFO).derive(master_key)
        self._aead = AESGCM(kwk)
        self.kid = hashlib.sha256(b"fedlink kwk id\x00" + kwk).hexdigest()[:32]

    @classmethod
    def from_directory(cls, directory: Path) -> KeyWrapper:
        return cls(load_master_key(directory))

    def wrap(self, data_key: bytes, *, extract_id: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, data_key, _WRAP_AAD + extract_id.encode())

    def unwrap(self, wrapped: bytes, *, extract_id: str, kid: str) -> bytes:
        if kid != self.kid:
            raise ExtractIntegrityError(
                "the extract key was wrapped under another master key")
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:],
                                      _WRAP_AAD + extract_id.encode())
        except (InvalidTag, ValueError):
            raise ExtractIntegrityError("the wrapped extract key does not verify") from None


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _header(extract_id: str, chunk_size: int, prefix: bytes) -> bytes:
    ident = extract_id.encode("ascii")
    return (_MAGIC + bytes([_VERSION]) + struct.pack(">I", chunk_size) + prefix
            + bytes([len(ident)]) + ident)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object that encrypts into ``sink`` chunk by chunk; hashes the
    plaintext (``sha256``) and the bytes written (``ciphertext_sha256``). Call :meth:`close`
    to seal the last chunk. Not seekable, so :mod:`zipfile` streams into it."""

    def __init__(self, sink: BinaryIO, data_key: bytes, *, extract_id: str,
                 chunk_size: int = CHUNK_SIZE) -> None:
        self._sink, self._aead = sink, AESGCM(data_key)
        self._chunk_size = chunk_size
        self._prefix = secrets.token_bytes(_PREFIX)
        self._aad = _header(extract_id, chunk_size, self._prefix)
        self._buffer = bytearray()
        self._index = 0
        self._position = 0
        self._plain = hashlib.sha256()
        self._cipher = hashlib.sha256()
        self.size = 0
        self.closed = False
        self._emit(self._aad)

    def _emit(self, data: bytes) -> None:
        self._sink.write(data)
        self._cipher.update(data)
        self.size += len(data)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        if self._index >= 2**32:
            raise ValueError("bundle too large for one extract file")
        self._emit(self._aead.encrypt(_nonce(self._prefix, self._index, last), chunk,
                                      self._aad))
        self._index += 1

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed extract writer")
        self._plain.update(data)
        self._position += len(data)
        self._buffer += data
        # Keep at least one byte back so the final chunk is never empty by accident and
        # is always sealed with the "last" flag in close().
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), last=False)
            del self._buffer[: self._chunk_size]
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self._sink.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True
            self._sink.flush()

    @property
    def sha256(self) -> str:
        return self._plain.hexdigest()

    @property
    def ciphertext_sha256(self) -> str:
        return self._cipher.hexdigest()


def decrypt_chunks(source: BinaryIO, data_key: bytes, *, extract_id: str) -> Iterator[bytes]:
    """The plaintext of an extract file, chunk by chunk, each authenticated before it is
    yielded; :class:`ExtractIntegrityError` for a tampered, truncated, extended or
    mismatched file.

    The reader is the researcher client's (``fedlink_client.extracts``), so the hub checks
    its files exactly as researchers open them; this module keeps the writer."""
    try:
        yield from client_extracts.decrypt_chunks(source, data_key, extract_id=extract_id)
    except ClientIntegrityError as exc:
        raise ExtractIntegrityError(str(exc)) from None


def verify_file(path: Path, data_key: bytes, *, extract_id: str) -> str:
    """Decrypt ``path`` without keeping the plaintext; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in decrypt_chunks(source, data_key, extract_id=extract_id):
            digest.update(chunk)
    return digest.hexdigest()


def shred_file(path: Path) -> int:
    """Overwrite ``path`` with zeros, sync, and delete it; the bytes overwritten (0 if it
    was already gone). On copy-on-write or flash storage the overwrite may not reach the
    old blocks: the destroyed key is what makes the ciphertext unreadable."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    with path.open("r+b") as handle:
        remaining = size
        zeros = bytes(min(CHUNK_SIZE, max(size, 1)))
        while remaining > 0:
            step = min(remaining, len(zeros))
            handle.write(zeros[:step])
            remaining -= step
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    return size
