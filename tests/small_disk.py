"""Real file systems for storage-fault tests: a small tmpfs mounted for one test, which a
ballast file fills to the last byte (writes then fail with ENOSPC, as on a full disk) and
whose removal frees again; and a read-only bind mount of a directory (writes fail with
EROFS) that can be made writable again.

Mounting needs root (CAP_SYS_ADMIN); where it is refused (an unprivileged CI runner, a
locked-down container) the test is skipped with the reason. A size limit by
``RLIMIT_FSIZE`` was considered instead and rejected: it fails writes with EFBIG rather than
ENOSPC, leaves ``statvfs`` (and so ``/ready``) seeing free space, and also stops the server's
log — it would test something else.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallDisk:
    """A mounted tmpfs of ``size_mb`` at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ballast = path / "ballast"

    def fill(self) -> int:
        """Write the ballast until the file system refuses a single byte more; returns the
        bytes written."""
        written = 0
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for block in (1 << 20, 1 << 12, 1):  # big blocks, then to the last byte
                chunk = b"\0" * block
                while True:
                    try:
                        written += os.write(fd, chunk)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        self.ballast.unlink()

    def free_bytes(self) -> int:
        info = os.statvfs(self.path)
        return info.f_bavail * info.f_frsize


@contextlib.contextmanager
def small_disk(path: Path, size_mb: int) -> Iterator[SmallDisk]:
    """Mount a tmpfs of ``size_mb`` MB at ``path`` (created) for the ``with`` block."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700",
                                  "tmpfs", str(path)], capture_output=True, text=True,
                                 timeout=30, check=False)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        # Lazy: a process the test failed to stop must not leave the mount behind.
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30,
                       check=False)


class ReadOnlyView:
    """``view``: a bind mount of a directory, read-only until :meth:`make_writable`."""

    def __init__(self, view: Path) -> None:
        self.view = view

    def make_writable(self) -> None:
        _mount("-o", "remount,bind,rw", str(self.view))


def _mount(*argv: str) -> None:
    done = subprocess.run(["mount", *argv], capture_output=True, text=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        raise OSError(f"mount {' '.join(argv)}: {done.stderr.strip()}")


@contextlib.contextmanager
def read_only_view(source: Path, view: Path) -> Iterator[ReadOnlyView]:
    """Bind-mount ``source`` at ``view`` (created) read-only for the ``with`` block: a
    genuinely read-only file system (EROFS) over the same files, which stay writable at
    ``source``. Skips where mounting is refused (needs root)."""
    view.mkdir(parents=True, exist_ok=True)
    try:
        _mount("--bind", str(source), str(view))
    except (OSError, FileNotFoundError) as exc:
        pytest.skip(f"cannot bind-mount here (needs root): {exc}")
    try:
        _mount("-o", "remount,bind,ro", str(view))
        yield ReadOnlyView(view)
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True, timeout=30,
                       check=False)
