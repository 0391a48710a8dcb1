"""Reading credentials without putting them on the command line.

A token given as a flag value is visible to every local user in ``ps`` and stays in shell
history, so no ``fedlink`` command takes one. A command reads its credential from an
environment variable, or from a file given with ``--token-file``/``--code-file`` that only
its owner may read (mode 0600 or stricter); a missing, empty or unsafe file is a one-line
error.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fedlink.errors import CommandError


def read_secret_file(path: Path, *, what: str) -> str:
    """The one secret in ``path`` (surrounding whitespace removed)."""
    path = Path(path).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CommandError(f"{what} file {path} does not exist") from None
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
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc}") from None
    if not text or any(c.isspace() for c in text):
        raise CommandError(f"{what} file {path} must hold exactly one {what}")
    return text


def resolve_secret(file: Path | None, *, env: str, what: str) -> str | None:
    """The secret from ``file`` if given, else from the environment variable ``env``."""
    if file is not None:
        return read_secret_file(file, what=what)
    value = os.environ.get(env, "").strip()
    return value or None


def write_secret_file(path: Path, secret: str) -> None:
    """Write ``secret`` to a new file created 0600 (never over an existing file)."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} already exists; choose a new file") from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
