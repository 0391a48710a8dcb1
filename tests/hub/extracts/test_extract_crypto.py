"""Encryption at rest of extract bundles: streamed AES-256-GCM chunks, wrapped keys, the
master key file."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path

import pytest

from hub.errors import ConfigError, ExtractIntegrityError
from hub.extracts.crypto import (
    EncryptingWriter,
    KeyWrapper,
    decrypt_chunks,
    load_master_key,
    new_data_key,
    shred_file,
)

CHUNK = 64


def _seal(plain: bytes, key: bytes, extract_id: str = "ext-1") -> tuple[bytes, EncryptingWriter]:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, key, extract_id=extract_id, chunk_size=CHUNK)
    for start in range(0, len(plain), 10):
        writer.write(plain[start:start + 10])
    writer.close()
    return sink.getvalue(), writer


def _open(data: bytes, key: bytes, extract_id: str = "ext-1") -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(data), key, extract_id=extract_id))


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7])
def test_round_trip_any_size(size: int) -> None:
    key, plain = new_data_key(), secrets.token_bytes(size)
    data, writer = _seal(plain, key)
    assert _open(data, key) == plain
    assert writer.sha256 == hashlib.sha256(plain).hexdigest()
    assert writer.ciphertext_sha256 == hashlib.sha256(data).hexdigest()
    assert writer.size == len(data)
    if size >= 16:  # a short plaintext may occur in random bytes by chance
        assert plain not in data


def _header_len(extract_id: str = "ext-1") -> int:
    return 4 + 1 + 4 + 7 + 1 + len(extract_id)


def test_truncated_reordered_extended_or_flipped_files_are_refused() -> None:
    key = new_data_key()
    data, _ = _seal(secrets.token_bytes(3 * CHUNK + 5), key)
    head, block = _header_len(), CHUNK + 16
    chunks = [data[head + i * block: head + (i + 1) * block] for i in range(4)]
    truncated = data[: head + 2 * block]  # cut at a chunk boundary
    reordered = data[:head] + chunks[1] + chunks[0] + chunks[2] + chunks[3]
    extended = data + chunks[0]
    flipped = bytearray(data)
    flipped[head + 3] ^= 1
    for bad in (truncated, reordered, extended, bytes(flipped), data[:10]):
        with pytest.raises(ExtractIntegrityError):
            _open(bad, key)
    with pytest.raises(ExtractIntegrityError):
        _open(data, new_data_key())
    with pytest.raises(ExtractIntegrityError):
        _open(data, key, extract_id="ext-2")


def test_wrapped_key_is_bound_to_its_extract_and_master_key(tmp_path: Path) -> None:
    wrapper = KeyWrapper.from_directory(tmp_path)
    key = new_data_key()
    wrapped = wrapper.wrap(key, extract_id="ext-a")
    assert key not in wrapped
    assert wrapper.unwrap(wrapped, extract_id="ext-a", kid=wrapper.kid) == key
    with pytest.raises(ExtractIntegrityError):
        wrapper.unwrap(wrapped, extract_id="ext-b", kid=wrapper.kid)
    other = KeyWrapper(secrets.token_bytes(32))
    with pytest.raises(ExtractIntegrityError, match="another master key"):
        other.unwrap(wrapped, extract_id="ext-a", kid=wrapper.kid)


def test_master_key_file_is_private_and_stable(tmp_path: Path) -> None:
    first = load_master_key(tmp_path)
    path = tmp_path / "master.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_master_key(tmp_path) == first
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_master_key(tmp_path)
    os.chmod(path, 0o600)
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="32 bytes"):
        load_master_key(tmp_path)


def test_shred_overwrites_then_deletes(tmp_path: Path) -> None:
    path = tmp_path / "x.flx"
    path.write_bytes(b"secret" * 100)
    assert shred_file(path) == 600
    assert not path.exists()
    assert shred_file(path) == 0
