"""A governance member's (or data steward's) own Ed25519 signing key, in a file only its
owner can read.

``fedlink review keygen`` creates it (PKCS#8 PEM, mode 0600, never over an existing file);
every signing command loads it with :func:`load_key_file`, which refuses a file others may
read or that belongs to another user. The hub never sees the private half: members
register the public half (``fedlink review register-key``) and sign on their own machine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedlink.errors import CommandError
from protocol.errors import KeyFormatError
from protocol.keyfiles import ed25519_private_from_pem, private_key_to_pem


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """A fresh key written to ``path`` (created 0600; an existing file is refused)."""
    path = Path(path).expanduser()
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} already exists; choose a new file") from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_to_pem(key))
    return key


def load_key_file(path: Path, *, what: str = "governance key") -> Ed25519PrivateKey:
    """The key in ``path``: a regular 0600 file of the current user holding an Ed25519
    PKCS#8 PEM key; otherwise a one-line :class:`CommandError` naming ``what``."""
    path = Path(path).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CommandError(f"{what} file {path} does not exist (create one with "
                           "`fedlink review keygen` or `fedlink node steward keygen`)") from None
    except OSError as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CommandError(f"{what} file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise CommandError(f"{what} file {path} is readable by others (mode "
                           f"{stat.S_IMODE(info.st_mode):04o}); run chmod 600 {path}")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise CommandError(f"{what} file {path} belongs to another user")
    try:
        return ed25519_private_from_pem(path.read_bytes())
    except (OSError, KeyFormatError) as exc:
        raise CommandError(f"{what} file {path}: {exc}") from None
