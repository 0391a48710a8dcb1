"""The assembly role's key: ``ADIR/assembly.key``, an X25519 HPKE key (PKCS#8 PEM, 0600).

Created by ``fedlink hub assembler init`` in a directory of its own (0700), never the hub
directory; its public half is written to the hub directory as ``assembly.pub`` so that
enrollment hands it to the nodes, which pin it and seal extract payloads to it alone.
:func:`load_assembly_key` refuses a key file or directory that group or others can reach.
"""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.errors import ConfigError
from hub.keys import ASSEMBLY_PUBLIC_FILE, secure_directory, write_secret_file
from hub.settings import ASSEMBLY_KEY_FILE
from protocol.errors import KeyFormatError
from protocol.keyfiles import private_key_to_pem, public_key_to_pem, x25519_private_from_pem


def publish_assembly_public(key: X25519PrivateKey, hub_dir: Path) -> Path:
    """Write the public half to ``hub_dir/assembly.pub`` (replacing an older one)."""
    path = Path(hub_dir) / ASSEMBLY_PUBLIC_FILE
    path.write_bytes(public_key_to_pem(key.public_key()))
    path.chmod(0o644)
    return path


def create_assembly_key(assembly_dir: Path, *, hub_dir: Path) -> X25519PrivateKey:
    """A new assembly key in ``assembly_dir`` (0700/0600), published to ``hub_dir``."""
    assembly_dir, hub_dir = Path(assembly_dir), Path(hub_dir)
    check_separate(assembly_dir, hub_dir)
    secure_directory(assembly_dir)
    path = assembly_dir / ASSEMBLY_KEY_FILE
    if path.exists():
        raise ConfigError(f"{path} already exists; refusing to replace a key")
    key = X25519PrivateKey.generate()
    write_secret_file(path, private_key_to_pem(key))
    publish_assembly_public(key, hub_dir)
    return key


def check_separate(assembly_dir: Path, hub_dir: Path) -> None:
    """Refuse one directory for both roles, or one inside the other."""
    a, h = Path(assembly_dir).resolve(), Path(hub_dir).resolve()
    if a == h or a.is_relative_to(h) or h.is_relative_to(a):
        raise ConfigError(
            f"the assembly directory {assembly_dir} must be separate from the hub directory "
            f"{hub_dir} (neither inside the other): the linkage role must have no path to "
            "the assembly key")


def load_assembly_key(assembly_dir: Path) -> X25519PrivateKey:
    """The assembly key; :class:`ConfigError` when missing or reachable by others."""
    directory = Path(assembly_dir)
    path = directory / ASSEMBLY_KEY_FILE
    try:
        dir_mode = stat.S_IMODE(directory.stat().st_mode)
        info = path.lstat()
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; run `fedlink hub assembler init`") from None
    if dir_mode & 0o077:
        raise ConfigError(f"{directory} is open to group or others (mode {dir_mode:o}); "
                          f"run `chmod 700 {directory}`")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(f"{path} is readable by others (mode "
                          f"{stat.S_IMODE(info.st_mode):o}); run `chmod 600 {path}`")
    try:
        return x25519_private_from_pem(path.read_bytes())
    except KeyFormatError as exc:
        raise ConfigError(f"{path}: {exc}") from None
