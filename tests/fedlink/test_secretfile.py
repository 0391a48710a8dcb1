"""Credentials from files only their owner can read, never from a flag value."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fedlink.errors import CommandError
from fedlink.secretfile import read_secret_file, resolve_secret, write_secret_file


def test_written_secret_file_is_0600_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_secret_file(path, "flu_abc")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_secret_file(path, what="API token") == "flu_abc"
    with pytest.raises(CommandError, match="already exists"):
        write_secret_file(path, "flu_other")
    assert read_secret_file(path, what="API token") == "flu_abc"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_group_or_world_readable_file_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "t"
    path.write_text("flu_abc\n")
    path.chmod(mode)
    with pytest.raises(CommandError, match="readable by others"):
        read_secret_file(path, what="API token")


def test_directory_and_two_values_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not a regular file"):
        read_secret_file(tmp_path, what="API token")
    path = tmp_path / "t"
    path.write_text("flu_a flu_b\n")
    path.chmod(0o600)
    with pytest.raises(CommandError, match="exactly one"):
        read_secret_file(path, what="API token")


def test_environment_used_only_without_a_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDLINK_TOKEN", " flu_env ")
    assert resolve_secret(None, env="FEDLINK_TOKEN", what="API token") == "flu_env"
    path = tmp_path / "t"
    write_secret_file(path, "flu_file")
    assert resolve_secret(path, env="FEDLINK_TOKEN", what="API token") == "flu_file"
    monkeypatch.delenv("FEDLINK_TOKEN")
    assert resolve_secret(None, env="FEDLINK_TOKEN", what="API token") is None
