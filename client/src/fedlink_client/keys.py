"""The researcher's X25519 key: the hub seals an extract's data key to it (HPKE), so only
the holder of the private key can open the extract.

:func:`generate_key` writes the private key as unencrypted PKCS#8 PEM to a new file created
with mode 0600 (never over an existing file) and returns the public key in the form the
hub expects in an agreement's ``extract.recipient_public_key``: the raw 32 bytes in
unpadded base64url (43 characters).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fedlink_client.errors import InvalidInput


def b64url(data: bytes) -> str:
    """Unpadded base64url, the only base64 Fedlink puts on the wire."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url; :class:`ValueError` for anything else."""
    if not isinstance(text, str) or len(text) % 4 == 1 or not text.isascii() or any(
            c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            for c in text):
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:  # non-zero trailing bits: not the one canonical spelling
        raise ValueError("not canonical base64url")
    return data


def public_key_b64(private: X25519PrivateKey) -> str:
    """The public half of ``private``, raw, unpadded base64url."""
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    return b64url(raw)


def generate_key(path: str | Path) -> str:
    """Make a new X25519 key pair, write the private key to ``path`` (PEM, mode 0600, a new
    file) and return the public key for ``extract.recipient_public_key``."""
    file = Path(path).expanduser()
    private = X25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        # O_EXCL: never overwrite a key that may still open an extract; 0600 from the
        # start, so the key is never readable by others even for a moment.
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{file} already exists; choose a new file (an old key may "
                           "still be needed to open an extract)") from None
    except OSError as exc:
        raise InvalidInput(f"cannot create {file}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_key_b64(private)


def load_private_key(path: str | Path) -> X25519PrivateKey:
    """The X25519 private key in ``path`` (PEM); :class:`InvalidInput` if it is missing or
    not an unencrypted X25519 key. (Its mode is the owner's business: :func:`generate_key`
    creates it 0600, and a key copied from elsewhere still opens the extract.)"""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the key file {file}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{file} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, X25519PrivateKey):
        raise InvalidInput(f"{file} holds a private key that is not X25519")
    return key


def public_key_of(path: str | Path) -> str:
    """The public key (base64url) of the private key file ``path``."""
    return public_key_b64(load_private_key(path))
