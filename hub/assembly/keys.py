"""The assembly role's keys, in a directory of their own (0700), never the hub directory:

=========================  ===============================================================
``assembly.key``           X25519 HPKE key (PKCS#8 PEM, 0600): the nodes seal extract
                           payloads to it alone; it opens them
``assembly-signing.key``   Ed25519 key (PKCS#8 PEM, 0600): signs extract requests, the
                           only key the nodes accept on them (never on match requests)
=========================  ===============================================================

Created by ``fedlink hub assembler init``; their public halves are written to the hub
directory as ``assembly.pub`` and ``assembly-signing.pub`` so that enrollment hands them to
the nodes, which pin them. :func:`load_assembly_keys` refuses a key file or directory that
group or others can reach, and a missing key.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.errors import ConfigError
from hub.keys import (
    ASSEMBLY_PUBLIC_FILE,
    ASSEMBLY_SIGNING_PUBLIC_FILE,
    secure_directory,
    write_secret_file,
)
from hub.settings import ASSEMBLY_KEY_FILE, ASSEMBLY_SIGNING_KEY_FILE
from protocol.errors import KeyFormatError
from protocol.keyfiles import (
    ed25519_private_from_pem,
    key_id,
    private_key_to_pem,
    public_key_to_pem,
    x25519_private_from_pem,
)


@dataclass(frozen=True)
class AssemblyKeys:
    """The assembly role's two private keys."""

    hpke: X25519PrivateKey
    signing: Ed25519PrivateKey

    @property
    def hpke_kid(self) -> str:
        return key_id(self.hpke.public_key())

    @property
    def signing_kid(self) -> str:
        return key_id(self.signing.public_key())


def publish_assembly_public(keys: AssemblyKeys, hub_dir: Path) -> None:
    """Write both public halves to ``hub_dir`` (replacing older ones)."""
    for name, public in ((ASSEMBLY_PUBLIC_FILE, keys.hpke.public_key()),
                         (ASSEMBLY_SIGNING_PUBLIC_FILE, keys.signing.public_key())):
        path = Path(hub_dir) / name
        path.write_bytes(public_key_to_pem(public))
        path.chmod(0o644)


def create_assembly_keys(assembly_dir: Path, *, hub_dir: Path) -> AssemblyKeys:
    """The assembly keys in ``assembly_dir`` (0700/0600), published to ``hub_dir``.

    Creates whichever of the two is missing (an assembly directory from before the
    assembly role had its own signing key gains one and keeps its HPKE key, so nodes need
    only re-enroll to pin the signing key); refuses when both exist."""
    assembly_dir, hub_dir = Path(assembly_dir), Path(hub_dir)
    check_separate(assembly_dir, hub_dir)
    secure_directory(assembly_dir)
    hpke_path = assembly_dir / ASSEMBLY_KEY_FILE
    signing_path = assembly_dir / ASSEMBLY_SIGNING_KEY_FILE
    if hpke_path.exists() and signing_path.exists():
        raise ConfigError(f"{hpke_path} and {signing_path} already exist; refusing to "
                          "replace a key")
    if hpke_path.exists():
        hpke = _load_hpke(assembly_dir)
    else:
        hpke = X25519PrivateKey.generate()
        write_secret_file(hpke_path, private_key_to_pem(hpke))
    if signing_path.exists():
        signing = _load_signing(assembly_dir)
    else:
        signing = Ed25519PrivateKey.generate()
        write_secret_file(signing_path, private_key_to_pem(signing))
    keys = AssemblyKeys(hpke=hpke, signing=signing)
    publish_assembly_public(keys, hub_dir)
    return keys


def check_separate(assembly_dir: Path, hub_dir: Path) -> None:
    """Refuse one directory for both roles, or one inside the other."""
    a, h = Path(assembly_dir).resolve(), Path(hub_dir).resolve()
    if a == h or a.is_relative_to(h) or h.is_relative_to(a):
        raise ConfigError(
            f"the assembly directory {assembly_dir} must be separate from the hub directory "
            f"{hub_dir} (neither inside the other): the linkage role must have no path to "
            "the assembly keys")


def _read_private(directory: Path, name: str) -> bytes:
    path = directory / name
    try:
        dir_mode = stat.S_IMODE(directory.stat().st_mode)
        info = path.lstat()
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; run `fedlink hub assembler init` (it creates "
                          "whichever assembly key is missing)") from None
    if dir_mode & 0o077:
        raise ConfigError(f"{directory} is open to group or others (mode {dir_mode:o}); "
                          f"run `chmod 700 {directory}`")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(f"{path} is readable by others (mode "
                          f"{stat.S_IMODE(info.st_mode):o}); run `chmod 600 {path}`")
    return path.read_bytes()


def _load_hpke(directory: Path) -> X25519PrivateKey:
    try:
        return x25519_private_from_pem(_read_private(directory, ASSEMBLY_KEY_FILE))
    except KeyFormatError as exc:
        raise ConfigError(f"{directory / ASSEMBLY_KEY_FILE}: {exc}") from None


def _load_signing(directory: Path) -> Ed25519PrivateKey:
    try:
        return ed25519_private_from_pem(_read_private(directory, ASSEMBLY_SIGNING_KEY_FILE))
    except KeyFormatError as exc:
        raise ConfigError(f"{directory / ASSEMBLY_SIGNING_KEY_FILE}: {exc}") from None


def load_assembly_key(assembly_dir: Path) -> X25519PrivateKey:
    """The assembly HPKE key; :class:`ConfigError` when missing or reachable by others."""
    return _load_hpke(Path(assembly_dir))


def load_assembly_keys(assembly_dir: Path) -> AssemblyKeys:
    """Both assembly keys; :class:`ConfigError` when either is missing or reachable by
    others."""
    directory = Path(assembly_dir)
    return AssemblyKeys(hpke=_load_hpke(directory), signing=_load_signing(directory))
