"""Receiving an extract: verify what was downloaded, open what was sealed to the
researcher, and unpack the bundle safely.

**Verification.** The download's SHA-256 must equal both the ``X-Fedlink-SHA256`` header
and the extract's metadata (``sha256`` for a plain bundle, ``ciphertext_sha256`` for one
sealed to the researcher); otherwise nothing is kept.

**Opening** (extracts sealed to the researcher's key, ``encryption == "researcher"``): the
metadata's ``recipient_key`` holds the extract's data key sealed with HPKE
(DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) under
``info = b"fedlink/1 extract_key|extract=<id>|project=<project>"``, rebuilt here from
the extract the researcher asked for, never from what the hub claims. The file is the
hub's chunked STREAM format::

    header  = "FLX1" ‖ version(1) ‖ chunk_size(4, BE) ‖ nonce_prefix(7) ‖ len(id)(1) ‖ id
    chunk i = AES-256-GCM(data_key, nonce = prefix ‖ i(4, BE) ‖ last(1), chunk, aad=header)

Every chunk is authenticated before its plaintext is written; a reordered, dropped,
truncated or extended file fails. The plaintext's SHA-256 must equal ``sha256``.

**Unpacking** refuses any member that would land outside the target folder (absolute
paths, ``..``, links), before anything is extracted.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fedlink_client.errors import IntegrityError, InvalidInput
from fedlink_client.keys import b64url_decode, load_private_key, public_key_b64
from fedlink_client.models import Extract

SUITE_NAME: Final = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
_SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_MAGIC: Final = b"FLX1"
_VERSION: Final = 1
_TAG: Final = 16
_PREFIX: Final = 7
_MAX_CHUNK: Final = 64 << 20


def extract_key_info(extract_id: str, project_id: str) -> bytes:
    """The HPKE ``info`` the hub seals an extract's key under (protocol.payload)."""
    return f"fedlink/1 extract_key|extract={extract_id}|project={project_id}".encode("ascii")


def verify_download(received: str, announced: str, extract: Extract) -> None:
    """:class:`IntegrityError` unless the download's SHA-256 ``received`` equals the header
    (``announced``) and the metadata."""
    expected = extract.ciphertext_sha256 if extract.sealed else extract.sha256
    if not expected or not (hmac.compare_digest(received, announced)
                            and hmac.compare_digest(received, expected)):
        raise IntegrityError(f"extract {extract.id} failed its integrity check (SHA-256 "
                             "mismatch); nothing was kept")


def data_key(extract: Extract, key_file: str | Path) -> bytes:
    """The extract's data key, opened with the researcher's private key."""
    sealed = extract.recipient_key
    if not extract.sealed or sealed is None:
        raise InvalidInput(f"extract {extract.id} is not sealed to a researcher key")
    if sealed.suite != SUITE_NAME:
        raise IntegrityError(f"extract {extract.id} is sealed with an unknown suite "
                             f"{sealed.suite!r}; upgrade fedlink-client")
    private = load_private_key(key_file)
    raw = b64url_decode(public_key_b64(private))
    kid = "x25519:" + hashlib.sha256(raw).hexdigest()[:32]
    if sealed.kid != kid:
        raise IntegrityError(f"extract {extract.id} cannot be decrypted with {key_file}: it "
                             f"is sealed to another key ({sealed.kid}, not {kid})")
    try:
        ciphertext = b64url_decode(sealed.ciphertext)
        return _SUITE.decrypt(ciphertext, private,
                              info=extract_key_info(extract.id, extract.project_id))
    except (InvalidTag, ValueError):
        raise IntegrityError(f"extract {extract.id}: its key cannot be decrypted with "
                             f"{key_file}") from None


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise IntegrityError("the extract file is truncated")
    return data


def decrypt_chunks(source: BinaryIO, key: bytes, *, extract_id: str) -> Iterator[bytes]:
    """The plaintext of a sealed extract file, chunk by chunk, each authenticated first."""
    fixed = _read_exactly(source, len(_MAGIC) + 1 + 4 + _PREFIX + 1)
    if fixed[:4] != _MAGIC or fixed[4] != _VERSION:
        raise IntegrityError("not a Fedlink extract file")
    (chunk_size,) = struct.unpack(">I", fixed[5:9])
    prefix = fixed[9:16]
    ident = _read_exactly(source, fixed[16])
    if ident != extract_id.encode("ascii") or not 0 < chunk_size <= _MAX_CHUNK:
        raise IntegrityError("the extract file belongs to another extract")
    aad = fixed + ident
    aead = AESGCM(key)
    block = source.read(chunk_size + _TAG)
    index = 0
    while True:
        following = source.read(chunk_size + _TAG)
        last = not following
        if len(block) < _TAG or (not last and len(block) != chunk_size + _TAG):
            raise IntegrityError("the extract file is truncated")
        nonce = prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")
        try:
            yield aead.decrypt(nonce, block, aad)
        except InvalidTag:
            raise IntegrityError("the extract file does not verify") from None
        if last:
            return
        block, index = following, index + 1


def open_sealed(extract: Extract, key_file: str | Path, ciphertext: Path, bundle: Path) -> None:
    """Decrypt the downloaded ``ciphertext`` into ``bundle`` (the zip) and check its SHA-256
    against the metadata; on any failure ``bundle`` is removed."""
    key = data_key(extract, key_file)
    digest = hashlib.sha256()
    try:
        with ciphertext.open("rb") as source, bundle.open("wb") as sink:
            for chunk in decrypt_chunks(source, key, extract_id=extract.id):
                sink.write(chunk)
                digest.update(chunk)
        if not extract.sha256 or not hmac.compare_digest(digest.hexdigest(), extract.sha256):
            raise IntegrityError(f"extract {extract.id} decrypted to the wrong content")
    except BaseException:
        bundle.unlink(missing_ok=True)
        raise


def _safe_member(info: zipfile.ZipInfo, root: Path) -> None:
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    mode = info.external_attr >> 16
    if (path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")
            or not (root / path).resolve().is_relative_to(root)):
        raise IntegrityError(f"the bundle member {name!r} would land outside {root}")
    if mode and (mode & 0o170000) == 0o120000:
        raise IntegrityError(f"the bundle member {name!r} is a symbolic link; refused")


def unpack(bundle: Path, target: Path) -> int:
    """Unpack the zip ``bundle`` into ``target``; the number of members. Every member is
    checked before the first is written."""
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = target.resolve()
    try:
        with zipfile.ZipFile(bundle) as archive:
            members = archive.infolist()
            for info in members:
                _safe_member(info, root)
            archive.extractall(root)
    except zipfile.BadZipFile:
        raise IntegrityError(f"{bundle} is not a zip file") from None
    return len(members)


@dataclass(frozen=True)
class Downloaded:
    """A verified download: the extract, its bundle (the zip, decrypted when it was sealed
    to you) and, when unpacked, the folder and its number of files."""

    extract: Extract
    bundle: Path
    folder: Path | None
    files: int


def part_paths(out: Path, extract_id: str) -> tuple[Path, Path]:
    """Where a download is received (``<id>.part``) and where the bundle ends up."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    return out / f"{extract_id}.part", out / f"{extract_id}.zip"


def check_key_given(extract: Extract, key_file: str | Path | None, *,
                    keep_sealed: bool = False) -> None:
    if extract.sealed and key_file is None and not keep_sealed:
        raise InvalidInput(f"extract {extract.id} is sealed to your key; give your private "
                           "key file (key_file= / --key FILE)")
    if key_file is not None:
        load_private_key(key_file)  # a bad key file fails before the download, not after


def finish(extract: Extract, part: Path, bundle: Path, *, received: str, announced: str,
           key_file: str | Path | None, unpack_to: Path | None) -> Downloaded:
    """Verify the received file, decrypt it when sealed, and unpack it; on failure neither
    the part file nor the bundle is left behind. A sealed extract without ``key_file`` is
    kept sealed (:func:`open_saved` opens it later, offline)."""
    try:
        verify_download(received, announced, extract)
        if extract.sealed and key_file is None:
            sealed = bundle.with_suffix(".flx")
            part.replace(sealed)
            bundle.with_suffix(".json").write_text(extract.model_dump_json(indent=2),
                                                   encoding="utf-8")
            return Downloaded(extract=extract, bundle=sealed, folder=None, files=0)
        if extract.sealed:
            assert key_file is not None
            open_sealed(extract, key_file, part, bundle)
            part.unlink()
        else:
            part.replace(bundle)
    except BaseException:
        part.unlink(missing_ok=True)
        bundle.unlink(missing_ok=True)
        raise
    files = unpack(bundle, unpack_to) if unpack_to is not None else 0
    return Downloaded(extract=extract, bundle=bundle, folder=unpack_to, files=files)


def open_saved(metadata: str | Path, key_file: str | Path, *,
               unpack_to: Path | None = None) -> Downloaded:
    """Open an extract downloaded sealed (``<id>.json`` beside ``<id>.flx``), offline:
    check the ciphertext's SHA-256 against the metadata, decrypt, verify and unpack into
    ``unpack_to`` (default: ``<id>/`` beside it)."""
    meta = Path(metadata).expanduser()
    try:
        extract = Extract.model_validate_json(meta.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"cannot read {meta}: {exc.strerror}") from None
    except ValueError:
        raise InvalidInput(f"{meta} is not an extract's metadata (<id>.json)") from None
    sealed = meta.with_name(f"{extract.id}.flx")
    digest = hashlib.sha256()
    try:
        with sealed.open("rb") as source:
            while block := source.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise InvalidInput(f"cannot read {sealed}: {exc.strerror}") from None
    expected = extract.ciphertext_sha256 or ""
    verify_download(digest.hexdigest(), expected, extract)
    bundle = meta.with_name(f"{extract.id}.zip")
    open_sealed(extract, key_file, sealed, bundle)
    target = unpack_to or meta.with_name(extract.id)
    files = unpack(bundle, target)
    return Downloaded(extract=extract, bundle=bundle, folder=target, files=files)
