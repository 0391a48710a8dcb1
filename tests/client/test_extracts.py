"""fedlink_client.extracts against the server's real code: the hub's EncryptingWriter and
its HPKE sealing of the data key (hub.assembly.build) produce what the client opens;
tampering, another key and unsafe zip members are refused."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest
from fedlink_client import IntegrityError, generate_key, open_saved
from fedlink_client.extracts import decrypt_chunks, finish, open_sealed, unpack
from fedlink_client.models import Extract

from hub.assembly.build import _recipient_key
from hub.domain.dsa import ExtractOptions
from hub.extracts.crypto import EncryptingWriter, new_data_key

EXTRACT_ID, PROJECT = "X-7f3a", "P-2026-0001"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _sealed_by_the_hub(tmp_path: Path, bundle: bytes, *, chunk_size: int = 64
                       ) -> tuple[Extract, Path, Path]:
    """(metadata, ciphertext file, key file): sealed with the hub's own code."""
    key_file = tmp_path / "researcher.key"
    public = generate_key(key_file)
    data_key = new_data_key()
    ciphertext = tmp_path / f"{EXTRACT_ID}.part"
    with ciphertext.open("wb") as sink:
        writer = EncryptingWriter(sink, data_key, extract_id=EXTRACT_ID, chunk_size=chunk_size)
        writer.write(bundle)
        writer.close()
    sealed = _recipient_key(ExtractOptions(recipient_public_key=public), data_key,
                            extract_id=EXTRACT_ID, project_id=PROJECT)
    meta = Extract(id=EXTRACT_ID, project_id=PROJECT, status="available",
                   encryption="researcher", recipient_key=sealed, sha256=writer.sha256,
                   ciphertext_sha256=writer.ciphertext_sha256)
    return meta, ciphertext, key_file


def test_the_client_opens_what_the_hub_sealed(tmp_path: Path) -> None:
    bundle = _zip({"tables/agency_SCH.csv": b"pid,gpa\n" + b"p,3.1\n" * 100,
                   "README.txt": b"linked"})
    meta, ciphertext, key_file = _sealed_by_the_hub(tmp_path, bundle)
    out = tmp_path / "out.zip"
    open_sealed(meta, key_file, ciphertext, out)
    assert out.read_bytes() == bundle


def test_finish_verifies_decrypts_and_unpacks(tmp_path: Path) -> None:
    bundle = _zip({"tables/a.csv": b"x\n1\n"})
    meta, ciphertext, key_file = _sealed_by_the_hub(tmp_path, bundle)
    got = finish(meta, ciphertext, tmp_path / f"{EXTRACT_ID}.zip",
                 received=str(meta.ciphertext_sha256), announced=str(meta.ciphertext_sha256),
                 key_file=key_file, unpack_to=tmp_path / EXTRACT_ID)
    assert got.files == 1 and (tmp_path / EXTRACT_ID / "tables" / "a.csv").read_text() == "x\n1\n"
    assert not ciphertext.exists()


@pytest.mark.parametrize("announced_ok", [True, False])
def test_a_sha256_mismatch_keeps_nothing(tmp_path: Path, announced_ok: bool) -> None:
    meta, ciphertext, key_file = _sealed_by_the_hub(tmp_path, _zip({"a": b"1"}))
    good = str(meta.ciphertext_sha256)
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        finish(meta, ciphertext, tmp_path / "b.zip", received=good if announced_ok else "0" * 64,
               announced=good if not announced_ok else "f" * 64, key_file=key_file,
               unpack_to=tmp_path / "u")
    assert not ciphertext.exists() and not (tmp_path / "b.zip").exists()


def test_another_key_cannot_open_it(tmp_path: Path) -> None:
    meta, ciphertext, _ = _sealed_by_the_hub(tmp_path, _zip({"a": b"1"}))
    other = tmp_path / "other.key"
    generate_key(other)
    with pytest.raises(IntegrityError, match="cannot be decrypted"):
        open_sealed(meta, other, ciphertext, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_a_sealed_key_for_another_extract_does_not_open(tmp_path: Path) -> None:
    meta, ciphertext, key_file = _sealed_by_the_hub(tmp_path, _zip({"a": b"1"}))
    moved = meta.model_copy(update={"project_id": "P-other"})  # info rebuilt from it
    with pytest.raises(IntegrityError, match="cannot be decrypted"):
        open_sealed(moved, key_file, ciphertext, tmp_path / "b.zip")


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop_chunk", "extend"])
def test_tampered_ciphertext_fails(tmp_path: Path, damage: str) -> None:
    meta, ciphertext, key_file = _sealed_by_the_hub(tmp_path, _zip({"a": b"z" * 400}))
    data = bytearray(ciphertext.read_bytes())
    header = 4 + 1 + 4 + 7 + 1 + len(EXTRACT_ID)
    if damage == "flip":
        data[header + 5] ^= 1
    elif damage == "truncate":
        data = data[:-20]
    elif damage == "drop_chunk":
        del data[header:header + 64 + 16]
    else:
        data += data[header:header + 64 + 16]
    ciphertext.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        open_sealed(meta, key_file, ciphertext, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_decrypt_chunks_refuses_a_file_of_another_extract(tmp_path: Path) -> None:
    _, ciphertext, _ = _sealed_by_the_hub(tmp_path, _zip({"a": b"1"}))
    with ciphertext.open("rb") as source, pytest.raises(IntegrityError, match="another"):
        list(decrypt_chunks(source, b"k" * 32, extract_id="X-other"))


def test_kept_sealed_then_opened_offline(tmp_path: Path) -> None:
    bundle = _zip({"data_dictionary.csv": b"variable\ngpa\n"})
    meta, ciphertext, key_file = _sealed_by_the_hub(tmp_path, bundle)
    kept = finish(meta, ciphertext, tmp_path / f"{EXTRACT_ID}.zip",
                  received=str(meta.ciphertext_sha256), announced=str(meta.ciphertext_sha256),
                  key_file=None, unpack_to=None)
    assert kept.folder is None and kept.bundle == tmp_path / f"{EXTRACT_ID}.flx"
    opened = open_saved(tmp_path / f"{EXTRACT_ID}.json", key_file)
    assert opened.folder == tmp_path / EXTRACT_ID and opened.files == 1
    assert hashlib.sha256(opened.bundle.read_bytes()).hexdigest() == meta.sha256


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/fedlink-escape", "a/../../escape",
                                  "C:/escape.txt"])
def test_unpack_refuses_members_outside_the_folder(tmp_path: Path, name: str) -> None:
    bundle = tmp_path / "evil.zip"
    bundle.write_bytes(_zip({"ok.txt": b"fine", name: b"owned"}))
    target = tmp_path / "deep" / "out"
    with pytest.raises(IntegrityError, match="would land outside"):
        unpack(bundle, target)
    assert list(target.iterdir()) == []  # checked before anything was written
    assert not (tmp_path / "deep" / "escape.txt").exists()


def test_unpack_refuses_a_symbolic_link(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("innocent")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    bundle = tmp_path / "link.zip"
    bundle.write_bytes(buffer.getvalue())
    with pytest.raises(IntegrityError, match="symbolic link"):
        unpack(bundle, tmp_path / "out")
