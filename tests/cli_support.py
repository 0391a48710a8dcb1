"""What the in-process CLI tests share: run ``fedlink …`` through :func:`fedlink.cli.main`
and capture its exit status and output, and write a token file as a user would (0600).
The ``cli_hub`` fixture that points the CLI at a test hub is in tests/hub/cli/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fedlink.cli import main


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    """``fedlink ARGS…``: (exit status, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_token(tmp_path: Path, name: str, token: str) -> str:
    """``token`` in ``tmp_path/NAME.token``, created owner-only (the CLI refuses others)."""
    path = tmp_path / f"{name}.token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return str(path)
