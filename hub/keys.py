"""The hub's own key files: an Ed25519 signing key and an X25519 HPKE key.

``DIR/signing.key`` signs match requests and audit checkpoints (never extract requests:
nodes accept those only from the assembly role's own signing key); ``DIR/hpke.key``
is the linkage role's transport key, which nodes **refuse** to seal extract payloads to
(docs/extracts.md, "Separation of duties"). Both are unencrypted PKCS#8 PEM in files of
mode 0600 inside a directory of mode 0700; :func:`load_hub_keys` refuses files that group or
others can read, so a key copied carelessly is noticed at start-up.

The assembly role's key (``assembly.key``, which opens extract payloads) lives in a
directory of its own and is handled by :mod:`hub.assembly.keys`, with the assembly role's
Ed25519 signing key (``assembly-signing.key``, signs extract requests); only their public
halves, ``DIR/assembly.pub`` and ``DIR/assembly-signing.pub``, are in the hub directory, so
enrollment can hand them to the nodes.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from hub.errors import ConfigError
from protocol.errors import KeyFormatError
from protocol.keyfiles import (
    ed25519_private_from_pem,
    ed25519_public_from_pem,
    key_id,
    private_key_to_pem,
    x25519_private_from_pem,
    x25519_public_from_pem,
)

SIGNING_KEY_FILE: Final = "signing.key"
HPKE_KEY_FILE: Final = "hpke.key"
#: The public half of the assembly role's HPKE key, published for enrollment (not secret).
ASSEMBLY_PUBLIC_FILE: Final = "assembly.pub"
#: The public half of the assembly role's signing key (extract requests), likewise.
ASSEMBLY_SIGNING_PUBLIC_FILE: Final = "assembly-signing.pub"


@dataclass(frozen=True)
class HubKeys:
    signing: Ed25519PrivateKey
    hpke: X25519PrivateKey

    @property
    def signing_public(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    @property
    def hpke_public(self) -> X25519PublicKey:
        return self.hpke.public_key()

    @property
    def signing_kid(self) -> str:
        return key_id(self.signing_public)

    @property
    def hpke_kid(self) -> str:
        return key_id(self.hpke_public)


def secure_directory(directory: Path) -> None:
    """Create ``directory`` (mode 0700) or tighten an existing one to 0700."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)


def write_secret_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file of mode 0600; never overwrite an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def create_hub_keys(directory: Path) -> HubKeys:
    """Generate both keys into ``directory``; refuses when either file already exists."""
    secure_directory(directory)
    for name in (SIGNING_KEY_FILE, HPKE_KEY_FILE):
        if (directory / name).exists():
            raise ConfigError(f"{directory / name} already exists; refusing to replace a key")
    keys = HubKeys(signing=Ed25519PrivateKey.generate(), hpke=X25519PrivateKey.generate())
    write_secret_file(directory / SIGNING_KEY_FILE, private_key_to_pem(keys.signing))
    write_secret_file(directory / HPKE_KEY_FILE, private_key_to_pem(keys.hpke))
    return keys


def _read_private(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; run `fedlink hub init` first") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by others (mode {oct(mode & 0o777)}); chmod 600")
    return path.read_bytes()


def load_hub_keys(directory: Path) -> HubKeys:
    """Load the keys of the hub in ``directory``; :class:`ConfigError` if missing or unsafe."""
    try:
        return HubKeys(
            signing=ed25519_private_from_pem(_read_private(directory / SIGNING_KEY_FILE)),
            hpke=x25519_private_from_pem(_read_private(directory / HPKE_KEY_FILE)),
        )
    except KeyFormatError as exc:
        raise ConfigError(f"hub key files in {directory}: {exc}") from None


def load_assembly_public(directory: Path) -> X25519PublicKey | None:
    """The assembly role's public HPKE key published in the hub directory, if any."""
    path = directory / ASSEMBLY_PUBLIC_FILE
    if not path.is_file():
        return None
    try:
        return x25519_public_from_pem(path.read_bytes())
    except KeyFormatError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_assembly_signing_public(directory: Path) -> Ed25519PublicKey | None:
    """The assembly role's public signing key published in the hub directory, if any."""
    path = directory / ASSEMBLY_SIGNING_PUBLIC_FILE
    if not path.is_file():
        return None
    try:
        return ed25519_public_from_pem(path.read_bytes())
    except KeyFormatError as exc:
        raise ConfigError(f"{path}: {exc}") from None
